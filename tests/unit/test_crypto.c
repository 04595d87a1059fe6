/*
 * Unit tests of the crypto seam (src/crypto/ossl.c): known-answer vectors for every
 * primitive with a published one, round trips and rejections for the rest.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode hex (spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ' ') {
            continue;
        }
        int v = hex_nibble(*p);
        assert_true(v >= 0);
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_true(hi < 0);
    return n;
}

/* A private scratch directory for the file tests, removed by the group teardown. */
static char tmp_dir[64];

static void tmp_path(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmp_dir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Generated once per run: RSA key generation is the slow part of this file. */
static sdtls__cert certs[4]; /* indexed by sdtls_key_type */

static const uint8_t serial_a[16] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const char ROOT_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBZjCCAQ2gAwIBAgIBIDAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9zZHRscy10\n"
                               "ZXN0LXJvb3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBoxGDAW\n"
                               "BgNVBAMMD3NkdGxzLXRlc3Qtcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA\n"
                               "BC2gzSZAgsoNOJF2lQZrm3Huv+cogVAfD2Jy3d0btE108m6u1th5PoiLV0MnL+4M\n"
                               "sataMqMgalo8aGfVx6YJwwGjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/\n"
                               "BAQDAgEGMB0GA1UdDgQWBBRhjQcz4xhVmVHXiXMlvVodrDJk1zAKBggqhkjOPQQD\n"
                               "AgNHADBEAiBYzGtKZQaWBjmb9E+CvRZRmDUFzbF+etoxboRp+HUNFQIgKNa4COW6\n"
                               "oKvj0qH3tsVFSSIVXnc7ZIA5vNaPK5XtoN4=\n"
                               "-----END CERTIFICATE-----\n";

static const char INTER_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                                "MIIBiTCCAS+gAwIBAgIBITAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9zZHRscy10\n"
                                "ZXN0LXJvb3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBsxGTAX\n"
                                "BgNVBAMMEHNkdGxzLXRlc3QtaW50ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
                                "AAQqDax7yTY+hlYqwjTFqmDPcXjmh0uO0CtuX2/Ba2seeLkhg3hqVLM9XJSM0EyZ\n"
                                "QWWhWVmvaIZUl3kei51pGeyIo2MwYTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB\n"
                                "/wQEAwIBBjAdBgNVHQ4EFgQU/nBZU7veiuJMe84pIsVKsqOEb9AwHwYDVR0jBBgw\n"
                                "FoAUYY0HM+MYVZlR14lzJb1aHawyZNcwCgYIKoZIzj0EAwIDSAAwRQIhAMAKIzZE\n"
                                "f+IFcwv9n0JD3zBa+al9QUZo9nIqwn/sAgEuAiBWO2TGGFev5hRN72nLFXLgeM/U\n"
                                "X9QJ6qJURgwq3qSvqA==\n"
                                "-----END CERTIFICATE-----\n";

static const char LEAF_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBjDCCATKgAwIBAgIBIjAKBggqhkjOPQQDAjAbMRkwFwYDVQQDDBBzZHRscy10\n"
                               "ZXN0LWludGVyMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAXMRUw\n"
                               "EwYDVQQDDAxsZWFmLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQp\n"
                               "SXgcqo7b5aKnTHRED/76NaLTz92cfmEGUKE7+uDIT2y0m5GK3B/DjZdfZkVeHsvT\n"
                               "FNNmBm+PBIAuiaVjGNUCo2kwZzAMBgNVHRMBAf8EAjAAMBcGA1UdEQQQMA6CDGxl\n"
                               "YWYuZXhhbXBsZTAdBgNVHQ4EFgQUTVPipeFk64mXcDOCQsgjIjP1pqwwHwYDVR0j\n"
                               "BBgwFoAU/nBZU7veiuJMe84pIsVKsqOEb9AwCgYIKoZIzj0EAwIDSAAwRQIgEkI0\n"
                               "ouw17d9MNbGI9OmbWa8t3eyT4t5KDfBHE7eS7kUCIQDneC+ikK0iRSn2K9KCwl33\n"
                               "KxjaIXZDFroqALRmEyjmcA==\n"
                               "-----END CERTIFICATE-----\n";

static const char LEAF_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgukEcXRCY3Hptcukz\n"
    "FA74+ACR06isIaafpNbgF4I+GKShRANCAAQpSXgcqo7b5aKnTHRED/76NaLTz92c\n"
    "fmEGUKE7+uDIT2y0m5GK3B/DjZdfZkVeHsvTFNNmBm+PBIAuiaVjGNUC\n"
    "-----END PRIVATE KEY-----\n";

static const char EXPIRED_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBGjCBwgIBEDAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9leHBpcmVkLmV4YW1w\n"
    "bGUwHhcNMjAwMTAxMDAwMDAwWhcNMjAwMjAxMDAwMDAwWjAaMRgwFgYDVQQDDA9l\n"
    "eHBpcmVkLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATwJu5AteiF\n"
    "mPfnEtUMoaQdKb+VF3aOWEchYnPQOD4CtGNpgTo+//0m2sF4tmXQIfPKEK0KfUAX\n"
    "8cmPJw+x4B6qMAoGCCqGSM49BAMCA0cAMEQCIFQ11M1UtQvyMQ0K7rOis4uAXyQQ\n"
    "A7/LYT5B/ppipSagAiBFz0mF2+UavgjgKH/U9cIA0/DqlzpBDFDZrkBatqE5NQ==\n"
    "-----END CERTIFICATE-----\n";

static const char FUTURE_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBHTCBxAIBETAKBggqhkjOPQQDAjAZMRcwFQYDVQQDDA5mdXR1cmUuZXhhbXBs\n"
    "ZTAiGA8yMDkwMDEwMTAwMDAwMFoYDzIwOTEwMTAxMDAwMDAwWjAZMRcwFQYDVQQD\n"
    "DA5mdXR1cmUuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABP4H3CAh\n"
    "IOIFg6qOl/z/8HyGLs270bUQi29ByDrYLSx+2mAcLP98ETS2/jLrGAsHrLX1fTeC\n"
    "hNkm4dBf6eGob7QwCgYIKoZIzj0EAwIDSAAwRQIgI/xRDoz+J7llPwprkJ7KZCRA\n"
    "xOWRxqjCBT2axXhmyjsCIQCwT84rtCQmi4nIuVm9GMtmF6sNYZvhHcOZVGNyYcsN\n"
    "fg==\n"
    "-----END CERTIFICATE-----\n";
/* Deterministic-signature fixtures: a 1024-bit RSA key (small only to keep this file short)
 * and the RFC 8032 7.1 TEST 1 Ed25519 key, each with a self-signed certificate made by the
 * openssl CLI. */
static const char RSA1K_CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB/jCCAWegAwIBAgIUPJ3UWK+F8L42PKeK0Vppt8QawGUwDQYJKoZIhvcNAQEL\n"
    "BQAwEDEOMAwGA1UEAwwFcnNhMWswIBcNMjYxMTIyMTIxNjA5WhgPMjEyNjEwMjkx\n"
    "MjE2MDlaMBAxDjAMBgNVBAMMBXJzYTFrMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB\n"
    "iQKBgQDKuWXbIlDhoZWBpnl2dqba/84Qk2yA6lTV5rh6VpnIbtWCtpgO2z+b3bO+\n"
    "xAa7g9oQhwcnBZN9t2VR7mf714AtI4Cgwy8lAzl9l3CMNPlJ+lPCfhogsY0XhMnj\n"
    "T5urZkRnrkh551XMmJMG5c1lO731AdZUNkMRJdYySfAfG0YJlwIDAQABo1MwUTAd\n"
    "BgNVHQ4EFgQULeC36pfLTyqVQIc4uxgp28Tat74wHwYDVR0jBBgwFoAULeC36pfL\n"
    "TyqVQIc4uxgp28Tat74wDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOB\n"
    "gQBsTYL3XO7/HChhqcXZlnUXySZqTP0BcQOVnY/52KTAOBm4H9eT8eZIeZOSG60B\n"
    "rANCfqfgjdxIGuD19MSoRlcVGhHPSp/h5DopJp+6ikXkEX80N1esPJygjw8r7Lnp\n"
    "I5Wy69oNEtdwFJDk2KTvKeVDnkFRl5ZnyC7Mwur5QAQdgw==\n"
    "-----END CERTIFICATE-----\n";

static const char RSA1K_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMq5ZdsiUOGhlYGm\n"
    "eXZ2ptr/zhCTbIDqVNXmuHpWmchu1YK2mA7bP5vds77EBruD2hCHBycFk323ZVHu\n"
    "Z/vXgC0jgKDDLyUDOX2XcIw0+Un6U8J+GiCxjReEyeNPm6tmRGeuSHnnVcyYkwbl\n"
    "zWU7vfUB1lQ2QxEl1jJJ8B8bRgmXAgMBAAECgYEAkSCap37wkibARjmseL9Ggj9h\n"
    "AQLZSYz4QM1UQdifbRrTZSlcwD37UpUrqaTiAPnKccyItUnLpdNWCIp5DJThH6k7\n"
    "acFOZIc+6vWpXrz22K5+I1T7AsJ6MajF5M3ndbGvkinhAm4wSCxz11DSOQLxGFlo\n"
    "9Al7pyw9lZwOKXfEsyECQQDlznBfCZE2nihrtg5Q23IL6xDhSN/HsS6OAELTt/bD\n"
    "X3TVu8C08OKzsbbzRaLEi0ONAwhEWJo34REQmEtIghVxAkEA4dS5Ejp3K9dTPzpf\n"
    "TOjsYVP/mzjlCmr6LH9xgUudaE00qh6v5H0YOecBL3nRv4tgDISxsyhU5I6yX3JZ\n"
    "Ld7rhwJBAM6RmJT1JqDv3emkRo4MFCH+dLftJ6p67Bwcw/VIIfpQrdcJ5BlBhqZ8\n"
    "ErXuXHdLr7briNzWwBmGqC5AlztgIyECQCfK8AGCQ9V5z7Vod7p5oI1V28hiMhmv\n"
    "1/1XR4zc4hOq5wjC94Nvd4Fcbx0KficeTAJor1c+WBcd/dhLseMfUKkCQBtSbyFA\n"
    "j04607BEeiPv4PXUOuuX2B0DrHz6jwVduZShdnTTOawMXlw/TRqiM83Y/Sz+VrI8\n"
    "LsWFBtVJahtUGEU=\n"
    "-----END PRIVATE KEY-----\n";

static const char ED_CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBMDCB46ADAgECAhQ/L12I6IHiGAoDPvG/GdpKhAYOdDAFBgMrZXAwDTELMAkG\n"
    "A1UEAwwCZWQwIBcNMjYxMTIyMTIxNjA5WhgPMjEyNjEwMjkxMjE2MDlaMA0xCzAJ\n"
    "BgNVBAMMAmVkMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIa\n"
    "aPcHURqjUzBRMB0GA1UdDgQWBBRbJ6pViReXcOR1dbFiod7Ze4v8bTAfBgNVHSME\n"
    "GDAWgBRbJ6pViReXcOR1dbFiod7Ze4v8bTAPBgNVHRMBAf8EBTADAQH/MAUGAytl\n"
    "cANBAHPeJDUsSbLTErTH0EN7dJWfc7IerqSgXrBtcqXcb3lYyDDBGbhmZLDs8uCt\n"
    "I/X6qbizVrG01juyidrpE6V5uwo=\n"
    "-----END CERTIFICATE-----\n";

static const char ED_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

/* ---- hashes, HMAC, PRF, HKDF ------------------------------------------------------------ */

static void test_hash(void **state)
{
    (void)state;
    uint8_t out[SDTLS_HASH_MAX], want[SDTLS_HASH_MAX];
    assert_int_equal(sdtls__hash_len(SDTLS_HASH_SHA256), 32);
    assert_int_equal(sdtls__hash_len(SDTLS_HASH_SHA384), 48);
    assert_int_equal(sdtls__hash_len(SDTLS_HASH_SHA512), 64);
    assert_int_equal(sdtls__hash_len(SDTLS_HASH_NONE), 0);

    /* FIPS 180-2 B.1: SHA-256("abc"). */
    assert_int_equal(sdtls__hash(SDTLS_HASH_SHA256, (const uint8_t *)"abc", 3, out), 0);
    unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, sizeof(want));
    assert_memory_equal(out, want, 32);
    /* SHA-256 of the empty string, with a NULL pointer. */
    assert_int_equal(sdtls__hash(SDTLS_HASH_SHA256, NULL, 0, out), 0);
    unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, sizeof(want));
    assert_memory_equal(out, want, 32);
    assert_int_equal(sdtls__hash(SDTLS_HASH_SHA384, (const uint8_t *)"abc", 3, out), 0);
    unhex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
          "8086072ba1e7cc2358baeca134c825a7",
          want, sizeof(want));
    assert_memory_equal(out, want, 48);
    assert_int_equal(sdtls__hash(SDTLS_HASH_NONE, (const uint8_t *)"abc", 3, out), SDTLS_ERR_ARG);
}

