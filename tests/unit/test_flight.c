/*
 * Unit tests of outgoing flights (src/handshake/flight.c, RFC 6347 4.2.3 - 4.2.4): a flight
 * is cut into datagrams no larger than the MTU, each message protected with its own epoch,
 * the ChangeCipherSpec record in its place; what the peer parses back reassembles to the
 * original bodies. The retransmission timer is driven by fake clock values only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handshake/transport.h"

#define T0 UINT64_C(5000000) /* arbitrary virtual start time, ms */

typedef struct env {
    sdtls__cipher wr0, wr1, rd0, rd1;
    sdtls__cipher *ciphers[2];
    sdtls__flight f;
    uint8_t fbuf[16384];
    /* the flight's messages, for comparison */
    uint8_t body[4][4000];
    size_t len[4];
    uint8_t type[4];
    uint16_t epoch[4];
} env;

static env *env_new(sdtls_aead_id aead)
{
    env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    uint8_t key[32], iv[12];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(3 * i);
    }
    memset(iv, 0x5c, sizeof(iv));
    sdtls__cipher_null(&e->wr0, 0);
    sdtls__cipher_null(&e->rd0, 0);
    assert_int_equal(sdtls__cipher_init(&e->wr1, 1, aead, key, iv, 1), 0);
    assert_int_equal(sdtls__cipher_init(&e->rd1, 1, aead, key, iv, 0), 0);
    e->ciphers[0] = &e->wr0;
    e->ciphers[1] = &e->wr1;
    sdtls__flight_init(&e->f, e->fbuf, sizeof(e->fbuf));
    return e;
}

static void env_free(env *e)
{
    sdtls__cipher_clear(&e->wr0);
    sdtls__cipher_clear(&e->wr1);
    sdtls__cipher_clear(&e->rd0);
    sdtls__cipher_clear(&e->rd1);
    free(e);
}

/* A client's final flight shape: three epoch-0 messages (one large, one empty), CCS, then
 * Finished in epoch 1. */
static void build_flight(env *e, size_t big)
{
    static const uint8_t types[4] = {SDTLS_HS_CERTIFICATE, SDTLS_HS_CLIENT_KEY_EXCHANGE,
                                     SDTLS_HS_CERTIFICATE_VERIFY, SDTLS_HS_FINISHED};
    size_t lens[4] = {big, 66, 0, 12};
    for (int m = 0; m < 4; m++) {
        e->type[m] = types[m];
        e->len[m] = lens[m];
        e->epoch[m] = m == 3 ? 1 : 0;
        for (size_t i = 0; i < lens[m]; i++) {
            e->body[m][i] = (uint8_t)(m * 40 + i * 11 + (i >> 8));
        }
    }
    for (int m = 0; m < 3; m++) {
        assert_int_equal(
            sdtls__flight_add(&e->f, e->type[m], (uint16_t)m, 0, e->body[m], e->len[m]), 0);
    }
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_CCS, 0, 0, NULL, 0), 0);
    assert_int_equal(sdtls__flight_add(&e->f, e->type[3], 3, 1, e->body[3], e->len[3]), 0);
}

typedef struct rx_state {
    sdtls__reasm ra;
    uint8_t pool[2 * 16384];
    int ccs_seen;
    int epoch1_seen;
    size_t records, dgrams;
    sdtls__replay win[2];
} rx_state;

static void rx_init(rx_state *rx)
{
    memset(rx, 0, sizeof(*rx));
    sdtls__reasm_init(&rx->ra, rx->pool, sizeof(rx->pool), 16384);
    rx->ra.seq_known = 1;
}

