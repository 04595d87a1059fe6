/*
 * An established session under fire. Two endpoints complete a PSK handshake in memory (fixed
 * RNGs, so every run starts from the same keys); then fuzzer bytes become records that the
 * client seals with its real epoch-1 keys. The server's post-handshake paths therefore see
 * authenticated input that no outside fuzzer could forge: application data, alerts,
 * HeartbeatRequest/Response (RFC 6520) of any length field, handshake messages after the
 * handshake (renegotiation), ChangeCipherSpec, unknown content types, and RFC 9146 inner
 * plaintexts with any real type and padding, all zeros included.
 *
 * Input: one variant byte, then repeated { u8 op; u16 n (big endian); n bytes } (n is cut to
 * what the input holds):
 *   op 0..253: seal the bytes as one record of content type `op`. With connection IDs the
 *     type goes into the inner plaintext after the bytes; op 0 then leaves the bytes to name
 *     the real type and the padding themselves (the trailing zero is padding).
 *   op 0xfe: deliver the bytes to the server raw, as one datagram (headers, CIDs and
 *     ciphertexts from the outside: authentication must drop them).
 *   op 0xff: timer (the clock moves to the server's deadline, or by one second).
 * Variant bits: 0x01 connection IDs on both sides (client 4 bytes, server 6); 0x02 heartbeat
 * (the server answers requests); 0x04 TLS_PSK_WITH_AES_128_GCM_SHA256 instead of
 * TLS_PSK_WITH_AES_128_CCM_8.
 * After each step the server's events are drained and its datagrams given to the client
 * (heartbeat responses, alerts, close_notify), whose events are drained in turn.
 *
 * Oracles beyond the sanitizers: application data reaches the server only from a record the
 * client sealed as application data (content type 23, or op 0 with CIDs where the bytes
 * choose), and then it is exactly those bytes; the server never sends a datagram larger than
 * its MTU; everything is freed every run (LeakSanitizer).
 */
#include "fuzz_common.h"

#include "conn/conn.h"

#define EST_OP_RAW 0xfe
#define EST_OP_TIMER 0xff
#define EST_MTU 1200

typedef struct est {
    sdtls_config *ccfg, *scfg;
    sdtls_conn *c, *s;
    uint64_t now, crng, srng, ossl;
    const uint8_t *expect; /* the bytes a DATA event on the server may carry, or NULL */
    size_t expect_len;
    int any_data; /* op 0 with CIDs: the inner plaintext chooses the type */
} est;