/* A key scheduled once gives the RFC 4231 MAC every time, shared (copy per MAC) or owned
 * (restarted in place), whatever was MACed before with it. */
static void test_hmac_key_reuse(void **state)
{
    (void)state;
    const char *data = "what do ya want for nothing?";
    uint8_t out[32], want[32];
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, sizeof(want));
    sdtls__hmac_key *k = NULL;
    assert_int_equal(sdtls__hmac_key_new(SDTLS_HASH_SHA256, (const uint8_t *)"Jefe", 4, &k), 0);
    const uint8_t *whole[] = {(const uint8_t *)data}, *other[] = {(const uint8_t *)"x"};
    const size_t len[] = {strlen(data)}, one[] = {1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sdtls__hmac_key_mac_v(k, other, one, 1, out), 0);
        assert_memory_not_equal(out, want, 32);
        assert_int_equal(sdtls__hmac_key_mac_v(k, whole, len, 1, out), 0);
        assert_memory_equal(out, want, 32);
        assert_int_equal(sdtls__hmac_key_mac_v_own(k, other, one, 1, out), 0);
        assert_memory_not_equal(out, want, 32);
        memset(out, 0, sizeof(out));
        assert_int_equal(sdtls__hmac_key_mac_v_own(k, whole, len, 1, out), 0);
        assert_memory_equal(out, want, 32);
    }
    sdtls__hmac_key_free(k);
    assert_int_equal(sdtls__hmac_key_new(SDTLS_HASH_NONE, (const uint8_t *)"Jefe", 4, &k),
                     SDTLS_ERR_ARG);
}

static void test_hmac_rfc4231_case2(void **state)
{
    (void)state;
    const uint8_t *key = (const uint8_t *)"Jefe";
    const char *data = "what do ya want for nothing?";
    uint8_t out[SDTLS_HASH_MAX], want[32];
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, sizeof(want));

    assert_int_equal(
        sdtls__hmac(SDTLS_HASH_SHA256, key, 4, (const uint8_t *)data, strlen(data), out), 0);
    assert_memory_equal(out, want, 32);

    /* The same MAC over pieces, one of them empty. */
    const uint8_t *pieces[] = {(const uint8_t *)data, NULL, (const uint8_t *)data + 5,
                               (const uint8_t *)data + 13};
    const size_t lens[] = {5, 0, 8, strlen(data) - 13};
    memset(out, 0, sizeof(out));
    assert_int_equal(sdtls__hmac_v(SDTLS_HASH_SHA256, key, 4, pieces, lens, 4, out), 0);
    assert_memory_equal(out, want, 32);

    /* A different split of different bytes must not collide. */
    const size_t lens_short[] = {5, 0, 8, strlen(data) - 14};
    assert_int_equal(sdtls__hmac_v(SDTLS_HASH_SHA256, key, 4, pieces, lens_short, 4, out), 0);
    assert_memory_not_equal(out, want, 32);

    assert_int_equal(sdtls__hmac(SDTLS_HASH_NONE, key, 4, (const uint8_t *)data, 1, out),
                     SDTLS_ERR_ARG);
    /* An empty key is a valid HMAC key. */
    assert_int_equal(sdtls__hmac(SDTLS_HASH_SHA384, NULL, 0, (const uint8_t *)data, 1, out), 0);
}

