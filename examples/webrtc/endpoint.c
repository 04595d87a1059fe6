/*
 * endpoint.c: a WebRTC endpoint a browser connects to: ICE-lite + DTLS-SRTP (RFC 5763, 5764)
 * with sdtls's sans-I/O API on one UDP socket, SRTP with libsrtp2, and an Opus echo.
 *
 * Interface (examples/webrtc/README.md has the details):
 *   environment  SDTLS_SETUP  active (we are the DTLS client) or passive (DTLS server)
 *                SDTLS_MEDIA  audio
 *                SDTLS_ADDR   address to bind and announce, e.g. 127.0.0.1
 *                optional: SDTLS_PORT (default 0: any), SDTLS_LOG (error, info, debug;
 *                default info), SDTLS_SRTP_PROFILES (default
 *                SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80)
 *   stdin        the browser's complete offer (no trickle), one SDP line per line, then an
 *                empty line; later, end of input means "stop"
 *   stdout       the answer, one SDP line per line, then an empty line; at the end one line
 *                "RESULT {json}"
 *   stderr       logs
 *
 * One poll() loop, one socket. Every datagram is classified by its first byte (RFC 7983,
 * sdtls_demux_classify):
 *   STUN  Binding requests are answered (stun.c); their source becomes a checked address.
 *   DTLS  only from a checked address. As DTLS server the first datagrams go through
 *         sdtls_server_screen() (a HelloVerifyRequest, no state) until it says ACCEPT; then a
 *         connection is created and gets every later datagram. As DTLS client we start the
 *         handshake towards the first address that passed a STUN check.
 *   RTP   SRTP and SRTCP (RFC 5761 demultiplexing) from the DTLS peer, unprotected with the
 *         keys sdtls exported; each Opus packet is echoed back under our own SSRC.
 */
#define _POSIX_C_SOURCE 200809L
#include "webrtc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <srtp2/srtp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sdtls.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

#define DEFAULT_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80"
#define MTU 1200             /* sdtls's default; Chromium keeps its DTLS datagrams this small */
#define DGRAM_CAP 2048       /* receive buffer: larger datagrams are truncated and dropped */
#define OFFER_CAP 65536      /* a browser offer is a few KiB */
#define MAX_CHECKED 8        /* addresses that passed a STUN check */
#define LOG_FIRST_FAILURES 5 /* SRTP failures logged one by one, then only counted */

