/*
 * Stateless HelloVerifyRequest cookies (RFC 6347 4.2.1).
 *
 * cookie = time (4 bytes, seconds on the caller's monotonic clock)
 *       || HMAC-SHA256(config secret, "sdtls cookie" || time || peer address ||
 *                      client_version || random || session_id_len || session_id)[0..16]
 * The time is under the MAC, so a cookie verifies only while it is younger than the lifetime
 * and cannot be moved to another time. The secret is random per config; its HMAC key
 * schedule is done once (sdtls__hmac_key), so a screen costs one HMAC's message blocks. Only
 * fields of the first ClientHello fragment are covered, so a fragmented ClientHello can be
 * answered statelessly.
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

SDTLS_MUST_CHECK int sdtls__cookie_make(const sdtls__hmac_key *key, const sdtls__cookie_input *in,
                                        uint64_t now_ms, uint8_t out[SDTLS_COOKIE_LEN]);
/* 1 if the cookie is valid now, else 0. */
int sdtls__cookie_check(const sdtls__hmac_key *key, uint32_t lifetime_ms,
                        const sdtls__cookie_input *in, uint64_t now_ms, const uint8_t *cookie,
                        size_t cookie_len);

#endif
