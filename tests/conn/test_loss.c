/*
 * Handshakes and data over a hostile simulated network: loss sweeps, each flight lost in
 * turn, the RFC 6347 4.2.4 timer on a fake clock, and application data under loss.
 * Virtual time only: a 60-second retransmission scenario runs in microseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link.h"
#include "testutil.h"

static sdtls_config *ccfg, *scfg;
static uint64_t rng_c = 11, rng_s = 22;

static void log_line(void *user, sdtls_log_level level, const char *msg)
{
    fprintf(stderr, "  [%s] %s\n", (const char *)user, msg);
}

static int setup(void **state)
{
    if (sdtls_config_new(&ccfg, NULL) != 0 || sdtls_config_new(&scfg, NULL) != 0) {
        return -1;
    }
    if (sdtls_config_set_rng(ccfg, tu_rng, &rng_c) != 0 ||
        sdtls_config_set_rng(scfg, tu_rng, &rng_s) != 0 ||
        sdtls_config_generate_cert(scfg, SDTLS_KEY_EC_P256, "server") != 0 ||
        sdtls_config_set_verify(ccfg, SDTLS_VERIFY_NONE) != 0) {
        return -1;
    }
    if (getenv("SDTLS_TEST_LOG") != NULL) {
        sdtls_config_set_log(ccfg, SDTLS_LOG_DEBUG, log_line, "client");
        sdtls_config_set_log(scfg, SDTLS_LOG_DEBUG, log_line, "server");
    }
    return 0;
}

static int teardown(void **state)
{
    sdtls_config_free(ccfg);
    sdtls_config_free(scfg);
    return 0;
}

typedef struct run_result {
    int ok;
    int err_client, err_server;
    uint64_t ms;
    uint64_t rtx;
} run_result;

/* One handshake through the screen, with impairments on both directions. */
static run_result run_once(uint64_t seed, const link_impair *imp)
{
    static link l;
    sdtls_conn *c = NULL;
    run_result r = {0};
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    link_init(&l, seed, c, NULL);
    l.server_cfg = scfg;
    l.dir[0].imp = *imp;
    l.dir[1].imp = *imp;
    uint64_t start = l.now;
    r.ok = link_run_handshake(&l, 3600 * 1000) == 0;
    r.ms = l.now - start;
    r.err_client = l.err[0];
    r.err_server = l.err[1];
    r.rtx = sdtls_conn_handshake_rtx(c) + (l.ep[1] ? sdtls_conn_handshake_rtx(l.ep[1]) : 0);
    if (r.ok) {
        /* The session works afterwards. */
        l.dir[0].imp = (link_impair){0};
        l.dir[1].imp = (link_impair){0};
        assert_int_equal(link_write(&l, 0, "ping", 4), 0);
        link_run_for(&l, 10);
        assert_int_equal(l.rx_len[1], 4);
    }
    sdtls_conn_free(c);
    sdtls_conn_free(l.ep[1]);
    return r;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sweep(double loss, int must_all_complete)
{
    enum { SEEDS = 1000 };
    static uint64_t ms[SEEDS], rtx[SEEDS];
    size_t n_ok = 0, n_timeout = 0;
    link_impair imp = {0};
    imp.loss = loss;
    imp.dup = 0.05;
    imp.reorder = 0.1;
    imp.reorder_ms = 30;
    imp.delay_ms = 10;
    imp.jitter_ms = 10;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        run_result r = run_once(seed * 7919 + (uint64_t)(loss * 1000), &imp);
        if (r.ok) {
            ms[n_ok] = r.ms;
            rtx[n_ok] = r.rtx;
            n_ok++;
            continue;
        }
        /* A handshake that did not complete must have run out of its timer budget: nothing
         * else (no alert, no internal error) is acceptable. */
        int timed_out = r.err_client == SDTLS_ERR_TIMEOUT || r.err_server == SDTLS_ERR_TIMEOUT;
        if (!timed_out) {
            fprintf(stderr, "seed %llu: client %d server %d\n", (unsigned long long)seed,
                    r.err_client, r.err_server);
        }
        assert_true(timed_out);
        n_timeout++;
    }
    qsort(ms, n_ok, sizeof(ms[0]), cmp_u64);
    qsort(rtx, n_ok, sizeof(rtx[0]), cmp_u64);
    printf("loss-sweep loss=%.0f%% dup=5%% reorder=10%% seeds=%d completed=%zu timed_out=%zu "
           "ms_median=%llu ms_p99=%llu ms_max=%llu rtx_median=%llu rtx_p99=%llu rtx_max=%llu\n",
           loss * 100, SEEDS, n_ok, n_timeout, (unsigned long long)ms[n_ok / 2],
           (unsigned long long)ms[n_ok * 99 / 100], (unsigned long long)ms[n_ok - 1],
           (unsigned long long)rtx[n_ok / 2], (unsigned long long)rtx[n_ok * 99 / 100],
           (unsigned long long)rtx[n_ok - 1]);
    if (must_all_complete) {
        assert_int_equal(n_ok, SEEDS);
    }
}

