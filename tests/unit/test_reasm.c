/*
 * Unit tests of the handshake message header and of reassembly (src/handshake/msg.c,
 * src/handshake/reasm.c, RFC 6347 4.2.3): fragments in order, reversed, overlapping,
 * duplicated, with gaps and of zero length; fragments outside their message; length claims
 * beyond the budget; messages whose type or length changes between fragments; messages too
 * far ahead or already processed; pool exhaustion and eviction; peek/pop sequencing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handshake/transport.h"

#define DECODE SDTLS_ALERT(DECODE_ERROR)

typedef struct fixture {
    sdtls__reasm ra;
    uint8_t *pool;
    size_t pool_cap;
    uint8_t msg[3][4096]; /* reference bodies */
} fixture;

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 13 + (i >> 8));
    }
}

static fixture *fx_new(size_t pool_cap, uint32_t max_msg, int seq_known)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->pool_cap = pool_cap;
    f->pool = malloc(pool_cap > 0 ? pool_cap : 1);
    assert_non_null(f->pool);
    sdtls__reasm_init(&f->ra, f->pool, pool_cap, max_msg);
    f->ra.seq_known = seq_known;
    for (int i = 0; i < 3; i++) {
        fill(f->msg[i], sizeof(f->msg[i]), (uint8_t)(i * 50 + 1));
    }
    return f;
}

static void fx_free(fixture *f)
{
    free(f->pool);
    free(f);
}

static int add(sdtls__reasm *ra, uint8_t type, uint32_t length, uint16_t seq, uint32_t off,
               uint32_t len, const uint8_t *body)
{
    sdtls__hs_hdr h = {type, length, seq, off, len};
    return sdtls__reasm_add(ra, &h, body + off);
}

/* The next message is complete and equals body[0..length). */
static void expect_complete(const sdtls__reasm *ra, uint8_t type, uint16_t seq, const uint8_t *body,
                            uint32_t length)
{
    sdtls__hs_hdr h;
    const uint8_t *got;
    assert_int_equal(sdtls__reasm_peek(ra, &h, &got), 1);
    assert_int_equal(h.type, type);
    assert_int_equal(h.seq, seq);
    assert_int_equal(h.length, length);
    assert_int_equal(h.frag_off, 0);
    assert_int_equal(h.frag_len, length);
    if (length > 0) {
        assert_memory_equal(got, body, length);
    }
}

static void expect_incomplete(const sdtls__reasm *ra)
{
    sdtls__hs_hdr h;
    const uint8_t *got;
    assert_int_equal(sdtls__reasm_peek(ra, &h, &got), 0);
}

/* ---- header parse --------------------------------------------------------------------------- */

static void test_hdr_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[SDTLS_HS_HDR_LEN + 5];
    sdtls__hs_hdr h = {SDTLS_HS_CERTIFICATE, 0x012345, 0xbeef, 0x012340, 5}, g;
    sdtls__hs_hdr_write(buf, &h);
    static const uint8_t expect[] = {11,   0x01, 0x23, 0x45, 0xbe, 0xef,
                                     0x01, 0x23, 0x40, 0x00, 0x00, 0x05};
    assert_memory_equal(buf, expect, sizeof(expect));
    memcpy(buf + SDTLS_HS_HDR_LEN, "abcde", 5);
    sdtls_rd r = sdtls_rd_init(buf, sizeof(buf));
    const uint8_t *frag;
    assert_int_equal(sdtls__hs_hdr_parse(&r, &g, &frag), 0);
    assert_int_equal(g.type, h.type);
    assert_int_equal(g.length, h.length);
    assert_int_equal(g.seq, h.seq);
    assert_int_equal(g.frag_off, h.frag_off);
    assert_int_equal(g.frag_len, 5);
    assert_ptr_equal(frag, buf + SDTLS_HS_HDR_LEN);
    assert_int_equal(sdtls_rd_left(&r), 0);
}

