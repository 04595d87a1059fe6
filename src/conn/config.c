#include "config.h"

#include "../handshake/dtls12/dtls12.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static void *default_alloc(void *user, size_t size)
{
    return malloc(size);
}

static void default_free(void *user, void *ptr, size_t size)
{
    free(ptr);
}

void *sdtls__alloc(const sdtls_config *cfg, size_t size)
{
    return cfg->mem.alloc(cfg->mem.user, size);
}

void sdtls__free(const sdtls_config *cfg, void *p, size_t size)
{
    if (p != NULL) {
        cfg->mem.free(cfg->mem.user, p, size);
    }
}

void sdtls__log(const sdtls_config *cfg, sdtls_log_level level, const char *fmt, ...)
{
    if (cfg->log_fn == NULL || level > cfg->log_level) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cfg->log_fn(cfg->log_user, level, line);
}

int sdtls__random(const sdtls_config *cfg, uint8_t *buf, size_t len)
{
    return cfg->rng(cfg->rng_user, buf, len) == 0 ? 0 : SDTLS_ERR_CRYPTO;
}

/* A fresh cookie secret from the config's RNG, scheduled as an HMAC key. */
static int new_cookie_key(sdtls_config *cfg)
{
    uint8_t secret[32];
    sdtls__hmac_key *k = NULL;
    int rc = sdtls__random(cfg, secret, sizeof(secret));
    if (rc == 0) {
        rc = sdtls__hmac_key_new(SDTLS_HASH_SHA256, secret, sizeof(secret), &k);
    }
    sdtls__wipe(secret, sizeof(secret));
    if (rc != 0) {
        return rc == SDTLS_ERR_NOMEM ? rc : SDTLS_ERR_CRYPTO;
    }
    sdtls__hmac_key_free(cfg->cookie_key);
    cfg->cookie_key = k;
    return 0;
}

