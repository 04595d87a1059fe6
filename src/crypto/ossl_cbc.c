/* OpenSSL backend: AES-128-CBC for the legacy encrypt-then-MAC suites (RFC 7366). */
#include "ossl_int.h"

#include <limits.h>
#include <stdlib.h>

#include <openssl/evp.h>

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

const sdtls__cbc_class sdtls__cbc_aes128 = {sdtls__cbc_new, sdtls__cbc_crypt, sdtls__cbc_free};
