/*
 * bench_sdtls: sdtls against OpenSSL's own DTLS 1.2 (libssl), in memory, on the same libcrypto.
 *
 * What it measures
 *   - Full DTLS 1.2 handshakes per second and CPU time per handshake. Client and server run
 *     in this one thread, so the CPU time is client + server together; creating and freeing
 *     both connection objects is included, the configs/SSL_CTXs are shared.
 *   - Record seal and open throughput (MB/s of application payload, 1 MB = 10^6 bytes) per
 *     AEAD at 1200 bytes and at the largest payload sdtls_conn_max_data() allows at MTU 16384.
 *     sdtls: seal = sdtls_conn_write(), open = sdtls_conn_recv() + sdtls_conn_next_event().
 *     OpenSSL: SSL_write() and SSL_read() of the same payload size, same suite.
 *
 * Method
 *   Each measurement warms up both implementations, estimates their rates, then runs a fixed
 *   number of iterations sized to last about --seconds (default 1; --quick 0.2) in --rounds
 *   rounds (default 5) that alternate sdtls and OpenSSL; the best round is reported, so load
 *   from other processes hits both alike and is mostly filtered out. --iters N fixes the work,
 *   so it is exactly reproducible (e.g. under callgrind). Wall time: CLOCK_MONOTONIC; CPU
 *   time: CLOCK_PROCESS_CPUTIME_ID. Records are sealed in batches of about 1 MiB and then
 *   opened in order, so the clocks are read once per batch, not per record. Every return value
 *   is checked; any failure aborts with a message (this is a benchmark, failures must be loud).
 *
 * Transport
 *   Datagrams go straight from one endpoint to the other through in-memory queues ("pipes");
 *   nothing is lost, so no timer ever fires. For OpenSSL the pipe is a small custom BIO that
 *   keeps datagram boundaries (one BIO_write = one datagram, one BIO_read = one datagram,
 *   peek mode for DTLSv1_listen). A plain BIO_s_mem is a byte stream: OpenSSL 3.0's DTLS
 *   record layer reads as much as its buffer holds as one "datagram" and discards a record cut
 *   at the buffer end, so memory BIOs only work when every datagram is moved one at a time.
 *   BIO_s_dgram_mem would fit but needs OpenSSL 3.2.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sdtls.h"

#ifndef SDTLS_BENCH_BUILD_TYPE
#define SDTLS_BENCH_BUILD_TYPE ""
#endif

/* The sans-I/O clock: nothing is lost, so time never needs to move. */
#define NOW_MS UINT64_C(1000000)
/* Largest datagram either implementation produces at MTU 16384, with room to spare. */
#define DGRAM_CAP (16384 + 512)
/* Datagrams one direction may hold during a handshake (a flight is a handful). */
#define HS_PIPE_SLOTS 64
/* A handshake needs 2-3 round trips (4 with cookies); more rounds than this is a hang. */
#define HS_MAX_ROUNDS 16
/* Groups offered by both implementations. X25519 is negotiated; P-256 is listed because in
 * DTLS 1.2 the client's supported_groups also names the curves it accepts in the server's
 * ECDSA certificate (RFC 8422 5.1), and OpenSSL's server enforces that. */
#define BENCH_GROUPS_SDTLS "x25519:secp256r1"
#define BENCH_GROUPS_OSSL "X25519:P-256"
/* Payload sealed per record batch before it is opened. */
#define BATCH_BYTES (1024 * 1024)

enum { IMPL_SDTLS = 0, IMPL_OPENSSL = 1 };
static const char *const impl_names[2] = {"sdtls", "openssl"};

/* ------------------------------------------------------------------------------------------
 * Failure reporting
 * ---------------------------------------------------------------------------------------- */

#if defined(__GNUC__)
#define BENCH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BENCH_NORETURN __attribute__((noreturn))
#else
#define BENCH_PRINTF(f, a)
#define BENCH_NORETURN
#endif

static void die(const char *fmt, ...) BENCH_NORETURN BENCH_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "bench_sdtls: FATAL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (ERR_peek_error() != 0) {
        fprintf(stderr, "OpenSSL error queue:\n");
        ERR_print_errors_fp(stderr);
    }
    exit(1);
}

#define CHECK_SD(expr)                                                                             \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0) {                                                                            \
            die("%s:%d: %s returned %d (%s)", __FILE__, __LINE__, #expr, rc_,                      \
                sdtls_strerror(rc_));                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_OSSL(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            die("%s:%d: OpenSSL call failed: %s", __FILE__, __LINE__, #cond);                      \
        }                                                                                          \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        die("out of memory (%zu bytes)", n);
    }
    return p;
}

/* ------------------------------------------------------------------------------------------
 * Options and clocks
 * ---------------------------------------------------------------------------------------- */

static double g_seconds = 1.0;
static double g_warm_s = 0.25;
static uint64_t g_iters = 0; /* 0: calibrate from the warm-up */
static unsigned g_rounds = 5;
static const char *g_filter = NULL;
static int g_impl_on[2] = {1, 1};

