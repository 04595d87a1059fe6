/*
 * DTLS 1.2 certificate and raw-public-key authentication: the peer's Certificate (X.509
 * chain or RFC 7250 SubjectPublicKeyInfo) and its verification, our Certificate, the
 * signatures in ServerKeyExchange and CertificateVerify, and CertificateRequest.
 *
 * Design notes
 *  - Everything here is reached through sdtls__hs12_pki_x509 (hs12_int.h), which the build
 *    profile puts in the config; client.c and server.c never call this file directly, so a
 *    PSK-only build links none of it.
 *  - hs->peer_key is the only state this file owns; clear() releases it.
 */
#include "dtls12.h"
#include "hs12_int.h"

#include <stdio.h>

static int offered_sig(uint16_t s)
{
    for (size_t i = 0; i < sdtls__n_sig_schemes; i++) {
        if (sdtls__sig_schemes[i] == s) {
            return 1;
        }
    }
    return 0;
}

/* A signature scheme for our key that the peer accepts (any, if it sent no list). */
static int pick_sig(const sdtls__hs12 *hs, uint16_t *out)
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

static int write_certificate(const sdtls__hs12 *hs, sdtls_wr *w)
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

/* The peer's Certificate: parse, verify as configured, keep its key in hs->peer_key.
 * Returns 1 for an empty message (the caller decides), 0, or a fatal code. */
static int check_peer_chain(sdtls__hs12 *hs, const uint8_t *body, size_t len)
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
        return 1;
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
    return 0;
}

/* A signature by the peer's key with a scheme we offered and that fits the key. */
static int verify_peer(const sdtls__hs12 *hs, uint16_t scheme, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len)
{
    if (!offered_sig(scheme) || !sdtls__sig_fits_key((sdtls_sig_scheme)scheme, hs->peer_key, 1)) {
        return SDTLS_ALERT(ILLEGAL_PARAMETER);
    }
    if (sdtls__verify(hs->peer_key, (sdtls_sig_scheme)scheme, msg, len, sig, sig_len) != 0) {
        return SDTLS_ALERT(DECRYPT_ERROR);
    }
    return 0;
}

static int key_fits_suite(const sdtls__suite *s, sdtls_pkey_type t)
{
    if (s->kx == SDTLS_KX_ECDHE_RSA) {
        return t == SDTLS_PKEY_RSA;
    }
    return t == SDTLS_PKEY_EC_P256 || t == SDTLS_PKEY_EC_P384 || t == SDTLS_PKEY_ED25519;
}

/* ---- client ----------------------------------------------------------------------------- */

static int client_on_certificate(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                 uint16_t seq, sdtls__hs_state *next)
{
    int rc = check_peer_chain(hs, body, len);
    if (rc == 1) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server sent an empty certificate chain");
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    SDTLS_TRY(rc);
    if (!key_fits_suite(hs->out->suite, sdtls__pkey_type(hs->peer_key))) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "server key type does not match %s",
                   hs->out->suite->name);
        return SDTLS_ALERT(UNSUPPORTED_CERTIFICATE);
    }
    *next = C_WAIT_SKE;
    return 0;
}

static int verify_key_exchange(const sdtls__hs12 *hs, const uint8_t *params, size_t params_len,
                               uint16_t scheme, const uint8_t *sig, size_t sig_len)
{
    /* Signed: client_random || server_random || ServerECDHParams (at most 4 + 255 bytes). */
    uint8_t signed_data[64 + 4 + 255];
    if (params_len > sizeof(signed_data) - 64) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    memcpy(signed_data, hs->out->client_random, 32);
    memcpy(signed_data + 32, hs->out->server_random, 32);
    memcpy(signed_data + 64, params, params_len);
    int rc = verify_peer(hs, scheme, signed_data, 64 + params_len, sig, sig_len);
    if (rc == SDTLS_ALERT(DECRYPT_ERROR)) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "ServerKeyExchange signature does not verify");
    }
    return rc;
}

