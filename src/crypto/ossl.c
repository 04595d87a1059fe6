/*
 * OpenSSL 3.0 libcrypto backend of the crypto seam (crypto.h). This is the only file in the
 * project that includes OpenSSL headers, and it uses libcrypto only (EVP, X509), never libssl.
 *
 * Design notes
 *  - Opaque handles: sdtls__pkey is an EVP_PKEY and sdtls__trust an X509_STORE, converted by
 *    casts, so reference counting is OpenSSL's own (sdtls__pkey_free is EVP_PKEY_free).
 *  - Every failure path calls ERR_clear_error() (through fail()), so OpenSSL's per-thread
 *    error queue never grows across a long-lived connection and a later, unrelated failure
 *    is not blamed on a stale entry.
 *  - AEAD contexts are keyed once. Each record only sets the nonce: for GCM and
 *    ChaCha20-Poly1305 that is all OpenSSL needs; CCM additionally needs the tag length at
 *    init and the total plaintext length before the AAD on every call. The CCM provider
 *    keeps the key schedule across calls (the nonce reset clears its per-message flags),
 *    which test_crypto.c checks against freshly keyed contexts, so no key copy is kept.
 *  - EVP lengths are int: every length is checked against INT_MAX before it is cast.
 *  - Objects are fetched per call (no global state, so fuzz and test builds stay
 *    deterministic); OpenSSL caches fetched algorithms, so this is a lookup, not a load.
 */
#define _POSIX_C_SOURCE 200809L

#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* Stand-in for NULL buffers of length 0: several EVP calls treat a NULL input as "no input"
 * (finalise, or set length) rather than "empty input". */
static const uint8_t empty_buf[1];

static int fail(int rc)
{
    ERR_clear_error();
    return rc;
}

static EVP_PKEY *to_evp(const sdtls__pkey *k)
{
    /* OpenSSL's API takes non-const EVP_PKEY pointers even for read-only use. */
    return (EVP_PKEY *)k;
}

static sdtls__pkey *from_evp(EVP_PKEY *k)
{
    return (sdtls__pkey *)k;
}

/* ---- hashes ---------------------------------------------------------------------------- */

static const char *md_name(sdtls_hash_id h)
{
    switch (h) {
    case SDTLS_HASH_SHA256:
        return "SHA256";
    case SDTLS_HASH_SHA384:
        return "SHA384";
    case SDTLS_HASH_SHA512:
        return "SHA512";
    case SDTLS_HASH_SHA1:
        return "SHA1";
    case SDTLS_HASH_NONE:
    default:
        return NULL;
    }
}

size_t sdtls__hash_len(sdtls_hash_id h)
{
    switch (h) {
    case SDTLS_HASH_SHA256:
        return 32;
    case SDTLS_HASH_SHA384:
        return 48;
    case SDTLS_HASH_SHA512:
        return 64;
    case SDTLS_HASH_SHA1:
        return 20;
    case SDTLS_HASH_NONE:
    default:
        return 0;
    }
}

int sdtls__hash(sdtls_hash_id h, const uint8_t *in, size_t len, uint8_t *out)
{
    const char *name = md_name(h);
    if (name == NULL || out == NULL || (in == NULL && len != 0)) {
        return SDTLS_ERR_ARG;
    }
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    if (md == NULL) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    int ok = EVP_Digest(in != NULL ? in : empty_buf, len, out, NULL, md, NULL);
    EVP_MD_free(md);
    return ok == 1 ? 0 : fail(SDTLS_ERR_CRYPTO);
}

int sdtls__hmac(sdtls_hash_id h, const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
                uint8_t *out)
{
    return sdtls__hmac_v(h, key, key_len, &in, &len, 1, out);
}

int sdtls__hmac_v(sdtls_hash_id h, const uint8_t *key, size_t key_len, const uint8_t *const *in,
                  const size_t *len, size_t n, uint8_t *out)
{
    const char *name = md_name(h);
    if (name == NULL || out == NULL || (key == NULL && key_len != 0) ||
        (n != 0 && (in == NULL || len == NULL))) {
        return SDTLS_ERR_ARG;
    }
    int rc = SDTLS_ERR_CRYPTO;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
        OSSL_PARAM_construct_end(),
    };

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        goto out;
    }
    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    /* A NULL key means "keep the previous key" to EVP_MAC_init; an empty key is a key. */
    if (EVP_MAC_init(ctx, key != NULL ? key : empty_buf, key_len, params) != 1) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i] == NULL && len[i] != 0) {
            rc = SDTLS_ERR_ARG;
            goto out;
        }
        if (len[i] != 0 && EVP_MAC_update(ctx, in[i], len[i]) != 1) {
            goto out;
        }
    }
    size_t out_len = 0;
    if (EVP_MAC_final(ctx, out, &out_len, sdtls__hash_len(h)) != 1) {
        goto out;
    }
    rc = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc == 0 ? 0 : fail(rc);
}

