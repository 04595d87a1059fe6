/*
 * The psk-ccm8 build profile (cmake -DSDTLS_PROFILE=psk-ccm8): the library holds
 * TLS_PSK_WITH_AES_128_CCM_8 and nothing else. This test is built only in that profile and
 * checks what it promises: the only suite offered and accepted is the CCM_8 one, other suite
 * names are refused, a ClientHello with nothing else is answered with handshake_failure, and
 * a handshake through loss with Connection IDs works. It also measures the memory of one
 * session (docs/footprint.md); tests/profile/interop_psk_ccm8.sh runs the same build against
 * OpenSSL and GnuTLS.
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

static const uint8_t psk_key[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

static sdtls_config *psk_config(const sdtls_allocator *mem, uint64_t *seed)
{
    sdtls_config *cfg;
    assert_int_equal(sdtls_config_new(&cfg, mem), 0);
    assert_int_equal(sdtls_config_set_rng(cfg, tu_rng, seed), 0);
    assert_int_equal(sdtls_config_set_psk(cfg, (const uint8_t *)"node-7", 6, psk_key,
                                          sizeof(psk_key)),
                     0);
    return cfg;
}

static void test_version_names_profile(void **state)
{
    assert_non_null(strstr(sdtls_version(), " psk-ccm8 "));
}

static void test_only_ccm8_suite_is_accepted(void **state)
{
    uint64_t seed = 3;
    sdtls_config *cfg = psk_config(NULL, &seed);
    static const char *const absent[] = {
        "TLS_PSK_WITH_AES_128_CCM",
        "TLS_PSK_WITH_AES_128_GCM_SHA256",
        "TLS_PSK_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_PSK_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        assert_int_equal(sdtls_config_set_ciphers(cfg, absent[i]), SDTLS_ERR_UNSUPPORTED);
        /* Nor does one in a list slip through beside the supported one. */
        char list[128];
        snprintf(list, sizeof(list), "TLS_PSK_WITH_AES_128_CCM_8:%s", absent[i]);
        assert_int_equal(sdtls_config_set_ciphers(cfg, list), SDTLS_ERR_UNSUPPORTED);
    }
    assert_int_equal(sdtls_config_set_ciphers(cfg, "TLS_PSK_WITH_AES_128_CCM_8"), 0);
    sdtls_config_free(cfg);
}

