/* Transcript, key schedule (RFC 5246 8.1, 6.3; RFC 7627), Finished, and message queueing. */
#include "dtls12.h"

#include <stdio.h>

int sdtls__tr_add(sdtls__hs12 *hs, int type, uint16_t seq, const uint8_t *body, size_t len)
{
    /* RFC 6347 4.2.6: the transcript holds each message as if sent in one fragment. */
    if (hs->tr_cap - hs->tr_len < SDTLS_HS_HDR_LEN + len) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "handshake transcript over its %zu-byte budget",
                   hs->tr_cap);
        return SDTLS_ALERT(HANDSHAKE_FAILURE);
    }
    sdtls__hs_hdr h = {(uint8_t)type, (uint32_t)len, seq, 0, (uint32_t)len};
    sdtls__hs_hdr_write(hs->tr + hs->tr_len, &h);
    if (len > 0) {
        memcpy(hs->tr + hs->tr_len + SDTLS_HS_HDR_LEN, body, len);
    }
    hs->tr_len += SDTLS_HS_HDR_LEN + len;
    return 0;
}

int sdtls__tr_hash(const sdtls__hs12 *hs, sdtls_hash_id h, uint8_t *out)
{
    return sdtls__hash(h, hs->tr, hs->tr_len, out) == 0 ? 0 : SDTLS_ALERT(INTERNAL_ERROR);
}

static void keylog(const sdtls__hs12 *hs)
{
    if (hs->cfg->keylog_fn == NULL) {
        return;
    }
    char line[13 + 1 + 64 + 1 + 96 + 1];
    size_t n = (size_t)snprintf(line, sizeof(line), "CLIENT_RANDOM ");
    for (size_t i = 0; i < 32; i++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", hs->out->client_random[i]);
    }
    n += (size_t)snprintf(line + n, sizeof(line) - n, " ");
    for (size_t i = 0; i < 48; i++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", hs->out->master[i]);
    }
    hs->cfg->keylog_fn(hs->cfg->keylog_user, line);
    sdtls__wipe(line, sizeof(line));
}