/* Run KDF `name` with `params` into out. */
static int kdf_run(const char *name, const OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
    int rc = SDTLS_ERR_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *ctx = NULL;
    if (kdf == NULL) {
        goto out;
    }
    ctx = EVP_KDF_CTX_new(kdf);
    if (ctx == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    if (EVP_KDF_derive(ctx, out, out_len, params) != 1) {
        goto out;
    }
    rc = 0;
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc == 0 ? 0 : fail(rc);
}

/* OpenSSL's TLS1-PRF keeps label + seed in a fixed buffer of this size (TLS1_PRF_MAXBUF). */
#define PRF_SEED_MAX 1024

int sdtls__tls12_prf(sdtls_hash_id h, const uint8_t *secret, size_t secret_len, const char *label,
                     const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
                     uint8_t *out, size_t out_len)
{
    const char *name = md_name(h);
    if (name == NULL || label == NULL || out == NULL || out_len == 0 ||
        (secret == NULL && secret_len != 0) || (seed1 == NULL && seed1_len != 0) ||
        (seed2 == NULL && seed2_len != 0)) {
        return SDTLS_ERR_ARG;
    }
    size_t label_len = strlen(label);
    if (label_len > PRF_SEED_MAX || seed1_len > PRF_SEED_MAX - label_len ||
        seed2_len > PRF_SEED_MAX - label_len - seed1_len) {
        return SDTLS_ERR_ARG;
    }
    /* RFC 5246 5: PRF(secret, label, seed) = P_<hash>(secret, label + seed). The provider
     * concatenates repeated SEED parameters, so nothing is copied here. */
    OSSL_PARAM params[6];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)name, 0);
    params[i++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SECRET, (void *)(secret != NULL ? secret : empty_buf), secret_len);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, label_len);
    if (seed1_len != 0) {
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed1, seed1_len);
    }
    if (seed2_len != 0) {
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed2, seed2_len);
    }
    params[i] = OSSL_PARAM_construct_end();
    return kdf_run("TLS1-PRF", params, out, out_len);
}

int sdtls__hkdf_extract(sdtls_hash_id h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                        size_t ikm_len, uint8_t *prk)
{
    const char *name = md_name(h);
    if (name == NULL || prk == NULL || (salt == NULL && salt_len != 0) ||
        (ikm == NULL && ikm_len != 0)) {
        return SDTLS_ERR_ARG;
    }
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    OSSL_PARAM params[5];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)name, 0);
    params[i++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, (void *)(ikm != NULL ? ikm : empty_buf), ikm_len);
    /* RFC 5869 2.2: an absent salt is HashLen zeros, which is the same HMAC key as an empty
     * one (HMAC pads keys with zeros), so an empty salt is simply not passed. */
    if (salt_len != 0) {
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    }
    params[i] = OSSL_PARAM_construct_end();
    return kdf_run("HKDF", params, prk, sdtls__hash_len(h));
}

int sdtls__hkdf_expand(sdtls_hash_id h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                       size_t info_len, uint8_t *out, size_t out_len)
{
    const char *name = md_name(h);
    /* RFC 5869 2.3: L <= 255 * HashLen. */
    if (name == NULL || prk == NULL || prk_len == 0 || out == NULL || out_len == 0 ||
        out_len > 255 * sdtls__hash_len(h) || (info == NULL && info_len != 0)) {
        return SDTLS_ERR_ARG;
    }
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[5];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)name, 0);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)prk, prk_len);
    if (info_len != 0) {
        params[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    }
    params[i] = OSSL_PARAM_construct_end();
    return kdf_run("HKDF", params, out, out_len);
}

/* ---- AEAD ------------------------------------------------------------------------------- */

struct sdtls__aead {
    EVP_CIPHER_CTX *ctx;
    size_t tag_len;
    int is_ccm;
};

static const char *aead_cipher_name(sdtls_aead_id a)
{
    switch (a) {
    case SDTLS_AEAD_AES_128_GCM:
        return "AES-128-GCM";
    case SDTLS_AEAD_AES_256_GCM:
        return "AES-256-GCM";
    case SDTLS_AEAD_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    case SDTLS_AEAD_AES_128_CCM:
    case SDTLS_AEAD_AES_128_CCM_8:
        return "AES-128-CCM";
    default:
        return NULL;
    }
}

size_t sdtls__aead_key_len(sdtls_aead_id a)
{
    switch (a) {
    case SDTLS_AEAD_AES_128_GCM:
    case SDTLS_AEAD_AES_128_CCM:
    case SDTLS_AEAD_AES_128_CCM_8:
        return 16;
    case SDTLS_AEAD_AES_256_GCM:
    case SDTLS_AEAD_CHACHA20_POLY1305:
        return 32;
    default:
        return 0;
    }
}

size_t sdtls__aead_tag_len(sdtls_aead_id a)
{
    switch (a) {
    case SDTLS_AEAD_AES_128_GCM:
    case SDTLS_AEAD_AES_256_GCM:
    case SDTLS_AEAD_CHACHA20_POLY1305:
    case SDTLS_AEAD_AES_128_CCM:
        return 16;
    case SDTLS_AEAD_AES_128_CCM_8:
        return 8;
    default:
        return 0;
    }
}