static void test_hdr_truncated(void **state)
{
    (void)state;
    uint8_t buf[SDTLS_HS_HDR_LEN + 4];
    sdtls__hs_hdr h = {1, 4, 0, 0, 4}, g;
    sdtls__hs_hdr_write(buf, &h);
    memset(buf + SDTLS_HS_HDR_LEN, 0x77, 4);
    for (size_t n = 0; n < sizeof(buf); n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, buf, n);
        sdtls_rd r = sdtls_rd_init(copy, n);
        const uint8_t *frag;
        assert_int_equal(sdtls__hs_hdr_parse(&r, &g, &frag), DECODE);
        assert_ptr_equal(r.p, copy); /* cursor restored */
        free(copy);
    }
}

static void test_hdr_fragment_outside_message(void **state)
{
    (void)state;
    uint8_t buf[SDTLS_HS_HDR_LEN + 20];
    memset(buf, 0, sizeof(buf));
    struct {
        uint32_t length, off, len;
        int ok;
    } cases[] = {
        {100, 0, 20, 1},
        {100, 80, 20, 1},
        {100, 81, 20, 0},
        {100, 100, 0, 1},
        {100, 101, 0, 0},
        {0, 0, 0, 1},
        {0, 0, 1, 0},
        {0, 1, 0, 0},
        {10, 0, 11, 0},
        {19, 0, 20, 0},
        {0xffffff, 0xffffff, 0, 1},
        {0xffffff, 0xfffff0, 20, 0},
        {5, 0xffffff, 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sdtls__hs_hdr h = {2, cases[i].length, 0, cases[i].off, cases[i].len}, g;
        sdtls__hs_hdr_write(buf, &h);
        sdtls_rd r = sdtls_rd_init(buf, SDTLS_HS_HDR_LEN + cases[i].len);
        const uint8_t *frag;
        int rc = sdtls__hs_hdr_parse(&r, &g, &frag);
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, DECODE);
            assert_ptr_equal(r.p, buf);
        }
    }
}

static void test_hdr_several_in_one_record(void **state)
{
    (void)state;
    uint8_t buf[3 * SDTLS_HS_HDR_LEN + 6];
    sdtls__hs_hdr a = {11, 6, 1, 0, 3}, b = {11, 6, 1, 3, 3}, c = {14, 0, 2, 0, 0}, g;
    sdtls__hs_hdr_write(buf, &a);
    memcpy(buf + 12, "abc", 3);
    sdtls__hs_hdr_write(buf + 15, &b);
    memcpy(buf + 27, "def", 3);
    sdtls__hs_hdr_write(buf + 30, &c);
    sdtls_rd r = sdtls_rd_init(buf, sizeof(buf));
    const uint8_t *frag;
    assert_int_equal(sdtls__hs_hdr_parse(&r, &g, &frag), 0);
    assert_memory_equal(frag, "abc", 3);
    assert_int_equal(sdtls__hs_hdr_parse(&r, &g, &frag), 0);
    assert_memory_equal(frag, "def", 3);
    assert_int_equal(sdtls__hs_hdr_parse(&r, &g, &frag), 0);
    assert_int_equal(g.type, 14);
    assert_int_equal(sdtls_rd_left(&r), 0);
}

/* ---- reassembly ------------------------------------------------------------------------------ */

static void test_single_fragment(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 2, 300, 0, 0, 300, f->msg[0]), 0);
    expect_complete(&f->ra, 2, 0, f->msg[0], 300);
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(f->ra.next_seq, 1);
    expect_incomplete(&f->ra);
    fx_free(f);
}

static void test_in_order(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    uint32_t len = 1000, step = 128;
    for (uint32_t off = 0; off < len; off += step) {
        expect_incomplete(&f->ra);
        uint32_t n = len - off < step ? len - off : step;
        assert_int_equal(add(&f->ra, 11, len, 0, off, n, f->msg[0]), 0);
    }
    expect_complete(&f->ra, 11, 0, f->msg[0], len);
    fx_free(f);
}

