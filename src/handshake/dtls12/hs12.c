/* The DTLS 1.2 dispatcher and what both roles share: certificates and signature choice. */
#include "dtls12.h"
#include "hs12_int.h"

#include <stdio.h>

void sdtls__hs12_init(sdtls__hs12 *hs, const sdtls_config *cfg, sdtls_role role,
                      uint8_t *reasm_pool, size_t reasm_cap, uint8_t *flight_buf,
                      size_t flight_cap, uint8_t *tr, size_t tr_cap)
{
    memset(hs, 0, sizeof(*hs));
    hs->cfg = cfg;
    hs->role = role;
    hs->state = role == SDTLS_ROLE_CLIENT ? C_START : S_WAIT_CH;
    sdtls__reasm_init(&hs->reasm, reasm_pool, reasm_cap, cfg->max_msg);
    if (role == SDTLS_ROLE_CLIENT) {
        hs->reasm.seq_known = 1; /* the server's first message is message_seq 0 */
    }
    sdtls__flight_init(&hs->flight, flight_buf, flight_cap);
    hs->tr = tr;
    hs->tr_cap = tr_cap;
}

void sdtls__hs12_clear(sdtls__hs12 *hs)
{
    sdtls__kex_free(hs->kex);
    hs->kex = NULL;
    sdtls__pkey_free(hs->peer_key);
    hs->peer_key = NULL;
    sdtls__wipe(hs->pms, sizeof(hs->pms));
    if (hs->tr != NULL) {
        sdtls__wipe(hs->tr, hs->tr_len);
    }
}

int sdtls__hs12_write_certificate(const sdtls__hs12 *hs, sdtls_wr *w)
{
    size_t outer;
    if (hs->rpk_ours && hs->cfg->has_cert) {
        /* RFC 7250 3: opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>. */
        size_t len;
        SDTLS_TRY(sdtls_wr_vec_open(w, 3, &outer));
        SDTLS_TRY(sdtls__pkey_spki(hs->cfg->cert.key, w->buf + w->len, w->cap - w->len, &len));
        w->len += len;
        return sdtls_wr_vec_close(w, 3, outer);
    }
    SDTLS_TRY(sdtls_wr_vec_open(w, 3, &outer));
    if (hs->cfg->has_cert) {
        for (size_t i = 0; i < hs->cfg->cert.count; i++) {
            SDTLS_TRY(sdtls_wr_vec(w, 3, hs->cfg->cert.der[i], hs->cfg->cert.der_len[i]));
        }
    }
    return sdtls_wr_vec_close(w, 3, outer);
}

