/* Full handshakes between two sdtls endpoints over a clean in-memory link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conn/conn.h"
#include "link.h"
#include "testutil.h"

static const uint8_t client_addr[] = {127, 0, 0, 1, 0x30, 0x39};

typedef struct pair {
    sdtls_config *ccfg, *scfg;
    sdtls_conn *c, *s;
    uint64_t rng_c, rng_s;
    link l;
} pair;

static void log_line(void *user, sdtls_log_level level, const char *msg)
{
    fprintf(stderr, "  [%s] %s\n", (const char *)user, msg);
}

static void pair_setup(pair *p, sdtls_key_type key, const char *suite, const char *group)
{
    memset(p, 0, sizeof(*p));
    p->rng_c = 0x1234567;
    p->rng_s = 0x7654321;
    assert_int_equal(sdtls_config_new(&p->ccfg, NULL), 0);
    assert_int_equal(sdtls_config_new(&p->scfg, NULL), 0);
    assert_int_equal(sdtls_config_set_rng(p->ccfg, tu_rng, &p->rng_c), 0);
    assert_int_equal(sdtls_config_set_rng(p->scfg, tu_rng, &p->rng_s), 0);
    if (getenv("SDTLS_TEST_LOG") != NULL) {
        assert_int_equal(sdtls_config_set_log(p->ccfg, SDTLS_LOG_DEBUG, log_line, "client"), 0);
        assert_int_equal(sdtls_config_set_log(p->scfg, SDTLS_LOG_DEBUG, log_line, "server"), 0);
    }
    assert_int_equal(sdtls_config_generate_cert(p->scfg, key, "server"), 0);
    char fp[200];
    assert_int_equal(sdtls_config_get_fingerprint(p->scfg, "sha-256", fp, sizeof(fp)), 0);
    assert_int_equal(sdtls_config_set_verify(p->ccfg, SDTLS_VERIFY_FINGERPRINT), 0);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p->ccfg, fp), 0);
    if (suite != NULL) {
        assert_int_equal(sdtls_config_set_ciphers(p->ccfg, suite), 0);
    }
    if (group != NULL) {
        assert_int_equal(sdtls_config_set_groups(p->ccfg, group), 0);
    }
}

static void pair_connect(pair *p, uint64_t seed)
{
    assert_int_equal(sdtls_conn_new(p->ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &p->c), 0);
    assert_int_equal(
        sdtls_conn_new(p->scfg, SDTLS_ROLE_SERVER, client_addr, sizeof(client_addr), &p->s), 0);
    link_init(&p->l, seed, p->c, p->s);
}

static void pair_teardown(pair *p)
{
    sdtls_conn_free(p->c);
    sdtls_conn_free(p->s);
    sdtls_config_free(p->ccfg);
    sdtls_config_free(p->scfg);
}

static void exchange_data(pair *p)
{
    assert_int_equal(link_write(&p->l, 0, "hello server", 12), 0);
    assert_int_equal(link_write(&p->l, 1, "hello client", 12), 0);
    link_run_for(&p->l, 100);
    assert_int_equal(p->l.rx_len[1], 12);
    assert_memory_equal(p->l.rx[1], "hello server", 12);
    assert_int_equal(p->l.rx_len[0], 12);
    assert_memory_equal(p->l.rx[0], "hello client", 12);
}

static void run_suite(sdtls_key_type key, const char *suite, const char *group)
{
    pair p;
    /* RFC 8422 5.1: the client's groups must also name its ECDSA certificate's curve; the
     * group asked for comes first, so it is the one negotiated. */
    char groups[64];
    const char *curve = key == SDTLS_KEY_EC_P256 ? "secp256r1"
                        : key == SDTLS_KEY_EC_P384 ? "secp384r1"
                                                   : NULL;
    if (group != NULL && curve != NULL && strcmp(group, curve) != 0) {
        snprintf(groups, sizeof(groups), "%s:%s", group, curve);
    } else {
        snprintf(groups, sizeof(groups), "%s", group != NULL ? group : "x25519");
    }
    pair_setup(&p, key, suite, groups);
    pair_connect(&p, 1);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    assert_string_equal(sdtls_conn_cipher_name(p.c), suite);
    assert_string_equal(sdtls_conn_cipher_name(p.s), suite);
    if (group != NULL) {
        assert_string_equal(sdtls_conn_group_name(p.c), group);
    }
    exchange_data(&p);
    /* Both sides derive the same exporter output. */
    uint8_t a[32], b[32];
    assert_int_equal(sdtls_conn_export(p.c, "EXPERIMENTAL test", NULL, 0, a, sizeof(a)), 0);
    assert_int_equal(sdtls_conn_export(p.s, "EXPERIMENTAL test", NULL, 0, b, sizeof(b)), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(sdtls_conn_handshake_rtx(p.c), 0);
    pair_teardown(&p);
}

