/*
 * Shared by the fuzz targets and gen_corpus.c: the fixed record key of fuzz_record, and for
 * fuzz_conn_client / fuzz_conn_server one sdtls endpoint driven by a script of datagrams and
 * events on a virtual clock, fully deterministic.
 *
 * Input format (after one variant byte, see fz_ep_init):
 *   repeated { u16 n (big endian); if n < 0xfffe: n bytes of datagram }
 *   n == 0xffff: a timer event (the clock jumps to the deadline, sdtls_conn_on_timeout)
 *   n == 0xfffe: the application closes (sdtls_conn_close)
 * A datagram shorter than announced at the end of the input is delivered truncated.
 * Before each step the clock advances FZ_STEP_MS; after each step events are drained and
 * sdtls_conn_send() is called until it has nothing more.
 *
 * Determinism. The sdtls RNG seam gets a per-endpoint xorshift. The crypto backend also draws
 * randomness inside OpenSSL (ephemeral ECDHE keys, ECDSA nonces) that the seam does not cover
 * (the SDTLS_FUZZING_MODE option exists in CMake but nothing implements it yet), so the fuzz
 * harnesses replace OpenSSL's RAND_METHOD with a per-endpoint xorshift as well. Same script,
 * same bytes: the corpus generator runs two endpoints with exactly this driver, so each side
 * of a recorded handshake replays to completion in the fuzzer (Finished MACs included). This
 * reaches into OpenSSL's deprecated RAND_METHOD API: test harness only, never the library.
 */
#ifndef SDTLS_FUZZ_COMMON_H
#define SDTLS_FUZZ_COMMON_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdtls.h"

#define FZ_T0_MS UINT64_C(1000000)
#define FZ_STEP_MS 10
#define FZ_OP_TIMER 0xffff
#define FZ_OP_CLOSE 0xfffe
#define FZ_MAX_DGRAM 0xfffd
#define FZ_MAX_STEPS 512

/* Variant byte: configuration of both endpoints (the generator uses the same for the peer). */
#define FZ_V_CLIENT_AUTH 0x01 /* server requests a certificate, client has one */
#define FZ_V_MTU_300 0x02     /* small MTU: every flight fragmented */
#define FZ_V_NO_COOKIE 0x04   /* server without HelloVerifyRequest */
#define FZ_V_SUITE_SHIFT 3    /* 2 bits: 0,3 default, 1 AES-256-GCM/SHA-384, 2 ChaCha20 */
#define FZ_V_P256 0x20        /* client offers only secp256r1 */
#define FZ_V_ALPN 0x40        /* both sides configure ALPN */
#define FZ_V_SNI 0x80         /* client sends server_name */

/* A throwaway EC P-256 identity for fuzzing only (generated for this file, no other use). */
static const char fz_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCoo9US67oMcCLvJe\n"
    "22YFYsKxkc/ZplZN4606eL7UhOWhRANCAARXnOGbOnjXrsdNRlmx46oaMB0Srv7V\n"
    "ZmQ7KBngh/q0LzJ1yO7A98NUayvHLk3NDZ09Hsue1XPweZblFYXk5WAp\n"
    "-----END PRIVATE KEY-----\n";
static const char fz_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBbjCCARSgAwIBAgIBATAKBggqhkjOPQQDAjAVMRMwEQYDVQQDDApzZHRscy1m\n"
    "dXp6MCAXDTI2MTEyMjEyMjgzOFoYDzIxMjYxMDI5MTIyODM4WjAVMRMwEQYDVQQD\n"
    "DApzZHRscy1mdXp6MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEV5zhmzp4167H\n"
    "TUZZseOqGjAdEq7+1WZkOygZ4If6tC8ydcjuwPfDVGsrxy5NzQ2dPR7LntVz8HmW\n"
    "5RWF5OVgKaNTMFEwHQYDVR0OBBYEFPQyfu1vKz8Bg4JeFuwgwH7dH0/oMB8GA1Ud\n"
    "IwQYMBaAFPQyfu1vKz8Bg4JeFuwgwH7dH0/oMA8GA1UdEwEB/wQFMAMBAf8wCgYI\n"
    "KoZIzj0EAwIDSAAwRQIgDv2dblif6UAqN2kX6CRYWqlMRFmZg1hmTZ489S5lFioC\n"
    "IQD7jAJNahrUS/ADgvrdfuNHnvec9op2waGNT5V4aFW07w==\n"
    "-----END CERTIFICATE-----\n";