int sdtls__hs12_pick_sig(const sdtls__hs12 *hs, uint16_t *out)
{
    const sdtls__pkey *key = hs->cfg->cert.key;
    sdtls_pkey_type kt = sdtls__pkey_type(key);
    /* Two passes: first a scheme whose curve matches an ECDSA key, then any that fits. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sdtls__n_sig_schemes; i++) {
            uint16_t s = sdtls__sig_schemes[i];
            if (!sdtls__sig_fits_key((sdtls_sig_scheme)s, key, pass == 1)) {
                continue;
            }
            if (pass == 0 && kt != SDTLS_PKEY_EC_P256 && kt != SDTLS_PKEY_EC_P384) {
                continue;
            }
            if (hs->n_peer_sigalgs == 0) {
                *out = s;
                return 0;
            }
            for (size_t j = 0; j < hs->n_peer_sigalgs; j++) {
                if (hs->peer_sigalgs[j] == s) {
                    *out = s;
                    return 0;
                }
            }
        }
    }
    return SDTLS_ALERT(HANDSHAKE_FAILURE);
}

int sdtls__hs12_offered_sig(uint16_t s)
{
    for (size_t i = 0; i < sdtls__n_sig_schemes; i++) {
        if (sdtls__sig_schemes[i] == s) {
            return 1;
        }
    }
    return 0;
}

int sdtls__hs12_check_peer_chain(sdtls__hs12 *hs, const uint8_t *body, size_t len)
{
    enum { MAX_CHAIN = 10 };
    const uint8_t *der[MAX_CHAIN];
    size_t der_len[MAX_CHAIN];
    size_t n = 0;
    sdtls_rd r = sdtls_rd_init(body, len), list;
    SDTLS_TRY(sdtls_rd_vec(&r, 3, 0, 0xffffff, &list));
    SDTLS_TRY(sdtls_rd_done(&r));
    if (hs->rpk_peer) {
        /* A raw key is one SubjectPublicKeyInfo; empty means no certificate at all. */
        if (sdtls_rd_left(&list) == 0) {
            return 1;
        }
        der[0] = list.p;
        der_len[0] = sdtls_rd_left(&list);
        n = 1;
        list.p = list.end;
    }
    while (sdtls_rd_left(&list) > 0) {
        sdtls_rd c;
        SDTLS_TRY(sdtls_rd_vec(&list, 3, 1, 0xffffff, &c));
        if (n == MAX_CHAIN) {
            sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "peer certificate chain longer than %d",
                       MAX_CHAIN);
            return SDTLS_ALERT(BAD_CERTIFICATE);
        }
        der[n] = c.p;
        der_len[n] = sdtls_rd_left(&c);
        n++;
    }
    if (n == 0) {
        return 1; /* empty: the caller decides */
    }
    sdtls__pkey *key = NULL;
    if ((hs->rpk_peer ? sdtls__pkey_from_spki(der[0], der_len[0], &key)
                      : sdtls__x509_pubkey(der[0], der_len[0], &key)) != 0) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "peer %s does not parse",
                   hs->rpk_peer ? "raw public key" : "certificate");
        return SDTLS_ALERT(BAD_CERTIFICATE);
    }
    uint8_t fp[32];
    if (sdtls__hash(SDTLS_HASH_SHA256, der[0], der_len[0], fp) != 0) {
        sdtls__pkey_free(key);
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    /* Kept even if refused below, so the application can show what the peer presented. */
    hs->out->has_peer_cert = 1;
    memcpy(hs->out->peer_cert_sha256, fp, 32);
    int alert = 0;
    char why[160] = "";
    switch (hs->cfg->verify) {
    case SDTLS_VERIFY_NONE:
        break;
    case SDTLS_VERIFY_CA:
        if (hs->rpk_peer) {
            snprintf(why, sizeof(why), "a raw public key cannot be checked against a CA");
            alert = SDTLS_ALERT_UNSUPPORTED_CERTIFICATE;
            break;
        }
        if (hs->cfg->trust == NULL) {
            snprintf(why, sizeof(why), "no CA file configured to verify the peer");
            alert = SDTLS_ALERT_UNKNOWN_CA;
            break;
        }
        /* Only a client checks a name: the server name a client sends says whom it wants,
         * not who it is. */
        alert = sdtls__trust_verify(hs->cfg->trust, der, der_len, n,
                                    hs->role == SDTLS_ROLE_CLIENT && hs->server_name[0]
                                        ? hs->server_name
                                        : NULL,
                                    why, sizeof(why));
        break;
    case SDTLS_VERIFY_FINGERPRINT: {
        uint8_t got[SDTLS_HASH_MAX];
        if (hs->pin == NULL) {
            snprintf(why, sizeof(why), "no fingerprint configured to verify the peer");
            alert = SDTLS_ALERT_BAD_CERTIFICATE;
            break;
        }
        if (sdtls__hash(hs->pin_hash, der[0], der_len[0], got) != 0) {
            alert = SDTLS_ALERT_INTERNAL_ERROR;
            break;
        }
        if (!sdtls__ct_equal(got, hs->pin, hs->pin_len)) {
            char have[200];
            if (sdtls__fp_format(hs->pin_hash, der[0], der_len[0], have, sizeof(have)) != 0) {
                have[0] = 0;
            }
            snprintf(why, sizeof(why), "fingerprint mismatch: peer has %.120s", have);
            alert = SDTLS_ALERT_BAD_CERTIFICATE;
        }
        break;
    }
    case SDTLS_VERIFY_CALLBACK:
        if (hs->cfg->verify_cb == NULL) {
            alert = SDTLS_ALERT_BAD_CERTIFICATE;
            snprintf(why, sizeof(why), "no verification callback");
            break;
        }
        alert = hs->cfg->verify_cb(hs->cfg->verify_user, der, der_len, n);
        if (alert != 0) {
            snprintf(why, sizeof(why), "rejected by the application");
        }
        break;
    default:
        alert = SDTLS_ALERT_INTERNAL_ERROR;
        break;
    }
    if (alert != 0) {
        sdtls__pkey_free(key);
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "peer certificate refused (%s): %s",
                   sdtls_alert_name(alert), why);
        return SDTLS_ERR_LOCAL_ALERT(alert);
    }
    sdtls__pkey_free(hs->peer_key);
    hs->peer_key = key;
    hs->out->has_peer_cert = 1;
    memcpy(hs->out->peer_cert_sha256, fp, 32);
    return 0;
}

/* ---- dispatcher ------------------------------------------------------------------------- */