static void test_ecdsa_aes128(void **state)
{
    run_suite(SDTLS_KEY_EC_P256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "x25519");
}
static void test_ecdsa_aes256_p384(void **state)
{
    run_suite(SDTLS_KEY_EC_P384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "secp384r1");
}
static void test_ecdsa_chacha_p256(void **state)
{
    run_suite(SDTLS_KEY_EC_P256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "secp256r1");
}
static void test_ed25519(void **state)
{
    run_suite(SDTLS_KEY_ED25519, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "x25519");
}
static void test_rsa_suites(void **state)
{
    run_suite(SDTLS_KEY_RSA2048, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "x25519");
    run_suite(SDTLS_KEY_RSA2048, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "secp256r1");
    run_suite(SDTLS_KEY_RSA2048, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "x25519");
}

static void test_mutual_auth(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_generate_cert(p.ccfg, SDTLS_KEY_EC_P256, "client"), 0);
    char fp[200];
    assert_int_equal(sdtls_config_get_fingerprint(p.ccfg, "sha-256", fp, sizeof(fp)), 0);
    assert_int_equal(sdtls_config_set_client_auth(p.scfg, 1, 1), 0);
    assert_int_equal(sdtls_config_set_verify(p.scfg, SDTLS_VERIFY_FINGERPRINT), 0);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.scfg, fp), 0);
    pair_connect(&p, 2);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    char got[200];
    assert_int_equal(sdtls_conn_peer_fingerprint(p.s, got, sizeof(got)), 0);
    assert_string_equal(got, fp);
    exchange_data(&p);
    pair_teardown(&p);
}

static void test_client_cert_required_missing(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_client_auth(p.scfg, 1, 1), 0);
    assert_int_equal(sdtls_config_set_verify(p.scfg, SDTLS_VERIFY_NONE), 0);
    pair_connect(&p, 3);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    assert_int_equal(p.l.err[0], SDTLS_ERR_PEER_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    pair_teardown(&p);
}

static void test_wrong_fingerprint(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_peer_fingerprint(
                         p.ccfg, "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"),
                     0);
    pair_connect(&p, 4);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[0], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_BAD_CERTIFICATE));
    assert_int_equal(p.l.err[1], SDTLS_ERR_PEER_ALERT(SDTLS_ALERT_BAD_CERTIFICATE));
    assert_int_equal(p.l.rx_len[1], 0);
    pair_teardown(&p);
}

static void test_ecdsa_curve_not_offered(void **state)
{
    /* A client whose groups leave out P-256 cannot take a P-256 certificate (RFC 8422 5.1):
     * the server must not choose an ECDSA suite then. */
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, "x25519");
    pair_connect(&p, 22);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    pair_teardown(&p);
}

static void test_no_shared_suite(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", NULL);
    pair_connect(&p, 5);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    pair_teardown(&p);
}

static void test_small_mtu_fragments(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_RSA2048, NULL, NULL);
    assert_int_equal(sdtls_config_set_mtu(p.scfg, 300), 0);
    assert_int_equal(sdtls_config_set_mtu(p.ccfg, 300), 0);
    pair_connect(&p, 6);
    p.l.dir[0].imp.mtu = 300;
    p.l.dir[1].imp.mtu = 300;
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    exchange_data(&p);
    pair_teardown(&p);
}