typedef struct tstamp {
    double wall, cpu;
} tstamp;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) {
        die("clock_gettime failed");
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tstamp stamp(void)
{
    tstamp t = {clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
    return t;
}

/* Round up the non-negative iteration estimates, without pulling in libm. */
static uint64_t ceil_u64(double x)
{
    if (!(x > 0)) {
        return 0;
    }
    if (x >= 1e18) {
        return UINT64_C(1000000000000000000);
    }
    uint64_t n = (uint64_t)x;
    return (double)n < x ? n + 1 : n;
}

static void acc_add(tstamp *acc, tstamp a, tstamp b)
{
    acc->wall += b.wall - a.wall;
    acc->cpu += b.cpu - a.cpu;
}

/* --filter: a substring of the benchmark name; a trailing '$' anchors it at the end. */
static int selected(const char *name)
{
    if (g_filter == NULL) {
        return 1;
    }
    size_t fl = strlen(g_filter), nl = strlen(name);
    if (fl > 0 && g_filter[fl - 1] == '$') {
        return fl - 1 <= nl && memcmp(name + nl - (fl - 1), g_filter, fl - 1) == 0;
    }
    return strstr(name, g_filter) != NULL;
}

/* ------------------------------------------------------------------------------------------
 * Results: machine-readable lines as we go, a comparison table at the end
 * ---------------------------------------------------------------------------------------- */

typedef struct row {
    char name[64];
    char label[72];
    const char *unit;
    int higher_better;
    int has[2];
    double v[2];
} row;

static row g_rows[64];
static size_t g_nrows;
static char g_notes[16][320];
static size_t g_nnotes;
static int g_busy_noted;

static void note(const char *fmt, ...) BENCH_PRINTF(1, 2);
static void note(const char *fmt, ...)
{
    if (g_nnotes == sizeof(g_notes) / sizeof(g_notes[0])) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_notes[g_nnotes++], sizeof(g_notes[0]), fmt, ap);
    va_end(ap);
}

/* A row exists even when one implementation is not measured, so the table shows "n/a". */
static row *row_get(const char *name, const char *label, const char *unit, int higher_better)
{
    for (size_t i = 0; i < g_nrows; i++) {
        if (strcmp(g_rows[i].name, name) == 0 && strcmp(g_rows[i].unit, unit) == 0) {
            return &g_rows[i];
        }
    }
    if (g_nrows == sizeof(g_rows) / sizeof(g_rows[0])) {
        die("too many result rows");
    }
    row *r = &g_rows[g_nrows++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->label, sizeof(r->label), "%s", label);
    r->unit = unit;
    r->higher_better = higher_better;
    return r;
}

static void result(const char *name, const char *label, int impl, const char *unit,
                   int higher_better, double value, uint64_t iters, tstamp t)
{
    row *r = row_get(name, label, unit, higher_better);
    /* Single-threaded and CPU-bound: wall time well above CPU time means other processes
     * took the CPU, and the wall-clock rates are low by that much. */
    if (t.cpu < 0.9 * t.wall && !g_busy_noted) {
        g_busy_noted = 1;
        note("the machine was busy (e.g. %s %s: cpu %.3f s in %.3f s wall); rates are "
             "wall-clock, so prefer the CPU rows or rerun on an idle machine",
             name, impl_names[impl], t.cpu, t.wall);
    }
    r->has[impl] = 1;
    r->v[impl] = value;
    printf("bench name=%s impl=%s value=%.1f unit=%s iters=%llu wall_s=%.3f cpu_s=%.3f\n", name,
           impl_names[impl], value, unit, (unsigned long long)iters, t.wall, t.cpu);
    fflush(stdout);
}

static void print_table(void)
{
    printf("\n%-54s %-9s %12s %12s %10s\n", "benchmark", "unit", "sdtls", "OpenSSL", "sdtls/OSSL");
    for (size_t i = 0; i < 54 + 1 + 9 + 1 + 12 + 1 + 12 + 1 + 10; i++) {
        putchar('-');
    }
    putchar('\n');
    for (size_t i = 0; i < g_nrows; i++) {
        const row *r = &g_rows[i];
        char a[32] = "n/a", b[32] = "n/a", ratio[32] = "";
        if (r->has[0]) {
            snprintf(a, sizeof(a), "%.1f", r->v[0]);
        }
        if (r->has[1]) {
            snprintf(b, sizeof(b), "%.1f", r->v[1]);
        }
        if (r->has[0] && r->has[1] && r->v[1] > 0) {
            snprintf(ratio, sizeof(ratio), "%.2f", r->v[0] / r->v[1]);
        }
        printf("%-54s %-9s %12s %12s %10s  %s\n", r->label, r->unit, a, b, ratio,
               r->higher_better ? "(higher is better)" : "(lower is better)");
    }
    for (size_t i = 0; i < g_nnotes; i++) {
        printf("note: %s\n", g_notes[i]);
    }
}

/* ------------------------------------------------------------------------------------------
 * Datagram pipes: a FIFO of datagrams, one per direction
 * ---------------------------------------------------------------------------------------- */

typedef struct dpipe {
    uint8_t *buf; /* cap slots of slot_cap bytes */
    size_t *len;
    size_t slot_cap, cap, head, n;
    int peek; /* OpenSSL BIO peek mode (DTLSv1_listen): read without consuming */
    const char *name;
} dpipe;

static void dpipe_init(dpipe *p, const char *name, size_t cap, size_t slot_cap)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->cap = cap;
    p->slot_cap = slot_cap;
    p->buf = xmalloc(cap * slot_cap);
    p->len = xmalloc(cap * sizeof(size_t));
}

static void dpipe_free(dpipe *p)
{
    free(p->buf);
    free(p->len);
    memset(p, 0, sizeof(*p));
}

static void dpipe_reset(dpipe *p)
{
    p->head = 0;
    p->n = 0;
    p->peek = 0;
}

/* The slot the next datagram is written into; commit it with dpipe_commit(). */
static uint8_t *dpipe_tail(dpipe *p)
{
    if (p->n == p->cap) {
        die("pipe %s full (%zu datagrams): a peer is sending without end", p->name, p->cap);
    }
    return p->buf + ((p->head + p->n) % p->cap) * p->slot_cap;
}

static void dpipe_commit(dpipe *p, size_t len)
{
    if (len > p->slot_cap) {
        die("pipe %s: datagram of %zu bytes overflows a %zu-byte slot", p->name, len, p->slot_cap);
    }
    p->len[(p->head + p->n) % p->cap] = len;
    p->n++;
}

static const uint8_t *dpipe_front(const dpipe *p, size_t *len)
{
    if (p->n == 0) {
        return NULL;
    }
    *len = p->len[p->head];
    return p->buf + p->head * p->slot_cap;
}

static void dpipe_pop(dpipe *p)
{
    p->head = (p->head + 1) % p->cap;
    p->n--;
}

/* ------------------------------------------------------------------------------------------
 * The OpenSSL side of a pipe: a datagram-preserving BIO
 * ---------------------------------------------------------------------------------------- */

static BIO_METHOD *g_pipe_method;

static int pipe_bio_write(BIO *b, const char *in, int inl)
{
    dpipe *p = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (p == NULL || in == NULL || inl < 0) {
        return -1;
    }
    uint8_t *slot = dpipe_tail(p);
    if ((size_t)inl > p->slot_cap) {
        die("pipe %s: OpenSSL wrote a %d-byte datagram", p->name, inl);
    }
    memcpy(slot, in, (size_t)inl);
    dpipe_commit(p, (size_t)inl);
    return inl;
}

static int pipe_bio_read(BIO *b, char *out, int outl)
{
    dpipe *p = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (p == NULL || out == NULL || outl < 0) {
        return -1;
    }
    size_t len;
    const uint8_t *d = dpipe_front(p, &len);
    if (d == NULL) {
        BIO_set_retry_read(b);
        return -1;
    }
    /* Datagram semantics: a short read truncates, the rest of the datagram is gone. */
    size_t n = len < (size_t)outl ? len : (size_t)outl;
    memcpy(out, d, n);
    if (!p->peek) {
        dpipe_pop(p);
    }
    return (int)n;
}

static long pipe_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    dpipe *p = BIO_get_data(b);
    size_t len = 0;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return p != NULL && dpipe_front(p, &len) != NULL ? (long)len : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    case BIO_CTRL_DGRAM_SET_PEEK_MODE:
        if (p != NULL) {
            p->peek = num != 0;
        }
        return 1;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 0; /* our MTU is the UDP payload size, as in sdtls */
    default:
        /* Peer addresses, timeouts and MTU queries: not applicable to an in-memory pipe. */
        return 0;
    }
}

static int pipe_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int pipe_bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL); /* the pipe belongs to the benchmark, not to the BIO */
    return 1;
}

static void pipe_method_init(void)
{
    g_pipe_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench dgram pipe");
    CHECK_OSSL(g_pipe_method != NULL);
    CHECK_OSSL(BIO_meth_set_write(g_pipe_method, pipe_bio_write) == 1);
    CHECK_OSSL(BIO_meth_set_read(g_pipe_method, pipe_bio_read) == 1);
    CHECK_OSSL(BIO_meth_set_ctrl(g_pipe_method, pipe_bio_ctrl) == 1);
    CHECK_OSSL(BIO_meth_set_create(g_pipe_method, pipe_bio_create) == 1);
    CHECK_OSSL(BIO_meth_set_destroy(g_pipe_method, pipe_bio_destroy) == 1);
}

static BIO *pipe_bio_new(dpipe *p)
{
    BIO *b = BIO_new(g_pipe_method);
    CHECK_OSSL(b != NULL);
    BIO_set_data(b, p);
    return b;
}

