/* DTLS 1.2 server: ClientHello in (cookie, negotiation); ServerHello..ServerHelloDone out;
 * client Certificate, ClientKeyExchange, CertificateVerify, Finished in; final flight. */
#include "../cookie.h"
#include "dtls12.h"
#include "hs12_int.h"

#include <stdio.h>

static int list_has(sdtls_rd list, int present, uint8_t v)
{
    uint8_t b;
    while (present && sdtls_rd_u8(&list, &b) == 0) {
        if (b == v) {
            return 1;
        }
    }
    return 0;
}

static void list_suites(sdtls_rd suites, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    uint16_t id;
    while (n + 1 < cap && sdtls_rd_u16(&suites, &id) == 0) {
        const sdtls__suite *s = sdtls__suite_by_id(id);
        int k = s ? snprintf(out + n, cap - n, "%s%s", n ? " " : "", s->name)
                  : snprintf(out + n, cap - n, "%s0x%04x", n ? " " : "", id);
        if (k < 0) {
            break;
        }
        n += (size_t)k;
    }
}

static int choose_group(const sdtls__hs12 *hs, const sdtls__client_hello *ch, uint16_t *out)
{
    for (size_t i = 0; i < hs->cfg->n_groups; i++) {
        uint16_t g = hs->cfg->groups[i];
        if (!ch->ext.has_groups) {
            /* No supported_groups: RFC 8422 5.1 lets us assume the NIST curves. */
            if (g == SDTLS_GROUP_SECP256R1) {
                *out = g;
                return 0;
            }
            continue;
        }
        sdtls_rd r = ch->ext.groups;
        uint16_t cg;
        while (sdtls_rd_u16(&r, &cg) == 0) {
            if (cg == g) {
                *out = g;
                return 0;
            }
        }
    }
    return SDTLS_ALERT(HANDSHAKE_FAILURE);
}

static int choose_alpn(sdtls__hs12 *hs, const sdtls__client_hello *ch)
{
    hs->out->alpn[0] = 0;
    if (!ch->ext.has_alpn || hs->cfg->alpn_len == 0) {
        return 0;
    }
    sdtls_rd ours = sdtls_rd_init(hs->cfg->alpn, hs->cfg->alpn_len), o;
    while (sdtls_rd_vec(&ours, 1, 1, 255, &o) == 0) {
        sdtls_rd theirs = ch->ext.alpn, t;
        while (sdtls_rd_vec(&theirs, 1, 1, 255, &t) == 0) {
            if (sdtls_rd_left(&t) == sdtls_rd_left(&o) &&
                memcmp(t.p, o.p, sdtls_rd_left(&o)) == 0) {
                memcpy(hs->out->alpn, o.p, sdtls_rd_left(&o));
                hs->out->alpn[sdtls_rd_left(&o)] = 0;
                return 0;
            }
        }
    }
    /* RFC 7301 3.2. */
    return SDTLS_ALERT(NO_APPLICATION_PROTOCOL);
}

static int choose_srtp(sdtls__hs12 *hs, const sdtls__client_hello *ch)
{
    hs->out->srtp_profile = 0;
    if (hs->cfg->n_srtp == 0) {
        return 0; /* not configured: the extension is ignored */
    }
    if (!ch->ext.has_srtp) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR,
                   "client does not offer DTLS-SRTP (use_srtp), which we require");
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    /* Our preference among the client's profiles (RFC 5764 4.1.1). */
    for (size_t i = 0; i < hs->cfg->n_srtp; i++) {
        sdtls_rd r = ch->ext.srtp_profiles;
        uint16_t p;
        while (sdtls_rd_u16(&r, &p) == 0) {
            if (p == hs->cfg->srtp[i]) {
                hs->out->srtp_profile = p;
                memcpy(hs->out->srtp_mki, ch->ext.srtp_mki, ch->ext.srtp_mki_len);
                hs->out->srtp_mki_len = ch->ext.srtp_mki_len;
                return 0;
            }
        }
    }
    sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "no shared DTLS-SRTP protection profile");
    return SDTLS_ALERT(HANDSHAKE_FAILURE);
}