static void test_close_notify(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    pair_connect(&p, 7);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(sdtls_conn_close(p.c), 0);
    link_run_for(&p.l, 100);
    assert_true(p.l.closed[1]);
    assert_true(p.l.closed[0]);
    assert_true(sdtls_conn_is_closed(p.c));
    assert_true(sdtls_conn_is_closed(p.s));
    pair_teardown(&p);
}

static void test_srtp(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    static const uint8_t mki[] = {1, 2, 3};
    assert_int_equal(sdtls_config_set_srtp_profiles(
                         p.ccfg, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"), 0);
    assert_int_equal(sdtls_config_set_srtp_mki(p.ccfg, mki, sizeof(mki)), 0);
    /* Server preference wins among the client's offers. */
    assert_int_equal(sdtls_config_set_srtp_profiles(
                         p.scfg, "SRTP_AES128_CM_HMAC_SHA1_80,SRTP_AEAD_AES_128_GCM"), 0);
    pair_connect(&p, 8);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    sdtls_srtp_keys a, b;
    assert_int_equal(sdtls_conn_srtp_keys(p.c, &a), 0);
    assert_int_equal(sdtls_conn_srtp_keys(p.s, &b), 0);
    assert_int_equal(a.profile, 0x0001);
    assert_string_equal(a.profile_name, "SRTP_AES128_CM_HMAC_SHA1_80");
    assert_string_equal(sdtls_conn_srtp_profile_name(p.s), "SRTP_AES128_CM_HMAC_SHA1_80");
    assert_int_equal(a.key_len, 16);
    assert_int_equal(a.salt_len, 14);
    assert_int_equal(a.material_len, 60);
    assert_memory_equal(a.material, b.material, 60);
    assert_memory_equal(a.client_key, b.material, 16);
    assert_memory_equal(a.server_key, b.material + 16, 16);
    assert_memory_equal(a.client_salt, b.material + 32, 14);
    assert_memory_equal(a.server_salt, b.material + 46, 14);
    assert_int_equal(b.mki_len, 3);
    assert_memory_equal(b.mki, mki, 3);
    /* The same bytes as the general exporter gives. */
    uint8_t ex[60];
    assert_int_equal(sdtls_conn_export(p.c, "EXTRACTOR-dtls_srtp", NULL, 0, ex, sizeof(ex)), 0);
    assert_memory_equal(ex, a.material, 60);
    pair_teardown(&p);
}

static void test_srtp_required(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_srtp_profiles(p.ccfg, "SRTP_AEAD_AES_256_GCM"), 0);
    pair_connect(&p, 9);
    /* A server without DTLS-SRTP ignores the offer; the client requires it. */
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[0], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    pair_teardown(&p);
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_srtp_profiles(p.ccfg, "SRTP_AEAD_AES_256_GCM"), 0);
    assert_int_equal(sdtls_config_set_srtp_profiles(p.scfg, "SRTP_AES128_CM_HMAC_SHA1_32"), 0);
    pair_connect(&p, 10);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_HANDSHAKE_FAILURE));
    pair_teardown(&p);
    assert_int_equal(sdtls_demux_classify((const uint8_t *)"\x16", 1), SDTLS_DEMUX_DTLS);
    assert_int_equal(sdtls_demux_classify((const uint8_t *)"\x00", 1), SDTLS_DEMUX_STUN);
    assert_int_equal(sdtls_demux_classify((const uint8_t *)"\x80", 1), SDTLS_DEMUX_RTP);
    assert_int_equal(sdtls_demux_classify((const uint8_t *)"\xff", 1), SDTLS_DEMUX_UNKNOWN);
}