/* The client's first datagram offers exactly one suite: 0xC0A8. */
static void test_client_hello_offers_ccm8_only(void **state)
{
    uint64_t seed = 5;
    sdtls_config *cfg = psk_config(NULL, &seed);
    sdtls_conn *c;
    uint8_t out[1500];
    size_t len = 0;
    assert_int_equal(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
    assert_int_equal(sdtls_conn_send(c, out, sizeof(out), &len, 0), 0);
    /* record header 13, handshake header 12, version 2, random 32, empty session_id and
     * cookie (1 + 1): the cipher_suites vector starts at 61. */
    assert_true(len > 65);
    assert_int_equal(out[0], 22);
    assert_int_equal(out[13], 1);
    assert_int_equal(out[59], 0);
    assert_int_equal(out[60], 0);
    assert_int_equal(out[61], 0);
    assert_int_equal(out[62], 2);
    assert_int_equal(out[63], 0xC0);
    assert_int_equal(out[64], 0xA8);
    /* No ECC or signature extensions for a PSK-only offer (RFC 8422 4): walk the list. */
    assert_int_equal(out[65], 1);
    assert_int_equal(out[66], 0);
    size_t ext_end = 69 + ((size_t)out[67] << 8 | out[68]);
    assert_int_equal(ext_end, len);
    int saw_ems = 0;
    for (size_t p = 69; p < ext_end;) {
        unsigned type = (unsigned)out[p] << 8 | out[p + 1];
        size_t n = (size_t)out[p + 2] << 8 | out[p + 3];
        assert_true(type != 10 && type != 11 && type != 13);
        saw_ems |= type == 23;
        p += 4 + n;
        assert_true(p <= ext_end);
    }
    assert_true(saw_ems);
    printf("psk-ccm8 ClientHello datagram: %zu bytes\n", len);
    sdtls_conn_free(c);
    sdtls_config_free(cfg);
}

/* A ClientHello (epoch 0, message_seq 0, no cookie) offering `suites`, with extended master
 * secret and x25519 so that only the suite list can make it fail. */
static size_t client_hello(uint8_t *out, const uint16_t *suites, size_t n)
{
    uint8_t body[256];
    size_t b = 0;
    body[b++] = 0xFE;
    body[b++] = 0xFD;
    for (int i = 0; i < 32; i++) {
        body[b++] = (uint8_t)i;
    }
    body[b++] = 0; /* session_id */
    body[b++] = 0; /* cookie */
    body[b++] = (uint8_t)((2 * n) >> 8);
    body[b++] = (uint8_t)(2 * n);
    for (size_t i = 0; i < n; i++) {
        body[b++] = (uint8_t)(suites[i] >> 8);
        body[b++] = (uint8_t)suites[i];
    }
    body[b++] = 1;
    body[b++] = 0; /* null compression */
    static const uint8_t ext[] = {
        0x00, 0x17, 0x00, 0x00,                         /* extended_master_secret */
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d, /* supported_groups: x25519 */
        0xff, 0x01, 0x00, 0x01, 0x00,                   /* renegotiation_info */
    };
    body[b++] = 0;
    body[b++] = sizeof(ext);
    memcpy(body + b, ext, sizeof(ext));
    b += sizeof(ext);

    size_t hs_len = 12 + b, o = 0;
    static const uint8_t rec_hdr[] = {22, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(out, rec_hdr, sizeof(rec_hdr));
    o += sizeof(rec_hdr);
    out[o++] = (uint8_t)(hs_len >> 8);
    out[o++] = (uint8_t)hs_len;
    out[o++] = 1; /* client_hello */
    for (int k = 0; k < 2; k++) {
        /* length, then message_seq 0, fragment_offset 0, fragment_length = length */
        out[o++] = 0;
        out[o++] = (uint8_t)(b >> 8);
        out[o++] = (uint8_t)b;
        if (k == 0) {
            out[o++] = 0;
            out[o++] = 0;
            out[o++] = 0;
            out[o++] = 0;
            out[o++] = 0;
        }
    }
    memcpy(out + o, body, b);
    return o + b;
}

/* The server's answer to a ClientHello offering `suites`: 0 and the alert, or -1 for none. */
static int server_answer(const uint16_t *suites, size_t n, uint8_t *alert)
{
    uint64_t seed = 9;
    sdtls_config *cfg = psk_config(NULL, &seed);
    assert_int_equal(sdtls_config_set_cookie(cfg, 0, 0), 0);
    sdtls_conn *s;
    static const uint8_t addr[] = {127, 0, 0, 1, 0x11, 0x5c};
    uint8_t ch[512], out[1500];
    size_t len = client_hello(ch, suites, n), out_len = 0;
    assert_int_equal(sdtls_conn_new(cfg, SDTLS_ROLE_SERVER, addr, sizeof(addr), &s), 0);
    (void)sdtls_conn_recv(s, ch, len, 0);
    int rc = -1;
    if (sdtls_conn_send(s, out, sizeof(out), &out_len, 0) == 0 && out_len >= 15) {
        if (out[0] == 21) {
            *alert = out[14];
            rc = 0;
        } else {
            *alert = 0; /* a handshake flight: the server accepted */
            rc = 0;
        }
    }
    sdtls_conn_free(s);
    sdtls_config_free(cfg);
    return rc;
}

static void test_server_refuses_suites_not_in_build(void **state)
{
    uint8_t alert = 0xff;
    /* Certificate, ECDHE, other AEAD and CBC suites: none is in this build. */
    static const uint16_t other[] = {0xC02B, 0xC0AE, 0xC02F, 0xD001, 0xCCAC,
                                     0x00A8, 0x00A9, 0xC0A4, 0x00AE, 0xC009};
    assert_int_equal(server_answer(other, sizeof(other) / sizeof(other[0]), &alert), 0);
    assert_int_equal(alert, SDTLS_ALERT_HANDSHAKE_FAILURE);
    /* The same list with the CCM_8 suite last: the server takes it. */
    static const uint16_t with_ccm8[] = {0xC02B, 0x00A8, 0xC0A4, 0xC0A8};
    assert_int_equal(server_answer(with_ccm8, sizeof(with_ccm8) / sizeof(with_ccm8[0]), &alert),
                     0);
    assert_int_equal(alert, 0);
}

/* Handshake through the stateless screen with 20% loss, duplicates and reordering, CIDs on
 * both sides, then data both ways and the same exported keys on each side. */
static void test_handshake_lossy_with_cid(void **state)
{
    uint64_t cs = 11, ss = 12;
    sdtls_config *ccfg = psk_config(NULL, &cs), *scfg = psk_config(NULL, &ss);
    assert_int_equal(sdtls_config_set_cid(ccfg, 4), 0);
    assert_int_equal(sdtls_config_set_cid(scfg, 6), 0);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        static link l;
        sdtls_conn *c;
        assert_int_equal(sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c), 0);
        link_init(&l, seed, c, NULL);
        l.server_cfg = scfg;
        link_impair imp = {.loss = 0.2, .dup = 0.05, .reorder = 0.1, .reorder_ms = 30,
                           .delay_ms = 10, .jitter_ms = 10};
        l.dir[0].imp = imp;
        l.dir[1].imp = imp;
        assert_int_equal(link_run_handshake(&l, 3600 * 1000), 0);
        sdtls_conn *s = l.ep[1];
        assert_string_equal(sdtls_conn_cipher_name(c), "TLS_PSK_WITH_AES_128_CCM_8");
        assert_string_equal(sdtls_conn_cipher_name(s), "TLS_PSK_WITH_AES_128_CCM_8");
        uint8_t cid[20];
        size_t cid_len = 0;
        assert_int_equal(sdtls_conn_cid(c, cid, sizeof(cid), &cid_len), 0);
        assert_int_equal(cid_len, 4);
        assert_int_equal(sdtls_conn_cid(s, cid, sizeof(cid), &cid_len), 0);
        assert_int_equal(cid_len, 6);
        uint8_t kc[32], ks[32];
        assert_int_equal(sdtls_conn_export(c, "EXPERIMENTAL test", NULL, 0, kc, 32), 0);
        assert_int_equal(sdtls_conn_export(s, "EXPERIMENTAL test", NULL, 0, ks, 32), 0);
        assert_memory_equal(kc, ks, 32);
        l.dir[0].imp = (link_impair){0};
        l.dir[1].imp = (link_impair){0};
        assert_int_equal(link_write(&l, 0, "GET /temp", 9), 0);
        assert_int_equal(link_write(&l, 1, "21.5C", 5), 0);
        link_run_for(&l, 100);
        assert_int_equal(l.rx_len[1], 9);
        assert_memory_equal(l.rx[1], "GET /temp", 9);
        assert_int_equal(l.rx_len[0], 5);
        assert_memory_equal(l.rx[0], "21.5C", 5);
        sdtls_conn_free(c);
        if (l.server_created) {
            sdtls_conn_free(s);
        }
    }
    sdtls_config_free(ccfg);
    sdtls_config_free(scfg);
}