static void test_reversed(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    uint32_t len = 1001, step = 100;
    for (int64_t off = 1000; off >= 0; off -= step) {
        expect_incomplete(&f->ra);
        uint32_t n = len - (uint32_t)off < step ? len - (uint32_t)off : step;
        assert_int_equal(add(&f->ra, 11, len, 0, (uint32_t)off, n, f->msg[0]), 0);
    }
    expect_complete(&f->ra, 11, 0, f->msg[0], len);
    fx_free(f);
}

static void test_overlapping(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    assert_int_equal(add(&f->ra, 11, 100, 0, 0, 60, f->msg[0]), 0);
    assert_int_equal(add(&f->ra, 11, 100, 0, 40, 50, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 100, 0, 85, 15, f->msg[0]), 0);
    expect_complete(&f->ra, 11, 0, f->msg[0], 100);
    assert_int_equal(f->ra.slot[0].have, 100);

    /* Overlap with different bytes: the first copy stays (the Finished MAC catches
     * tampering). */
    fixture *g = fx_new(8192, 4096, 1);
    uint8_t other[100];
    memset(other, 0xee, sizeof(other));
    assert_int_equal(add(&g->ra, 11, 100, 0, 0, 50, g->msg[0]), 0);
    assert_int_equal(add(&g->ra, 11, 100, 0, 0, 100, other), 0);
    uint8_t expect[100];
    memcpy(expect, g->msg[0], 50);
    memset(expect + 50, 0xee, 50);
    expect_complete(&g->ra, 11, 0, expect, 100);
    fx_free(f);
    fx_free(g);
}

static void test_duplicate(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(add(&f->ra, 12, 200, 0, 0, 100, f->msg[0]), 0);
        expect_incomplete(&f->ra);
    }
    const sdtls__reasm_slot *s = &f->ra.slot[0];
    assert_int_equal(s->have, 100); /* counted once */
    assert_int_equal(add(&f->ra, 12, 200, 0, 100, 100, f->msg[0]), 0);
    expect_complete(&f->ra, 12, 0, f->msg[0], 200);
    /* Duplicates of a complete message change nothing. */
    assert_int_equal(add(&f->ra, 12, 200, 0, 0, 200, f->msg[1]), 0);
    expect_complete(&f->ra, 12, 0, f->msg[0], 200);
    fx_free(f);
}