static void test_tls12_prf(void **state)
{
    (void)state;
    /* The SHA-256 TLS 1.2 PRF vector posted to the IETF TLS list (secret, seed, "test label",
     * 100 bytes), also used by OpenSSL's own KDF tests. */
    uint8_t secret[16], seed[16], want[100], out[100];
    unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof(secret));
    unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof(seed));
    unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e"
          "14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5"
          "a72e5a5110fff70187347b66",
          want, sizeof(want));
    assert_int_equal(sdtls__tls12_prf(SDTLS_HASH_SHA256, secret, 16, "test label", seed, 16, NULL,
                                      0, out, sizeof(out)),
                     0);
    assert_memory_equal(out, want, sizeof(want));
    /* seed1 + seed2 is the concatenation. */
    memset(out, 0, sizeof(out));
    assert_int_equal(sdtls__tls12_prf(SDTLS_HASH_SHA256, secret, 16, "test label", seed, 7,
                                      seed + 7, 9, out, sizeof(out)),
                     0);
    assert_memory_equal(out, want, sizeof(want));
    /* A prefix of the output is the shorter output. */
    assert_int_equal(
        sdtls__tls12_prf(SDTLS_HASH_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, 12),
        0);
    assert_memory_equal(out, want, 12);

    /* Seeds past OpenSSL's internal buffer are refused, not truncated. */
    static uint8_t big[1100];
    assert_int_equal(
        sdtls__tls12_prf(SDTLS_HASH_SHA256, secret, 16, "test label", big, 1000, big, 100, out, 12),
        SDTLS_ERR_ARG);
    assert_int_equal(sdtls__tls12_prf(SDTLS_HASH_SHA256, secret, 16, "test label", big,
                                      1024 - strlen("test label"), NULL, 0, out, 12),
                     0);
    assert_int_equal(sdtls__tls12_prf(SDTLS_HASH_NONE, secret, 16, "x", seed, 16, NULL, 0, out, 12),
                     SDTLS_ERR_ARG);
}

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], info[10], prk[SDTLS_HASH_MAX], okm[42], want[42];
    memset(ikm, 0x0b, sizeof(ikm));
    unhex("000102030405060708090a0b0c", salt, sizeof(salt));
    unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));

    /* Test case 1. */
    assert_int_equal(sdtls__hkdf_extract(SDTLS_HASH_SHA256, salt, 13, ikm, 22, prk), 0);
    unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", want, sizeof(want));
    assert_memory_equal(prk, want, 32);
    assert_int_equal(sdtls__hkdf_expand(SDTLS_HASH_SHA256, prk, 32, info, 10, okm, 42), 0);
    unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
          want, sizeof(want));
    assert_memory_equal(okm, want, 42);

    /* Test case 3: empty salt and info. */
    assert_int_equal(sdtls__hkdf_extract(SDTLS_HASH_SHA256, NULL, 0, ikm, 22, prk), 0);
    unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", want, sizeof(want));
    assert_memory_equal(prk, want, 32);
    assert_int_equal(sdtls__hkdf_expand(SDTLS_HASH_SHA256, prk, 32, NULL, 0, okm, 42), 0);
    unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
          want, sizeof(want));
    assert_memory_equal(okm, want, 42);

    /* TLS 1.3 extracts from an empty IKM in places (RFC 8446 7.1 with PSK absent uses zeros,
     * but the seam must not choke on an empty one either). */
    assert_int_equal(sdtls__hkdf_extract(SDTLS_HASH_SHA384, NULL, 0, NULL, 0, prk), 0);

    /* RFC 5869 2.3: L <= 255 * HashLen. */
    static uint8_t big[255 * 32 + 1];
    assert_int_equal(sdtls__hkdf_expand(SDTLS_HASH_SHA256, prk, 32, info, 10, big, 255 * 32), 0);
    assert_int_equal(sdtls__hkdf_expand(SDTLS_HASH_SHA256, prk, 32, info, 10, big, 255 * 32 + 1),
                     SDTLS_ERR_ARG);
    assert_int_equal(sdtls__hkdf_expand(SDTLS_HASH_NONE, prk, 32, info, 10, okm, 1), SDTLS_ERR_ARG);
}

/* ---- AEAD ------------------------------------------------------------------------------- */

typedef struct aead_kat {
    sdtls_aead_id id;
    const char *key, *nonce, *aad, *pt, *ct_tag;
} aead_kat;

static const aead_kat aead_kats[] = {
    /* GCM spec (McGrew & Viega) test case 4. */
    {SDTLS_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
     "49a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5a"
     "ac84aa051ba30b396a0aac973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
    /* RFC 8439 2.8.2. The plaintext is "Ladies and Gentlemen of the class of '99: ...". */
    {SDTLS_AEAD_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
     "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a2049"
     "66204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675"
     "747572652c2073756e73637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
     "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594"
     "5585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
    /* NIST SP 800-38C C.3 (example 3: 12-byte nonce, 8-byte tag). */
    {SDTLS_AEAD_AES_128_CCM_8, "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
     "000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5"
     "484392fbc1b09951"},
    /* The same inputs with a 16-byte tag; no published vector has this shape, so the value
     * was cross-checked with pyca/cryptography's AESCCM. The ciphertext equals example 3's,
     * as CCM's keystream does not depend on the tag length. */
    {SDTLS_AEAD_AES_128_CCM, "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
     "000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5"
     "c87ae488918de93f17dd3e4934347f44"},
};

static void test_aead_lengths(void **state)
{
    (void)state;
    assert_int_equal(sdtls__aead_key_len(SDTLS_AEAD_AES_128_GCM), 16);
    assert_int_equal(sdtls__aead_key_len(SDTLS_AEAD_AES_256_GCM), 32);
    assert_int_equal(sdtls__aead_key_len(SDTLS_AEAD_CHACHA20_POLY1305), 32);
    assert_int_equal(sdtls__aead_key_len(SDTLS_AEAD_AES_128_CCM), 16);
    assert_int_equal(sdtls__aead_key_len(SDTLS_AEAD_AES_128_CCM_8), 16);
    assert_int_equal(sdtls__aead_tag_len(SDTLS_AEAD_AES_128_GCM), 16);
    assert_int_equal(sdtls__aead_tag_len(SDTLS_AEAD_AES_256_GCM), 16);
    assert_int_equal(sdtls__aead_tag_len(SDTLS_AEAD_CHACHA20_POLY1305), 16);
    assert_int_equal(sdtls__aead_tag_len(SDTLS_AEAD_AES_128_CCM), 16);
    assert_int_equal(sdtls__aead_tag_len(SDTLS_AEAD_AES_128_CCM_8), 8);
    uint8_t key[32] = {0};
    sdtls__aead *a = (sdtls__aead *)&a;
    assert_int_equal(sdtls__aead_new((sdtls_aead_id)99, key, 1, &a), SDTLS_ERR_ARG);
    sdtls__aead_free(NULL);
}

static void test_aead_kat(void **state)
{
    (void)state;
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(aead_kats); i++) {
        const aead_kat *v = &aead_kats[i];
        uint8_t key[32], nonce[12], aad[64], pt[128], want[160], buf[160];
        size_t key_len = unhex(v->key, key, sizeof(key));
        assert_int_equal(unhex(v->nonce, nonce, sizeof(nonce)), 12);
        size_t aad_len = unhex(v->aad, aad, sizeof(aad));
        size_t pt_len = unhex(v->pt, pt, sizeof(pt));
        size_t want_len = unhex(v->ct_tag, want, sizeof(want));
        size_t tag_len = sdtls__aead_tag_len(v->id);
        assert_int_equal(key_len, sdtls__aead_key_len(v->id));
        assert_int_equal(want_len, pt_len + tag_len);

        sdtls__aead *enc, *dec;
        assert_int_equal(sdtls__aead_new(v->id, key, 1, &enc), 0);
        assert_int_equal(sdtls__aead_new(v->id, key, 0, &dec), 0);

        /* Out of place, then in place, twice each on the same contexts. */
        for (int round = 0; round < 2; round++) {
            memset(buf, 0, sizeof(buf));
            assert_int_equal(sdtls__aead_seal(enc, nonce, aad, aad_len, pt, pt_len, buf), 0);
            assert_memory_equal(buf, want, want_len);
            memcpy(buf, pt, pt_len);
            assert_int_equal(sdtls__aead_seal(enc, nonce, aad, aad_len, buf, pt_len, buf), 0);
            assert_memory_equal(buf, want, want_len);

            uint8_t plain[128];
            assert_int_equal(sdtls__aead_open(dec, nonce, aad, aad_len, want, want_len, plain), 0);
            assert_memory_equal(plain, pt, pt_len);
            memcpy(buf, want, want_len);
            assert_int_equal(sdtls__aead_open(dec, nonce, aad, aad_len, buf, want_len, buf), 0);
            assert_memory_equal(buf, pt, pt_len);
        }
        sdtls__aead_free(enc);
        sdtls__aead_free(dec);
    }
}

static const sdtls_aead_id all_aeads[] = {SDTLS_AEAD_AES_128_GCM, SDTLS_AEAD_AES_256_GCM,
                                          SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_AEAD_AES_128_CCM,
                                          SDTLS_AEAD_AES_128_CCM_8};

static void test_aead_tamper(void **state)
{
    (void)state;
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(all_aeads); i++) {
        sdtls_aead_id id = all_aeads[i];
        uint8_t key[32], nonce[12], aad[13], pt[100], sealed[116], buf[116], out[100];
        for (size_t j = 0; j < sizeof(key); j++) {
            key[j] = (uint8_t)(j * 7 + 1);
        }
        memset(nonce, 0x42, sizeof(nonce));
        memset(aad, 0x17, sizeof(aad));
        memset(pt, 0x5a, sizeof(pt));
        size_t n = sizeof(pt) + sdtls__aead_tag_len(id);

        sdtls__aead *enc, *dec;
        assert_int_equal(sdtls__aead_new(id, key, 1, &enc), 0);
        assert_int_equal(sdtls__aead_new(id, key, 0, &dec), 0);
        assert_int_equal(sdtls__aead_seal(enc, nonce, aad, sizeof(aad), pt, sizeof(pt), sealed), 0);

        /* Flip one bit in each region: ciphertext, tag, AAD, nonce. */
        size_t spots[] = {0, sizeof(pt) - 1, sizeof(pt), n - 1};
        for (size_t s = 0; s < SDTLS_ARRAY_LEN(spots); s++) {
            memcpy(buf, sealed, n);
            buf[spots[s]] ^= 0x01;
            memset(out, 0xee, sizeof(out));
            assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), buf, n, out),
                             SDTLS_ERR_CRYPTO);
            /* No unauthenticated plaintext is left behind. */
            for (size_t j = 0; j < sizeof(out); j++) {
                assert_true(out[j] != 0x5a);
            }
        }
        aad[3] ^= 0x80;
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), sealed, n, out),
                         SDTLS_ERR_CRYPTO);
        aad[3] ^= 0x80;
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad) - 1, sealed, n, out),
                         SDTLS_ERR_CRYPTO);
        nonce[11] ^= 0x01;
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), sealed, n, out),
                         SDTLS_ERR_CRYPTO);
        nonce[11] ^= 0x01;
        /* Truncated: shorter than the tag is an argument error, one byte short a MAC error. */
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), sealed,
                                          sdtls__aead_tag_len(id) - 1, out),
                         SDTLS_ERR_ARG);
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), sealed, n - 1, out),
                         SDTLS_ERR_CRYPTO);

        /* After every failure above, the same context still opens the genuine record. */
        assert_int_equal(sdtls__aead_open(dec, nonce, aad, sizeof(aad), sealed, n, out), 0);
        assert_memory_equal(out, pt, sizeof(pt));

        /* A context keyed differently refuses it. */
        sdtls__aead *other;
        key[0] ^= 1;
        assert_int_equal(sdtls__aead_new(id, key, 0, &other), 0);
        assert_int_equal(sdtls__aead_open(other, nonce, aad, sizeof(aad), sealed, n, out),
                         SDTLS_ERR_CRYPTO);
        sdtls__aead_free(other);
        sdtls__aead_free(enc);
        sdtls__aead_free(dec);
    }
}

