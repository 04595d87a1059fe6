/*
 * Unit tests of the bounds-checked reader and writer (src/util/rd.c, src/util/wr.c): every
 * limit is tried at 0, 1, max and max + 1, and every failure must leave the cursor where it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/rd.h"
#include "util/wr.h"

#define DECODE SDTLS_ALERT(DECODE_ERROR)

/* ---- reader: fixed-width integers -------------------------------------------------------- */

static void test_rd_integers(void **state)
{
    (void)state;
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    sdtls_rd r = sdtls_rd_init(in, sizeof(in));
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    assert_int_equal(sdtls_rd_u8(&r, &v8), 0);
    assert_int_equal(v8, 0x01);
    assert_int_equal(sdtls_rd_u16(&r, &v16), 0);
    assert_int_equal(v16, 0x0203);
    assert_int_equal(sdtls_rd_u24(&r, &v32), 0);
    assert_int_equal(v32, 0x040506);
    assert_int_equal(sdtls_rd_left(&r), 3);

    r = sdtls_rd_init(in, sizeof(in));
    assert_int_equal(sdtls_rd_u32(&r, &v32), 0);
    assert_int_equal(v32, 0x01020304);
    r = sdtls_rd_init(in, sizeof(in));
    assert_int_equal(sdtls_rd_u48(&r, &v64), 0);
    assert_int_equal(v64, 0x010203040506ULL);
    r = sdtls_rd_init(in, sizeof(in));
    assert_int_equal(sdtls_rd_u64(&r, &v64), 0);
    assert_int_equal(v64, 0x0102030405060708ULL);
    assert_int_equal(sdtls_rd_left(&r), 1);
    assert_int_equal(sdtls_rd_done(&r), DECODE);
}

/* Largest values: no sign extension or truncation at the top of each width. */
static void test_rd_integer_max(void **state)
{
    (void)state;
    uint8_t ff[8];
    memset(ff, 0xff, sizeof(ff));
    sdtls_rd r;
    uint32_t v32;
    uint64_t v64;

    r = sdtls_rd_init(ff, 3);
    assert_int_equal(sdtls_rd_u24(&r, &v32), 0);
    assert_int_equal(v32, 0xffffffu);
    assert_int_equal(sdtls_rd_done(&r), 0);
    r = sdtls_rd_init(ff, 6);
    assert_int_equal(sdtls_rd_u48(&r, &v64), 0);
    assert_int_equal(v64, 0xffffffffffffULL);
    assert_int_equal(sdtls_rd_done(&r), 0);
    r = sdtls_rd_init(ff, 8);
    assert_int_equal(sdtls_rd_u64(&r, &v64), 0);
    assert_true(v64 == UINT64_MAX);

    static const uint8_t zero[6] = {0};
    r = sdtls_rd_init(zero, 6);
    v64 = 1;
    assert_int_equal(sdtls_rd_u48(&r, &v64), 0);
    assert_int_equal(v64, 0);
}

/* One byte short of each width: fails, and neither the cursor nor the output moves. */
static void test_rd_integer_short(void **state)
{
    (void)state;
    static const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t v8 = 0xaa;
    uint16_t v16 = 0xaaaa;
    uint32_t v32 = 0xaaaaaaaa;
    uint64_t v64 = 0xaaaaaaaa;
    sdtls_rd r;

    r = sdtls_rd_init(in, 0);
    assert_int_equal(sdtls_rd_u8(&r, &v8), DECODE);
    assert_int_equal(v8, 0xaa);
    assert_int_equal(sdtls_rd_done(&r), 0);

    r = sdtls_rd_init(in, 1);
    assert_int_equal(sdtls_rd_u16(&r, &v16), DECODE);
    assert_int_equal(v16, 0xaaaa);
    assert_ptr_equal(r.p, in);

    r = sdtls_rd_init(in, 2);
    assert_int_equal(sdtls_rd_u24(&r, &v32), DECODE);
    assert_ptr_equal(r.p, in);
    r = sdtls_rd_init(in, 3);
    assert_int_equal(sdtls_rd_u32(&r, &v32), DECODE);
    assert_int_equal(v32, 0xaaaaaaaa);
    assert_ptr_equal(r.p, in);

    r = sdtls_rd_init(in, 5);
    assert_int_equal(sdtls_rd_u48(&r, &v64), DECODE);
    assert_int_equal(v64, 0xaaaaaaaa);
    assert_ptr_equal(r.p, in);
    r = sdtls_rd_init(in, 7);
    assert_int_equal(sdtls_rd_u64(&r, &v64), DECODE);
    assert_ptr_equal(r.p, in);
    /* The same reader still reads what is there. */
    assert_int_equal(sdtls_rd_u48(&r, &v64), 0);
    assert_int_equal(v64, 0x010203040506ULL);
    assert_int_equal(sdtls_rd_u8(&r, &v8), 0);
    assert_int_equal(sdtls_rd_done(&r), 0);
    assert_int_equal(sdtls_rd_u8(&r, &v8), DECODE);
}

