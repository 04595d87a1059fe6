/*
 * Handshake transport: sdtls__hs_hdr_parse over handshake record plaintexts and reassembly of
 * the fragments (sdtls__reasm_add / peek / pop), the way sdtls__hs12_on_record uses them.
 *
 * Input: one mode byte, then records, each a u16 big-endian length and that many bytes of
 * handshake record plaintext (fragments back to back).
 *   mode bit 0:    client (message_seq known from 0) or server (learned from a ClientHello)
 *   mode bits 1-2: reassembly pool: the connection default, 4 KiB, 600 bytes, 64 KiB
 *   mode bits 3-4: max_msg: 16384, 1000, 64, 2^24 - 1
 * A fatal result (the next message over max_msg) ends the run as it ends a connection.
 *
 * Oracles beyond the sanitizers: the pool (an exact-size heap block) is never overrun by the
 * slot bookkeeping, a completed message is the next expected one, within max_msg, and its bytes
 * are the ones first received for every offset (tracked by a shadow copy).
 */
#include <stdlib.h>
#include <string.h>

#include "conn/config.h"
#include "handshake/transport.h"

#define SHADOW_SEQS 64
#define SHADOW_MAX 20000

typedef struct shadow {
    uint8_t *bytes[SHADOW_SEQS]; /* first byte seen at each offset, per message_seq */
    uint8_t *have[SHADOW_SEQS];
    uint32_t length[SHADOW_SEQS];
} shadow;

static void check_slots(const sdtls__reasm *ra)
{
    if (ra->pool_used > ra->pool_cap) {
        abort();
    }
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        const sdtls__reasm_slot *s = &ra->slot[i];
        if (!s->used) {
            continue;
        }
        if (s->have > s->length || s->length > ra->max_msg ||
            s->body_off + s->length > ra->pool_used ||
            s->map_off + ((size_t)s->length + 7) / 8 > ra->pool_used) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    static const size_t pools[4] = {SDTLS_REASM_FOR(SDTLS_DEFAULT_MAX_MSG), 4096, 600, 65536};
    static const uint32_t maxes[4] = {16384, 1000, 64, 0xffffff};
    size_t pool_cap = pools[(mode >> 1) & 3];
    uint32_t max_msg = maxes[(mode >> 3) & 3];
    uint8_t *pool = malloc(pool_cap);
    if (pool == NULL) {
        abort();
    }
    sdtls__reasm ra;
    sdtls__reasm_init(&ra, pool, pool_cap, max_msg);
    ra.seq_known = mode & 1;
    /* The shadow remembers, per message_seq, the bytes a message would have if no fragment
     * were ever dropped; it is only compared where the reassembler kept the same first copy,
     * i.e. while no conflicting or evicted fragment was seen for that message. */
    shadow sh;
    memset(&sh, 0, sizeof(sh));
    uint8_t tainted[SHADOW_SEQS] = {0};

    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int fatal = 0;
    while (n >= 2 && !fatal) {
        size_t len = ((size_t)p[0] << 8) | p[1];
        p += 2;
        n -= 2;
        if (len > n) {
            len = n;
        }
        sdtls_rd r = sdtls_rd_init(p, len);
        p += len;
        n -= len;
        while (sdtls_rd_left(&r) > 0) {
            sdtls__hs_hdr h;
            const uint8_t *frag;
            sdtls_rd before = r;
            if (sdtls__hs_hdr_parse(&r, &h, &frag) != 0) {
                if (r.p != before.p) {
                    abort(); /* a failed parse must not move the cursor */
                }
                break;
            }
            if ((size_t)h.frag_off + h.frag_len > h.length) {
                abort();
            }
            if (!ra.seq_known && h.type != 1) {
                continue;
            }
            uint16_t next_before = ra.next_seq;
            int known_before = ra.seq_known;
            int held[SDTLS_REASM_SLOTS];
            for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
                held[i] = ra.slot[i].used ? ra.slot[i].seq : -1;
            }
            int rc = sdtls__reasm_add(&ra, &h, frag);
            check_slots(&ra);
            /* Messages evicted to make room start over: their first copy may change. */
            for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
                int still = 0;
                for (size_t j = 0; j < SDTLS_REASM_SLOTS && held[i] >= 0; j++) {
                    still |= ra.slot[j].used && ra.slot[j].seq == held[i];
                }
                if (held[i] >= 0 && !still && held[i] < SHADOW_SEQS) {
                    tainted[held[i]] = 1;
                }
            }
            if (rc == SDTLS_REASM_OLD || rc == SDTLS_DROP) {
                if (known_before && ra.next_seq != next_before) {
                    abort();
                }
                if (rc == SDTLS_DROP && h.seq < SHADOW_SEQS) {
                    tainted[h.seq] = 1;
                }
                continue;
            }
            if (rc != 0) {
                if (rc != SDTLS_ALERT(HANDSHAKE_FAILURE) || h.seq != ra.next_seq ||
                    h.length <= max_msg) {
                    abort();
                }
                fatal = 1;
                break;
            }
            /* Track what the message should contain. */
            if (h.seq < SHADOW_SEQS && h.length <= SHADOW_MAX) {
                if (sh.bytes[h.seq] == NULL || sh.length[h.seq] != h.length) {
                    free(sh.bytes[h.seq]);
                    free(sh.have[h.seq]);
                    sh.bytes[h.seq] = calloc(1, (size_t)h.length + 1);
                    sh.have[h.seq] = calloc(1, (size_t)h.length + 1);
                    sh.length[h.seq] = h.length;
                    if (sh.bytes[h.seq] == NULL || sh.have[h.seq] == NULL) {
                        abort();
                    }
                }
                for (uint32_t i = 0; i < h.frag_len; i++) {
                    if (!sh.have[h.seq][h.frag_off + i]) {
                        sh.have[h.seq][h.frag_off + i] = 1;
                        sh.bytes[h.seq][h.frag_off + i] = frag[i];
                    }
                }
            } else if (h.seq < SHADOW_SEQS) {
                tainted[h.seq] = 1;
            }
            sdtls__hs_hdr m;
            const uint8_t *body;
            while (sdtls__reasm_peek(&ra, &m, &body)) {
                if (m.seq != ra.next_seq || m.frag_off != 0 || m.frag_len != m.length ||
                    m.length > max_msg || body < pool || body + m.length > pool + pool_cap) {
                    abort();
                }
                if (m.seq < SHADOW_SEQS && !tainted[m.seq] && sh.bytes[m.seq] != NULL &&
                    sh.length[m.seq] == m.length && m.length > 0 &&
                    memcmp(body, sh.bytes[m.seq], m.length) != 0) {
                    abort(); /* reassembled bytes differ from the first copy received */
                }
                uint16_t seq = m.seq;
                sdtls__reasm_pop(&ra);
                if (ra.next_seq != (uint16_t)(seq + 1)) {
                    abort();
                }
                check_slots(&ra);
            }
        }
    }
    for (int i = 0; i < SHADOW_SEQS; i++) {
        free(sh.bytes[i]);
        free(sh.have[i]);
    }
    free(pool);
    return 0;
}
