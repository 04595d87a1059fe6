/* Internal to the DTLS 1.2 handshake: state table rows and shared helpers. */
#ifndef SDTLS_HS12_INT_H
#define SDTLS_HS12_INT_H

#include "dtls12.h"

/* sdtls__hs12_on_record: a new handshake began after ours completed. */
#define SDTLS_HS12_RENEGOTIATION 2

typedef int (*sdtls__hs_handler)(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                 uint16_t seq, sdtls__hs_state *next);

/* One row of a state table: in `state`, message `type` is handled by `fn`, which may move to
 * any state in next_mask. tr_auto: the dispatcher adds the message to the transcript before
 * the handler runs (handlers needing the transcript without it use hs->tr_before). */
typedef struct sdtls__hs_row {
    sdtls__hs_state state;
    int type;
    sdtls__hs_handler fn;
    uint32_t next_mask;
    int tr_auto;
} sdtls__hs_row;

#define NEXT(s) (1u << (s))

extern const sdtls__hs_row sdtls__hs12_client_rows[];
extern const size_t sdtls__hs12_n_client_rows;
extern const sdtls__hs_row sdtls__hs12_server_rows[];
extern const size_t sdtls__hs12_n_server_rows;

int sdtls__hs12_offered_sig(uint16_t s);
/* Start sending the flight built in hs->flight. */
void sdtls__hs12_send_flight(sdtls__hs12 *hs, int with_timer);

#endif
