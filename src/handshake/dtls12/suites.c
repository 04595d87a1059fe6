#include "dtls12.h"

#include <strings.h>

/* Our preference order: AEAD only (RFC 9325 4.2), ECDSA before RSA, AES-128-GCM first. */
static const sdtls__suite suites[] = {
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", SDTLS_KX_ECDHE_ECDSA,
     SDTLS_AEAD_AES_128_GCM, SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", SDTLS_KX_ECDHE_ECDSA,
     SDTLS_AEAD_AES_256_GCM, SDTLS_HASH_SHA384, 32, 4, 0, SDTLS_HASH_NONE},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", SDTLS_KX_ECDHE_ECDSA,
     SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_HASH_SHA256, 32, 12, 0, SDTLS_HASH_NONE},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SDTLS_KX_ECDHE_RSA, SDTLS_AEAD_AES_128_GCM,
     SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", SDTLS_KX_ECDHE_RSA, SDTLS_AEAD_AES_256_GCM,
     SDTLS_HASH_SHA384, 32, 4, 0, SDTLS_HASH_NONE},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", SDTLS_KX_ECDHE_RSA,
     SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_HASH_SHA256, 32, 12, 0, SDTLS_HASH_NONE},
    /* RFC 7251: CoAP's mandatory suite is the CCM_8 one. */
    {0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", SDTLS_KX_ECDHE_ECDSA, SDTLS_AEAD_AES_128_CCM,
     SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    {0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", SDTLS_KX_ECDHE_ECDSA,
     SDTLS_AEAD_AES_128_CCM_8, SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    /* Pre-shared keys: with forward secrecy first (RFC 5489, RFC 8442, RFC 7905). */
    {0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", SDTLS_KX_ECDHE_PSK,
     SDTLS_AEAD_AES_128_GCM, SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    {0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", SDTLS_KX_ECDHE_PSK,
     SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_HASH_SHA256, 32, 12, 0, SDTLS_HASH_NONE},
    {0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", SDTLS_KX_PSK, SDTLS_AEAD_AES_128_GCM,
     SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    {0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", SDTLS_KX_PSK, SDTLS_AEAD_AES_256_GCM,
     SDTLS_HASH_SHA384, 32, 4, 0, SDTLS_HASH_NONE},
    {0xC0A4, "TLS_PSK_WITH_AES_128_CCM", SDTLS_KX_PSK, SDTLS_AEAD_AES_128_CCM, SDTLS_HASH_SHA256,
     16, 4, 0, SDTLS_HASH_NONE},
    {0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", SDTLS_KX_PSK, SDTLS_AEAD_AES_128_CCM_8,
     SDTLS_HASH_SHA256, 16, 4, 0, SDTLS_HASH_NONE},
    /* Legacy, for old devices only: off unless sdtls_config_set_legacy_cbc(), and then only
     * with encrypt-then-MAC (RFC 7366). */
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", SDTLS_KX_ECDHE_ECDSA, SDTLS_AEAD_AES_128_GCM,
     SDTLS_HASH_SHA256, 16, 0, 1, SDTLS_HASH_SHA1},
    {0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", SDTLS_KX_PSK, SDTLS_AEAD_AES_128_GCM,
     SDTLS_HASH_SHA256, 16, 0, 1, SDTLS_HASH_SHA256},
};

const uint16_t sdtls__sig_schemes[] = {
    SDTLS_SIG_ECDSA_SECP256R1_SHA256, SDTLS_SIG_ECDSA_SECP384R1_SHA384, SDTLS_SIG_ED25519,
    SDTLS_SIG_RSA_PSS_RSAE_SHA256,    SDTLS_SIG_RSA_PSS_RSAE_SHA384,    SDTLS_SIG_RSA_PKCS1_SHA256,
    SDTLS_SIG_RSA_PKCS1_SHA384,       SDTLS_SIG_RSA_PSS_RSAE_SHA512,    SDTLS_SIG_RSA_PKCS1_SHA512,
    SDTLS_SIG_ECDSA_SECP521R1_SHA512,
};
const size_t sdtls__n_sig_schemes = SDTLS_ARRAY_LEN(sdtls__sig_schemes);

/* Case-insensitive match of a known name against a name of len bytes (not NUL-terminated). */
static int name_is(const char *known, const char *name, size_t len)
{
    return strlen(known) == len && strncasecmp(known, name, len) == 0;
}

const sdtls__suite *sdtls__suite_by_id(uint16_t id)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(suites); i++) {
        if (suites[i].id == id) {
            return &suites[i];
        }
    }
    return NULL;
}

