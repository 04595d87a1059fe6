/* DTLS 1.2 client: ClientHello out; HelloVerifyRequest, ServerHello, Certificate,
 * ServerKeyExchange, CertificateRequest, ServerHelloDone in; final flight; Finished. */
#include "dtls12.h"
#include "hs12_int.h"

#include <stdio.h>

/* HelloVerifyRequests accepted in one handshake. */
#define SDTLS_MAX_HVR 8

static int write_client_hello(sdtls__hs12 *hs, sdtls_wr *w)
{
    const sdtls_config *cfg = hs->cfg;
    size_t mark, ext, e;
    int any_ecdhe = 0, any_cert = 0;
    SDTLS_TRY(sdtls_wr_u16(w, SDTLS_VERSION_DTLS12));
    SDTLS_TRY(sdtls_wr_bytes(w, hs->out->client_random, 32));
    SDTLS_TRY(sdtls_wr_vec(w, 1, NULL, 0)); /* no session resumption */
    SDTLS_TRY(sdtls_wr_vec(w, 1, hs->cookie, hs->cookie_len));
    SDTLS_TRY(sdtls_wr_vec_open(w, 2, &mark));
    for (size_t i = 0; i < cfg->n_suites; i++) {
        const sdtls__suite *s = sdtls__suite_by_id(cfg->suites[i]);
        if (s != NULL && sdtls__suite_usable(cfg, s, SDTLS_ROLE_CLIENT)) {
            SDTLS_TRY(sdtls_wr_u16(w, cfg->suites[i]));
            any_ecdhe |= SDTLS_KX_HAS_ECDHE(s->kx);
            any_cert |= SDTLS_KX_HAS_CERT(s->kx);
        }
    }
    SDTLS_TRY(sdtls_wr_vec_close(w, 2, mark));
    SDTLS_TRY(sdtls_wr_u8(w, 1));
    SDTLS_TRY(sdtls_wr_u8(w, 0)); /* null compression */

    SDTLS_TRY(sdtls_wr_vec_open(w, 2, &ext));
    if (hs->server_name[0] != 0) {
        size_t len = strlen(hs->server_name);
        SDTLS_TRY(sdtls_wr_u16(w, 0));
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(len + 5)));
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(len + 3)));
        SDTLS_TRY(sdtls_wr_u8(w, 0));
        SDTLS_TRY(sdtls_wr_vec(w, 2, hs->server_name, len));
    }
    /* RFC 8422 4: the ECC extensions go with ECC suites; signature_algorithms (RFC 5246
     * 7.4.1.4.1) with suites a certificate signs. A PSK-only node leaves all three out, which
     * keeps its ClientHello small on constrained links. */
    if (any_ecdhe) {
        SDTLS_TRY(sdtls_wr_u16(w, 10)); /* supported_groups */
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &e));
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &mark));
        for (size_t i = 0; i < cfg->n_groups; i++) {
            SDTLS_TRY(sdtls_wr_u16(w, cfg->groups[i]));
        }
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, mark));
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, e));
        SDTLS_TRY(sdtls_wr_u16(w, 11)); /* ec_point_formats: uncompressed */
        SDTLS_TRY(sdtls_wr_u16(w, 2));
        SDTLS_TRY(sdtls_wr_u8(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 0));
    }
    if (any_cert) {
        SDTLS_TRY(sdtls_wr_u16(w, 13)); /* signature_algorithms */
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &e));
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &mark));
        for (size_t i = 0; i < sdtls__n_sig_schemes; i++) {
            SDTLS_TRY(sdtls_wr_u16(w, sdtls__sig_schemes[i]));
        }
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, mark));
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, e));
    }
    if (cfg->n_srtp > 0) {
        SDTLS_TRY(sdtls_wr_u16(w, 14)); /* use_srtp (RFC 5764 4.1.1) */
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &e));
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &mark));
        for (size_t i = 0; i < cfg->n_srtp; i++) {
            SDTLS_TRY(sdtls_wr_u16(w, cfg->srtp[i]));
        }
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, mark));
        SDTLS_TRY(sdtls_wr_vec(w, 1, cfg->srtp_mki, cfg->srtp_mki_len));
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, e));
    }
    if (cfg->rpk) {
        /* RFC 7250 4.1: we take only a raw key from the server, and send ours raw. */
        SDTLS_TRY(sdtls_wr_u16(w, 20));
        SDTLS_TRY(sdtls_wr_u16(w, 2));
        SDTLS_TRY(sdtls_wr_u8(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 2));
        if (cfg->has_cert) {
            SDTLS_TRY(sdtls_wr_u16(w, 19));
            SDTLS_TRY(sdtls_wr_u16(w, 2));
            SDTLS_TRY(sdtls_wr_u8(w, 1));
            SDTLS_TRY(sdtls_wr_u8(w, 2));
        }
    }
    if (cfg->heartbeat != 0) {
        SDTLS_TRY(sdtls_wr_u16(w, 15));
        SDTLS_TRY(sdtls_wr_u16(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, (uint8_t)cfg->heartbeat));
    }
    if (cfg->cid_len >= 0) {
        SDTLS_TRY(sdtls_wr_u16(w, 54)); /* connection_id (RFC 9146 3) */
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(1 + hs->out->rx_cid_len)));
        SDTLS_TRY(sdtls_wr_vec(w, 1, hs->out->rx_cid, hs->out->rx_cid_len));
    }
    if (cfg->alpn_len > 0) {
        SDTLS_TRY(sdtls_wr_u16(w, 16));
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(cfg->alpn_len + 2)));
        SDTLS_TRY(sdtls_wr_vec(w, 2, cfg->alpn, cfg->alpn_len));
    }
    if (cfg->legacy_cbc) {
        SDTLS_TRY(sdtls_wr_u16(w, 22)); /* encrypt_then_mac (RFC 7366) */
        SDTLS_TRY(sdtls_wr_u16(w, 0));
    }
    SDTLS_TRY(sdtls_wr_u16(w, 23)); /* extended_master_secret */
    SDTLS_TRY(sdtls_wr_u16(w, 0));
    SDTLS_TRY(sdtls_wr_u16(w, 0xff01)); /* renegotiation_info, initial handshake */
    SDTLS_TRY(sdtls_wr_u16(w, 1));
    SDTLS_TRY(sdtls_wr_u8(w, 0));
    return sdtls_wr_vec_close(w, 2, ext);
}

