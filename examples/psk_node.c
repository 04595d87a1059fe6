/*
 * psk_node.c: a pre-shared-key DTLS 1.2 node on the sdtls UDP driver, client or echo server.
 *
 *   psk_node server LISTEN_ADDR IDENTITY HEXKEY [--cid N]
 *   psk_node client ADDR IDENTITY HEXKEY MESSAGE [--cid N] [--no-echo]
 *
 * It uses only what every library profile has: the PSK settings, the connection calls and
 * the UDP driver; no certificate. So it builds against SDTLS_PROFILE=psk-ccm8, the library
 * for constrained nodes that holds TLS_PSK_WITH_AES_128_CCM_8 alone (the suite CoAP mandates
 * for PSK, RFC 7252 9.1.3.1), and is that build's interop peer. The cipher list is the
 * library's default: in psk-ccm8 that one suite, in the full build the PSK suites.
 *
 * HEXKEY is the key in hex, 1..64 bytes. --cid N (0..20) negotiates RFC 9146 connection IDs
 * and asks the peer for an N-byte one; a peer without the extension simply ignores it.
 *
 * Server flow: a config with the identity and key, a server endpoint (the driver screens new
 * peers with HelloVerifyRequest cookies before it allocates anything), "listening: ADDR:PORT",
 * then events until SIGINT or SIGTERM: "handshake: SUITE" per session, and per application
 * record a "data: TEXT" line and the same bytes sent back. On the signal every live session
 * gets a close_notify and the exit status is 0.
 *
 * Client flow: the same config, a client endpoint, the handshake (10 s at most), then
 * "handshake: SUITE" and "version: ..." (sdtls_version(), which names the profile), MESSAGE as
 * one record, the echo (5 s at most; "echo: TEXT", compared with MESSAGE) unless --no-echo,
 * and close_notify. Exit status 0 on success, 1 on failure with an "error: ..." line on
 * stderr, 2 for bad arguments.
 *
 * TEXT is the record with every byte outside printable ASCII, and the backslash, written as
 * \xHH, so one record is always one line (line-oriented peers send a trailing \x0a).
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdtls_udp.h"

#define HANDSHAKE_MS 10000
#define ECHO_MS 5000
/* After our close_notify, how long we wait for the peer's (politeness, not correctness). */
#define CLOSE_MS 1000
#define PSK_MAX 64
#define IDENTITY_MAX 128
#define CID_MAX 20

/* The largest DTLS 1.2 record plaintext (RFC 6347 4.1, 2^14): any DATA event fits. */
static uint8_t record_copy[16384];

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1; /* sdtls_udp_next_event() returns EV_NONE on EINTR, so the loop sees this */
}

typedef struct options {
    const char *addr, *identity, *hexkey, *message;
    uint8_t key[PSK_MAX];
    size_t key_len;
    int cid_len; /* -1: no connection_id extension (the library's default) */
    int no_echo;
} options;

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s server LISTEN_ADDR IDENTITY HEXKEY [--cid N]\n"
            "       %s client ADDR IDENTITY HEXKEY MESSAGE [--cid N] [--no-echo]\n"
            "  HEXKEY: 1..64 bytes in hex; --cid N: ask for an N-byte connection ID (0..20)\n",
            prog, prog);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Strict: an even number of hex digits and nothing else, 1..64 bytes. A sloppy parser that
 * stopped at the first bad character would silently shorten the key, and the failure would
 * only show as a bad Finished on the wire, far from its cause. */
static int parse_key(const char *hex, uint8_t *key, size_t *key_len)
{
    size_t n = strlen(hex), i;

    if (n == 0 || n % 2 != 0 || n / 2 > PSK_MAX) {
        return -1;
    }
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    *key_len = n / 2;
    return 0;
}

static int parse_cid(const char *text, int *cid_len)
{
    char *end;
    long v;

    if (text == NULL || text[0] < '0' || text[0] > '9') {
        return -1;
    }
    v = strtol(text, &end, 10);
    if (*end != '\0' || v > CID_MAX) {
        return -1;
    }
    *cid_len = (int)v;
    return 0;
}