static int send_hello_verify_request(sdtls__hs12 *hs, const sdtls__client_hello *ch,
                                     uint16_t seq)
{
    sdtls__cookie_input in = {hs->peer_addr, hs->peer_addr_len, ch->version, ch->random,
                              ch->sid, ch->sid_len};
    uint8_t cookie[SDTLS_COOKIE_LEN], body[3 + SDTLS_COOKIE_LEN];
    if (sdtls__cookie_make(hs->cfg->cookie_key, &in, hs->now_ms, cookie) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls_wr w = sdtls_wr_init(body, sizeof(body));
    if (sdtls__hvr_write(&w, cookie, sizeof(cookie)) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    /* RFC 6347 4.2.2: HelloVerifyRequest carries the ClientHello's message_seq; it is not
     * retransmitted (the client's timer drives the exchange) nor hashed. */
    sdtls__flight_reset(&hs->flight);
    if (sdtls__flight_add(&hs->flight, SDTLS_HS_HELLO_VERIFY_REQUEST, seq, 0, body, w.len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls__hs12_send_flight(hs, 0);
    return 0;
}

static int write_server_hello(sdtls__hs12 *hs, sdtls_wr *w)
{
    size_t ext;
    SDTLS_TRY(sdtls_wr_u16(w, SDTLS_VERSION_DTLS12));
    SDTLS_TRY(sdtls_wr_bytes(w, hs->out->server_random, 32));
    SDTLS_TRY(sdtls_wr_vec(w, 1, NULL, 0)); /* no session cache: empty session_id */
    SDTLS_TRY(sdtls_wr_u16(w, hs->out->suite->id));
    SDTLS_TRY(sdtls_wr_u8(w, 0));
    SDTLS_TRY(sdtls_wr_vec_open(w, 2, &ext));
    if (hs->peer_reneg) {
        /* RFC 5746 3.6: only to a client that signalled it (extension or SCSV). */
        SDTLS_TRY(sdtls_wr_u16(w, 0xff01));
        SDTLS_TRY(sdtls_wr_u16(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 0));
    }
    if (hs->out->suite->cbc) {
        SDTLS_TRY(sdtls_wr_u16(w, 22)); /* encrypt_then_mac: only with a CBC suite */
        SDTLS_TRY(sdtls_wr_u16(w, 0));
    }
    if (hs->peer_ems) {
        SDTLS_TRY(sdtls_wr_u16(w, 23));
        SDTLS_TRY(sdtls_wr_u16(w, 0));
    }
    if (hs->peer_point_formats) {
        SDTLS_TRY(sdtls_wr_u16(w, 11));
        SDTLS_TRY(sdtls_wr_u16(w, 2));
        SDTLS_TRY(sdtls_wr_u8(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 0));
    }
    if (hs->out->peer_hb_mode != 0) {
        SDTLS_TRY(sdtls_wr_u16(w, 15)); /* heartbeat: our mode */
        SDTLS_TRY(sdtls_wr_u16(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, (uint8_t)hs->cfg->heartbeat));
    }
    if (hs->rpk_ours) {
        SDTLS_TRY(sdtls_wr_u16(w, 20)); /* server_certificate_type: RawPublicKey */
        SDTLS_TRY(sdtls_wr_u16(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 2));
    }
    if (hs->rpk_peer) {
        SDTLS_TRY(sdtls_wr_u16(w, 19)); /* client_certificate_type: RawPublicKey */
        SDTLS_TRY(sdtls_wr_u16(w, 1));
        SDTLS_TRY(sdtls_wr_u8(w, 2));
    }
    if (hs->out->cid_on) {
        SDTLS_TRY(sdtls_wr_u16(w, 54));
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(1 + hs->out->rx_cid_len)));
        SDTLS_TRY(sdtls_wr_vec(w, 1, hs->out->rx_cid, hs->out->rx_cid_len));
    }
    if (hs->out->srtp_profile != 0) {
        size_t e;
        SDTLS_TRY(sdtls_wr_u16(w, 14));
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &e));
        SDTLS_TRY(sdtls_wr_u16(w, 2));
        SDTLS_TRY(sdtls_wr_u16(w, hs->out->srtp_profile));
        SDTLS_TRY(sdtls_wr_vec(w, 1, hs->out->srtp_mki, hs->out->srtp_mki_len));
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, e));
    }
    if (hs->out->alpn[0] != 0) {
        size_t n = strlen(hs->out->alpn), m;
        SDTLS_TRY(sdtls_wr_u16(w, 16));
        SDTLS_TRY(sdtls_wr_u16(w, (uint16_t)(n + 3)));
        SDTLS_TRY(sdtls_wr_vec_open(w, 2, &m));
        SDTLS_TRY(sdtls_wr_vec(w, 1, hs->out->alpn, n));
        SDTLS_TRY(sdtls_wr_vec_close(w, 2, m));
    }
    return sdtls_wr_vec_close(w, 2, ext);
}

