/* Codecs shared by both roles and by the stateless cookie screen: extensions, ClientHello,
 * HelloVerifyRequest. */
#include "dtls12.h"

#define EXT_SERVER_NAME 0
#define EXT_SUPPORTED_GROUPS 10
#define EXT_EC_POINT_FORMATS 11
#define EXT_SIGNATURE_ALGORITHMS 13
#define EXT_USE_SRTP 14
#define EXT_HEARTBEAT 15
#define EXT_ALPN 16
#define EXT_ETM 22
#define EXT_EMS 23
#define EXT_CLIENT_CERT_TYPE 19
#define EXT_SERVER_CERT_TYPE 20
#define EXT_CONNECTION_ID 54
#define EXT_RENEGOTIATION_INFO 0xff01

static int parse_sni(sdtls_rd body, sdtls__exts *e)
{
    sdtls_rd list, name;
    uint8_t type;
    SDTLS_TRY(sdtls_rd_vec(&body, 2, 1, 0xffff, &list));
    SDTLS_TRY(sdtls_rd_done(&body));
    while (sdtls_rd_left(&list) > 0) {
        SDTLS_TRY(sdtls_rd_u8(&list, &type));
        SDTLS_TRY(sdtls_rd_vec(&list, 2, 1, 0xffff, &name));
        if (type == 0 && !e->has_sni) { /* host_name */
            e->has_sni = 1;
            e->sni = name.p;
            e->sni_len = sdtls_rd_left(&name);
        }
    }
    return 0;
}

int sdtls__exts_parse(sdtls_rd *r, int is_client_hello, sdtls__exts *e)
{
    memset(e, 0, sizeof(*e));
    if (sdtls_rd_left(r) == 0) {
        return 0; /* no extensions block at all */
    }
    sdtls_rd all;
    uint16_t seen[64]; /* RFC 5246 7.4.1.4: no more than one extension of each type */
    size_t n_seen = 0;
    SDTLS_TRY(sdtls_rd_vec(r, 2, 0, 0xffff, &all));
    SDTLS_TRY(sdtls_rd_done(r));
    while (sdtls_rd_left(&all) > 0) {
        uint16_t type;
        sdtls_rd body;
        SDTLS_TRY(sdtls_rd_u16(&all, &type));
        SDTLS_TRY(sdtls_rd_vec(&all, 2, 0, 0xffff, &body));
        for (size_t i = 0; i < n_seen; i++) {
            if (seen[i] == type) {
                return SDTLS_ALERT(ILLEGAL_PARAMETER);
            }
        }
        if (n_seen == SDTLS_ARRAY_LEN(seen)) {
            return SDTLS_ALERT(DECODE_ERROR); /* more extension types than exist in use */
        }
        seen[n_seen++] = type;
        switch (type) {
        case EXT_SERVER_NAME:
            if (is_client_hello) {
                SDTLS_TRY(parse_sni(body, e));
            }
            break;
        case EXT_SUPPORTED_GROUPS:
            SDTLS_TRY(sdtls_rd_vec(&body, 2, 2, 0xfffe, &e->groups));
            SDTLS_TRY(sdtls_rd_done(&body));
            if (sdtls_rd_left(&e->groups) % 2 != 0) {
                return SDTLS_ALERT(DECODE_ERROR); /* a list of 2-byte entries */
            }
            e->has_groups = 1;
            break;
        case EXT_EC_POINT_FORMATS:
            SDTLS_TRY(sdtls_rd_vec(&body, 1, 1, 0xff, &e->point_formats));
            SDTLS_TRY(sdtls_rd_done(&body));
            e->has_point_formats = 1;
            break;
        case EXT_SIGNATURE_ALGORITHMS:
            SDTLS_TRY(sdtls_rd_vec(&body, 2, 2, 0xfffe, &e->sigalgs));
            SDTLS_TRY(sdtls_rd_done(&body));
            if (sdtls_rd_left(&e->sigalgs) % 2 != 0) {
                return SDTLS_ALERT(DECODE_ERROR);
            }
            e->has_sigalgs = 1;
            break;
        case EXT_USE_SRTP: {
            /* RFC 5764 4.1.1: profiles<2..2^16-1>, srtp_mki<0..255>. */
            sdtls_rd mki;
            SDTLS_TRY(sdtls_rd_vec(&body, 2, 2, 0xfffe, &e->srtp_profiles));
            SDTLS_TRY(sdtls_rd_vec(&body, 1, 0, 255, &mki));
            SDTLS_TRY(sdtls_rd_done(&body));
            if (sdtls_rd_left(&e->srtp_profiles) % 2 != 0) {
                return SDTLS_ALERT(DECODE_ERROR);
            }
            e->srtp_mki = mki.p;
            e->srtp_mki_len = sdtls_rd_left(&mki);
            e->has_srtp = 1;
            break;
        }
        case EXT_CLIENT_CERT_TYPE:
        case EXT_SERVER_CERT_TYPE: {
            int is_client = type == EXT_CLIENT_CERT_TYPE;
            if (is_client_hello) {
                SDTLS_TRY(sdtls_rd_vec(&body, 1, 1, 255,
                                       is_client ? &e->client_cert_types : &e->server_cert_types));
            } else {
                SDTLS_TRY(sdtls_rd_u8(&body, is_client ? &e->client_cert_type
                                                       : &e->server_cert_type));
            }
            SDTLS_TRY(sdtls_rd_done(&body));
            *(is_client ? &e->has_client_cert_type : &e->has_server_cert_type) = 1;
            break;
        }
        case EXT_HEARTBEAT:
            /* RFC 6520 2: HeartbeatMode, 1 or 2; anything else is illegal_parameter. */
            SDTLS_TRY(sdtls_rd_u8(&body, &e->heartbeat_mode));
            SDTLS_TRY(sdtls_rd_done(&body));
            if (e->heartbeat_mode != 1 && e->heartbeat_mode != 2) {
                return SDTLS_ALERT(ILLEGAL_PARAMETER);
            }
            break;
        case EXT_CONNECTION_ID: {
            /* RFC 9146 3: opaque cid<0..2^8-1>; we use at most SDTLS_MAX_CID. */
            sdtls_rd cid;
            SDTLS_TRY(sdtls_rd_vec(&body, 1, 0, 255, &cid));
            SDTLS_TRY(sdtls_rd_done(&body));
            if (sdtls_rd_left(&cid) > SDTLS_MAX_CID) {
                return SDTLS_ALERT(ILLEGAL_PARAMETER);
            }
            e->cid = cid.p;
            e->cid_len = sdtls_rd_left(&cid);
            e->has_cid = 1;
            break;
        }
        case EXT_ALPN:
            SDTLS_TRY(sdtls_rd_vec(&body, 2, 2, 0xffff, &e->alpn));
            SDTLS_TRY(sdtls_rd_done(&body));
            e->has_alpn = 1;
            break;
        case EXT_ETM:
            SDTLS_TRY(sdtls_rd_done(&body));
            e->etm = 1;
            break;
        case EXT_EMS:
            SDTLS_TRY(sdtls_rd_done(&body));
            e->ems = 1;
            break;
        case EXT_RENEGOTIATION_INFO: {
            sdtls_rd info;
            SDTLS_TRY(sdtls_rd_vec(&body, 1, 0, 0xff, &info));
            SDTLS_TRY(sdtls_rd_done(&body));
            e->has_reneg = 1;
            e->reneg_len = (uint8_t)sdtls_rd_left(&info);
            break;
        }
        default:
            /* Unknown extensions are skipped, never fatal. */
            break;
        }
    }
    return 0;
}

