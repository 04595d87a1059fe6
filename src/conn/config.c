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
    cfg->rng = sdtls__rand_bytes;
    cfg->verify = SDTLS_VERIFY_CA;
    cfg->n_suites = sdtls__suite_defaults(cfg->suites, SDTLS_MAX_SUITES);
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
    cfg->max_msg = SDTLS_DEFAULT_MAX_MSG;
    cfg->reasm_bytes = SDTLS_DEFAULT_REASM_BYTES;
    cfg->transcript_bytes = SDTLS_DEFAULT_TRANSCRIPT;
    cfg->rx_bytes = SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 512;
    if (sdtls__rand_bytes(NULL, cfg->cookie_key, sizeof(cfg->cookie_key)) != 0) {
        m.free(m.user, cfg, sizeof(*cfg));
        return SDTLS_ERR_CRYPTO;
    }
    *out = cfg;
    return 0;
}

void sdtls_config_free(sdtls_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    sdtls__cert_clear(&cfg->cert);
    sdtls__trust_free(cfg->trust);
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
    return sdtls__random(cfg, cfg->cookie_key, sizeof(cfg->cookie_key));
}

static int use_cert(sdtls_config *cfg, sdtls__cert *c)
{
    sdtls__cert_clear(&cfg->cert);
    cfg->cert = *c;
    cfg->has_cert = 1;
    return 0;
}

int sdtls_config_set_cert_pem(sdtls_config *cfg, const char *chain_pem, size_t chain_len,
                              const char *key_pem, size_t key_len)
{
    sdtls__cert c;
    if (cfg == NULL || chain_pem == NULL || key_pem == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__cert_from_pem(chain_pem, chain_len, key_pem, key_len, &c));
    return use_cert(cfg, &c);
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return SDTLS_ERR_IO;
    }
    size_t cap = 1 << 20, n; /* certificates and keys: 1 MiB is plenty */
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return SDTLS_ERR_NOMEM;
    }
    n = fread(buf, 1, cap, f);
    int err = ferror(f);
    fclose(f);
    if (err || n == cap) {
        free(buf);
        return SDTLS_ERR_IO;
    }
    *out = buf;
    *len = n;
    return 0;
}

int sdtls_config_load_cert_files(sdtls_config *cfg, const char *chain_path, const char *key_path)
{
    char *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    if (cfg == NULL || chain_path == NULL || key_path == NULL) {
        return SDTLS_ERR_ARG;
    }
    int rc = read_file(chain_path, &chain, &chain_len);
    if (rc == 0) {
        rc = read_file(key_path, &key, &key_len);
    }
    if (rc == 0) {
        rc = sdtls_config_set_cert_pem(cfg, chain, chain_len, key, key_len);
    }
    if (key != NULL) {
        sdtls__wipe(key, key_len);
    }
    free(chain);
    free(key);
    return rc;
}

int sdtls_config_generate_cert(sdtls_config *cfg, sdtls_key_type type, const char *common_name)
{
    uint8_t serial[16];
    sdtls__cert c;
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__random(cfg, serial, sizeof(serial)));
    SDTLS_TRY(sdtls__cert_generate(type, common_name ? common_name : "sdtls", serial, &c));
    return use_cert(cfg, &c);
}

