/*
 * stun.c: the Binding responder of an ICE-lite agent (RFC 8445 2.5 and 7.3, RFC 8489).
 *
 * A lite agent never sends checks; it answers the browser's. Each Binding request must carry
 * USERNAME "<our ufrag>:<their ufrag>" and a MESSAGE-INTEGRITY keyed with our ice-pwd
 * (short-term credentials, RFC 8489 9.1); we answer with XOR-MAPPED-ADDRESS (the source the
 * request came from), MESSAGE-INTEGRITY and FINGERPRINT. We keep answering for the life of the
 * session: after nomination the browser goes on sending consent checks (RFC 7675) about every
 * 5 s and gives up on the pair after 30 s without an answer.
 *
 * USE-CANDIDATE is reported but not waited for: with regular nomination the browser sends it
 * only after a check succeeded, and DTLS may start before it.
 */
#include "webrtc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <string.h>

#define STUN_HDR_LEN 20
#define STUN_MAGIC 0x2112A442u
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_ERROR_CODE 0x0009
#define ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_FINGERPRINT 0x8028
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A

#define FINGERPRINT_XOR 0x5354554eu /* RFC 8489 14.7: "STUN" */
#define HMAC_SHA1_LEN 20
#define STUN_MAX_MSG 1500 /* larger requests are not answered */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t stun_crc32(const uint8_t *p, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* reflected polynomial 0xEDB88320, as zlib and ISO-HDLC */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

/* HMAC-SHA1 over msg[0..mi_off) with the header's length field set as if the message ended
 * right after a MESSAGE-INTEGRITY attribute at mi_off (RFC 8489 14.5). The key is the ice-pwd
 * itself (RFC 8489 9.1.1: OpaqueString of an ASCII password changes nothing). */
static int integrity(const uint8_t *msg, size_t mi_off, const char *pwd, uint8_t mac[HMAC_SHA1_LEN])
{
    uint8_t buf[STUN_MAX_MSG];
    unsigned int mac_len = 0;
    if (mi_off > sizeof(buf)) {
        return -1;
    }
    memcpy(buf, msg, mi_off);
    put16(buf + 2, (uint16_t)(mi_off + 4 + HMAC_SHA1_LEN - STUN_HDR_LEN));
    if (HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, mi_off, mac, &mac_len) == NULL ||
        mac_len != HMAC_SHA1_LEN) {
        return -1;
    }
    return 0;
}

/* A response under construction: header, then attributes appended in order. */
typedef struct stun_msg {
    uint8_t *p;
    size_t cap, len;
    int ok;
} stun_msg;

static uint8_t *add_attr(stun_msg *m, uint16_t type, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    if (!m->ok || m->len + 4 + padded > m->cap) {
        m->ok = 0;
        return NULL;
    }
    uint8_t *a = m->p + m->len;
    put16(a, type);
    put16(a + 2, (uint16_t)len);
    memset(a + 4, 0, padded);
    m->len += 4 + padded;
    put16(m->p + 2, (uint16_t)(m->len - STUN_HDR_LEN));
    return a + 4;
}

static void add_integrity(stun_msg *m, const char *pwd)
{
    size_t off = m->len;
    uint8_t *v = add_attr(m, ATTR_MESSAGE_INTEGRITY, HMAC_SHA1_LEN);
    if (v != NULL && integrity(m->p, off, pwd, v) != 0) {
        m->ok = 0;
    }
}

/* RFC 8489 14.7: CRC-32 of the message up to the attribute, length field covering it. */
static void add_fingerprint(stun_msg *m)
{
    size_t off = m->len;
    uint8_t *v = add_attr(m, ATTR_FINGERPRINT, 4);
    if (v != NULL) {
        put32(v, stun_crc32(m->p, off) ^ FINGERPRINT_XOR);
    }
}

static void start(stun_msg *m, uint16_t type, const uint8_t *request)
{
    put16(m->p, type);
    put16(m->p + 2, 0);
    memcpy(m->p + 4, request + 4, 16); /* magic cookie and transaction ID */
    m->len = STUN_HDR_LEN;
}

