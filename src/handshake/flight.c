#include "transport.h"

void sdtls__flight_init(sdtls__flight *f, uint8_t *buf, size_t cap)
{
    memset(f, 0, sizeof(*f));
    f->buf = buf;
    f->cap = cap;
}

void sdtls__flight_reset(sdtls__flight *f)
{
    f->used = 0;
    f->n = 0;
    f->sending = 0;
    f->timer_on = 0;
    f->rtx_count = 0;
}

int sdtls__flight_add(sdtls__flight *f, int type, uint16_t seq, uint16_t epoch,
                      const uint8_t *body, size_t len)
{
    if (f->n == SDTLS_FLIGHT_MAX_MSGS || f->cap - f->used < len) {
        return SDTLS_ERR_BUDGET;
    }
    sdtls__flight_msg *m = &f->msg[f->n++];
    m->type = type;
    m->seq = seq;
    m->epoch = epoch;
    m->off = f->used;
    m->len = len;
    if (len > 0) {
        memcpy(f->buf + f->used, body, len);
    }
    f->used += len;
    return 0;
}

void sdtls__flight_start(sdtls__flight *f, const sdtls__timer_cfg *t, int with_timer)
{
    f->timer_on = with_timer;
    f->timeout_ms = t->initial_ms;
    f->rtx_count = 0;
    f->deadline = SDTLS_NO_DEADLINE;
    f->sending = 1;
    f->is_rtx = 0;
    f->cur_msg = 0;
    f->cur_off = 0;
}

void sdtls__flight_resend(sdtls__flight *f)
{
    if (f->n == 0) {
        return;
    }
    f->sending = 1;
    f->is_rtx = 1;
    f->cur_msg = 0;
    f->cur_off = 0;
    f->deadline = SDTLS_NO_DEADLINE;
}

static sdtls__cipher *cipher_for(sdtls__cipher *const *ciphers, size_t n, uint16_t epoch)
{
    for (size_t i = 0; i < n; i++) {
        if (ciphers[i] != NULL && ciphers[i]->epoch == epoch) {
            return ciphers[i];
        }
    }
    return NULL;
}

/* Smallest useful fragment: below this we start a new datagram instead. */
#define MIN_FRAGMENT 32

int sdtls__flight_write(sdtls__flight *f, sdtls__cipher *const *ciphers, size_t n_ciphers,
                        uint16_t version, size_t mtu, uint64_t now_ms, uint8_t *out, size_t cap,
                        size_t *out_len, uint64_t *records)
{
    *out_len = 0;
    if (!f->sending) {
        return 0;
    }
    size_t limit = mtu < cap ? mtu : cap;
    sdtls_wr w = sdtls_wr_init(out, limit);
    uint8_t tmp[SDTLS_HS_HDR_LEN + SDTLS_MAX_PLAINTEXT];
    while (f->cur_msg < f->n) {
        const sdtls__flight_msg *m = &f->msg[f->cur_msg];
        sdtls__cipher *c = cipher_for(ciphers, n_ciphers, m->epoch);
        if (c == NULL) {
            return SDTLS_ERR_STATE;
        }
        size_t room = w.cap - w.len;
        size_t overhead = sdtls__cipher_overhead(c);
        if (m->type == SDTLS_HS_CCS) {
            if (room < overhead + 1) {
                break;
            }
            static const uint8_t ccs = 1;
            SDTLS_TRY(sdtls__rec_seal(c, SDTLS_CT_CHANGE_CIPHER_SPEC, version, &ccs, 1, &w));
            (*records)++;
            f->cur_msg++;
            continue;
        }
        size_t left = m->len - f->cur_off;
        if (room < overhead + SDTLS_HS_HDR_LEN + (left > 0 ? 1 : 0)) {
            if (w.len > 0) {
                break;
            }
            return SDTLS_ERR_BUF_SMALL; /* MTU cannot hold a single fragment */
        }
        size_t fit = room - overhead - SDTLS_HS_HDR_LEN;
        if (fit > SDTLS_MAX_PLAINTEXT - SDTLS_HS_HDR_LEN) {
            fit = SDTLS_MAX_PLAINTEXT - SDTLS_HS_HDR_LEN;
        }
        if (fit < left && fit < MIN_FRAGMENT) {
            if (w.len > 0) {
                break;
            }
        }
        size_t take = left < fit ? left : fit;
        sdtls__hs_hdr h = {(uint8_t)m->type, (uint32_t)m->len, m->seq, f->cur_off, (uint32_t)take};
        sdtls__hs_hdr_write(tmp, &h);
        memcpy(tmp + SDTLS_HS_HDR_LEN, f->buf + m->off + f->cur_off, take);
        SDTLS_TRY(sdtls__rec_seal(c, SDTLS_CT_HANDSHAKE, version, tmp, SDTLS_HS_HDR_LEN + take, &w));
        (*records)++;
        f->cur_off += (uint32_t)take;
        if (f->cur_off == m->len) {
            f->cur_msg++;
            f->cur_off = 0;
        }
    }
    *out_len = w.len;
    f->last_tx_ms = now_ms;
    if (f->cur_msg == f->n) {
        f->sending = 0;
        f->deadline = f->timer_on ? now_ms + f->timeout_ms : SDTLS_NO_DEADLINE;
    }
    return 0;
}

int sdtls__flight_on_timeout(sdtls__flight *f, const sdtls__timer_cfg *t, uint64_t now_ms)
{
    if (!f->timer_on || f->sending || now_ms < f->deadline) {
        return 0;
    }
    if (f->rtx_count >= t->max_count) {
        f->timer_on = 0;
        return SDTLS_ERR_TIMEOUT;
    }
    /* RFC 6347 4.2.4.1: double the timer on each retransmission, up to the maximum. */
    f->timeout_ms = f->timeout_ms > t->max_ms / 2 ? t->max_ms : f->timeout_ms * 2;
    f->rtx_count++;
    sdtls__flight_resend(f);
    return 0;
}

uint64_t sdtls__flight_deadline(const sdtls__flight *f)
{
    if (!f->timer_on || f->sending) {
        return SDTLS_NO_DEADLINE;
    }
    return f->deadline;
}
