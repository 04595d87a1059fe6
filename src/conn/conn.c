/*
 * Design notes
 *  - A datagram is copied into the connection's receive buffer and its records are opened in
 *    place, so DATA events are views into that buffer, valid until the next call.
 *  - DTLS 1.2 has two epochs: 0 (null cipher) and 1. Records of epoch 1 that arrive before the
 *    peer's ChangeCipherSpec are held (a few, bounded) and replayed once it arrives. Records of
 *    epoch 0 after the switch are accepted only as handshake retransmissions, to trigger our
 *    own retransmission (RFC 6347 4.2.4); anything else from epoch 0 is dropped.
 *  - Invalid records are dropped and counted, never fatal (RFC 6347 4.1.2.7).
 *  - The handshake state (transcript, reassembly pool, flight) is one allocation, released
 *    when it can no longer be needed: for a client at the server's Finished, for a server when
 *    the first application record proves the client has our Finished.
 */
#include "conn.h"

#include "../handshake/dtls12/hs12_int.h"

#include <stdio.h>

static size_t flight_cap(const sdtls_config *cfg)
{
    size_t n = 2048;
    if (cfg->has_cert) {
        for (size_t i = 0; i < cfg->cert.count; i++) {
            n += 3 + cfg->cert.der_len[i];
        }
    }
    return n;
}

static int push_event(sdtls_conn *c, const sdtls_event *ev)
{
    if (c->ev_n == SDTLS_EVENT_QUEUE) {
        return SDTLS_ERR_BUDGET;
    }
    c->ev[(c->ev_head + c->ev_n) % SDTLS_EVENT_QUEUE] = *ev;
    c->ev_n++;
    return 0;
}

static void event_simple(sdtls_conn *c, sdtls_event_type t)
{
    sdtls_event ev = {t, NULL, 0, 0, 0};
    (void)push_event(c, &ev);
}

static void release_hs(sdtls_conn *c)
{
    if (c->hs == NULL) {
        return;
    }
    sdtls__hs12_clear(c->hs);
    sdtls__wipe(c->hs_mem, c->hs_mem_len);
    sdtls__free(c->cfg, c->hs_mem, c->hs_mem_len);
    c->hs = NULL;
    c->hs_mem = NULL;
}