static void test_gap(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    assert_int_equal(add(&f->ra, 11, 100, 0, 0, 30, f->msg[0]), 0);
    assert_int_equal(add(&f->ra, 11, 100, 0, 60, 40, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    /* Filling all but one byte is still incomplete. */
    assert_int_equal(add(&f->ra, 11, 100, 0, 30, 29, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 100, 0, 59, 1, f->msg[0]), 0);
    expect_complete(&f->ra, 11, 0, f->msg[0], 100);
    fx_free(f);
}

static void test_zero_length(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    /* An empty fragment of a non-empty message holds a slot but completes nothing. */
    assert_int_equal(add(&f->ra, 11, 100, 0, 50, 0, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 100, 0, 100, 0, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 100, 0, 0, 100, f->msg[0]), 0);
    expect_complete(&f->ra, 11, 0, f->msg[0], 100);
    sdtls__reasm_pop(&f->ra);
    /* A zero-length message (ServerHelloDone) is complete at once. */
    assert_int_equal(add(&f->ra, SDTLS_HS_SERVER_HELLO_DONE, 0, 1, 0, 0, f->msg[0]), 0);
    expect_complete(&f->ra, SDTLS_HS_SERVER_HELLO_DONE, 1, NULL, 0);
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(f->ra.next_seq, 2);
    fx_free(f);
}

static void test_oversized_length_claim(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    uint8_t b[16] = {0};
    /* 16 MB claimed by the message we need next: fatal, it can never fit. */
    assert_int_equal(add(&f->ra, 11, 0xffffff, 0, 0, 16, b), SDTLS_ALERT(HANDSHAKE_FAILURE));
    /* By a later message: dropped (a forged epoch-0 fragment must not kill us). */
    assert_int_equal(add(&f->ra, 11, 0xffffff, 1, 0, 16, b), SDTLS_DROP);
    /* Boundaries around max_msg. */
    assert_int_equal(add(&f->ra, 11, 4097, 0, 0, 0, b), SDTLS_ALERT(HANDSHAKE_FAILURE));
    assert_int_equal(add(&f->ra, 11, 4097, 2, 0, 0, b), SDTLS_DROP);
    assert_int_equal(add(&f->ra, 11, 4096, 0, 0, 16, f->msg[0]), 0);
    expect_incomplete(&f->ra);
    fx_free(f);
}

static void test_conflicting_fragments(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    assert_int_equal(add(&f->ra, 11, 100, 0, 0, 50, f->msg[0]), 0);
    /* Same message_seq, other length or other type: dropped, the slot is unchanged. */
    assert_int_equal(add(&f->ra, 11, 101, 0, 50, 51, f->msg[0]), SDTLS_DROP);
    assert_int_equal(add(&f->ra, 11, 50, 0, 0, 50, f->msg[0]), SDTLS_DROP);
    assert_int_equal(add(&f->ra, 12, 100, 0, 50, 50, f->msg[0]), SDTLS_DROP);
    expect_incomplete(&f->ra);
    assert_int_equal(f->ra.slot[0].have, 50);
    assert_int_equal(f->ra.slot[0].type, 11);
    assert_int_equal(add(&f->ra, 11, 100, 0, 50, 50, f->msg[0]), 0);
    expect_complete(&f->ra, 11, 0, f->msg[0], 100);
    fx_free(f);
}

static void test_too_far_ahead(void **state)
{
    (void)state;
    fixture *f = fx_new(64 * 1024, 4096, 1);
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    /* next_seq .. next_seq + SLOTS - 1 are buffered, anything beyond is dropped. */
    assert_int_equal(add(&f->ra, 11, 8, SDTLS_REASM_SLOTS, 0, 8, b), SDTLS_DROP);
    assert_int_equal(add(&f->ra, 11, 8, 0xffff, 0, 8, b), SDTLS_DROP);
    for (uint16_t s = SDTLS_REASM_SLOTS - 1; s >= 1; s--) {
        assert_int_equal(add(&f->ra, 11, 8, s, 0, 8, b), 0);
    }
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 8, 0, 0, 8, b), 0);
    for (uint16_t s = 0; s < SDTLS_REASM_SLOTS; s++) {
        expect_complete(&f->ra, 11, s, b, 8);
        sdtls__reasm_pop(&f->ra);
    }
    expect_incomplete(&f->ra);
    /* The window moved: SLOTS .. 2*SLOTS-1 are acceptable now. */
    assert_int_equal(add(&f->ra, 11, 8, 2 * SDTLS_REASM_SLOTS - 1, 0, 8, b), 0);
    assert_int_equal(add(&f->ra, 11, 8, 2 * SDTLS_REASM_SLOTS, 0, 8, b), SDTLS_DROP);
    fx_free(f);
}

static void test_old_messages(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    assert_int_equal(add(&f->ra, 2, 10, 0, 0, 10, f->msg[0]), 0);
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(add(&f->ra, 11, 10, 1, 0, 10, f->msg[0]), 0);
    sdtls__reasm_pop(&f->ra);
    /* Retransmissions of processed messages, whole or partial, valid or not. */
    assert_int_equal(add(&f->ra, 2, 10, 0, 0, 10, f->msg[0]), SDTLS_REASM_OLD);
    assert_int_equal(add(&f->ra, 11, 10, 1, 5, 5, f->msg[0]), SDTLS_REASM_OLD);
    assert_int_equal(add(&f->ra, 99, 0xffffff, 1, 0, 0, f->msg[0]), SDTLS_REASM_OLD);
    expect_incomplete(&f->ra);
    assert_int_equal(f->ra.next_seq, 2);
    fx_free(f);
}

static void test_server_learns_seq(void **state)
{
    (void)state;
    /* A server behind the stateless cookie exchange first sees message_seq 1. */
    fixture *f = fx_new(8192, 4096, 0);
    sdtls__hs_hdr h;
    const uint8_t *b;
    assert_int_equal(sdtls__reasm_peek(&f->ra, &h, &b), 0);
    assert_int_equal(add(&f->ra, 1, 50, 1, 0, 50, f->msg[0]), 0);
    assert_int_equal(f->ra.next_seq, 1);
    expect_complete(&f->ra, 1, 1, f->msg[0], 50);
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(add(&f->ra, 1, 50, 0, 0, 50, f->msg[0]), SDTLS_REASM_OLD);
    fx_free(f);
}

