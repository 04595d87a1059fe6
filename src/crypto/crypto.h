/*
 * The crypto seam: everything the protocol core needs from a cryptographic library.
 * Only src/crypto/ includes OpenSSL headers; the core sees opaque handles.
 *
 * Every function returns 0 on success or SDTLS_ERR_CRYPTO / SDTLS_ERR_ARG /
 * SDTLS_ERR_BUF_SMALL / SDTLS_ERR_NOMEM unless it says otherwise.
 */
#ifndef SDTLS_CRYPTO_H
#define SDTLS_CRYPTO_H

#include "../util/common.h"

/* ---- hashes ---------------------------------------------------------------------------- */

typedef enum {
    SDTLS_HASH_SHA256 = 0,
    SDTLS_HASH_SHA384 = 1,
    SDTLS_HASH_SHA512 = 2,
    SDTLS_HASH_NONE = 3, /* "intrinsic" (Ed25519) */
    SDTLS_HASH_SHA1 = 4, /* HMAC-SHA1 of the legacy CBC suites only */
} sdtls_hash_id;

#define SDTLS_HASH_MAX 64

size_t sdtls__hash_len(sdtls_hash_id h);
SDTLS_MUST_CHECK int sdtls__hash(sdtls_hash_id h, const uint8_t *in, size_t len, uint8_t *out);
SDTLS_MUST_CHECK int sdtls__hmac(sdtls_hash_id h, const uint8_t *key, size_t key_len,
                                 const uint8_t *in, size_t len, uint8_t *out);
/* HMAC over the concatenation of `n` pieces (cookie MACs without copying). */
SDTLS_MUST_CHECK int sdtls__hmac_v(sdtls_hash_id h, const uint8_t *key, size_t key_len,
                                   const uint8_t *const *in, const size_t *len, size_t n,
                                   uint8_t *out);
/* A key scheduled once for many HMACs (the cookie secret, a CBC suite's MAC key): each MAC
 * then costs the message blocks only. mac_v only reads the key, so threads may share one. */
typedef struct sdtls__hmac_key sdtls__hmac_key;
SDTLS_MUST_CHECK int sdtls__hmac_key_new(sdtls_hash_id h, const uint8_t *key, size_t key_len,
                                         sdtls__hmac_key **out);
void sdtls__hmac_key_free(sdtls__hmac_key *k); /* NULL is fine */
SDTLS_MUST_CHECK int sdtls__hmac_key_mac_v(const sdtls__hmac_key *k, const uint8_t *const *in,
                                           const size_t *len, size_t n, uint8_t *out);
/* The same for a key only one caller uses at a time (a record state's MAC key): the context
 * is restarted in place instead of copied, so a MAC allocates nothing. */
SDTLS_MUST_CHECK int sdtls__hmac_key_mac_v_own(sdtls__hmac_key *k, const uint8_t *const *in,
                                               const size_t *len, size_t n, uint8_t *out);

/* TLS 1.2 PRF (RFC 5246 5) with HMAC-`h`: out = PRF(secret, label, seed1 + seed2). */
SDTLS_MUST_CHECK int sdtls__tls12_prf(sdtls_hash_id h, const uint8_t *secret, size_t secret_len,
                                      const char *label, const uint8_t *seed1, size_t seed1_len,
                                      const uint8_t *seed2, size_t seed2_len, uint8_t *out,
                                      size_t out_len);