/* Many records through one context equal the same records through fresh contexts: the
 * per-call nonce reset (and, for CCM, the per-call length) leaves no state behind. */
static void test_aead_context_reuse(void **state)
{
    (void)state;
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(all_aeads); i++) {
        sdtls_aead_id id = all_aeads[i];
        uint8_t key[32], nonce[12], aad[13], pt[300], a[320], b[320];
        uint64_t seed = 0x1234567u + i;
        assert_int_equal(tu_rng(&seed, key, sizeof(key)), 0);
        assert_int_equal(tu_rng(&seed, pt, sizeof(pt)), 0);
        size_t tag = sdtls__aead_tag_len(id);

        sdtls__aead *enc, *dec;
        assert_int_equal(sdtls__aead_new(id, key, 1, &enc), 0);
        assert_int_equal(sdtls__aead_new(id, key, 0, &dec), 0);
        for (size_t rec = 0; rec < 40; rec++) {
            size_t len = (rec * 37) % sizeof(pt); /* includes 0 */
            size_t aad_len = rec % 3 == 0 ? 0 : sizeof(aad);
            assert_int_equal(tu_rng(&seed, nonce, sizeof(nonce)), 0);
            assert_int_equal(tu_rng(&seed, aad, sizeof(aad)), 0);

            sdtls__aead *fresh;
            assert_int_equal(sdtls__aead_new(id, key, 1, &fresh), 0);
            assert_int_equal(sdtls__aead_seal(fresh, nonce, aad, aad_len, pt, len, a), 0);
            sdtls__aead_free(fresh);
            assert_int_equal(sdtls__aead_seal(enc, nonce, aad, aad_len, pt, len, b), 0);
            assert_memory_equal(a, b, len + tag);

            if (rec % 5 == 1) {
                /* Interleave a forgery to check a failed open resets nothing it should not. */
                b[0] ^= 1;
                assert_int_equal(sdtls__aead_open(dec, nonce, aad, aad_len, b, len + tag, b),
                                 SDTLS_ERR_CRYPTO);
                memcpy(b, a, len + tag);
            }
            assert_int_equal(sdtls__aead_open(dec, nonce, aad, aad_len, b, len + tag, b), 0);
            assert_memory_equal(b, pt, len);
        }
        /* Empty plaintext with a NULL pointer: the record is just the tag. */
        assert_int_equal(sdtls__aead_seal(enc, nonce, NULL, 0, NULL, 0, a), 0);
        assert_int_equal(sdtls__aead_open(dec, nonce, NULL, 0, a, tag, NULL), 0);
        a[0] ^= 1;
        assert_int_equal(sdtls__aead_open(dec, nonce, NULL, 0, a, tag, NULL), SDTLS_ERR_CRYPTO);
        sdtls__aead_free(enc);
        sdtls__aead_free(dec);
    }
}

/* ---- key exchange ----------------------------------------------------------------------- */

static void test_kex_agree(void **state)
{
    (void)state;
    static const struct {
        sdtls_group_id g;
        size_t pub_len, secret_len;
    } groups[] = {
        {SDTLS_GROUP_X25519, 32, 32},
        {SDTLS_GROUP_SECP256R1, 65, 32},
        {SDTLS_GROUP_SECP384R1, 97, 48},
    };
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(groups); i++) {
        uint8_t pa[128], pb[128], sa[64], sb[64];
        size_t la, lb, na, nb;
        sdtls__kex *a, *b;
        assert_int_equal(sdtls__kex_new(groups[i].g, &a, pa, sizeof(pa), &la), 0);
        assert_int_equal(sdtls__kex_new(groups[i].g, &b, pb, sizeof(pb), &lb), 0);
        assert_int_equal(la, groups[i].pub_len);
        assert_int_equal(lb, groups[i].pub_len);
        if (groups[i].g != SDTLS_GROUP_X25519) {
            assert_int_equal(pa[0], 0x04);
        }
        assert_memory_not_equal(pa, pb, la);
        assert_int_equal(sdtls__kex_derive(a, pb, lb, sa, sizeof(sa), &na), 0);
        assert_int_equal(sdtls__kex_derive(b, pa, la, sb, sizeof(sb), &nb), 0);
        assert_int_equal(na, groups[i].secret_len);
        assert_int_equal(nb, groups[i].secret_len);
        assert_memory_equal(sa, sb, na);

        /* Exact capacity is enough; one less is not. */
        assert_int_equal(sdtls__kex_derive(a, pb, lb, sa, groups[i].secret_len, &na), 0);
        assert_int_equal(sdtls__kex_derive(a, pb, lb, sa, groups[i].secret_len - 1, &na),
                         SDTLS_ERR_BUF_SMALL);
        sdtls__kex_free(a);
        sdtls__kex_free(b);

        sdtls__kex *c = (sdtls__kex *)&c;
        assert_int_equal(sdtls__kex_new(groups[i].g, &c, pa, groups[i].pub_len - 1, &la),
                         SDTLS_ERR_BUF_SMALL);
        assert_null(c);
    }
    sdtls__kex *d;
    uint8_t p[128];
    size_t l;
    assert_int_equal(sdtls__kex_new((sdtls_group_id)25, &d, p, sizeof(p), &l), SDTLS_ERR_ARG);
    sdtls__kex_free(NULL);
}

