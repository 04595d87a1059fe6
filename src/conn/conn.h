/* The connection object: record demultiplexing, epochs, events, alerts. */
#ifndef SDTLS_CONN_H
#define SDTLS_CONN_H

#include "../handshake/dtls12/dtls12.h"
#include "config.h"

#define SDTLS_EVENT_QUEUE 16
#define SDTLS_MAX_ADDR 128
/* Largest heartbeat payload we echo; larger requests are dropped. */
#define SDTLS_HB_MAX_PAYLOAD 64
#define SDTLS_HB_MIN_PADDING 16

struct sdtls_conn {
    const sdtls_config *cfg;
    sdtls_role role;
    int fatal; /* sticky error code, 0 while healthy */
    int started, established, closed;
    uint64_t now_ms, hs_start_ms;

    sdtls__cipher wr0, wr1, rd0, rd1;
    uint16_t rd_epoch;

    sdtls__hs12 *hs; /* NULL once the handshake state is released */
    uint8_t *hs_mem;
    size_t hs_mem_len;
    sdtls__params params;


    uint8_t *rx; /* received datagram, decrypted in place; event data points here */
    size_t rx_cap;

    sdtls_event ev[SDTLS_EVENT_QUEUE];
    size_t ev_head, ev_n;

    int alert_pending;
    uint8_t alert_level, alert_desc;
    int close_sent, close_rcvd;

    uint8_t peer_addr[SDTLS_MAX_ADDR];
    size_t peer_addr_len;
    uint8_t pin[SDTLS_HASH_MAX];
    size_t pin_len;
    sdtls_hash_id pin_hash;

    sdtls_stats stats;
    int rx_newest; /* last datagram advanced the epoch-1 replay window */
    /* RFC 6520: our outstanding request, and a response we owe the peer. */
    uint8_t hb_sent[16];
    size_t hb_probe_len; /* 0: none outstanding */
    uint8_t hb_reply[SDTLS_HB_MAX_PAYLOAD];
    size_t hb_reply_len;
    int hb_reply_pending;
};

#endif