/* Memory of one session in this build, measured as test_footprint does for the full one. */
static link_footprint measure(int small)
{
    tu_alloc_stats cst = {0}, sst = {0};
    sdtls_allocator ca = tu_counting_allocator(&cst), sa = tu_counting_allocator(&sst);
    uint64_t cs = 21, ss = 22;
    sdtls_config *ccfg = psk_config(&ca, &cs), *scfg = psk_config(&sa, &ss);
    if (small) {
        assert_int_equal(sdtls_config_set_budgets(ccfg, 1024, 0, 2048, 1280), 0);
        assert_int_equal(sdtls_config_set_budgets(scfg, 1024, 0, 2048, 1280), 0);
    }
    link_footprint m;
    assert_int_equal(link_measure_session(ccfg, &cst, scfg, &sst, &m), 0);
    sdtls_config_free(ccfg);
    sdtls_config_free(scfg);
    assert_int_equal(cst.live_allocs, 0);
    assert_int_equal(sst.live_allocs, 0);
    return m;
}

static void test_footprint(void **state)
{
    (void)measure(0); /* libcrypto caches what it fetches first: not the session's memory */
    link_footprint d = measure(0), s = measure(1);
    printf("footprint psk-ccm8 default budgets: client peak=%zu established=%zu  server "
           "peak=%zu established=%zu  libcrypto (both) peak=%zu established=%zu\n",
           d.client_peak, d.client_established, d.server_peak, d.server_established,
           d.crypto_peak, d.crypto_established);
    printf("footprint psk-ccm8 small budgets:   client peak=%zu established=%zu  server "
           "peak=%zu established=%zu  libcrypto (both) peak=%zu established=%zu\n",
           s.client_peak, s.client_established, s.server_peak, s.server_established,
           s.crypto_peak, s.crypto_established);
    assert_true(s.crypto_established > 0 && s.crypto_established < 8192);
    /* The profile's default handshake budgets are sized for PSK, not for certificate
     * chains: the full build's defaults peak near 95 KiB. */
    assert_true(d.client_peak < 40 * 1024 && d.server_peak < 40 * 1024);
    assert_true(s.client_established < 4096 && s.server_established < 4096);
    assert_true(s.client_peak < 16384 && s.server_peak < 16384);
}

int main(void)
{
    /* Before anything touches libcrypto. */
    if (tu_count_crypto_heap() != 0) {
        fprintf(stderr, "cannot count libcrypto's heap: it allocated before main\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_names_profile),
        cmocka_unit_test(test_only_ccm8_suite_is_accepted),
        cmocka_unit_test(test_client_hello_offers_ccm8_only),
        cmocka_unit_test(test_server_refuses_suites_not_in_build),
        cmocka_unit_test(test_handshake_lossy_with_cid),
        cmocka_unit_test(test_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