static void test_kex_reject(void **state)
{
    (void)state;
    uint8_t pub[128], peer[128], secret[64];
    size_t pub_len, n;
    sdtls__kex *k;

    /* X25519: wrong lengths, and the all-zero point (small order: all-zero shared secret,
     * RFC 7748 6.1). */
    assert_int_equal(sdtls__kex_new(SDTLS_GROUP_X25519, &k, pub, sizeof(pub), &pub_len), 0);
    assert_int_equal(sdtls__kex_derive(k, pub, 31, secret, sizeof(secret), &n), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__kex_derive(k, pub, 33, secret, sizeof(secret), &n), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__kex_derive(k, pub, 0, secret, sizeof(secret), &n), SDTLS_ERR_ARG);
    memset(peer, 0, 32);
    assert_int_equal(sdtls__kex_derive(k, peer, 32, secret, sizeof(secret), &n), SDTLS_ERR_ARG);
    peer[0] = 1; /* u = 1 is of small order too */
    assert_int_equal(sdtls__kex_derive(k, peer, 32, secret, sizeof(secret), &n), SDTLS_ERR_ARG);
    /* Our own public value is a valid peer value. */
    assert_int_equal(sdtls__kex_derive(k, pub, 32, secret, sizeof(secret), &n), 0);
    sdtls__kex_free(k);

    const sdtls_group_id nist[] = {SDTLS_GROUP_SECP256R1, SDTLS_GROUP_SECP384R1};
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(nist); i++) {
        assert_int_equal(sdtls__kex_new(nist[i], &k, pub, sizeof(pub), &pub_len), 0);
        assert_int_equal(sdtls__kex_derive(k, pub, pub_len, secret, sizeof(secret), &n), 0);
        /* Wrong lengths, including the other curve's and the compressed form's. */
        assert_int_equal(sdtls__kex_derive(k, pub, pub_len - 1, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        assert_int_equal(sdtls__kex_derive(k, pub, pub_len + 1, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        assert_int_equal(
            sdtls__kex_derive(k, pub, 1 + (pub_len - 1) / 2, secret, sizeof(secret), &n),
            SDTLS_ERR_ARG);
        assert_int_equal(
            sdtls__kex_derive(k, pub, pub_len == 65 ? 97 : 65, secret, sizeof(secret), &n),
            SDTLS_ERR_ARG);
        /* Right length, wrong format byte. */
        memcpy(peer, pub, pub_len);
        peer[0] = 0x02;
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        peer[0] = 0x00;
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        /* The X9.62 hybrid form (0x06/0x07, same length, valid point) is not TLS's. */
        peer[0] = (uint8_t)(0x06 | (pub[pub_len - 1] & 1));
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        /* Not on the curve: change Y. */
        memcpy(peer, pub, pub_len);
        peer[pub_len - 1] ^= 0x01;
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        /* All zero coordinates. */
        memset(peer, 0, pub_len);
        peer[0] = 0x04;
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        /* Coordinates >= p (all 0xff) are not field elements. */
        memset(peer, 0xff, pub_len);
        peer[0] = 0x04;
        assert_int_equal(sdtls__kex_derive(k, peer, pub_len, secret, sizeof(secret), &n),
                         SDTLS_ERR_ARG);
        sdtls__kex_free(k);
    }
}

/* ---- signatures and keys ---------------------------------------------------------------- */

static void test_pkey_info(void **state)
{
    (void)state;
    assert_int_equal(sdtls__pkey_type(certs[SDTLS_KEY_EC_P256].key), SDTLS_PKEY_EC_P256);
    assert_int_equal(sdtls__pkey_type(certs[SDTLS_KEY_EC_P384].key), SDTLS_PKEY_EC_P384);
    assert_int_equal(sdtls__pkey_type(certs[SDTLS_KEY_RSA2048].key), SDTLS_PKEY_RSA);
    assert_int_equal(sdtls__pkey_type(certs[SDTLS_KEY_ED25519].key), SDTLS_PKEY_ED25519);
    assert_int_equal(sdtls__pkey_type(NULL), SDTLS_PKEY_OTHER);
    assert_int_equal(sdtls__pkey_bits(certs[SDTLS_KEY_EC_P256].key), 256);
    assert_int_equal(sdtls__pkey_bits(certs[SDTLS_KEY_EC_P384].key), 384);
    assert_int_equal(sdtls__pkey_bits(certs[SDTLS_KEY_RSA2048].key), 2048);
    assert_int_equal(sdtls__pkey_bits(certs[SDTLS_KEY_ED25519].key), 253);
    sdtls__pkey_free(NULL);
}

static void test_sig_fits_key(void **state)
{
    (void)state;
    const sdtls__pkey *p256 = certs[SDTLS_KEY_EC_P256].key;
    const sdtls__pkey *p384 = certs[SDTLS_KEY_EC_P384].key;
    const sdtls__pkey *rsa = certs[SDTLS_KEY_RSA2048].key;
    const sdtls__pkey *ed = certs[SDTLS_KEY_ED25519].key;

    for (int tls12 = 0; tls12 <= 1; tls12++) {
        assert_true(sdtls__sig_fits_key(SDTLS_SIG_RSA_PKCS1_SHA256, rsa, tls12));
        assert_true(sdtls__sig_fits_key(SDTLS_SIG_RSA_PSS_RSAE_SHA512, rsa, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_RSA_PKCS1_SHA256, p256, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_RSA_PSS_RSAE_SHA256, ed, tls12));
        assert_true(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP256R1_SHA256, p256, tls12));
        assert_true(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP384R1_SHA384, p384, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP256R1_SHA256, rsa, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP256R1_SHA256, ed, tls12));
        assert_true(sdtls__sig_fits_key(SDTLS_SIG_ED25519, ed, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_ED25519, p256, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_ED25519, rsa, tls12));
        assert_false(sdtls__sig_fits_key((sdtls_sig_scheme)0x0201, rsa, tls12));
        assert_false(sdtls__sig_fits_key(SDTLS_SIG_ED25519, NULL, tls12));
    }
    /* The curve must match the scheme in TLS 1.3 only. */
    assert_false(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP384R1_SHA384, p256, 0));
    assert_false(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP256R1_SHA256, p384, 0));
    assert_false(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP521R1_SHA512, p256, 0));
    assert_true(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP384R1_SHA384, p256, 1));
    assert_true(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP256R1_SHA256, p384, 1));
    assert_true(sdtls__sig_fits_key(SDTLS_SIG_ECDSA_SECP521R1_SHA512, p256, 1));
}

static void sign_verify(sdtls_key_type type, sdtls_sig_scheme s)
{
    const sdtls__cert *c = &certs[type];
    const uint8_t msg[] = "TLS 1.3, server CertificateVerify\0 and the transcript hash";
    uint8_t sig[512];
    size_t sig_len = 0;
    assert_int_equal(sdtls__sign(c->key, s, msg, sizeof(msg), sig, sizeof(sig), &sig_len), 0);
    assert_true(sig_len > 0);

    /* Verify with the key from the certificate, as a peer would. */
    sdtls__pkey *pub;
    assert_int_equal(sdtls__x509_pubkey(c->der[0], c->der_len[0], &pub), 0);
    assert_int_equal(sdtls__pkey_type(pub), sdtls__pkey_type(c->key));
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, sig_len), 0);
    assert_int_equal(sdtls__verify(c->key, s, msg, sizeof(msg), sig, sig_len), 0);

    /* Corrupted signature, message, truncated signature, empty signature. */
    sig[sig_len / 2] ^= 0x10;
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, sig_len), SDTLS_ERR_CRYPTO);
    sig[sig_len / 2] ^= 0x10;
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg) - 1, sig, sig_len), SDTLS_ERR_CRYPTO);
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, sig_len - 1), SDTLS_ERR_CRYPTO);
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, 0), SDTLS_ERR_CRYPTO);
    /* Trailing garbage after an ECDSA DER signature is not the same signature. */
    sig[sig_len] = 0;
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, sig_len + 1), SDTLS_ERR_CRYPTO);
    assert_int_equal(sdtls__verify(pub, s, msg, sizeof(msg), sig, sig_len), 0);
    sdtls__pkey_free(pub);

    /* A buffer smaller than the key's largest signature. */
    assert_int_equal(sdtls__sign(c->key, s, msg, sizeof(msg), sig, sig_len / 2, &sig_len),
                     SDTLS_ERR_BUF_SMALL);
}

static void test_sign_verify(void **state)
{
    (void)state;
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PKCS1_SHA256);
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PKCS1_SHA384);
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PKCS1_SHA512);
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PSS_RSAE_SHA256);
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PSS_RSAE_SHA384);
    sign_verify(SDTLS_KEY_RSA2048, SDTLS_SIG_RSA_PSS_RSAE_SHA512);
    sign_verify(SDTLS_KEY_EC_P256, SDTLS_SIG_ECDSA_SECP256R1_SHA256);
    sign_verify(SDTLS_KEY_EC_P384, SDTLS_SIG_ECDSA_SECP384R1_SHA384);
    /* TLS 1.2 pairs any hash with any curve. */
    sign_verify(SDTLS_KEY_EC_P256, SDTLS_SIG_ECDSA_SECP384R1_SHA384);
    sign_verify(SDTLS_KEY_EC_P384, SDTLS_SIG_ECDSA_SECP256R1_SHA256);
    sign_verify(SDTLS_KEY_ED25519, SDTLS_SIG_ED25519);
}

/* Known answers: PKCS#1 v1.5 and Ed25519 are deterministic; PSS is not, but a signature with
 * the RFC 8446 salt length (= hash length) made by the openssl CLI must verify and one with the
 * maximal salt must not. */
static void test_sign_kat(void **state)
{
    (void)state;
    const uint8_t msg[] = "sdtls";
    uint8_t want[128], sig[128];
    size_t sig_len, want_len;
    sdtls__cert rsa, ed;
    assert_int_equal(sdtls__cert_from_pem(RSA1K_CERT_PEM, strlen(RSA1K_CERT_PEM), RSA1K_KEY_PEM,
                                          strlen(RSA1K_KEY_PEM), &rsa),
                     0);
    assert_int_equal(sdtls__pkey_bits(rsa.key), 1024);

    want_len = unhex("42b588ecb0aabb6837704b0a11bff6aaeec6655adbdf416b77d3a8594287e57522c0572d92f7"
                     "dbc90dbfa4401928db0e69cea1cef02889c65c468b6a0eb5ba1060788c113ae7b364ed308839"
                     "2669d159e85dcc9292176942627c2cc0a7c5a81b1b0a6685366c218c81888a1060db8d7e508e"
                     "4e496d182316d379abd75583fbfe",
                     want, sizeof(want));
    assert_int_equal(
        sdtls__sign(rsa.key, SDTLS_SIG_RSA_PKCS1_SHA256, msg, 5, sig, sizeof(sig), &sig_len), 0);
    assert_int_equal(sig_len, want_len);
    assert_memory_equal(sig, want, want_len);

    want_len = unhex("af598b62cef0e9e863365f9768e94173291745c8b1ce3e5fc843048390395fcc845584c9339c"
                     "535da1a4e00745f55de7b2e5899fe133f20d206b04ad6ac25526d624fd4ed988bcda6930279d"
                     "9e5a7a60a78203d3dd74eaa9ecd358178e590744ecee1e651c739a7be1571e0d8f252c4d7aa4"
                     "165d4a790b82acfba733afaec864",
                     want, sizeof(want));
    assert_int_equal(sdtls__verify(rsa.key, SDTLS_SIG_RSA_PSS_RSAE_SHA256, msg, 5, want, want_len),
                     0);
    want_len = unhex("94686d2236fc960bd80bcd71598bb54587b1a8609adf9f264f090522faa75829c9528eb1a86c"
                     "8ef3f7c1e3b7d3d85fe2e24dbd0bef10c162685ed8af5e337d7a1e5a485f9102b5d3ea81a231"
                     "97f2dac7cefb0958c43a63faf808783bc77d9275fcbb31933e75217b71b5b9c4d6a5dd1d0455"
                     "7b0b1eab5b015a242b86b8816721",
                     want, sizeof(want));
    assert_int_equal(sdtls__verify(rsa.key, SDTLS_SIG_RSA_PSS_RSAE_SHA256, msg, 5, want, want_len),
                     SDTLS_ERR_CRYPTO);
    sdtls__cert_clear(&rsa);

    /* RFC 8032 7.1 TEST 1: the empty message. */
    assert_int_equal(
        sdtls__cert_from_pem(ED_CERT_PEM, strlen(ED_CERT_PEM), ED_KEY_PEM, strlen(ED_KEY_PEM), &ed),
        0);
    want_len = unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                     want, sizeof(want));
    assert_int_equal(sdtls__sign(ed.key, SDTLS_SIG_ED25519, NULL, 0, sig, sizeof(sig), &sig_len),
                     0);
    assert_int_equal(sig_len, want_len);
    assert_memory_equal(sig, want, want_len);
    assert_int_equal(sdtls__verify(ed.key, SDTLS_SIG_ED25519, NULL, 0, sig, sig_len), 0);
    sdtls__cert_clear(&ed);
}