static void test_sdp_fingerprint_forms(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    char fp[200], line[220], lower[200];
    assert_int_equal(sdtls_config_get_fingerprint(p.scfg, "sha-512", fp, sizeof(fp)), 0);
    snprintf(line, sizeof(line), "a=fingerprint:%s", fp);
    for (size_t i = 0; i <= strlen(fp); i++) {
        lower[i] = (char)((fp[i] >= 'A' && fp[i] <= 'F') ? fp[i] + 32 : fp[i]);
    }
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.ccfg, line), 0);
    pair_connect(&p, 11);
    assert_int_equal(sdtls_conn_set_peer_fingerprint(p.c, lower), 0);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    pair_teardown(&p);
    assert_int_equal(sdtls_config_new(&p.ccfg, NULL), 0);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.ccfg, "sha-256 AB:CD"), SDTLS_ERR_ARG);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.ccfg, "md5 AB:CD"), SDTLS_ERR_ARG);
    sdtls_config_free(p.ccfg);
}

static int psk_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key, size_t cap)
{
    if (id_len == 6 && memcmp(id, "device", 6) == 0) {
        memset(key, 0x42, 16);
        return 16;
    }
    return -1;
}

static void run_psk(const char *suite, int use_callback, const char *hint, int expect_ok)
{
    pair p;
    uint8_t key[16];
    memset(key, 0x42, sizeof(key));
    memset(&p, 0, sizeof(p));
    p.rng_c = 77;
    p.rng_s = 78;
    assert_int_equal(sdtls_config_new(&p.ccfg, NULL), 0);
    assert_int_equal(sdtls_config_new(&p.scfg, NULL), 0);
    assert_int_equal(sdtls_config_set_rng(p.ccfg, tu_rng, &p.rng_c), 0);
    assert_int_equal(sdtls_config_set_rng(p.scfg, tu_rng, &p.rng_s), 0);
    assert_int_equal(
        sdtls_config_set_psk(p.ccfg, (const uint8_t *)"device", 6, key, expect_ok ? 16 : 15), 0);
    if (suite != NULL) {
        assert_int_equal(sdtls_config_set_ciphers(p.ccfg, suite), 0);
    }
    if (use_callback) {
        assert_int_equal(sdtls_config_set_psk_callback(p.scfg, psk_lookup, NULL), 0);
    } else {
        assert_int_equal(sdtls_config_set_psk(p.scfg, (const uint8_t *)"device", 6, key, 16), 0);
    }
    if (hint != NULL) {
        assert_int_equal(sdtls_config_set_psk_hint(p.scfg, (const uint8_t *)hint, strlen(hint)), 0);
    }
    pair_connect(&p, 12);
    int rc = link_run_handshake(&p.l, 10000);
    if (!expect_ok) {
        /* With a wrong key the client's Finished does not even authenticate as a record:
         * dropped silently (RFC 6347 4.1.2.7) and counted; the handshake cannot finish. */
        assert_int_not_equal(rc, 0);
        sdtls_stats st;
        sdtls_conn_stats(p.s, &st);
        assert_true(st.drop_bad_mac >= 1);
        assert_false(sdtls_conn_is_handshake_done(p.s));
        pair_teardown(&p);
        return;
    }
    assert_int_equal(rc, 0);
    if (suite != NULL) {
        assert_string_equal(sdtls_conn_cipher_name(p.c), suite);
    }
    char fp[128];
    assert_int_equal(sdtls_conn_peer_fingerprint(p.c, fp, sizeof(fp)), SDTLS_ERR_STATE);
    exchange_data(&p);
    pair_teardown(&p);
}

static void test_psk_suites(void **state)
{
    run_psk(NULL, 0, NULL, 1);
    run_psk("TLS_PSK_WITH_AES_128_CCM_8", 0, NULL, 1);
    run_psk("TLS_PSK_WITH_AES_128_CCM", 1, "hint", 1);
    run_psk("TLS_PSK_WITH_AES_128_GCM_SHA256", 1, NULL, 1);
    run_psk("TLS_PSK_WITH_AES_256_GCM_SHA384", 0, "hint", 1);
    run_psk("TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", 1, NULL, 1);
    run_psk("TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", 0, "a hint", 1);
    run_psk("TLS_PSK_WITH_AES_128_CCM_8", 0, NULL, 0);
}