int sdtls__aead_new(sdtls_aead_id a, const uint8_t *key, int encrypt, sdtls__aead **out)
{
    const char *name = aead_cipher_name(a);
    if (name == NULL || key == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    int rc = SDTLS_ERR_CRYPTO;
    int enc = encrypt ? 1 : 0;
    EVP_CIPHER *cipher = NULL;
    sdtls__aead *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    ctx->tag_len = sdtls__aead_tag_len(a);
    ctx->is_ccm = a == SDTLS_AEAD_AES_128_CCM || a == SDTLS_AEAD_AES_128_CCM_8;
    ctx->ctx = EVP_CIPHER_CTX_new();
    if (ctx->ctx == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    if (cipher == NULL) {
        goto out;
    }
    /* IV length, and for CCM the tag length, must be set before the key. */
    if (EVP_CipherInit_ex(ctx->ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx->ctx, EVP_CTRL_AEAD_SET_IVLEN, SDTLS_AEAD_NONCE_LEN, NULL) != 1) {
        goto out;
    }
    if (ctx->is_ccm &&
        EVP_CIPHER_CTX_ctrl(ctx->ctx, EVP_CTRL_AEAD_SET_TAG, (int)ctx->tag_len, NULL) != 1) {
        goto out;
    }
    if (EVP_CipherInit_ex(ctx->ctx, NULL, NULL, key, NULL, enc) != 1) {
        goto out;
    }
    *out = ctx;
    ctx = NULL;
    rc = 0;
out:
    EVP_CIPHER_free(cipher);
    sdtls__aead_free(ctx);
    return rc == 0 ? 0 : fail(rc);
}

void sdtls__aead_free(sdtls__aead *ctx)
{
    if (ctx == NULL) {
        return;
    }
    /* The provider contexts wipe their key schedules when freed. */
    EVP_CIPHER_CTX_free(ctx->ctx);
    free(ctx);
}

/* Nonce, the plaintext length (CCM only) and the AAD: the common prefix of seal and open. */
static int aead_start(sdtls__aead *ctx, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                      size_t len, const uint8_t *tag)
{
    int n;
    if (EVP_CipherInit_ex(ctx->ctx, NULL, NULL, NULL, nonce, -1) != 1) {
        return SDTLS_ERR_CRYPTO;
    }
    /* CCM checks the tag inside the data update, so the expected tag must be set first. */
    if (tag != NULL &&
        EVP_CIPHER_CTX_ctrl(ctx->ctx, EVP_CTRL_AEAD_SET_TAG, (int)ctx->tag_len, (void *)tag) != 1) {
        return SDTLS_ERR_CRYPTO;
    }
    /* CCM authenticates the message length first (RFC 3610 2.2), so OpenSSL needs it before
     * any AAD. */
    if (ctx->is_ccm && EVP_CipherUpdate(ctx->ctx, NULL, &n, NULL, (int)len) != 1) {
        return SDTLS_ERR_CRYPTO;
    }
    if (aad_len != 0 && EVP_CipherUpdate(ctx->ctx, NULL, &n, aad, (int)aad_len) != 1) {
        return SDTLS_ERR_CRYPTO;
    }
    return 0;
}

int sdtls__aead_seal(sdtls__aead *ctx, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t len, uint8_t *out)
{
    if (ctx == NULL || nonce == NULL || out == NULL || (aad == NULL && aad_len != 0) ||
        (in == NULL && len != 0) || aad_len > INT_MAX || len > INT_MAX) {
        return SDTLS_ERR_ARG;
    }
    int n = 0, fn = 0;
    uint8_t scratch[16];
    if (aead_start(ctx, nonce, aad, aad_len, len, NULL) != 0) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    /* Non-NULL pointers even for empty data: CCM reads (NULL, 0) as "finalise" and would
     * never compute the tag. */
    if (EVP_CipherUpdate(ctx->ctx, len != 0 ? out : scratch, &n, len != 0 ? in : empty_buf,
                         (int)len) != 1 ||
        EVP_CipherFinal_ex(ctx->ctx, out + n, &fn) != 1 || (size_t)n + (size_t)fn != len ||
        EVP_CIPHER_CTX_ctrl(ctx->ctx, EVP_CTRL_AEAD_GET_TAG, (int)ctx->tag_len, out + len) != 1) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    return 0;
}

int sdtls__aead_open(sdtls__aead *ctx, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (ctx == NULL || nonce == NULL || in == NULL || (aad == NULL && aad_len != 0) ||
        in_len < ctx->tag_len || aad_len > INT_MAX || in_len > INT_MAX) {
        return SDTLS_ERR_ARG;
    }
    size_t len = in_len - ctx->tag_len;
    if (out == NULL && len != 0) {
        return SDTLS_ERR_ARG;
    }
    int n = 0, fn = 0;
    uint8_t scratch[16];
    if (aead_start(ctx, nonce, aad, aad_len, len, in + len) != 0) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    uint8_t *dst = len != 0 ? out : scratch;
    if (EVP_CipherUpdate(ctx->ctx, dst, &n, len != 0 ? in : empty_buf, (int)len) != 1 ||
        EVP_CipherFinal_ex(ctx->ctx, dst + n, &fn) != 1 || (size_t)n + (size_t)fn != len) {
        /* GCM and ChaCha20-Poly1305 release plaintext before the tag check fails: never
         * leave unauthenticated bytes behind. */
        if (len != 0) {
            OPENSSL_cleanse(out, len);
        }
        return fail(SDTLS_ERR_CRYPTO);
    }
    return 0;
}

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

/* ---- signatures and keys ---------------------------------------------------------------- */

typedef enum { SIG_RSA_PKCS1, SIG_RSA_PSS, SIG_ECDSA, SIG_ED25519 } sig_kind;

typedef struct sig_row {
    sdtls_sig_scheme scheme;
    sig_kind kind;
    const char *md;
    int curve_nid; /* ECDSA in TLS 1.3: the only curve allowed with this scheme */
} sig_row;

static const sig_row sig_rows[] = {
    {SDTLS_SIG_RSA_PKCS1_SHA256, SIG_RSA_PKCS1, "SHA256", NID_undef},
    {SDTLS_SIG_RSA_PKCS1_SHA384, SIG_RSA_PKCS1, "SHA384", NID_undef},
    {SDTLS_SIG_RSA_PKCS1_SHA512, SIG_RSA_PKCS1, "SHA512", NID_undef},
    {SDTLS_SIG_ECDSA_SECP256R1_SHA256, SIG_ECDSA, "SHA256", NID_X9_62_prime256v1},
    {SDTLS_SIG_ECDSA_SECP384R1_SHA384, SIG_ECDSA, "SHA384", NID_secp384r1},
    {SDTLS_SIG_ECDSA_SECP521R1_SHA512, SIG_ECDSA, "SHA512", NID_secp521r1},
    {SDTLS_SIG_RSA_PSS_RSAE_SHA256, SIG_RSA_PSS, "SHA256", NID_undef},
    {SDTLS_SIG_RSA_PSS_RSAE_SHA384, SIG_RSA_PSS, "SHA384", NID_undef},
    {SDTLS_SIG_RSA_PSS_RSAE_SHA512, SIG_RSA_PSS, "SHA512", NID_undef},
    {SDTLS_SIG_ED25519, SIG_ED25519, NULL, NID_undef},
};

static const sig_row *sig_lookup(sdtls_sig_scheme s)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(sig_rows); i++) {
        if (sig_rows[i].scheme == s) {
            return &sig_rows[i];
        }
    }
    return NULL;
}