/* argv[2..]: `positional` arguments, then the options; --no-echo only for the client. */
static int parse_args(int argc, char **argv, int is_client, options *o)
{
    int positional = is_client ? 4 : 3, i;

    memset(o, 0, sizeof(*o));
    o->cid_len = -1;
    if (argc < 2 + positional) {
        return -1;
    }
    o->addr = argv[2];
    o->identity = argv[3];
    o->hexkey = argv[4];
    o->message = is_client ? argv[5] : NULL;
    for (i = 2 + positional; i < argc; i++) {
        if (strcmp(argv[i], "--cid") == 0 && i + 1 < argc) {
            if (parse_cid(argv[++i], &o->cid_len) != 0) {
                fprintf(stderr, "error: --cid: expected 0..%d\n", CID_MAX);
                return -1;
            }
        } else if (is_client && strcmp(argv[i], "--no-echo") == 0) {
            o->no_echo = 1;
        } else {
            fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (o->identity[0] == '\0' || strlen(o->identity) > IDENTITY_MAX) {
        fprintf(stderr, "error: IDENTITY: expected 1..%d bytes\n", IDENTITY_MAX);
        return -1;
    }
    if (parse_key(o->hexkey, o->key, &o->key_len) != 0) {
        fprintf(stderr, "error: HEXKEY: expected 1..%d bytes as an even number of hex digits\n",
                PSK_MAX);
        return -1;
    }
    return 0;
}

/* The config both roles share: one identity and key, optionally connection IDs. Everything
 * else keeps the library's defaults (cipher list, cookies, EMS required, MTU 1200). */
static int make_config(const options *o, sdtls_config **cfg)
{
    int rc = sdtls_config_new(cfg, NULL);

    if (rc == 0) {
        rc = sdtls_config_set_psk(*cfg, (const uint8_t *)o->identity, strlen(o->identity), o->key,
                                  o->key_len);
    }
    if (rc == 0 && o->cid_len >= 0) {
        rc = sdtls_config_set_cid(*cfg, o->cid_len);
    }
    if (rc != 0) {
        fprintf(stderr, "error: config: %s\n", sdtls_strerror(rc));
    }
    return rc;
}

/* Driver codes (resolver, socket) carry a system detail; sdtls codes name the alert. */
static void print_error(const char *what, int err)
{
    const char *detail = sdtls_udp_last_error();

    if (err <= SDTLS_UDP_ERR_RESOLVE && err >= SDTLS_UDP_ERR_RESTARTED && detail[0] != '\0') {
        fprintf(stderr, "error: %s: %s (%s)\n", what, sdtls_udp_strerror(err), detail);
    } else {
        fprintf(stderr, "error: %s: %s\n", what, sdtls_udp_strerror(err));
    }
}

static void print_text(FILE *f, const char *prefix, const uint8_t *data, size_t len)
{
    size_t i;

    fputs(prefix, f);
    for (i = 0; i < len; i++) {
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\') {
            fputc(data[i], f);
        } else {
            fprintf(f, "\\x%02x", data[i]);
        }
    }
    fputc('\n', f);
    fflush(f);
}

/* "cid: HEX" when a connection ID was negotiated (ours: the one the peer puts in records). */
static void print_cid(const sdtls_conn *conn, FILE *f)
{
    uint8_t cid[CID_MAX];
    size_t cid_len, i;

    if (sdtls_conn_cid(conn, cid, sizeof(cid), &cid_len) != 0) {
        return;
    }
    fputs("cid: ", f);
    for (i = 0; i < cid_len; i++) {
        fprintf(f, "%02x", cid[i]);
    }
    fputs(cid_len == 0 ? "(empty)\n" : "\n", f);
}

static const char *peer_text(const sdtls_udp_session *s, char *buf, size_t cap)
{
    if (sdtls_udp_addr_format(sdtls_udp_session_peer(s), buf, cap) != 0) {
        return "?";
    }
    return buf;
}

static int run_server(const options *o)
{
    sdtls_config *cfg = NULL;
    sdtls_udp *u = NULL;
    sdtls_udp_addr local;
    struct sigaction sa;
    char text[64];
    int rc;

    rc = make_config(o, &cfg);
    if (rc != 0) {
        sdtls_config_free(cfg);
        return 1;
    }
    /* 0: the default table of 64 sessions, half of them at most still handshaking. */
    rc = sdtls_udp_server_new(&u, cfg, o->addr, 0);
    if (rc == 0) {
        rc = sdtls_udp_local_addr(u, &local);
    }
    if (rc == 0) {
        rc = sdtls_udp_addr_format(&local, text, sizeof(text));
    }
    if (rc != 0) {
        print_error(o->addr, rc);
        sdtls_udp_free(u);
        sdtls_config_free(cfg);
        return 1;
    }
    /* No SA_RESTART: the signal must interrupt poll() so the loop ends promptly. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    printf("listening: %s\n", text);
    fflush(stdout);

    /* Handshakes, cookies, retransmissions and close_notify answers all happen inside
     * sdtls_udp_next_event(); the 1 s wait only bounds how late a signal can be seen. */
    while (!stop) {
        sdtls_udp_event ev;
        sdtls_conn *conn;
        char peer[64];
        int wrc;

        rc = sdtls_udp_next_event(u, -1, 1000, &ev);
        if (rc != 0) {
            print_error("socket", rc);
            break;
        }
        conn = ev.session != NULL ? sdtls_udp_session_conn(ev.session) : NULL;
        switch (ev.type) {
        case SDTLS_UDP_EV_ACCEPTED:
            printf("accepted: %s\n", peer_text(ev.session, peer, sizeof(peer)));
            break;
        case SDTLS_UDP_EV_HANDSHAKE_DONE:
            printf("handshake: %s\n", sdtls_conn_cipher_name(conn));
            print_cid(conn, stdout);
            break;
        case SDTLS_UDP_EV_DATA:
            if (ev.len > sizeof(record_copy)) {
                break; /* cannot happen (the engine enforces the record limit); be safe */
            }
            /* ev.data is a view into the connection that writing may reuse: copy first. */
            memcpy(record_copy, ev.data, ev.len);
            print_text(stdout, "data: ", record_copy, ev.len);
            wrc = sdtls_udp_session_write(ev.session, record_copy, ev.len);
            if (wrc != 0) {
                print_error("echo", wrc); /* that session's problem; it may end FAILED */
            }
            break;
        case SDTLS_UDP_EV_ALERT:
            printf("alert: %s %s\n", ev.alert_level == 2 ? "fatal" : "warning",
                   sdtls_alert_name(ev.alert));
            break;
        case SDTLS_UDP_EV_CLOSED:
            printf("closed: %s\n", peer_text(ev.session, peer, sizeof(peer)));
            break;
        case SDTLS_UDP_EV_FAILED:
            /* One peer's failure (wrong key, timeout) is not the server's: keep serving. */
            printf("failed: %s: %s\n", peer_text(ev.session, peer, sizeof(peer)),
                   sdtls_udp_strerror(ev.err));
            break;
        case SDTLS_UDP_EV_NONE:
        case SDTLS_UDP_EV_READABLE:
        default:
            break;
        }
        fflush(stdout);
    }
    /* close_notify to every live session, then free the endpoint before its config. */
    (void)sdtls_udp_close_all(u);
    sdtls_udp_free(u);
    sdtls_config_free(cfg);
    return rc == 0 ? 0 : 1;
}

/* The client's handshake, bounded by HANDSHAKE_MS. */
static int client_handshake(sdtls_udp *u, const sdtls_udp_session *s)
{
    uint64_t deadline = sdtls_udp_now_ms() + HANDSHAKE_MS;
    int rc;

    for (;;) {
        uint64_t now = sdtls_udp_now_ms();

        if (now >= deadline) {
            sdtls_stats st;

            /* RFC 6347 4.1.2.7: a record that fails authentication is dropped silently, so a
             * peer with another key never says so; it just never accepts our Finished. Tell
             * that case apart from silence. */
            sdtls_conn_stats(sdtls_udp_session_conn(s), &st);
            if (st.dgrams_rx > 0) {
                fprintf(stderr,
                        "error: handshake: not complete within %d ms although the peer answered "
                        "(a wrong key looks like this: the peer drops our Finished, no alert)\n",
                        HANDSHAKE_MS);
            } else {
                fprintf(stderr, "error: handshake: no answer within %d ms\n", HANDSHAKE_MS);
            }
            return 1;
        }
        rc = sdtls_udp_client_handshake(u, (int)(deadline - now));
        if (rc == 0) {
            return 0;
        }
        if (rc != SDTLS_ERR_AGAIN) {
            /* A fatal alert, sent or received, is in the code: strerror names it. */
            print_error("handshake", rc);
            return 1;
        }
    }
}

/* Wait for events until `deadline`: the echo (want_echo), or the CLOSED answer to our
 * close_notify. Returns 0 when that came, 1 otherwise (with an error line if it matters). */
static int client_wait(sdtls_udp *u, const options *o, int want_echo, uint64_t deadline)
{
    size_t msg_len = strlen(o->message);

    for (;;) {
        uint64_t now = sdtls_udp_now_ms();
        sdtls_udp_event ev;
        int rc;

        if (now >= deadline) {
            if (want_echo) {
                fprintf(stderr, "error: no echo within %d ms\n", ECHO_MS);
            }
            return 1;
        }
        rc = sdtls_udp_next_event(u, -1, (int)(deadline - now), &ev);
        if (rc != 0) {
            print_error("socket", rc);
            return 1;
        }
        switch (ev.type) {
        case SDTLS_UDP_EV_DATA:
            if (!want_echo) {
                break; /* late data after our close_notify: not ours to judge */
            }
            print_text(stdout, "echo: ", ev.data, ev.len);
            if (ev.len != msg_len || memcmp(ev.data, o->message, msg_len) != 0) {
                fprintf(stderr, "error: the echo differs from the message sent\n");
                return 1;
            }
            return 0;
        case SDTLS_UDP_EV_ALERT:
            /* close_notify is the expected answer to ours; anything else is worth a line. */
            if (ev.alert != SDTLS_ALERT_CLOSE_NOTIFY) {
                fprintf(stderr, "alert: %s %s\n", ev.alert_level == 2 ? "fatal" : "warning",
                        sdtls_alert_name(ev.alert));
            }
            break;
        case SDTLS_UDP_EV_CLOSED:
            if (want_echo) {
                fprintf(stderr, "error: the peer closed before echoing\n");
                return 1;
            }
            return 0;
        case SDTLS_UDP_EV_FAILED:
            if (want_echo) {
                print_error("session", ev.err);
            }
            return 1;
        case SDTLS_UDP_EV_NONE:
        case SDTLS_UDP_EV_ACCEPTED:
        case SDTLS_UDP_EV_HANDSHAKE_DONE:
        case SDTLS_UDP_EV_READABLE:
        default:
            break;
        }
    }
}

static int run_client(const options *o)
{
    sdtls_config *cfg = NULL;
    sdtls_udp *u = NULL;
    sdtls_udp_session *s = NULL;
    sdtls_conn *conn;
    size_t msg_len = strlen(o->message);
    int rc, code = 1;

    if (make_config(o, &cfg) != 0) {
        goto out;
    }
    /* A connected UDP socket and one client session; the handshake starts below. */
    rc = sdtls_udp_client_new(&u, cfg, o->addr, &s);
    if (rc != 0) {
        print_error(o->addr, rc);
        goto out;
    }
    if (client_handshake(u, s) != 0) {
        goto out;
    }
    conn = sdtls_udp_session_conn(s);
    printf("handshake: %s\n", sdtls_conn_cipher_name(conn));
    printf("version: %s\n", sdtls_version());
    print_cid(conn, stdout);
    fflush(stdout);

    /* One record: it must fit one datagram at the MTU (1200 by default). */
    if (msg_len > sdtls_conn_max_data(conn)) {
        fprintf(stderr, "error: MESSAGE is %zu bytes; one record holds at most %zu here\n", msg_len,
                sdtls_conn_max_data(conn));
        goto out;
    }
    rc = sdtls_udp_session_write(s, (const uint8_t *)o->message, msg_len);
    if (rc != 0) {
        print_error("write", rc);
        goto out;
    }
    if (!o->no_echo && client_wait(u, o, 1, sdtls_udp_now_ms() + ECHO_MS) != 0) {
        goto out;
    }
    code = 0;
    /* close_notify, and a short wait for the peer's: its absence is no failure (the record
     * went out; a peer may exit without answering). */
    if (sdtls_udp_session_close(s) == 0) {
        (void)client_wait(u, o, 0, sdtls_udp_now_ms() + CLOSE_MS);
    }
out:
    sdtls_udp_free(u);
    sdtls_config_free(cfg);
    return code;
}

int main(int argc, char **argv)
{
    options o;
    int is_client;

    if (argc < 2 || (strcmp(argv[1], "client") != 0 && strcmp(argv[1], "server") != 0)) {
        usage(argv[0]);
        return 2;
    }
    is_client = strcmp(argv[1], "client") == 0;
    if (parse_args(argc, argv, is_client, &o) != 0) {
        usage(argv[0]);
        return 2;
    }
    return is_client ? run_client(&o) : run_server(&o);
}