static void test_psk_unknown_identity(void **state)
{
    pair p;
    uint8_t key[16] = {1};
    memset(&p, 0, sizeof(p));
    assert_int_equal(sdtls_config_new(&p.ccfg, NULL), 0);
    assert_int_equal(sdtls_config_new(&p.scfg, NULL), 0);
    assert_int_equal(sdtls_config_set_psk(p.ccfg, (const uint8_t *)"stranger", 8, key, 16), 0);
    assert_int_equal(sdtls_config_set_psk_callback(p.scfg, psk_lookup, NULL), 0);
    pair_connect(&p, 13);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_UNKNOWN_PSK_IDENTITY));
    assert_int_equal(p.l.err[0], SDTLS_ERR_PEER_ALERT(SDTLS_ALERT_UNKNOWN_PSK_IDENTITY));
    pair_teardown(&p);
}

static void test_ccm_certificate_suites(void **state)
{
    run_suite(SDTLS_KEY_EC_P256, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "secp256r1");
    run_suite(SDTLS_KEY_EC_P256, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "x25519");
}

static void run_cid(int client_len, int server_len, const char *suite)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, suite, NULL);
    assert_int_equal(sdtls_config_set_cid(p.ccfg, client_len), 0);
    assert_int_equal(sdtls_config_set_cid(p.scfg, server_len), 0);
    pair_connect(&p, 14);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    exchange_data(&p);
    uint8_t cid[32];
    size_t n;
    int on = client_len >= 0 && server_len >= 0;
    assert_int_equal(sdtls_conn_cid(p.s, cid, sizeof(cid), &n), on ? 0 : SDTLS_ERR_STATE);
    if (on) {
        assert_int_equal(n, (size_t)server_len);
        /* Records to the server carry its CID, so it can route them whatever the address. */
        uint8_t dg[256];
        size_t len;
        const uint8_t *got;
        assert_int_equal(sdtls_conn_write(p.c, (const uint8_t *)"cid", 3, dg, sizeof(dg), &len),
                         0);
        if (server_len > 0) {
            assert_int_equal(dg[0], 25);
            assert_int_equal(sdtls_datagram_cid(dg, len, n, &got), 1);
            assert_memory_equal(got, cid, n);
        } else {
            assert_int_equal(dg[0], 23);
        }
        /* Newest-record tracking (RFC 9146 6): a fresh record is newer, its replay is not. */
        assert_int_equal(sdtls_conn_recv(p.s, dg, len, p.l.now), 0);
        assert_true(sdtls_conn_rx_was_newest(p.s));
        assert_int_equal(sdtls_conn_recv(p.s, dg, len, p.l.now), 0);
        assert_false(sdtls_conn_rx_was_newest(p.s));
    }
    pair_teardown(&p);
}

