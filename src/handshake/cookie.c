#include "cookie.h"

#include "../util/wr.h"

static int mac(const sdtls__hmac_key *key, uint32_t t, const sdtls__cookie_input *in,
               uint8_t out[16])
{
    static const uint8_t label[12] = "sdtls cookie";
    uint8_t full[32], tb[4], vb[2];
    tb[0] = (uint8_t)(t >> 24);
    tb[1] = (uint8_t)(t >> 16);
    tb[2] = (uint8_t)(t >> 8);
    tb[3] = (uint8_t)t;
    sdtls_put_u16(vb, in->version);
    uint8_t sl = (uint8_t)in->sid_len;
    const uint8_t *parts[] = {label, tb, in->addr, vb, in->random, &sl, in->sid};
    size_t lens[] = {sizeof(label), 4, in->addr_len, 2, 32, 1, in->sid_len};
    if (sdtls__hmac_key_mac_v(key, parts, lens, 7, full) != 0) {
        return SDTLS_ERR_CRYPTO;
    }
    memcpy(out, full, 16);
    return 0;
}

int sdtls__cookie_make(const sdtls__hmac_key *key, const sdtls__cookie_input *in,
                       uint64_t now_ms, uint8_t out[SDTLS_COOKIE_LEN])
{
    uint32_t t = (uint32_t)(now_ms / 1000);
    out[0] = (uint8_t)(t >> 24);
    out[1] = (uint8_t)(t >> 16);
    out[2] = (uint8_t)(t >> 8);
    out[3] = (uint8_t)t;
    return mac(key, t, in, out + 4);
}

int sdtls__cookie_check(const sdtls__hmac_key *key, uint32_t lifetime_ms,
                        const sdtls__cookie_input *in, uint64_t now_ms, const uint8_t *cookie,
                        size_t cookie_len)
{
    if (cookie_len != SDTLS_COOKIE_LEN) {
        return 0;
    }
    uint32_t t = ((uint32_t)cookie[0] << 24) | ((uint32_t)cookie[1] << 16) |
                 ((uint32_t)cookie[2] << 8) | cookie[3];
    uint32_t now = (uint32_t)(now_ms / 1000);
    /* Not from the future, and younger than the lifetime (whole seconds, rounded up). */
    uint32_t life_s = (lifetime_ms + 999) / 1000;
    if (t > now || now - t > life_s) {
        return 0;
    }
    uint8_t expect[16];
    if (mac(key, t, in, expect) != 0) {
        return 0;
    }
    return sdtls__ct_equal(expect, cookie + 4, 16);
}