/* HKDF (RFC 5869), for DTLS 1.3. */
SDTLS_MUST_CHECK int sdtls__hkdf_extract(sdtls_hash_id h, const uint8_t *salt, size_t salt_len,
                                         const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
SDTLS_MUST_CHECK int sdtls__hkdf_expand(sdtls_hash_id h, const uint8_t *prk, size_t prk_len,
                                        const uint8_t *info, size_t info_len, uint8_t *out,
                                        size_t out_len);

/* ---- AEAD ------------------------------------------------------------------------------- */

typedef enum {
    SDTLS_AEAD_AES_128_GCM = 0,
    SDTLS_AEAD_AES_256_GCM = 1,
    SDTLS_AEAD_CHACHA20_POLY1305 = 2,
    SDTLS_AEAD_AES_128_CCM = 3,   /* 16-byte tag */
    SDTLS_AEAD_AES_128_CCM_8 = 4, /* 8-byte tag */
} sdtls_aead_id;

size_t sdtls__aead_key_len(sdtls_aead_id a);
size_t sdtls__aead_tag_len(sdtls_aead_id a);
/* Nonce is always 12 bytes for these AEADs. */
#define SDTLS_AEAD_NONCE_LEN 12

/* A keyed AEAD context, one direction. Keyed once; each call passes a fresh nonce. */
typedef struct sdtls__aead sdtls__aead;
SDTLS_MUST_CHECK int sdtls__aead_new(sdtls_aead_id a, const uint8_t *key, int encrypt,
                                     sdtls__aead **out);
void sdtls__aead_free(sdtls__aead *ctx); /* NULL is fine; wipes key material */
/* out receives len bytes of ciphertext followed by the tag; out may equal in. */
SDTLS_MUST_CHECK int sdtls__aead_seal(sdtls__aead *ctx, const uint8_t nonce[12],
                                      const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                      size_t len, uint8_t *out);
/* in holds len bytes of ciphertext followed by the tag (in_len = len + tag). out receives
 * len bytes; out may equal in. Returns 0, or SDTLS_ERR_CRYPTO if authentication fails. */
SDTLS_MUST_CHECK int sdtls__aead_open(sdtls__aead *ctx, const uint8_t nonce[12],
                                      const uint8_t *aad, size_t aad_len, const uint8_t *in,
                                      size_t in_len, uint8_t *out);

/* ---- AES-128-CBC, for the legacy encrypt-then-MAC suites (RFC 7366) ---------------------- */

/* A keyed AES-128-CBC context, one direction, no padding (the record layer pads). */
typedef struct sdtls__cbc sdtls__cbc;
SDTLS_MUST_CHECK int sdtls__cbc_new(const uint8_t key[16], int encrypt, sdtls__cbc **out);
void sdtls__cbc_free(sdtls__cbc *ctx); /* NULL is fine */
/* len is a multiple of 16; out may equal in. */
SDTLS_MUST_CHECK int sdtls__cbc_crypt(sdtls__cbc *ctx, const uint8_t iv[16], const uint8_t *in,
                                      size_t len, uint8_t *out);
/* The same calls as a table, reached through the build profile (ossl_cbc.c may be left out). */
typedef struct sdtls__cbc_class {
    int (*make)(const uint8_t key[16], int encrypt, sdtls__cbc **out);
    int (*crypt)(sdtls__cbc *ctx, const uint8_t iv[16], const uint8_t *in, size_t len,
                 uint8_t *out);
    void (*release)(sdtls__cbc *ctx);
} sdtls__cbc_class;
extern const sdtls__cbc_class sdtls__cbc_aes128;

/* ---- key exchange ----------------------------------------------------------------------- */

typedef enum {
    SDTLS_GROUP_X25519 = 29,
    SDTLS_GROUP_SECP256R1 = 23,
    SDTLS_GROUP_SECP384R1 = 24,
} sdtls_group_id;

/* An ephemeral key pair. pub is the TLS encoding (X25519: 32 raw bytes; NIST curves:
 * uncompressed point 0x04 || X || Y). */
typedef struct sdtls__kex sdtls__kex;
SDTLS_MUST_CHECK int sdtls__kex_new(sdtls_group_id g, sdtls__kex **out, uint8_t *pub,
                                    size_t pub_cap, size_t *pub_len);
void sdtls__kex_free(sdtls__kex *k);
/* Derive the shared secret from the peer's public value. A malformed or invalid peer value
 * (wrong length, point not on curve, all-zero X25519 result) returns SDTLS_ERR_ARG. */
SDTLS_MUST_CHECK int sdtls__kex_derive(sdtls__kex *k, const uint8_t *peer_pub, size_t peer_len,
                                       uint8_t *secret, size_t cap, size_t *secret_len);

/* The same three calls as a table: the handshake reaches ECDHE only through the config's
 * build profile, so a build without ECDHE suites leaves ossl_kex.c out. */
typedef struct sdtls__kex_class {
    int (*make)(sdtls_group_id g, sdtls__kex **out, uint8_t *pub, size_t pub_cap,
                size_t *pub_len);
    int (*derive)(sdtls__kex *k, const uint8_t *peer_pub, size_t peer_len, uint8_t *secret,
                  size_t cap, size_t *secret_len);
    void (*release)(sdtls__kex *k);
} sdtls__kex_class;
extern const sdtls__kex_class sdtls__kex_ecdhe;

/* ---- signatures and keys ---------------------------------------------------------------- */

/* TLS SignatureScheme code points (RFC 8446 4.2.3). */
typedef enum {
    SDTLS_SIG_RSA_PKCS1_SHA256 = 0x0401,
    SDTLS_SIG_RSA_PKCS1_SHA384 = 0x0501,
    SDTLS_SIG_RSA_PKCS1_SHA512 = 0x0601,
    SDTLS_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
    SDTLS_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
    SDTLS_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
    SDTLS_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
    SDTLS_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
    SDTLS_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
    SDTLS_SIG_ED25519 = 0x0807,
} sdtls_sig_scheme;

typedef enum {
    SDTLS_PKEY_RSA = 0,
    SDTLS_PKEY_EC_P256 = 1,
    SDTLS_PKEY_EC_P384 = 2,
    SDTLS_PKEY_ED25519 = 3,
    SDTLS_PKEY_OTHER = 4,
} sdtls_pkey_type;

/* A private or public key (EVP_PKEY behind the seam). Reference counted by the backend:
 * sdtls__pkey_free drops one reference. */
typedef struct sdtls__pkey sdtls__pkey;
void sdtls__pkey_free(sdtls__pkey *k);
sdtls_pkey_type sdtls__pkey_type(const sdtls__pkey *k);
/* RSA modulus bits, EC field bits, 253 for Ed25519. */
size_t sdtls__pkey_bits(const sdtls__pkey *k);
/* Whether scheme `s` can be used with key `k` (type and, for ECDSA in TLS 1.3 style, curve;
 * in TLS 1.2 any ECDSA hash works with any curve, pass tls12 = 1 for that). */
int sdtls__sig_fits_key(sdtls_sig_scheme s, const sdtls__pkey *k, int tls12);
/* Sign msg (the whole message; the scheme's hash is applied inside). */
SDTLS_MUST_CHECK int sdtls__sign(const sdtls__pkey *priv, sdtls_sig_scheme s, const uint8_t *msg,
                                 size_t len, uint8_t *sig, size_t cap, size_t *sig_len);
/* Verify; returns 0 if valid, SDTLS_ERR_CRYPTO if not. */
SDTLS_MUST_CHECK int sdtls__verify(const sdtls__pkey *pub, sdtls_sig_scheme s,
                                   const uint8_t *msg, size_t len, const uint8_t *sig,
                                   size_t sig_len);

/* ---- certificates ----------------------------------------------------------------------- */

/* Our identity: DER chain (leaf first) and private key. */
typedef struct sdtls__cert {
    uint8_t **der;  /* der[i], der_len[i] for i < count: allocated by the backend */
    size_t *der_len;
    size_t count;
    sdtls__pkey *key;
} sdtls__cert;

/* Parse a PEM chain and a PEM private key; checks that the key matches the leaf.
 * Uses plain malloc (config-lifetime object). */
SDTLS_MUST_CHECK int sdtls__cert_from_pem(const char *chain_pem, size_t chain_len,
                                          const char *key_pem, size_t key_len, sdtls__cert *out);
/* Generate a self-signed certificate (CN, 30 days, serial from rng bytes given). */
SDTLS_MUST_CHECK int sdtls__cert_generate(sdtls_key_type type, const char *cn,
                                          const uint8_t serial[16], sdtls__cert *out);
void sdtls__cert_clear(sdtls__cert *c);
/* PEM of the leaf certificate / of the private key. */
SDTLS_MUST_CHECK int sdtls__cert_leaf_pem(const sdtls__cert *c, char *out, size_t cap,
                                          size_t *out_len);
SDTLS_MUST_CHECK int sdtls__cert_key_pem(const sdtls__cert *c, char *out, size_t cap,
                                         size_t *out_len);

/* Public key of a DER certificate. Returns SDTLS_ERR_ARG if it does not parse. */
SDTLS_MUST_CHECK int sdtls__x509_pubkey(const uint8_t *der, size_t len, sdtls__pkey **out);

/* SubjectPublicKeyInfo DER of a key (RFC 7250 raw public keys). With out NULL or cap too
 * small, *out_len still receives the size (and SDTLS_ERR_BUF_SMALL is returned). */
SDTLS_MUST_CHECK int sdtls__pkey_spki(const sdtls__pkey *k, uint8_t *out, size_t cap,
                                      size_t *out_len);
/* Public key from SubjectPublicKeyInfo DER (the whole input, nothing trailing). */
SDTLS_MUST_CHECK int sdtls__pkey_from_spki(const uint8_t *der, size_t len, sdtls__pkey **out);

/* A trust store (X509_STORE behind the seam). */
typedef struct sdtls__trust sdtls__trust;
SDTLS_MUST_CHECK int sdtls__trust_load_file(const char *path, sdtls__trust **out);
void sdtls__trust_free(sdtls__trust *t);
/* Verify chain (leaf first) against the store at the current wall time, and the hostname if
 * not NULL. Returns 0 or a TLS alert description (>0): BAD_CERTIFICATE,
 * CERTIFICATE_EXPIRED, UNKNOWN_CA, ... and writes a short reason into why (NUL-terminated). */
int sdtls__trust_verify(const sdtls__trust *t, const uint8_t *const *der, const size_t *der_len,
                        size_t count, const char *hostname, char *why, size_t why_cap);

/* Read a PEM or DER certificate file and return the DER of its first certificate
 * (malloc'ed; caller frees with free()). */
SDTLS_MUST_CHECK int sdtls__x509_read_file_der(const char *path, uint8_t **der, size_t *len);
/* Write the certificate and key PEMs to files (mode 0600 for the key). */
SDTLS_MUST_CHECK int sdtls__cert_write_files(const sdtls__cert *c, const char *cert_path,
                                             const char *key_path);

/* ---- randomness and utilities ----------------------------------------------------------- */

/* The backend's CSPRNG (default RNG of a config). */
int sdtls__rand_bytes(void *user, uint8_t *buf, size_t len);
/* Constant-time equality: 1 if equal. */
int sdtls__ct_equal(const uint8_t *a, const uint8_t *b, size_t len);
/* Wipe memory the compiler may not elide. */
void sdtls__wipe(void *p, size_t len);
/* "OpenSSL 3.0.19 27 Jan 2026". */
const char *sdtls__crypto_version(void);

#endif