static void test_connection_id(void **state)
{
    run_cid(4, 8, NULL);
    run_cid(0, 6, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    run_cid(5, 0, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    run_cid(20, 20, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    run_cid(-1, 4, NULL);
    run_cid(4, -1, NULL);
}

static void test_raw_public_keys(void **state)
{
    pair p;
    char sfp[200], cfp[200];
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_generate_cert(p.ccfg, SDTLS_KEY_ED25519, "client"), 0);
    assert_int_equal(sdtls_config_set_raw_public_key(p.ccfg, 1), 0);
    assert_int_equal(sdtls_config_set_raw_public_key(p.scfg, 1), 0);
    assert_int_equal(sdtls_config_get_public_key_fingerprint(p.scfg, "sha-256", sfp, sizeof(sfp)),
                     0);
    assert_int_equal(sdtls_config_get_public_key_fingerprint(p.ccfg, "sha-256", cfp, sizeof(cfp)),
                     0);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.ccfg, sfp), 0);
    assert_int_equal(sdtls_config_set_client_auth(p.scfg, 1, 1), 0);
    assert_int_equal(sdtls_config_set_verify(p.scfg, SDTLS_VERIFY_FINGERPRINT), 0);
    assert_int_equal(sdtls_config_set_peer_fingerprint(p.scfg, cfp), 0);
    pair_connect(&p, 15);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    char got[200];
    assert_int_equal(sdtls_conn_peer_fingerprint(p.c, got, sizeof(got)), 0);
    assert_string_equal(got, sfp);
    assert_int_equal(sdtls_conn_peer_fingerprint(p.s, got, sizeof(got)), 0);
    assert_string_equal(got, cfp);
    exchange_data(&p);
    pair_teardown(&p);

    /* A raw-key server still serves X.509 clients. */
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_raw_public_key(p.scfg, 1), 0);
    pair_connect(&p, 16);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    pair_teardown(&p);

    /* A raw-key-only client and an X.509-only server share no certificate type: the server
     * says so (RFC 7250 4.2). */
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_raw_public_key(p.ccfg, 1), 0);
    pair_connect(&p, 17);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[1], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_UNSUPPORTED_CERTIFICATE));
    assert_int_equal(p.l.err[0], SDTLS_ERR_PEER_ALERT(SDTLS_ALERT_UNSUPPORTED_CERTIFICATE));
    pair_teardown(&p);

    /* CA verification cannot accept a raw key. */
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_raw_public_key(p.ccfg, 1), 0);
    assert_int_equal(sdtls_config_set_raw_public_key(p.scfg, 1), 0);
    assert_int_equal(sdtls_config_set_verify(p.ccfg, SDTLS_VERIFY_CA), 0);
    pair_connect(&p, 18);
    assert_int_not_equal(link_run_handshake(&p.l, 10000), 0);
    assert_int_equal(p.l.err[0], SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_UNSUPPORTED_CERTIFICATE));
    pair_teardown(&p);
}

static void test_heartbeat(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, NULL, NULL);
    assert_int_equal(sdtls_config_set_heartbeat(p.ccfg, 2), 0); /* server may not send */
    assert_int_equal(sdtls_config_set_heartbeat(p.scfg, 1), 0); /* client may send */
    pair_connect(&p, 19);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    uint8_t dg[1500];
    size_t len;
    /* The server may not probe the client. */
    assert_int_equal(sdtls_conn_heartbeat(p.s, 100, dg, sizeof(dg), &len), SDTLS_ERR_STATE);
    /* A 1200-byte probe from the client comes back answered. */
    assert_int_equal(sdtls_conn_heartbeat(p.c, 1200, dg, sizeof(dg), &len), 0);
    assert_int_equal(len, 1200);
    assert_int_equal(sdtls_conn_recv(p.s, dg, len, p.l.now), 0);
    uint8_t resp[1500];
    size_t rlen;
    assert_int_equal(sdtls_conn_send(p.s, resp, sizeof(resp), &rlen, p.l.now), 0);
    assert_true(rlen > 0 && rlen < 100);
    assert_int_equal(sdtls_conn_recv(p.c, resp, rlen, p.l.now), 0);
    sdtls_event ev;
    assert_int_equal(sdtls_conn_next_event(p.c, &ev), 0);
    assert_int_equal(ev.type, SDTLS_EV_HEARTBEAT);
    assert_int_equal(ev.len, 1200);
    /* The same response again matches nothing (replay) and makes no event. */
    assert_int_equal(sdtls_conn_recv(p.c, resp, rlen, p.l.now), 0);
    assert_int_equal(sdtls_conn_next_event(p.c, &ev), 0);
    assert_int_equal(ev.type, SDTLS_EV_NONE);
    /* A request whose payload_length runs past the record is dropped, never echoed. */
    uint8_t bad[64] = {1, 0x40, 0x00}; /* claims 16384 bytes of payload */
    sdtls_wr w = sdtls_wr_init(dg, sizeof(dg));
    assert_int_equal(
        sdtls__rec_seal(&p.c->wr1, SDTLS_CT_HEARTBEAT, SDTLS_VERSION_DTLS12, bad, sizeof(bad), &w),
        0);
    sdtls_stats st0, st1;
    sdtls_conn_stats(p.s, &st0);
    assert_int_equal(sdtls_conn_recv(p.s, dg, w.len, p.l.now), 0);
    sdtls_conn_stats(p.s, &st1);
    assert_int_equal(st1.drop_malformed, st0.drop_malformed + 1);
    assert_int_equal(sdtls_conn_send(p.s, resp, sizeof(resp), &rlen, p.l.now), 0);
    assert_int_equal(rlen, 0);
    pair_teardown(&p);
}