static void test_sweep_10(void **state)
{
    sweep(0.10, 1);
}
static void test_sweep_30(void **state)
{
    sweep(0.30, 1);
}
static void test_sweep_50(void **state)
{
    sweep(0.50, 0);
}

/* Drop exactly one datagram: the n-th in direction dir. */
static void lose_one(int dir, int n, const char *what)
{
    static link l;
    sdtls_conn *c = NULL;
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    link_init(&l, 99, c, NULL);
    l.server_cfg = scfg;
    l.dir[dir].imp.drop_mask = UINT64_C(1) << n;
    assert_int_equal(link_run_handshake(&l, 600 * 1000), 0);
    uint32_t rtx = sdtls_conn_handshake_rtx(c) + sdtls_conn_handshake_rtx(l.ep[1]);
    printf("lost %-40s rtx client=%u server=%u\n", what, sdtls_conn_handshake_rtx(c),
           sdtls_conn_handshake_rtx(l.ep[1]));
    /* One loss costs one retransmission by the side that lost it; when a server flight is
     * lost both timers run (the client waits for it, the server for the reply), so each
     * side retransmits at most once (the screen's stateless reply is not counted). */
    assert_true(rtx >= 1);
    assert_true(sdtls_conn_handshake_rtx(c) <= 1);
    assert_true(sdtls_conn_handshake_rtx(l.ep[1]) <= 1);
    assert_int_equal(l.dir[dir].lost, 1);
    sdtls_conn_free(c);
    sdtls_conn_free(l.ep[1]);
}

static void test_each_flight_lost(void **state)
{
    lose_one(0, 1, "client: first ClientHello");
    lose_one(1, 1, "server: HelloVerifyRequest");
    lose_one(0, 2, "client: ClientHello with cookie");
    lose_one(1, 2, "server: ServerHello..ServerHelloDone");
    lose_one(0, 3, "client: final flight");
    lose_one(1, 3, "server: final flight");
}

static void test_each_fragment_lost(void **state)
{
    /* MTU 400 cuts the server flight into several datagrams; lose each in turn. */
    sdtls_config *s2;
    uint64_t r2 = 5;
    assert_int_equal(sdtls_config_new(&s2, NULL), 0);
    assert_int_equal(sdtls_config_set_rng(s2, tu_rng, &r2), 0);
    assert_int_equal(sdtls_config_generate_cert(s2, SDTLS_KEY_RSA2048, "server"), 0);
    assert_int_equal(sdtls_config_set_mtu(s2, 400), 0);
    static link l;
    int frags = 0;
    for (int n = 2; n < 10; n++) {
        sdtls_conn *c = NULL;
        assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
        link_init(&l, 7, c, NULL);
        l.server_cfg = s2;
        l.dir[1].imp.drop_mask = UINT64_C(1) << n;
        assert_int_equal(link_run_handshake(&l, 600 * 1000), 0);
        assert_true(sdtls_conn_handshake_rtx(c) <= 1);
        assert_true(sdtls_conn_handshake_rtx(l.ep[1]) <= 1);
        if (l.dir[1].lost == 1) {
            frags++;
        }
        sdtls_conn_free(c);
        sdtls_conn_free(l.ep[1]);
    }
    printf("server flight datagrams lost in turn: %d, each recovered with one retransmission\n",
           frags);
    assert_true(frags >= 4);
    sdtls_config_free(s2);
}

