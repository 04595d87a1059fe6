/*
 * Seed corpus generator for the fuzz targets.
 *
 *   gen_corpus OUT_DIR
 *
 * Runs real in-memory handshakes between two endpoints driven by exactly the fuzz driver of
 * fuzz_common.h (deterministic RNGs on both sides, OpenSSL's included, and a virtual clock per
 * endpoint), records what each side received in the conn fuzzers' script format, and checks
 * that every script replays to a completed handshake on a fresh endpoint, as the fuzzer will
 * run it. From the same traffic it cuts seeds for the other targets (handshake records,
 * ClientHello bodies, screened datagrams) and seals records with fuzz_record's fixed keys.
 * Output is byte-for-byte reproducible; the committed fuzz/corpus/ was made with it.
 *
 *   gen_corpus --check CORPUS_DIR
 *
 * replays the committed conn scripts and fails if one no longer completes its handshake (the
 * protocol changed since the seeds were made: regenerate them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "handshake/transport.h"
#include "record/record.h"

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void b_put(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL) {
            abort();
        }
        b->p = q;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->p + b->len, p, n);
    }
    b->len += n;
}

static void b_u8(bytes *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    b_put(b, &x, 1);
}

static void b_u16(bytes *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    b_put(b, x, 2);
}

static void b_free(bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- output files ---------------------------------------------------------------------------- */

static const char *out_dir;

static void write_seed(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("  %-14s %-28s %6zu bytes\n", target, name, n);
}

/* ---- two endpoints over an in-memory link ---------------------------------------------------- */

#define QUEUE 512
#define MAX_SENT 256

typedef struct sim sim;

typedef struct out_ctx {
    sim *s;
    int from;
} out_ctx;

struct sim {
    fz_ep ep[2]; /* 0 client, 1 server */
    out_ctx ctx[2];
    struct {
        int to;
        bytes d;
    } q[QUEUE];
    size_t qh, qn;
    bytes script[2];         /* what each side received, in the fuzzer's format */
    bytes sent[2][MAX_SENT]; /* every datagram each side sent */
    size_t n_sent[2];
};

static void on_out(void *user, const uint8_t *d, size_t len)
{
    out_ctx *c = user;
    sim *s = c->s;
    if (s->qn == QUEUE || s->n_sent[c->from] == MAX_SENT) {
        fprintf(stderr, "gen_corpus: queue full\n");
        exit(1);
    }
    size_t at = (s->qh + s->qn++) % QUEUE;
    s->q[at].to = 1 - c->from;
    memset(&s->q[at].d, 0, sizeof(bytes));
    b_put(&s->q[at].d, d, len);
    b_put(&s->sent[c->from][s->n_sent[c->from]++], d, len);
}

/* Run one handshake; drop_mask drops the n-th delivered datagram (bit n). Returns 1 when both
 * sides completed. */
