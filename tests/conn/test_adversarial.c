/*
 * Hostile input at the connection level: malformed and misplaced records and messages.
 * Each case asserts the RFC behaviour (silent drop, or the right fatal alert) and that a
 * rejected input leaves the handshake state as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conn/conn.h"
#include "link.h"
#include "testutil.h"

static sdtls_config *ccfg, *scfg;
static uint64_t rng_c = 101, rng_s = 202;
static link l;

static int setup(void **state)
{
    if (sdtls_config_new(&ccfg, NULL) != 0 || sdtls_config_new(&scfg, NULL) != 0 ||
        sdtls_config_set_rng(ccfg, tu_rng, &rng_c) != 0 ||
        sdtls_config_set_rng(scfg, tu_rng, &rng_s) != 0 ||
        sdtls_config_generate_cert(scfg, SDTLS_KEY_EC_P256, "server") != 0 ||
        sdtls_config_set_verify(ccfg, SDTLS_VERIFY_NONE) != 0 ||
        sdtls_config_set_cookie(scfg, 0, 0) != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    sdtls_config_free(ccfg);
    sdtls_config_free(scfg);
    return 0;
}

static const uint8_t addr[] = {10, 0, 0, 1, 0, 1};

static void start(void)
{
    sdtls_conn *c, *s;
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    assert_int_equal(sdtls_conn_new(scfg, SDTLS_ROLE_SERVER, addr, sizeof(addr), &s), 0);
    link_init(&l, 5, c, s);
}

static void finish(void)
{
    sdtls_conn_free(l.ep[0]);
    sdtls_conn_free(l.ep[1]);
}

/* A plaintext record (epoch 0 unless told) with the given content. */
static size_t record(uint8_t *out, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                     const uint8_t *body, size_t len)
{
    out[0] = type;
    out[1] = (uint8_t)(version >> 8);
    out[2] = (uint8_t)version;
    out[3] = (uint8_t)(epoch >> 8);
    out[4] = (uint8_t)epoch;
    for (int i = 0; i < 6; i++) {
        out[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    }
    out[11] = (uint8_t)(len >> 8);
    out[12] = (uint8_t)len;
    memcpy(out + 13, body, len);
    return 13 + len;
}

/* A handshake fragment: header + body. */
static size_t hs_frag(uint8_t *out, uint8_t type, uint32_t length, uint16_t seq, uint32_t off,
                      const uint8_t *frag, uint32_t frag_len)
{
    out[0] = type;
    out[1] = (uint8_t)(length >> 16);
    out[2] = (uint8_t)(length >> 8);
    out[3] = (uint8_t)length;
    out[4] = (uint8_t)(seq >> 8);
    out[5] = (uint8_t)seq;
    out[6] = (uint8_t)(off >> 16);
    out[7] = (uint8_t)(off >> 8);
    out[8] = (uint8_t)off;
    out[9] = (uint8_t)(frag_len >> 16);
    out[10] = (uint8_t)(frag_len >> 8);
    out[11] = (uint8_t)frag_len;
    memcpy(out + 12, frag, frag_len);
    return 12 + frag_len;
}

/* Run the client until the server waits for the client's final flight, holding it back. */
static void to_server_wait_cke(void)
{
    start();
    l.dir[0].imp.drop_mask = UINT64_C(1) << 2; /* hold the client's final flight */
    link_run_for(&l, 10);
    assert_int_equal(l.ep[1]->hs->state, S_WAIT_CKE);
}

static void test_early_ccs_ignored(void **state)
{
    to_server_wait_cke();
    uint8_t one = 1, dg[64];
    size_t n = record(dg, SDTLS_CT_CHANGE_CIPHER_SPEC, SDTLS_VERSION_DTLS12, 0, 50, &one, 1);
    link_inject(&l, 1, dg, n);
    /* CCS injection: ignored, no epoch change, no failure. */
    assert_int_equal(l.ep[1]->hs->state, S_WAIT_CKE);
    assert_int_equal(l.ep[1]->rd_epoch, 0);
    assert_int_equal(l.err[1], 0);
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    finish();
}

static void test_future_epoch_budget(void **state)
{
    to_server_wait_cke();
    uint8_t junk[100], dg[200];
    memset(junk, 0xAB, sizeof(junk));
    for (int i = 0; i < 20; i++) {
        size_t n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 1, (uint64_t)i, junk,
                          sizeof(junk));
        link_inject(&l, 1, dg, n);
    }
    sdtls_stats st;
    sdtls_conn_stats(l.ep[1], &st);
    assert_true(st.drop_over_budget >= 20 - SDTLS_FUTURE_RECORDS);
    assert_true(l.ep[1]->hs->future_n <= SDTLS_FUTURE_RECORDS);
    /* Garbage held for epoch 1 fails authentication once the keys arrive; the handshake
     * completes anyway. */
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    finish();
}

