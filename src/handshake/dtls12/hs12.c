/* The DTLS 1.2 dispatcher: state table lookup, handler call, next-state check. */
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
    /* Only the build's engines can have made a key exchange or a peer key. */
    if (hs->kex != NULL) {
        hs->cfg->profile->kex->release(hs->kex);
        hs->kex = NULL;
    }
    if (hs->cfg->profile->pki != NULL) {
        hs->cfg->profile->pki->clear(hs);
    }
    sdtls__wipe(hs->pms, sizeof(hs->pms));
    if (hs->tr != NULL) {
        sdtls__wipe(hs->tr, hs->tr_len);
    }
}

/* ---- dispatcher ------------------------------------------------------------------------- */

static const sdtls__hs_row *find_in(const sdtls__hs_row *rows, size_t n, sdtls__hs_state state,
                                    int type)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].state == state && rows[i].type == type) {
            return &rows[i];
        }
    }
    return NULL;
}

/* The role's own rows, then the certificate engine's (Certificate, CertificateRequest,
 * CertificateVerify) if the build has one. */
static const sdtls__hs_row *find_row(const sdtls__hs12 *hs, int type)
{
    const sdtls__hs12_pki *pki = hs->cfg->profile->pki;
    int client = hs->role == SDTLS_ROLE_CLIENT;
    const sdtls__hs_row *row =
        client ? find_in(sdtls__hs12_client_rows, sdtls__hs12_n_client_rows, hs->state, type)
               : find_in(sdtls__hs12_server_rows, sdtls__hs12_n_server_rows, hs->state, type);
    if (row != NULL || pki == NULL) {
        return row;
    }
    return client ? find_in(pki->client_rows, pki->n_client_rows, hs->state, type)
                  : find_in(pki->server_rows, pki->n_server_rows, hs->state, type);
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