static int sim_run(sim *s, uint8_t variant, uint64_t drop_mask)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < 2; i++) {
        s->ctx[i].s = s;
        s->ctx[i].from = i;
        b_u8(&s->script[i], variant);
    }
    if (fz_ep_init(&s->ep[1], SDTLS_ROLE_SERVER, variant, on_out, &s->ctx[1]) != 0 ||
        fz_ep_init(&s->ep[0], SDTLS_ROLE_CLIENT, variant, on_out, &s->ctx[0]) != 0) {
        fprintf(stderr, "gen_corpus: endpoint setup failed\n");
        exit(1);
    }
    unsigned delivered = 0;
    int closed = 0;
    for (int step = 0; step < 400; step++) {
        if (s->qn > 0) {
            int to = s->q[s->qh].to;
            bytes d = s->q[s->qh].d;
            s->qh = (s->qh + 1) % QUEUE;
            s->qn--;
            unsigned idx = delivered++;
            if (idx < 64 && ((drop_mask >> idx) & 1)) {
                b_free(&d);
                continue;
            }
            b_u16(&s->script[to], (unsigned)d.len);
            b_put(&s->script[to], d.p, d.len);
            fz_ep_datagram(&s->ep[to], d.p, d.len);
            b_free(&d);
            continue;
        }
        if (!closed && s->ep[0].done && s->ep[1].done) {
            /* Both done, data exchanged: the client closes, the server answers. */
            b_u16(&s->script[0], FZ_OP_CLOSE);
            fz_ep_close(&s->ep[0]);
            closed = 1;
            continue;
        }
        int best = -1;
        uint64_t best_wait = 0;
        for (int i = 0; i < 2; i++) {
            uint64_t dl = sdtls_conn_deadline(s->ep[i].conn);
            if (dl == SDTLS_NO_DEADLINE) {
                continue;
            }
            uint64_t wait = dl > s->ep[i].now ? dl - s->ep[i].now : 0;
            if (best < 0 || wait <= best_wait) { /* ties: the server first */
                best = i;
                best_wait = wait;
            }
        }
        if (best < 0) {
            break;
        }
        b_u16(&s->script[best], FZ_OP_TIMER);
        fz_ep_timer(&s->ep[best]);
    }
    int ok = s->ep[0].done && s->ep[1].done && !s->ep[0].failed && !s->ep[1].failed &&
             s->ep[0].data_sum != 0 && s->ep[1].data_sum != 0;
    if (!ok) {
        for (int i = 0; i < 2; i++) {
            fprintf(stderr, "gen_corpus: %s done %d failed %d data %llu closed %d\n",
                    i ? "server" : "client", s->ep[i].done, s->ep[i].failed,
                    (unsigned long long)s->ep[i].data_sum, s->ep[i].closed);
        }
    }
    fz_ep_free(&s->ep[0]);
    fz_ep_free(&s->ep[1]);
    return ok;
}

static void sim_free(sim *s)
{
    for (int i = 0; i < 2; i++) {
        b_free(&s->script[i]);
        for (size_t k = 0; k < s->n_sent[i]; k++) {
            b_free(&s->sent[i][k]);
        }
    }
    while (s->qn > 0) {
        b_free(&s->q[s->qh].d);
        s->qh = (s->qh + 1) % QUEUE;
        s->qn--;
    }
}

/* Replay a recorded script on a fresh endpoint, as the fuzzer does: it must complete. */
static void check_replay(sdtls_role role, const bytes *script, const char *name)
{
    fz_ep ep;
    if (fz_ep_init(&ep, role, script->p[0], NULL, NULL) != 0) {
        fprintf(stderr, "gen_corpus: replay setup failed\n");
        exit(1);
    }
    fz_run_script(&ep, script->p + 1, script->len - 1);
    int ok = ep.done && !ep.failed && ep.data_sum != 0;
    fz_ep_free(&ep);
    if (!ok) {
        fprintf(stderr, "gen_corpus: %s script %s does not replay to a handshake\n",
                role == SDTLS_ROLE_SERVER ? "server" : "client", name);
        exit(1);
    }
}

/* ---- cutting seeds for the parser targets ---------------------------------------------------- */

/* Plaintext handshake records (epoch 0) of datagrams, in fuzz_handshake_msg's format. */
static void seed_handshake_records(const bytes *dgrams, size_t n, uint8_t mode, const char *name)
{
    bytes out = {0};
    b_u8(&out, mode);
    for (size_t i = 0; i < n; i++) {
        sdtls_rd r = sdtls_rd_init(dgrams[i].p, dgrams[i].len);
        sdtls__rec rec;
        while (sdtls__rec_next(&r, &rec) == 0) {
            if (rec.type == SDTLS_CT_HANDSHAKE && rec.epoch == 0) {
                b_u16(&out, (unsigned)rec.len);
                b_put(&out, rec.payload, rec.len);
            }
        }
    }
    write_seed("handshake_msg", name, out.p, out.len);
    b_free(&out);
}