/* ---- reader: byte runs ------------------------------------------------------------------ */

static void test_rd_take_copy_skip(void **state)
{
    (void)state;
    static const uint8_t in[4] = {9, 8, 7, 6};
    sdtls_rd r = sdtls_rd_init(in, sizeof(in));
    const uint8_t *b = NULL;
    uint8_t dst[8];

    /* 0 bytes always works, even at the end. */
    assert_int_equal(sdtls_rd_take(&r, 0, &b), 0);
    assert_ptr_equal(b, in);
    assert_int_equal(sdtls_rd_copy(&r, NULL, 0), 0);
    assert_int_equal(sdtls_rd_skip(&r, 0), 0);
    assert_int_equal(sdtls_rd_left(&r), 4);

    /* left + 1 fails without moving. */
    assert_int_equal(sdtls_rd_take(&r, 5, &b), DECODE);
    assert_int_equal(sdtls_rd_copy(&r, dst, 5), DECODE);
    assert_int_equal(sdtls_rd_skip(&r, 5), DECODE);
    assert_int_equal(sdtls_rd_skip(&r, SIZE_MAX), DECODE);
    assert_ptr_equal(r.p, in);

    assert_int_equal(sdtls_rd_skip(&r, 1), 0);
    assert_int_equal(sdtls_rd_copy(&r, dst, 2), 0);
    assert_int_equal(dst[0], 8);
    assert_int_equal(dst[1], 7);
    /* Exactly what is left. */
    assert_int_equal(sdtls_rd_take(&r, 1, &b), 0);
    assert_ptr_equal(b, in + 3);
    assert_int_equal(sdtls_rd_done(&r), 0);
    assert_int_equal(sdtls_rd_take(&r, 0, &b), 0);
    assert_int_equal(sdtls_rd_take(&r, 1, &b), DECODE);
}

/* ---- reader: vectors -------------------------------------------------------------------- */

/* A buffer holding a len_bytes prefix with value `n` followed by `avail` body bytes. */
static uint8_t *make_vec(size_t len_bytes, size_t n, size_t avail, size_t *total)
{
    uint8_t *buf = malloc(len_bytes + avail + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < len_bytes; i++) {
        buf[i] = (uint8_t)(n >> (8 * (len_bytes - 1 - i)));
    }
    for (size_t i = 0; i < avail; i++) {
        buf[len_bytes + i] = (uint8_t)i;
    }
    *total = len_bytes + avail;
    return buf;
}

/* Open a vector whose prefix says n, with n bytes present (plus `extra` after it). */
static int open_vec(size_t len_bytes, size_t min, size_t max, size_t n, size_t extra,
                    size_t *inner_len, size_t *rest)
{
    size_t total;
    uint8_t *buf = make_vec(len_bytes, n, n + extra, &total);
    sdtls_rd r = sdtls_rd_init(buf, total);
    sdtls_rd inner = {NULL, NULL};
    int rc = sdtls_rd_vec(&r, len_bytes, min, max, &inner);
    if (rc == 0) {
        *inner_len = sdtls_rd_left(&inner);
        assert_ptr_equal(inner.p, buf + len_bytes);
        assert_ptr_equal(inner.end, r.p);
    } else {
        /* A refused vector leaves the outer cursor on its length prefix. */
        assert_ptr_equal(r.p, buf);
        assert_null(inner.p);
    }
    *rest = sdtls_rd_left(&r);
    free(buf);
    return rc;
}