static const sdtls__hs_row *find_row(const sdtls__hs12 *hs, int type)
{
    const sdtls__hs_row *rows = hs->role == SDTLS_ROLE_CLIENT ? sdtls__hs12_client_rows
                                                              : sdtls__hs12_server_rows;
    size_t n = hs->role == SDTLS_ROLE_CLIENT ? sdtls__hs12_n_client_rows
                                             : sdtls__hs12_n_server_rows;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].state == hs->state && rows[i].type == type) {
            return &rows[i];
        }
    }
    return NULL;
}

static int dispatch(sdtls__hs12 *hs, int type, const uint8_t *body, size_t len, uint16_t seq)
{
    const sdtls__hs_row *row = find_row(hs, type);
    if (row == NULL) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "unexpected %s in state %d",
                   sdtls__hs_type_name(type), (int)hs->state);
        return SDTLS_ALERT(UNEXPECTED_MESSAGE);
    }
    sdtls__log(hs->cfg, SDTLS_LOG_INFO, "recv %s (%zu bytes)", sdtls__hs_type_name(type), len);
    hs->tr_before = hs->tr_len;
    if (row->tr_auto && type != SDTLS_HS_CCS) {
        SDTLS_TRY(sdtls__tr_add(hs, type, seq, body, len));
    }
    sdtls__hs_state next = hs->state;
    int rc = row->fn(hs, body, len, seq, &next);
    if (rc != 0) {
        return rc;
    }
    if ((row->next_mask & (1u << next)) == 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    hs->state = next;
    return 0;
}

int sdtls__hs12_on_record(sdtls__hs12 *hs, const uint8_t *pt, size_t len)
{
    sdtls_rd r = sdtls_rd_init(pt, len);
    int old = 0, fresh = 0;
    while (sdtls_rd_left(&r) > 0) {
        sdtls__hs_hdr h;
        const uint8_t *frag;
        if (sdtls__hs_hdr_parse(&r, &h, &frag) != 0) {
            /* A malformed fragment invalidates the rest of this record. */
            return fresh ? 0 : SDTLS_DROP;
        }
        if (!hs->reasm.seq_known && h.type != SDTLS_HS_CLIENT_HELLO) {
            continue; /* a server learns the message_seq from the ClientHello only */
        }
        sdtls__log(hs->cfg, SDTLS_LOG_DEBUG, "fragment %s seq=%u offset=%u length=%u of %u",
                   sdtls__hs_type_name(h.type), h.seq, (unsigned)h.frag_off,
                   (unsigned)h.frag_len, (unsigned)h.length);
        int rc = sdtls__reasm_add(&hs->reasm, &h, frag);
        if (rc == SDTLS_REASM_OLD) {
            old = 1;
            continue;
        }
        if (rc == SDTLS_DROP) {
            continue;
        }
        if (rc != 0) {
            return rc;
        }
        fresh = 1;
        sdtls__hs_hdr m;
        const uint8_t *body;
        while (sdtls__reasm_peek(&hs->reasm, &m, &body)) {
            if (hs->state == HS_DONE) {
                /* A new handshake after ours: renegotiation, refused (RFC 5746 4.4). */
                sdtls__reasm_pop(&hs->reasm);
                return SDTLS_HS12_RENEGOTIATION;
            }
            /* RFC 6347 4.2.4: partial reads (some messages of the peer's flight) neither
             * change the flight nor reset its timer; the handler that completes the peer's
             * flight replaces ours. */
            rc = dispatch(hs, m.type, body, m.length, m.seq);
            sdtls__reasm_pop(&hs->reasm);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return old && !fresh ? SDTLS_REASM_OLD : 0;
}

int sdtls__hs12_on_ccs(sdtls__hs12 *hs)
{
    const sdtls__hs_row *row = find_row(hs, SDTLS_HS_CCS);
    if (row == NULL) {
        /* Early (reordered ahead of its flight) or repeated: the flight will come again. */
        return SDTLS_DROP;
    }
    return dispatch(hs, SDTLS_HS_CCS, NULL, 0, 0);
}

void sdtls__hs12_send_flight(sdtls__hs12 *hs, int with_timer)
{
    if (hs->cfg->log_fn != NULL && hs->cfg->log_level >= SDTLS_LOG_INFO) {
        char line[256];
        size_t n = 0;
        for (size_t i = 0; i < hs->flight.n && n < sizeof(line); i++) {
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? ", " : "",
                                  sdtls__hs_type_name(hs->flight.msg[i].type));
        }
        sdtls__log(hs->cfg, SDTLS_LOG_INFO, "send flight: %s (%zu bytes)", line,
                   hs->flight.used);
    }
    sdtls__flight_start(&hs->flight, &hs->cfg->timer, with_timer);
}