static int write_server_key_exchange(sdtls__hs12 *hs, sdtls_wr *w)
{
    uint8_t pub[133];
    size_t pub_len;
    sdtls_kx kx = hs->out->suite->kx;
    if (SDTLS_KX_IS_PSK(kx)) {
        SDTLS_TRY(sdtls_wr_vec(w, 2, hs->cfg->psk_hint, hs->cfg->psk_hint_len));
        if (kx == SDTLS_KX_PSK) {
            return 0;
        }
    }
    if (hs->cfg->profile->kex->make((sdtls_group_id)hs->out->group, &hs->kex, pub, sizeof(pub),
                                    &pub_len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    size_t start = w->len;
    SDTLS_TRY(sdtls_wr_u8(w, 3)); /* named_curve */
    SDTLS_TRY(sdtls_wr_u16(w, hs->out->group));
    SDTLS_TRY(sdtls_wr_vec(w, 1, pub, pub_len));
    /* RFC 5489 2: with ECDHE-PSK the parameters follow the hint, unsigned (the PSK
     * authenticates); otherwise the certificate's key signs them. */
    if (kx == SDTLS_KX_ECDHE_PSK) {
        return 0;
    }
    return hs->cfg->profile->pki->sign_key_exchange(hs, w, start);
}

static int on_client_hello(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                           sdtls__hs_state *next)
{
    sdtls__client_hello ch;
    SDTLS_TRY(sdtls__client_hello_parse(body, len, &ch));
    /* DTLS versions count down: 0xFEFD is 1.2, 0xFEFF is 1.0. */
    if (ch.version > SDTLS_VERSION_DTLS12) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "client offers only version 0x%04x", ch.version);
        return SDTLS_ALERT(PROTOCOL_VERSION);
    }
    if (hs->cfg->cookie_on) {
        sdtls__cookie_input in = {hs->peer_addr, hs->peer_addr_len, ch.version, ch.random,
                                  ch.sid, ch.sid_len};
        if (!sdtls__cookie_check(hs->cfg->cookie_key, hs->cfg->cookie_lifetime_ms, &in,
                                 hs->now_ms, ch.cookie, ch.cookie_len)) {
            sdtls__log(hs->cfg, SDTLS_LOG_INFO, "ClientHello without a valid cookie: "
                                                "HelloVerifyRequest");
            *next = S_WAIT_CH;
            return send_hello_verify_request(hs, &ch, seq);
        }
    }
    /* RFC 5746 3.6: empty renegotiation_info, or the SCSV, on an initial handshake. */
    if (ch.ext.has_reneg && ch.ext.reneg_len != 0) {
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    if (!ch.ext.ems && hs->cfg->require_ems) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR,
                   "client does not offer extended master secret (RFC 7627), which we require");
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    hs->n_peer_sigalgs = 0;
    if (ch.ext.has_sigalgs) {
        sdtls_rd a = ch.ext.sigalgs;
        uint16_t s;
        while (sdtls_rd_u16(&a, &s) == 0 && hs->n_peer_sigalgs < SDTLS_ARRAY_LEN(hs->peer_sigalgs)) {
            hs->peer_sigalgs[hs->n_peer_sigalgs++] = s;
        }
    }
    uint16_t group = 0, scheme = 0;
    const sdtls__suite *chosen = NULL;
    const sdtls__hs12_pki *pki = hs->cfg->profile->pki;
    int have_group = choose_group(hs, &ch, &group) == 0;
    int no_sig = 0; /* a certificate suite failed for want of a signature scheme */
    for (size_t i = 0; i < hs->cfg->n_suites && chosen == NULL; i++) {
        const sdtls__suite *s = sdtls__suite_by_id(hs->cfg->suites[i]);
        if (s == NULL || !sdtls__suite_usable(hs->cfg, s, SDTLS_ROLE_SERVER) ||
            (s->cbc && !ch.ext.etm) || (SDTLS_KX_HAS_ECDHE(s->kx) && !have_group) ||
            !sdtls__u16_list_has(ch.suites, s->id)) {
            continue;
        }
        /* usable() promises the certificate engine for a certificate suite. */
        int why = SDTLS_KX_HAS_CERT(s->kx) ? pki->suite_ok(hs, &ch, s, &scheme) : 0;
        no_sig |= why == SDTLS_PKI_NO_SIG;
        if (why == 0) {
            chosen = s;
        }
    }
    if (chosen == NULL) {
        char theirs[400], ours[200];
        uint8_t our_ids[2 * SDTLS_MAX_SUITES];
        size_t n_ours = 0;
        for (size_t i = 0; i < hs->cfg->n_suites; i++) {
            const sdtls__suite *s = sdtls__suite_by_id(hs->cfg->suites[i]);
            uint16_t unused;
            if (s != NULL && sdtls__suite_usable(hs->cfg, s, SDTLS_ROLE_SERVER) &&
                (!SDTLS_KX_HAS_CERT(s->kx) ||
                 pki->suite_ok(hs, &ch, s, &unused) != SDTLS_PKI_KEY_TYPE)) {
                sdtls_put_u16(our_ids + 2 * n_ours++, s->id);
            }
        }
        list_suites(ch.suites, theirs, sizeof(theirs));
        list_suites(sdtls_rd_init(our_ids, 2 * n_ours), ours, sizeof(ours));
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR,
                   "no shared cipher suite%s%s: we offered %s; the peer offered %s",
                   have_group ? "" : " (no shared group)",
                   no_sig ? " (no signature scheme for our key)" : "", ours, theirs);
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    SDTLS_TRY(choose_alpn(hs, &ch));
    SDTLS_TRY(choose_srtp(hs, &ch));
    if (ch.ext.has_sni && ch.ext.sni_len < sizeof(hs->server_name)) {
        memcpy(hs->server_name, ch.ext.sni, ch.ext.sni_len);
        hs->server_name[ch.ext.sni_len] = 0;
    }

    /* commit */
    memcpy(hs->out->client_random, ch.random, 32);
    if (sdtls__random(hs->cfg, hs->out->server_random, 32) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    hs->out->suite = chosen;
    hs->out->group = SDTLS_KX_HAS_ECDHE(chosen->kx) ? group : 0;
    hs->sig_scheme = scheme;
    hs->peer_ems = ch.ext.ems;
    hs->peer_point_formats = ch.ext.has_point_formats;
    hs->peer_reneg = ch.ext.has_reneg || sdtls__u16_list_has(ch.suites, 0x00FF);
    hs->out->peer_hb_mode = hs->cfg->heartbeat != 0 ? ch.ext.heartbeat_mode : 0;
    /* RFC 7250 4.2: a raw key when the client takes one and we are set up for it. */
    hs->rpk_ours = hs->rpk_peer = 0;
    if (hs->cfg->rpk && SDTLS_KX_HAS_CERT(chosen->kx)) {
        hs->rpk_ours = list_has(ch.ext.server_cert_types, ch.ext.has_server_cert_type, 2);
        hs->rpk_peer = hs->cfg->client_auth_request &&
                       list_has(ch.ext.client_cert_types, ch.ext.has_client_cert_type, 2);
    }
    if (SDTLS_KX_HAS_CERT(chosen->kx) && !hs->rpk_ours && ch.ext.has_server_cert_type &&
        !list_has(ch.ext.server_cert_types, 1, 0)) {
        return SDTLS_ALERT(UNSUPPORTED_CERTIFICATE); /* the client takes no X.509 */
    }
    /* RFC 9146 3: we answer with our CID only if the client offered the extension. */
    hs->out->cid_on = ch.ext.has_cid && hs->cfg->cid_len >= 0;
    if (hs->out->cid_on) {
        memcpy(hs->out->tx_cid, ch.ext.cid, ch.ext.cid_len);
        hs->out->tx_cid_len = ch.ext.cid_len;
    }
    hs->send_seq = seq; /* RFC 6347 4.2.2: our message_seq follows the ClientHello's */
    hs->tr_len = 0;
    SDTLS_TRY(sdtls__tr_add(hs, SDTLS_HS_CLIENT_HELLO, seq, body, len));
    sdtls__log(hs->cfg, SDTLS_LOG_INFO, "chose %s, group %s", chosen->name,
               sdtls__group_name(group));

    /* ServerHello (under 1 KiB with every extension) or ServerKeyExchange (hint, ECDH
     * share and a signature of up to 2 KiB). */
    uint8_t buf[4096];
    sdtls_wr w;
    sdtls__flight_reset(&hs->flight);
    w = sdtls_wr_init(buf, sizeof(buf));
    if (write_server_hello(hs, &w) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_SERVER_HELLO, 0, buf, w.len));
    int with_cert = SDTLS_KX_HAS_CERT(chosen->kx);
    if (with_cert) {
        SDTLS_TRY(pki->queue_certificate(hs));
    }
    /* RFC 4279 2: plain PSK sends ServerKeyExchange only to carry an identity hint. */
    if (chosen->kx != SDTLS_KX_PSK || hs->cfg->psk_hint_len > 0) {
        w = sdtls_wr_init(buf, sizeof(buf));
        int rc = write_server_key_exchange(hs, &w);
        if (rc != 0) {
            return SDTLS_IS_LOCAL_ALERT(rc) ? rc : SDTLS_ALERT(INTERNAL_ERROR);
        }
        SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_SERVER_KEY_EXCHANGE, 0, buf, w.len));
    }
    int request_cert = with_cert && hs->cfg->client_auth_request;
    if (request_cert) {
        SDTLS_TRY(pki->queue_certificate_request(hs));
    }
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_SERVER_HELLO_DONE, 0, NULL, 0));
    sdtls__hs12_send_flight(hs, 1);
    *next = request_cert ? S_WAIT_CERT : S_WAIT_CKE;
    return 0;
}