/* Curve of an EC key, NID_undef for anything else. */
static int ec_curve_nid(const EVP_PKEY *pk)
{
    char name[80];
    size_t n = 0;
    if (!EVP_PKEY_is_a(pk, "EC") || EVP_PKEY_get_group_name(pk, name, sizeof(name), &n) != 1) {
        ERR_clear_error();
        return NID_undef;
    }
    int nid = OBJ_sn2nid(name);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(name);
    }
    return nid;
}

void sdtls__pkey_free(sdtls__pkey *k)
{
    EVP_PKEY_free(to_evp(k));
}

sdtls_pkey_type sdtls__pkey_type(const sdtls__pkey *k)
{
    const EVP_PKEY *pk = to_evp(k);
    if (pk == NULL) {
        return SDTLS_PKEY_OTHER;
    }
    /* "RSA" is rsaEncryption only; RSASSA-PSS-restricted keys are OTHER (no rsa_pss_pss_*). */
    if (EVP_PKEY_is_a(pk, "RSA")) {
        return SDTLS_PKEY_RSA;
    }
    if (EVP_PKEY_is_a(pk, "ED25519")) {
        return SDTLS_PKEY_ED25519;
    }
    switch (ec_curve_nid(pk)) {
    case NID_X9_62_prime256v1:
        return SDTLS_PKEY_EC_P256;
    case NID_secp384r1:
        return SDTLS_PKEY_EC_P384;
    default:
        return SDTLS_PKEY_OTHER;
    }
}

size_t sdtls__pkey_bits(const sdtls__pkey *k)
{
    const EVP_PKEY *pk = to_evp(k);
    if (pk == NULL) {
        return 0;
    }
    /* OpenSSL reports 256 for Ed25519; the seam promises the curve's 253 bits. */
    if (EVP_PKEY_is_a(pk, "ED25519")) {
        return 253;
    }
    int bits = EVP_PKEY_get_bits(pk);
    return bits > 0 ? (size_t)bits : 0;
}

int sdtls__sig_fits_key(sdtls_sig_scheme s, const sdtls__pkey *k, int tls12)
{
    const sig_row *row = sig_lookup(s);
    const EVP_PKEY *pk = to_evp(k);
    if (row == NULL || pk == NULL) {
        return 0;
    }
    switch (row->kind) {
    case SIG_RSA_PKCS1:
    case SIG_RSA_PSS:
        return EVP_PKEY_is_a(pk, "RSA");
    case SIG_ECDSA:
        if (!EVP_PKEY_is_a(pk, "EC")) {
            return 0;
        }
        /* RFC 8446 4.2.3: in TLS 1.3 each ECDSA scheme names its curve; RFC 5246 7.4.1.4.1
         * pairs any hash with any curve. */
        return tls12 || ec_curve_nid(pk) == row->curve_nid;
    case SIG_ED25519:
        return EVP_PKEY_is_a(pk, "ED25519");
    default:
        return 0;
    }
}

/* One-shot DigestSign/DigestVerify context for the scheme: PSS per RFC 8446 4.2.3 (MGF1 with
 * the same hash, salt as long as the hash). */
static int sig_init(EVP_MD_CTX *mctx, const sig_row *row, EVP_PKEY *pk, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    int ok = sign ? EVP_DigestSignInit_ex(mctx, &pctx, row->md, NULL, NULL, pk, NULL)
                  : EVP_DigestVerifyInit_ex(mctx, &pctx, row->md, NULL, NULL, pk, NULL);
    if (ok != 1) {
        return SDTLS_ERR_CRYPTO;
    }
    if (row->kind == SIG_RSA_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        return SDTLS_ERR_CRYPTO;
    }
    if (row->kind == SIG_RSA_PSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, row->md, NULL) <= 0)) {
        return SDTLS_ERR_CRYPTO;
    }
    return 0;
}