static void test_legacy_cbc(void **state)
{
    pair p;
    pair_setup(&p, SDTLS_KEY_EC_P256, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", NULL);
    assert_int_equal(sdtls_config_set_legacy_cbc(p.ccfg, 1), 0);
    assert_int_equal(sdtls_config_set_legacy_cbc(p.scfg, 1), 0);
    pair_connect(&p, 20);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    assert_string_equal(sdtls_conn_cipher_name(p.s), "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA");
    exchange_data(&p);
    /* Every plaintext length around the block size survives the padding. */
    for (size_t n = 0; n < 40; n++) {
        uint8_t msg[64], dg[256];
        size_t len;
        memset(msg, (int)n, sizeof(msg));
        assert_int_equal(sdtls_conn_write(p.c, msg, n, dg, sizeof(dg), &len), 0);
        assert_int_equal(sdtls_conn_recv(p.s, dg, len, p.l.now), 0);
        sdtls_event ev;
        assert_int_equal(sdtls_conn_next_event(p.s, &ev), 0);
        assert_int_equal(ev.type, SDTLS_EV_DATA);
        assert_int_equal(ev.len, n);
        assert_memory_equal(ev.data, msg, n);
        /* A flipped bit anywhere is caught by the MAC. */
        assert_int_equal(sdtls_conn_write(p.c, msg, n, dg, sizeof(dg), &len), 0);
        dg[13 + (n % (len - 13))] ^= 0x80;
        assert_int_equal(sdtls_conn_recv(p.s, dg, len, p.l.now), 0);
        assert_int_equal(sdtls_conn_next_event(p.s, &ev), 0);
        assert_int_equal(ev.type, SDTLS_EV_NONE);
    }
    pair_teardown(&p);

    /* Without the legacy switch on the server, the client's CBC offer goes unused. */
    pair_setup(&p, SDTLS_KEY_EC_P256,
               "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
               NULL);
    assert_int_equal(sdtls_config_set_legacy_cbc(p.ccfg, 1), 0);
    pair_connect(&p, 21);
    assert_int_equal(link_run_handshake(&p.l, 10000), 0);
    assert_string_equal(sdtls_conn_cipher_name(p.c), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    pair_teardown(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_aes128),
        cmocka_unit_test(test_ecdsa_aes256_p384),
        cmocka_unit_test(test_ecdsa_chacha_p256),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_rsa_suites),
        cmocka_unit_test(test_mutual_auth),
        cmocka_unit_test(test_client_cert_required_missing),
        cmocka_unit_test(test_wrong_fingerprint),
        cmocka_unit_test(test_no_shared_suite),
        cmocka_unit_test(test_ecdsa_curve_not_offered),
        cmocka_unit_test(test_small_mtu_fragments),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_srtp),
        cmocka_unit_test(test_srtp_required),
        cmocka_unit_test(test_sdp_fingerprint_forms),
        cmocka_unit_test(test_psk_suites),
        cmocka_unit_test(test_psk_unknown_identity),
        cmocka_unit_test(test_ccm_certificate_suites),
        cmocka_unit_test(test_connection_id),
        cmocka_unit_test(test_raw_public_keys),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_legacy_cbc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