static int send_client_hello(sdtls__hs12 *hs)
{
    uint8_t buf[1024];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    if (write_client_hello(hs, &w) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls__flight_reset(&hs->flight);
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_CLIENT_HELLO, 0, buf, w.len));
    sdtls__hs12_send_flight(hs, 1);
    return 0;
}

int sdtls__hs12_start(sdtls__hs12 *hs)
{
    if (hs->role != SDTLS_ROLE_CLIENT || hs->state != C_START) {
        return SDTLS_ERR_STATE;
    }
    if (sdtls__random(hs->cfg, hs->out->client_random, 32) != 0) {
        return SDTLS_ERR_CRYPTO;
    }
    SDTLS_TRY(send_client_hello(hs));
    hs->state = C_WAIT_SH;
    return 0;
}

static int on_hello_verify_request(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                   uint16_t seq, sdtls__hs_state *next)
{
    const uint8_t *cookie;
    uint8_t cookie_len;
    SDTLS_TRY(sdtls__hvr_parse(body, len, &cookie, &cookie_len));
    if (hs->cookie_len != 0 && cookie_len == hs->cookie_len &&
        memcmp(cookie, hs->cookie, cookie_len) == 0) {
        *next = C_WAIT_SH; /* the same cookie again: our ClientHello already carries it */
        return 0;
    }
    /* A cookie can expire while our ClientHello is being lost, so a few more requests are
     * normal; a server asking without end is broken or hostile. */
    if (++hs->hvr_count > SDTLS_MAX_HVR) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server sent %d HelloVerifyRequests: giving up",
                   hs->hvr_count);
        return SDTLS_ALERT(UNEXPECTED_MESSAGE);
    }
    memcpy(hs->cookie, cookie, cookie_len);
    hs->cookie_len = cookie_len;
    /* RFC 6347 4.2.6: neither the first ClientHello nor HelloVerifyRequest is hashed. */
    hs->tr_len = 0;
    SDTLS_TRY(send_client_hello(hs));
    *next = C_WAIT_SH;
    return 0;
}