int sdtls__client_hello_parse_prefix(sdtls_rd *r, sdtls__client_hello *ch)
{
    sdtls_rd sid, cookie;
    memset(ch, 0, sizeof(*ch));
    SDTLS_TRY(sdtls_rd_u16(r, &ch->version));
    SDTLS_TRY(sdtls_rd_take(r, 32, &ch->random));
    SDTLS_TRY(sdtls_rd_vec(r, 1, 0, 32, &sid));
    SDTLS_TRY(sdtls_rd_vec(r, 1, 0, 255, &cookie));
    ch->sid = sid.p;
    ch->sid_len = (uint8_t)sdtls_rd_left(&sid);
    ch->cookie = cookie.p;
    ch->cookie_len = (uint8_t)sdtls_rd_left(&cookie);
    return 0;
}

int sdtls__client_hello_parse(const uint8_t *body, size_t len, sdtls__client_hello *ch)
{
    sdtls_rd r = sdtls_rd_init(body, len);
    sdtls_rd comp;
    SDTLS_TRY(sdtls__client_hello_parse_prefix(&r, ch));
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 2, 0xfffe, &ch->suites));
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 1, 0xff, &comp));
    /* RFC 5246 7.4.1.2: the null compression method must be offered. */
    int has_null = 0;
    while (sdtls_rd_left(&comp) > 0) {
        uint8_t m;
        SDTLS_TRY(sdtls_rd_u8(&comp, &m));
        has_null |= m == 0;
    }
    if (!has_null) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    if (sdtls_rd_left(&ch->suites) % 2 != 0) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    return sdtls__exts_parse(&r, 1, &ch->ext);
}

int sdtls__hvr_write(sdtls_wr *w, const uint8_t *cookie, size_t cookie_len)
{
    /* RFC 6347 4.2.1: server_version in HelloVerifyRequest is DTLS 1.0 for compatibility. */
    SDTLS_TRY(sdtls_wr_u16(w, SDTLS_VERSION_DTLS10));
    return sdtls_wr_vec(w, 1, cookie, cookie_len);
}

int sdtls__hvr_parse(const uint8_t *body, size_t len, const uint8_t **cookie, uint8_t *cookie_len)
{
    sdtls_rd r = sdtls_rd_init(body, len), c;
    uint16_t version;
    SDTLS_TRY(sdtls_rd_u16(&r, &version));
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 0, 255, &c));
    SDTLS_TRY(sdtls_rd_done(&r));
    if (version != SDTLS_VERSION_DTLS10 && version != SDTLS_VERSION_DTLS12) {
        return SDTLS_ALERT(PROTOCOL_VERSION);
    }
    *cookie = c.p;
    *cookie_len = (uint8_t)sdtls_rd_left(&c);
    return 0;
}

int sdtls__u16_list_has(sdtls_rd list, uint16_t v)
{
    uint16_t x;
    while (sdtls_rd_u16(&list, &x) == 0) {
        if (x == v) {
            return 1;
        }
    }
    return 0;
}
