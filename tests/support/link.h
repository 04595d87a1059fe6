/*
 * A simulated network between two sdtls endpoints, in memory, on a virtual clock.
 * Seeded and deterministic: loss (random and bursts), duplication, reordering, delay and
 * jitter, an MTU that drops larger datagrams, and byte corruption, per direction.
 */
#ifndef SDTLS_TEST_LINK_H
#define SDTLS_TEST_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"
#include "testutil.h"

#define LINK_QUEUE 256
#define LINK_DGRAM 2048

typedef struct link_impair {
    double loss;          /* probability a datagram is lost */
    double burst_start;   /* probability a loss burst starts */
    unsigned burst_len;   /* datagrams lost in a burst */
    double dup;           /* probability a datagram is delivered twice */
    double reorder;       /* probability a datagram is held back */
    uint32_t reorder_ms;  /* how long a held-back datagram waits */
    uint32_t delay_ms;    /* one-way delay */
    uint32_t jitter_ms;   /* added uniformly in [0, jitter] */
    size_t mtu;           /* datagrams larger are dropped; 0 = no limit */
    double corrupt;       /* probability one byte is flipped */
    /* drop_nth: the n-th (1-based) datagram in this direction is dropped (bitmask of 1..63) */
    uint64_t drop_mask;
} link_impair;

typedef struct link_pkt {
    uint64_t at;
    size_t len;
    uint8_t data[LINK_DGRAM];
} link_pkt;

typedef struct link_dir {
    link_impair imp;
    link_pkt q[LINK_QUEUE];
    size_t n;
    unsigned burst_left;
    uint64_t sent; /* datagrams offered to this direction */
    uint64_t delivered, lost;
} link_dir;

typedef struct link {
    uint64_t rng;
    uint64_t now;
    link_dir dir[2]; /* 0: client -> server, 1: server -> client */
    sdtls_conn *ep[2];
    const sdtls_config *server_cfg; /* for stateless screening; NULL: server conn exists */
    int server_created; /* the link created ep[1] after screening: the test frees it */
    uint64_t screened;
    int err[2];
    /* application data seen by each endpoint */
    uint8_t rx[2][8192];
    size_t rx_len[2];
    uint64_t rx_records[2];
    int done[2];
    int closed[2];
} link;

/* server may be NULL with l->server_cfg set afterwards: the link then screens datagrams with
 * sdtls_server_screen() and creates the server connection on ACCEPT. */
void link_init(link *l, uint64_t seed, sdtls_conn *client, sdtls_conn *server);
/* Pump until both handshakes are done, one side fails, or virtual time passes limit_ms.
 * Returns 0 when both are done. */
int link_run_handshake(link *l, uint64_t limit_ms);
/* Pump for `ms` of virtual time (delivering data, timers). */
void link_run_for(link *l, uint64_t ms);
/* Endpoint `side` writes one application record. */
int link_write(link *l, int side, const void *data, size_t len);
/* Inject a raw datagram toward endpoint `to` (0 client, 1 server), delivered now. */
void link_inject(link *l, int to, const uint8_t *data, size_t len);
double link_rand(link *l);

/* Memory of one session between two configs whose allocators count into cst and sst: the
 * peak during the handshake and what an established session keeps (the configs' own bytes
 * are not counted). Returns 0, or -1 if the handshake failed or the connections left memory
 * allocated after they were freed. */
typedef struct link_footprint {
    size_t client_peak, client_established, server_peak, server_established;
    /* libcrypto's heap for both endpoints together (0 unless tu_count_crypto_heap() ran). */
    size_t crypto_peak, crypto_established;
} link_footprint;
int link_measure_session(const sdtls_config *ccfg, tu_alloc_stats *cst,
                         const sdtls_config *scfg, tu_alloc_stats *sst, link_footprint *out);

#endif