static const uint8_t fz_client_addr[] = {10, 0, 0, 1, 0x30, 0x39};

/* fuzz_record's fixed keys: epoch 1 keyed with these for every AEAD (seeds are sealed with
 * the same, so they open). */
static inline void fz_record_key(uint8_t key[32], uint8_t iv[12])
{
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(7 * i + 1);
    }
    for (int i = 0; i < 12; i++) {
        iv[i] = (uint8_t)(0xa0 + i);
    }
}

static inline uint64_t fz_xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* ---- deterministic OpenSSL randomness ------------------------------------------------------ */

static uint64_t *fz_ossl_cur;
static uint64_t fz_ossl_fallback = 0x2545f4914f6cdd1dull;

static inline int fz_ossl_bytes(unsigned char *buf, int num)
{
    uint64_t *s = fz_ossl_cur != NULL ? fz_ossl_cur : &fz_ossl_fallback;
    for (int i = 0; i < num; i++) {
        buf[i] = (unsigned char)(fz_xorshift(s) >> 29);
    }
    return 1;
}
static inline int fz_ossl_seed(const void *buf, int num)
{
    (void)buf;
    (void)num;
    return 1;
}
static inline int fz_ossl_add(const void *buf, int num, double entropy)
{
    (void)buf;
    (void)num;
    (void)entropy;
    return 1;
}
static inline int fz_ossl_status(void)
{
    return 1;
}
static RAND_METHOD fz_ossl_method = {fz_ossl_seed, fz_ossl_bytes, NULL,
                                     fz_ossl_add,  fz_ossl_bytes, fz_ossl_status};

static inline void fz_rand_install(void)
{
    static int done;
    if (!done) {
        RAND_set_rand_method(&fz_ossl_method);
        done = 1;
    }
}

/* ---- the sdtls RNG seam --------------------------------------------------------------------- */

static inline int fz_rng(void *user, uint8_t *buf, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(fz_xorshift(s) >> 24);
    }
    return 0;
}

/* ---- one endpoint --------------------------------------------------------------------------- */

typedef void (*fz_out_fn)(void *user, const uint8_t *dgram, size_t len);

typedef struct fz_ep {
    sdtls_role role;
    uint8_t variant;
    sdtls_config *cfg;
    sdtls_conn *conn;
    uint64_t now;
    uint64_t rng, ossl_rng;
    fz_out_fn out;
    void *out_user;
    int done, closed, failed;
    int want_write;    /* write one application record once the handshake flight is out */
    uint64_t data_sum; /* touch every received byte */
} fz_ep;

static inline void fz_enter(fz_ep *ep)
{
    fz_ossl_cur = &ep->ossl_rng;
}

static inline void fz_flush(fz_ep *ep)
{
    uint8_t buf[16384 + 512];
    for (int i = 0; i < 64; i++) {
        size_t len = 0;
        int rc = sdtls_conn_send(ep->conn, buf, sizeof(buf), &len, ep->now);
        if (rc != 0) {
            ep->failed = 1;
            return;
        }
        if (len == 0) {
            return;
        }
        if (ep->out != NULL) {
            ep->out(ep->out_user, buf, len);
        }
    }
}