int sdtls_config_get_cert_pem(const sdtls_config *cfg, char *out, size_t cap, size_t *out_len)
{
    if (cfg == NULL || out == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (!cfg->has_cert) {
        return SDTLS_ERR_STATE;
    }
    return sdtls__cert_leaf_pem(&cfg->cert, out, cap, out_len);
}

int sdtls_config_get_key_pem(const sdtls_config *cfg, char *out, size_t cap, size_t *out_len)
{
    if (cfg == NULL || out == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (!cfg->has_cert) {
        return SDTLS_ERR_STATE;
    }
    return sdtls__cert_key_pem(&cfg->cert, out, cap, out_len);
}

static int hash_by_name(const char *name, sdtls_hash_id *h)
{
    if (name == NULL || strcasecmp(name, "sha-256") == 0) {
        *h = SDTLS_HASH_SHA256;
    } else if (strcasecmp(name, "sha-384") == 0) {
        *h = SDTLS_HASH_SHA384;
    } else if (strcasecmp(name, "sha-512") == 0) {
        *h = SDTLS_HASH_SHA512;
    } else {
        return SDTLS_ERR_UNSUPPORTED;
    }
    return 0;
}

static const char *hash_name(sdtls_hash_id h)
{
    switch (h) {
    case SDTLS_HASH_SHA256:
        return "sha-256";
    case SDTLS_HASH_SHA384:
        return "sha-384";
    case SDTLS_HASH_SHA512:
        return "sha-512";
    default:
        return "";
    }
}

int sdtls__fp_format(sdtls_hash_id hash, const uint8_t *der, size_t der_len, char *out, size_t cap)
{
    uint8_t d[SDTLS_HASH_MAX];
    size_t n = sdtls__hash_len(hash);
    const char *name = hash_name(hash);
    if (n == 0 || sdtls__hash(hash, der, der_len, d) != 0) {
        return SDTLS_ERR_UNSUPPORTED;
    }
    if (cap < strlen(name) + 1 + 3 * n) {
        return SDTLS_ERR_BUF_SMALL;
    }
    size_t k = (size_t)snprintf(out, cap, "%s ", name);
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(out + k, cap - k, i ? ":%02X" : "%02X", d[i]);
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int sdtls__fp_parse(const char *s, sdtls_hash_id *hash, uint8_t *out, size_t *out_len)
{
    /* "sha-256 AB:CD:..." (RFC 8122 5), optionally as the SDP line "a=fingerprint:...";
     * the hash name is optional (sha-256). */
    char name[16];
    size_t i = 0;
    if (strncasecmp(s, "a=fingerprint:", 14) == 0) {
        s += 14;
    }
    const char *sp = strchr(s, ' ');
    if (sp != NULL) {
        size_t nl = (size_t)(sp - s);
        if (nl >= sizeof(name)) {
            return SDTLS_ERR_ARG;
        }
        memcpy(name, s, nl);
        name[nl] = 0;
        if (hash_by_name(name, hash) != 0) {
            return SDTLS_ERR_ARG;
        }
        s = sp + 1;
        while (*s == ' ') {
            s++;
        }
    } else {
        *hash = SDTLS_HASH_SHA256;
    }
    size_t want = sdtls__hash_len(*hash);
    while (*s != 0) {
        if (*s == ':') {
            s++;
            continue;
        }
        int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
        if (hi < 0 || lo < 0 || i == want) {
            return SDTLS_ERR_ARG;
        }
        out[i++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    if (i != want) {
        return SDTLS_ERR_ARG;
    }
    *out_len = i;
    return 0;
}

int sdtls_config_get_fingerprint(const sdtls_config *cfg, const char *hash, char *out, size_t cap)
{
    sdtls_hash_id h;
    if (cfg == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(hash_by_name(hash, &h));
    if (!cfg->has_cert) {
        return SDTLS_ERR_STATE;
    }
    return sdtls__fp_format(h, cfg->cert.der[0], cfg->cert.der_len[0], out, cap);
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

int sdtls_config_set_ca_file(sdtls_config *cfg, const char *path)
{
    sdtls__trust *t;
    if (cfg == NULL || path == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__trust_load_file(path, &t));
    sdtls__trust_free(cfg->trust);
    cfg->trust = t;
    return 0;
}

int sdtls_config_set_verify(sdtls_config *cfg, sdtls_verify_mode mode)
{
    if (cfg == NULL || mode > SDTLS_VERIFY_CALLBACK) {
        return SDTLS_ERR_ARG;
    }
    cfg->verify = mode;
    return 0;
}

int sdtls_config_set_verify_callback(sdtls_config *cfg, sdtls_verify_fn fn, void *user)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->verify_cb = fn;
    cfg->verify_user = user;
    return 0;
}

int sdtls_config_set_peer_fingerprint(sdtls_config *cfg, const char *fingerprint)
{
    if (cfg == NULL || fingerprint == NULL) {
        return SDTLS_ERR_ARG;
    }
    return sdtls__fp_parse(fingerprint, &cfg->pin_hash, cfg->pin, &cfg->pin_len);
}

int sdtls_config_set_client_auth(sdtls_config *cfg, int request, int require)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->client_auth_request = request || require;
    cfg->client_auth_require = require;
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
} id_list;

static int add_suite(void *ctx, const char *item, size_t len)
{
    id_list *l = ctx;
    const sdtls__suite *s = sdtls__suite_by_name(item, len);
    if (s == NULL || l->n == l->cap) {
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
    id_list l = {ids, 0, SDTLS_MAX_SUITES};
    if (cfg == NULL || list == NULL) {
        return SDTLS_ERR_ARG;
    }
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
    id_list l = {ids, 0, SDTLS_MAX_GROUPS};
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

int sdtls_config_set_raw_public_key(sdtls_config *cfg, int enable)
{
    if (cfg == NULL) {
        return SDTLS_ERR_ARG;
    }
    cfg->rpk = enable != 0;
    return 0;
}

int sdtls_config_get_public_key_fingerprint(const sdtls_config *cfg, const char *hash, char *out,
                                            size_t cap)
{
    sdtls_hash_id h;
    uint8_t spki[1024];
    size_t len;
    if (cfg == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(hash_by_name(hash, &h));
    if (!cfg->has_cert) {
        return SDTLS_ERR_STATE;
    }
    SDTLS_TRY(sdtls__pkey_spki(cfg->cert.key, spki, sizeof(spki), &len));
    return sdtls__fp_format(h, spki, len, out, cap);
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
    size_t msg = max_handshake_msg ? max_handshake_msg : SDTLS_DEFAULT_MAX_MSG;
    size_t ra = reassembly ? reassembly : msg + msg / 8 + 64;
    size_t tr = transcript ? transcript : SDTLS_DEFAULT_TRANSCRIPT;
    size_t dg = max_datagram ? max_datagram : SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 512;
    /* The next message must always fit the pool (reasm.c evicts later ones for it). */
    if (cfg == NULL || msg < 256 || msg > 0xffffff || ra < msg + (msg + 7) / 8 || tr < 1024 ||
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

int sdtls_fingerprint_file(const char *path, char *out, size_t cap)
{
    uint8_t *der;
    size_t len;
    if (path == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__x509_read_file_der(path, &der, &len));
    int rc = sdtls__fp_format(SDTLS_HASH_SHA256, der, len, out, cap);
    free(der);
    return rc;
}

int sdtls_keygen_files(sdtls_key_type type, const char *cert_path, const char *key_path,
                       char *fingerprint, size_t cap)
{
    uint8_t serial[16];
    sdtls__cert c;
    if (cert_path == NULL || key_path == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__rand_bytes(NULL, serial, sizeof(serial)));
    SDTLS_TRY(sdtls__cert_generate(type, "sdtls", serial, &c));
    int rc = sdtls__cert_write_files(&c, cert_path, key_path);
    if (rc == 0 && fingerprint != NULL) {
        rc = sdtls__fp_format(SDTLS_HASH_SHA256, c.der[0], c.der_len[0], fingerprint, cap);
    }
    sdtls__cert_clear(&c);
    return rc;
}