static int on_server_hello(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                           sdtls__hs_state *next)
{
    sdtls_rd r = sdtls_rd_init(body, len), sid;
    uint16_t version, suite_id;
    const uint8_t *random;
    uint8_t comp;
    sdtls__exts ext;
    SDTLS_TRY(sdtls_rd_u16(&r, &version));
    SDTLS_TRY(sdtls_rd_take(&r, 32, &random));
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 0, 32, &sid));
    SDTLS_TRY(sdtls_rd_u16(&r, &suite_id));
    SDTLS_TRY(sdtls_rd_u8(&r, &comp));
    SDTLS_TRY(sdtls__exts_parse(&r, 0, &ext));
    if (version != SDTLS_VERSION_DTLS12) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server chose version 0x%04x; we speak DTLS 1.2",
                   version);
        return SDTLS_ALERT(PROTOCOL_VERSION);
    }
    const sdtls__suite *suite = NULL;
    for (size_t i = 0; i < hs->cfg->n_suites; i++) {
        const sdtls__suite *s = sdtls__suite_by_id(suite_id);
        if (hs->cfg->suites[i] == suite_id && s != NULL &&
            sdtls__suite_usable(hs->cfg, s, SDTLS_ROLE_CLIENT)) {
            suite = s;
        }
    }
    if (suite == NULL || comp != 0) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server chose suite 0x%04x we did not offer",
                   suite_id);
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    if (ext.has_reneg && ext.reneg_len != 0) {
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    if (!ext.ems && hs->cfg->require_ems) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR,
                   "server does not support extended master secret (RFC 7627), which we "
                   "require");
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    char alpn[256] = "";
    if (ext.has_alpn) {
        sdtls_rd name;
        SDTLS_TRY(sdtls_rd_vec(&ext.alpn, 1, 1, 255, &name));
        SDTLS_TRY(sdtls_rd_done(&ext.alpn));
        size_t n = sdtls_rd_left(&name);
        /* The server must pick one of ours. */
        int found = 0;
        sdtls_rd ours = sdtls_rd_init(hs->cfg->alpn, hs->cfg->alpn_len), o;
        while (!found && sdtls_rd_vec(&ours, 1, 1, 255, &o) == 0) {
            found = sdtls_rd_left(&o) == n && memcmp(o.p, name.p, n) == 0;
        }
        if (!found) {
            return SDTLS_ALERT(ILLEGAL_PARAMETER);
        }
        memcpy(alpn, name.p, n);
        alpn[n] = 0;
    }
    uint16_t srtp = 0;
    if (ext.has_srtp) {
        /* RFC 5764 4.1.1: exactly one profile, one we offered, and our MKI if any. */
        if (hs->cfg->n_srtp == 0) {
            return SDTLS_ALERT(UNSUPPORTED_EXTENSION);
        }
        sdtls_rd p = ext.srtp_profiles;
        SDTLS_TRY(sdtls_rd_u16(&p, &srtp));
        int offered = 0;
        for (size_t i = 0; i < hs->cfg->n_srtp; i++) {
            offered |= hs->cfg->srtp[i] == srtp;
        }
        if (sdtls_rd_left(&p) != 0 || !offered ||
            (ext.srtp_mki_len != 0 && (ext.srtp_mki_len != hs->cfg->srtp_mki_len ||
                                       memcmp(ext.srtp_mki, hs->cfg->srtp_mki,
                                              ext.srtp_mki_len) != 0))) {
            sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server's use_srtp answer is not one we offered");
            return SDTLS_ALERT(ILLEGAL_PARAMETER);
        }
    } else if (hs->cfg->n_srtp > 0) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR,
                   "server did not negotiate DTLS-SRTP (use_srtp), which we require");
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    /* RFC 7366 2: encrypt-then-MAC comes with a CBC suite only, and ours require it. */
    if ((ext.etm && !suite->cbc) || (suite->cbc && !ext.etm)) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server chose %s %s encrypt-then-MAC", suite->name,
                   ext.etm ? "with" : "without");
        return ext.etm ? SDTLS_ALERT(UNSUPPORTED_EXTENSION) : SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    if (ext.has_cid && hs->cfg->cid_len < 0) {
        return SDTLS_ALERT(UNSUPPORTED_EXTENSION);
    }
    if ((ext.has_server_cert_type || ext.has_client_cert_type) && !hs->cfg->rpk) {
        return SDTLS_ALERT(UNSUPPORTED_EXTENSION);
    }
    int rpk_peer = ext.has_server_cert_type && ext.server_cert_type == 2;
    int rpk_ours = ext.has_client_cert_type && ext.client_cert_type == 2;
    if (hs->cfg->rpk && SDTLS_KX_HAS_CERT(suite->kx) && !rpk_peer) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server does not use a raw public key (RFC 7250)");
        return SDTLS_ALERT(UNSUPPORTED_CERTIFICATE);
    }
    if ((ext.has_server_cert_type && !rpk_peer) || (ext.has_client_cert_type && !rpk_ours)) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER); /* a type we did not offer */
    }
    hs->rpk_peer = rpk_peer;
    hs->rpk_ours = rpk_ours;
    if (ext.heartbeat_mode != 0 && hs->cfg->heartbeat == 0) {
        return SDTLS_ALERT(UNSUPPORTED_EXTENSION);
    }
    hs->out->peer_hb_mode = ext.heartbeat_mode;
    /* commit */
    hs->out->cid_on = ext.has_cid;
    if (ext.has_cid) {
        memcpy(hs->out->tx_cid, ext.cid, ext.cid_len);
        hs->out->tx_cid_len = ext.cid_len;
    }
    hs->out->srtp_profile = srtp;
    if (srtp != 0) {
        memcpy(hs->out->srtp_mki, hs->cfg->srtp_mki, hs->cfg->srtp_mki_len);
        hs->out->srtp_mki_len = hs->cfg->srtp_mki_len;
    }
    memcpy(hs->out->server_random, random, 32);
    hs->out->suite = suite;
    hs->peer_ems = ext.ems;
    memcpy(hs->out->alpn, alpn, sizeof(alpn));
    sdtls__log(hs->cfg, SDTLS_LOG_INFO, "server chose %s%s", suite->name,
               ext.ems ? ", extended master secret" : "");
    *next = SDTLS_KX_HAS_CERT(suite->kx) ? C_WAIT_CERT : C_WAIT_SKE;
    return 0;
}