static void test_sign_mismatch(void **state)
{
    (void)state;
    const uint8_t msg[] = "m";
    uint8_t sig[512];
    size_t sig_len;
    const sdtls__pkey *rsa = certs[SDTLS_KEY_RSA2048].key;
    const sdtls__pkey *p256 = certs[SDTLS_KEY_EC_P256].key;

    assert_int_equal(
        sdtls__sign(rsa, SDTLS_SIG_ECDSA_SECP256R1_SHA256, msg, 1, sig, sizeof(sig), &sig_len),
        SDTLS_ERR_ARG);
    assert_int_equal(sdtls__sign(p256, SDTLS_SIG_ED25519, msg, 1, sig, sizeof(sig), &sig_len),
                     SDTLS_ERR_ARG);
    assert_int_equal(
        sdtls__sign(p256, (sdtls_sig_scheme)0x0203, msg, 1, sig, sizeof(sig), &sig_len),
        SDTLS_ERR_ARG);

    /* PKCS#1 v1.5 and PSS signatures are not interchangeable. */
    assert_int_equal(
        sdtls__sign(rsa, SDTLS_SIG_RSA_PKCS1_SHA256, msg, 1, sig, sizeof(sig), &sig_len), 0);
    assert_int_equal(sdtls__verify(rsa, SDTLS_SIG_RSA_PSS_RSAE_SHA256, msg, 1, sig, sig_len),
                     SDTLS_ERR_CRYPTO);
    assert_int_equal(sdtls__verify(rsa, SDTLS_SIG_RSA_PKCS1_SHA384, msg, 1, sig, sig_len),
                     SDTLS_ERR_CRYPTO);
    /* Another key of the same type. */
    assert_int_equal(
        sdtls__sign(p256, SDTLS_SIG_ECDSA_SECP256R1_SHA256, msg, 1, sig, sizeof(sig), &sig_len), 0);
    sdtls__cert other;
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_EC_P256, "other", serial_a, &other), 0);
    assert_int_equal(
        sdtls__verify(other.key, SDTLS_SIG_ECDSA_SECP256R1_SHA256, msg, 1, sig, sig_len),
        SDTLS_ERR_CRYPTO);
    assert_int_equal(sdtls__verify(rsa, SDTLS_SIG_ECDSA_SECP256R1_SHA256, msg, 1, sig, sig_len),
                     SDTLS_ERR_ARG);
    sdtls__cert_clear(&other);
}

/* ---- certificates ----------------------------------------------------------------------- */

/* The serialNumber INTEGER's contents: it follows the v3 version field [0] { INTEGER 2 } near the
 * start of the TBSCertificate. */
static const uint8_t *find_serial(const uint8_t *der, size_t len)
{
    static const uint8_t version_v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02, 0x02};
    for (size_t i = 0; i + sizeof(version_v3) + 1 < len && i < 16; i++) {
        if (memcmp(der + i, version_v3, sizeof(version_v3)) == 0) {
            return der + i + sizeof(version_v3) + 1;
        }
    }
    fail_msg("no v3 version field");
    return NULL;
}

static void test_cert_generate(void **state)
{
    (void)state;
    for (int t = 0; t < 4; t++) {
        const sdtls__cert *c = &certs[t];
        assert_int_equal(c->count, 1);
        assert_non_null(c->der[0]);
        assert_true(c->der_len[0] > 100);
        assert_non_null(c->key);

        char pem[8192], key[8192];
        size_t pem_len, key_len;
        assert_int_equal(sdtls__cert_leaf_pem(c, pem, sizeof(pem), &pem_len), 0);
        assert_int_equal(strlen(pem), pem_len);
        assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
        assert_int_equal(sdtls__cert_key_pem(c, key, sizeof(key), &key_len), 0);
        assert_int_equal(strlen(key), key_len);
        assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----"));

        /* Round trip through PEM gives back the same DER and a matching key. */
        sdtls__cert back;
        assert_int_equal(sdtls__cert_from_pem(pem, pem_len, key, key_len, &back), 0);
        assert_int_equal(back.count, 1);
        assert_int_equal(back.der_len[0], c->der_len[0]);
        assert_memory_equal(back.der[0], c->der[0], c->der_len[0]);
        assert_int_equal(sdtls__pkey_type(back.key), sdtls__pkey_type(c->key));
        sdtls__cert_clear(&back);
        assert_null(back.der);
        assert_int_equal(back.count, 0);

        /* Exact fit: no room for the NUL, still success. One less: too small, and the
         * needed length is reported. */
        char exact[8192];
        memset(exact, 'x', sizeof(exact));
        assert_int_equal(sdtls__cert_leaf_pem(c, exact, pem_len, &pem_len), 0);
        assert_int_equal(exact[pem_len], 'x');
        assert_int_equal(sdtls__cert_leaf_pem(c, exact, pem_len - 1, &pem_len),
                         SDTLS_ERR_BUF_SMALL);
        assert_int_equal(pem_len, strlen(pem));
        assert_int_equal(sdtls__cert_key_pem(c, exact, key_len - 1, &key_len), SDTLS_ERR_BUF_SMALL);
    }
    /* The serial is the 16 given bytes with the top bit cleared, so its DER INTEGER stays 16
     * bytes and positive (RFC 5280 4.1.2.2): after the v3 version field comes 02 10 <serial>. */
    sdtls__cert c;
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_EC_P256, "x", serial_a, &c), 0);
    const uint8_t *serial = find_serial(c.der[0], c.der_len[0]);
    assert_int_equal(serial[-1], 16);
    assert_int_equal(serial[0], 0x7f);
    assert_memory_equal(serial + 1, serial_a + 1, 15);
    sdtls__cert_clear(&c);
    /* An all-zero serial would not be positive: it becomes 1. */
    static const uint8_t zero[16] = {0};
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_EC_P256, "x", zero, &c), 0);
    serial = find_serial(c.der[0], c.der_len[0]);
    assert_int_equal(serial[-1], 1);
    assert_int_equal(serial[0], 1);
    sdtls__cert_clear(&c);

    /* CN length is bounded by X.520 (64 characters). */
    char long_cn[80];
    memset(long_cn, 'a', sizeof(long_cn) - 1);
    long_cn[sizeof(long_cn) - 1] = '\0';
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_EC_P256, long_cn, serial_a, &c), SDTLS_ERR_ARG);
    assert_null(c.der);
    assert_int_equal(sdtls__cert_generate((sdtls_key_type)9, "x", serial_a, &c), SDTLS_ERR_ARG);
    /* NULL CN defaults to "sdtls"; free-text CNs are accepted. */
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_ED25519, NULL, serial_a, &c), 0);
    sdtls__cert_clear(&c);
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_ED25519, "My Server (test)", serial_a, &c), 0);
    sdtls__cert_clear(&c);
    sdtls__cert_clear(NULL);
}

