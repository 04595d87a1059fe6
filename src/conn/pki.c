/*
 * The certificate side of the public API: our certificate and key, how the peer is verified
 * (CA file, pinned fingerprint, callback, raw public keys), fingerprints, key generation.
 * Part of the build only with the certificate engine (not in SDTLS_PROFILE=psk-ccm8, where
 * these functions do not exist and a program that calls them does not link).
 */
#define _POSIX_C_SOURCE 200809L

#include "conn.h"

#include "../handshake/dtls12/hs12_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

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

int sdtls_conn_set_peer_fingerprint(sdtls_conn *c, const char *fingerprint)
{
    if (c == NULL || fingerprint == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (c->hs == NULL || c->established) {
        return SDTLS_ERR_STATE;
    }
    SDTLS_TRY(sdtls__fp_parse(fingerprint, &c->pin_hash, c->pin, &c->pin_len));
    c->hs->pin = c->pin;
    c->hs->pin_len = c->pin_len;
    c->hs->pin_hash = c->pin_hash;
    return 0;
}

int sdtls_conn_peer_fingerprint(const sdtls_conn *c, char *out, size_t cap)
{
    if (c == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (!c->params.has_peer_cert) {
        return SDTLS_ERR_STATE;
    }
    if (cap < 8 + 3 * 32) {
        return SDTLS_ERR_BUF_SMALL;
    }
    size_t k = (size_t)snprintf(out, cap, "sha-256 ");
    for (size_t i = 0; i < 32; i++) {
        k += (size_t)snprintf(out + k, cap - k, i ? ":%02X" : "%02X", c->params.peer_cert_sha256[i]);
    }
    return 0;
}

/* The build profile's hook: what sdtls_config_free releases besides the config itself. */
void sdtls__config_pki_clear(sdtls_config *cfg)
{
    sdtls__cert_clear(&cfg->cert);
    sdtls__trust_free(cfg->trust);
    cfg->trust = NULL;
    cfg->has_cert = 0;
}