/* Wire two SSL objects together: client writes c2s and reads s2c, server the other way. */
static void ossl_connect_pipes(SSL *c, SSL *s, dpipe *c2s, dpipe *s2c)
{
    BIO *bc2s = pipe_bio_new(c2s), *bs2c = pipe_bio_new(s2c);
    /* Each BIO is held by two SSL objects; SSL_set_bio takes one reference per BIO. */
    CHECK_OSSL(BIO_up_ref(bc2s) == 1);
    CHECK_OSSL(BIO_up_ref(bs2c) == 1);
    SSL_set_bio(c, bs2c, bc2s);
    SSL_set_bio(s, bc2s, bs2c);
}

/* ------------------------------------------------------------------------------------------
 * One certificate for both implementations
 * ---------------------------------------------------------------------------------------- */

typedef struct cert {
    char chain[8192], key[8192], fp[200];
    size_t chain_len, key_len;
    X509 *x509;
    EVP_PKEY *pkey;
} cert;

static void cert_make(cert *crt, sdtls_key_type type)
{
    sdtls_config *cfg = NULL;
    CHECK_SD(sdtls_config_new(&cfg, NULL));
    CHECK_SD(sdtls_config_generate_cert(cfg, type, "bench"));
    CHECK_SD(sdtls_config_get_cert_pem(cfg, crt->chain, sizeof(crt->chain), &crt->chain_len));
    CHECK_SD(sdtls_config_get_key_pem(cfg, crt->key, sizeof(crt->key), &crt->key_len));
    CHECK_SD(sdtls_config_get_fingerprint(cfg, "sha-256", crt->fp, sizeof(crt->fp)));
    sdtls_config_free(cfg);

    BIO *b = BIO_new_mem_buf(crt->chain, (int)crt->chain_len);
    CHECK_OSSL(b != NULL);
    crt->x509 = PEM_read_bio_X509(b, NULL, NULL, NULL);
    CHECK_OSSL(crt->x509 != NULL);
    BIO_free(b);
    b = BIO_new_mem_buf(crt->key, (int)crt->key_len);
    CHECK_OSSL(b != NULL);
    crt->pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    CHECK_OSSL(crt->pkey != NULL);
    BIO_free(b);
}

static void cert_free(cert *crt)
{
    X509_free(crt->x509);
    EVP_PKEY_free(crt->pkey);
}

/* ------------------------------------------------------------------------------------------
 * Shared pipes for handshakes
 * ---------------------------------------------------------------------------------------- */

static dpipe g_hs_c2s, g_hs_s2c;
static const uint8_t g_peer_addr[6] = {192, 0, 2, 1, 0x30, 0x39};

/* ------------------------------------------------------------------------------------------
 * sdtls endpoints
 * ---------------------------------------------------------------------------------------- */

typedef struct sd_env {
    sdtls_config *ccfg, *scfg;
    int cookies; /* server: screen ClientHellos with sdtls_server_screen() */
    const char *suite;
} sd_env;

static void sd_env_init(sd_env *e, const cert *crt, const char *suite, size_t mtu, int cookies,
                        sdtls_verify_mode verify)
{
    memset(e, 0, sizeof(*e));
    e->cookies = cookies;
    e->suite = suite;
    CHECK_SD(sdtls_config_new(&e->ccfg, NULL));
    CHECK_SD(sdtls_config_new(&e->scfg, NULL));

    CHECK_SD(
        sdtls_config_set_cert_pem(e->scfg, crt->chain, crt->chain_len, crt->key, crt->key_len));
    CHECK_SD(sdtls_config_set_verify(e->scfg, SDTLS_VERIFY_NONE)); /* no client certificate */
    CHECK_SD(sdtls_config_set_cookie(e->scfg, cookies, 30000));

    CHECK_SD(sdtls_config_set_verify(e->ccfg, verify));
    if (verify == SDTLS_VERIFY_FINGERPRINT) {
        CHECK_SD(sdtls_config_set_peer_fingerprint(e->ccfg, crt->fp));
    }
    sdtls_config *both[2] = {e->ccfg, e->scfg};
    for (int i = 0; i < 2; i++) {
        CHECK_SD(sdtls_config_set_ciphers(both[i], suite));
        CHECK_SD(sdtls_config_set_groups(both[i], BENCH_GROUPS_SDTLS));
        CHECK_SD(sdtls_config_set_mtu(both[i], mtu));
    }
}

static void sd_env_free(sd_env *e)
{
    sdtls_config_free(e->ccfg);
    sdtls_config_free(e->scfg);
}

static void sd_drain_events(sdtls_conn *c, int *done, const char *who)
{
    for (;;) {
        sdtls_event ev;
        CHECK_SD(sdtls_conn_next_event(c, &ev));
        switch (ev.type) {
        case SDTLS_EV_NONE:
            return;
        case SDTLS_EV_HANDSHAKE_DONE:
            *done = 1;
            break;
        case SDTLS_EV_ALERT:
            die("sdtls %s: peer sent alert level %u %s", who, ev.alert_level,
                sdtls_alert_name(ev.alert));
        case SDTLS_EV_CLOSED:
            die("sdtls %s: connection closed during the handshake", who);
        case SDTLS_EV_DATA:
            die("sdtls %s: unexpected application data during the handshake", who);
        default:
            die("sdtls %s: unknown event %d", who, (int)ev.type);
        }
    }
}

/* Move every datagram the endpoint has to send into the pipe; returns how many. */
static size_t sd_flush(sdtls_conn *c, dpipe *q, const char *who)
{
    for (size_t n = 0;; n++) {
        size_t len = 0;
        uint8_t *slot = dpipe_tail(q);
        int rc = sdtls_conn_send(c, slot, q->slot_cap, &len, NOW_MS);
        if (rc != 0) {
            die("sdtls %s: sdtls_conn_send returned %d (%s)", who, rc, sdtls_strerror(rc));
        }
        if (len == 0) {
            return n;
        }
        dpipe_commit(q, len);
    }
}

static void sd_recv(sdtls_conn *c, const uint8_t *d, size_t len, const char *who)
{
    int rc = sdtls_conn_recv(c, d, len, NOW_MS);
    if (rc != 0) {
        die("sdtls %s: sdtls_conn_recv of %zu bytes returned %d (%s)", who, len, rc,
            sdtls_strerror(rc));
    }
}

