/*
 * Stateless HelloVerifyRequest cookies (RFC 6347 4.2.1).
 *
 * cookie = time (4 bytes, seconds on the caller's monotonic clock)
 *       || HMAC-SHA256(K_period, time || peer address || client_version || random ||
 *                      session_id)[0..16]
 * K_period = HMAC-SHA256(config secret, "sdtls cookie" || period), period = time / lifetime.
 * The key rotates every lifetime; a cookie verifies while it is younger than the lifetime,
 * so the previous period's key stays valid for one period only. Only fields of the first
 * ClientHello fragment are covered, so a fragmented ClientHello can be answered statelessly.
 */
#ifndef SDTLS_COOKIE_H
#define SDTLS_COOKIE_H

#include "../crypto/crypto.h"

#define SDTLS_COOKIE_LEN 20

typedef struct sdtls__cookie_input {
    const uint8_t *addr;
    size_t addr_len;
    uint16_t version;
    const uint8_t *random; /* 32 bytes */
    const uint8_t *sid;
    size_t sid_len;
} sdtls__cookie_input;

SDTLS_MUST_CHECK int sdtls__cookie_make(const uint8_t secret[32], uint32_t lifetime_ms,
                                        const sdtls__cookie_input *in, uint64_t now_ms,
                                        uint8_t out[SDTLS_COOKIE_LEN]);
/* 1 if the cookie is valid now, else 0. */
int sdtls__cookie_check(const uint8_t secret[32], uint32_t lifetime_ms,
                        const sdtls__cookie_input *in, uint64_t now_ms, const uint8_t *cookie,
                        size_t cookie_len);

#endif