static int offered_group(const sdtls__hs12 *hs, uint16_t g)
{
    for (size_t i = 0; i < hs->cfg->n_groups; i++) {
        if (hs->cfg->groups[i] == g) {
            return 1;
        }
    }
    return 0;
}

/* Our ephemeral key for the server's group, and the shared secret into hs->pms. */
static int client_ecdhe(sdtls__hs12 *hs, uint16_t group, const sdtls_rd *point)
{
    uint8_t pub[133];
    size_t pub_len;
    const sdtls__kex_class *kc = hs->cfg->profile->kex;
    sdtls__kex *kex = NULL;
    if (kc->make((sdtls_group_id)group, &kex, pub, sizeof(pub), &pub_len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    if (kc->derive(kex, point->p, sdtls_rd_left(point), hs->pms, sizeof(hs->pms),
                   &hs->pms_len) != 0) {
        kc->release(kex);
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    kc->release(hs->kex);
    hs->kex = kex;
    memcpy(hs->kex_pub, pub, pub_len);
    hs->kex_pub_len = pub_len;
    hs->out->group = group;
    return 0;
}

/* RFC 4279 2 (hint only) and RFC 5489 2 (hint, then unsigned ECDH parameters). */
static int on_psk_key_exchange(sdtls__hs12 *hs, const uint8_t *body, size_t len)
{
    sdtls_rd r = sdtls_rd_init(body, len), hint, point;
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 0, 0xffff, &hint));
    if (hs->out->suite->kx == SDTLS_KX_PSK) {
        return sdtls_rd_done(&r);
    }
    uint8_t curve_type;
    uint16_t group;
    SDTLS_TRY(sdtls_rd_u8(&r, &curve_type));
    SDTLS_TRY(sdtls_rd_u16(&r, &group));
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 1, 255, &point));
    SDTLS_TRY(sdtls_rd_done(&r));
    if (curve_type != 3 || !offered_group(hs, group)) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    return client_ecdhe(hs, group, &point);
}

static int on_server_key_exchange(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                  uint16_t seq, sdtls__hs_state *next)
{
    if (SDTLS_KX_IS_PSK(hs->out->suite->kx)) {
        SDTLS_TRY(on_psk_key_exchange(hs, body, len));
        *next = C_WAIT_SHD;
        return 0;
    }
    sdtls_rd r = sdtls_rd_init(body, len), point, sig;
    uint8_t curve_type;
    uint16_t group, scheme;
    SDTLS_TRY(sdtls_rd_u8(&r, &curve_type));
    SDTLS_TRY(sdtls_rd_u16(&r, &group));
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 1, 255, &point));
    size_t params_len = len - sdtls_rd_left(&r);
    SDTLS_TRY(sdtls_rd_u16(&r, &scheme));
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 1, 0xffff, &sig));
    SDTLS_TRY(sdtls_rd_done(&r));
    /* RFC 8422 5.4: named_curve (3) is the only curve type. */
    if (curve_type != 3 || !offered_group(hs, group)) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    SDTLS_TRY(hs->cfg->profile->pki->verify_key_exchange(hs, body, params_len, scheme, sig.p,
                                                          sdtls_rd_left(&sig)));
    SDTLS_TRY(client_ecdhe(hs, group, &point));
    *next = C_WAIT_CR_SHD;
    return 0;
}