static void vec_bounds(size_t len_bytes, size_t max)
{
    size_t in_len, rest;

    /* <0..max>: 0, 1, max accepted; max + 1 refused (when the prefix can express it). */
    assert_int_equal(open_vec(len_bytes, 0, max, 0, 0, &in_len, &rest), 0);
    assert_int_equal(in_len, 0);
    assert_int_equal(rest, 0);
    assert_int_equal(open_vec(len_bytes, 0, max, 1, 0, &in_len, &rest), 0);
    assert_int_equal(in_len, 1);
    assert_int_equal(open_vec(len_bytes, 0, max, max, 2, &in_len, &rest), 0);
    assert_int_equal(in_len, max);
    assert_int_equal(rest, 2);
    assert_int_equal(open_vec(len_bytes, 0, max - 1, max, 0, &in_len, &rest), DECODE);

    /* <1..max>: 0 is below the minimum. */
    assert_int_equal(open_vec(len_bytes, 1, max, 0, 5, &in_len, &rest), DECODE);
    assert_int_equal(open_vec(len_bytes, 1, max, 1, 0, &in_len, &rest), 0);

    /* <2..2> and a vector that must be exactly max bytes. */
    assert_int_equal(open_vec(len_bytes, 2, 2, 1, 0, &in_len, &rest), DECODE);
    assert_int_equal(open_vec(len_bytes, 2, 2, 2, 0, &in_len, &rest), 0);
    assert_int_equal(open_vec(len_bytes, 2, 2, 3, 0, &in_len, &rest), DECODE);

    /* The prefix claims one byte more than the input holds. */
    size_t total;
    uint8_t *buf = make_vec(len_bytes, 10, 9, &total);
    sdtls_rd r = sdtls_rd_init(buf, total);
    sdtls_rd inner;
    assert_int_equal(sdtls_rd_vec(&r, len_bytes, 0, max, &inner), DECODE);
    assert_ptr_equal(r.p, buf);
    /* A truncated prefix. */
    r = sdtls_rd_init(buf, len_bytes - 1);
    assert_int_equal(sdtls_rd_vec(&r, len_bytes, 0, max, &inner), DECODE);
    assert_ptr_equal(r.p, buf);
    free(buf);
}

static void test_rd_vec_bounds(void **state)
{
    (void)state;
    vec_bounds(1, 0xff);
    vec_bounds(2, 0xffff);
    vec_bounds(3, 0xffffff);

    /* max + 1 when max is below what the prefix can say. */
    size_t in_len, rest;
    assert_int_equal(open_vec(1, 0, 32, 32, 0, &in_len, &rest), 0);
    assert_int_equal(open_vec(1, 0, 32, 33, 0, &in_len, &rest), DECODE);
    assert_int_equal(open_vec(2, 0, 300, 300, 0, &in_len, &rest), 0);
    assert_int_equal(open_vec(2, 0, 300, 301, 0, &in_len, &rest), DECODE);
    assert_int_equal(open_vec(3, 0, 0x10000, 0x10000, 0, &in_len, &rest), 0);
    assert_int_equal(open_vec(3, 0, 0x10000, 0x10001, 0, &in_len, &rest), DECODE);
}

static void test_rd_vec_bad_prefix_size(void **state)
{
    (void)state;
    static const uint8_t in[8] = {0};
    sdtls_rd r = sdtls_rd_init(in, sizeof(in));
    sdtls_rd inner;
    /* A programming error, not a decode error: 0 and 4-byte prefixes do not exist in TLS. */
    assert_int_equal(sdtls_rd_vec(&r, 0, 0, 10, &inner), SDTLS_ALERT(INTERNAL_ERROR));
    assert_int_equal(sdtls_rd_vec(&r, 4, 0, 10, &inner), SDTLS_ALERT(INTERNAL_ERROR));
    assert_ptr_equal(r.p, in);
}