static stun_result reject(const uint8_t *req, int code, const char *reason, const uint16_t *unknown,
                          size_t n_unknown, uint8_t *reply, size_t cap, size_t *reply_len,
                          stun_request_info *info, const char *why)
{
    stun_msg m = {reply, cap, 0, cap >= STUN_HDR_LEN};
    info->error_code = code;
    info->why = why;
    if (!m.ok) {
        return STUN_IGNORED;
    }
    start(&m, STUN_BINDING_ERROR, req);
    size_t rlen = strlen(reason);
    uint8_t *v = add_attr(&m, ATTR_ERROR_CODE, 4 + rlen);
    if (v != NULL) {
        v[2] = (uint8_t)(code / 100);
        v[3] = (uint8_t)(code % 100);
        memcpy(v + 4, reason, rlen);
    }
    if (n_unknown > 0 && (v = add_attr(&m, ATTR_UNKNOWN_ATTRIBUTES, 2 * n_unknown)) != NULL) {
        for (size_t i = 0; i < n_unknown; i++) {
            put16(v + 2 * i, unknown[i]);
        }
    }
    /* No MESSAGE-INTEGRITY: a 400/401 means we could not authenticate the request. */
    add_fingerprint(&m);
    if (!m.ok) {
        return STUN_IGNORED;
    }
    *reply_len = m.len;
    return STUN_REJECTED;
}