static sdtls_config *config(uint8_t variant, int server, uint64_t *rng)
{
    static const uint8_t key[16] = {0x50, 0x53, 0x4b, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    sdtls_config *cfg = NULL;
    if (sdtls_config_new(&cfg, NULL) != 0) {
        return NULL;
    }
    int bad = sdtls_config_set_rng(cfg, fz_rng, rng);
    bad |= sdtls_config_set_psk(cfg, (const uint8_t *)"fuzz-node", 9, key, sizeof(key));
    bad |= sdtls_config_set_ciphers(cfg, (variant & 0x04) ? "TLS_PSK_WITH_AES_128_GCM_SHA256"
                                                          : "TLS_PSK_WITH_AES_128_CCM_8");
    bad |= sdtls_config_set_mtu(cfg, EST_MTU);
    if (variant & 0x01) {
        bad |= sdtls_config_set_cid(cfg, server ? 6 : 4);
    }
    if (variant & 0x02) {
        bad |= sdtls_config_set_heartbeat(cfg, server ? 1 : 2);
    }
    if (getenv("SDTLS_FUZZ_LOG") != NULL) {
        bad |= sdtls_config_set_log(cfg, SDTLS_LOG_DEBUG, fz_log, server ? "server" : "client");
    }
    if (bad != 0) {
        sdtls_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Events of one endpoint; on the server, application data must be what the oracle allows. */
static void drain(est *e, sdtls_conn *conn)
{
    sdtls_event ev;
    for (int i = 0; i < 64; i++) {
        if (sdtls_conn_next_event(conn, &ev) != 0 || ev.type == SDTLS_EV_NONE) {
            return;
        }
        if (ev.type != SDTLS_EV_DATA || conn != e->s || e->any_data) {
            continue;
        }
        if (e->expect == NULL || ev.len != e->expect_len ||
            (ev.len != 0 && memcmp(ev.data, e->expect, ev.len) != 0)) {
            abort(); /* application data that the client did not seal as such */
        }
        e->expect = NULL; /* one record, one event */
    }
}

/* Datagrams `from` has to send, delivered to `to` (NULL: discarded). */
static void pump(est *e, sdtls_conn *from, sdtls_conn *to)
{
    uint8_t buf[16384 + 512];
    for (int i = 0; i < 32; i++) {
        size_t len = 0;
        if (sdtls_conn_send(from, buf, sizeof(buf), &len, e->now) != 0 || len == 0) {
            return;
        }
        if (from == e->s && len > EST_MTU) {
            abort(); /* the server's datagrams respect its MTU */
        }
        if (to != NULL) {
            (void)sdtls_conn_recv(to, buf, len, e->now);
        }
    }
}

static int handshake(est *e)
{
    static const uint8_t addr[] = {10, 0, 0, 1, 0x16, 0x34};
    if (sdtls_conn_new(e->ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &e->c) != 0 ||
        sdtls_conn_new(e->scfg, SDTLS_ROLE_SERVER, addr, sizeof(addr), &e->s) != 0) {
        return -1;
    }
    for (int i = 0; i < 16; i++) {
        e->now += 5;
        pump(e, e->c, e->s);
        pump(e, e->s, e->c);
        if (sdtls_conn_is_handshake_done(e->c) && sdtls_conn_is_handshake_done(e->s)) {
            drain(e, e->c);
            drain(e, e->s);
            return 0;
        }
    }
    return -1;
}

static void step(est *e, uint8_t op, const uint8_t *bytes, size_t n)
{
    e->now += 10;
    e->expect = NULL;
    e->any_data = 0;
    if (op == EST_OP_TIMER) {
        uint64_t d = sdtls_conn_deadline(e->s);
        e->now = d != SDTLS_NO_DEADLINE && d > e->now ? d : e->now + 1000;
        (void)sdtls_conn_on_timeout(e->s, e->now);
    } else if (op == EST_OP_RAW) {
        (void)sdtls_conn_recv(e->s, bytes, n, e->now);
    } else {
        /* The client's own epoch-1 write state seals whatever the fuzzer chose. */
        static uint8_t dgram[16384 + 512];
        sdtls_wr w = sdtls_wr_init(dgram, sizeof(dgram));
        if (!e->c->established || n > SDTLS_MAX_PLAINTEXT ||
            sdtls__rec_seal(&e->c->wr1, op, SDTLS_VERSION_DTLS12, bytes, n, &w) != 0) {
            return;
        }
        e->expect = op == 23 ? bytes : NULL;
        e->expect_len = n;
        e->any_data = op == 0 && e->c->wr1.use_cid;
        (void)sdtls_conn_recv(e->s, dgram, w.len, e->now);
    }
    drain(e, e->s);
    pump(e, e->s, e->c);
    drain(e, e->c);
    pump(e, e->c, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    est e;
    memset(&e, 0, sizeof(e));
    e.now = FZ_T0_MS;
    e.crng = 0x0123456789abcdefull;
    e.srng = 0x0fedcba987654321ull;
    e.ossl = 0x3333333333333333ull;
    fz_rand_install();
    fz_ossl_cur = &e.ossl;
    uint8_t variant = data[0];
    e.ccfg = config(variant, 0, &e.crng);
    e.scfg = config(variant, 1, &e.srng);
    if (e.ccfg == NULL || e.scfg == NULL || handshake(&e) != 0) {
        abort(); /* the fixed handshake must always complete */
    }
    size_t off = 1;
    for (int steps = 0; off + 3 <= size && steps < FZ_MAX_STEPS; steps++) {
        uint8_t op = data[off];
        size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (n > size - off) {
            n = size - off;
        }
        step(&e, op, data + off, n);
        off += n;
    }
    if (getenv("SDTLS_FUZZ_LOG") != NULL) {
        sdtls_stats st;
        sdtls_conn_stats(e.s, &st);
        fprintf(stderr,
                "  server: %llu records in, %llu out; dropped: mac %llu, replay %llu, epoch %llu, "
                "malformed %llu; %llu app bytes in\n",
                (unsigned long long)st.records_rx, (unsigned long long)st.records_tx,
                (unsigned long long)st.drop_bad_mac, (unsigned long long)st.drop_replay,
                (unsigned long long)st.drop_bad_epoch, (unsigned long long)st.drop_malformed,
                (unsigned long long)st.app_bytes_rx);
    }
    sdtls_conn_free(e.c);
    sdtls_conn_free(e.s);
    sdtls_config_free(e.ccfg);
    sdtls_config_free(e.scfg);
    fz_ossl_cur = NULL;
    return 0;
}