static int on_server_hello_done(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                                sdtls__hs_state *next)
{
    sdtls_kx kx = hs->out->suite->kx;
    if (len != 0) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    /* Only plain PSK may skip ServerKeyExchange (no hint); the others need the ECDH share. */
    if (SDTLS_KX_HAS_ECDHE(kx) && hs->kex == NULL) {
        return SDTLS_ALERT(UNEXPECTED_MESSAGE);
    }
    uint8_t buf[2 + 128 + 1 + 133]; /* PSK identity, our ECDH share */
    sdtls__flight_reset(&hs->flight);
    uint16_t scheme = 0;
    if (hs->cert_requested) {
        SDTLS_TRY(hs->cfg->profile->pki->queue_client_certificate(hs, &scheme));
    }
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    if (SDTLS_KX_IS_PSK(kx)) {
        if (sdtls_wr_vec(&w, 2, hs->cfg->psk_identity, hs->cfg->psk_identity_len) != 0) {
            return SDTLS_ALERT(INTERNAL_ERROR);
        }
        SDTLS_TRY(sdtls__hs12_psk_premaster(hs, hs->cfg->psk, hs->cfg->psk_len));
    }
    if (SDTLS_KX_HAS_ECDHE(kx) && sdtls_wr_vec(&w, 1, hs->kex_pub, hs->kex_pub_len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_CLIENT_KEY_EXCHANGE, 0, buf, w.len));
    SDTLS_TRY(sdtls__hs12_derive_keys(hs));
    if (scheme != 0) {
        SDTLS_TRY(hs->cfg->profile->pki->queue_certificate_verify(hs, scheme));
    }
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_CCS, 0, NULL, 0));
    uint8_t fin[12];
    SDTLS_TRY(sdtls__hs12_finished(hs, 1, fin));
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_FINISHED, 1, fin, sizeof(fin)));
    sdtls__hs12_send_flight(hs, 1);
    *next = C_WAIT_CCS;
    return 0;
}

static int on_ccs(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                  sdtls__hs_state *next)
{
    *next = C_WAIT_FIN;
    return 0;
}

static int on_finished(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                       sdtls__hs_state *next)
{
    SDTLS_TRY(sdtls__hs12_check_finished(hs, body, len));
    /* Our final flight needs no more retransmission: the server had all of it. */
    sdtls__flight_reset(&hs->flight);
    *next = HS_DONE;
    return 0;
}

const sdtls__hs_row sdtls__hs12_client_rows[] = {
    {C_WAIT_SH, SDTLS_HS_HELLO_VERIFY_REQUEST, on_hello_verify_request, NEXT(C_WAIT_SH), 0},
    {C_WAIT_SH, SDTLS_HS_SERVER_HELLO, on_server_hello, NEXT(C_WAIT_CERT) | NEXT(C_WAIT_SKE), 1},
    {C_WAIT_SKE, SDTLS_HS_SERVER_KEY_EXCHANGE, on_server_key_exchange,
     NEXT(C_WAIT_CR_SHD) | NEXT(C_WAIT_SHD), 1},
    {C_WAIT_SKE, SDTLS_HS_SERVER_HELLO_DONE, on_server_hello_done, NEXT(C_WAIT_CCS), 1},
    {C_WAIT_CR_SHD, SDTLS_HS_SERVER_HELLO_DONE, on_server_hello_done, NEXT(C_WAIT_CCS), 1},
    {C_WAIT_SHD, SDTLS_HS_SERVER_HELLO_DONE, on_server_hello_done, NEXT(C_WAIT_CCS), 1},
    {C_WAIT_CCS, SDTLS_HS_CCS, on_ccs, NEXT(C_WAIT_FIN), 0},
    {C_WAIT_FIN, SDTLS_HS_FINISHED, on_finished, NEXT(HS_DONE), 1},
};
const size_t sdtls__hs12_n_client_rows = SDTLS_ARRAY_LEN(sdtls__hs12_client_rows);