static void test_rd_done_and_nesting(void **state)
{
    (void)state;
    /* outer<2> { inner<1> { 0xaa 0xbb } 0xcc } 0xdd */
    static const uint8_t in[] = {0x00, 0x04, 0x02, 0xaa, 0xbb, 0xcc, 0xdd};
    sdtls_rd r = sdtls_rd_init(in, sizeof(in));
    sdtls_rd outer, inner;
    uint8_t v;

    assert_int_equal(sdtls_rd_done(&r), DECODE);
    assert_int_equal(sdtls_rd_vec(&r, 2, 0, 0xffff, &outer), 0);
    assert_int_equal(sdtls_rd_left(&outer), 4);
    assert_int_equal(sdtls_rd_vec(&outer, 1, 0, 0xff, &inner), 0);
    assert_int_equal(sdtls_rd_u8(&inner, &v), 0);
    /* One trailing byte in the inner vector. */
    assert_int_equal(sdtls_rd_done(&inner), DECODE);
    assert_int_equal(sdtls_rd_u8(&inner, &v), 0);
    assert_int_equal(v, 0xbb);
    assert_int_equal(sdtls_rd_done(&inner), 0);
    /* Reading past the inner vector's end is refused, though the outer has bytes. */
    assert_int_equal(sdtls_rd_u8(&inner, &v), DECODE);
    assert_int_equal(sdtls_rd_done(&outer), DECODE);
    assert_int_equal(sdtls_rd_u8(&outer, &v), 0);
    assert_int_equal(v, 0xcc);
    assert_int_equal(sdtls_rd_done(&outer), 0);
    /* The outer reader continues after the vector. */
    assert_int_equal(sdtls_rd_done(&r), DECODE);
    assert_int_equal(sdtls_rd_u8(&r, &v), 0);
    assert_int_equal(v, 0xdd);
    assert_int_equal(sdtls_rd_done(&r), 0);

    /* An inner vector may not claim bytes that belong to the outer reader only. */
    static const uint8_t spill[] = {0x02, 0x05, 0xaa, 0xbb};
    r = sdtls_rd_init(spill, sizeof(spill));
    assert_int_equal(sdtls_rd_vec(&r, 1, 0, 0xff, &outer), 0);
    assert_int_equal(sdtls_rd_vec(&outer, 1, 0, 0xff, &inner), DECODE);
}

/* ---- writer ----------------------------------------------------------------------------- */

static void test_wr_integers(void **state)
{
    (void)state;
    uint8_t buf[32];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls_wr_u8(&w, 0x01), 0);
    assert_int_equal(sdtls_wr_u16(&w, 0x0203), 0);
    assert_int_equal(sdtls_wr_u24(&w, 0xffffff), 0);
    assert_int_equal(sdtls_wr_u32(&w, 0x04050607), 0);
    assert_int_equal(sdtls_wr_u48(&w, 0xffffffffffffULL), 0);
    assert_int_equal(sdtls_wr_u64(&w, 0x08090a0b0c0d0e0fULL), 0);
    assert_int_equal(sdtls_wr_bytes(&w, "xy", 2), 0);
    assert_int_equal(sdtls_wr_bytes(&w, NULL, 0), 0);
    assert_true(sdtls_wr_ok(&w));
    static const uint8_t want[] = {0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0x04, 0x05, 0x06,
                                   0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x09,
                                   0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 'x',  'y'};
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* u24 and u48 keep only their low bytes (callers range-check first). */
    w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls_wr_u24(&w, 0x01020304), 0);
    assert_int_equal(sdtls_wr_u48(&w, 0x0102030405060708ULL), 0);
    static const uint8_t low[] = {0x02, 0x03, 0x04, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    assert_memory_equal(buf, low, sizeof(low));

    /* Round trip through the reader. */
    sdtls_rd r = sdtls_rd_init(want, sizeof(want));
    uint8_t v8;
    uint16_t v16;
    uint32_t v24, v32;
    uint64_t v48, v64;
    assert_int_equal(sdtls_rd_u8(&r, &v8), 0);
    assert_int_equal(sdtls_rd_u16(&r, &v16), 0);
    assert_int_equal(sdtls_rd_u24(&r, &v24), 0);
    assert_int_equal(sdtls_rd_u32(&r, &v32), 0);
    assert_int_equal(sdtls_rd_u48(&r, &v48), 0);
    assert_int_equal(sdtls_rd_u64(&r, &v64), 0);
    assert_int_equal(v24, 0xffffff);
    assert_int_equal(v48, 0xffffffffffffULL);
    assert_int_equal(v64, 0x08090a0b0c0d0e0fULL);

    uint8_t p[6];
    sdtls_put_u16(p, 0xabcd);
    assert_int_equal(p[0], 0xab);
    assert_int_equal(p[1], 0xcd);
    sdtls_put_u24(p, 0x123456);
    assert_int_equal(p[0], 0x12);
    assert_int_equal(p[2], 0x56);
    sdtls_put_u48(p, 0x0a0b0c0d0e0fULL);
    assert_int_equal(p[0], 0x0a);
    assert_int_equal(p[5], 0x0f);
}