int sdtls_conn_new(const sdtls_config *cfg, sdtls_role role, const void *peer_addr,
                   size_t addr_len, sdtls_conn **out)
{
    if (cfg == NULL || out == NULL || addr_len > SDTLS_MAX_ADDR ||
        (addr_len > 0 && peer_addr == NULL) ||
        (role != SDTLS_ROLE_CLIENT && role != SDTLS_ROLE_SERVER)) {
        return SDTLS_ERR_ARG;
    }
    if (role == SDTLS_ROLE_SERVER && !cfg->has_cert && cfg->psk_len == 0 && cfg->psk_cb == NULL) {
        return SDTLS_ERR_STATE;
    }
    sdtls_conn *c = sdtls__alloc(cfg, sizeof(*c));
    if (c == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->role = role;
    c->rx_cap = cfg->rx_bytes;
    c->rx = sdtls__alloc(cfg, c->rx_cap);
    size_t fc = flight_cap(cfg);
    c->hs_mem_len = sizeof(sdtls__hs12) + cfg->reasm_bytes + fc + cfg->transcript_bytes;
    c->hs_mem = sdtls__alloc(cfg, c->hs_mem_len);
    if (c->rx == NULL || c->hs_mem == NULL) {
        sdtls__free(cfg, c->rx, c->rx_cap);
        sdtls__free(cfg, c->hs_mem, c->hs_mem_len);
        sdtls__free(cfg, c, sizeof(*c));
        return SDTLS_ERR_NOMEM;
    }
    c->hs = (sdtls__hs12 *)(void *)c->hs_mem;
    uint8_t *pool = c->hs_mem + sizeof(sdtls__hs12);
    sdtls__hs12_init(c->hs, cfg, role, pool, cfg->reasm_bytes, pool + cfg->reasm_bytes, fc,
                     pool + cfg->reasm_bytes + fc, cfg->transcript_bytes);
    c->hs->wr1 = &c->wr1;
    c->hs->rd1 = &c->rd1;
    c->hs->out = &c->params;
    if (addr_len > 0) {
        memcpy(c->peer_addr, peer_addr, addr_len);
    }
    c->peer_addr_len = addr_len;
    c->hs->peer_addr = c->peer_addr;
    c->hs->peer_addr_len = addr_len;
    if (cfg->pin_len > 0) {
        c->hs->pin = cfg->pin;
        c->hs->pin_len = cfg->pin_len;
        c->hs->pin_hash = cfg->pin_hash;
    }
    sdtls__cipher_null(&c->wr0, 0);
    sdtls__cipher_null(&c->rd0, 0);
    if (cfg->cid_len > 0 && sdtls__random(cfg, c->params.rx_cid, (size_t)cfg->cid_len) != 0) {
        sdtls_conn_free(c);
        return SDTLS_ERR_CRYPTO;
    }
    c->params.rx_cid_len = cfg->cid_len > 0 ? (size_t)cfg->cid_len : 0;
    *out = c;
    return 0;
}

void sdtls_conn_free(sdtls_conn *c)
{
    if (c == NULL) {
        return;
    }
    const sdtls_config *cfg = c->cfg;
    release_hs(c);
    sdtls__cipher_clear(&c->wr0);
    sdtls__cipher_clear(&c->wr1);
    sdtls__cipher_clear(&c->rd0);
    sdtls__cipher_clear(&c->rd1);
    sdtls__free(cfg, c->rx, c->rx_cap);
    sdtls__wipe(c, sizeof(*c));
    sdtls__free(cfg, c, sizeof(*c));
}

int sdtls_conn_set_server_name(sdtls_conn *c, const char *name)
{
    if (c == NULL || (name != NULL && strlen(name) >= sizeof(c->hs->server_name))) {
        return SDTLS_ERR_ARG;
    }
    if (c->started || c->hs == NULL) {
        return SDTLS_ERR_STATE;
    }
    snprintf(c->hs->server_name, sizeof(c->hs->server_name), "%s", name ? name : "");
    return 0;
}

/* Enter the failed state. A local alert is queued for sending. */
static int fail(sdtls_conn *c, int err)
{
    if (c->fatal != 0) {
        return c->fatal;
    }
    c->fatal = err;
    if (SDTLS_IS_LOCAL_ALERT(err)) {
        c->alert_pending = 1;
        c->alert_level = 2;
        c->alert_desc = (uint8_t)sdtls_err_alert(err);
        sdtls__log(c->cfg, SDTLS_LOG_ERROR, "fatal: sending alert %s",
                   sdtls_alert_name(c->alert_desc));
    } else {
        sdtls__log(c->cfg, SDTLS_LOG_ERROR, "fatal: %s", sdtls_strerror(err));
    }
    if (c->hs != NULL) {
        sdtls__flight_reset(&c->hs->flight);
    }
    c->closed = 1;
    event_simple(c, SDTLS_EV_CLOSED);
    return err;
}

static void queue_alert(sdtls_conn *c, uint8_t level, uint8_t desc)
{
    c->alert_pending = 1;
    c->alert_level = level;
    c->alert_desc = desc;
}

static void on_established(sdtls_conn *c)
{
    c->established = 1;
    sdtls__log(c->cfg, SDTLS_LOG_INFO, "handshake done in %llu ms: %s, group %s, %u rtx",
               (unsigned long long)(c->now_ms - c->hs_start_ms), c->params.suite->name,
               sdtls__group_name(c->params.group), (unsigned)c->stats.rtx_flights);
    event_simple(c, SDTLS_EV_HANDSHAKE_DONE);
    if (c->role == SDTLS_ROLE_CLIENT) {
        release_hs(c);
    }
}

static void maybe_resend(sdtls_conn *c)
{
    sdtls__flight *f = &c->hs->flight;
    /* RFC 6347 4.2.4: the peer retransmitted its last flight, so ours was lost. Duplicates
     * arriving right after we sent are ignored to avoid answering one loss with a storm. */
    if (f->n == 0 || f->sending || c->now_ms - f->last_tx_ms < c->cfg->timer.initial_ms / 4) {
        return;
    }
    sdtls__log(c->cfg, SDTLS_LOG_INFO, "peer retransmitted: sending our flight again");
    sdtls__flight_resend(f);
    c->stats.rtx_flights++;
}

static int process_record(sdtls_conn *c, sdtls__rec *rec, int from_future);

/* CID bytes in tls12_cid records sent to us (RFC 9146), known once the keys are. */
static size_t rx_cid_len(const sdtls_conn *c)
{
    return c->params.cid_on ? c->params.rx_cid_len : 0;
}

static void hold_future(sdtls_conn *c, const sdtls__rec *rec)
{
    /* The record as received: header, CID if any, length, payload (contiguous). */
    size_t n = (size_t)(rec->payload - rec->hdr) + rec->len;
    if (c->hs->future_n == SDTLS_FUTURE_RECORDS || SDTLS_FUTURE_BYTES - c->hs->future_len < n) {
        c->stats.drop_over_budget++;
        return;
    }
    memcpy(c->hs->future + c->hs->future_len, rec->hdr, n);
    c->hs->future_len += n;
    c->hs->future_n++;
}

static int replay_future(sdtls_conn *c)
{
    /* The held records are moved out first: processing may hold nothing new (epoch 1 is
     * now current), but keep the buffer consistent anyway. */
    uint8_t buf[SDTLS_FUTURE_BYTES];
    size_t len = c->hs->future_len;
    memcpy(buf, c->hs->future, len);
    c->hs->future_len = 0;
    c->hs->future_n = 0;
    sdtls_rd r = sdtls_rd_init(buf, len);
    sdtls__rec rec;
    while (sdtls__rec_next_cid(&r, rx_cid_len(c), &rec) == 0) {
        int rc = process_record(c, &rec, 1);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int on_handshake(sdtls_conn *c, const sdtls__rec *rec, const uint8_t *pt, size_t len)
{
    if (c->hs == NULL) {
        /* After the handshake: a new ClientHello (or HelloRequest) is a renegotiation
         * attempt, refused with a warning (RFC 5746 4.4); retransmissions are ignored. */
        sdtls_rd r = sdtls_rd_init(pt, len);
        sdtls__hs_hdr h;
        const uint8_t *frag;
        if (rec->epoch == 1 && sdtls__hs_hdr_parse(&r, &h, &frag) == 0 &&
            ((c->role == SDTLS_ROLE_SERVER && h.type == SDTLS_HS_CLIENT_HELLO) ||
             (c->role == SDTLS_ROLE_CLIENT && h.type == SDTLS_HS_HELLO_REQUEST))) {
            queue_alert(c, 1, SDTLS_ALERT_NO_RENEGOTIATION);
        }
        return 0;
    }
    c->hs->now_ms = c->now_ms;
    if (c->role == SDTLS_ROLE_SERVER && c->hs->state == S_WAIT_CH && rec->seq > c->wr0.next_seq) {
        /* RFC 6347 4.2.1: a HelloVerifyRequest reuses the ClientHello's record sequence
         * number; continuing from the ClientHello's keeps our numbers above it, so the
         * client's replay window never sees one twice. */
        c->wr0.next_seq = rec->seq;
    }
    int hvr_before = c->hs->hvr_count;
    int rc = sdtls__hs12_on_record(c->hs, pt, len);
    if (c->hs->hvr_count != hvr_before) {
        /* A stateless server numbers its HelloVerifyRequest independently of what follows. */
        sdtls__replay_reset(&c->rd0.replay);
    }
    if (rc == SDTLS_REASM_OLD) {
        maybe_resend(c);
        return 0;
    }
    if (rc == SDTLS_HS12_RENEGOTIATION) {
        queue_alert(c, 1, SDTLS_ALERT_NO_RENEGOTIATION);
        return 0;
    }
    if (rc == SDTLS_DROP) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (rc != 0) {
        return fail(c, rc);
    }
    if (!c->established && c->hs->state == HS_DONE) {
        on_established(c);
    }
    return 0;
}

static int on_ccs(sdtls_conn *c, const sdtls__rec *rec, const uint8_t *pt, size_t len)
{
    if (len != 1 || pt[0] != 1) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (c->hs == NULL || rec->epoch != 0 || c->rd_epoch != 0) {
        return 0; /* a retransmitted ChangeCipherSpec */
    }
    c->hs->now_ms = c->now_ms;
    int rc = sdtls__hs12_on_ccs(c->hs);
    if (rc == SDTLS_DROP) {
        c->stats.drop_bad_epoch++; /* early: ahead of the messages it follows */
        return 0;
    }
    if (rc != 0) {
        return fail(c, rc);
    }
    c->rd_epoch = 1;
    return replay_future(c);
}

static int on_alert(sdtls_conn *c, const sdtls__rec *rec, const uint8_t *pt, size_t len)
{
    if (len != 2) {
        c->stats.drop_malformed++;
        return 0;
    }
    /* Once keys are up, an unprotected alert could come from anyone. */
    if (rec->epoch == 0 && c->rd_epoch == 1) {
        c->stats.drop_bad_epoch++;
        return 0;
    }
    uint8_t level = pt[0], desc = pt[1];
    sdtls_event ev = {SDTLS_EV_ALERT, NULL, 0, level, desc};
    (void)push_event(c, &ev);
    sdtls__log(c->cfg, level == 2 ? SDTLS_LOG_ERROR : SDTLS_LOG_INFO, "peer sent %s alert %s",
               level == 2 ? "fatal" : "warning", sdtls_alert_name(desc));
    if (desc == SDTLS_ALERT_CLOSE_NOTIFY) {
        c->close_rcvd = 1;
        if (!c->close_sent) {
            queue_alert(c, 1, SDTLS_ALERT_CLOSE_NOTIFY);
            c->close_sent = 1;
        }
        if (!c->closed) {
            c->closed = 1;
            event_simple(c, SDTLS_EV_CLOSED);
        }
        return 0;
    }
    if (level == 2) {
        c->fatal = SDTLS_ERR_PEER_ALERT(desc);
        c->closed = 1;
        if (c->hs != NULL) {
            sdtls__flight_reset(&c->hs->flight);
        }
        event_simple(c, SDTLS_EV_CLOSED);
        return c->fatal;
    }
    return 0;
}

static int on_app_data(sdtls_conn *c, const sdtls__rec *rec, const uint8_t *pt, size_t len)
{
    if (!c->established || rec->epoch != 1 || c->closed) {
        c->stats.drop_bad_epoch++;
        return 0;
    }
    if (c->role == SDTLS_ROLE_SERVER) {
        release_hs(c); /* the client had our Finished */
    }
    sdtls_event ev = {SDTLS_EV_DATA, pt, len, 0, 0};
    if (push_event(c, &ev) != 0) {
        c->stats.drop_over_budget++;
        return 0;
    }
    c->stats.app_bytes_rx += len;
    return 0;
}

/* RFC 6520 4: type, payload_length, payload, at least 16 bytes of padding; a length that does
 * not fit the record is discarded silently, never answered. */
static int on_heartbeat(sdtls_conn *c, const sdtls__rec *rec, const uint8_t *pt, size_t len)
{
    sdtls_rd r = sdtls_rd_init(pt, len);
    uint8_t type;
    uint16_t plen;
    const uint8_t *payload;
    if (!c->established || rec->epoch != 1 || c->params.peer_hb_mode == 0 ||
        sdtls_rd_u8(&r, &type) != 0 || sdtls_rd_u16(&r, &plen) != 0 ||
        sdtls_rd_take(&r, plen, &payload) != 0 || sdtls_rd_left(&r) < SDTLS_HB_MIN_PADDING) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (type == 1 && c->cfg->heartbeat == 1 && plen <= SDTLS_HB_MAX_PAYLOAD) {
        memcpy(c->hb_reply, payload, plen);
        c->hb_reply_len = plen;
        c->hb_reply_pending = 1;
        return 0;
    }
    if (type == 2 && c->hb_probe_len != 0 && plen == sizeof(c->hb_sent) &&
        sdtls__ct_equal(payload, c->hb_sent, plen)) {
        sdtls_event ev = {SDTLS_EV_HEARTBEAT, NULL, c->hb_probe_len, 0, 0};
        c->hb_probe_len = 0;
        (void)push_event(c, &ev);
        return 0;
    }
    c->stats.drop_malformed++;
    return 0;
}

/* Write a heartbeat message padded with random bytes to `total` plaintext bytes. */
static int seal_heartbeat(sdtls_conn *c, uint8_t type, const uint8_t *payload, size_t plen,
                          size_t total, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t msg[SDTLS_MAX_PLAINTEXT];
    if (total > sizeof(msg) || total < 3 + plen + SDTLS_HB_MIN_PADDING) {
        return SDTLS_ERR_ARG;
    }
    msg[0] = type;
    sdtls_put_u16(msg + 1, (uint16_t)plen);
    memcpy(msg + 3, payload, plen);
    SDTLS_TRY(sdtls__random(c->cfg, msg + 3 + plen, total - 3 - plen));
    sdtls_wr w = sdtls_wr_init(out, cap);
    SDTLS_TRY(sdtls__rec_seal(&c->wr1, SDTLS_CT_HEARTBEAT, SDTLS_VERSION_DTLS12, msg, total, &w));
    *out_len = w.len;
    c->stats.records_tx++;
    c->stats.dgrams_tx++;
    return 0;
}

int sdtls_conn_heartbeat(sdtls_conn *c, size_t dgram_len, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    if (c == NULL || out == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out_len = 0;
    if (c->fatal != 0) {
        return c->fatal;
    }
    /* The peer's mode 2 means it does not want our requests (RFC 6520 2). */
    if (!c->established || c->closed || c->params.peer_hb_mode != 1) {
        return SDTLS_ERR_STATE;
    }
    size_t overhead = sdtls__cipher_overhead(&c->wr1);
    if (dgram_len > SDTLS_MAX_PLAINTEXT ||
        dgram_len < overhead + 3 + sizeof(c->hb_sent) + SDTLS_HB_MIN_PADDING) {
        return SDTLS_ERR_ARG;
    }
    if (cap < dgram_len) {
        return SDTLS_ERR_BUF_SMALL;
    }
    SDTLS_TRY(sdtls__random(c->cfg, c->hb_sent, sizeof(c->hb_sent)));
    SDTLS_TRY(seal_heartbeat(c, 1, c->hb_sent, sizeof(c->hb_sent), dgram_len - overhead, out,
                             cap, out_len));
    c->hb_probe_len = *out_len;
    return 0;
}

static int process_record(sdtls_conn *c, sdtls__rec *rec, int from_future)
{
    sdtls__cipher *cs = NULL;
    if (rec->version != SDTLS_VERSION_DTLS12 && rec->version != SDTLS_VERSION_DTLS10) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (rec->epoch == c->rd_epoch) {
        cs = c->rd_epoch == 0 ? &c->rd0 : &c->rd1;
    } else if (rec->epoch == 1 && c->rd_epoch == 0 && rec->type == SDTLS_CT_ALERT &&
               sdtls__cipher_keyed(&c->rd1)) {
        /* The peer read our ChangeCipherSpec and aborts before sending its own: its alert is
         * protected with keys we already have, so it can be authenticated now. */
        cs = &c->rd1;
    } else if (rec->epoch == 1 && c->rd_epoch == 0 && c->hs != NULL && !from_future) {
        hold_future(c, rec);
        return 0;
    } else if (rec->epoch == 0 && c->rd_epoch == 1 &&
               (rec->type == SDTLS_CT_HANDSHAKE || rec->type == SDTLS_CT_CHANGE_CIPHER_SPEC)) {
        cs = &c->rd0; /* previous epoch: retransmissions only */
    } else {
        c->stats.drop_bad_epoch++;
        return 0;
    }
    if (sdtls__replay_check(&cs->replay, rec->seq) != 0) {
        c->stats.drop_replay++;
        return 0;
    }
    /* Open in place. from_future records live in a stack copy that is writable too. */
    uint8_t *pt = (uint8_t *)(uintptr_t)rec->payload + sdtls__cipher_pt_offset(cs);
    size_t len;
    uint8_t type;
    int open_rc = sdtls__rec_open_type(cs, rec, pt, &len, &type);
    if (open_rc == SDTLS_REC_MALFORMED) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (open_rc != 0) {
        if (c->stats.drop_bad_mac++ == 0 && !c->established && sdtls__cipher_keyed(cs)) {
            /* The first protected record of a handshake failing is worth one line: it is how
             * mismatched keys (a wrong PSK, for one) show. */
            sdtls__log(c->cfg, SDTLS_LOG_ERROR,
                       "dropped a handshake record that failed authentication: do both sides "
                       "have the same key?");
        }
        return 0;
    }
    if (cs == &c->rd1 && (!cs->replay.has_top || rec->seq > cs->replay.top)) {
        c->rx_newest = 1; /* RFC 9146 6: newer than any record seen so far */
    }
    sdtls__replay_update(&cs->replay, rec->seq);
    rec->type = type; /* the real type of a tls12_cid record */
    switch (rec->type) {
    case SDTLS_CT_HANDSHAKE:
        return on_handshake(c, rec, pt, len);
    case SDTLS_CT_CHANGE_CIPHER_SPEC:
        return on_ccs(c, rec, pt, len);
    case SDTLS_CT_ALERT:
        return on_alert(c, rec, pt, len);
    case SDTLS_CT_HEARTBEAT:
        return on_heartbeat(c, rec, pt, len);
    case SDTLS_CT_APPLICATION_DATA:
        if (from_future) {
            /* Held records live in a temporary buffer: app data there is dropped (the
             * handshake is not complete when they are replayed, so it is early anyway). */
            c->stats.drop_bad_epoch++;
            return 0;
        }
        return on_app_data(c, rec, pt, len);
    default:
        c->stats.drop_malformed++;
        return 0;
    }
}

int sdtls_conn_recv(sdtls_conn *c, const uint8_t *dgram, size_t len, uint64_t now_ms)
{
    if (c == NULL || (dgram == NULL && len > 0)) {
        return SDTLS_ERR_ARG;
    }
    if (c->fatal != 0) {
        return c->fatal;
    }
    c->now_ms = now_ms;
    if (!c->started) {
        c->started = 1;
        c->hs_start_ms = now_ms;
    }
    c->stats.dgrams_rx++;
    /* Earlier DATA views die with this call: forget events still pointing at them. */
    size_t kept = 0;
    for (size_t i = 0; i < c->ev_n; i++) {
        sdtls_event ev = c->ev[(c->ev_head + i) % SDTLS_EVENT_QUEUE];
        if (ev.type != SDTLS_EV_DATA) {
            c->ev[(c->ev_head + kept) % SDTLS_EVENT_QUEUE] = ev;
            kept++;
        }
    }
    c->ev_n = kept;
    if (len > c->rx_cap) {
        c->stats.drop_malformed++;
        return 0;
    }
    if (len > 0) {
        memcpy(c->rx, dgram, len);
    }
    c->rx_newest = 0;
    sdtls_rd r = sdtls_rd_init(c->rx, len);
    while (sdtls_rd_left(&r) > 0) {
        sdtls__rec rec;
        if (sdtls__rec_next_cid(&r, rx_cid_len(c), &rec) != 0) {
            c->stats.drop_malformed++;
            break; /* the rest of the datagram cannot be framed */
        }
        c->stats.records_rx++;
        int rc = process_record(c, &rec, 0);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int sdtls_conn_send(sdtls_conn *c, uint8_t *out, size_t cap, size_t *out_len, uint64_t now_ms)
{
    if (c == NULL || out == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out_len = 0;
    c->now_ms = now_ms;
    if (c->alert_pending) {
        uint8_t a[2] = {c->alert_level, c->alert_desc};
        sdtls_wr w = sdtls_wr_init(out, cap);
        /* After our ChangeCipherSpec the peer reads epoch 1 only. A client sends it with the
         * keys (one flight); a server only in its final flight. */
        int epoch1 = c->established || (c->role == SDTLS_ROLE_CLIENT && sdtls__cipher_keyed(&c->wr1));
        sdtls__cipher *cs = epoch1 ? &c->wr1 : &c->wr0;
        int rc = sdtls__rec_seal(cs, SDTLS_CT_ALERT, SDTLS_VERSION_DTLS12, a, 2, &w);
        if (rc != 0) {
            return rc;
        }
        c->alert_pending = 0;
        *out_len = w.len;
        c->stats.records_tx++;
        c->stats.dgrams_tx++;
        return 0;
    }
    if (c->fatal != 0) {
        return c->fatal;
    }
    if (c->hb_reply_pending && c->established && !c->closed) {
        c->hb_reply_pending = 0;
        return seal_heartbeat(c, 2, c->hb_reply, c->hb_reply_len,
                              3 + c->hb_reply_len + SDTLS_HB_MIN_PADDING, out, cap, out_len);
    }
    if (c->role == SDTLS_ROLE_CLIENT && c->hs != NULL && c->hs->state == C_START) {
        c->started = 1;
        c->hs_start_ms = now_ms;
        c->hs->now_ms = now_ms;
        int rc = sdtls__hs12_start(c->hs);
        if (rc != 0) {
            return fail(c, rc);
        }
    }
    if (c->hs == NULL || !c->hs->flight.sending) {
        return 0;
    }
    if (cap < c->cfg->mtu && cap < 256) {
        return SDTLS_ERR_BUF_SMALL;
    }
    sdtls__cipher *ciphers[2] = {&c->wr0, sdtls__cipher_keyed(&c->wr1) ? &c->wr1 : NULL};
    uint64_t records = 0;
    int rc = sdtls__flight_write(&c->hs->flight, ciphers, 2, SDTLS_VERSION_DTLS12, c->cfg->mtu,
                                 now_ms, out, cap, out_len, &records);
    if (rc != 0) {
        return fail(c, SDTLS_IS_LOCAL_ALERT(rc) ? rc : SDTLS_ALERT(INTERNAL_ERROR));
    }
    if (*out_len > 0) {
        c->stats.dgrams_tx++;
        c->stats.records_tx += records;
        if (c->hs->flight.is_rtx) {
            c->stats.rtx_records += records;
        }
        sdtls__log(c->cfg, SDTLS_LOG_DEBUG, "send datagram %zu bytes, %llu records", *out_len,
                   (unsigned long long)records);
    }
    return 0;
}

uint64_t sdtls_conn_deadline(const sdtls_conn *c)
{
    if (c == NULL || c->fatal != 0 || c->hs == NULL) {
        return SDTLS_NO_DEADLINE;
    }
    return sdtls__flight_deadline(&c->hs->flight);
}

int sdtls_conn_on_timeout(sdtls_conn *c, uint64_t now_ms)
{
    if (c == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (c->fatal != 0) {
        return c->fatal;
    }
    c->now_ms = now_ms;
    if (c->hs == NULL) {
        return 0;
    }
    uint32_t before = c->hs->flight.rtx_count;
    int rc = sdtls__flight_on_timeout(&c->hs->flight, &c->cfg->timer, now_ms);
    if (rc != 0) {
        sdtls__log(c->cfg, SDTLS_LOG_ERROR, "no answer after %u retransmissions: giving up",
                   (unsigned)c->cfg->timer.max_count);
        return fail(c, rc);
    }
    if (c->hs->flight.rtx_count != before) {
        c->stats.rtx_flights++;
        sdtls__log(c->cfg, SDTLS_LOG_INFO, "timeout: retransmitting flight (%u), next wait %u ms",
                   (unsigned)c->hs->flight.rtx_count, (unsigned)c->hs->flight.timeout_ms);
    }
    return 0;
}

int sdtls_conn_next_event(sdtls_conn *c, sdtls_event *ev)
{
    if (c == NULL || ev == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (c->ev_n == 0) {
        memset(ev, 0, sizeof(*ev));
        return 0;
    }
    *ev = c->ev[c->ev_head];
    c->ev_head = (c->ev_head + 1) % SDTLS_EVENT_QUEUE;
    c->ev_n--;
    return 0;
}

size_t sdtls_conn_max_data(const sdtls_conn *c)
{
    if (c == NULL || !c->established) {
        return 0;
    }
    size_t overhead = sdtls__cipher_overhead(&c->wr1);
    size_t n = c->cfg->mtu > overhead ? c->cfg->mtu - overhead : 0;
    return n > SDTLS_MAX_PLAINTEXT ? SDTLS_MAX_PLAINTEXT : n;
}

int sdtls_conn_write(sdtls_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                     size_t *out_len)
{
    if (c == NULL || (data == NULL && len > 0) || out == NULL || out_len == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out_len = 0;
    if (c->fatal != 0) {
        return c->fatal;
    }
    if (!c->established || c->close_sent || c->closed) {
        return SDTLS_ERR_STATE;
    }
    if (c->hs != NULL && c->hs->flight.sending) {
        /* Our final flight is still unsent: data sent ahead of our Finished would reach a
         * peer that cannot read epoch 1 yet. */
        return SDTLS_ERR_AGAIN;
    }
    if (len > sdtls_conn_max_data(c)) {
        return SDTLS_ERR_ARG;
    }
    sdtls_wr w = sdtls_wr_init(out, cap);
    SDTLS_TRY(sdtls__rec_seal(&c->wr1, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, data, len,
                              &w));
    *out_len = w.len;
    c->stats.records_tx++;
    c->stats.dgrams_tx++;
    c->stats.app_bytes_tx += len;
    return 0;
}

int sdtls_conn_close(sdtls_conn *c)
{
    if (c == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (c->fatal != 0) {
        return c->fatal;
    }
    if (!c->close_sent) {
        queue_alert(c, 1, SDTLS_ALERT_CLOSE_NOTIFY);
        c->close_sent = 1;
    }
    return 0;
}

int sdtls_conn_is_handshake_done(const sdtls_conn *c)
{
    return c != NULL && c->established;
}

int sdtls_conn_is_closed(const sdtls_conn *c)
{
    return c != NULL && (c->closed || c->fatal != 0);
}

const char *sdtls_conn_version_name(const sdtls_conn *c)
{
    return c != NULL && c->established ? "DTLSv1.2" : "";
}

const char *sdtls_conn_cipher_name(const sdtls_conn *c)
{
    return c != NULL && c->established ? c->params.suite->name : "";
}

const char *sdtls_conn_group_name(const sdtls_conn *c)
{
    return c != NULL && c->established ? sdtls__group_name(c->params.group) : "";
}

const char *sdtls_conn_alpn(const sdtls_conn *c)
{
    return c != NULL && c->established ? c->params.alpn : "";
}

int sdtls_conn_export(const sdtls_conn *c, const char *label, const uint8_t *context,
                      size_t context_len, uint8_t *out, size_t out_len)
{
    enum { MAX_CONTEXT = 1024 };
    if (c == NULL || label == NULL || out == NULL || out_len == 0 ||
        (context != NULL && context_len > MAX_CONTEXT)) {
        return SDTLS_ERR_ARG;
    }
    if (!c->established) {
        return SDTLS_ERR_STATE;
    }
    /* RFC 5705 4: seed = client_random + server_random [+ uint16 length + context]. */
    uint8_t randoms[64], ctx[2 + MAX_CONTEXT];
    memcpy(randoms, c->params.client_random, 32);
    memcpy(randoms + 32, c->params.server_random, 32);
    size_t ctx_len = 0;
    if (context != NULL) {
        sdtls_put_u16(ctx, (uint16_t)context_len);
        if (context_len > 0) {
            memcpy(ctx + 2, context, context_len);
        }
        ctx_len = 2 + context_len;
    }
    return sdtls__tls12_prf(c->params.suite->prf, c->params.master, 48, label, randoms, 64, ctx,
                            ctx_len, out, out_len);
}

void sdtls_conn_stats(const sdtls_conn *c, sdtls_stats *out)
{
    if (c == NULL || out == NULL) {
        return;
    }
    *out = c->stats;
}

uint32_t sdtls_conn_handshake_rtx(const sdtls_conn *c)
{
    return c == NULL ? 0 : (uint32_t)c->stats.rtx_flights;
}

int sdtls_conn_cid(const sdtls_conn *c, uint8_t *out, size_t cap, size_t *out_len)
{
    if (c == NULL || out_len == NULL || (out == NULL && cap > 0)) {
        return SDTLS_ERR_ARG;
    }
    if (!c->established || !c->params.cid_on) {
        return SDTLS_ERR_STATE;
    }
    if (cap < c->params.rx_cid_len) {
        return SDTLS_ERR_BUF_SMALL;
    }
    memcpy(out, c->params.rx_cid, c->params.rx_cid_len);
    *out_len = c->params.rx_cid_len;
    return 0;
}

int sdtls_conn_rx_was_newest(const sdtls_conn *c)
{
    return c != NULL && c->rx_newest;
}

int sdtls_datagram_cid(const uint8_t *dgram, size_t len, size_t cid_len, const uint8_t **cid)
{
    sdtls_rd r = sdtls_rd_init(dgram, len);
    sdtls__rec rec;
    if (dgram == NULL || cid == NULL || sdtls__rec_next_cid(&r, cid_len, &rec) != 0 ||
        rec.type != SDTLS_CT_TLS12_CID) {
        return 0;
    }
    *cid = rec.cid;
    return 1;
}