int sdtls__hs12_derive_keys(sdtls__hs12 *hs)
{
    const sdtls__suite *s = hs->out->suite;
    sdtls__params *p = hs->out;
    int rc;
    if (hs->peer_ems) {
        /* RFC 7627 4: session_hash covers the messages up to and including ClientKeyExchange. */
        uint8_t session_hash[SDTLS_HASH_MAX];
        SDTLS_TRY(sdtls__tr_hash(hs, s->prf, session_hash));
        rc = sdtls__tls12_prf(s->prf, hs->pms, hs->pms_len, "extended master secret",
                              session_hash, sdtls__hash_len(s->prf), NULL, 0, p->master, 48);
    } else {
        rc = sdtls__tls12_prf(s->prf, hs->pms, hs->pms_len, "master secret", p->client_random,
                              32, p->server_random, 32, p->master, 48);
    }
    sdtls__wipe(hs->pms, sizeof(hs->pms));
    if (rc != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    p->ems = hs->peer_ems;
    keylog(hs);

    if (s->cbc) {
        /* RFC 5246 6.3: client MAC key, server MAC key, client key, server key. */
        uint8_t kb[2 * 32 + 2 * 16];
        size_t ml = sdtls__hash_len(s->mac), kl = s->key_len;
        int client = hs->role == SDTLS_ROLE_CLIENT;
        if (sdtls__tls12_prf(s->prf, p->master, 48, "key expansion", p->server_random, 32,
                             p->client_random, 32, kb, 2 * (ml + kl)) != 0) {
            return SDTLS_ALERT(INTERNAL_ERROR);
        }
        const uint8_t *cm = kb, *sm = kb + ml, *ck = kb + 2 * ml, *sk = kb + 2 * ml + kl;
        const sdtls__cbc_class *cls = hs->cfg->profile->cbc;
        rc = sdtls__cipher_init_cbc(hs->wr1, cls, 1, client ? ck : sk, client ? cm : sm, s->mac,
                                    1);
        if (rc == 0) {
            rc = sdtls__cipher_init_cbc(hs->rd1, cls, 1, client ? sk : ck, client ? sm : cm,
                                        s->mac, 0);
        }
        sdtls__wipe(kb, sizeof(kb));
        return rc == 0 ? 0 : SDTLS_ALERT(INTERNAL_ERROR);
    }
    /* RFC 5246 6.3: client key, server key, client IV, server IV (AEAD: no MAC keys). */
    uint8_t kb[2 * 32 + 2 * 12];
    size_t kl = s->key_len, il = s->iv_len;
    if (sdtls__tls12_prf(s->prf, p->master, 48, "key expansion", p->server_random, 32,
                         p->client_random, 32, kb, 2 * (kl + il)) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    const uint8_t *ck = kb, *sk = kb + kl, *civ = kb + 2 * kl, *siv = kb + 2 * kl + il;
    int client = hs->role == SDTLS_ROLE_CLIENT;
    rc = sdtls__cipher_init(hs->wr1, 1, s->aead, client ? ck : sk, client ? civ : siv, 1);
    if (rc == 0) {
        rc = sdtls__cipher_init(hs->rd1, 1, s->aead, client ? sk : ck, client ? siv : civ, 0);
    }
    sdtls__wipe(kb, sizeof(kb));
    if (rc == 0 && p->cid_on) {
        /* RFC 9146: records protected with the new keys carry the receiver's CID, when the
         * receiver asked for a non-empty one. */
        hs->wr1->use_cid = p->tx_cid_len > 0;
        memcpy(hs->wr1->cid, p->tx_cid, p->tx_cid_len);
        hs->wr1->cid_len = p->tx_cid_len;
        hs->rd1->use_cid = p->rx_cid_len > 0;
        memcpy(hs->rd1->cid, p->rx_cid, p->rx_cid_len);
        hs->rd1->cid_len = p->rx_cid_len;
    }
    return rc == 0 ? 0 : SDTLS_ALERT(INTERNAL_ERROR);
}

int sdtls__hs12_finished(const sdtls__hs12 *hs, int from_client, uint8_t out[12])
{
    const sdtls__suite *s = hs->out->suite;
    uint8_t h[SDTLS_HASH_MAX];
    SDTLS_TRY(sdtls__tr_hash(hs, s->prf, h));
    if (sdtls__tls12_prf(s->prf, hs->out->master, 48,
                         from_client ? "client finished" : "server finished", h,
                         sdtls__hash_len(s->prf), NULL, 0, out, 12) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    return 0;
}

int sdtls__hs12_check_finished(const sdtls__hs12 *hs, const uint8_t *body, size_t len)
{
    const sdtls__suite *s = hs->out->suite;
    int from_client = hs->role == SDTLS_ROLE_SERVER;
    uint8_t expect[12], h[SDTLS_HASH_MAX];
    if (sdtls__hash(s->prf, hs->tr, hs->tr_before, h) != 0 ||
        sdtls__tls12_prf(s->prf, hs->out->master, 48,
                         from_client ? "client finished" : "server finished", h,
                         sdtls__hash_len(s->prf), NULL, 0, expect, 12) != 0) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    /* RFC 5246 7.4.9: a Finished that does not verify is decrypt_error. */
    if (len != 12 || !sdtls__ct_equal(expect, body, 12)) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "%s Finished does not verify",
                   from_client ? "client" : "server");
        return SDTLS_ALERT(DECRYPT_ERROR);
    }
    return 0;
}

int sdtls__hs12_queue(sdtls__hs12 *hs, int type, uint16_t epoch, const uint8_t *body,
                      size_t len)
{
    if (type == SDTLS_HS_CCS) {
        if (sdtls__flight_add(&hs->flight, type, 0, epoch, NULL, 0) != 0) {
            return SDTLS_ALERT(INTERNAL_ERROR);
        }
        return 0;
    }
    uint16_t seq = hs->send_seq++;
    /* HelloVerifyRequest and the ClientHello it answers stay out of the transcript
     * (RFC 6347 4.2.6); the caller resets it for that case. */
    SDTLS_TRY(sdtls__tr_add(hs, type, seq, body, len));
    if (sdtls__flight_add(&hs->flight, type, seq, epoch, body, len) != 0) {
        sdtls__log(hs->cfg, SDTLS_LOG_ERROR, "our flight is over its %zu-byte budget",
                   hs->flight.cap);
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls__log(hs->cfg, SDTLS_LOG_DEBUG, "queue %s seq=%u len=%zu", sdtls__hs_type_name(type),
               seq, len);
    return 0;
}

int sdtls__hs12_psk_premaster(sdtls__hs12 *hs, const uint8_t *psk, size_t psk_len)
{
    uint8_t other[66];
    size_t other_len;
    if (hs->out->suite->kx == SDTLS_KX_ECDHE_PSK) {
        if (hs->pms_len == 0 || hs->pms_len > sizeof(other)) {
            return SDTLS_ALERT(INTERNAL_ERROR);
        }
        memcpy(other, hs->pms, hs->pms_len);
        other_len = hs->pms_len;
    } else {
        other_len = psk_len;
        memset(other, 0, other_len);
    }
    if (psk_len == 0 || psk_len > 64) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    uint8_t *p = hs->pms;
    sdtls_put_u16(p, (uint16_t)other_len);
    memcpy(p + 2, other, other_len);
    sdtls_put_u16(p + 2 + other_len, (uint16_t)psk_len);
    memcpy(p + 4 + other_len, psk, psk_len);
    hs->pms_len = 4 + other_len + psk_len;
    sdtls__wipe(other, sizeof(other));
    return 0;
}
