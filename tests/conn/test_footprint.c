/*
 * Memory of a connection, measured with a counting allocator: peak during the handshake and
 * what an established session keeps. Figures are printed for docs/footprint.md; the asserts
 * hold the budgets we document (counts of bytes, not times).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "link.h"
#include "testutil.h"

static link_footprint run(int psk, int small)
{
    tu_alloc_stats cst = {0}, sst = {0};
    sdtls_allocator ca = tu_counting_allocator(&cst), sa = tu_counting_allocator(&sst);
    sdtls_config *ccfg, *scfg;
    uint64_t rc_ = 1, rs_ = 2;
    assert_int_equal(sdtls_config_new(&ccfg, &ca), 0);
    assert_int_equal(sdtls_config_new(&scfg, &sa), 0);
    assert_int_equal(sdtls_config_set_rng(ccfg, tu_rng, &rc_), 0);
    assert_int_equal(sdtls_config_set_rng(scfg, tu_rng, &rs_), 0);
    if (psk) {
        static const uint8_t key[16] = {1, 2, 3};
        assert_int_equal(sdtls_config_set_psk(ccfg, (const uint8_t *)"node", 4, key, 16), 0);
        assert_int_equal(sdtls_config_set_psk(scfg, (const uint8_t *)"node", 4, key, 16), 0);
        assert_int_equal(sdtls_config_set_ciphers(ccfg, "TLS_PSK_WITH_AES_128_CCM_8"), 0);
    } else {
        assert_int_equal(sdtls_config_generate_cert(scfg, SDTLS_KEY_EC_P256, "server"), 0);
        assert_int_equal(sdtls_config_set_verify(ccfg, SDTLS_VERIFY_NONE), 0);
    }
    if (small) {
        /* A constrained node: 1 KiB messages, 1280-byte datagrams. */
        assert_int_equal(sdtls_config_set_budgets(ccfg, 1024, 0, 2048, 1280), 0);
        assert_int_equal(sdtls_config_set_budgets(scfg, 1024, 0, 2048, 1280), 0);
    }
    /* Certificate objects live in the crypto library's heap; the configs' own bytes are
     * not the connection's either. */
    link_footprint m;
    assert_int_equal(link_measure_session(ccfg, &cst, scfg, &sst, &m), 0);
    sdtls_config_free(ccfg);
    sdtls_config_free(scfg);
    assert_int_equal(cst.live_allocs, 0);
    assert_int_equal(sst.live_allocs, 0);
    return m;
}

static void report(const char *name, link_footprint m)
{
    printf("footprint %-34s client peak=%zu established=%zu  server peak=%zu established=%zu  "
           "libcrypto (both) peak=%zu established=%zu\n",
           name, m.client_peak, m.client_established, m.server_peak, m.server_established,
           m.crypto_peak, m.crypto_established);
}

/* The second of two runs: libcrypto caches what it fetches the first time an algorithm is
 * used, for the process; that is not the session's memory. */
static link_footprint run_warm(int psk, int small)
{
    (void)run(psk, small);
    return run(psk, small);
}

static void test_footprint(void **state)
{
    link_footprint full = run_warm(0, 0), psk = run_warm(1, 0), psk_small = run_warm(1, 1);
    report("ECDHE-ECDSA P-256, default budgets", full);
    report("PSK CCM_8, default budgets", psk);
    report("PSK CCM_8, small budgets", psk_small);
    /* An established session keeps the connection and its receive buffer only. */
    assert_true(psk_small.client_established < 4096);
    assert_true(psk_small.server_established < 4096);
    assert_true(psk_small.client_peak < 16384);
    assert_true(full.server_established < 24 * 1024);
    /* libcrypto keeps the AEAD contexts of the session: a few KiB for the pair. */
    assert_true(psk_small.crypto_established > 0 && psk_small.crypto_established < 8192);
    assert_true(full.crypto_established < 16384);
}

int main(void)
{
    /* Before anything touches libcrypto. */
    if (tu_count_crypto_heap() != 0) {
        fprintf(stderr, "cannot count libcrypto's heap: it allocated before main\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
