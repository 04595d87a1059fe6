/*
 * Unit tests of the replay window (src/record/replay.c, RFC 6347 4.1.2.6).
 *
 * The window is checked before a record is authenticated and updated after, so every test
 * goes through accept(): check, then update only when the check passed. A reference model
 * (a plain set of seen numbers plus the highest one) cross-checks random sequences so that
 * every shift distance, including those that cross the 64-bit word boundaries, is covered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "record/record.h"

#define W SDTLS_REPLAY_WINDOW

/* 1 if the record would be accepted (and records it), 0 if it is dropped. */
static int accept(sdtls__replay *w, uint64_t seq)
{
    int rc = sdtls__replay_check(w, seq);
    if (rc != 0) {
        assert_int_equal(rc, SDTLS_DROP);
        return 0;
    }
    sdtls__replay_update(w, seq);
    return 1;
}

static void test_window_size_is_valid(void **state)
{
    (void)state;
    /* RFC 6347 4.1.2.6 asks for at least 32; our design note promises 256, a multiple of 64. */
    assert_true(W >= 64);
    assert_int_equal(W % 64, 0);
    assert_int_equal(W, 256);
}

static void test_fresh_window_accepts_anything(void **state)
{
    (void)state;
    static const uint64_t seqs[] = {
        0, 1, 63, 64, 255, 256, 1u << 20, SDTLS_SEQ_MAX - 1, SDTLS_SEQ_MAX};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        sdtls__replay w;
        sdtls__replay_reset(&w);
        assert_int_equal(sdtls__replay_check(&w, seqs[i]), 0);
        assert_int_equal(accept(&w, seqs[i]), 1);
        assert_int_equal(w.top, seqs[i]);
        assert_int_equal(accept(&w, seqs[i]), 0);
    }
}

static void test_check_does_not_record(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 10), 1);
    /* Only an update (after authentication) marks a number as seen. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sdtls__replay_check(&w, 11), 0);
        assert_int_equal(sdtls__replay_check(&w, 9), 0);
    }
    assert_int_equal(w.top, 10);
}

static void test_duplicate_dropped(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 0), 1);
    assert_int_equal(accept(&w, 0), 0);
    assert_int_equal(accept(&w, 1), 1);
    assert_int_equal(accept(&w, 1), 0);
    assert_int_equal(accept(&w, 0), 0);
    assert_int_equal(accept(&w, 2), 1);
    for (uint64_t s = 0; s <= 2; s++) {
        assert_int_equal(sdtls__replay_check(&w, s), SDTLS_DROP);
    }
}

static void test_in_window_out_of_order(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 1000), 1);
    /* Older but inside the window, in any order: each accepted once. */
    static const uint64_t older[] = {999, 900, 950, 745, 800, 998, 936, 937, 873, 872, 809};
    for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
        assert_int_equal(accept(&w, older[i]), 1);
    }
    for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
        assert_int_equal(accept(&w, older[i]), 0);
    }
    assert_int_equal(w.top, 1000);
    /* Numbers never seen stay acceptable. */
    assert_int_equal(sdtls__replay_check(&w, 997), 0);
    assert_int_equal(sdtls__replay_check(&w, 746), 0);
}

static void test_window_edge(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 1000), 1);
    /* top - 255 is the oldest number inside the window, top - 256 the first outside. */
    assert_int_equal(sdtls__replay_check(&w, 1000 - (W - 1)), 0);
    assert_int_equal(sdtls__replay_check(&w, 1000 - W), SDTLS_DROP);
    assert_int_equal(sdtls__replay_check(&w, 1000 - W - 1), SDTLS_DROP);
    assert_int_equal(sdtls__replay_check(&w, 0), SDTLS_DROP);
    assert_int_equal(accept(&w, 1000 - (W - 1)), 1);
    assert_int_equal(accept(&w, 1000 - (W - 1)), 0);

    /* Near zero: top 255 still covers 0, top 256 no longer does. */
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, W - 1), 1);
    assert_int_equal(sdtls__replay_check(&w, 0), 0);
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, W), 1);
    assert_int_equal(sdtls__replay_check(&w, 0), SDTLS_DROP);
    assert_int_equal(sdtls__replay_check(&w, 1), 0);

    /* An update for a number that is too old must not disturb the window. */
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 5000), 1);
    sdtls__replay before = w;
    sdtls__replay_update(&w, 5000 - W);
    sdtls__replay_update(&w, 0);
    assert_memory_equal(&before, &w, sizeof(w));
}

static void test_seen_bit_slides_to_edge(void **state)
{
    (void)state;
    /* A number seen once stays "seen" while it slides through all 256 positions, then ages out
     * as too old, never becoming acceptable again. */
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 0), 1);
    for (uint64_t top = 1; top < 2 * W; top++) {
        assert_int_equal(accept(&w, top), 1);
        assert_int_equal(sdtls__replay_check(&w, 0), SDTLS_DROP);
        assert_int_equal(sdtls__replay_check(&w, top - 1), SDTLS_DROP);
    }
}