const sdtls__suite *sdtls__suite_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(suites); i++) {
        if (name_is(suites[i].name, name, len)) {
            return &suites[i];
        }
    }
    return NULL;
}

int sdtls__suite_in_build(const sdtls__profile *p, const sdtls__suite *s)
{
    if ((SDTLS_KX_HAS_CERT(s->kx) && p->pki == NULL) ||
        (SDTLS_KX_HAS_ECDHE(s->kx) && p->kex == NULL)) {
        return 0;
    }
    return s->cbc ? p->cbc != NULL : (int)((p->aeads >> s->aead) & 1u);
}

size_t sdtls__suite_defaults(const sdtls__profile *p, uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(suites) && n < cap; i++) {
        if (sdtls__suite_in_build(p, &suites[i])) {
            out[n++] = suites[i].id;
        }
    }
    return n;
}

static const struct {
    uint16_t id;
    const char *name;
    const char *alias;
} groups[] = {
    {SDTLS_GROUP_X25519, "x25519", "X25519"},
    {SDTLS_GROUP_SECP256R1, "secp256r1", "P-256"},
    {SDTLS_GROUP_SECP384R1, "secp384r1", "P-384"},
};

const char *sdtls__group_name(uint16_t group)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(groups); i++) {
        if (groups[i].id == group) {
            return groups[i].name;
        }
    }
    return "";
}

int sdtls__group_by_name(const char *name, size_t len, uint16_t *out)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(groups); i++) {
        if (name_is(groups[i].name, name, len) ||
            name_is(groups[i].alias, name, len)) {
            *out = groups[i].id;
            return 0;
        }
    }
    return SDTLS_ERR_UNSUPPORTED;
}

static const sdtls__srtp_profile srtp_profiles[] = {
    {0x0001, "SRTP_AES128_CM_HMAC_SHA1_80", 16, 14},
    {0x0002, "SRTP_AES128_CM_HMAC_SHA1_32", 16, 14},
    {0x0007, "SRTP_AEAD_AES_128_GCM", 16, 12},
    {0x0008, "SRTP_AEAD_AES_256_GCM", 32, 12},
};

const sdtls__srtp_profile *sdtls__srtp_by_id(uint16_t id)
{
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(srtp_profiles); i++) {
        if (srtp_profiles[i].id == id) {
            return &srtp_profiles[i];
        }
    }
    return NULL;
}

const sdtls__srtp_profile *sdtls__srtp_by_name(const char *name, size_t len)
{
    /* OpenSSL spells the SHA1 profiles without "HMAC_": accept both. */
    static const struct {
        const char *alias;
        uint16_t id;
    } aliases[] = {{"SRTP_AES128_CM_SHA1_80", 0x0001}, {"SRTP_AES128_CM_SHA1_32", 0x0002}};
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(srtp_profiles); i++) {
        if (name_is(srtp_profiles[i].name, name, len)) {
            return &srtp_profiles[i];
        }
    }
    for (size_t i = 0; i < SDTLS_ARRAY_LEN(aliases); i++) {
        if (name_is(aliases[i].alias, name, len)) {
            return sdtls__srtp_by_id(aliases[i].id);
        }
    }
    return NULL;
}

int sdtls__suite_usable(const sdtls_config *cfg, const sdtls__suite *s, sdtls_role role)
{
    if (!sdtls__suite_in_build(cfg->profile, s)) {
        return 0;
    }
    /* CBC records are not defined here with connection IDs; keep the two apart. */
    if (s->cbc && (!cfg->legacy_cbc || cfg->cid_len >= 0)) {
        return 0;
    }
    if (role == SDTLS_ROLE_CLIENT) {
        if (SDTLS_KX_IS_PSK(s->kx)) {
            return cfg->psk_len > 0;
        }
        return cfg->psk_len == 0 || cfg->suites_explicit;
    }
    if (SDTLS_KX_IS_PSK(s->kx)) {
        return cfg->psk_len > 0 || cfg->psk_cb != NULL;
    }
    return cfg->has_cert;
}