/* One full handshake. The connections are returned (pc/ps non-NULL) or freed. */
static void sd_handshake(const sd_env *e, dpipe *c2s, dpipe *s2c, sdtls_conn **pc, sdtls_conn **ps)
{
    sdtls_conn *c = NULL, *s = NULL;
    int cdone = 0, sdone = 0;
    dpipe_reset(c2s);
    dpipe_reset(s2c);
    CHECK_SD(sdtls_conn_new(e->ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c));
    if (!e->cookies) {
        CHECK_SD(sdtls_conn_new(e->scfg, SDTLS_ROLE_SERVER, g_peer_addr, sizeof(g_peer_addr), &s));
    }
    for (int round = 0; !(cdone && sdone); round++) {
        if (round == HS_MAX_ROUNDS) {
            die("sdtls handshake (%s, cookies %s) did not complete in %d rounds: client done %d, "
                "server done %d",
                e->suite, e->cookies ? "on" : "off", HS_MAX_ROUNDS, cdone, sdone);
        }
        size_t moved = sd_flush(c, c2s, "client");
        const uint8_t *d;
        size_t len;
        while ((d = dpipe_front(c2s, &len)) != NULL) {
            if (s == NULL) {
                /* The stateless front door: answer or admit without allocating. */
                sdtls_verdict v = SDTLS_VERDICT_IGNORE;
                size_t rlen = 0;
                uint8_t *reply = dpipe_tail(s2c);
                CHECK_SD(sdtls_server_screen(e->scfg, d, len, g_peer_addr, sizeof(g_peer_addr),
                                             NOW_MS, reply, s2c->slot_cap, &rlen, &v));
                if (v == SDTLS_VERDICT_REPLY) {
                    dpipe_commit(s2c, rlen);
                } else if (v == SDTLS_VERDICT_ACCEPT) {
                    CHECK_SD(sdtls_conn_new(e->scfg, SDTLS_ROLE_SERVER, g_peer_addr,
                                            sizeof(g_peer_addr), &s));
                    sd_recv(s, d, len, "server");
                } else {
                    die("sdtls_server_screen ignored a %zu-byte datagram from the client", len);
                }
            } else {
                sd_recv(s, d, len, "server");
            }
            dpipe_pop(c2s);
        }
        if (s != NULL) {
            sd_drain_events(s, &sdone, "server");
            moved += sd_flush(s, s2c, "server");
        }
        moved += s2c->n;
        while ((d = dpipe_front(s2c, &len)) != NULL) {
            sd_recv(c, d, len, "client");
            dpipe_pop(s2c);
        }
        sd_drain_events(c, &cdone, "client");
        if (moved == 0 && !(cdone && sdone)) {
            die("sdtls handshake (%s) stalled in round %d: client done %d, server done %d",
                e->suite, round, cdone, sdone);
        }
    }
    if (pc != NULL) {
        *pc = c;
    } else {
        sdtls_conn_free(c);
    }
    if (ps != NULL) {
        *ps = s;
    } else {
        sdtls_conn_free(s);
    }
}

/* Check once, outside the timed loops, that we measure what the label says. */
static void sd_check_negotiated(const sd_env *e, sdtls_conn *c, sdtls_conn *s)
{
    sdtls_conn *both[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        const char *who = i == 0 ? "client" : "server";
        if (!sdtls_conn_is_handshake_done(both[i])) {
            die("sdtls %s: handshake not done", who);
        }
        if (strcmp(sdtls_conn_version_name(both[i]), "DTLSv1.2") != 0 ||
            strcmp(sdtls_conn_cipher_name(both[i]), e->suite) != 0 ||
            strcmp(sdtls_conn_group_name(both[i]), "x25519") != 0) {
            die("sdtls %s negotiated %s %s %s, expected DTLSv1.2 %s x25519", who,
                sdtls_conn_version_name(both[i]), sdtls_conn_cipher_name(both[i]),
                sdtls_conn_group_name(both[i]), e->suite);
        }
        if (sdtls_conn_handshake_rtx(both[i]) != 0) {
            die("sdtls %s retransmitted during an in-memory handshake", who);
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * OpenSSL endpoints
 * ---------------------------------------------------------------------------------------- */

typedef struct os_env {
    SSL_CTX *cctx, *sctx;
    int cookies; /* server: DTLSv1_listen() with a stateless HMAC cookie */
    long mtu;
    const char *cipher; /* OpenSSL name */
} os_env;

static uint8_t g_cookie_secret[32];

/* The cookie binds the peer address, as sdtls's does (sdtls adds the ClientHello random and
 * a time stamp; OpenSSL's callback does not see those). HMAC-SHA256, truncated to 16 bytes. */
static int cookie_mac(uint8_t out[32])
{
    size_t out_len = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, g_cookie_secret, sizeof(g_cookie_secret),
                  g_peer_addr, sizeof(g_peer_addr), out, 32, &out_len) == NULL ||
        out_len != 32) {
        return 0;
    }
    return 1;
}

static int cookie_generate_cb(SSL *ssl, unsigned char *cookie, unsigned int *cookie_len)
{
    (void)ssl;
    uint8_t mac[32];
    if (!cookie_mac(mac)) {
        return 0;
    }
    memcpy(cookie, mac, 16);
    *cookie_len = 16;
    return 1;
}

static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie, unsigned int cookie_len)
{
    (void)ssl;
    uint8_t mac[32];
    return cookie_len == 16 && cookie_mac(mac) && CRYPTO_memcmp(mac, cookie, 16) == 0;
}

static void os_env_init(os_env *e, const cert *crt, const char *cipher, long mtu, int cookies)
{
    memset(e, 0, sizeof(*e));
    e->cookies = cookies;
    e->mtu = mtu;
    e->cipher = cipher;
    e->cctx = SSL_CTX_new(DTLS_client_method());
    e->sctx = SSL_CTX_new(DTLS_server_method());
    CHECK_OSSL(e->cctx != NULL && e->sctx != NULL);
    SSL_CTX *both[2] = {e->cctx, e->sctx};
    for (int i = 0; i < 2; i++) {
        SSL_CTX *x = both[i];
        CHECK_OSSL(SSL_CTX_set_min_proto_version(x, DTLS1_2_VERSION) == 1);
        CHECK_OSSL(SSL_CTX_set_max_proto_version(x, DTLS1_2_VERSION) == 1);
        CHECK_OSSL(SSL_CTX_set_cipher_list(x, cipher) == 1);
        CHECK_OSSL(SSL_CTX_set1_groups_list(x, BENCH_GROUPS_OSSL) == 1);
        /* Like sdtls: no session cache, no tickets; the MTU is set, not probed. */
        SSL_CTX_set_options(x, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
    }
    CHECK_OSSL(SSL_CTX_use_certificate(e->sctx, crt->x509) == 1);
    CHECK_OSSL(SSL_CTX_use_PrivateKey(e->sctx, crt->pkey) == 1);
    CHECK_OSSL(SSL_CTX_check_private_key(e->sctx) == 1);
    SSL_CTX_set_verify(e->cctx, SSL_VERIFY_NONE, NULL);
    if (cookies) {
        SSL_CTX_set_cookie_generate_cb(e->sctx, cookie_generate_cb);
        SSL_CTX_set_cookie_verify_cb(e->sctx, cookie_verify_cb);
    }
}

static void os_env_free(os_env *e)
{
    SSL_CTX_free(e->cctx);
    SSL_CTX_free(e->sctx);
}

/* Returns 1 when the handshake is complete, 0 when it waits for the peer. */
static int os_step(SSL *ssl, const char *who)
{
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
        return 1;
    }
    int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ) {
        return 0;
    }
    die("OpenSSL %s: SSL_do_handshake returned %d, SSL_get_error %d, state %s", who, r, err,
        SSL_state_string_long(ssl));
}

