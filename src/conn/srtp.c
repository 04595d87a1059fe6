/* DTLS-SRTP keys (RFC 5764 4.2) and RFC 7983 demultiplexing. */
#include "conn.h"

#include <stdio.h>

typedef struct {
    uint16_t ids[8];
    size_t n;
} profile_list;

static int add_profile(void *ctx, const char *item, size_t len)
{
    profile_list *l = ctx;
    const sdtls__srtp_profile *prof = sdtls__srtp_by_name(item, len);
    if (prof == NULL) {
        return SDTLS_ERR_UNSUPPORTED;
    }
    if (l->n == SDTLS_ARRAY_LEN(l->ids)) {
        return SDTLS_ERR_ARG;
    }
    l->ids[l->n++] = prof->id;
    return 0;
}

int sdtls_config_set_srtp_profiles(sdtls_config *cfg, const char *list)
{
    profile_list l = {{0}, 0};
    if (cfg == NULL || list == NULL) {
        return SDTLS_ERR_ARG;
    }
    SDTLS_TRY(sdtls__each_item(list, add_profile, &l));
    memcpy(cfg->srtp, l.ids, l.n * sizeof(l.ids[0]));
    cfg->n_srtp = l.n;
    return 0;
}

int sdtls_config_set_srtp_mki(sdtls_config *cfg, const uint8_t *mki, size_t len)
{
    if (cfg == NULL || len > sizeof(cfg->srtp_mki) || (mki == NULL && len > 0)) {
        return SDTLS_ERR_ARG;
    }
    if (len > 0) {
        memcpy(cfg->srtp_mki, mki, len);
    }
    cfg->srtp_mki_len = len;
    return 0;
}

const char *sdtls_conn_srtp_profile_name(const sdtls_conn *c)
{
    const sdtls__srtp_profile *p;
    if (c == NULL || !c->established || (p = sdtls__srtp_by_id(c->params.srtp_profile)) == NULL) {
        return "";
    }
    return p->name;
}

int sdtls_conn_srtp_keys(const sdtls_conn *c, sdtls_srtp_keys *out)
{
    const sdtls__srtp_profile *p;
    if (c == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (!c->established || (p = sdtls__srtp_by_id(c->params.srtp_profile)) == NULL) {
        return SDTLS_ERR_STATE;
    }
    memset(out, 0, sizeof(*out));
    out->profile = p->id;
    out->profile_name = p->name;
    out->key_len = p->key_len;
    out->salt_len = p->salt_len;
    out->material_len = 2 * ((size_t)p->key_len + p->salt_len);
    SDTLS_TRY(sdtls_conn_export(c, "EXTRACTOR-dtls_srtp", NULL, 0, out->material,
                                out->material_len));
    /* RFC 5764 4.2: client_write_SRTP_master_key, server_write_SRTP_master_key,
     * client_write_SRTP_master_salt, server_write_SRTP_master_salt. */
    const uint8_t *m = out->material;
    memcpy(out->client_key, m, p->key_len);
    memcpy(out->server_key, m + p->key_len, p->key_len);
    memcpy(out->client_salt, m + 2 * p->key_len, p->salt_len);
    memcpy(out->server_salt, m + 2 * p->key_len + p->salt_len, p->salt_len);
    memcpy(out->mki, c->params.srtp_mki, c->params.srtp_mki_len);
    out->mki_len = c->params.srtp_mki_len;
    return 0;
}

sdtls_demux sdtls_demux_classify(const uint8_t *dgram, size_t len)
{
    if (dgram == NULL || len == 0) {
        return SDTLS_DEMUX_UNKNOWN;
    }
    uint8_t b = dgram[0];
    if (b <= 3) {
        return SDTLS_DEMUX_STUN;
    }
    if (b >= 16 && b <= 19) {
        return SDTLS_DEMUX_ZRTP;
    }
    if (b >= 20 && b <= 63) {
        return SDTLS_DEMUX_DTLS;
    }
    if (b >= 64 && b <= 79) {
        return SDTLS_DEMUX_TURN_CHANNEL;
    }
    if (b >= 128 && b <= 191) {
        return SDTLS_DEMUX_RTP;
    }
    return SDTLS_DEMUX_UNKNOWN;
}
