/*
 * OpenSSL 3.0 libcrypto backend of the crypto seam (crypto.h): hashes, HMAC, the TLS 1.2 PRF,
 * HKDF, AEADs and randomness. With ossl_kex.c, ossl_pki.c and ossl_cbc.c (see ossl_int.h)
 * these are the only files that include OpenSSL headers; they use libcrypto only (EVP, X509),
 * never libssl.
 *
 * Design notes
 *  - Every failure path calls ERR_clear_error() (through fail(), ossl_int.h).
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

#include "ossl_int.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* Stand-in for NULL buffers of length 0: several EVP calls treat a NULL input as "no input"
 * (finalise, or set length) rather than "empty input". */
static const uint8_t empty_buf[1];

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

struct sdtls__hmac_key {
    EVP_MAC_CTX *ctx; /* keyed: the key schedule (inner and outer pads) is done */
    size_t out_len;
};

void sdtls__hmac_key_free(sdtls__hmac_key *k)
{
    if (k != NULL) {
        EVP_MAC_CTX_free(k->ctx); /* cleanses the key material */
        OPENSSL_free(k);
    }
}

int sdtls__hmac_key_new(sdtls_hash_id h, const uint8_t *key, size_t key_len,
                        sdtls__hmac_key **out)
{
    const char *name = md_name(h);
    if (name == NULL || out == NULL || (key == NULL && key_len != 0)) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
        OSSL_PARAM_construct_end(),
    };
    sdtls__hmac_key *k = OPENSSL_zalloc(sizeof(*k));
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    int rc = k == NULL ? SDTLS_ERR_NOMEM : SDTLS_ERR_CRYPTO;
    if (k != NULL && mac != NULL && (k->ctx = EVP_MAC_CTX_new(mac)) != NULL &&
        /* A NULL key means "keep the previous key" to EVP_MAC_init; an empty key is a key. */
        EVP_MAC_init(k->ctx, key != NULL ? key : empty_buf, key_len, params) == 1) {
        k->out_len = sdtls__hash_len(h);
        *out = k;
        rc = 0;
    }
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (rc != 0) {
        sdtls__hmac_key_free(k);
        return fail(rc);
    }
    return 0;
}

/* Feed the pieces to a keyed context and finish. */
static int hmac_run(EVP_MAC_CTX *ctx, size_t out_len, const uint8_t *const *in,
                    const size_t *len, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] == NULL && len[i] != 0) {
            return SDTLS_ERR_ARG;
        }
        if (len[i] != 0 && EVP_MAC_update(ctx, in[i], len[i]) != 1) {
            return fail(SDTLS_ERR_CRYPTO);
        }
    }
    size_t got = 0;
    if (EVP_MAC_final(ctx, out, &got, out_len) != 1 || got != out_len) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    return 0;
}

int sdtls__hmac_key_mac_v(const sdtls__hmac_key *k, const uint8_t *const *in, const size_t *len,
                          size_t n, uint8_t *out)
{
    if (k == NULL || out == NULL || (n != 0 && (in == NULL || len == NULL))) {
        return SDTLS_ERR_ARG;
    }
    /* A copy of the keyed context: the key is not scheduled again, and the shared one is
     * only read, so concurrent callers need no lock. */
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->ctx);
    if (ctx == NULL) {
        return fail(SDTLS_ERR_NOMEM);
    }
    /* Restart the copy from the scheduled key: the shared one may have been used to the end
     * by sdtls__hmac_key_mac_v_own. */
    int rc = EVP_MAC_init(ctx, NULL, 0, NULL) == 1 ? hmac_run(ctx, k->out_len, in, len, n, out)
                                                   : fail(SDTLS_ERR_CRYPTO);
    EVP_MAC_CTX_free(ctx);
    return rc;
}

int sdtls__hmac_key_mac_v_own(sdtls__hmac_key *k, const uint8_t *const *in, const size_t *len,
                              size_t n, uint8_t *out)
{
    if (k == NULL || out == NULL || (n != 0 && (in == NULL || len == NULL))) {
        return SDTLS_ERR_ARG;
    }
    /* A NULL key restarts the context from the scheduled key: no copy, no allocation. */
    if (EVP_MAC_init(k->ctx, NULL, 0, NULL) != 1) {
        return fail(SDTLS_ERR_CRYPTO);
    }
    return hmac_run(k->ctx, k->out_len, in, len, n, out);
}

int sdtls__hmac_v(sdtls_hash_id h, const uint8_t *key, size_t key_len, const uint8_t *const *in,
                  const size_t *len, size_t n, uint8_t *out)
{
    sdtls__hmac_key *k = NULL;
    if (out == NULL || (n != 0 && (in == NULL || len == NULL))) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__hmac_key_new(h, key, key_len, &k));
    int rc = hmac_run(k->ctx, k->out_len, in, len, n, out);
    sdtls__hmac_key_free(k);
    return rc;
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