static inline void fz_drain(fz_ep *ep)
{
    sdtls_event ev;
    for (int i = 0; i < 64; i++) {
        if (sdtls_conn_next_event(ep->conn, &ev) != 0 || ev.type == SDTLS_EV_NONE) {
            return;
        }
        switch (ev.type) {
        case SDTLS_EV_HANDSHAKE_DONE:
            ep->done = 1;
            ep->want_write = 1;
            break;
        case SDTLS_EV_DATA:
            for (size_t k = 0; k < ev.len; k++) {
                ep->data_sum += ev.data[k];
            }
            break;
        case SDTLS_EV_CLOSED:
            ep->closed = 1;
            break;
        default:
            break;
        }
    }
}

/* Events, then our datagrams, then one application record after the handshake: the record
 * leaves after our final flight, so the peer has the keys in time (a record of the new epoch
 * arriving before the ChangeCipherSpec is held, and application data among held records is
 * dropped by design). */
static inline void fz_after_step(fz_ep *ep)
{
    fz_drain(ep);
    fz_flush(ep);
    if (ep->want_write) {
        ep->want_write = 0;
        uint8_t out[2048];
        size_t len = 0;
        static const char msg[] = "ping from the fuzz driver";
        (void)sdtls_conn_max_data(ep->conn);
        if (sdtls_conn_write(ep->conn, (const uint8_t *)msg, sizeof(msg) - 1, out, sizeof(out),
                             &len) == 0 &&
            ep->out != NULL) {
            ep->out(ep->out_user, out, len);
        }
    }
}

/* SDTLS_FUZZ_LOG=1 in the environment: library log lines on stderr (debugging seeds). */
static inline void fz_log(void *user, sdtls_log_level level, const char *msg)
{
    (void)level;
    fprintf(stderr, "  [%s] %s\n", (const char *)user, msg);
}

