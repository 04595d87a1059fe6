/*
 * The stateless front door, sdtls_server_screen(), on arbitrary datagrams.
 *
 * Input: one flags byte, then the datagram.
 *   bit 0:    cookies off
 *   bits 1-3: peer address length (0, 1, 4, 6, 16, 28, 128 bytes of a fixed pattern; the
 *             value 2 (6 bytes) is the address gen_corpus's client uses)
 *   bits 4-5: reply buffer capacity: 1500, exactly 48, 47, none (NULL)
 * The config uses the same deterministic RNG seed as fuzz_conn_server's, so its cookie key
 * matches the cookies in the seed ClientHellos, and a fixed clock.
 *
 * Oracles beyond the sanitizers: the reply is never larger than the datagram and fits its
 * buffer; REPLY comes with a well-formed HelloVerifyRequest whose cookie verifies for this
 * ClientHello; ACCEPT with cookies on means the ClientHello's cookie verifies; IGNORE and ACCEPT
 * write no reply; screening is deterministic; nothing is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "conn/config.h"
#include "fuzz_common.h"
#include "handshake/cookie.h"
#include "handshake/dtls12/dtls12.h"

static size_t live_allocs;

static void *count_alloc(void *user, size_t size)
{
    (void)user;
    live_allocs++;
    return malloc(size);
}

static void count_free(void *user, void *p, size_t size)
{
    (void)user;
    (void)size;
    if (p != NULL) {
        live_allocs--;
        free(p);
    }
}

/* Parse the ClientHello prefix the way the screen does; 0 if it is one. */
static int prefix(const uint8_t *d, size_t len, sdtls__client_hello *ch, sdtls__rec *rec,
                  sdtls__hs_hdr *h)
{
    sdtls_rd r = sdtls_rd_init(d, len);
    const uint8_t *frag;
    if (sdtls__rec_next(&r, rec) != 0) {
        return -1;
    }
    sdtls_rd b = sdtls_rd_init(rec->payload, rec->len);
    if (sdtls__hs_hdr_parse(&b, h, &frag) != 0) {
        return -1;
    }
    sdtls_rd body = sdtls_rd_init(frag, h->frag_len);
    return sdtls__client_hello_parse_prefix(&body, ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static const size_t addr_lens[8] = {0, 1, 6, 4, 16, 28, 128, 6};
    static const size_t caps[4] = {1500, 48, 47, 0};
    uint8_t flags = data[0];
    const uint8_t *d = data + 1;
    size_t len = size - 1;
    uint8_t addr[128];
    size_t addr_len = addr_lens[(flags >> 1) & 7];
    memset(addr, 0, sizeof(addr));
    memcpy(addr, fz_client_addr, sizeof(fz_client_addr));
    size_t cap = caps[(flags >> 4) & 3];

    fz_rand_install();
    uint64_t ossl = 0x2222222222222222ull, rng = 0x0fedcba987654321ull;
    fz_ossl_cur = &ossl;
    sdtls_allocator mem = {count_alloc, count_free, NULL};
    sdtls_config *cfg;
    if (sdtls_config_new(&cfg, &mem) != 0 || sdtls_config_set_rng(cfg, fz_rng, &rng) != 0) {
        abort();
    }
    if (flags & 1) {
        (void)sdtls_config_set_cookie(cfg, 0, 0);
    }
    size_t allocs = live_allocs;
    uint8_t *reply = cap > 0 ? malloc(cap) : NULL;
    size_t reply_len = 0;
    sdtls_verdict v;
    int rc = sdtls_server_screen(cfg, d, len, addr, addr_len, FZ_T0_MS, reply, cap, &reply_len, &v);
    if (live_allocs != allocs) {
        abort();
    }
    if (rc == SDTLS_ERR_BUF_SMALL) {
        if (cap >= 48 && reply != NULL) {
            abort();
        }
    } else if (rc != 0) {
        abort();
    } else {
        if (reply_len > len || reply_len > cap) {
            abort(); /* amplification or overflow */
        }
        sdtls__client_hello ch;
        sdtls__rec rec;
        sdtls__hs_hdr h;
        memset(&ch, 0, sizeof(ch));
        memset(&rec, 0, sizeof(rec));
        memset(&h, 0, sizeof(h));
        int is_ch = prefix(d, len, &ch, &rec, &h) == 0;
        sdtls__cookie_input in = {addr, addr_len, ch.version, ch.random, ch.sid, ch.sid_len};
        switch (v) {
        case SDTLS_VERDICT_IGNORE:
            if (reply_len != 0) {
                abort();
            }
            break;
        case SDTLS_VERDICT_ACCEPT:
            if (reply_len != 0 || !is_ch || h.type != SDTLS_HS_CLIENT_HELLO || h.frag_off != 0 ||
                rec.epoch != 0) {
                abort();
            }
            if (!(flags & 1) && !sdtls__cookie_check(cfg->cookie_key, cfg->cookie_lifetime_ms, &in,
                                                     FZ_T0_MS, ch.cookie, ch.cookie_len)) {
                abort();
            }
            break;
        case SDTLS_VERDICT_REPLY: {
            if (!is_ch || (flags & 1)) {
                abort();
            }
            sdtls_rd r = sdtls_rd_init(reply, reply_len);
            sdtls__rec rr;
            sdtls__hs_hdr hh;
            const uint8_t *frag, *cookie;
            uint8_t cookie_len;
            if (sdtls__rec_next(&r, &rr) != 0 || sdtls_rd_left(&r) != 0 ||
                rr.type != SDTLS_CT_HANDSHAKE || rr.epoch != 0 || rr.seq != rec.seq) {
                abort();
            }
            sdtls_rd b = sdtls_rd_init(rr.payload, rr.len);
            if (sdtls__hs_hdr_parse(&b, &hh, &frag) != 0 || sdtls_rd_left(&b) != 0 ||
                hh.type != SDTLS_HS_HELLO_VERIFY_REQUEST || hh.seq != h.seq ||
                hh.frag_len != hh.length ||
                sdtls__hvr_parse(frag, hh.frag_len, &cookie, &cookie_len) != 0 ||
                !sdtls__cookie_check(cfg->cookie_key, cfg->cookie_lifetime_ms, &in, FZ_T0_MS,
                                     cookie, cookie_len)) {
                abort();
            }
            break;
        }
        default:
            abort();
        }
        /* Deterministic: the same datagram gets the same answer. */
        uint8_t again[1500];
        size_t again_len = 0;
        sdtls_verdict v2;
        if (sdtls_server_screen(cfg, d, len, addr, addr_len, FZ_T0_MS, again, sizeof(again),
                                &again_len, &v2) != 0 ||
            v2 != v || again_len != reply_len ||
            (reply_len > 0 && memcmp(again, reply, reply_len) != 0)) {
            abort();
        }
    }
    free(reply);
    sdtls_config_free(cfg);
    fz_ossl_cur = NULL;
    if (live_allocs != 0) {
        abort();
    }
    return 0;
}
