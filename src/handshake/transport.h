/*
 * Handshake transport: the DTLS handshake message header, reassembly of incoming fragments,
 * and outgoing flights with their retransmission timer (RFC 6347 4.2.2 - 4.2.4).
 * It sits on the record layer and knows nothing of message contents.
 */
#ifndef SDTLS_TRANSPORT_H
#define SDTLS_TRANSPORT_H

#include "../record/record.h"

#define SDTLS_HS_HDR_LEN 12

/* Handshake message types (RFC 5246 7.4, RFC 6347 4.3.2). */
#define SDTLS_HS_HELLO_REQUEST 0
#define SDTLS_HS_CLIENT_HELLO 1
#define SDTLS_HS_SERVER_HELLO 2
#define SDTLS_HS_HELLO_VERIFY_REQUEST 3
#define SDTLS_HS_CERTIFICATE 11
#define SDTLS_HS_SERVER_KEY_EXCHANGE 12
#define SDTLS_HS_CERTIFICATE_REQUEST 13
#define SDTLS_HS_SERVER_HELLO_DONE 14
#define SDTLS_HS_CERTIFICATE_VERIFY 15
#define SDTLS_HS_CLIENT_KEY_EXCHANGE 16
#define SDTLS_HS_FINISHED 20
/* Pseudo type for ChangeCipherSpec in flights and state tables (not on the wire). */
#define SDTLS_HS_CCS 0x100

const char *sdtls__hs_type_name(int type);

typedef struct sdtls__hs_hdr {
    uint8_t type;
    uint32_t length;
    uint16_t seq;
    uint32_t frag_off;
    uint32_t frag_len;
} sdtls__hs_hdr;

/* Parse one fragment header and body from a handshake record. DECODE_ERROR alert if short
 * or if the fragment lies outside the message. */
SDTLS_MUST_CHECK int sdtls__hs_hdr_parse(sdtls_rd *r, sdtls__hs_hdr *h, const uint8_t **frag);
void sdtls__hs_hdr_write(uint8_t out[SDTLS_HS_HDR_LEN], const sdtls__hs_hdr *h);

/* ---- reassembly ------------------------------------------------------------------------- */

/*
 * Budgets (per connection, fixed at creation):
 *  SDTLS_REASM_SLOTS    messages held at once (the next expected and later ones).
 *  pool_cap             bytes for their bodies and received-bytes bitmaps.
 *  max_msg              largest handshake message accepted (certificate chains included).
 */
#define SDTLS_REASM_SLOTS 8

typedef struct sdtls__reasm_slot {
    int used;
    uint8_t type;
    uint16_t seq;
    uint32_t length;
    uint32_t have;   /* distinct bytes received so far */
    size_t body_off; /* in pool */
    size_t map_off;  /* in pool: one bit per byte of the body */
} sdtls__reasm_slot;

typedef struct sdtls__reasm {
    uint8_t *pool;
    size_t pool_cap, pool_used;
    uint32_t max_msg;
    uint16_t next_seq; /* message_seq we process next */
    int seq_known;     /* server: learned from the first ClientHello */
    sdtls__reasm_slot slot[SDTLS_REASM_SLOTS];
} sdtls__reasm;

/* Results of sdtls__reasm_add besides 0 (fragment stored or already had). */
#define SDTLS_REASM_OLD 1 /* fragment of a message already processed: peer retransmitted */

void sdtls__reasm_init(sdtls__reasm *ra, uint8_t *pool, size_t pool_cap, uint32_t max_msg);
/* Store a fragment. Returns 0, SDTLS_REASM_OLD, SDTLS_DROP (conflicting, beyond the
 * buffering budget, or too far in the future: counted by the caller), or a fatal
 * alert code (the next expected message is larger than max_msg). */
SDTLS_MUST_CHECK int sdtls__reasm_add(sdtls__reasm *ra, const sdtls__hs_hdr *h,
                                      const uint8_t *frag);
/* The next expected message if complete: 1 and its header/body, else 0. */
int sdtls__reasm_peek(const sdtls__reasm *ra, sdtls__hs_hdr *h, const uint8_t **body);
/* Release the message returned by peek and expect the next message_seq. */
void sdtls__reasm_pop(sdtls__reasm *ra);
/* Drop everything held (keeps next_seq). */
void sdtls__reasm_clear(sdtls__reasm *ra);

/* ---- flights ---------------------------------------------------------------------------- */

#define SDTLS_FLIGHT_MAX_MSGS 8

typedef struct sdtls__flight_msg {
    int type;       /* handshake type or SDTLS_HS_CCS */
    uint16_t seq;   /* message_seq */
    uint16_t epoch; /* epoch to protect it with */
    size_t off, len; /* body in the flight buffer */
} sdtls__flight_msg;

typedef struct sdtls__timer_cfg {
    uint32_t initial_ms, max_ms, max_count;
} sdtls__timer_cfg;

/*
 * Design notes: a flight is stored as whole message bodies and cut into fragments each time
 * it is (re)sent, so the MTU can change between sends. A transmission walks a cursor
 * (message, offset) and emits one datagram per call. The RFC 6347 4.2.4 timer belongs to the
 * flight: armed when the last datagram of a transmission leaves, doubled on each timeout up
 * to max_ms, reset to initial_ms when a new flight starts (progress).
 */
typedef struct sdtls__flight {
    uint8_t *buf;
    size_t cap, used;
    sdtls__flight_msg msg[SDTLS_FLIGHT_MAX_MSGS];
    size_t n;
    /* transmission cursor */
    int sending;
    int is_rtx; /* the transmission under way repeats an earlier one */
    size_t cur_msg;
    uint32_t cur_off;
    /* timer */
    int timer_on;       /* 0 for a final flight kept only for answering retransmissions */
    uint64_t deadline;  /* armed after the last datagram of a transmission */
    uint32_t timeout_ms;
    uint32_t rtx_count; /* retransmissions of this flight */
    uint64_t last_tx_ms;
} sdtls__flight;

void sdtls__flight_init(sdtls__flight *f, uint8_t *buf, size_t cap);
/* Forget the current flight (stop its timer). */
void sdtls__flight_reset(sdtls__flight *f);
/* Append a message body (header is added when sent). Returns 0 or SDTLS_ERR_BUDGET. */
SDTLS_MUST_CHECK int sdtls__flight_add(sdtls__flight *f, int type, uint16_t seq,
                                       uint16_t epoch, const uint8_t *body, size_t len);
/* Start transmitting the flight just built. with_timer 0: a final flight. */
void sdtls__flight_start(sdtls__flight *f, const sdtls__timer_cfg *t, int with_timer);
/* Send the flight again (timer expiry or peer retransmission). */
void sdtls__flight_resend(sdtls__flight *f);
/* Write the next datagram of a transmission into out. *out_len 0: nothing to send.
 * cipher_for_epoch is indexed by epoch (DTLS 1.2: 0 and 1). */
SDTLS_MUST_CHECK int sdtls__flight_write(sdtls__flight *f, sdtls__cipher *const *ciphers,
                                         size_t n_ciphers, uint16_t version, size_t mtu,
                                         uint64_t now_ms, uint8_t *out, size_t cap,
                                         size_t *out_len, uint64_t *records);
/* Timer expiry: 0 and resend scheduled, or SDTLS_ERR_TIMEOUT if max_count is reached. */
SDTLS_MUST_CHECK int sdtls__flight_on_timeout(sdtls__flight *f, const sdtls__timer_cfg *t,
                                              uint64_t now_ms);
uint64_t sdtls__flight_deadline(const sdtls__flight *f);

#endif