static void test_cert_from_pem_errors(void **state)
{
    (void)state;
    char pem[8192], key[8192], other_key[8192];
    size_t pem_len, key_len, other_len;
    sdtls__cert c;
    assert_int_equal(sdtls__cert_leaf_pem(&certs[SDTLS_KEY_EC_P256], pem, sizeof(pem), &pem_len),
                     0);
    assert_int_equal(sdtls__cert_key_pem(&certs[SDTLS_KEY_EC_P256], key, sizeof(key), &key_len), 0);
    assert_int_equal(
        sdtls__cert_key_pem(&certs[SDTLS_KEY_EC_P384], other_key, sizeof(other_key), &other_len),
        0);

    /* The key of another certificate. */
    assert_int_equal(sdtls__cert_from_pem(pem, pem_len, other_key, other_len, &c), SDTLS_ERR_ARG);
    assert_null(c.der);
    assert_null(c.key);
    /* Garbage, empty, a key where the chain should be. */
    assert_int_equal(sdtls__cert_from_pem("hello", 5, key, key_len, &c), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__cert_from_pem(pem, 0, key, key_len, &c), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__cert_from_pem(key, key_len, key, key_len, &c), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__cert_from_pem(pem, pem_len, pem, pem_len, &c), SDTLS_ERR_ARG);
    /* A damaged base64 body. */
    char bad[8192];
    memcpy(bad, pem, pem_len);
    bad[40] = '!';
    assert_int_equal(sdtls__cert_from_pem(bad, pem_len, key, key_len, &c), SDTLS_ERR_ARG);
    /* A damaged second block is an error, not a one-certificate chain. */
    memcpy(bad, pem, pem_len);
    memcpy(bad + pem_len, pem, pem_len);
    bad[pem_len + 100] = '!';
    assert_int_equal(sdtls__cert_from_pem(bad, 2 * pem_len, key, key_len, &c), SDTLS_ERR_ARG);
    /* The chain does not NUL-terminate the buffer it reads: lengths bound everything. */
    assert_int_equal(sdtls__cert_from_pem(pem, pem_len - 30, key, key_len, &c), SDTLS_ERR_ARG);
}

static void test_cert_from_pem_chain(void **state)
{
    (void)state;
    char chain[4096];
    int n = snprintf(chain, sizeof(chain), "%s%s", LEAF_PEM, INTER_PEM);
    assert_true(n > 0 && (size_t)n < sizeof(chain));
    sdtls__cert c;
    assert_int_equal(sdtls__cert_from_pem(chain, (size_t)n, LEAF_KEY_PEM, strlen(LEAF_KEY_PEM), &c),
                     0);
    assert_int_equal(c.count, 2);
    assert_int_equal(sdtls__pkey_type(c.key), SDTLS_PKEY_EC_P256);

    /* Leaf first: the DER of element 0 is the leaf (its public key pairs with the key). */
    sdtls__pkey *leaf_pub;
    assert_int_equal(sdtls__x509_pubkey(c.der[0], c.der_len[0], &leaf_pub), 0);
    uint8_t sig[128];
    size_t sig_len;
    assert_int_equal(sdtls__sign(c.key, SDTLS_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)"x", 1,
                                 sig, sizeof(sig), &sig_len),
                     0);
    assert_int_equal(sdtls__verify(leaf_pub, SDTLS_SIG_ECDSA_SECP256R1_SHA256, (const uint8_t *)"x",
                                   1, sig, sig_len),
                     0);
    sdtls__pkey_free(leaf_pub);

    /* Wrong order: the key does not match the first certificate. */
    n = snprintf(chain, sizeof(chain), "%s%s", INTER_PEM, LEAF_PEM);
    sdtls__cert bad;
    assert_int_equal(
        sdtls__cert_from_pem(chain, (size_t)n, LEAF_KEY_PEM, strlen(LEAF_KEY_PEM), &bad),
        SDTLS_ERR_ARG);
    sdtls__cert_clear(&c);
}

static void test_x509_pubkey_errors(void **state)
{
    (void)state;
    const sdtls__cert *c = &certs[SDTLS_KEY_EC_P256];
    sdtls__pkey *pk = (sdtls__pkey *)&pk;
    uint8_t buf[4096];
    assert_int_equal(sdtls__x509_pubkey(c->der[0], c->der_len[0] - 1, &pk), SDTLS_ERR_ARG);
    assert_null(pk);
    memcpy(buf, c->der[0], c->der_len[0]);
    buf[c->der_len[0]] = 0;
    assert_int_equal(sdtls__x509_pubkey(buf, c->der_len[0] + 1, &pk), SDTLS_ERR_ARG);
    assert_int_equal(sdtls__x509_pubkey(buf, 0, &pk), SDTLS_ERR_ARG);
    memset(buf, 0x30, 64);
    assert_int_equal(sdtls__x509_pubkey(buf, 64, &pk), SDTLS_ERR_ARG);
}

static void test_cert_files(void **state)
{
    (void)state;
    char cert_path[128], key_path[128], der_path[128];
    tmp_path(cert_path, sizeof(cert_path), "cert.pem");
    tmp_path(key_path, sizeof(key_path), "key.pem");
    tmp_path(der_path, sizeof(der_path), "cert.der");
    const sdtls__cert *c = &certs[SDTLS_KEY_ED25519];

    /* A pre-existing world-readable key file is tightened before the key is written. */
    write_text(key_path, "old");
    assert_int_equal(chmod(key_path, 0644), 0);
    assert_int_equal(sdtls__cert_write_files(c, cert_path, key_path), 0);
    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Read back as PEM and compare with the certificate. */
    uint8_t *der = NULL;
    size_t der_len = 0;
    assert_int_equal(sdtls__x509_read_file_der(cert_path, &der, &der_len), 0);
    assert_int_equal(der_len, c->der_len[0]);
    assert_memory_equal(der, c->der[0], der_len);

    /* The same certificate as a DER file. */
    FILE *f = fopen(der_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(der, 1, der_len, f), der_len);
    assert_int_equal(fclose(f), 0);
    free(der);
    assert_int_equal(sdtls__x509_read_file_der(der_path, &der, &der_len), 0);
    assert_memory_equal(der, c->der[0], der_len);
    free(der);

    /* The files load back as an identity. */
    char pem[8192], key[8192];
    f = fopen(cert_path, "rb");
    size_t pem_len = fread(pem, 1, sizeof(pem), f);
    fclose(f);
    f = fopen(key_path, "rb");
    size_t key_len = fread(key, 1, sizeof(key), f);
    fclose(f);
    sdtls__cert back;
    assert_int_equal(sdtls__cert_from_pem(pem, pem_len, key, key_len, &back), 0);
    sdtls__cert_clear(&back);

    /* Missing and unparsable files. */
    char missing[128];
    tmp_path(missing, sizeof(missing), "does-not-exist.pem");
    assert_int_equal(sdtls__x509_read_file_der(missing, &der, &der_len), SDTLS_ERR_IO);
    assert_null(der);
    assert_int_equal(sdtls__x509_read_file_der(key_path, &der, &der_len), SDTLS_ERR_ARG);
    char no_dir[160];
    tmp_path(no_dir, sizeof(no_dir), "no/such/dir/key.pem");
    assert_int_equal(sdtls__cert_write_files(c, cert_path, no_dir), SDTLS_ERR_IO);

    unlink(cert_path);
    unlink(key_path);
    unlink(der_path);
}

/* ---- trust ------------------------------------------------------------------------------ */

static sdtls__trust *load_trust(const char *name, const char *pem)
{
    char path[128];
    tmp_path(path, sizeof(path), name);
    write_text(path, pem);
    sdtls__trust *t = NULL;
    assert_int_equal(sdtls__trust_load_file(path, &t), 0);
    unlink(path);
    return t;
}

/* DER of a PEM constant, through the cert loader (as the handshake would receive it). */
static void pem_der(const char *pem, uint8_t *der, size_t cap, size_t *len)
{
    char path[128];
    tmp_path(path, sizeof(path), "one.pem");
    write_text(path, pem);
    uint8_t *d;
    assert_int_equal(sdtls__x509_read_file_der(path, &d, len), 0);
    assert_true(*len <= cap);
    memcpy(der, d, *len);
    free(d);
    unlink(path);
}