/* Capacity 0, 1, exactly full, one over. */
static void test_wr_capacity(void **state)
{
    (void)state;
    uint8_t buf[4];
    memset(buf, 0xee, sizeof(buf));
    sdtls_wr w = sdtls_wr_init(buf, 0);
    assert_int_equal(sdtls_wr_u8(&w, 1), SDTLS_ERR_BUF_SMALL);
    assert_false(sdtls_wr_ok(&w));
    assert_int_equal(buf[0], 0xee);

    w = sdtls_wr_init(buf, 1);
    assert_int_equal(sdtls_wr_u8(&w, 1), 0);
    assert_true(sdtls_wr_ok(&w));
    assert_int_equal(w.len, 1);

    w = sdtls_wr_init(buf, 4);
    assert_int_equal(sdtls_wr_u32(&w, 0x01020304), 0);
    assert_int_equal(w.len, 4);
    assert_true(sdtls_wr_ok(&w));
    assert_non_null(sdtls_wr_reserve(&w, 0));
    assert_true(sdtls_wr_ok(&w));
    assert_int_equal(sdtls_wr_u8(&w, 5), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(w.len, 4);

    w = sdtls_wr_init(buf, 3);
    assert_int_equal(sdtls_wr_u32(&w, 0), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(w.len, 0);
    w = sdtls_wr_init(buf, 4);
    assert_null(sdtls_wr_reserve(&w, 5));
    assert_null(sdtls_wr_reserve(&w, SIZE_MAX));
}

/* Once overflowed, everything fails, even writes that would fit. */
static void test_wr_sticky_overflow(void **state)
{
    (void)state;
    uint8_t buf[4];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls_wr_u24(&w, 1), 0);
    assert_int_equal(sdtls_wr_u16(&w, 2), SDTLS_ERR_BUF_SMALL);
    assert_false(sdtls_wr_ok(&w));
    assert_int_equal(w.len, 3);
    /* One byte is still free, but the output is already lost. */
    assert_int_equal(sdtls_wr_u8(&w, 3), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(sdtls_wr_bytes(&w, "", 0), SDTLS_ERR_BUF_SMALL);
    assert_null(sdtls_wr_reserve(&w, 0));
    size_t mark;
    assert_int_equal(sdtls_wr_vec_open(&w, 1, &mark), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(sdtls_wr_vec_close(&w, 1, mark), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(sdtls_wr_vec(&w, 1, "a", 1), SDTLS_ERR_BUF_SMALL);
    assert_false(sdtls_wr_ok(&w));
    assert_int_equal(w.len, 3);
}

/* Fill a vector body of n bytes with prefix size len_bytes; returns vec_close's result. */
static int close_after(size_t len_bytes, size_t n, uint8_t **out_buf, sdtls_wr *out_w)
{
    size_t cap = len_bytes + n + 1;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    sdtls_wr w = sdtls_wr_init(buf, cap);
    size_t mark;
    assert_int_equal(sdtls_wr_vec_open(&w, len_bytes, &mark), 0);
    assert_int_equal(mark, 0);
    uint8_t *body = sdtls_wr_reserve(&w, n);
    assert_non_null(body);
    memset(body, 0x5a, n);
    int rc = sdtls_wr_vec_close(&w, len_bytes, mark);
    *out_buf = buf;
    *out_w = w;
    return rc;
}

static void vec_close_bounds(size_t len_bytes)
{
    size_t max = ((size_t)1 << (8 * len_bytes)) - 1;
    size_t sizes[] = {0, 1, max};
    uint8_t *buf;
    sdtls_wr w;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(close_after(len_bytes, sizes[i], &buf, &w), 0);
        assert_true(sdtls_wr_ok(&w));
        /* The prefix reads back as the body length, and the reader agrees. */
        sdtls_rd r = sdtls_rd_init(buf, w.len);
        sdtls_rd inner;
        assert_int_equal(sdtls_rd_vec(&r, len_bytes, 0, max, &inner), 0);
        assert_int_equal(sdtls_rd_left(&inner), sizes[i]);
        assert_int_equal(sdtls_rd_done(&r), 0);
        free(buf);
    }
    /* max + 1 does not fit the prefix: refused, and the writer is poisoned. */
    assert_int_equal(close_after(len_bytes, max + 1, &buf, &w), SDTLS_ERR_BUF_SMALL);
    assert_false(sdtls_wr_ok(&w));
    assert_int_equal(sdtls_wr_u8(&w, 0), SDTLS_ERR_BUF_SMALL);
    free(buf);
}

static void test_wr_vec_close_bounds(void **state)
{
    (void)state;
    vec_close_bounds(1);
    vec_close_bounds(2);
    vec_close_bounds(3); /* 16 MiB body: the u24 limit itself */
}

static void test_wr_vec_nested(void **state)
{
    (void)state;
    uint8_t buf[16];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    size_t outer, inner;
    assert_int_equal(sdtls_wr_vec_open(&w, 2, &outer), 0);
    assert_int_equal(sdtls_wr_u8(&w, 0xaa), 0);
    assert_int_equal(sdtls_wr_vec_open(&w, 3, &inner), 0);
    assert_int_equal(sdtls_wr_vec(&w, 1, "hi", 2), 0);
    assert_int_equal(sdtls_wr_vec(&w, 1, NULL, 0), 0);
    assert_int_equal(sdtls_wr_vec_close(&w, 3, inner), 0);
    assert_int_equal(sdtls_wr_vec_close(&w, 2, outer), 0);
    static const uint8_t want[] = {0x00, 0x08, 0xaa, 0x00, 0x00, 0x04, 0x02, 'h', 'i', 0x00};
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    /* A body that overflows the buffer fails at the write, and close then fails too. */
    w = sdtls_wr_init(buf, 4);
    assert_int_equal(sdtls_wr_vec_open(&w, 1, &outer), 0);
    assert_int_equal(sdtls_wr_bytes(&w, "abcd", 4), SDTLS_ERR_BUF_SMALL);
    assert_int_equal(sdtls_wr_vec_close(&w, 1, outer), SDTLS_ERR_BUF_SMALL);
    /* A prefix that does not fit. */
    w = sdtls_wr_init(buf, 2);
    assert_int_equal(sdtls_wr_vec_open(&w, 3, &outer), SDTLS_ERR_BUF_SMALL);
    assert_false(sdtls_wr_ok(&w));
    /* Exactly full vector. */
    w = sdtls_wr_init(buf, 3);
    assert_int_equal(sdtls_wr_vec(&w, 1, "ab", 2), 0);
    assert_true(sdtls_wr_ok(&w));
    assert_int_equal(buf[0], 2);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rd_integers),
        cmocka_unit_test(test_rd_integer_max),
        cmocka_unit_test(test_rd_integer_short),
        cmocka_unit_test(test_rd_take_copy_skip),
        cmocka_unit_test(test_rd_vec_bounds),
        cmocka_unit_test(test_rd_vec_bad_prefix_size),
        cmocka_unit_test(test_rd_done_and_nesting),
        cmocka_unit_test(test_wr_integers),
        cmocka_unit_test(test_wr_capacity),
        cmocka_unit_test(test_wr_sticky_overflow),
        cmocka_unit_test(test_wr_vec_close_bounds),
        cmocka_unit_test(test_wr_vec_nested),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
