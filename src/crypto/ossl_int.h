/*
 * Shared by the OpenSSL backend files (src/crypto/ossl*.c), which are the only files in the
 * project that include OpenSSL headers. The backend is split by what a build can leave out:
 * ossl.c (hashes, HMAC, PRF/HKDF, AEAD, randomness) is always there; ossl_kex.c (ECDHE),
 * ossl_pki.c (keys, signatures, X.509) and ossl_cbc.c (legacy AES-CBC) are left out of
 * builds that have no use for them (SDTLS_PROFILE=psk-ccm8).
 */
#ifndef SDTLS_OSSL_INT_H
#define SDTLS_OSSL_INT_H

#include "crypto.h"

#include <openssl/err.h>

/* Every failure path goes through here, so OpenSSL's per-thread error queue never grows
 * across a long-lived connection and a later, unrelated failure is not blamed on a stale
 * entry. */
static inline int fail(int rc)
{
    ERR_clear_error();
    return rc;
}

#endif