static void test_trust_self_signed(void **state)
{
    (void)state;
    char pem[8192], why[128];
    size_t pem_len;
    sdtls__cert ip;
    assert_int_equal(sdtls__cert_generate(SDTLS_KEY_EC_P256, "127.0.0.1", serial_a, &ip), 0);

    for (int t = 0; t < 4; t++) {
        const sdtls__cert *c = &certs[t];
        assert_int_equal(sdtls__cert_leaf_pem(c, pem, sizeof(pem), &pem_len), 0);
        sdtls__trust *trust = load_trust("self.pem", pem);
        const uint8_t *const *der = (const uint8_t *const *)c->der;

        assert_int_equal(sdtls__trust_verify(trust, der, c->der_len, 1, NULL, why, sizeof(why)), 0);
        assert_string_equal(why, "");
        assert_int_equal(
            sdtls__trust_verify(trust, der, c->der_len, 1, "sdtls-test", why, sizeof(why)), 0);
        /* Case-insensitive host names (RFC 6125 6.4.1). */
        assert_int_equal(
            sdtls__trust_verify(trust, der, c->der_len, 1, "SDTLS-Test", why, sizeof(why)), 0);
        assert_int_equal(
            sdtls__trust_verify(trust, der, c->der_len, 1, "other.example", why, sizeof(why)),
            SDTLS_ALERT_BAD_CERTIFICATE);
        assert_true(strlen(why) > 0);
        assert_int_equal(
            sdtls__trust_verify(trust, der, c->der_len, 1, "127.0.0.1", why, sizeof(why)),
            SDTLS_ALERT_BAD_CERTIFICATE);

        /* Another self-signed certificate is unknown to this store. */
        const sdtls__cert *o = &certs[(t + 1) % 4];
        assert_int_equal(sdtls__trust_verify(trust, (const uint8_t *const *)o->der, o->der_len, 1,
                                             NULL, why, sizeof(why)),
                         SDTLS_ALERT_UNKNOWN_CA);
        assert_true(strlen(why) > 0);
        /* Even when the trusted one follows it in the chain. */
        const uint8_t *pair[2] = {o->der[0], c->der[0]};
        size_t pair_len[2] = {o->der_len[0], c->der_len[0]};
        assert_int_equal(sdtls__trust_verify(trust, pair, pair_len, 2, NULL, why, sizeof(why)),
                         SDTLS_ALERT_UNKNOWN_CA);
        sdtls__trust_free(trust);
    }

    /* An address literal is checked against the IP subjectAltName. */
    assert_int_equal(sdtls__cert_leaf_pem(&ip, pem, sizeof(pem), &pem_len), 0);
    sdtls__trust *trust = load_trust("ip.pem", pem);
    const uint8_t *const *der = (const uint8_t *const *)ip.der;
    assert_int_equal(sdtls__trust_verify(trust, der, ip.der_len, 1, "127.0.0.1", why, sizeof(why)),
                     0);
    assert_int_equal(sdtls__trust_verify(trust, der, ip.der_len, 1, "127.0.0.2", why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    assert_int_equal(sdtls__trust_verify(trust, der, ip.der_len, 1, "::1", why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    /* A tiny `why` buffer is truncated, still NUL-terminated. */
    char small[4];
    assert_int_equal(
        sdtls__trust_verify(trust, der, ip.der_len, 1, "127.0.0.2", small, sizeof(small)),
        SDTLS_ALERT_BAD_CERTIFICATE);
    assert_int_equal(strlen(small), 3);
    assert_int_equal(sdtls__trust_verify(trust, der, ip.der_len, 1, "127.0.0.2", NULL, 0),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    sdtls__trust_free(trust);
    sdtls__cert_clear(&ip);
}

static void test_trust_chain(void **state)
{
    (void)state;
    uint8_t leaf[2048], inter[2048], root[2048], old[2048], fut[2048];
    size_t leaf_len, inter_len, root_len, old_len, fut_len;
    char why[128];
    pem_der(LEAF_PEM, leaf, sizeof(leaf), &leaf_len);
    pem_der(INTER_PEM, inter, sizeof(inter), &inter_len);
    pem_der(ROOT_PEM, root, sizeof(root), &root_len);
    pem_der(EXPIRED_PEM, old, sizeof(old), &old_len);
    pem_der(FUTURE_PEM, fut, sizeof(fut), &fut_len);

    sdtls__trust *t = load_trust("root.pem", ROOT_PEM);
    const uint8_t *chain[3] = {leaf, inter, root};
    size_t chain_len[3] = {leaf_len, inter_len, root_len};

    /* The intermediate comes from the peer's chain (untrusted), the root from the store. */
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 2, "leaf.example", why, sizeof(why)),
                     0);
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 3, NULL, why, sizeof(why)), 0);
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 2, "leaf.example.", why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 2, "evil.example", why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    /* Without the intermediate the issuer cannot be found. */
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 1, NULL, why, sizeof(why)),
                     SDTLS_ALERT_UNKNOWN_CA);
    /* Intermediates only: verifying the intermediate itself works too. */
    assert_int_equal(sdtls__trust_verify(t, chain + 1, chain_len + 1, 1, NULL, why, sizeof(why)),
                     0);
    /* A malformed certificate anywhere in the chain. */
    size_t bad_len[2] = {leaf_len, inter_len - 1};
    assert_int_equal(sdtls__trust_verify(t, chain, bad_len, 2, NULL, why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    assert_string_equal(why, "malformed certificate");
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 0, NULL, why, sizeof(why)),
                     SDTLS_ALERT_BAD_CERTIFICATE);
    sdtls__trust_free(t);

    /* A store with only the intermediate does not anchor a chain to the root by default. */
    t = load_trust("inter.pem", INTER_PEM);
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 2, NULL, why, sizeof(why)),
                     SDTLS_ALERT_UNKNOWN_CA);
    sdtls__trust_free(t);

    /* Outside the validity period, even though trusted directly. */
    t = load_trust("old.pem", EXPIRED_PEM);
    const uint8_t *o[1] = {old};
    assert_int_equal(sdtls__trust_verify(t, o, &old_len, 1, NULL, why, sizeof(why)),
                     SDTLS_ALERT_CERTIFICATE_EXPIRED);
    assert_non_null(strstr(why, "expired"));
    sdtls__trust_free(t);
    t = load_trust("fut.pem", FUTURE_PEM);
    const uint8_t *f[1] = {fut};
    assert_int_equal(sdtls__trust_verify(t, f, &fut_len, 1, NULL, why, sizeof(why)),
                     SDTLS_ALERT_CERTIFICATE_EXPIRED);
    assert_non_null(strstr(why, "not yet valid"));
    sdtls__trust_free(t);

    /* A bundle of several CAs. */
    char bundle[4096];
    snprintf(bundle, sizeof(bundle), "%s%s", EXPIRED_PEM, ROOT_PEM);
    t = load_trust("bundle.pem", bundle);
    assert_int_equal(sdtls__trust_verify(t, chain, chain_len, 2, NULL, why, sizeof(why)), 0);
    sdtls__trust_free(t);
}

static void test_trust_load_errors(void **state)
{
    (void)state;
    char path[128];
    sdtls__trust *t = (sdtls__trust *)&t;
    tmp_path(path, sizeof(path), "missing.pem");
    assert_int_equal(sdtls__trust_load_file(path, &t), SDTLS_ERR_IO);
    assert_null(t);
    tmp_path(path, sizeof(path), "junk.pem");
    write_text(path, "not a certificate\n");
    assert_int_equal(sdtls__trust_load_file(path, &t), SDTLS_ERR_ARG);
    write_text(path, "");
    assert_int_equal(sdtls__trust_load_file(path, &t), SDTLS_ERR_ARG);
    unlink(path);
    sdtls__trust_free(NULL);
}

/* ---- randomness and utilities ----------------------------------------------------------- */

static void test_utilities(void **state)
{
    (void)state;
    uint8_t a[64] = {0}, b[64] = {0};
    assert_int_equal(sdtls__rand_bytes(NULL, a, sizeof(a)), 0);
    assert_int_equal(sdtls__rand_bytes(NULL, b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(sdtls__rand_bytes(NULL, NULL, 0), 0);

    memcpy(b, a, sizeof(a));
    assert_int_equal(sdtls__ct_equal(a, b, sizeof(a)), 1);
    b[63] ^= 0x80;
    assert_int_equal(sdtls__ct_equal(a, b, sizeof(a)), 0);
    assert_int_equal(sdtls__ct_equal(a, b, 63), 1);
    assert_int_equal(sdtls__ct_equal(a, b, 0), 1);

    sdtls__wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++) {
        assert_int_equal(a[i], 0);
    }
    sdtls__wipe(NULL, 0);

    const char *v = sdtls__crypto_version();
    assert_non_null(v);
    assert_int_equal(strncmp(v, "OpenSSL 3.", 10), 0);
}

/* ---- main ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sdtls_test_crypto_XXXXXX");
    if (mkdtemp(tmp_dir) == NULL) {
        return -1;
    }
    for (int t = 0; t < 4; t++) {
        uint8_t serial[16];
        memset(serial, t, sizeof(serial));
        if (sdtls__cert_generate((sdtls_key_type)t, "sdtls-test", serial, &certs[t]) != 0) {
            return -1;
        }
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int t = 0; t < 4; t++) {
        sdtls__cert_clear(&certs[t]);
    }
    rmdir(tmp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_hmac_key_reuse),
        cmocka_unit_test(test_tls12_prf),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_aead_lengths),
        cmocka_unit_test(test_aead_kat),
        cmocka_unit_test(test_aead_tamper),
        cmocka_unit_test(test_aead_context_reuse),
        cmocka_unit_test(test_kex_agree),
        cmocka_unit_test(test_kex_reject),
        cmocka_unit_test(test_pkey_info),
        cmocka_unit_test(test_sig_fits_key),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_sign_kat),
        cmocka_unit_test(test_sign_mismatch),
        cmocka_unit_test(test_cert_generate),
        cmocka_unit_test(test_cert_from_pem_errors),
        cmocka_unit_test(test_cert_from_pem_chain),
        cmocka_unit_test(test_x509_pubkey_errors),
        cmocka_unit_test(test_cert_files),
        cmocka_unit_test(test_trust_self_signed),
        cmocka_unit_test(test_trust_chain),
        cmocka_unit_test(test_trust_load_errors),
        cmocka_unit_test(test_utilities),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