static void os_handshake(const os_env *e, dpipe *c2s, dpipe *s2c, BIO_ADDR *peer, SSL **pc,
                         SSL **ps)
{
    dpipe_reset(c2s);
    dpipe_reset(s2c);
    SSL *c = SSL_new(e->cctx), *s = SSL_new(e->sctx);
    CHECK_OSSL(c != NULL && s != NULL);
    ossl_connect_pipes(c, s, c2s, s2c);
    CHECK_OSSL(SSL_set_mtu(c, e->mtu) > 0);
    CHECK_OSSL(SSL_set_mtu(s, e->mtu) > 0);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (e->cookies) {
        /* ClientHello, HelloVerifyRequest, ClientHello with cookie: DTLSv1_listen keeps no
         * state until the cookie checks out, then leaves that ClientHello for the handshake. */
        int listened = 0;
        for (int round = 0; !listened; round++) {
            if (round == 4) {
                die("OpenSSL: DTLSv1_listen did not accept the cookie in 4 rounds");
            }
            if (os_step(c, "client")) {
                die("OpenSSL client: handshake done before the server listened");
            }
            ERR_clear_error();
            int r = DTLSv1_listen(s, peer);
            if (r < 0) {
                die("OpenSSL server: DTLSv1_listen returned %d", r);
            }
            listened = r > 0;
        }
    }
    int cdone = 0, sdone = 0;
    for (int round = 0; !(cdone && sdone); round++) {
        if (round == HS_MAX_ROUNDS) {
            die("OpenSSL handshake (%s) did not complete in %d rounds: client %s, server %s",
                e->cipher, HS_MAX_ROUNDS, SSL_state_string_long(c), SSL_state_string_long(s));
        }
        cdone = os_step(c, "client");
        sdone = os_step(s, "server");
    }
    /* The client finishes on the server's last flight, so nothing may be left over. */
    cdone = os_step(c, "client");
    if (!cdone || c2s->n != 0 || s2c->n != 0) {
        die("OpenSSL handshake left datagrams behind (c2s %zu, s2c %zu)", c2s->n, s2c->n);
    }
    if (pc != NULL) {
        *pc = c;
    } else {
        SSL_free(c);
    }
    if (ps != NULL) {
        *ps = s;
    } else {
        SSL_free(s);
    }
}

static void os_check_negotiated(const os_env *e, SSL *c, SSL *s)
{
    SSL *both[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        const char *who = i == 0 ? "client" : "server";
        const char *name = SSL_CIPHER_get_name(SSL_get_current_cipher(both[i]));
        if (SSL_version(both[i]) != DTLS1_2_VERSION || name == NULL ||
            strcmp(name, e->cipher) != 0) {
            die("OpenSSL %s negotiated %s %s, expected DTLSv1.2 %s", who, SSL_get_version(both[i]),
                name != NULL ? name : "(none)", e->cipher);
        }
        if (SSL_get_extms_support(both[i]) != 1) {
            die("OpenSSL %s: no extended master secret (sdtls requires it)", who);
        }
    }
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(c, &tmp) != 1 || EVP_PKEY_get_id(tmp) != EVP_PKEY_X25519) {
        die("OpenSSL: key exchange group is not X25519");
    }
    EVP_PKEY_free(tmp);
}

/* ------------------------------------------------------------------------------------------
 * Measurement: calibrate each implementation, then alternate rounds and keep the best
 *
 * Both implementations are measured in --rounds alternating rounds (sdtls, OpenSSL, sdtls,
 * ...), each round doing the same fixed number of units. Other load on the machine then hits
 * both alike, and the best round (least wall time, and separately least CPU time) estimates
 * the undisturbed cost.
 * ---------------------------------------------------------------------------------------- */

/* Run n units of work, adding each phase's elapsed time to ph[phase]. */
typedef void (*unit_fn)(void *ctx, uint64_t n, tstamp ph[2]);

typedef struct subject {
    unit_fn run;
    void *ctx;
    int phases;         /* 1: handshake; 2: record seal, record open */
    uint64_t per_round; /* units per round */
    tstamp best[2];     /* per phase: least wall time and least CPU time over the rounds */
} subject;

/* Warm up and size the rounds: about --seconds per phase in all, or `fixed` units. */
static void calibrate(subject *sj, uint64_t fixed)
{
    tstamp ph[2] = {{0, 0}, {0, 0}};
    uint64_t n = 0, warm_n = fixed != 0 ? (fixed + 9) / 10 : 0;
    double w0 = clock_s(CLOCK_MONOTONIC), el;
    do {
        sj->run(sj->ctx, 1, ph);
        n++;
        el = clock_s(CLOCK_MONOTONIC) - w0;
    } while (fixed != 0 ? n < warm_n : (el < g_warm_s || n < 2));
    uint64_t total = fixed != 0 ? fixed : ceil_u64(g_seconds * sj->phases * (double)n / el);
    sj->per_round = ceil_u64((double)total / (double)g_rounds);
    sj->per_round = sj->per_round < 1 ? 1 : sj->per_round;
}