/* Parse one datagram as the peer would. */
static void rx_datagram(env *e, rx_state *rx, const uint8_t *d, size_t n)
{
    sdtls_rd r = sdtls_rd_init(d, n);
    rx->dgrams++;
    while (sdtls_rd_left(&r) > 0) {
        sdtls__rec rec;
        assert_int_equal(sdtls__rec_next(&r, &rec), 0);
        assert_int_equal(rec.version, SDTLS_VERSION_DTLS12);
        assert_true(rec.epoch <= 1);
        /* Sequence numbers never repeat within an epoch. */
        assert_int_equal(sdtls__replay_check(&rx->win[rec.epoch], rec.seq), 0);
        sdtls__replay_update(&rx->win[rec.epoch], rec.seq);
        uint8_t pt[SDTLS_MAX_CIPHERTEXT];
        size_t len;
        sdtls__cipher *c = rec.epoch == 0 ? &e->rd0 : &e->rd1;
        assert_int_equal(sdtls__rec_open(c, &rec, pt, &len), 0);
        rx->records++;
        if (rec.type == SDTLS_CT_CHANGE_CIPHER_SPEC) {
            assert_int_equal(rec.epoch, 0);
            assert_int_equal(len, 1);
            assert_int_equal(pt[0], 1);
            assert_false(rx->epoch1_seen); /* CCS precedes every epoch-1 record */
            rx->ccs_seen = 1;
            continue;
        }
        assert_int_equal(rec.type, SDTLS_CT_HANDSHAKE);
        if (rec.epoch == 1) {
            assert_true(rx->ccs_seen);
            rx->epoch1_seen = 1;
        }
        sdtls_rd h = sdtls_rd_init(pt, len);
        while (sdtls_rd_left(&h) > 0) {
            sdtls__hs_hdr hh;
            const uint8_t *frag;
            assert_int_equal(sdtls__hs_hdr_parse(&h, &hh, &frag), 0);
            assert_true(hh.seq < 4);
            /* Each message is protected with the epoch it was queued for. */
            assert_int_equal(rec.epoch, e->epoch[hh.seq]);
            if (hh.seq == 3) {
                assert_true(rx->ccs_seen);
            } else {
                assert_false(rx->ccs_seen); /* epoch-0 messages come before the CCS */
            }
            int rc = sdtls__reasm_add(&rx->ra, &hh, frag);
            assert_true(rc == 0);
        }
    }
}

static void rx_check_bodies(env *e, rx_state *rx)
{
    assert_true(rx->ccs_seen);
    for (uint16_t m = 0; m < 4; m++) {
        sdtls__hs_hdr h;
        const uint8_t *b;
        assert_int_equal(sdtls__reasm_peek(&rx->ra, &h, &b), 1);
        assert_int_equal(h.seq, m);
        assert_int_equal(h.type, e->type[m]);
        assert_int_equal(h.length, e->len[m]);
        if (e->len[m] > 0) {
            assert_memory_equal(b, e->body[m], e->len[m]);
        }
        sdtls__reasm_pop(&rx->ra);
    }
}

/* Send the whole transmission at `now`; returns the number of datagrams. */
static size_t transmit(env *e, rx_state *rx, size_t mtu, size_t cap, uint64_t now)
{
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    size_t limit = mtu < cap ? mtu : cap;
    size_t n = 0;
    uint64_t records_total = 0;
    size_t before = rx->records;
    while (e->f.sending) {
        size_t out_len = 0;
        uint64_t records = 0;
        assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, mtu, now,
                                             out, cap, &out_len, &records),
                         0);
        assert_true(out_len > 0);
        assert_true(out_len <= limit);
        /* Deadline is not armed while a transmission is under way. */
        if (e->f.sending) {
            assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
            /* Datagrams other than the last are filled (at most one record's overhead and a
             * small fragment left over). */
            assert_true(limit - out_len < 13 + 8 + 16 + 12 + 32);
        }
        records_total += records;
        rx_datagram(e, rx, out, out_len);
        n++;
        assert_true(n < 2000);
    }
    assert_int_equal(records_total, rx->records - before);
    /* Nothing more to send. */
    size_t out_len = 99;
    uint64_t records = 0;
    assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, mtu, now, out,
                                         cap, &out_len, &records),
                     0);
    assert_int_equal(out_len, 0);
    free(out);
    return n;
}

static const sdtls__timer_cfg timer_default = {1000, 60000, 6};

static void fragment_at(sdtls_aead_id aead, size_t mtu, size_t cap, size_t big)
{
    env *e = env_new(aead);
    build_flight(e, big);
    sdtls__flight_start(&e->f, &timer_default, 1);
    rx_state *rx = malloc(sizeof(*rx));
    rx_init(rx);
    size_t n = transmit(e, rx, mtu, cap, T0);
    rx_check_bodies(e, rx);
    size_t limit = mtu < cap ? mtu : cap;
    /* Enough datagrams for the bytes, not wildly more. */
    size_t total = big + 66 + 12 + 5 * 12 + 5 * 37 + 14;
    assert_true(n >= total / limit);
    assert_true(n <= 2 * (total / (limit - 100)) + 3);

    /* A retransmission uses new record sequence numbers and reassembles the same. */
    sdtls__flight_resend(&e->f);
    assert_true(e->f.is_rtx);
    rx_state *rx2 = malloc(sizeof(*rx2));
    rx_init(rx2);
    rx2->win[0] = rx->win[0];
    rx2->win[1] = rx->win[1];
    transmit(e, rx2, mtu, cap, T0 + 1000);
    rx_check_bodies(e, rx2);
    free(rx);
    free(rx2);
    env_free(e);
}