static void test_finished_before_keys(void **state)
{
    to_server_wait_cke();
    uint8_t fin[12] = {0}, msg[64], dg[128];
    size_t m = hs_frag(msg, SDTLS_HS_FINISHED, 12, 1, 0, fin, 12); /* where CKE belongs */
    size_t n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 0, 60, msg, m);
    link_inject(&l, 1, dg, n);
    assert_int_equal(l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_UNEXPECTED_MESSAGE));
    finish();
}

static void test_bad_records_dropped(void **state)
{
    to_server_wait_cke();
    sdtls_stats before, after;
    sdtls_conn_stats(l.ep[1], &before);
    uint8_t dg[256], body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n;
    /* Length beyond the datagram. */
    n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 0, 70, body, sizeof(body));
    dg[12] = 200;
    link_inject(&l, 1, dg, n);
    /* Unknown content type. */
    n = record(dg, 99, SDTLS_VERSION_DTLS12, 0, 71, body, sizeof(body));
    link_inject(&l, 1, dg, n);
    /* Wrong version (TLS 1.2). */
    n = record(dg, SDTLS_CT_HANDSHAKE, 0x0303, 0, 72, body, sizeof(body));
    link_inject(&l, 1, dg, n);
    /* Alert of bad length. */
    n = record(dg, SDTLS_CT_ALERT, SDTLS_VERSION_DTLS12, 0, 73, body, 3);
    link_inject(&l, 1, dg, n);
    /* Truncated header. */
    link_inject(&l, 1, dg, 7);
    /* A malformed handshake fragment (fragment beyond its message). */
    uint8_t msg[64];
    size_t m = hs_frag(msg, SDTLS_HS_CLIENT_KEY_EXCHANGE, 4, 2, 3, body, 4);
    n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 0, 74, msg, m);
    link_inject(&l, 1, dg, n);
    /* Epoch far in the future. */
    n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 7, 75, body, sizeof(body));
    link_inject(&l, 1, dg, n);
    sdtls_conn_stats(l.ep[1], &after);
    assert_int_equal(after.drop_malformed - before.drop_malformed, 6);
    assert_int_equal(after.drop_bad_epoch - before.drop_bad_epoch, 1);
    assert_int_equal(l.err[1], 0);
    assert_int_equal(l.ep[1]->hs->state, S_WAIT_CKE);
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    finish();
}

static void test_trailing_garbage_after_record(void **state)
{
    start();
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    uint8_t dg[256];
    size_t len;
    assert_int_equal(sdtls_conn_write(l.ep[0], (const uint8_t *)"data", 4, dg, sizeof(dg), &len),
                     0);
    memset(dg + len, 0x17, 5); /* a partial header */
    link_inject(&l, 1, dg, len + 5);
    assert_int_equal(l.rx_len[1], 4);
    sdtls_stats st;
    sdtls_conn_stats(l.ep[1], &st);
    assert_int_equal(st.drop_malformed, 1);
    finish();
}

static void test_duplicate_server_hello(void **state)
{
    start();
    /* Deliver the server's first flight to the client but hold the client's answer. */
    l.dir[0].imp.drop_mask = UINT64_C(1) << 2;
    link_run_for(&l, 10);
    assert_int_equal(l.ep[0]->hs->state, C_WAIT_CCS);
    /* A ServerHello with a new message_seq where none is expected. */
    uint8_t body[38] = {0xFE, 0xFD}, msg[64], dg[128];
    size_t m = hs_frag(msg, SDTLS_HS_SERVER_HELLO, sizeof(body), 4, 0, body, sizeof(body));
    size_t n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 0, 40, msg, m);
    link_inject(&l, 0, dg, n);
    assert_int_equal(l.err[0], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_UNEXPECTED_MESSAGE));
    finish();
}

static void test_replayed_server_hello_ignored(void **state)
{
    start();
    l.dir[0].imp.drop_mask = UINT64_C(1) << 2;
    link_run_for(&l, 10);
    /* The same ServerHello (message_seq 0) again: a retransmission, not a new message. */
    uint8_t body[38] = {0xFE, 0xFD}, msg[64], dg[128];
    size_t m = hs_frag(msg, SDTLS_HS_SERVER_HELLO, sizeof(body), 0, 0, body, sizeof(body));
    size_t n = record(dg, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, 0, 41, msg, m);
    link_inject(&l, 0, dg, n);
    assert_int_equal(l.err[0], 0);
    assert_int_equal(l.ep[0]->hs->state, C_WAIT_CCS);
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    finish();
}