static int client_on_certificate_request(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                         uint16_t seq, sdtls__hs_state *next)
{
    sdtls_rd r = sdtls_rd_init(body, len), types, algs, cas;
    SDTLS_TRY(sdtls_rd_vec(&r, 1, 1, 255, &types));
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 2, 0xfffe, &algs));
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 0, 0xffff, &cas));
    SDTLS_TRY(sdtls_rd_done(&r));
    if (sdtls_rd_left(&algs) % 2 != 0) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    hs->n_peer_sigalgs = 0;
    while (sdtls_rd_left(&algs) > 0) {
        uint16_t a;
        SDTLS_TRY(sdtls_rd_u16(&algs, &a));
        if (hs->n_peer_sigalgs < SDTLS_ARRAY_LEN(hs->peer_sigalgs)) {
            hs->peer_sigalgs[hs->n_peer_sigalgs++] = a;
        }
    }
    hs->cert_requested = 1;
    *next = C_WAIT_SHD;
    return 0;
}

static int queue_client_certificate(sdtls__hs12 *hs, uint16_t *scheme)
{
    uint8_t buf[SDTLS_DEFAULT_MAX_MSG];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    /* An empty Certificate if we have none, or none fits what the server accepts. */
    int have = hs->cfg->has_cert && pick_sig(hs, scheme) == 0;
    if (have ? write_certificate(hs, &w) != 0 : sdtls_wr_u24(&w, 0) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    if (!have) {
        *scheme = 0;
    }
    return sdtls__hs12_queue(hs, SDTLS_HS_CERTIFICATE, 0, buf, w.len);
}

static int queue_certificate_verify(sdtls__hs12 *hs, uint16_t scheme)
{
    uint8_t buf[4 + 2048]; /* up to RSA-16384 */
    size_t sig_len;
    sdtls_put_u16(buf, scheme);
    if (sdtls__sign(hs->cfg->cert.key, (sdtls_sig_scheme)scheme, hs->tr, hs->tr_len, buf + 4,
                    sizeof(buf) - 4, &sig_len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls_put_u16(buf + 2, (uint16_t)sig_len);
    return sdtls__hs12_queue(hs, SDTLS_HS_CERTIFICATE_VERIFY, 0, buf, 4 + sig_len);
}

static const sdtls__hs_row client_rows[] = {
    {C_WAIT_CERT, SDTLS_HS_CERTIFICATE, client_on_certificate, NEXT(C_WAIT_SKE), 1},
    {C_WAIT_CR_SHD, SDTLS_HS_CERTIFICATE_REQUEST, client_on_certificate_request,
     NEXT(C_WAIT_SHD), 1},
};

/* ---- server ----------------------------------------------------------------------------- */

static int suite_ok(const sdtls__hs12 *hs, const sdtls__client_hello *ch, const sdtls__suite *s,
                    uint16_t *scheme)
{
    sdtls_pkey_type t = sdtls__pkey_type(hs->cfg->cert.key);
    if (!key_fits_suite(s, t)) {
        return SDTLS_PKI_KEY_TYPE;
    }
    if (pick_sig(hs, scheme) != 0) {
        return SDTLS_PKI_NO_SIG;
    }
    /* RFC 8422 5.1: in TLS 1.2 a client's supported_groups also names the curves it accepts
     * in an ECDSA certificate. No extension at all means any. */
    uint16_t need = t == SDTLS_PKEY_EC_P256 ? SDTLS_GROUP_SECP256R1
                    : t == SDTLS_PKEY_EC_P384 ? SDTLS_GROUP_SECP384R1
                                              : 0;
    if (s->kx == SDTLS_KX_ECDHE_ECDSA && need != 0 && ch->ext.has_groups &&
        !sdtls__u16_list_has(ch->ext.groups, need)) {
        return SDTLS_PKI_CURVE;
    }
    return 0;
}

static int queue_certificate(sdtls__hs12 *hs)
{
    uint8_t buf[SDTLS_DEFAULT_MAX_MSG];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    if (write_certificate(hs, &w) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    return sdtls__hs12_queue(hs, SDTLS_HS_CERTIFICATE, 0, buf, w.len);
}

static int sign_key_exchange(const sdtls__hs12 *hs, sdtls_wr *w, size_t params_start)
{
    size_t params_len = w->len - params_start, sig_len;
    uint8_t signed_data[64 + 4 + 133];
    if (params_len > sizeof(signed_data) - 64) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    memcpy(signed_data, hs->out->client_random, 32);
    memcpy(signed_data + 32, hs->out->server_random, 32);
    memcpy(signed_data + 64, w->buf + params_start, params_len);
    SDTLS_TRY(sdtls_wr_u16(w, hs->sig_scheme));
    uint8_t *len_at = sdtls_wr_reserve(w, 2);
    if (len_at == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    if (sdtls__sign(hs->cfg->cert.key, (sdtls_sig_scheme)hs->sig_scheme, signed_data,
                    64 + params_len, w->buf + w->len, w->cap - w->len, &sig_len) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls_put_u16(len_at, (uint16_t)sig_len);
    w->len += sig_len;
    return 0;
}

static int queue_certificate_request(sdtls__hs12 *hs)
{
    static const uint8_t types[] = {64, 1}; /* ecdsa_sign, rsa_sign */
    uint8_t buf[2 + 2 + 64 + 2];
    size_t m;
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    int bad = sdtls_wr_vec(&w, 1, types, sizeof(types)) != 0 || sdtls_wr_vec_open(&w, 2, &m) != 0;
    for (size_t i = 0; i < sdtls__n_sig_schemes && !bad; i++) {
        bad = sdtls_wr_u16(&w, sdtls__sig_schemes[i]) != 0;
    }
    /* No certificate_authorities. */
    if (bad || sdtls_wr_vec_close(&w, 2, m) != 0 || sdtls_wr_vec(&w, 2, NULL, 0) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    return sdtls__hs12_queue(hs, SDTLS_HS_CERTIFICATE_REQUEST, 0, buf, w.len);
}

static int server_on_certificate(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                 uint16_t seq, sdtls__hs_state *next)
{
    int rc = check_peer_chain(hs, body, len);
    if (rc == 1) {
        if (hs->cfg->client_auth_require) {
            sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "client sent no certificate; one is required");
            return SDTLS_ALERT(HANDSHAKE_FAILURE);
        }
        hs->peer_sent_cert = 0;
        *next = S_WAIT_CKE;
        return 0;
    }
    SDTLS_TRY(rc);
    hs->peer_sent_cert = 1;
    *next = S_WAIT_CKE;
    return 0;
}

static int server_on_certificate_verify(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                        uint16_t seq, sdtls__hs_state *next)
{
    sdtls_rd r = sdtls_rd_init(body, len), sig;
    uint16_t scheme;
    SDTLS_TRY(sdtls_rd_u16(&r, &scheme));
    SDTLS_TRY(sdtls_rd_vec(&r, 2, 1, 0xffff, &sig));
    SDTLS_TRY(sdtls_rd_done(&r));
    int rc = verify_peer(hs, scheme, hs->tr, hs->tr_before, sig.p, sdtls_rd_left(&sig));
    if (rc == SDTLS_ALERT(DECRYPT_ERROR)) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "client CertificateVerify does not verify");
    }
    SDTLS_TRY(rc);
    *next = S_WAIT_CCS;
    return 0;
}

static const sdtls__hs_row server_rows[] = {
    {S_WAIT_CERT, SDTLS_HS_CERTIFICATE, server_on_certificate, NEXT(S_WAIT_CKE), 1},
    {S_WAIT_CV, SDTLS_HS_CERTIFICATE_VERIFY, server_on_certificate_verify, NEXT(S_WAIT_CCS), 1},
};

static void clear(sdtls__hs12 *hs)
{
    sdtls__pkey_free(hs->peer_key);
    hs->peer_key = NULL;
}

const sdtls__hs12_pki sdtls__hs12_pki_x509 = {
    verify_key_exchange,
    queue_client_certificate,
    queue_certificate_verify,
    suite_ok,
    queue_certificate,
    sign_key_exchange,
    queue_certificate_request,
    client_rows,
    server_rows,
    SDTLS_ARRAY_LEN(client_rows),
    SDTLS_ARRAY_LEN(server_rows),
    clear,
};