static int on_client_key_exchange(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                  uint16_t seq, sdtls__hs_state *next)
{
    sdtls_rd r = sdtls_rd_init(body, len), point, identity;
    sdtls_kx kx = hs->out->suite->kx;
    if (SDTLS_KX_IS_PSK(kx)) {
        SDTLS_TRY(sdtls_rd_vec(&r, 2, 0, 0xffff, &identity));
    }
    if (SDTLS_KX_HAS_ECDHE(kx)) {
        SDTLS_TRY(sdtls_rd_vec(&r, 1, 1, 255, &point));
    }
    SDTLS_TRY(sdtls_rd_done(&r));
    if (SDTLS_KX_HAS_ECDHE(kx) &&
        hs->cfg->profile->kex->derive(hs->kex, point.p, sdtls_rd_left(&point), hs->pms,
                                      sizeof(hs->pms), &hs->pms_len) != 0) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    if (SDTLS_KX_IS_PSK(kx)) {
        uint8_t key[64];
        int key_len = -1;
        size_t id_len = sdtls_rd_left(&identity);
        if (hs->cfg->psk_cb != NULL) {
            key_len = hs->cfg->psk_cb(hs->cfg->psk_user, identity.p, id_len, key, sizeof(key));
        } else if (hs->cfg->psk_len > 0 && id_len == hs->cfg->psk_identity_len &&
                   sdtls__ct_equal(identity.p, hs->cfg->psk_identity, id_len)) {
            memcpy(key, hs->cfg->psk, hs->cfg->psk_len);
            key_len = (int)hs->cfg->psk_len;
        }
        if (key_len <= 0 || key_len > (int)sizeof(key)) {
            sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "unknown PSK identity (%zu bytes)", id_len);
            sdtls__wipe(key, sizeof(key));
            return SDTLS_ALERT(UNKNOWN_PSK_IDENTITY);
        }
        int rc = sdtls__hs12_psk_premaster(hs, key, (size_t)key_len);
        sdtls__wipe(key, sizeof(key));
        SDTLS_TRY(rc);
    }
    SDTLS_TRY(sdtls__hs12_derive_keys(hs));
    *next = hs->peer_sent_cert ? S_WAIT_CV : S_WAIT_CCS;
    return 0;
}