stun_result stun_answer(const uint8_t *msg, size_t len, const char *local_ufrag,
                        const char *local_pwd, const char *remote_ufrag,
                        const struct sockaddr_in *from, uint8_t *reply, size_t reply_cap,
                        size_t *reply_len, stun_request_info *info)
{
    memset(info, 0, sizeof(*info));
    *reply_len = 0;
    /* RFC 8489 5: two zero bits, type, length (a multiple of 4), magic cookie, 96-bit ID. */
    if (len < STUN_HDR_LEN || (msg[0] & 0xC0) != 0 || get32(msg + 4) != STUN_MAGIC ||
        get16(msg + 2) != len - STUN_HDR_LEN || len % 4 != 0) {
        info->why = "not a well-formed STUN message";
        return STUN_IGNORED;
    }
    if (get16(msg) != STUN_BINDING_REQUEST) {
        info->why = "not a Binding request (indication or response)";
        return STUN_IGNORED;
    }

    const uint8_t *username = NULL;
    size_t username_len = 0, mi_off = 0, fp_off = 0;
    uint16_t unknown[8];
    size_t n_unknown = 0;
    int has_mi = 0, has_fp = 0;
    for (size_t off = STUN_HDR_LEN; off < len;) {
        if (len - off < 4) {
            info->why = "truncated attribute header";
            return STUN_IGNORED;
        }
        uint16_t type = get16(msg + off), alen = get16(msg + off + 2);
        size_t padded = ((size_t)alen + 3) & ~(size_t)3;
        if (padded > len - off - 4) {
            info->why = "attribute runs past the message";
            return STUN_IGNORED;
        }
        /* RFC 8489 14.5, 14.7: only FINGERPRINT may follow MESSAGE-INTEGRITY, and nothing
         * follows FINGERPRINT; attributes after them are ignored. */
        if (has_fp) {
            break;
        }
        if (has_mi && type != ATTR_FINGERPRINT) {
            off += 4 + padded;
            continue;
        }
        const uint8_t *v = msg + off + 4;
        switch (type) {
        case ATTR_USERNAME:
            username = v;
            username_len = alen;
            break;
        case ATTR_MESSAGE_INTEGRITY:
            if (alen != HMAC_SHA1_LEN) {
                return reject(msg, 400, "Bad Request", NULL, 0, reply, reply_cap, reply_len, info,
                              "MESSAGE-INTEGRITY of the wrong length");
            }
            has_mi = 1;
            mi_off = off;
            break;
        case ATTR_FINGERPRINT:
            if (alen != 4) {
                info->why = "FINGERPRINT of the wrong length";
                return STUN_IGNORED;
            }
            has_fp = 1;
            fp_off = off;
            break;
        case ATTR_USE_CANDIDATE:
            info->use_candidate = 1;
            break;
        case ATTR_ICE_CONTROLLING:
            info->ice_controlling = 1;
            break;
        case ATTR_PRIORITY:
        case ATTR_ICE_CONTROLLED:
            break;
        default:
            /* RFC 8489 14: 0x0000-0x7FFF are comprehension-required. */
            if (type < 0x8000 && n_unknown < sizeof(unknown) / sizeof(unknown[0])) {
                unknown[n_unknown++] = type;
            }
            break;
        }
        off += 4 + padded;
    }

    /* RFC 8489 7.3: a FINGERPRINT that does not match means this is not STUN: drop. */
    if (has_fp && (fp_off + 8 != len ||
                   (stun_crc32(msg, fp_off) ^ FINGERPRINT_XOR) != get32(msg + fp_off + 4))) {
        info->why = "FINGERPRINT mismatch";
        return STUN_IGNORED;
    }
    /* RFC 8489 9.1.3: no MESSAGE-INTEGRITY or no USERNAME: 400. */
    if (!has_mi || username == NULL) {
        return reject(msg, 400, "Bad Request", NULL, 0, reply, reply_cap, reply_len, info,
                      "no USERNAME or MESSAGE-INTEGRITY");
    }
    /* RFC 8445 7.3: USERNAME is "<our ufrag>:<their ufrag>"; else 401. */
    size_t lu = strlen(local_ufrag);
    if (username_len <= lu || memcmp(username, local_ufrag, lu) != 0 || username[lu] != ':' ||
        (remote_ufrag != NULL &&
         (username_len - lu - 1 != strlen(remote_ufrag) ||
          memcmp(username + lu + 1, remote_ufrag, username_len - lu - 1) != 0))) {
        return reject(msg, 401, "Unauthorized", NULL, 0, reply, reply_cap, reply_len, info,
                      "USERNAME does not match our ice-ufrag");
    }
    uint8_t mac[HMAC_SHA1_LEN];
    if (integrity(msg, mi_off, local_pwd, mac) != 0 ||
        CRYPTO_memcmp(mac, msg + mi_off + 4, HMAC_SHA1_LEN) != 0) {
        return reject(msg, 401, "Unauthorized", NULL, 0, reply, reply_cap, reply_len, info,
                      "MESSAGE-INTEGRITY does not verify with our ice-pwd");
    }
    if (n_unknown > 0) {
        return reject(msg, 420, "Unknown Attribute", unknown, n_unknown, reply, reply_cap,
                      reply_len, info, "unknown comprehension-required attribute");
    }

    /* Success: XOR-MAPPED-ADDRESS (RFC 8489 14.2), MESSAGE-INTEGRITY, FINGERPRINT. */
    stun_msg m = {reply, reply_cap, 0, reply_cap >= STUN_HDR_LEN};
    if (!m.ok) {
        return STUN_IGNORED;
    }
    start(&m, STUN_BINDING_SUCCESS, msg);
    uint8_t *v = add_attr(&m, ATTR_XOR_MAPPED_ADDRESS, 8);
    if (v != NULL) {
        uint16_t port = ntohs(from->sin_port);
        uint32_t addr = ntohl(from->sin_addr.s_addr);
        v[1] = 0x01; /* IPv4 */
        put16(v + 2, (uint16_t)(port ^ (STUN_MAGIC >> 16)));
        put32(v + 4, addr ^ STUN_MAGIC);
    }
    add_integrity(&m, local_pwd);
    add_fingerprint(&m);
    if (!m.ok) {
        info->why = "reply buffer too small";
        return STUN_IGNORED;
    }
    *reply_len = m.len;
    return STUN_ANSWERED;
}