static void test_fragmentation_mtus(void **state)
{
    (void)state;
    static const size_t mtus[] = {256, 257, 300, 512, 576, 1200, 1280, 1500, 9000, 16384};
    for (size_t i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
        fragment_at(SDTLS_AEAD_AES_128_GCM, mtus[i], 20000, 3000);
        fragment_at(SDTLS_AEAD_CHACHA20_POLY1305, mtus[i], 20000, 3000);
        fragment_at(SDTLS_AEAD_AES_128_CCM_8, mtus[i], 20000, 3999);
    }
}

static void test_fragmentation_cap_below_mtu(void **state)
{
    (void)state;
    /* The caller's buffer is smaller than the MTU: the buffer wins. */
    fragment_at(SDTLS_AEAD_AES_256_GCM, 1500, 400, 3000);
    fragment_at(SDTLS_AEAD_AES_256_GCM, 16384, 256, 1);
}

static void test_fragment_sizes_edge(void **state)
{
    (void)state;
    /* Message sizes around one datagram's room. */
    for (size_t big = 180; big < 240; big += 7) {
        fragment_at(SDTLS_AEAD_AES_128_GCM, 256, 256, big);
    }
    fragment_at(SDTLS_AEAD_AES_128_GCM, 256, 256, 0);
}

static void test_large_message_capped_at_record_size(void **state)
{
    (void)state;
    /* A 16 KiB MTU with a message larger than one record's plaintext: each record stays
     * within 2^14 bytes of plaintext. */
    env *e = env_new(SDTLS_AEAD_AES_128_GCM);
    static uint8_t big[16000];
    memset(big, 0x33, sizeof(big));
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_CERTIFICATE, 0, 0, big, sizeof(big)), 0);
    sdtls__flight_start(&e->f, &timer_default, 1);
    uint8_t *out = malloc(20000);
    size_t out_len;
    uint64_t records = 0;
    assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, 16384, T0, out,
                                         20000, &out_len, &records),
                     0);
    assert_true(out_len <= 16384);
    sdtls_rd r = sdtls_rd_init(out, out_len);
    sdtls__rec rec;
    while (sdtls__rec_next(&r, &rec) == 0) {
        assert_true(rec.len <= SDTLS_MAX_PLAINTEXT);
    }
    free(out);
    env_free(e);
}

static void test_mtu_too_small(void **state)
{
    (void)state;
    env *e = env_new(SDTLS_AEAD_AES_128_GCM);
    uint8_t b[10] = {0};
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_CLIENT_HELLO, 0, 0, b, sizeof(b)), 0);
    sdtls__flight_start(&e->f, &timer_default, 1);
    uint8_t out[64];
    size_t out_len;
    uint64_t records = 0;
    /* Header (13) + handshake header (12) + one byte does not fit in 25. */
    assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, 25, T0, out,
                                         sizeof(out), &out_len, &records),
                     SDTLS_ERR_BUF_SMALL);
    assert_int_equal(out_len, 0);
    /* 26 fits exactly one byte per datagram. */
    size_t n = 0;
    while (e->f.sending) {
        assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, 26, T0,
                                             out, sizeof(out), &out_len, &records),
                         0);
        assert_int_equal(out_len, 26);
        n++;
    }
    assert_int_equal(n, 10);
    env_free(e);
}

static void test_missing_epoch_cipher(void **state)
{
    (void)state;
    env *e = env_new(SDTLS_AEAD_AES_128_GCM);
    uint8_t fin[12] = {0};
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_FINISHED, 0, 1, fin, sizeof(fin)), 0);
    sdtls__flight_start(&e->f, &timer_default, 1);
    sdtls__cipher *only0[2] = {&e->wr0, NULL};
    uint8_t out[1200];
    size_t out_len;
    uint64_t records = 0;
    assert_int_equal(sdtls__flight_write(&e->f, only0, 2, SDTLS_VERSION_DTLS12, 1200, T0, out,
                                         sizeof(out), &out_len, &records),
                     SDTLS_ERR_STATE);
    env_free(e);
}