int sdtls__sign(const sdtls__pkey *priv, sdtls_sig_scheme s, const uint8_t *msg, size_t len,
                uint8_t *sig, size_t cap, size_t *sig_len)
{
    const sig_row *row = sig_lookup(s);
    EVP_PKEY *pk = to_evp(priv);
    if (row == NULL || pk == NULL || sig == NULL || sig_len == NULL || (msg == NULL && len != 0) ||
        !sdtls__sig_fits_key(s, priv, 1)) {
        return SDTLS_ERR_ARG;
    }
    /* The largest signature the key can produce (ECDSA DER may come out shorter). */
    int max = EVP_PKEY_get_size(pk);
    if (max <= 0) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    if (cap < (size_t)max) {
        return SDTLS_ERR_BUF_SMALL;
    }
    int rc = SDTLS_ERR_CRYPTO;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    if (sig_init(mctx, row, pk, 1) != 0) {
        goto out;
    }
    size_t n = cap;
    if (EVP_DigestSign(mctx, sig, &n, msg != NULL ? msg : empty_buf, len) != 1) {
        goto out;
    }
    *sig_len = n;
    rc = 0;
out:
    EVP_MD_CTX_free(mctx);
    return rc == 0 ? 0 : fail(rc);
}

int sdtls__verify(const sdtls__pkey *pub, sdtls_sig_scheme s, const uint8_t *msg, size_t len,
                  const uint8_t *sig, size_t sig_len)
{
    const sig_row *row = sig_lookup(s);
    EVP_PKEY *pk = to_evp(pub);
    if (row == NULL || pk == NULL || (sig == NULL && sig_len != 0) || (msg == NULL && len != 0) ||
        !sdtls__sig_fits_key(s, pub, 1)) {
        return SDTLS_ERR_ARG;
    }
    int rc = SDTLS_ERR_CRYPTO;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    if (sig_init(mctx, row, pk, 0) != 0) {
        goto out;
    }
    /* 1 is valid; 0 is a bad signature and < 0 a malformed one: both are SDTLS_ERR_CRYPTO. */
    if (EVP_DigestVerify(mctx, sig != NULL ? sig : empty_buf, sig_len,
                         msg != NULL ? msg : empty_buf, len) != 1) {
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(mctx);
    return rc == 0 ? 0 : fail(rc);
}

/* ---- certificates ----------------------------------------------------------------------- */

/* PEM reads must never fall back to prompting on the terminal for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *user)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user;
    return -1;
}

/* A named type, so the formatter does not read STACK_OF(X509) *p as a multiplication. */
typedef STACK_OF(X509) x509_chain;

static int der_of(X509 *x, uint8_t **der, size_t *len)
{
    int n = i2d_X509(x, NULL);
    if (n <= 0) {
        return SDTLS_ERR_CRYPTO;
    }
    uint8_t *buf = malloc((size_t)n);
    if (buf == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    uint8_t *p = buf;
    if (i2d_X509(x, &p) != n) {
        free(buf);
        return SDTLS_ERR_CRYPTO;
    }
    *der = buf;
    *len = (size_t)n;
    return 0;
}

/* Fill `out` with the DER of every certificate in `chain` and with `key` (taken over). */
static int cert_fill(x509_chain *chain, EVP_PKEY *key, sdtls__cert *out)
{
    size_t count = (size_t)sk_X509_num(chain);
    sdtls__cert c = {0};
    c.der = calloc(count, sizeof(*c.der));
    c.der_len = calloc(count, sizeof(*c.der_len));
    if (c.der == NULL || c.der_len == NULL) {
        free(c.der);
        free(c.der_len);
        return SDTLS_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        int rc = der_of(sk_X509_value(chain, (int)i), &c.der[i], &c.der_len[i]);
        if (rc != 0) {
            c.count = i;
            sdtls__cert_clear(&c);
            return rc;
        }
    }
    c.count = count;
    c.key = from_evp(key);
    *out = c;
    return 0;
}

int sdtls__cert_from_pem(const char *chain_pem, size_t chain_len, const char *key_pem,
                         size_t key_len, sdtls__cert *out)
{
    if (out == NULL) {
        return SDTLS_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (chain_pem == NULL || key_pem == NULL || chain_len == 0 || key_len == 0 ||
        chain_len > INT_MAX || key_len > INT_MAX) {
        return SDTLS_ERR_ARG;
    }
    int rc = SDTLS_ERR_ARG;
    BIO *cbio = BIO_new_mem_buf(chain_pem, (int)chain_len);
    BIO *kbio = BIO_new_mem_buf(key_pem, (int)key_len);
    STACK_OF(X509) *chain = sk_X509_new_null();
    EVP_PKEY *key = NULL;
    if (cbio == NULL || kbio == NULL || chain == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        X509 *x = PEM_read_bio_X509(cbio, NULL, no_passphrase, NULL);
        if (x == NULL) {
            break;
        }
        if (!sk_X509_push(chain, x)) {
            X509_free(x);
            rc = SDTLS_ERR_NOMEM;
            goto out;
        }
    }
    /* The loop ends at the first failure: only "no more PEM blocks" means a clean end; a
     * damaged block in the middle of the chain is an error, not a shorter chain. */
    unsigned long err = ERR_peek_last_error();
    if (sk_X509_num(chain) == 0 || (err != 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM &&
                                                  ERR_GET_REASON(err) == PEM_R_NO_START_LINE))) {
        goto out;
    }
    ERR_clear_error();
    key = PEM_read_bio_PrivateKey(kbio, NULL, no_passphrase, NULL);
    if (key == NULL) {
        goto out;
    }
    if (X509_check_private_key(sk_X509_value(chain, 0), key) != 1) {
        goto out;
    }
    rc = cert_fill(chain, key, out);
    if (rc == 0) {
        key = NULL;
    }
out:
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    BIO_free(cbio);
    BIO_free(kbio);
    return rc == 0 ? 0 : fail(rc);
}

static EVP_PKEY *generate_key(sdtls_key_type type)
{
    switch (type) {
    case SDTLS_KEY_EC_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case SDTLS_KEY_EC_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case SDTLS_KEY_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case SDTLS_KEY_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default:
        return NULL;
    }
}

/* A DNS subjectAltName only for names that look like host names, an IP one for address
 * literals; other CNs (free text) stay CN-only, which X509_check_host still matches. */
static int add_san(X509 *x, const char *cn)
{
    int rc = SDTLS_ERR_CRYPTO;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(cn);
    ERR_clear_error();
    if (gens == NULL || gn == NULL) {
        goto out;
    }
    if (ip != NULL) {
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        ip = NULL;
    } else {
        for (const char *p = cn; *p != '\0'; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '*' || *p == '_')) {
                rc = 0;
                goto out;
            }
        }
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        if (dns == NULL || ASN1_STRING_set(dns, cn, -1) != 1) {
            ASN1_IA5STRING_free(dns);
            goto out;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
    }
    if (!sk_GENERAL_NAME_push(gens, gn)) {
        goto out;
    }
    gn = NULL;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1) {
        goto out;
    }
    rc = 0;
out:
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    return rc;
}

