/*
 * The server's front door (RFC 6347 4.2.1). Works on the datagram, the config's cookie
 * secret and the peer address only: no allocation, no state, and a reply never larger than
 * the datagram that caused it, so a spoofed flood can neither exhaust memory nor be
 * amplified.
 */
#include "../conn/config.h"
#include "../handshake/cookie.h"
#include "../handshake/dtls12/dtls12.h"

int sdtls_server_screen(const sdtls_config *cfg, const uint8_t *dgram, size_t len,
                        const void *peer_addr, size_t addr_len, uint64_t now_ms, uint8_t *reply,
                        size_t reply_cap, size_t *reply_len, sdtls_verdict *verdict)
{
    if (cfg == NULL || (dgram == NULL && len > 0) || (peer_addr == NULL && addr_len > 0) ||
        addr_len > 128 || reply_len == NULL || verdict == NULL) {
        return SDTLS_ERR_ARG;
    }
    *reply_len = 0;
    *verdict = SDTLS_VERDICT_IGNORE;
    /* Only the first record matters: a ClientHello (or its first fragment) in epoch 0. */
    sdtls_rd d = sdtls_rd_init(dgram, len);
    sdtls__rec rec;
    if (sdtls__rec_next(&d, &rec) != 0 || rec.type != SDTLS_CT_HANDSHAKE || rec.epoch != 0 ||
        (rec.version != SDTLS_VERSION_DTLS10 && rec.version != SDTLS_VERSION_DTLS12)) {
        return 0;
    }
    sdtls_rd r = sdtls_rd_init(rec.payload, rec.len);
    sdtls__hs_hdr h;
    const uint8_t *frag;
    if (sdtls__hs_hdr_parse(&r, &h, &frag) != 0 || h.type != SDTLS_HS_CLIENT_HELLO ||
        h.frag_off != 0 || h.length > cfg->max_msg) {
        return 0;
    }
    sdtls__client_hello ch;
    sdtls_rd body = sdtls_rd_init(frag, h.frag_len);
    if (sdtls__client_hello_parse_prefix(&body, &ch) != 0) {
        return 0;
    }
    if (!cfg->cookie_on) {
        *verdict = SDTLS_VERDICT_ACCEPT;
        return 0;
    }
    sdtls__cookie_input in = {peer_addr, addr_len, ch.version, ch.random, ch.sid, ch.sid_len};
    if (sdtls__cookie_check(cfg->cookie_key, cfg->cookie_lifetime_ms, &in, now_ms, ch.cookie,
                            ch.cookie_len)) {
        *verdict = SDTLS_VERDICT_ACCEPT;
        return 0;
    }
    /* HelloVerifyRequest: record (13) + handshake header (12) + body; the record sequence
     * number repeats the ClientHello's (RFC 6347 4.2.1) so we keep no counter. */
    uint8_t cookie[SDTLS_COOKIE_LEN];
    if (sdtls__cookie_make(cfg->cookie_key, &in, now_ms, cookie) != 0) {
        return SDTLS_ERR_CRYPTO;
    }
    size_t body_len = 3 + SDTLS_COOKIE_LEN;
    size_t total = SDTLS_REC_HDR_LEN + SDTLS_HS_HDR_LEN + body_len;
    if (total > len) {
        return 0; /* never amplify */
    }
    if (reply == NULL || reply_cap < total) {
        return SDTLS_ERR_BUF_SMALL;
    }
    sdtls_wr w = sdtls_wr_init(reply, reply_cap);
    sdtls__hs_hdr hh = {SDTLS_HS_HELLO_VERIFY_REQUEST, (uint32_t)body_len, h.seq, 0,
                        (uint32_t)body_len};
    uint8_t hdr[SDTLS_HS_HDR_LEN];
    sdtls__hs_hdr_write(hdr, &hh);
    (void)sdtls_wr_u8(&w, SDTLS_CT_HANDSHAKE);
    (void)sdtls_wr_u16(&w, SDTLS_VERSION_DTLS10);
    (void)sdtls_wr_u16(&w, 0);
    (void)sdtls_wr_u48(&w, rec.seq);
    (void)sdtls_wr_u16(&w, (uint16_t)(SDTLS_HS_HDR_LEN + body_len));
    (void)sdtls_wr_bytes(&w, hdr, sizeof(hdr));
    (void)sdtls__hvr_write(&w, cookie, sizeof(cookie));
    if (!sdtls_wr_ok(&w)) {
        return SDTLS_ERR_BUF_SMALL;
    }
    *reply_len = w.len;
    *verdict = SDTLS_VERDICT_REPLY;
    return 0;
}