static void test_flight_budget(void **state)
{
    (void)state;
    sdtls__flight f;
    uint8_t buf[100], body[101] = {0};
    sdtls__flight_init(&f, buf, sizeof(buf));
    assert_int_equal(sdtls__flight_add(&f, 11, 0, 0, body, 101), SDTLS_ERR_BUDGET);
    assert_int_equal(sdtls__flight_add(&f, 11, 0, 0, body, 100), 0);
    assert_int_equal(sdtls__flight_add(&f, 12, 1, 0, body, 1), SDTLS_ERR_BUDGET);
    assert_int_equal(sdtls__flight_add(&f, 14, 1, 0, NULL, 0), 0);
    sdtls__flight_reset(&f);
    assert_int_equal(f.n, 0);
    for (int i = 0; i < SDTLS_FLIGHT_MAX_MSGS; i++) {
        assert_int_equal(sdtls__flight_add(&f, 14, (uint16_t)i, 0, NULL, 0), 0);
    }
    assert_int_equal(sdtls__flight_add(&f, 14, 9, 0, NULL, 0), SDTLS_ERR_BUDGET);
}

/* ---- timer ------------------------------------------------------------------------------------
 */

static env *timer_env(const sdtls__timer_cfg *t, int with_timer)
{
    env *e = env_new(SDTLS_AEAD_AES_128_GCM);
    uint8_t b[50] = {0};
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_CLIENT_HELLO, 0, 0, b, sizeof(b)), 0);
    sdtls__flight_start(&e->f, t, with_timer);
    return e;
}

/* Write the whole (re)transmission at `now`; returns datagrams written. */
static int send_all(env *e, uint64_t now)
{
    uint8_t out[1200];
    int n = 0;
    for (;;) {
        size_t out_len;
        uint64_t records = 0;
        assert_int_equal(sdtls__flight_write(&e->f, e->ciphers, 2, SDTLS_VERSION_DTLS12, 1200, now,
                                             out, sizeof(out), &out_len, &records),
                         0);
        if (out_len == 0) {
            return n;
        }
        n++;
    }
}

static void test_timer_armed_after_last_send(void **state)
{
    (void)state;
    env *e = timer_env(&timer_default, 1);
    /* Nothing armed before the flight leaves. */
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0 + 100000), 0);
    assert_true(e->f.sending);
    assert_int_equal(send_all(e, T0), 1);
    assert_int_equal(sdtls__flight_deadline(&e->f), T0 + 1000);
    assert_int_equal(e->f.last_tx_ms, T0);
    /* Early calls do nothing. */
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0), 0);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0 + 999), 0);
    assert_false(e->f.sending);
    assert_int_equal(e->f.rtx_count, 0);
    /* At the deadline: retransmission scheduled, timer doubled. */
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0 + 1000), 0);
    assert_true(e->f.sending);
    assert_true(e->f.is_rtx);
    assert_int_equal(e->f.rtx_count, 1);
    assert_int_equal(e->f.timeout_ms, 2000);
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    /* Sent late (the caller was busy): the deadline counts from the actual send. */
    assert_int_equal(send_all(e, T0 + 1500), 1);
    assert_int_equal(sdtls__flight_deadline(&e->f), T0 + 1500 + 2000);
    env_free(e);
}

static void test_timer_doubles_to_cap_then_times_out(void **state)
{
    (void)state;
    env *e = timer_env(&timer_default, 1);
    /* RFC 6347 4.2.4.1: 1, 2, 4, ... seconds, capped at 60; 6 retransmissions, 7 sends. */
    static const uint32_t expect[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000};
    uint64_t now = T0;
    assert_int_equal(send_all(e, now), 1);
    int sends = 1;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(e->f.timeout_ms, expect[i]);
        uint64_t dl = sdtls__flight_deadline(&e->f);
        assert_int_equal(dl, now + expect[i]);
        now = dl;
        assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, now), 0);
        assert_int_equal(e->f.rtx_count, (uint32_t)(i + 1));
        assert_int_equal(send_all(e, now), 1);
        sends++;
    }
    assert_int_equal(sends, 7);
    assert_int_equal(e->f.timeout_ms, 60000);
    now = sdtls__flight_deadline(&e->f);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, now), SDTLS_ERR_TIMEOUT);
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    assert_false(e->f.sending);
    /* Once given up, later calls do nothing more. */
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, now + 1000000), 0);
    assert_int_equal(send_all(e, now), 0);
    env_free(e);
}