int sdtls_config_new(sdtls_config **out, const sdtls_allocator *mem)
{
    sdtls_allocator m = {default_alloc, default_free, NULL};
    if (out == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (mem != NULL) {
        if (mem->alloc == NULL || mem->free == NULL) {
            return SDTLS_ERR_ARG;
        }
        m = *mem;
    }
    sdtls_config *cfg = m.alloc(m.user, sizeof(*cfg));
    if (cfg == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->mem = m;
    cfg->profile = &sdtls__build_profile;
    cfg->rng = sdtls__rand_bytes;
    cfg->verify = SDTLS_VERIFY_CA;
    cfg->n_suites = sdtls__suite_defaults(cfg->profile, cfg->suites, SDTLS_MAX_SUITES);
    cfg->groups[0] = SDTLS_GROUP_X25519;
    cfg->groups[1] = SDTLS_GROUP_SECP256R1;
    cfg->groups[2] = SDTLS_GROUP_SECP384R1;
    cfg->n_groups = 3;
    cfg->mtu = 1200;
    cfg->timer.initial_ms = 1000;
    cfg->timer.max_ms = 60000;
    cfg->timer.max_count = 10;
    cfg->cookie_on = 1;
    cfg->cookie_lifetime_ms = 30000;
    cfg->require_ems = 1;
    cfg->cid_len = -1;
    cfg->max_msg = cfg->profile->max_msg;
    cfg->reasm_bytes = SDTLS_REASM_FOR(cfg->max_msg);
    cfg->transcript_bytes = cfg->profile->transcript_bytes;
    cfg->rx_bytes = SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 512;
    int rc = new_cookie_key(cfg);
    if (rc != 0) {
        m.free(m.user, cfg, sizeof(*cfg));
        return rc;
    }
    *out = cfg;
    return 0;
}

void sdtls_config_free(sdtls_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    if (cfg->profile->config_clear != NULL) {
        cfg->profile->config_clear(cfg);
    }
    sdtls__hmac_key_free(cfg->cookie_key);
    sdtls_allocator m = cfg->mem;
    sdtls__wipe(cfg, sizeof(*cfg));
    m.free(m.user, cfg, sizeof(*cfg));
}

int sdtls_config_set_rng(sdtls_config *cfg, sdtls_rng_fn fn, void *user)
{
    if (cfg == NULL || fn == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->rng = fn;
    cfg->rng_user = user;
    /* A deterministic RNG makes deterministic cookies too (tests rely on it). */
    return new_cookie_key(cfg);
}

int sdtls_config_set_psk(sdtls_config *cfg, const uint8_t *identity, size_t identity_len,
                         const uint8_t *key, size_t key_len)
{
    if (cfg == NULL || (identity == NULL && identity_len > 0) || key == NULL || key_len == 0 ||
        identity_len > sizeof(cfg->psk_identity) || key_len > sizeof(cfg->psk)) {
        return SDTLS_ERR_ARG;
    }
    if (identity_len > 0) {
        memcpy(cfg->psk_identity, identity, identity_len);
    }
    cfg->psk_identity_len = identity_len;
    memcpy(cfg->psk, key, key_len);
    cfg->psk_len = key_len;
    return 0;
}

int sdtls_config_set_psk_hint(sdtls_config *cfg, const uint8_t *hint, size_t len)
{
    if (cfg == NULL || (hint == NULL && len > 0) || len > sizeof(cfg->psk_hint)) {
        return SDTLS_ERR_ARG;
    }
    if (len > 0) {
        memcpy(cfg->psk_hint, hint, len);
    }
    cfg->psk_hint_len = len;
    return 0;
}

int sdtls_config_set_psk_callback(sdtls_config *cfg, sdtls_psk_fn fn, void *user)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->psk_cb = fn;
    cfg->psk_user = user;
    return 0;
}

int sdtls__each_item(const char *list, int (*fn)(void *ctx, const char *item, size_t len),
                     void *ctx)
{
    const char *p = list;
    while (*p != 0) {
        size_t n = strcspn(p, ":,");
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        if (n > 0) {
            SDTLS_TRY(fn(ctx, p, n));
        }
        p += n;
        if (*p != 0) {
            p++;
        }
    }
    return 0;
}

typedef struct {
    uint16_t *ids;
    size_t n, cap;
    const sdtls__profile *profile; /* suites: only those of the build */
} id_list;

static int add_suite(void *ctx, const char *item, size_t len)
{
    id_list *l = ctx;
    const sdtls__suite *s = sdtls__suite_by_name(item, len);
    if (s == NULL || !sdtls__suite_in_build(l->profile, s) || l->n == l->cap) {
        return SDTLS_ERR_UNSUPPORTED;
    }
    l->ids[l->n++] = s->id;
    return 0;
}

static int add_group(void *ctx, const char *item, size_t len)
{
    id_list *l = ctx;
    uint16_t g;
    if (sdtls__group_by_name(item, len, &g) != 0 || l->n == l->cap) {
        return SDTLS_ERR_UNSUPPORTED;
    }
    l->ids[l->n++] = g;
    return 0;
}

int sdtls_config_set_ciphers(sdtls_config *cfg, const char *list)
{
    uint16_t ids[SDTLS_MAX_SUITES];
    id_list l = {ids, 0, SDTLS_MAX_SUITES, NULL};
    if (cfg == NULL || list == NULL) {
        return SDTLS_ERR_ARG;
    }
    l.profile = cfg->profile;
    SDTLS_TRY(sdtls__each_item(list, add_suite, &l));
    if (l.n == 0) {
        return SDTLS_ERR_ARG;
    }
    memcpy(cfg->suites, ids, l.n * sizeof(ids[0]));
    cfg->n_suites = l.n;
    cfg->suites_explicit = 1;
    return 0;
}

int sdtls_config_set_groups(sdtls_config *cfg, const char *list)
{
    uint16_t ids[SDTLS_MAX_GROUPS];
    id_list l = {ids, 0, SDTLS_MAX_GROUPS, NULL};
    if (cfg == NULL || list == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__each_item(list, add_group, &l));
    if (l.n == 0) {
        return SDTLS_ERR_ARG;
    }
    memcpy(cfg->groups, ids, l.n * sizeof(ids[0]));
    cfg->n_groups = l.n;
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} alpn_list;

static int add_alpn(void *ctx, const char *item, size_t len)
{
    alpn_list *l = ctx;
    if (len > 255 || l->cap - l->len < len + 1) {
        return SDTLS_ERR_ARG;
    }
    l->buf[l->len++] = (uint8_t)len;
    memcpy(l->buf + l->len, item, len);
    l->len += len;
    return 0;
}

int sdtls_config_set_alpn(sdtls_config *cfg, const char *list)
{
    uint8_t buf[SDTLS_MAX_ALPN_WIRE];
    alpn_list l = {buf, 0, sizeof(buf)};
    if (cfg == NULL || list == NULL) {
        return SDTLS_ERR_ARG;
    }
    /* ALPN names may contain ':' in principle; we split on ',' only. */
    const char *p = list;
    while (*p != 0) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            SDTLS_TRY(add_alpn(&l, p, n));
        }
        p += n;
        if (*p != 0) {
            p++;
        }
    }
    memcpy(cfg->alpn, buf, l.len);
    cfg->alpn_len = l.len;
    return 0;
}