static void test_large_jumps(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 10), 1);
    assert_int_equal(accept(&w, 11), 1);
    /* Far beyond the window: everything older is cleared and too old. */
    assert_int_equal(accept(&w, 10 + 1000), 1);
    assert_int_equal(accept(&w, 11), 0);
    assert_int_equal(accept(&w, 10 + 1000 - (W - 1)), 1);
    assert_int_equal(accept(&w, 10 + 1000 - 1), 1);

    /* Jump of exactly W: the old top sits at age W (dropped), nothing stale remains. */
    sdtls__replay_reset(&w);
    for (uint64_t s = 0; s < 8; s++) {
        assert_int_equal(accept(&w, s), 1);
    }
    assert_int_equal(accept(&w, 7 + W), 1);
    assert_int_equal(sdtls__replay_check(&w, 7), SDTLS_DROP); /* age W: too old */
    for (uint64_t s = 8; s < 7 + W; s++) {
        assert_int_equal(sdtls__replay_check(&w, s), 0);
    }

    /* Jump of W - 1: the old top stays inside at the very edge, still marked. */
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 0), 1);
    assert_int_equal(accept(&w, W - 1), 1);
    assert_int_equal(sdtls__replay_check(&w, 0), SDTLS_DROP);
    for (uint64_t s = 1; s < W - 1; s++) {
        assert_int_equal(sdtls__replay_check(&w, s), 0);
    }

    /* From 0 to the largest sequence number in one step. */
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 0), 1);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX), 1);
    assert_int_equal(sdtls__replay_check(&w, 0), SDTLS_DROP);
    assert_int_equal(sdtls__replay_check(&w, SDTLS_SEQ_MAX - 1), 0);
}

static void test_shift_across_word_boundaries(void **state)
{
    (void)state;
    /* Mark a pattern, shift by n, and check every position moved by exactly n. */
    static const uint64_t shifts[] = {1,   2,   31,  32,  33,  63,  64,  65,  100, 127,
                                      128, 129, 191, 192, 193, 200, 254, 255, 256, 257};
    const uint64_t base = 10000;
    for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
        uint64_t n = shifts[k];
        sdtls__replay w;
        sdtls__replay_reset(&w);
        /* Seen: every third number of the window below base, plus base itself. */
        int seen[W];
        memset(seen, 0, sizeof(seen));
        assert_int_equal(accept(&w, base - (W - 1)), 1);
        seen[W - 1] = 1;
        for (uint64_t age = W - 2;; age--) {
            if (age % 3 == 0) {
                assert_int_equal(accept(&w, base - age), 1);
                seen[age] = 1;
            }
            if (age == 0) {
                break;
            }
        }
        assert_int_equal(w.top, base);
        assert_int_equal(accept(&w, base + n), 1);
        for (uint64_t age = 0; age < W; age++) {
            uint64_t s = base + n - age;
            int expect_seen;
            if (age == 0) {
                expect_seen = 1;
            } else if (age < n) {
                expect_seen = 0; /* newer than the old top: never seen */
            } else {
                expect_seen = seen[age - n];
            }
            assert_int_equal(sdtls__replay_check(&w, s), expect_seen ? SDTLS_DROP : 0);
        }
        assert_int_equal(sdtls__replay_check(&w, base + n - W), SDTLS_DROP);
    }
}

static void test_seq_max(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - 300), 1);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX), 1);
    assert_int_equal(w.top, SDTLS_SEQ_MAX);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX), 0);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - (W - 1)), 1);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - W), 0);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - 300), 0);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - 1), 1);
    assert_int_equal(accept(&w, SDTLS_SEQ_MAX - 1), 0);
}

static void test_reset(void **state)
{
    (void)state;
    sdtls__replay w;
    sdtls__replay_reset(&w);
    assert_int_equal(accept(&w, 77), 1);
    sdtls__replay_reset(&w);
    assert_int_equal(w.has_top, 0);
    assert_int_equal(accept(&w, 77), 1);
    assert_int_equal(accept(&w, 77), 0);
    assert_int_equal(accept(&w, 3), 1); /* inside the new window, never seen */
}

/* Reference model: the set of accepted numbers and the largest one. */
typedef struct model {
    uint8_t seen[4096];
    int has_top;
    uint64_t top;
} model;

static int model_accept(model *m, uint64_t seq)
{
    if (m->has_top && seq <= m->top && (m->top - seq >= W || m->seen[seq])) {
        return 0;
    }
    m->seen[seq] = 1;
    if (!m->has_top || seq > m->top) {
        m->top = seq;
        m->has_top = 1;
    }
    return 1;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void test_random_against_model(void **state)
{
    (void)state;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 200; round++) {
        sdtls__replay w;
        sdtls__replay_reset(&w);
        model *m = calloc(1, sizeof(*m));
        assert_non_null(m);
        uint64_t cursor = xorshift(&rng) % 100;
        for (int i = 0; i < 600; i++) {
            uint64_t r = xorshift(&rng);
            uint64_t seq;
            switch (r % 6) {
            case 0: /* jump ahead by a random distance, up to beyond the window */
                cursor += 1 + (r >> 8) % 300;
                seq = cursor;
                break;
            case 1: /* next in order */
                seq = ++cursor;
                break;
            case 2: /* replay something recent */
            case 3:
                seq = cursor >= (r >> 8) % 300 ? cursor - (r >> 8) % 300 : 0;
                break;
            default: /* older, around the window edge */
                seq = cursor >= 240 + (r >> 8) % 32 ? cursor - 240 - (r >> 8) % 32 : cursor;
                break;
            }
            if (seq >= sizeof(m->seen)) {
                break;
            }
            int want = model_accept(m, seq);
            int got = accept(&w, seq);
            if (want != got) {
                fail_msg("round %d step %d seq %llu: model %d window %d", round, i,
                         (unsigned long long)seq, want, got);
            }
        }
        free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_size_is_valid),
        cmocka_unit_test(test_fresh_window_accepts_anything),
        cmocka_unit_test(test_check_does_not_record),
        cmocka_unit_test(test_duplicate_dropped),
        cmocka_unit_test(test_in_window_out_of_order),
        cmocka_unit_test(test_window_edge),
        cmocka_unit_test(test_seen_bit_slides_to_edge),
        cmocka_unit_test(test_large_jumps),
        cmocka_unit_test(test_shift_across_word_boundaries),
        cmocka_unit_test(test_seq_max),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