/* Positive, non-zero serial from the 16 given bytes (RFC 5280 4.1.2.2). */
static int set_serial(X509 *x, const uint8_t serial[16])
{
    uint8_t s[16];
    memcpy(s, serial, sizeof(s));
    s[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(s, (int)sizeof(s), NULL);
    if (bn == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    int ok = (!BN_is_zero(bn) || BN_set_word(bn, 1)) &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : SDTLS_ERR_CRYPTO;
}

int sdtls__cert_generate(sdtls_key_type type, const char *cn, const uint8_t serial[16],
                         sdtls__cert *out)
{
    if (out == NULL) {
        return SDTLS_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    if (serial == NULL || type < SDTLS_KEY_EC_P256 || type > SDTLS_KEY_ED25519) {
        return SDTLS_ERR_ARG;
    }
    if (cn == NULL) {
        cn = "sdtls";
    }
    int rc = SDTLS_ERR_CRYPTO;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    BASIC_CONSTRAINTS *bc = NULL;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = generate_key(type);
    if (key == NULL) {
        goto out;
    }
    x = X509_new();
    name = X509_NAME_new();
    bc = BASIC_CONSTRAINTS_new();
    chain = sk_X509_new_null();
    if (x == NULL || name == NULL || bc == NULL || chain == NULL) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    rc = set_serial(x, serial);
    if (rc != 0) {
        goto out;
    }
    rc = SDTLS_ERR_CRYPTO;
    if (X509_set_version(x, X509_VERSION_3) != 1) {
        goto out;
    }
    /* An hour of slack before now absorbs clock skew between the peers. */
    if (X509_gmtime_adj(X509_getm_notBefore(x), -60L * 60) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 60 * 60) == NULL) {
        goto out;
    }
    /* Fails for CNs over the 64-character upper bound of X.520: the caller's argument. */
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1) {
        rc = SDTLS_ERR_ARG;
        goto out;
    }
    if (X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, key) != 1) {
        goto out;
    }
    /* An end-entity certificate: it may be pinned or trusted directly, never issue. */
    bc->ca = 0;
    if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1 ||
        add_san(x, cn) != 0) {
        goto out;
    }
    /* Ed25519 signs the message itself (RFC 8410 6): no digest. */
    if (X509_sign(x, key, type == SDTLS_KEY_ED25519 ? NULL : EVP_sha256()) <= 0) {
        goto out;
    }
    if (!sk_X509_push(chain, x)) {
        rc = SDTLS_ERR_NOMEM;
        goto out;
    }
    x = NULL;
    rc = cert_fill(chain, key, out);
    if (rc == 0) {
        key = NULL;
    }
out:
    sk_X509_pop_free(chain, X509_free);
    BASIC_CONSTRAINTS_free(bc);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc == 0 ? 0 : fail(rc);
}

void sdtls__cert_clear(sdtls__cert *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->count; i++) {
        free(c->der[i]);
    }
    free(c->der);
    free(c->der_len);
    sdtls__pkey_free(c->key);
    memset(c, 0, sizeof(*c));
}

/* The leaf's PEM in a new memory BIO. */
static int leaf_pem_bio(const sdtls__cert *c, BIO **out)
{
    if (c == NULL || c->count == 0 || c->der == NULL || c->der[0] == NULL ||
        c->der_len[0] > LONG_MAX) {
        return SDTLS_ERR_ARG;
    }
    const uint8_t *p = c->der[0];
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len[0]);
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = SDTLS_ERR_CRYPTO;
    if (x == NULL || bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
        BIO_free(bio);
        goto out;
    }
    *out = bio;
    rc = 0;
out:
    X509_free(x);
    return rc;
}

