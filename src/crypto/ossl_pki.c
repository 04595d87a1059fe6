/*
 * OpenSSL backend: public keys, signatures, X.509 certificates (parse, generate, PEM, files)
 * and chain verification against a trust store.
 *
 * Opaque handles: sdtls__pkey is an EVP_PKEY and sdtls__trust an X509_STORE, converted by
 * casts, so reference counting is OpenSSL's own (sdtls__pkey_free is EVP_PKEY_free).
 */
#define _POSIX_C_SOURCE 200809L

#include "ossl_int.h"

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
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* Stand-in for NULL buffers of length 0 (EVP treats NULL as "no input"). */
static const uint8_t empty_buf[1];

static EVP_PKEY *to_evp(const sdtls__pkey *k)
{
    /* OpenSSL's API takes non-const EVP_PKEY pointers even for read-only use. */
    return (EVP_PKEY *)k;
}

static sdtls__pkey *from_evp(EVP_PKEY *k)
{
    return (sdtls__pkey *)k;
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