/* Whole ClientHello bodies sent by the client. */
static void seed_client_hellos(const bytes *dgrams, size_t n, const char *prefix)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        sdtls_rd r = sdtls_rd_init(dgrams[i].p, dgrams[i].len);
        sdtls__rec rec;
        while (sdtls__rec_next(&r, &rec) == 0) {
            if (rec.type != SDTLS_CT_HANDSHAKE || rec.epoch != 0) {
                continue;
            }
            sdtls_rd b = sdtls_rd_init(rec.payload, rec.len);
            sdtls__hs_hdr h;
            const uint8_t *frag;
            if (sdtls__hs_hdr_parse(&b, &h, &frag) == 0 && h.type == SDTLS_HS_CLIENT_HELLO &&
                h.frag_off == 0 && h.frag_len == h.length) {
                char name[64];
                snprintf(name, sizeof(name), "%s_%d", prefix, k++);
                write_seed("client_hello", name, frag, h.frag_len);
                if (k == 1) {
                    /* The same datagram at the screen: no cookie yet, so REPLY. */
                    bytes sc = {0};
                    b_u8(&sc, 2 << 1); /* the client's 6-byte address, cookies on */
                    b_put(&sc, dgrams[i].p, dgrams[i].len);
                    snprintf(name, sizeof(name), "%s_hello", prefix);
                    write_seed("server_screen", name, sc.p, sc.len);
                    b_free(&sc);
                } else if (k == 2) {
                    /* With the server's cookie: ACCEPT. */
                    bytes sc = {0};
                    b_u8(&sc, 2 << 1);
                    b_put(&sc, dgrams[i].p, dgrams[i].len);
                    snprintf(name, sizeof(name), "%s_cookie", prefix);
                    write_seed("server_screen", name, sc.p, sc.len);
                    b_free(&sc);
                }
            }
        }
    }
}

static void seed_records(void)
{
    static const char *names[5] = {"aes128gcm", "aes256gcm", "chacha20", "aes128ccm", "aes128ccm8"};
    static const sdtls_aead_id ids[5] = {SDTLS_AEAD_AES_128_GCM, SDTLS_AEAD_AES_256_GCM,
                                         SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_AEAD_AES_128_CCM,
                                         SDTLS_AEAD_AES_128_CCM_8};
    uint8_t key[32], iv[12];
    fz_record_key(key, iv);
    for (int k = 0; k < 5; k++) {
        sdtls__cipher wr0, wr1;
        memset(&wr0, 0, sizeof(wr0));
        memset(&wr1, 0, sizeof(wr1));
        sdtls__cipher_null(&wr0, 0);
        if (sdtls__cipher_init(&wr1, 1, ids[k], key, iv, 1) != 0) {
            abort();
        }
        uint8_t buf[2048], pt[300];
        for (size_t i = 0; i < sizeof(pt); i++) {
            pt[i] = (uint8_t)(i * 5 + k);
        }
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        buf[0] = 0;
        /* epoch 0 handshake + CCS, then protected handshake, data, alert, a later sequence. */
        int bad = 0;
        bad |= sdtls__rec_seal(&wr0, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS10, pt, 40, &w);
        bad |= sdtls__rec_seal(&wr0, SDTLS_CT_CHANGE_CIPHER_SPEC, SDTLS_VERSION_DTLS12,
                               (const uint8_t *)"\x01", 1, &w);
        bad |= sdtls__rec_seal(&wr1, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, pt, 24, &w);
        bad |= sdtls__rec_seal(&wr1, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt, 300, &w);
        bad |= sdtls__rec_seal(&wr1, SDTLS_CT_ALERT, SDTLS_VERSION_DTLS12,
                               (const uint8_t *)"\x01\x00", 2, &w);
        wr1.next_seq = 1000;
        bad |= sdtls__rec_seal(&wr1, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt, 0, &w);
        if (bad != 0) {
            abort();
        }
        bytes out = {0};
        b_u8(&out, (unsigned)k);
        b_put(&out, buf, w.len);
        write_seed("record", names[k], out.p, out.len);
        b_free(&out);
        sdtls__cipher_clear(&wr0);
        sdtls__cipher_clear(&wr1);
    }
}