/* The key's unencrypted PKCS#8 PEM in a new memory BIO; free with free_secret_bio(). */
static int key_pem_bio(const sdtls__cert *c, BIO **out)
{
    if (c == NULL || c->key == NULL) {
        return SDTLS_ERR_ARG;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    if (PEM_write_bio_PKCS8PrivateKey(bio, to_evp(c->key), NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return SDTLS_ERR_CRYPTO;
    }
    *out = bio;
    return 0;
}

/* Memory BIOs free their buffer without wiping it. */
static void free_secret_bio(BIO *bio)
{
    char *data = NULL;
    long n = bio != NULL ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0 && data != NULL) {
        OPENSSL_cleanse(data, (size_t)n);
    }
    BIO_free(bio);
}

/* Copy the BIO's text into the caller's buffer; *out_len is the text length even when it
 * does not fit, so a caller can size its buffer. */
static int bio_to_buf(BIO *bio, char *out, size_t cap, size_t *out_len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || data == NULL) {
        return SDTLS_ERR_CRYPTO;
    }
    *out_len = (size_t)n;
    if ((size_t)n > cap || out == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    memcpy(out, data, (size_t)n);
    if ((size_t)n < cap) {
        out[n] = '\0';
    }
    return 0;
}

int sdtls__cert_leaf_pem(const sdtls__cert *c, char *out, size_t cap, size_t *out_len)
{
    if (out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    BIO *bio = NULL;
    int rc = leaf_pem_bio(c, &bio);
    if (rc == 0) {
        rc = bio_to_buf(bio, out, cap, out_len);
    }
    BIO_free(bio);
    return rc == 0 ? 0 : fail(rc);
}

int sdtls__cert_key_pem(const sdtls__cert *c, char *out, size_t cap, size_t *out_len)
{
    if (out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    BIO *bio = NULL;
    int rc = key_pem_bio(c, &bio);
    if (rc == 0) {
        rc = bio_to_buf(bio, out, cap, out_len);
    }
    free_secret_bio(bio);
    return rc == 0 ? 0 : fail(rc);
}

int sdtls__x509_pubkey(const uint8_t *der, size_t len, sdtls__pkey **out)
{
    if (der == NULL || out == NULL || len == 0 || len > LONG_MAX) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    const uint8_t *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    /* Trailing bytes after the certificate mean the peer's framing is broken. */
    if (x == NULL || p != der + len) {
        X509_free(x);
        return fail(SDTLS_ERR_ARG);
    }
    EVP_PKEY *pk = X509_get_pubkey(x);
    X509_free(x);
    if (pk == NULL) {
        return fail(SDTLS_ERR_ARG);
    }
    *out = from_evp(pk);
    return 0;
}

int sdtls__pkey_spki(const sdtls__pkey *k, uint8_t *out, size_t cap, size_t *out_len)
{
    if (k == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    int n = i2d_PUBKEY(to_evp(k), NULL);
    if (n <= 0) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    *out_len = (size_t)n;
    if (out == NULL || cap < (size_t)n) {
        return SDTLS_ERR_BUF_SMALL;
    }
    uint8_t *p = out;
    if (i2d_PUBKEY(to_evp(k), &p) != n) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    return 0;
}

int sdtls__pkey_from_spki(const uint8_t *der, size_t len, sdtls__pkey **out)
{
    if (der == NULL || out == NULL || len == 0 || len > LONG_MAX) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    const uint8_t *p = der;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
    if (pk == NULL || p != der + len) {
        EVP_PKEY_free(pk);
        return fail(SDTLS_ERR_ARG);
    }
    *out = from_evp(pk);
    return 0;
}

static X509_STORE *to_store(const sdtls__trust *t)
{
    /* X509_STORE_CTX_init takes a non-const store; verification does not modify it. */
    return (X509_STORE *)t;
}

int sdtls__trust_load_file(const char *path, sdtls__trust **out)
{
    if (path == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return SDTLS_ERR_IO;
    }
    fclose(f);
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    /* Fails unless the file holds at least one certificate (or CRL). */
    if (X509_STORE_load_file(store, path) != 1) {
        X509_STORE_free(store);
        return fail(SDTLS_ERR_ARG);
    }
    *out = (sdtls__trust *)store;
    return 0;
}

void sdtls__trust_free(sdtls__trust *t)
{
    X509_STORE_free(to_store(t));
}

static int verify_alert(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SDTLS_ALERT_CERTIFICATE_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SDTLS_ALERT_UNKNOWN_CA;
    case X509_V_ERR_CERT_REVOKED:
        return SDTLS_ALERT_CERTIFICATE_REVOKED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    default:
        return SDTLS_ALERT_BAD_CERTIFICATE;
    }
}

static void set_why(char *why, size_t why_cap, const char *msg)
{
    if (why != NULL && why_cap != 0) {
        snprintf(why, why_cap, "%s", msg);
    }
}

int sdtls__trust_verify(const sdtls__trust *t, const uint8_t *const *der, const size_t *der_len,
                        size_t count, const char *hostname, char *why, size_t why_cap)
{
    set_why(why, why_cap, "");
    if (t == NULL || der == NULL || der_len == NULL || count == 0 || count > INT_MAX) {
        set_why(why, why_cap, "no certificate");
        return SDTLS_ALERT_BAD_CERTIFICATE;
    }
    int alert = SDTLS_ALERT_INTERNAL_ERROR;
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (untrusted == NULL || ctx == NULL) {
        set_why(why, why_cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = der[i];
        X509 *x = NULL;
        if (p != NULL && der_len[i] != 0 && der_len[i] <= LONG_MAX) {
            x = d2i_X509(NULL, &p, (long)der_len[i]);
        }
        if (x == NULL || p != der[i] + der_len[i]) {
            X509_free(x);
            alert = SDTLS_ALERT_BAD_CERTIFICATE;
            set_why(why, why_cap, "malformed certificate");
            goto out;
        }
        if (i == 0) {
            leaf = x;
        } else if (!sk_X509_push(untrusted, x)) {
            X509_free(x);
            set_why(why, why_cap, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, to_store(t), leaf, untrusted) != 1) {
        set_why(why, why_cap, "verification setup failed");
        goto out;
    }
    if (hostname != NULL) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        /* An address literal is matched against IP SANs, a name against DNS SANs/CN. */
        if (X509_VERIFY_PARAM_set1_ip_asc(param, hostname) != 1) {
            ERR_clear_error();
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (X509_VERIFY_PARAM_set1_host(param, hostname, 0) != 1) {
                set_why(why, why_cap, "invalid host name");
                alert = SDTLS_ALERT_BAD_CERTIFICATE;
                goto out;
            }
        }
    }
    if (X509_verify_cert(ctx) == 1) {
        alert = 0;
        goto out;
    }
    int err = X509_STORE_CTX_get_error(ctx);
    alert = verify_alert(err);
    set_why(why, why_cap, X509_verify_cert_error_string(err));
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    ERR_clear_error();
    return alert;
}

int sdtls__x509_read_file_der(const char *path, uint8_t **der, size_t *len)
{
    if (path == NULL || der == NULL || len == NULL) {
        return SDTLS_ERR_ARG;
    }
    *der = NULL;
    *len = 0;
    BIO *bio = BIO_new_file(path, "rb");
    if (bio == NULL) {
        return fail(SDTLS_ERR_IO);
    }
    X509 *x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    if (x == NULL) {
        /* Not PEM: start over and try DER. */
        ERR_clear_error();
        if (BIO_reset(bio) == 0) {
            x = d2i_X509_bio(bio, NULL);
        }
    }
    int rc = x != NULL ? der_of(x, der, len) : SDTLS_ERR_ARG;
    X509_free(x);
    BIO_free(bio);
    return rc == 0 ? 0 : fail(rc);
}

/* Write all of bio's contents to the open descriptor fd and close it. */
static int write_fd(int fd, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    size_t done = 0;
    int rc = 0;
    while (n > 0 && done < (size_t)n) {
        ssize_t w = write(fd, data + done, (size_t)n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = SDTLS_ERR_IO;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && rc == 0) {
        rc = SDTLS_ERR_IO;
    }
    return rc;
}

/* Truncate-and-write `path` with `mode`. An existing file keeps its inode, so its mode is
 * forced before any byte is written: a key never sits in a world-readable file. */
static int write_file(const char *path, BIO *bio, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return SDTLS_ERR_IO;
    }
    if ((mode & 077) == 0 && fchmod(fd, mode) != 0) {
        close(fd);
        return SDTLS_ERR_IO;
    }
    return write_fd(fd, bio);
}

int sdtls__cert_write_files(const sdtls__cert *c, const char *cert_path, const char *key_path)
{
    if (c == NULL || cert_path == NULL || key_path == NULL) {
        return SDTLS_ERR_ARG;
    }
    BIO *cert_bio = NULL;
    BIO *key_bio = NULL;
    int rc = leaf_pem_bio(c, &cert_bio);
    if (rc != 0) {
        goto out;
    }
    rc = key_pem_bio(c, &key_bio);
    if (rc != 0) {
        goto out;
    }
    rc = write_file(key_path, key_bio, 0600);
    if (rc != 0) {
        goto out;
    }
    rc = write_file(cert_path, cert_bio, 0644);
out:
    BIO_free(cert_bio);
    free_secret_bio(key_bio);
    return rc == 0 ? 0 : fail(rc);
}

/* ---- randomness and utilities ----------------------------------------------------------- */

int sdtls__rand_bytes(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    if (buf == NULL && len != 0) {
        return SDTLS_ERR_ARG;
    }
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(buf, chunk) != 1) {
            return fail(SDTLS_ERR_CRYPTO);
        }
        buf += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

int sdtls__ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    if (len == 0) {
        return 1;
    }
    return CRYPTO_memcmp(a, b, len) == 0;
}

void sdtls__wipe(void *p, size_t len)
{
    if (p != NULL && len != 0) {
        OPENSSL_cleanse(p, len);
    }
}

const char *sdtls__crypto_version(void)
{
    /* Already "OpenSSL 3.0.19 27 Jan 2026", the form the seam documents. */
    return OpenSSL_version(OPENSSL_VERSION);
}

/* ---- AES-128-CBC ------------------------------------------------------------------------ */

struct sdtls__cbc {
    EVP_CIPHER_CTX *ctx;
    int enc;
};

int sdtls__cbc_new(const uint8_t key[16], int encrypt, sdtls__cbc **out)
{
    if (key == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    sdtls__cbc *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    c->enc = encrypt ? 1 : 0;
    c->ctx = EVP_CIPHER_CTX_new();
    if (c->ctx == NULL ||
        EVP_CipherInit_ex(c->ctx, EVP_aes_128_cbc(), NULL, key, NULL, c->enc) != 1 ||
        EVP_CIPHER_CTX_set_padding(c->ctx, 0) != 1) {
        sdtls__cbc_free(c);
        return fail(SDTLS_ERR_CRYPTO);
    }
    *out = c;
    return 0;
}

void sdtls__cbc_free(sdtls__cbc *c)
{
    if (c == NULL) {
        return;
    }
    EVP_CIPHER_CTX_free(c->ctx);
    free(c);
}

int sdtls__cbc_crypt(sdtls__cbc *c, const uint8_t iv[16], const uint8_t *in, size_t len,
                     uint8_t *out)
{
    int n = 0;
    if (c == NULL || iv == NULL || len % 16 != 0 || len > INT_MAX) {
        return SDTLS_ERR_ARG;
    }
    /* A new IV per record on the keyed context. */
    if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, iv, c->enc) != 1 ||
        EVP_CipherUpdate(c->ctx, out, &n, in, (int)len) != 1 || (size_t)n != len) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    return 0;
}