/* RFC 6347 4.2.4: 1 s initial, doubling, capped, giving up after the configured count. */
static void test_timer_backoff(void **state)
{
    sdtls_config *cfg;
    uint64_t r = 3;
    assert_int_equal(sdtls_config_new(&cfg, NULL), 0);
    assert_int_equal(sdtls_config_set_rng(cfg, tu_rng, &r), 0);
    assert_int_equal(sdtls_config_set_verify(cfg, SDTLS_VERIFY_NONE), 0);
    assert_int_equal(sdtls_config_set_retransmit(cfg, 1000, 8000, 5), 0);
    sdtls_conn *c;
    assert_int_equal(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    uint8_t buf[1500];
    size_t len;
    uint64_t now = 5000;
    assert_int_equal(sdtls_conn_deadline(c), SDTLS_NO_DEADLINE);
    assert_int_equal(sdtls_conn_send(c, buf, sizeof(buf), &len, now), 0);
    assert_true(len > 0);
    assert_int_equal(sdtls_conn_send(c, buf, sizeof(buf), &len, now), 0);
    assert_int_equal(len, 0);
    const uint64_t waits[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sdtls_conn_deadline(c), now + waits[i]);
        /* Nothing happens before the deadline. */
        assert_int_equal(sdtls_conn_on_timeout(c, now + waits[i] - 1), 0);
        assert_int_equal(sdtls_conn_send(c, buf, sizeof(buf), &len, now + waits[i] - 1), 0);
        assert_int_equal(len, 0);
        now += waits[i];
        int rc = sdtls_conn_on_timeout(c, now);
        if (i == 5) {
            assert_int_equal(rc, SDTLS_ERR_TIMEOUT);
            assert_int_equal(sdtls_conn_deadline(c), SDTLS_NO_DEADLINE);
            break;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(sdtls_conn_send(c, buf, sizeof(buf), &len, now), 0);
        assert_true(len > 0);
    }
    assert_int_equal(sdtls_conn_handshake_rtx(c), 5);
    assert_true(sdtls_err_is_fatal(SDTLS_ERR_TIMEOUT));
    assert_non_null(strstr(sdtls_strerror(SDTLS_ERR_TIMEOUT), "timed out"));
    /* Sticky. */
    assert_int_equal(sdtls_conn_on_timeout(c, now + 100000), SDTLS_ERR_TIMEOUT);
    sdtls_conn_free(c);
    sdtls_config_free(cfg);
}

/* After progress (a new flight), the timer starts again from the initial value. */
static void test_timer_reset_after_progress(void **state)
{
    static link l;
    sdtls_conn *c;
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    link_init(&l, 1, c, NULL);
    l.server_cfg = scfg;
    /* Lose the first ClientHello twice: the client backs off to 1 s, then 2 s. */
    l.dir[0].imp.drop_mask = (UINT64_C(1) << 1) | (UINT64_C(1) << 2);
    l.dir[0].imp.delay_ms = 100;
    l.dir[1].imp.delay_ms = 100;
    uint64_t t0 = l.now;
    /* ClientHello at 0 (lost), 1000 (lost), 3000 (arrives 3100); HelloVerifyRequest arrives
     * at 3200 and the cookie ClientHello leaves then. */
    link_run_for(&l, 3250);
    assert_int_equal(sdtls_conn_handshake_rtx(c), 2);
    /* A new flight: its timer is the initial 1 s again, not the 4 s reached before. */
    assert_int_equal(sdtls_conn_deadline(c), t0 + 3200 + 1000);
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    sdtls_conn_free(c);
    sdtls_conn_free(l.ep[1]);
}

/* Application data under loss, duplication and reordering: nothing twice, nothing
 * corrupted, replays dropped. */
static void test_data_under_loss(void **state)
{
    static link l;
    sdtls_conn *c;
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    link_init(&l, 42, c, NULL);
    l.server_cfg = scfg;
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    link_impair imp = {0};
    imp.loss = 0.3;
    imp.dup = 0.2;
    imp.reorder = 0.3;
    imp.reorder_ms = 20;
    imp.delay_ms = 5;
    l.dir[0].imp = imp;
    l.dir[1].imp = imp;
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "%05d", i);
        assert_int_equal(link_write(&l, 0, msg, 5), 0);
        assert_int_equal(link_write(&l, 1, msg, 5), 0);
        link_run_for(&l, 1);
    }
    link_run_for(&l, 200);
    for (int side = 0; side < 2; side++) {
        static int seen[N];
        memset(seen, 0, sizeof(seen));
        assert_int_equal(l.rx_len[side] % 5, 0);
        for (size_t off = 0; off < l.rx_len[side]; off += 5) {
            char tmp[6];
            memcpy(tmp, l.rx[side] + off, 5);
            tmp[5] = 0;
            int v = atoi(tmp);
            assert_true(v >= 0 && v < N);
            assert_int_equal(seen[v], 0); /* never delivered twice */
            seen[v] = 1;
        }
        sdtls_stats st;
        sdtls_conn_stats(l.ep[side], &st);
        assert_true(st.drop_replay > 0); /* duplicates were dropped as replays */
        printf("side %d: %zu of %d records delivered, %llu replays dropped\n", side,
               l.rx_len[side] / 5, N, (unsigned long long)st.drop_replay);
    }
    sdtls_conn_free(c);
    sdtls_conn_free(l.ep[1]);
}

/* Bit-flipped ciphertext is dropped and counted; the session keeps working. */
static void test_corruption_dropped(void **state)
{
    static link l;
    sdtls_conn *c;
    assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    link_init(&l, 43, c, NULL);
    l.server_cfg = scfg;
    assert_int_equal(link_run_handshake(&l, 60000), 0);
    uint8_t buf[256];
    size_t len;
    assert_int_equal(sdtls_conn_write(c, (const uint8_t *)"abc", 3, buf, sizeof(buf), &len), 0);
    buf[len - 1] ^= 1;
    link_inject(&l, 1, buf, len);
    sdtls_stats st;
    sdtls_conn_stats(l.ep[1], &st);
    assert_int_equal(st.drop_bad_mac, 1);
    assert_int_equal(l.rx_len[1], 0);
    assert_int_equal(link_write(&l, 0, "xyz", 3), 0);
    link_run_for(&l, 10);
    assert_int_equal(l.rx_len[1], 3);
    sdtls_conn_free(c);
    sdtls_conn_free(l.ep[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_backoff),
        cmocka_unit_test(test_timer_reset_after_progress),
        cmocka_unit_test(test_each_flight_lost),
        cmocka_unit_test(test_each_fragment_lost),
        cmocka_unit_test(test_data_under_loss),
        cmocka_unit_test(test_corruption_dropped),
        cmocka_unit_test(test_sweep_10),
        cmocka_unit_test(test_sweep_30),
        cmocka_unit_test(test_sweep_50),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
