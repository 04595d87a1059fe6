/* OpenSSL backend: ephemeral ECDH (X25519, P-256, P-384) for the ECDHE suites. */
#include "ossl_int.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* ---- key exchange ----------------------------------------------------------------------- */

struct sdtls__kex {
    EVP_PKEY *pk;
    sdtls_group_id group;
};

/* TLS encodings: X25519 raw (RFC 7748), NIST curves uncompressed 0x04 || X || Y (RFC 8446
 * 4.2.8.2). Also the length of the shared secret (the X coordinate for NIST curves). */
static int group_sizes(sdtls_group_id g, size_t *pub_len, size_t *secret_len)
{
    switch (g) {
    case SDTLS_GROUP_X25519:
        *pub_len = 32;
        *secret_len = 32;
        return 0;
    case SDTLS_GROUP_SECP256R1:
        *pub_len = 65;
        *secret_len = 32;
        return 0;
    case SDTLS_GROUP_SECP384R1:
        *pub_len = 97;
        *secret_len = 48;
        return 0;
    default:
        return SDTLS_ERR_ARG;
    }
}

static const char *group_curve(sdtls_group_id g)
{
    return g == SDTLS_GROUP_SECP256R1 ? "P-256" : "P-384";
}

int sdtls__kex_new(sdtls_group_id g, sdtls__kex **out, uint8_t *pub, size_t pub_cap,
                   size_t *pub_len)
{
    size_t want_pub, secret_len;
    if (out == NULL || pub == NULL || pub_len == NULL ||
        group_sizes(g, &want_pub, &secret_len) != 0) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    if (pub_cap < want_pub) {
        return SDTLS_ERR_BUF_SMALL;
    }
    int rc = SDTLS_ERR_CRYPTO;
    sdtls__kex *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    k->group = g;
    size_t n = 0;
    if (g == SDTLS_GROUP_X25519) {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
        n = pub_cap;
        if (k->pk == NULL || EVP_PKEY_get_raw_public_key(k->pk, pub, &n) != 1) {
            goto out;
        }
    } else {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group_curve(g));
        /* The encoded public key of an EC key is the uncompressed point by default. */
        if (k->pk == NULL ||
            EVP_PKEY_get_octet_string_param(k->pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, pub_cap,
                                            &n) != 1) {
            goto out;
        }
    }
    if (n != want_pub) {
        goto out;
    }
    *pub_len = n;
    *out = k;
    k = NULL;
    rc = 0;
out:
    sdtls__kex_free(k);
    return rc == 0 ? 0 : fail(rc);
}

void sdtls__kex_free(sdtls__kex *k)
{
    if (k == NULL) {
        return;
    }
    EVP_PKEY_free(k->pk);
    free(k);
}

/* The peer's public value as an EVP_PKEY, or NULL if it is malformed or not on the curve. */
static EVP_PKEY *kex_peer(sdtls_group_id g, const uint8_t *peer_pub, size_t peer_len)
{
    if (g == SDTLS_GROUP_X25519) {
        return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, peer_len);
    }
    /* RFC 8446 4.2.8.2: only the uncompressed form; a compressed point or the point at
     * infinity is a malformed share. */
    if (peer_pub[0] != 0x04) {
        return NULL;
    }
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group_curve(g), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer_pub, peer_len),
        OSSL_PARAM_construct_end(),
    };
    /* Import decodes the point and rejects one that is not on the curve. */
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(peer);
        peer = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return peer;
}

int sdtls__kex_derive(sdtls__kex *k, const uint8_t *peer_pub, size_t peer_len, uint8_t *secret,
                      size_t cap, size_t *secret_len)
{
    size_t want_pub, want_secret;
    if (k == NULL || peer_pub == NULL || secret == NULL || secret_len == NULL ||
        group_sizes(k->group, &want_pub, &want_secret) != 0 || peer_len != want_pub) {
        return SDTLS_ERR_ARG;
    }
    if (cap < want_secret) {
        return SDTLS_ERR_BUF_SMALL;
    }
    int rc = SDTLS_ERR_CRYPTO;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *peer = kex_peer(k->group, peer_pub, peer_len);
    if (peer == NULL) {
        rc = SDTLS_ERR_ARG;
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pk, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1) {
        goto out;
    }
    /* validate_peer = 1 runs the full public-key check (SP 800-56A partial validation for
     * NIST curves) on top of the on-curve check of the import. */
    if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1) {
        rc = SDTLS_ERR_ARG;
        goto out;
    }
    size_t n = cap;
    if (EVP_PKEY_derive(ctx, secret, &n) != 1) {
        /* RFC 7748 6.1 / RFC 8446 7.4.2: X25519 derive fails only on an all-zero result,
         * i.e. a small-order peer point, which is the peer's fault. */
        rc = k->group == SDTLS_GROUP_X25519 ? SDTLS_ERR_ARG : SDTLS_ERR_CRYPTO;
        goto out;
    }
    if (n != want_secret) {
        OPENSSL_cleanse(secret, n);
        goto out;
    }
    *secret_len = n;
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return rc == 0 ? 0 : fail(rc);
}

const sdtls__kex_class sdtls__kex_ecdhe = {sdtls__kex_new, sdtls__kex_derive, sdtls__kex_free};