static void test_renegotiation_refused(void **state)
{
    start();
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    /* Let the server release its handshake state (it does on the first data). */
    assert_int_equal(link_write(&l, 0, "x", 1), 0);
    link_run_for(&l, 10);
    /* A ClientHello protected under the session keys: renegotiation. */
    uint8_t ch[40] = {0xFE, 0xFD}, msg[64], dg[256];
    size_t m = hs_frag(msg, SDTLS_HS_CLIENT_HELLO, sizeof(ch), 4, 0, ch, sizeof(ch));
    sdtls_wr w = sdtls_wr_init(dg, sizeof(dg));
    assert_int_equal(
        sdtls__rec_seal(&l.ep[0]->wr1, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, msg, m, &w), 0);
    uint8_t out[256];
    size_t out_len;
    assert_int_equal(sdtls_conn_recv(l.ep[1], dg, w.len, l.now), 0);
    /* The server answers with a warning no_renegotiation and keeps the session. */
    assert_int_equal(sdtls_conn_send(l.ep[1], out, sizeof(out), &out_len, l.now), 0);
    assert_true(out_len > 0);
    assert_int_equal(sdtls_conn_recv(l.ep[0], out, out_len, l.now), 0);
    sdtls_event ev;
    int saw = 0;
    while (sdtls_conn_next_event(l.ep[0], &ev) == 0 && ev.type != SDTLS_EV_NONE) {
        if (ev.type == SDTLS_EV_ALERT) {
            assert_int_equal(ev.alert_level, 1);
            assert_int_equal(ev.alert, SDTLS_ALERT_NO_RENEGOTIATION);
            saw = 1;
        }
    }
    assert_true(saw);
    assert_int_equal(link_write(&l, 0, "still", 5), 0);
    link_run_for(&l, 10);
    assert_int_equal(l.rx_len[1], 6);
    finish();
}

static void test_epoch0_data_after_handshake(void **state)
{
    start();
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    uint8_t dg[64];
    size_t n = record(dg, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, 0, 90,
                      (const uint8_t *)"plain", 5);
    link_inject(&l, 1, dg, n);
    assert_int_equal(l.rx_len[1], 0);
    /* Unauthenticated alerts are ignored once keys are up. */
    uint8_t fatal[2] = {2, SDTLS_ALERT_HANDSHAKE_FAILURE};
    n = record(dg, SDTLS_CT_ALERT, SDTLS_VERSION_DTLS12, 0, 91, fatal, 2);
    link_inject(&l, 1, dg, n);
    assert_int_equal(l.err[1], 0);
    assert_false(sdtls_conn_is_closed(l.ep[1]));
    finish();
}

static void test_replayed_record_dropped(void **state)
{
    start();
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    uint8_t dg[64];
    size_t len;
    assert_int_equal(sdtls_conn_write(l.ep[0], (const uint8_t *)"once", 4, dg, sizeof(dg), &len),
                     0);
    link_inject(&l, 1, dg, len);
    link_inject(&l, 1, dg, len);
    assert_int_equal(l.rx_len[1], 4);
    sdtls_stats st;
    sdtls_conn_stats(l.ep[1], &st);
    assert_int_equal(st.drop_replay, 1);
    finish();
}

/* RFC 9146: an authenticated tls12_cid record whose inner plaintext is all zeros has no
 * content type. Dropped and counted as malformed, not as a failed MAC (the counter an operator
 * reads for wrong keys). */
static void test_cid_zero_inner_plaintext(void **state)
{
    assert_int_equal(sdtls_config_set_cid(ccfg, 2), 0);
    assert_int_equal(sdtls_config_set_cid(scfg, 3), 0);
    start();
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    static const uint8_t zeros[6] = {0};
    uint8_t dg[128];
    sdtls_wr w = sdtls_wr_init(dg, sizeof(dg));
    assert_int_equal(sdtls__rec_seal(&l.ep[0]->wr1, 0, SDTLS_VERSION_DTLS12, zeros,
                                     sizeof(zeros), &w),
                     0);
    sdtls_stats before, after;
    sdtls_conn_stats(l.ep[1], &before);
    link_inject(&l, 1, dg, w.len);
    sdtls_conn_stats(l.ep[1], &after);
    assert_int_equal(after.drop_malformed, before.drop_malformed + 1);
    assert_int_equal(after.drop_bad_mac, before.drop_bad_mac);
    assert_int_equal(l.err[1], 0);
    assert_int_equal(link_write(&l, 0, "ok", 2), 0);
    link_run_for(&l, 10);
    assert_int_equal(l.rx_len[1], 2);
    finish();
    assert_int_equal(sdtls_config_set_cid(ccfg, -1), 0);
    assert_int_equal(sdtls_config_set_cid(scfg, -1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_ccs_ignored),
        cmocka_unit_test(test_future_epoch_budget),
        cmocka_unit_test(test_finished_before_keys),
        cmocka_unit_test(test_bad_records_dropped),
        cmocka_unit_test(test_trailing_garbage_after_record),
        cmocka_unit_test(test_duplicate_server_hello),
        cmocka_unit_test(test_replayed_server_hello_ignored),
        cmocka_unit_test(test_renegotiation_refused),
        cmocka_unit_test(test_epoch0_data_after_handshake),
        cmocka_unit_test(test_replayed_record_dropped),
        cmocka_unit_test(test_cid_zero_inner_plaintext),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