/* ---- scenarios ----------------------------------------------------------------------------------
 */

typedef struct scenario {
    const char *name;
    uint8_t variant;
    uint64_t drop_mask;
} scenario;

static const scenario scenarios[] = {
    {"plain", 0, 0},
    {"mutual_alpn_sni", FZ_V_CLIENT_AUTH | FZ_V_ALPN | FZ_V_SNI, 0},
    {"mtu300_aes256", FZ_V_MTU_300 | (1 << FZ_V_SUITE_SHIFT), 0},
    {"nocookie_chacha_p256", FZ_V_NO_COOKIE | (2 << FZ_V_SUITE_SHIFT) | FZ_V_P256, 0},
    /* The client's second ClientHello and its final flight are lost: both timers fire. */
    {"lossy", 0, (1u << 2) | (1u << 5)},
};

/* --check DIR: every committed conn script still replays to a completed handshake. */
static int check_dir(const char *dir)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        for (int role = 0; role < 2; role++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s/%s", dir, role ? "conn_server" : "conn_client",
                     scenarios[i].name);
            FILE *f = fopen(path, "rb");
            if (f == NULL) {
                perror(path);
                bad = 1;
                continue;
            }
            bytes b = {0};
            uint8_t chunk[4096];
            size_t n;
            while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                b_put(&b, chunk, n);
            }
            fclose(f);
            fz_ep ep;
            int ok = b.len > 0 && fz_ep_init(&ep, role ? SDTLS_ROLE_SERVER : SDTLS_ROLE_CLIENT,
                                             b.p[0], NULL, NULL) == 0;
            if (ok) {
                fz_run_script(&ep, b.p + 1, b.len - 1);
                ok = ep.done && !ep.failed && ep.data_sum != 0;
            }
            fz_ep_free(&ep);
            b_free(&b);
            printf("  %-40s %s\n", path, ok ? "replays" : "STALE");
            bad |= !ok;
        }
    }
    if (bad) {
        fprintf(stderr, "gen_corpus: seeds no longer reach a completed handshake (the protocol "
                        "changed): regenerate with 'gen_corpus fuzz/corpus'\n");
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        return check_dir(argv[2]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR | --check CORPUS_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        perror(out_dir);
        return 1;
    }
    sim *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const scenario *sc = &scenarios[i];
        if (!sim_run(s, sc->variant, sc->drop_mask)) {
            fprintf(stderr, "gen_corpus: scenario %s did not complete\n", sc->name);
            return 1;
        }
        /* Same run twice, same bytes: the corpus is reproducible. */
        bytes first[2] = {{0}, {0}};
        for (int k = 0; k < 2; k++) {
            b_put(&first[k], s->script[k].p, s->script[k].len);
        }
        sim_free(s);
        if (!sim_run(s, sc->variant, sc->drop_mask)) {
            return 1;
        }
        for (int k = 0; k < 2; k++) {
            if (first[k].len != s->script[k].len ||
                memcmp(first[k].p, s->script[k].p, first[k].len) != 0) {
                fprintf(stderr, "gen_corpus: scenario %s is not deterministic\n", sc->name);
                return 1;
            }
            b_free(&first[k]);
        }
        check_replay(SDTLS_ROLE_SERVER, &s->script[1], sc->name);
        check_replay(SDTLS_ROLE_CLIENT, &s->script[0], sc->name);
        write_seed("conn_server", sc->name, s->script[1].p, s->script[1].len);
        write_seed("conn_client", sc->name, s->script[0].p, s->script[0].len);
        if (i < 4) {
            char name[64];
            snprintf(name, sizeof(name), "server_flight_%s", sc->name);
            seed_handshake_records(s->sent[1], s->n_sent[1], 1, name);
            snprintf(name, sizeof(name), "client_flights_%s", sc->name);
            seed_handshake_records(s->sent[0], s->n_sent[0], 0, name);
            seed_client_hellos(s->sent[0], s->n_sent[0], sc->name);
        }
        sim_free(s);
    }
    seed_records();
    free(s);
    return 0;
}