static void measure(subject sj[2], uint64_t fixed)
{
    for (int impl = 0; impl < 2; impl++) {
        if (sj[impl].run != NULL) {
            calibrate(&sj[impl], fixed);
        }
    }
    for (unsigned r = 0; r < g_rounds; r++) {
        for (int impl = 0; impl < 2; impl++) {
            subject *x = &sj[impl];
            if (x->run == NULL) {
                continue;
            }
            tstamp ph[2] = {{0, 0}, {0, 0}};
            x->run(x->ctx, x->per_round, ph);
            for (int p = 0; p < x->phases; p++) {
                if (r == 0 || ph[p].wall < x->best[p].wall) {
                    x->best[p].wall = ph[p].wall;
                }
                if (r == 0 || ph[p].cpu < x->best[p].cpu) {
                    x->best[p].cpu = ph[p].cpu;
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Handshake benchmark
 * ---------------------------------------------------------------------------------------- */

typedef struct hs_case {
    const char *name;  /* machine name */
    const char *label; /* table label */
    const cert *crt;
    const char *suite;       /* sdtls / IANA name */
    const char *ossl_cipher; /* OpenSSL name, NULL: sdtls only */
    int cookies;
    sdtls_verify_mode verify;
} hs_case;

typedef struct hs_ctx {
    int impl;
    sd_env sd;
    os_env os;
    BIO_ADDR *peer;
} hs_ctx;

static void hs_run(void *ctx, uint64_t n, tstamp ph[2])
{
    hs_ctx *x = ctx;
    tstamp a = stamp();
    for (uint64_t i = 0; i < n; i++) {
        if (x->impl == IMPL_SDTLS) {
            sd_handshake(&x->sd, &g_hs_c2s, &g_hs_s2c, NULL, NULL);
        } else {
            os_handshake(&x->os, &g_hs_c2s, &g_hs_s2c, x->peer, NULL, NULL);
        }
    }
    acc_add(&ph[0], a, stamp());
}

static void bench_handshake(const hs_case *hc)
{
    if (!selected(hc->name)) {
        return;
    }
    hs_ctx x[2];
    subject sj[2];
    memset(x, 0, sizeof(x));
    memset(sj, 0, sizeof(sj));
    if (g_impl_on[IMPL_SDTLS]) {
        x[0].impl = IMPL_SDTLS;
        sd_env_init(&x[0].sd, hc->crt, hc->suite, 1200, hc->cookies, hc->verify);
        sdtls_conn *c, *s;
        sd_handshake(&x[0].sd, &g_hs_c2s, &g_hs_s2c, &c, &s);
        sd_check_negotiated(&x[0].sd, c, s);
        sdtls_conn_free(c);
        sdtls_conn_free(s);
        sj[0] = (subject){hs_run, &x[0], 1, 0, {{0, 0}, {0, 0}}};
    }
    if (g_impl_on[IMPL_OPENSSL] && hc->ossl_cipher != NULL) {
        x[1].impl = IMPL_OPENSSL;
        os_env_init(&x[1].os, hc->crt, hc->ossl_cipher, 1200, hc->cookies);
        x[1].peer = BIO_ADDR_new();
        CHECK_OSSL(x[1].peer != NULL);
        SSL *c, *s;
        os_handshake(&x[1].os, &g_hs_c2s, &g_hs_s2c, x[1].peer, &c, &s);
        os_check_negotiated(&x[1].os, c, s);
        SSL_free(c);
        SSL_free(s);
        sj[1] = (subject){hs_run, &x[1], 1, 0, {{0, 0}, {0, 0}}};
    }
    measure(sj, g_iters);
    for (int impl = 0; impl < 2; impl++) {
        if (sj[impl].run == NULL) {
            continue;
        }
        uint64_t n = sj[impl].per_round;
        tstamp b = sj[impl].best[0];
        result(hc->name, hc->label, impl, "hs/s", 1, (double)n / b.wall, n, b);
        result(hc->name, "  CPU per handshake (client+server)", impl, "us_cpu/hs", 0,
               b.cpu / (double)n * 1e6, n, b);
    }
    if (sj[0].run != NULL) {
        sd_env_free(&x[0].sd);
    }
    if (sj[1].run != NULL) {
        os_env_free(&x[1].os);
        BIO_ADDR_free(x[1].peer);
    }
}

/* ------------------------------------------------------------------------------------------
 * Cookie screening: what a spoofed ClientHello flood costs the server
 * ---------------------------------------------------------------------------------------- */

typedef struct screen_ctx {
    int impl;
    const uint8_t *ch; /* a real first ClientHello (no cookie), made by an sdtls client */
    size_t ch_len;
    sd_env sd;
    os_env os;
    SSL *listener;
    dpipe in, out;
    BIO_ADDR *peer;
} screen_ctx;

static void screen_run(void *ctx, uint64_t n, tstamp ph[2])
{
    screen_ctx *x = ctx;
    uint8_t reply[512];
    tstamp a = stamp();
    for (uint64_t i = 0; i < n; i++) {
        if (x->impl == IMPL_SDTLS) {
            size_t reply_len = 0;
            sdtls_verdict v;
            CHECK_SD(sdtls_server_screen(x->sd.scfg, x->ch, x->ch_len, g_peer_addr,
                                         sizeof(g_peer_addr), NOW_MS, reply, sizeof(reply),
                                         &reply_len, &v));
            if (v != SDTLS_VERDICT_REPLY || reply_len == 0) {
                die("sdtls_server_screen did not answer a cookie-less ClientHello");
            }
        } else {
            memcpy(dpipe_tail(&x->in), x->ch, x->ch_len);
            dpipe_commit(&x->in, x->ch_len);
            ERR_clear_error();
            if (DTLSv1_listen(x->listener, x->peer) != 0 || x->out.n != 1) {
                die("OpenSSL DTLSv1_listen did not answer a cookie-less ClientHello");
            }
            dpipe_reset(&x->in);
            dpipe_reset(&x->out);
        }
    }
    acc_add(&ph[0], a, stamp());
}

static void bench_screen(const cert *crt)
{
    if (!selected("screen_hvr")) {
        return;
    }
    /* The flood's datagram: an sdtls client's first ClientHello, the same bytes for both. */
    sd_env probe;
    sd_env_init(&probe, crt, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 1200, 1,
                SDTLS_VERIFY_NONE);
    sdtls_conn *c;
    static uint8_t ch[DGRAM_CAP];
    size_t ch_len = 0;
    CHECK_SD(sdtls_conn_new(probe.ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c));
    CHECK_SD(sdtls_conn_send(c, ch, sizeof(ch), &ch_len, NOW_MS));
    sdtls_conn_free(c);
    sd_env_free(&probe);

    screen_ctx x[2];
    subject sj[2];
    memset(x, 0, sizeof(x));
    memset(sj, 0, sizeof(sj));
    if (g_impl_on[IMPL_SDTLS]) {
        x[0].impl = IMPL_SDTLS;
        x[0].ch = ch;
        x[0].ch_len = ch_len;
        sd_env_init(&x[0].sd, crt, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 1200, 1,
                    SDTLS_VERIFY_NONE);
        sj[0] = (subject){screen_run, &x[0], 1, 0, {{0, 0}, {0, 0}}};
    }
    if (g_impl_on[IMPL_OPENSSL]) {
        x[1].impl = IMPL_OPENSSL;
        x[1].ch = ch;
        x[1].ch_len = ch_len;
        os_env_init(&x[1].os, crt, "ECDHE-ECDSA-AES128-GCM-SHA256", 1200, 1);
        dpipe_init(&x[1].in, "screen in", 4, DGRAM_CAP);
        dpipe_init(&x[1].out, "screen out", 4, DGRAM_CAP);
        /* One listening SSL object for the whole flood, as a server loop keeps one. */
        x[1].listener = SSL_new(x[1].os.sctx);
        x[1].peer = BIO_ADDR_new();
        CHECK_OSSL(x[1].listener != NULL && x[1].peer != NULL);
        BIO *rb = pipe_bio_new(&x[1].in), *wb = pipe_bio_new(&x[1].out);
        SSL_set_bio(x[1].listener, rb, wb);
        CHECK_OSSL(SSL_set_mtu(x[1].listener, 1200) > 0);
        SSL_set_accept_state(x[1].listener);
        sj[1] = (subject){screen_run, &x[1], 1, 0, {{0, 0}, {0, 0}}};
    }
    measure(sj, g_iters);
    for (int impl = 0; impl < 2; impl++) {
        if (sj[impl].run == NULL) {
            continue;
        }
        uint64_t n = sj[impl].per_round;
        tstamp b = sj[impl].best[0];
        result("screen_hvr", "cookie-less ClientHello -> HelloVerifyRequest", impl,
               "screens/s", 1, (double)n / b.wall, n, b);
    }
    if (sj[0].run != NULL) {
        sd_env_free(&x[0].sd);
    }
    if (sj[1].run != NULL) {
        SSL_free(x[1].listener);
        BIO_ADDR_free(x[1].peer);
        os_env_free(&x[1].os);
        dpipe_free(&x[1].in);
        dpipe_free(&x[1].out);
    }
}

/* ------------------------------------------------------------------------------------------
 * Record benchmark
 * ---------------------------------------------------------------------------------------- */

typedef struct aead_case {
    const char *tag;         /* machine tag */
    const char *label;       /* table label */
    const char *suite;       /* sdtls */
    const char *ossl_cipher; /* OpenSSL */
} aead_case;

typedef struct rec_ctx {
    int impl;
    size_t len, batch;
    uint8_t *payload, *rxbuf;
    dpipe q;   /* sealed records, client -> server */
    dpipe s2c; /* anything the server sends meanwhile (nothing is expected) */
    sdtls_conn *sc, *ss;
    SSL *oc, *os;
} rec_ctx;

static void rec_seal_batch(rec_ctx *r)
{
    for (size_t i = 0; i < r->batch; i++) {
        if (r->impl == IMPL_SDTLS) {
            size_t out_len = 0;
            uint8_t *slot = dpipe_tail(&r->q);
            int rc = sdtls_conn_write(r->sc, r->payload, r->len, slot, r->q.slot_cap, &out_len);
            if (rc != 0) {
                die("sdtls_conn_write(%zu bytes) returned %d (%s)", r->len, rc, sdtls_strerror(rc));
            }
            dpipe_commit(&r->q, out_len);
        } else {
            int n = SSL_write(r->oc, r->payload, (int)r->len);
            if (n != (int)r->len) {
                die("SSL_write(%zu bytes) returned %d, SSL_get_error %d", r->len, n,
                    SSL_get_error(r->oc, n));
            }
        }
    }
    if (r->q.n != r->batch) {
        die("%s: %zu datagrams for %zu records", impl_names[r->impl], r->q.n, r->batch);
    }
}

static void rec_open_batch(rec_ctx *r)
{
    for (size_t i = 0; i < r->batch; i++) {
        if (r->impl == IMPL_SDTLS) {
            size_t len = 0;
            const uint8_t *d = dpipe_front(&r->q, &len);
            if (d == NULL) {
                die("sdtls: sealed datagram %zu of the batch is missing", i);
            }
            int rc = sdtls_conn_recv(r->ss, d, len, NOW_MS);
            if (rc != 0) {
                die("sdtls_conn_recv(%zu bytes) returned %d (%s)", len, rc, sdtls_strerror(rc));
            }
            sdtls_event ev;
            CHECK_SD(sdtls_conn_next_event(r->ss, &ev));
            if (ev.type != SDTLS_EV_DATA || ev.len != r->len) {
                die("sdtls: record %zu of the batch did not open (event %d, len %zu)", i,
                    (int)ev.type, ev.len);
            }
            dpipe_pop(&r->q);
        } else {
            int n = SSL_read(r->os, r->rxbuf, DGRAM_CAP);
            if (n != (int)r->len) {
                die("SSL_read returned %d for a %zu-byte record, SSL_get_error %d", n, r->len,
                    SSL_get_error(r->os, n));
            }
        }
    }
    if (r->q.n != 0) {
        die("%s: %zu sealed datagrams left unread", impl_names[r->impl], r->q.n);
    }
}

/* One record through, compared byte for byte: proves the timed loops move real data. */
static void rec_verify(rec_ctx *r)
{
    size_t saved = r->batch;
    r->batch = 1;
    rec_seal_batch(r);
    const uint8_t *got;
    if (r->impl == IMPL_SDTLS) {
        size_t len = 0;
        const uint8_t *d = dpipe_front(&r->q, &len);
        if (d == NULL) {
            die("sdtls: verification record missing");
        }
        sd_recv(r->ss, d, len, "server");
        sdtls_event ev;
        CHECK_SD(sdtls_conn_next_event(r->ss, &ev));
        if (ev.type != SDTLS_EV_DATA || ev.len != r->len) {
            die("sdtls: verification record did not open");
        }
        got = ev.data;
        dpipe_pop(&r->q);
    } else {
        int n = SSL_read(r->os, r->rxbuf, DGRAM_CAP);
        if (n != (int)r->len) {
            die("OpenSSL: verification record did not open (SSL_read %d)", n);
        }
        got = r->rxbuf;
    }
    if (memcmp(got, r->payload, r->len) != 0) {
        die("%s: record payload corrupted in transit", impl_names[r->impl]);
    }
    r->batch = saved;
}

static void rec_run(void *ctx, uint64_t n, tstamp ph[2])
{
    rec_ctx *r = ctx;
    for (uint64_t i = 0; i < n; i++) {
        tstamp t0 = stamp();
        rec_seal_batch(r);
        tstamp t1 = stamp();
        rec_open_batch(r);
        tstamp t2 = stamp();
        acc_add(&ph[0], t0, t1);
        acc_add(&ph[1], t1, t2);
    }
}

/* The largest payload sdtls allows at MTU 16384 for this suite; both implementations use it. */
static size_t sd_max_payload(const cert *crt, const aead_case *ac)
{
    sd_env probe;
    sdtls_conn *c, *s;
    sd_env_init(&probe, crt, ac->suite, 16384, 0, SDTLS_VERIFY_NONE);
    sd_handshake(&probe, &g_hs_c2s, &g_hs_s2c, &c, &s);
    size_t len = sdtls_conn_max_data(c);
    if (len == 0 || len > 16384) {
        die("sdtls_conn_max_data at MTU 16384 returned %zu", len);
    }
    sdtls_conn_free(c);
    sdtls_conn_free(s);
    sd_env_free(&probe);
    return len;
}

static void bench_record(const cert *crt, const aead_case *ac, int big)
{
    char seal_name[64], open_name[64];
    snprintf(seal_name, sizeof(seal_name), "record_seal_%s_%s", ac->tag, big ? "16k" : "1200");
    snprintf(open_name, sizeof(open_name), "record_open_%s_%s", ac->tag, big ? "16k" : "1200");
    if (!selected(seal_name) && !selected(open_name)) {
        return;
    }
    size_t len = big ? sd_max_payload(crt, ac) : 1200;
    size_t batch = BATCH_BYTES / len;
    rec_ctx r[2];
    subject sj[2];
    sd_env sd;
    os_env os;
    memset(r, 0, sizeof(r));
    memset(sj, 0, sizeof(sj));
    for (int impl = 0; impl < 2; impl++) {
        if (!g_impl_on[impl]) {
            continue;
        }
        rec_ctx *x = &r[impl];
        x->impl = impl;
        x->len = len;
        x->batch = batch;
        x->payload = xmalloc(len);
        x->rxbuf = xmalloc(DGRAM_CAP);
        for (size_t i = 0; i < len; i++) {
            x->payload[i] = (uint8_t)(i * 131 + 7);
        }
        /* Slots sized to the record so a batch is contiguous memory, as a socket buffer is. */
        dpipe_init(&x->q, "records", batch + 1, (len + 256 + 63) / 64 * 64);
        dpipe_init(&x->s2c, "records s2c", HS_PIPE_SLOTS, DGRAM_CAP);
        if (impl == IMPL_SDTLS) {
            sd_env_init(&sd, crt, ac->suite, 16384, 0, SDTLS_VERIFY_NONE);
            sd_handshake(&sd, &g_hs_c2s, &g_hs_s2c, &x->sc, &x->ss);
            sd_check_negotiated(&sd, x->sc, x->ss);
        } else {
            os_env_init(&os, crt, ac->ossl_cipher, 16384, 0);
            os_handshake(&os, &g_hs_c2s, &g_hs_s2c, NULL, &x->oc, &x->os);
            os_check_negotiated(&os, x->oc, x->os);
            /* From here on records go through the batch pipe. */
            ossl_connect_pipes(x->oc, x->os, &x->q, &x->s2c);
        }
        rec_verify(x);
        sj[impl] = (subject){rec_run, x, 2, 0, {{0, 0}, {0, 0}}};
    }

    measure(sj, g_iters != 0 ? (g_iters + batch - 1) / batch : 0);

    for (int impl = 0; impl < 2; impl++) {
        if (sj[impl].run == NULL) {
            continue;
        }
        uint64_t records = sj[impl].per_round * batch;
        double mb = (double)records * (double)len / 1e6;
        char label[96];
        snprintf(label, sizeof(label), "record seal %s %zu B", ac->label, len);
        if (selected(seal_name)) {
            result(seal_name, label, impl, "MB/s", 1, mb / sj[impl].best[0].wall, records,
                   sj[impl].best[0]);
        }
        snprintf(label, sizeof(label), "record open %s %zu B", ac->label, len);
        if (selected(open_name)) {
            result(open_name, label, impl, "MB/s", 1, mb / sj[impl].best[1].wall, records,
                   sj[impl].best[1]);
        }
        rec_ctx *x = &r[impl];
        if (x->s2c.n != 0) {
            note("%s %s: the server sent %zu datagrams during the record benchmark",
                 impl_names[impl], seal_name, x->s2c.n);
        }
        if (impl == IMPL_SDTLS) {
            sdtls_conn_free(x->sc);
            sdtls_conn_free(x->ss);
            sd_env_free(&sd);
        } else {
            SSL_free(x->oc);
            SSL_free(x->os);
            os_env_free(&os);
        }
        dpipe_free(&x->q);
        dpipe_free(&x->s2c);
        free(x->payload);
        free(x->rxbuf);
    }
}

/* ------------------------------------------------------------------------------------------
 * main
 * ---------------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_sdtls [--seconds S] [--quick] [--rounds R] [--iters N]\n"
               "                   [--filter SUBSTR] [--impl sdtls|openssl]\n"
               "  --seconds S   measured time per implementation and measurement, after the\n"
               "                warm-up (default 1)\n"
               "  --quick       same as --seconds 0.2\n"
               "  --rounds R    split it into R rounds alternating sdtls and OpenSSL; the best\n"
               "                round is reported (default 5)\n"
               "  --iters N     fixed work instead of timed: N handshakes, or N records rounded\n"
               "                up to whole batches, in all rounds together (warm-up: a tenth)\n"
               "  --filter S    only benchmarks whose name contains S (e.g. handshake, "
               "record_open, chacha);\n"
               "                a trailing '$' anchors S at the end of the name\n"
               "  --impl I      only one implementation\n");
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--quick") == 0) {
            g_seconds = 0.2;
        } else if (strcmp(a, "--seconds") == 0 && v != NULL) {
            g_seconds = strtod(v, &end);
            if (end == v || *end != 0 || !(g_seconds > 0) || g_seconds > 3600) {
                die("bad --seconds %s", v);
            }
            i++;
        } else if (strcmp(a, "--iters") == 0 && v != NULL) {
            g_iters = strtoull(v, &end, 10);
            if (end == v || *end != 0 || g_iters == 0) {
                die("bad --iters %s", v);
            }
            i++;
        } else if (strcmp(a, "--rounds") == 0 && v != NULL) {
            unsigned long n = strtoul(v, &end, 10);
            if (end == v || *end != 0 || n == 0 || n > 100) {
                die("bad --rounds %s", v);
            }
            g_rounds = (unsigned)n;
            i++;
        } else if (strcmp(a, "--filter") == 0 && v != NULL) {
            g_filter = v;
            i++;
        } else if (strcmp(a, "--impl") == 0 && v != NULL) {
            g_impl_on[IMPL_SDTLS] = strcmp(v, "sdtls") == 0;
            g_impl_on[IMPL_OPENSSL] = strcmp(v, "openssl") == 0;
            if (!g_impl_on[0] && !g_impl_on[1]) {
                die("bad --impl %s", v);
            }
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            exit(2);
        }
    }
    g_warm_s = g_seconds / 4;
    g_warm_s = g_warm_s < 0.05 ? 0.05 : g_warm_s > 0.5 ? 0.5 : g_warm_s;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    CHECK_OSSL(OPENSSL_init_ssl(0, NULL) == 1);
    CHECK_OSSL(RAND_bytes(g_cookie_secret, sizeof(g_cookie_secret)) == 1);
    pipe_method_init();
    dpipe_init(&g_hs_c2s, "handshake c2s", HS_PIPE_SLOTS, DGRAM_CAP);
    dpipe_init(&g_hs_s2c, "handshake s2c", HS_PIPE_SLOTS, DGRAM_CAP);

    const char *bt = SDTLS_BENCH_BUILD_TYPE;
    printf("# %s\n# libssl: %s\n# build type: %s; %.2f s per measurement in %u alternating "
           "rounds, after %.2f s warm-up\n",
           sdtls_version(), OpenSSL_version(OPENSSL_VERSION), bt[0] != 0 ? bt : "(none)", g_seconds,
           g_rounds, g_warm_s);
    if (strcmp(bt, "Release") != 0 && strcmp(bt, "RelWithDebInfo") != 0) {
        printf("# WARNING: sdtls is not built with optimisation (use "
               "-DCMAKE_BUILD_TYPE=Release); libcrypto/libssl are.\n");
    }
    fflush(stdout);

    cert ec, rsa;
    memset(&rsa, 0, sizeof(rsa));
    cert_make(&ec, SDTLS_KEY_EC_P256);
    if (selected("handshake_rsa2048_x25519")) {
        cert_make(&rsa, SDTLS_KEY_RSA2048); /* RSA key generation takes a while: only if used */
    }

    const hs_case hs_cases[] = {
        {"handshake_ecdsa_p256_x25519", "handshake ECDSA-P256 x25519 AES-128-GCM", &ec,
         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 0,
         SDTLS_VERIFY_NONE},
        {"handshake_ecdsa_p256_x25519_cookie", "handshake ECDSA-P256 x25519, cookie exchange", &ec,
         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", 1,
         SDTLS_VERIFY_NONE},
        {"handshake_ecdsa_p256_x25519_fingerprint",
         "handshake ECDSA-P256 x25519, client pins fingerprint", &ec,
         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", NULL, 0, SDTLS_VERIFY_FINGERPRINT},
        {"handshake_rsa2048_x25519", "handshake RSA-2048 x25519 AES-128-GCM", &rsa,
         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", 0,
         SDTLS_VERIFY_NONE},
    };
    for (size_t i = 0; i < sizeof(hs_cases) / sizeof(hs_cases[0]); i++) {
        bench_handshake(&hs_cases[i]);
    }

    bench_screen(&ec);

    const aead_case aeads[] = {
        {"aes128gcm", "AES-128-GCM", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
         "ECDHE-ECDSA-AES128-GCM-SHA256"},
        {"aes256gcm", "AES-256-GCM", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
         "ECDHE-ECDSA-AES256-GCM-SHA384"},
        {"chacha20poly1305", "ChaCha20-Poly1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
         "ECDHE-ECDSA-CHACHA20-POLY1305"},
    };
    for (int big = 0; big < 2; big++) {
        for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++) {
            bench_record(&ec, &aeads[i], big);
        }
    }

    note("each value is the best of %u rounds alternating sdtls and OpenSSL (least wall "
         "time; CPU rows: least CPU time); iters/wall_s/cpu_s in the bench lines are per round",
         g_rounds);
    note("handshake: both endpoints in one thread; CPU time is client+server; connection "
         "objects created and freed each time; no session resumption, no tickets");
    note("cookie exchange: sdtls answers ClientHello 1 with sdtls_server_screen() and creates "
         "the server conn only on ACCEPT; OpenSSL uses DTLSv1_listen() (stateless) with an "
         "HMAC-SHA256 cookie callback");
    note("screen: the same ClientHello datagram (an sdtls client's first) answered with a "
         "HelloVerifyRequest by sdtls_server_screen() / by DTLSv1_listen() on one reused SSL "
         "object; no state kept by either");
    note("OpenSSL client uses SSL_VERIFY_NONE (it still runs X509_verify_cert and ignores the "
         "result); sdtls client uses SDTLS_VERIFY_NONE except in the fingerprint line");
    note("record: 1 MB = 10^6 bytes of application payload; seal = sdtls_conn_write / "
         "SSL_write, open = sdtls_conn_recv + next_event / SSL_read");
    note("record: OpenSSL's figures include one memcpy per record into/out of the pipe BIO "
         "(where a socket BIO would sendto/recvfrom); sdtls seals into and opens from the "
         "caller's buffer, so its caller pays that copy outside the library");
    print_table();

    cert_free(&ec);
    cert_free(&rsa);
    dpipe_free(&g_hs_c2s);
    dpipe_free(&g_hs_s2c);
    BIO_meth_free(g_pipe_method);
    return 0;
}