int sdtls_config_set_mtu(sdtls_config *cfg, size_t mtu)
{
    if (cfg == NULL || mtu < 256 || mtu > SDTLS_MAX_PLAINTEXT) {
        return SDTLS_ERR_ARG;
    }
    cfg->mtu = mtu;
    return 0;
}

int sdtls_config_set_retransmit(sdtls_config *cfg, uint32_t initial_ms, uint32_t max_ms,
                                uint32_t max_count)
{
    if (cfg == NULL || initial_ms == 0 || max_ms < initial_ms) {
        return SDTLS_ERR_ARG;
    }
    cfg->timer.initial_ms = initial_ms;
    cfg->timer.max_ms = max_ms;
    cfg->timer.max_count = max_count;
    return 0;
}

int sdtls_config_set_cookie(sdtls_config *cfg, int enabled, uint32_t lifetime_ms)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->cookie_on = enabled != 0;
    if (lifetime_ms != 0) {
        if (lifetime_ms < 1000) {
            return SDTLS_ERR_ARG;
        }
        cfg->cookie_lifetime_ms = lifetime_ms;
    }
    return 0;
}

int sdtls_config_set_legacy_cbc(sdtls_config *cfg, int enable)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->legacy_cbc = enable != 0;
    return 0;
}

int sdtls_config_set_heartbeat(sdtls_config *cfg, int mode)
{
    if (cfg == NULL || mode < 0 || mode > 2) {
        return SDTLS_ERR_ARG;
    }
    cfg->heartbeat = mode;
    return 0;
}

int sdtls_config_set_cid(sdtls_config *cfg, int cid_len)
{
    if (cfg == NULL || cid_len < -1 || cid_len > SDTLS_MAX_CID) {
        return SDTLS_ERR_ARG;
    }
    cfg->cid_len = cid_len;
    return 0;
}

int sdtls_config_set_budgets(sdtls_config *cfg, size_t max_handshake_msg, size_t reassembly,
                             size_t transcript, size_t max_datagram)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    size_t msg = max_handshake_msg ? max_handshake_msg : cfg->profile->max_msg;
    size_t ra = reassembly ? reassembly : msg + msg / 8 + 64;
    size_t tr = transcript ? transcript : cfg->profile->transcript_bytes;
    size_t dg = max_datagram ? max_datagram : SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 512;
    /* The next message must always fit the pool (reasm.c evicts later ones for it). */
    if (msg < 256 || msg > 0xffffff || ra < msg + (msg + 7) / 8 || tr < 1024 ||
        dg < 256 || dg > SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 512) {
        return SDTLS_ERR_ARG;
    }
    cfg->max_msg = (uint32_t)msg;
    cfg->reasm_bytes = ra;
    cfg->transcript_bytes = tr;
    cfg->rx_bytes = dg;
    return 0;
}

int sdtls_config_set_require_ems(sdtls_config *cfg, int required)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->require_ems = required != 0;
    return 0;
}

int sdtls_config_set_log(sdtls_config *cfg, sdtls_log_level level, sdtls_log_fn fn, void *user)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->log_level = level;
    cfg->log_fn = fn;
    cfg->log_user = user;
    return 0;
}

int sdtls_config_set_keylog(sdtls_config *cfg, sdtls_keylog_fn fn, void *user)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->keylog_fn = fn;
    cfg->keylog_user = user;
    return 0;
}

const char *sdtls_version(void)
{
    static _Thread_local char buf[160];
    snprintf(buf, sizeof(buf), "sdtls %s %s (%s)", SDTLS_VERSION_STRING,
             sdtls__build_profile.name, sdtls__crypto_version());
    return buf;
}