static void test_peek_pop_sequencing(void **state)
{
    (void)state;
    fixture *f = fx_new(16384, 4096, 1);
    /* Complete 2, then 0, then 1; they come out as 0, 1, 2. */
    assert_int_equal(add(&f->ra, 14, 300, 2, 0, 300, f->msg[2]), 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 12, 500, 0, 0, 500, f->msg[0]), 0);
    assert_int_equal(add(&f->ra, 13, 400, 1, 200, 200, f->msg[1]), 0);
    expect_complete(&f->ra, 12, 0, f->msg[0], 500);
    /* Peek is idempotent. */
    expect_complete(&f->ra, 12, 0, f->msg[0], 500);
    sdtls__reasm_pop(&f->ra);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 13, 400, 1, 0, 200, f->msg[1]), 0);
    expect_complete(&f->ra, 13, 1, f->msg[1], 400);
    sdtls__reasm_pop(&f->ra);
    expect_complete(&f->ra, 14, 2, f->msg[2], 300);
    sdtls__reasm_pop(&f->ra);
    expect_incomplete(&f->ra);
    assert_int_equal(f->ra.next_seq, 3);
    /* Everything released: the pool is reused from the start. */
    assert_int_equal(f->ra.pool_used, 0);
    /* Pop with nothing held still advances (the caller only pops after a peek). */
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(f->ra.next_seq, 4);
    fx_free(f);
}

static void test_pool_exhaustion_and_eviction(void **state)
{
    (void)state;
    /* The conn's budget shape: room for two messages of max_msg with their bitmaps. */
    uint32_t max = 1000;
    size_t cap = 2 * ((size_t)max + max / 8);
    fixture *f = fx_new(cap, max, 1);
    uint8_t *big = malloc(max);
    fill(big, max, 0x42);
    /* Future messages 1.. fill the pool; the next one no longer fits and is dropped. */
    int stored = 0;
    for (uint16_t s = 1; s < SDTLS_REASM_SLOTS; s++) {
        int rc = add(&f->ra, 11, 600, s, 0, 10, f->msg[0]);
        if (rc == 0) {
            stored++;
        } else {
            assert_int_equal(rc, SDTLS_DROP);
        }
    }
    assert_int_equal(stored, 3); /* 3 * (600 + 75) <= 2250 < 4 * 675 */
    assert_true(f->ra.pool_used <= cap);
    /* The message we need now still fits: later ones are evicted (they will come again). */
    assert_int_equal(add(&f->ra, 12, max, 0, 0, max, big), 0);
    expect_complete(&f->ra, 12, 0, big, max);
    assert_true(f->ra.pool_used <= cap);
    sdtls__reasm_pop(&f->ra);
    /* Evicted messages are gone, not half-complete. */
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 600, 1, 0, 600, f->msg[0]), 0);
    expect_complete(&f->ra, 11, 1, f->msg[0], 600);
    free(big);
    fx_free(f);
}

static void test_pool_full_of_expected(void **state)
{
    (void)state;
    /* A pool smaller than max_msg: the expected message that cannot fit is dropped (the
     * budget is the caller's to size), and nothing is written outside the pool. */
    fixture *f = fx_new(100, 4096, 1);
    assert_int_equal(add(&f->ra, 11, 200, 0, 0, 10, f->msg[0]), SDTLS_DROP);
    assert_int_equal(add(&f->ra, 11, 80, 0, 0, 80, f->msg[0]), 0); /* 80 + 10 <= 100 */
    expect_complete(&f->ra, 11, 0, f->msg[0], 80);
    fx_free(f);
}