static void test_timer_cap_not_power_of_two(void **state)
{
    (void)state;
    sdtls__timer_cfg t = {300, 1000, 10};
    env *e = timer_env(&t, 1);
    static const uint32_t expect[] = {300, 600, 1000, 1000, 1000};
    uint64_t now = T0;
    send_all(e, now);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        assert_int_equal(e->f.timeout_ms, expect[i]);
        now = sdtls__flight_deadline(&e->f);
        assert_int_equal(sdtls__flight_on_timeout(&e->f, &t, now), 0);
        send_all(e, now);
    }
    env_free(e);
}

static void test_timer_no_overflow(void **state)
{
    (void)state;
    /* Huge values must saturate at max_ms, never wrap. */
    sdtls__timer_cfg t = {0x80000001u, 0xffffffffu, 3};
    env *e = timer_env(&t, 1);
    send_all(e, T0);
    uint64_t now = sdtls__flight_deadline(&e->f);
    assert_int_equal(now, T0 + 0x80000001u);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &t, now), 0);
    assert_int_equal(e->f.timeout_ms, 0xffffffffu);
    send_all(e, now);
    assert_int_equal(sdtls__flight_deadline(&e->f), now + 0xffffffffu);
    env_free(e);
}

static void test_timer_max_count_zero(void **state)
{
    (void)state;
    sdtls__timer_cfg t = {1000, 60000, 0};
    env *e = timer_env(&t, 1);
    send_all(e, T0);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &t, T0 + 1000), SDTLS_ERR_TIMEOUT);
    env_free(e);
}

static void test_final_flight_without_timer(void **state)
{
    (void)state;
    env *e = timer_env(&timer_default, 0);
    assert_int_equal(send_all(e, T0), 1);
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0 + 10000000), 0);
    assert_false(e->f.sending);
    assert_int_equal(e->f.rtx_count, 0);
    /* Kept for answering the peer's retransmissions. */
    sdtls__flight_resend(&e->f);
    assert_true(e->f.sending);
    assert_int_equal(send_all(e, T0 + 5000), 1);
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    env_free(e);
}

static void test_new_flight_resets_timer(void **state)
{
    (void)state;
    env *e = timer_env(&timer_default, 1);
    send_all(e, T0);
    assert_int_equal(sdtls__flight_on_timeout(&e->f, &timer_default, T0 + 1000), 0);
    send_all(e, T0 + 1000);
    assert_int_equal(e->f.timeout_ms, 2000);
    /* Progress: the next flight starts again from the initial timeout. */
    sdtls__flight_reset(&e->f);
    assert_int_equal(sdtls__flight_deadline(&e->f), SDTLS_NO_DEADLINE);
    uint8_t b[5] = {0};
    assert_int_equal(sdtls__flight_add(&e->f, SDTLS_HS_CLIENT_KEY_EXCHANGE, 1, 0, b, 5), 0);
    sdtls__flight_start(&e->f, &timer_default, 1);
    assert_int_equal(e->f.rtx_count, 0);
    assert_int_equal(e->f.timeout_ms, 1000);
    assert_false(e->f.is_rtx);
    send_all(e, T0 + 2000);
    assert_int_equal(sdtls__flight_deadline(&e->f), T0 + 3000);
    env_free(e);
}

static void test_resend_empty_flight(void **state)
{
    (void)state;
    sdtls__flight f;
    uint8_t buf[16];
    sdtls__flight_init(&f, buf, sizeof(buf));
    sdtls__flight_resend(&f);
    assert_false(f.sending);
    assert_int_equal(sdtls__flight_deadline(&f), SDTLS_NO_DEADLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragmentation_mtus),
        cmocka_unit_test(test_fragmentation_cap_below_mtu),
        cmocka_unit_test(test_fragment_sizes_edge),
        cmocka_unit_test(test_large_message_capped_at_record_size),
        cmocka_unit_test(test_mtu_too_small),
        cmocka_unit_test(test_missing_epoch_cipher),
        cmocka_unit_test(test_flight_budget),
        cmocka_unit_test(test_timer_armed_after_last_send),
        cmocka_unit_test(test_timer_doubles_to_cap_then_times_out),
        cmocka_unit_test(test_timer_cap_not_power_of_two),
        cmocka_unit_test(test_timer_no_overflow),
        cmocka_unit_test(test_timer_max_count_zero),
        cmocka_unit_test(test_final_flight_without_timer),
        cmocka_unit_test(test_new_flight_resets_timer),
        cmocka_unit_test(test_resend_empty_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