typedef struct app {
    /* From the environment. */
    int is_client; /* SDTLS_SETUP=active: we are the DTLS client */
    const char *setup, *addr, *profiles;
    sdtls_log_level log_level;

    int fd;
    struct sockaddr_in local;
    char ufrag[16], pwd[32];
    uint32_t ssrc;

    sdp_offer offer;
    int served; /* index of the m-line we answer */
    const char *remote_ufrag, *remote_fp;

    sdtls_config *cfg;
    sdtls_conn *conn;
    struct sockaddr_in checked[MAX_CHECKED];
    size_t n_checked;
    struct sockaddr_in peer; /* the DTLS/SRTP peer, once chosen */
    int has_peer;

    int connected, fp_verified, failed, closed;
    char error[512];
    char version[32], cipher[96], profile[64];
    sdtls_srtp_keys keys;

    srtp_t srtp_rx, srtp_tx;
    uint64_t rx_ok, rx_fail, rtcp_ok, tx;
    uint16_t tx_seq;
    uint32_t tx_ts_base, rx_ts_first;
    int has_rx_ts;

    uint64_t stun_answered, stun_rejected;
    uint32_t client_hello_len; /* the browser's ClientHello length (we are the server) */
} app;

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void logf_(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("webrtc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void sdtls_log(void *user, sdtls_log_level level, const char *msg)
{
    static const char *const names[] = {"error", "info", "debug"};
    (void)user;
    fprintf(stderr, "sdtls %s: %s\n", (unsigned)level < 3 ? names[level] : "?", msg);
}

static const char *addr_str(const struct sockaddr_in *a)
{
    static char buf[2][32];
    static int i;
    char ip[INET_ADDRSTRLEN];
    i ^= 1;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(buf[i], sizeof(buf[i]), "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return buf[i];
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* A canonical peer address for sdtls (the cookie binds to these bytes): family, port, IPv4. */
static void addr_key(const struct sockaddr_in *a, uint8_t key[8])
{
    memset(key, 0, 8);
    key[0] = AF_INET;
    memcpy(key + 2, &a->sin_port, 2);
    memcpy(key + 4, &a->sin_addr.s_addr, 4);
}

/* ICE credentials: RFC 8839 5.4: ice-char is ALPHA / DIGIT / "+" / "/". */
static int random_ice_string(char *out, size_t n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t rnd[64];
    if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = chars[rnd[i] & 63];
    }
    out[n] = 0;
    return 0;
}

static uint32_t random_u32(void)
{
    uint8_t b[4] = {0};
    (void)RAND_bytes(b, 4);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void send_to(app *a, const uint8_t *buf, size_t len, const struct sockaddr_in *to)
{
    if (sendto(a->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        logf_("sendto %s: %s", addr_str(to), strerror(errno));
    }
}

/* ------------------------------------------------------------------------------------------
 * SRTP (libsrtp2)
 * ---------------------------------------------------------------------------------------- */

/* RFC 5764 4.1.2 and RFC 7714 14.2: the SRTP and SRTCP transforms of each profile. */
static int srtp_policy_for(uint16_t profile, srtp_policy_t *pol)
{
    switch (profile) {
    case 0x0001: /* SRTP_AES128_CM_HMAC_SHA1_80 */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
        return 0;
    case 0x0002: /* SRTP_AES128_CM_HMAC_SHA1_32: SRTCP keeps the 80-bit tag */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
        return 0;
    case 0x0007: /* SRTP_AEAD_AES_128_GCM */
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
        return 0;
    case 0x0008: /* SRTP_AEAD_AES_256_GCM */
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol->rtcp);
        return 0;
    default:
        return -1;
    }
}

/* One direction: libsrtp2 takes the master key and the master salt concatenated. */
static int srtp_session(srtp_t *out, uint16_t profile, int inbound, const uint8_t *key,
                        size_t key_len, const uint8_t *salt, size_t salt_len)
{
    srtp_policy_t pol;
    uint8_t master[32 + 14];
    memset(&pol, 0, sizeof(pol));
    if (srtp_policy_for(profile, &pol) != 0) {
        return -1;
    }
    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);
    pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    pol.key = master;
    pol.window_size = 1024;
    pol.allow_repeat_tx = 0;
    pol.next = NULL;
    srtp_err_status_t st = srtp_create(out, &pol);
    OPENSSL_cleanse(master, sizeof(master));
    if (st != srtp_err_status_ok) {
        logf_("srtp_create (%s) failed: status %d", inbound ? "inbound" : "outbound", (int)st);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int start_srtp(app *a)
{
    const sdtls_srtp_keys *k = &a->keys;
    /* RFC 5764 4.2: each side protects with its own write key: the client's or the server's.
     * What we receive was protected with the browser's, what we send with ours. */
    const uint8_t *rx_key = a->is_client ? k->server_key : k->client_key;
    const uint8_t *rx_salt = a->is_client ? k->server_salt : k->client_salt;
    const uint8_t *tx_key = a->is_client ? k->client_key : k->server_key;
    const uint8_t *tx_salt = a->is_client ? k->client_salt : k->server_salt;
    if (srtp_session(&a->srtp_rx, k->profile, 1, rx_key, k->key_len, rx_salt, k->salt_len) != 0 ||
        srtp_session(&a->srtp_tx, k->profile, 0, tx_key, k->key_len, tx_salt, k->salt_len) != 0) {
        return -1;
    }
    return 0;
}

/* Echo one Opus packet (already unprotected) back to the browser: our SSRC, our sequence
 * numbers, our timestamps (same clock rate and spacing as the browser's, our own origin). */
static void echo_rtp(app *a, const uint8_t *pkt, size_t len)
{
    uint32_t out32[DGRAM_CAP / 4]; /* libsrtp2 wants the RTP header 32-bit aligned */
    uint8_t *out = (uint8_t *)out32;
    const sdp_media *m = &a->offer.media[a->served];

    /* RFC 3550 5.1: fixed header, CSRCs, optional extension, optional padding. */
    if (len < 12 || (pkt[0] >> 6) != 2 || (pkt[1] & 0x7f) != m->opus_pt) {
        return;
    }
    size_t hdr = 12 + 4 * (size_t)(pkt[0] & 0x0f);
    if ((pkt[0] & 0x10) != 0) {
        if (len < hdr + 4) {
            return;
        }
        hdr += 4 + 4 * (size_t)(pkt[hdr + 2] << 8 | pkt[hdr + 3]);
    }
    size_t pad = (pkt[0] & 0x20) != 0 && len > 0 ? pkt[len - 1] : 0;
    if (len < hdr + pad) {
        return;
    }
    size_t payload = len - hdr - pad;
    if (12 + payload + SRTP_MAX_TRAILER_LEN > sizeof(out32)) {
        return;
    }
    uint32_t ts = get32(pkt + 4);
    if (!a->has_rx_ts) {
        a->rx_ts_first = ts;
        a->has_rx_ts = 1;
    }
    out[0] = 0x80; /* V=2, no padding, no extension, no CSRC */
    out[1] = (uint8_t)((pkt[1] & 0x80) | m->opus_pt);
    put16(out + 2, a->tx_seq++);
    put32(out + 4, a->tx_ts_base + (ts - a->rx_ts_first));
    put32(out + 8, a->ssrc);
    memcpy(out + 12, pkt + hdr, payload);
    int n = (int)(12 + payload);
    srtp_err_status_t st = srtp_protect(a->srtp_tx, out, &n);
    if (st != srtp_err_status_ok) {
        logf_("srtp_protect failed: status %d", (int)st);
        return;
    }
    send_to(a, out, (size_t)n, &a->peer);
    a->tx++;
}

static void on_rtp(app *a, const uint8_t *dgram, size_t len, const struct sockaddr_in *from)
{
    uint32_t buf32[DGRAM_CAP / 4];
    uint8_t *buf = (uint8_t *)buf32;

    if (a->srtp_rx == NULL || !same_addr(from, &a->peer)) {
        if (a->log_level >= SDTLS_LOG_DEBUG) {
            logf_("RTP/RTCP from %s before SRTP keys or from another address: dropped",
                  addr_str(from));
        }
        return;
    }
    if (len > sizeof(buf32) || len < 12) {
        a->rx_fail++;
        return;
    }
    memcpy(buf, dgram, len);
    int n = (int)len;
    /* RFC 5761 4: RTCP packet types 192..223 sit where RTP has marker + payload type. */
    int is_rtcp = buf[1] >= 192 && buf[1] <= 223;
    srtp_err_status_t st =
        is_rtcp ? srtp_unprotect_rtcp(a->srtp_rx, buf, &n) : srtp_unprotect(a->srtp_rx, buf, &n);
    if (st != srtp_err_status_ok) {
        if (a->rx_fail++ < LOG_FIRST_FAILURES) {
            logf_("%s of %zu bytes from %s failed to unprotect: libsrtp2 status %d",
                  is_rtcp ? "SRTCP" : "SRTP", len, addr_str(from), (int)st);
        }
        return;
    }
    a->rx_ok++;
    if (is_rtcp) {
        a->rtcp_ok++;
        return;
    }
    if (a->rx_ok == 1) {
        logf_("first SRTP packet authenticated (%d bytes of RTP, payload type %d)", n,
              buf[1] & 0x7f);
    }
    echo_rtp(a, buf, (size_t)n);
}

/* ------------------------------------------------------------------------------------------
 * DTLS (sdtls)
 * ---------------------------------------------------------------------------------------- */

static void fail(app *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fail(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (a->error[0] == 0) {
        vsnprintf(a->error, sizeof(a->error), fmt, ap);
    }
    va_end(ap);
    a->failed = 1;
    logf_("error: %s", a->error);
}

static int fingerprint_equal(const char *x, const char *y)
{
    /* RFC 8122 5: hash names and hex digits are compared case-insensitively. */
    size_t lx = strlen(x), ly = strlen(y);
    while (lx > 0 && (x[lx - 1] == ' ' || x[lx - 1] == '\t')) {
        lx--;
    }
    while (ly > 0 && (y[ly - 1] == ' ' || y[ly - 1] == '\t')) {
        ly--;
    }
    return lx == ly && strncasecmp(x, y, lx) == 0;
}

static void on_handshake_done(app *a)
{
    char fp[256];
    a->connected = 1;
    snprintf(a->version, sizeof(a->version), "%s",
             strcmp(sdtls_conn_version_name(a->conn), "DTLSv1.2") == 0
                 ? "DTLS 1.2"
                 : sdtls_conn_version_name(a->conn));
    snprintf(a->cipher, sizeof(a->cipher), "%s", sdtls_conn_cipher_name(a->conn));
    snprintf(a->profile, sizeof(a->profile), "%s", sdtls_conn_srtp_profile_name(a->conn));

    /* sdtls already refused any certificate whose hash is not the pinned one (verify mode
     * FINGERPRINT); compare once more, visibly, when the offer used sha-256. */
    if (sdtls_conn_peer_fingerprint(a->conn, fp, sizeof(fp)) != 0) {
        fail(a, "handshake done but the browser sent no certificate");
        return;
    }
    if (strncasecmp(a->remote_fp, "sha-256 ", 8) == 0 && !fingerprint_equal(fp, a->remote_fp)) {
        fail(a, "the browser's certificate (%s) does not match the offer's a=fingerprint (%s)", fp,
             a->remote_fp);
        return;
    }
    a->fp_verified = 1;
    int rc = sdtls_conn_srtp_keys(a->conn, &a->keys);
    if (rc != 0) {
        fail(a, "no DTLS-SRTP keys: %s", sdtls_strerror(rc));
        return;
    }
    logf_("DTLS connected: %s %s group %s, SRTP profile %s, peer certificate %s (matches the "
          "offer)",
          a->version, a->cipher, sdtls_conn_group_name(a->conn), a->profile, fp);
    if (start_srtp(a) != 0) {
        fail(a, "could not set up libsrtp2 for %s", a->profile);
    }
}

/* A fatal sdtls code: say clearly what went wrong; the browser gets the alert (if any) from
 * the flush that follows. */
static void dtls_failed(app *a, int rc)
{
    int alert = sdtls_err_alert(rc);
    char fp[256];
    if (rc == SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_BAD_CERTIFICATE) &&
        sdtls_conn_peer_fingerprint(a->conn, fp, sizeof(fp)) == 0) {
        fail(a,
             "DTLS handshake failed: %s: the browser's certificate (%s) does not match the "
             "offer's a=fingerprint (%s)",
             sdtls_strerror(rc), fp, a->remote_fp);
    } else if (rc == SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_BAD_CERTIFICATE)) {
        /* The refused certificate's own fingerprint is in sdtls's error log line just above:
         * sdtls_conn_peer_fingerprint() only answers for an accepted certificate. */
        fail(a,
             "DTLS handshake failed: %s: the browser's certificate does not match the offer's "
             "a=fingerprint (%s)",
             sdtls_strerror(rc), a->remote_fp);
    } else if (alert >= 0) {
        fail(a, "DTLS %s: %s (alert %s)", a->connected ? "connection failed" : "handshake failed",
             sdtls_strerror(rc), sdtls_alert_name(alert));
    } else {
        fail(a, "DTLS %s: %s", a->connected ? "connection failed" : "handshake failed",
             sdtls_strerror(rc));
    }
}

/* After every input to the connection: pull events, then send what it has (flights,
 * retransmissions, the alert after a failure). */
static void pump(app *a, int rc)
{
    uint8_t out[MTU];
    size_t out_len;
    sdtls_event ev;

    if (a->conn == NULL) {
        return;
    }
    while (rc == 0 && sdtls_conn_next_event(a->conn, &ev) == 0 && ev.type != SDTLS_EV_NONE) {
        switch (ev.type) {
        case SDTLS_EV_HANDSHAKE_DONE:
            on_handshake_done(a);
            break;
        case SDTLS_EV_DATA:
            logf_("ignoring %zu bytes of DTLS application data", ev.len);
            break;
        case SDTLS_EV_ALERT:
            logf_("browser sent %s alert %s", ev.alert_level == 2 ? "fatal" : "warning",
                  sdtls_alert_name(ev.alert));
            break;
        case SDTLS_EV_CLOSED:
            logf_("DTLS closed");
            a->closed = 1;
            break;
        default:
            break;
        }
    }
    int fatal = rc;
    for (;;) {
        int src = sdtls_conn_send(a->conn, out, sizeof(out), &out_len, now_ms());
        if (out_len > 0) {
            send_to(a, out, out_len, &a->peer);
        }
        if (src != 0) {
            if (fatal == 0) {
                fatal = src;
            }
            break;
        }
        if (out_len == 0) {
            break;
        }
    }
    if (fatal != 0) {
        if (!a->failed) {
            dtls_failed(a, fatal);
        }
        sdtls_conn_free(a->conn);
        a->conn = NULL;
    }
}

static int new_conn(app *a, sdtls_role role, const struct sockaddr_in *peer)
{
    uint8_t key[8];
    addr_key(peer, key);
    int rc = sdtls_conn_new(a->cfg, role, key, sizeof(key), &a->conn);
    if (rc == 0) {
        rc = sdtls_conn_set_peer_fingerprint(a->conn, a->remote_fp);
    }
    if (rc != 0) {
        fail(a, "cannot create the DTLS connection: %s", sdtls_strerror(rc));
        sdtls_conn_free(a->conn);
        a->conn = NULL;
        return -1;
    }
    a->peer = *peer;
    a->has_peer = 1;
    logf_("DTLS %s towards %s", role == SDTLS_ROLE_CLIENT ? "client" : "server", addr_str(peer));
    return 0;
}

static int is_checked(const app *a, const struct sockaddr_in *from)
{
    for (size_t i = 0; i < a->n_checked; i++) {
        if (same_addr(&a->checked[i], from)) {
            return 1;
        }
    }
    return 0;
}

static void on_dtls(app *a, const uint8_t *dgram, size_t len, const struct sockaddr_in *from)
{
    if (a->failed || a->closed) {
        return;
    }
    if (!is_checked(a, from)) {
        logf_("DTLS from %s, which passed no STUN check: dropped", addr_str(from));
        return;
    }
    if (a->conn == NULL && a->has_peer) {
        return; /* the connection is gone (failed or closed) */
    }
    if (a->conn == NULL) {
        if (a->is_client) {
            return; /* our ClientHello has not gone out yet */
        }
        /* Note the ClientHello's length (record header 13 bytes, then msg_type and u24
         * length): Chromium's post-quantum one is fragmented over two datagrams. */
        if (len >= 13 + 12 && dgram[0] == 22 && dgram[13] == 1) {
            a->client_hello_len = (uint32_t)dgram[14] << 16 | (uint32_t)dgram[15] << 8 | dgram[16];
        }
        uint8_t key[8], reply[MTU];
        size_t reply_len = 0;
        sdtls_verdict verdict;
        addr_key(from, key);
        int rc = sdtls_server_screen(a->cfg, dgram, len, key, sizeof(key), now_ms(), reply,
                                     sizeof(reply), &reply_len, &verdict);
        if (rc != 0) {
            logf_("sdtls_server_screen: %s", sdtls_strerror(rc));
            return;
        }
        if (verdict == SDTLS_VERDICT_REPLY) {
            if (a->log_level >= SDTLS_LOG_INFO) {
                logf_("ClientHello (%u bytes) from %s without a valid cookie: "
                      "HelloVerifyRequest",
                      (unsigned)a->client_hello_len, addr_str(from));
            }
            send_to(a, reply, reply_len, from);
            return;
        }
        if (verdict != SDTLS_VERDICT_ACCEPT) {
            if (a->log_level >= SDTLS_LOG_DEBUG) {
                logf_("screen ignored a %zu-byte DTLS datagram from %s", len, addr_str(from));
            }
            return;
        }
        if (new_conn(a, SDTLS_ROLE_SERVER, from) != 0) {
            return;
        }
    } else if (!same_addr(from, &a->peer)) {
        logf_("DTLS from %s, not our peer %s: dropped", addr_str(from), addr_str(&a->peer));
        return;
    }
    pump(a, sdtls_conn_recv(a->conn, dgram, len, now_ms()));
}

static void on_stun(app *a, const uint8_t *dgram, size_t len, const struct sockaddr_in *from)
{
    uint8_t reply[256];
    size_t reply_len;
    stun_request_info info;
    stun_result r = stun_answer(dgram, len, a->ufrag, a->pwd, a->remote_ufrag, from, reply,
                                sizeof(reply), &reply_len, &info);
    if (r == STUN_IGNORED) {
        if (a->log_level >= SDTLS_LOG_DEBUG) {
            logf_("STUN from %s ignored: %s", addr_str(from), info.why ? info.why : "?");
        }
        return;
    }
    send_to(a, reply, reply_len, from);
    if (r == STUN_REJECTED) {
        if (a->stun_rejected++ < LOG_FIRST_FAILURES) {
            logf_("STUN Binding request from %s rejected (%d): %s", addr_str(from), info.error_code,
                  info.why);
        }
        return;
    }
    a->stun_answered++;
    if (!is_checked(a, from) && a->n_checked < MAX_CHECKED) {
        a->checked[a->n_checked++] = *from;
        logf_("STUN Binding request from %s answered (USE-CANDIDATE %s): address checked",
              addr_str(from), info.use_candidate ? "yes" : "no");
    }
    if (!info.ice_controlling) {
        logf_("warning: Binding request without ICE-CONTROLLING: the browser should control "
              "an ICE-lite peer");
    }
    /* As DTLS client, start as soon as the path works in both directions: the browser has
     * our answer to its check in hand. */
    if (a->is_client && a->conn == NULL && !a->has_peer && !a->failed) {
        if (new_conn(a, SDTLS_ROLE_CLIENT, from) == 0) {
            pump(a, 0);
        }
    }
}

static void on_datagram(app *a, const uint8_t *dgram, size_t len, const struct sockaddr_in *from)
{
    switch (sdtls_demux_classify(dgram, len)) {
    case SDTLS_DEMUX_STUN:
        on_stun(a, dgram, len, from);
        break;
    case SDTLS_DEMUX_DTLS:
        on_dtls(a, dgram, len, from);
        break;
    case SDTLS_DEMUX_RTP:
        on_rtp(a, dgram, len, from);
        break;
    default:
        if (a->log_level >= SDTLS_LOG_DEBUG) {
            logf_("%zu-byte datagram from %s of unknown kind (first byte %u): dropped", len,
                  addr_str(from), (unsigned)(len ? dgram[0] : 0));
        }
        break;
    }
}

/* ------------------------------------------------------------------------------------------
 * Offer in, answer out, result
 * ---------------------------------------------------------------------------------------- */

/* Read stdin up to the empty line that ends the offer; leading empty lines are skipped.
 * Returns 0 with the offer in buf (NUL-terminated), or -1. */
static int read_offer(char *buf, size_t cap)
{
    size_t len = 0, line_start = 0, scanned = 0;
    int seen_text = 0;
    for (;;) {
        while (scanned < len) {
            if (buf[scanned++] != '\n') {
                continue;
            }
            size_t l = scanned - 1 - line_start;
            if (l > 0 && buf[line_start + l - 1] == '\r') {
                l--;
            }
            if (l == 0 && seen_text) {
                buf[line_start] = 0;
                return 0;
            }
            seen_text |= l > 0;
            line_start = scanned;
        }
        if (len + 1 >= cap) {
            logf_("error: the offer is larger than %zu bytes", cap);
            return -1;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            logf_("error: end of input before the empty line that ends the offer");
            return -1;
        }
        len += (size_t)n;
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

static void print_result(const app *a)
{
    FILE *f = stdout;
    int ok = a->connected && a->fp_verified && !a->failed;
    fprintf(f, "RESULT {\"dtls_connected\":%s,\"fingerprint_verified\":%s,\"dtls_version\":",
            a->connected ? "true" : "false", a->fp_verified ? "true" : "false");
    json_str(f, ok ? a->version : "");
    fputs(",\"dtls_cipher\":", f);
    json_str(f, ok ? a->cipher : "");
    fputs(",\"srtp_profile\":", f);
    json_str(f, ok ? a->profile : "");
    fprintf(f, ",\"dtls_role\":\"%s\"", a->is_client ? "client" : "server");
    fprintf(f, ",\"srtp_rx_ok\":%llu,\"srtp_rx_fail\":%llu,\"srtp_tx\":%llu",
            (unsigned long long)a->rx_ok, (unsigned long long)a->rx_fail,
            (unsigned long long)a->tx);
    fputs(",\"srtp_keying_material\":\"", f);
    for (size_t i = 0; ok && i < a->keys.material_len; i++) {
        fprintf(f, "%02x", a->keys.material[i]);
    }
    fputc('"', f);
    fprintf(f, ",\"srtcp_rx_ok\":%llu,\"stun_answered\":%llu,\"stun_rejected\":%llu",
            (unsigned long long)a->rtcp_ok, (unsigned long long)a->stun_answered,
            (unsigned long long)a->stun_rejected);
    fprintf(f, ",\"client_hello_len\":%u,\"error\":", (unsigned)a->client_hello_len);
    json_str(f, a->error);
    fputs("}\n", f);
    fflush(f);
}

static int setup_config(app *a)
{
    int rc;
    char fp[128];
    if ((rc = sdtls_config_new(&a->cfg, NULL)) != 0 ||
        (rc = sdtls_config_set_log(a->cfg, a->log_level, sdtls_log, NULL)) != 0 ||
        (rc = sdtls_config_generate_cert(a->cfg, SDTLS_KEY_EC_P256, "sdtls-webrtc")) != 0 ||
        (rc = sdtls_config_set_verify(a->cfg, SDTLS_VERIFY_FINGERPRINT)) != 0 ||
        (rc = sdtls_config_set_srtp_profiles(a->cfg, a->profiles)) != 0 ||
        (!a->is_client && (rc = sdtls_config_set_client_auth(a->cfg, 1, 1)) != 0) ||
        (rc = sdtls_config_set_mtu(a->cfg, MTU)) != 0 ||
        (rc = sdtls_config_get_fingerprint(a->cfg, "sha-256", fp, sizeof(fp))) != 0) {
        logf_("error: sdtls configuration: %s", sdtls_strerror(rc));
        return -1;
    }
    return 0;
}

static int open_socket(app *a, const char *port_env)
{
    memset(&a->local, 0, sizeof(a->local));
    a->local.sin_family = AF_INET;
    a->local.sin_port = htons((uint16_t)(port_env ? atoi(port_env) : 0));
    if (inet_pton(AF_INET, a->addr, &a->local.sin_addr) != 1) {
        logf_("error: SDTLS_ADDR '%s' is not an IPv4 address", a->addr);
        return -1;
    }
    a->fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t sl = sizeof(a->local);
    if (a->fd < 0 || bind(a->fd, (struct sockaddr *)&a->local, sizeof(a->local)) != 0 ||
        getsockname(a->fd, (struct sockaddr *)&a->local, &sl) != 0) {
        logf_("error: cannot bind UDP %s: %s", a->addr, strerror(errno));
        return -1;
    }
    int flags = fcntl(a->fd, F_GETFL);
    if (flags < 0 || fcntl(a->fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return -1;
    }
    return 0;
}

static int answer(app *a)
{
    static char offer_text[OFFER_CAP];
    static char text[16384];
    char err[128], fp[128];

    if (read_offer(offer_text, sizeof(offer_text)) != 0) {
        return -1;
    }
    if (sdp_parse_offer(offer_text, &a->offer, err, sizeof(err)) != 0) {
        logf_("error: bad offer: %s", err);
        return -1;
    }
    a->served = sdp_pick_media(&a->offer, "audio");
    if (a->served < 0) {
        logf_("error: the offer has no audio m-line with UDP/TLS/RTP/SAVPF, Opus and rtcp-mux");
        return -1;
    }
    a->remote_ufrag = sdp_ice_ufrag(&a->offer, (size_t)a->served);
    a->remote_fp = sdp_fingerprint(&a->offer, (size_t)a->served);
    if (a->remote_fp[0] == 0 || a->remote_ufrag[0] == 0) {
        logf_("error: the offer has no a=fingerprint or no a=ice-ufrag for the audio m-line");
        return -1;
    }
    const char *offered_setup =
        a->offer.media[a->served].setup[0] ? a->offer.media[a->served].setup : a->offer.setup;
    /* RFC 5763 5: an offer says actpass; the answerer picks. */
    if (offered_setup[0] != 0 && strcmp(offered_setup, "actpass") != 0 &&
        strcmp(offered_setup, a->is_client ? "passive" : "active") != 0) {
        logf_("warning: the offer says a=setup:%s; we answer a=setup:%s anyway", offered_setup,
              a->setup);
    }
    if (sdtls_config_get_fingerprint(a->cfg, "sha-256", fp, sizeof(fp)) != 0) {
        return -1;
    }
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->local.sin_addr, addr, sizeof(addr));
    sdp_answer_params p = {addr,     ntohs(a->local.sin_port),
                           a->ufrag, a->pwd,
                           fp,       a->setup,
                           a->ssrc,  ((uint64_t)random_u32() << 20) ^ random_u32(),
                           a->served};
    if (sdp_write_answer(&a->offer, &p, text, sizeof(text)) != 0) {
        logf_("error: the answer does not fit %zu bytes", sizeof(text));
        return -1;
    }
    fputs(text, stdout);
    fputs("\n", stdout);
    fflush(stdout);
    logf_("answered: %s:%u, a=setup:%s, mid %s, Opus payload type %d, our ssrc %lu, our "
          "fingerprint %s; the browser's is %s",
          addr, (unsigned)ntohs(a->local.sin_port), a->setup, a->offer.media[a->served].mid,
          a->offer.media[a->served].opus_pt, (unsigned long)a->ssrc, fp, a->remote_fp);
    return 0;
}

static void run(app *a)
{
    uint32_t buf32[DGRAM_CAP / 4];
    uint8_t *buf = (uint8_t *)buf32;
    int stdin_open = 1;

    while (stdin_open) {
        uint64_t now = now_ms();
        int timeout = 1000;
        if (a->conn != NULL) {
            uint64_t dl = sdtls_conn_deadline(a->conn);
            if (dl != SDTLS_NO_DEADLINE) {
                timeout = dl <= now ? 0 : dl - now < 1000 ? (int)(dl - now) : 1000;
            }
        }
        struct pollfd fds[2] = {{a->fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            logf_("poll: %s", strerror(errno));
            break;
        }
        if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            char junk[256];
            ssize_t r = read(STDIN_FILENO, junk, sizeof(junk));
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                stdin_open = 0; /* end of input: stop */
            }
        }
        for (int i = 0; n > 0 && (fds[0].revents & POLLIN) != 0 && i < 64; i++) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t r = recvfrom(a->fd, buf, DGRAM_CAP, MSG_TRUNC, (struct sockaddr *)&from, &fl);
            if (r < 0) {
                break; /* EAGAIN: drained */
            }
            if ((size_t)r > DGRAM_CAP || fl != sizeof(from) || from.sin_family != AF_INET) {
                continue;
            }
            on_datagram(a, buf, (size_t)r, &from);
        }
        if (a->conn != NULL && now_ms() >= sdtls_conn_deadline(a->conn)) {
            pump(a, sdtls_conn_on_timeout(a->conn, now_ms()));
        }
    }
    logf_("end of input: stopping");
    if (a->conn != NULL && a->connected && !a->closed) {
        pump(a, sdtls_conn_close(a->conn)); /* close_notify */
    }
}

int main(void)
{
    static app a; /* large (buffers, SDP): static rather than on the stack */
    const char *setup = getenv("SDTLS_SETUP"), *media = getenv("SDTLS_MEDIA");
    const char *log_env = getenv("SDTLS_LOG");
    int rc = 1;

    signal(SIGPIPE, SIG_IGN);
    a.fd = -1;
    a.addr = getenv("SDTLS_ADDR");
    a.profiles = getenv("SDTLS_SRTP_PROFILES");
    if (a.profiles == NULL || a.profiles[0] == 0) {
        a.profiles = DEFAULT_PROFILES;
    }
    a.log_level = SDTLS_LOG_INFO;
    if (log_env != NULL && strcmp(log_env, "debug") == 0) {
        a.log_level = SDTLS_LOG_DEBUG;
    } else if (log_env != NULL && strcmp(log_env, "error") == 0) {
        a.log_level = SDTLS_LOG_ERROR;
    }
    if (setup == NULL || (strcmp(setup, "active") != 0 && strcmp(setup, "passive") != 0) ||
        media == NULL || strcmp(media, "audio") != 0 || a.addr == NULL) {
        fprintf(stderr, "usage: SDTLS_SETUP=active|passive SDTLS_MEDIA=audio SDTLS_ADDR=IPv4 "
                        "webrtc_endpoint < offer\n");
        return 2;
    }
    a.setup = setup;
    a.is_client = strcmp(setup, "active") == 0;

    if (srtp_init() != srtp_err_status_ok) {
        logf_("error: srtp_init failed");
        return 1;
    }
    a.ssrc = random_u32() | 1;
    a.tx_seq = (uint16_t)random_u32();
    a.tx_ts_base = random_u32();
    if (random_ice_string(a.ufrag, 8) != 0 || random_ice_string(a.pwd, 24) != 0 ||
        setup_config(&a) != 0 || open_socket(&a, getenv("SDTLS_PORT")) != 0 || answer(&a) != 0) {
        goto out;
    }
    run(&a);
    print_result(&a);
    rc = 0;
out:
    sdtls_conn_free(a.conn);
    sdtls_config_free(a.cfg);
    if (a.srtp_rx != NULL) {
        srtp_dealloc(a.srtp_rx);
    }
    if (a.srtp_tx != NULL) {
        srtp_dealloc(a.srtp_tx);
    }
    srtp_shutdown();
    OPENSSL_cleanse(&a.keys, sizeof(a.keys));
    if (a.fd >= 0) {
        close(a.fd);
    }
    return rc;
}