/* 0 on success; the endpoint must be freed with fz_ep_free() in any case. */
static inline int fz_ep_init(fz_ep *ep, sdtls_role role, uint8_t variant, fz_out_fn out, void *user)
{
    memset(ep, 0, sizeof(*ep));
    ep->out = out;
    ep->out_user = user;
    ep->role = role;
    ep->variant = variant;
    ep->now = FZ_T0_MS;
    ep->rng = role == SDTLS_ROLE_CLIENT ? 0x0123456789abcdefull : 0x0fedcba987654321ull;
    ep->ossl_rng = role == SDTLS_ROLE_CLIENT ? 0x1111111111111111ull : 0x2222222222222222ull;
    fz_rand_install();
    fz_enter(ep);
    if (sdtls_config_new(&ep->cfg, NULL) != 0) {
        return -1;
    }
    sdtls_config *cfg = ep->cfg;
    int bad = 0;
    bad |= sdtls_config_set_rng(cfg, fz_rng, &ep->rng);
    bad |= sdtls_config_set_verify(cfg, SDTLS_VERIFY_NONE);
    if (getenv("SDTLS_FUZZ_LOG") != NULL) {
        bad |= sdtls_config_set_log(cfg, SDTLS_LOG_DEBUG, fz_log,
                                    role == SDTLS_ROLE_SERVER ? "server" : "client");
    }
    bad |= sdtls_config_set_retransmit(cfg, 1000, 8000, 4);
    int is_server = role == SDTLS_ROLE_SERVER;
    if (is_server || (variant & FZ_V_CLIENT_AUTH)) {
        bad |= sdtls_config_set_cert_pem(cfg, fz_cert_pem, sizeof(fz_cert_pem) - 1, fz_key_pem,
                                         sizeof(fz_key_pem) - 1);
    }
    if (is_server && (variant & FZ_V_CLIENT_AUTH)) {
        bad |= sdtls_config_set_client_auth(cfg, 1, 0);
    }
    if (variant & FZ_V_MTU_300) {
        bad |= sdtls_config_set_mtu(cfg, 300);
    }
    if (is_server && (variant & FZ_V_NO_COOKIE)) {
        bad |= sdtls_config_set_cookie(cfg, 0, 0);
    }
    if (!is_server) {
        switch ((variant >> FZ_V_SUITE_SHIFT) & 3) {
        case 1:
            bad |= sdtls_config_set_ciphers(cfg, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
            break;
        case 2:
            bad |= sdtls_config_set_ciphers(cfg, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
            break;
        default:
            break;
        }
        if (variant & FZ_V_P256) {
            bad |= sdtls_config_set_groups(cfg, "secp256r1");
        }
    }
    if (variant & FZ_V_ALPN) {
        bad |= sdtls_config_set_alpn(cfg, is_server ? "h2,coap" : "coap");
    }
    if (bad != 0) {
        return -1;
    }
    if (sdtls_conn_new(cfg, role, is_server ? fz_client_addr : NULL,
                       is_server ? sizeof(fz_client_addr) : 0, &ep->conn) != 0) {
        return -1;
    }
    if (!is_server && (variant & FZ_V_SNI)) {
        (void)sdtls_conn_set_server_name(ep->conn, "example.com");
    }
    /* A client starts its handshake at the first send. */
    fz_flush(ep);
    return 0;
}

static inline void fz_ep_datagram(fz_ep *ep, const uint8_t *d, size_t len)
{
    fz_enter(ep);
    ep->now += FZ_STEP_MS;
    if (sdtls_conn_recv(ep->conn, d, len, ep->now) != 0) {
        ep->failed = 1;
    }
    fz_after_step(ep);
}

static inline void fz_ep_timer(fz_ep *ep)
{
    fz_enter(ep);
    uint64_t dl = sdtls_conn_deadline(ep->conn);
    ep->now += FZ_STEP_MS;
    if (dl != SDTLS_NO_DEADLINE && dl > ep->now) {
        ep->now = dl;
    }
    if (sdtls_conn_on_timeout(ep->conn, ep->now) != 0) {
        ep->failed = 1;
    }
    fz_after_step(ep);
}

static inline void fz_ep_close(fz_ep *ep)
{
    fz_enter(ep);
    ep->now += FZ_STEP_MS;
    (void)sdtls_conn_close(ep->conn);
    fz_after_step(ep);
}

static inline void fz_ep_free(fz_ep *ep)
{
    fz_enter(ep);
    if (ep->conn != NULL) {
        /* Read-only accessors, valid in every state. */
        sdtls_stats st;
        char fp[128];
        uint8_t ekm[16];
        sdtls_conn_stats(ep->conn, &st);
        (void)sdtls_conn_deadline(ep->conn);
        (void)sdtls_conn_is_handshake_done(ep->conn);
        (void)sdtls_conn_is_closed(ep->conn);
        (void)sdtls_conn_handshake_rtx(ep->conn);
        (void)sdtls_conn_peer_fingerprint(ep->conn, fp, sizeof(fp));
        (void)sdtls_conn_export(ep->conn, "EXPERIMENTAL fuzz", NULL, 0, ekm, sizeof(ekm));
        (void)strlen(sdtls_conn_version_name(ep->conn));
        (void)strlen(sdtls_conn_cipher_name(ep->conn));
        (void)strlen(sdtls_conn_group_name(ep->conn));
        (void)strlen(sdtls_conn_alpn(ep->conn));
    }
    sdtls_conn_free(ep->conn);
    sdtls_config_free(ep->cfg);
    ep->conn = NULL;
    ep->cfg = NULL;
    fz_ossl_cur = NULL;
}

/* Run a whole script (after the variant byte) against one endpoint. */
static inline void fz_run_script(fz_ep *ep, const uint8_t *p, size_t n)
{
    size_t steps = 0;
    while (n >= 2 && steps++ < FZ_MAX_STEPS) {
        unsigned op = ((unsigned)p[0] << 8) | p[1];
        p += 2;
        n -= 2;
        if (op == FZ_OP_TIMER) {
            fz_ep_timer(ep);
            continue;
        }
        if (op == FZ_OP_CLOSE) {
            fz_ep_close(ep);
            continue;
        }
        size_t len = op < n ? op : n;
        fz_ep_datagram(ep, p, len);
        p += len;
        n -= len;
    }
}

#endif