static int on_ccs(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                  sdtls__hs_state *next)
{
    *next = S_WAIT_FIN;
    return 0;
}

static int on_finished(sdtls__hs12 *hs, const uint8_t *body, size_t len, uint16_t seq,
                       sdtls__hs_state *next)
{
    SDTLS_TRY(sdtls__hs12_check_finished(hs, body, len));
    uint8_t fin[12];
    sdtls__flight_reset(&hs->flight);
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_CCS, 0, NULL, 0));
    SDTLS_TRY(sdtls__hs12_finished(hs, 0, fin));
    SDTLS_TRY(sdtls__hs12_queue(hs, SDTLS_HS_FINISHED, 1, fin, sizeof(fin)));
    /* RFC 6347 4.2.4: the final flight is kept and sent again only when the client
     * retransmits its own final flight. */
    sdtls__hs12_send_flight(hs, 0);
    *next = HS_DONE;
    return 0;
}

const sdtls__hs_row sdtls__hs12_server_rows[] = {
    {S_WAIT_CH, SDTLS_HS_CLIENT_HELLO, on_client_hello,
     NEXT(S_WAIT_CH) | NEXT(S_WAIT_CERT) | NEXT(S_WAIT_CKE), 0},
    {S_WAIT_CKE, SDTLS_HS_CLIENT_KEY_EXCHANGE, on_client_key_exchange,
     NEXT(S_WAIT_CV) | NEXT(S_WAIT_CCS), 1},
    {S_WAIT_CCS, SDTLS_HS_CCS, on_ccs, NEXT(S_WAIT_FIN), 0},
    {S_WAIT_FIN, SDTLS_HS_FINISHED, on_finished, NEXT(HS_DONE), 1},
};
const size_t sdtls__hs12_n_server_rows = SDTLS_ARRAY_LEN(sdtls__hs12_server_rows);