static void test_clear_keeps_next_seq(void **state)
{
    (void)state;
    fixture *f = fx_new(8192, 4096, 1);
    assert_int_equal(add(&f->ra, 11, 10, 0, 0, 10, f->msg[0]), 0);
    sdtls__reasm_pop(&f->ra);
    assert_int_equal(add(&f->ra, 11, 10, 1, 0, 5, f->msg[0]), 0);
    assert_int_equal(add(&f->ra, 11, 10, 2, 0, 10, f->msg[0]), 0);
    sdtls__reasm_clear(&f->ra);
    assert_int_equal(f->ra.next_seq, 1);
    assert_int_equal(f->ra.pool_used, 0);
    expect_incomplete(&f->ra);
    assert_int_equal(add(&f->ra, 11, 10, 1, 0, 10, f->msg[1]), 0);
    expect_complete(&f->ra, 11, 1, f->msg[1], 10);
    fx_free(f);
}

/* Random fragmentations of three messages, delivered shuffled with duplicates: they always
 * come out whole, in order, with the right bytes. */
static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void test_random_fragmentation(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    for (int round = 0; round < 300; round++) {
        fixture *f = fx_new(3 * (4096 + 512), 4096, 1);
        uint32_t lens[3];
        for (int m = 0; m < 3; m++) {
            lens[m] = (uint32_t)(xorshift(&rng) % 4097);
        }
        struct frag {
            uint16_t seq;
            uint32_t off, len;
        } frags[400];
        size_t n = 0;
        for (uint16_t m = 0; m < 3; m++) {
            uint32_t off = 0;
            do {
                uint32_t len = (uint32_t)(xorshift(&rng) % 700);
                if (off + len > lens[m]) {
                    len = lens[m] - off;
                }
                frags[n].seq = m;
                frags[n].off = off;
                frags[n].len = len;
                n++;
                /* Sometimes an overlapping duplicate. */
                if (xorshift(&rng) % 4 == 0 && n < 399) {
                    uint32_t back = off > 50 ? off - 50 : 0;
                    frags[n] = frags[n - 1];
                    frags[n].off = back;
                    frags[n].len = off + len - back;
                    n++;
                }
                off += len;
            } while (off < lens[m] && n < 390);
            assert_int_equal(off, lens[m]);
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(xorshift(&rng) % i);
            struct frag t = frags[i - 1];
            frags[i - 1] = frags[j];
            frags[j] = t;
        }
        uint16_t next = 0;
        for (size_t i = 0; i < n; i++) {
            int rc = add(&f->ra, (uint8_t)(20 + frags[i].seq), lens[frags[i].seq], frags[i].seq,
                         frags[i].off, frags[i].len, f->msg[frags[i].seq]);
            assert_true(rc == 0 || rc == SDTLS_REASM_OLD);
            sdtls__hs_hdr h;
            const uint8_t *b;
            while (sdtls__reasm_peek(&f->ra, &h, &b)) {
                assert_int_equal(h.seq, next);
                assert_int_equal(h.type, 20 + next);
                assert_int_equal(h.length, lens[next]);
                if (h.length > 0) {
                    assert_memory_equal(b, f->msg[next], h.length);
                }
                sdtls__reasm_pop(&f->ra);
                next++;
            }
        }
        assert_int_equal(next, 3);
        fx_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_roundtrip),
        cmocka_unit_test(test_hdr_truncated),
        cmocka_unit_test(test_hdr_fragment_outside_message),
        cmocka_unit_test(test_hdr_several_in_one_record),
        cmocka_unit_test(test_single_fragment),
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_reversed),
        cmocka_unit_test(test_overlapping),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_zero_length),
        cmocka_unit_test(test_oversized_length_claim),
        cmocka_unit_test(test_conflicting_fragments),
        cmocka_unit_test(test_too_far_ahead),
        cmocka_unit_test(test_old_messages),
        cmocka_unit_test(test_server_learns_seq),
        cmocka_unit_test(test_peek_pop_sequencing),
        cmocka_unit_test(test_pool_exhaustion_and_eviction),
        cmocka_unit_test(test_pool_full_of_expected),
        cmocka_unit_test(test_clear_keeps_next_seq),
        cmocka_unit_test(test_random_fragmentation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
