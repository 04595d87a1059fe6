/*
 * UDP driver: endpoints, the session table and the event loop.
 *
 * Design notes
 *  - One non-blocking socket per endpoint. A server keeps a fixed array of `max_sessions`
 *    slots allocated at creation, searched linearly by canonical peer key (the table is small
 *    and every loop turn scans it for deadlines anyway). A client has one slot.
 *  - Nothing is allocated for a peer before sdtls_server_screen() says ACCEPT; a full table
 *    drops the ClientHello (the client retransmits and may find a free slot later).
 *  - Every engine call that may produce output is followed by drain(): sdtls_conn_send() in a
 *    loop until it reports nothing, bounded by DRAIN_MAX. After a fatal local-alert code the
 *    same drain sends the alert; the session is then reported FAILED and freed.
 *  - Events are pulled from the engine lazily (`has_events`), one per call, so an event's data
 *    view stays valid until the caller's next call on the endpoint. The engine forgets DATA
 *    events not yet pulled when the next datagram reaches the connection, so a read batch
 *    stops at the first datagram that yields an event (kept in `stash`), and the socket is
 *    read again only once every pending event has been delivered. A session's first fatal
 *    code is kept in `err` and reported after the engine's queued events, as the single
 *    terminal event. Terminal sessions are freed at the start of the next call.
 *  - The peer's close_notify is answered here with our own (sdtls_conn_close), unless we sent
 *    one already; a second request is harmless if the engine answered by itself.
 *  - Server limits: the half-open count is taken by a scan at each ACCEPT (rare: it needs a
 *    valid cookie), using the engine's own "established" flag rather than the reported
 *    HANDSHAKE_DONE event. The handshake deadline runs in run_timers() and next_timer() like
 *    the idle timer.
 *  - Client restart (RFC 6347 4.2.8): the old session must be reported (FAILED, RESTARTED)
 *    before its slot is reused, because the application holds its pointer until the next
 *    call. So the accepted ClientHello is copied to `pending`, the old session fails, and the
 *    copy goes through the normal unknown-peer path once reap() has freed the old session.
 *    No datagram is read meanwhile: the old session's terminal event keeps pull_event() busy
 *    until it is delivered, so there is at most one pending restart.
 *  - Connection IDs (RFC 9146): a datagram whose first record is tls12_cid goes to the session
 *    whose CID it carries, whatever its source address; the address table is only the
 *    fallback (records without a CID, and the CID-carrying Finished, which arrives before
 *    sdtls_conn_cid() knows the CID). The session moves to the datagram's address only when
 *    the engine says the datagram held an authenticated record newer than any before
 *    (sdtls_conn_rx_was_newest, RFC 9146 6), so a replayed or delayed copy sent from
 *    elsewhere cannot redirect the session's traffic, nor keep it alive. Sessions are found
 *    by a scan comparing each established session's CID (sessions with an empty CID cannot
 *    be found this way); the address-matched session is tried first, so a peer that did not
 *    move costs one comparison. If the new address was another session's, that session loses
 *    its address key (only its CID still reaches it): one address cannot lead to two
 *    sessions.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "udp_int.h"

/* Largest UDP payload: receive buffer, so no datagram is truncated. */
#define RX_CAP 65536
/* Transmit buffer: at least the largest MTU sdtls_config_set_mtu() accepts (16384). */
#define TX_CAP 65536
/* Client: how long "port unreachable" answers are tolerated before the server ever answered
 * (it may still be starting; the engine keeps retransmitting meanwhile). */
#define REFUSED_GRACE_MS 3000
/* Safety bound on datagrams taken from one sdtls_conn_send() drain. A flight of a long
 * certificate chain at the smallest MTU is well below this. */
#define DRAIN_MAX 1024
/* Datagrams read per poll() wake-up before timers and events get a turn. */
#define RX_BATCH 64
/* Longest single poll() wait; longer waits are split. */
#define POLL_MAX_MS 3600000
/* Bound on unknown engine event types skipped in one pull. */
#define SKIP_MAX 64
/* Retries of a send() interrupted by a signal. */
#define EINTR_RETRIES 3
/* ClientHello.random (RFC 5246 7.4.1.2). */
#define CH_RANDOM_LEN 32
/* RFC 9146 4: the tls12_cid record content type. */
#define CT_TLS12_CID 25
/* Longest connection ID (RFC 9146 3: cid<0..2^8-1>; sdtls_config_set_cid allows 20). */
#define CID_CAP 255

struct sdtls_udp_session {
    sdtls_udp *u;
    sdtls_conn *conn;
    sdtls_udp_addr peer;
    uint8_t key[SDTLS_UDP_KEY_CAP];
    size_t key_len;
    void *user;
    uint64_t start_ms;                  /* valid once has_started */
    uint64_t done_ms;                   /* valid once is_done */
    uint64_t last_rx_ms;                /* idle timer base */
    int err;                            /* first fatal code; reported by the terminal event */
    uint8_t ch_random[CH_RANDOM_LEN];   /* server: random of the ClientHello that created it */
    uint8_t prev_random[CH_RANDOM_LEN]; /* server: ch_random of the session it replaced */
    unsigned in_use : 1;
    unsigned has_ch_random : 1;   /* server: ch_random is set */
    unsigned has_prev_random : 1; /* server: prev_random is set (created by a restart) */
    unsigned has_started : 1;     /* client: first datagram sent */
    unsigned needs_kick : 1;      /* client: call send once to start the handshake */
    unsigned accept_pending : 1;  /* server: ACCEPTED not yet reported */
    unsigned has_events : 1;      /* the engine may hold events */
    unsigned is_done : 1;         /* HANDSHAKE_DONE reported */
    unsigned close_sent : 1;      /* sdtls_conn_close() called */
    unsigned is_terminal : 1;     /* CLOSED/FAILED reported; free at next call */
};

struct sdtls_udp {
    const sdtls_config *cfg;
    int fd;
    int is_server;
    sdtls_udp_session *sessions;
    size_t max_sessions;
    size_t count; /* slots in use */
    size_t rr;    /* round-robin start of the next event scan */
    uint64_t idle_ms;
    size_t max_half_open;  /* server: handshaking sessions allowed at once */
    uint64_t handshake_ms; /* server: handshake deadline after creation; 0 none */
    uint8_t *rx;
    uint8_t *tx;
    sdtls_udp_stats stats;
    int extra_ready;
    int has_stash; /* `stash` holds an event pulled during a read batch */
    sdtls_udp_event stash;
    /* Server: a client restart's ClientHello, waiting for the old session to be reaped. */
    uint8_t *pending;
    size_t pending_len;
    sdtls_udp_addr pending_from;
    uint8_t pending_prev[CH_RANDOM_LEN]; /* ch_random of the session being replaced */
    int has_pending;
    int carry_prev; /* the session being created replaces one: give it pending_prev */
    /* Client: the resolved addresses and the one in use, until the server answers. */
    struct addrinfo *ai_list;
    struct addrinfo *ai_cur;
    char *server_text;
    int got_rx;
    int has_refused;
    uint64_t first_refused_ms;
    sdtls_udp_clock_fn clock; /* NULL: sdtls_udp_now_ms */
    void *clock_user;
};

/* The endpoint's clock: every deadline, timer and time stamp of the driver reads it. */
static uint64_t udp_now(const sdtls_udp *u)
{
    return u->clock != NULL ? u->clock(u->clock_user) : sdtls_udp_now_ms();
}

static sdtls_udp *endpoint_alloc(const sdtls_config *cfg, size_t max_sessions)
{
    sdtls_udp *u = calloc(1, sizeof(*u));

    if (u == NULL) {
        return NULL;
    }
    u->fd = -1;
    u->cfg = cfg;
    u->max_sessions = max_sessions;
    u->idle_ms = SDTLS_UDP_DEFAULT_IDLE_MS;
    u->max_half_open = SDTLS_UDP_DEFAULT_MAX_HALF_OPEN(max_sessions);
    u->handshake_ms = SDTLS_UDP_DEFAULT_HANDSHAKE_MS;
    u->sessions = calloc(max_sessions, sizeof(*u->sessions));
    u->rx = malloc(RX_CAP);
    u->tx = malloc(TX_CAP);
    if (u->sessions == NULL || u->rx == NULL || u->tx == NULL) {
        sdtls_udp_free(u);
        return NULL;
    }
    return u;
}

static void session_release(sdtls_udp *u, sdtls_udp_session *s)
{
    if (!s->in_use) {
        return;
    }
    sdtls_conn_free(s->conn);
    memset(s, 0, sizeof(*s));
    u->count--;
}

void sdtls_udp_free(sdtls_udp *u)
{
    size_t i;

    if (u == NULL) {
        return;
    }
    if (u->sessions != NULL) {
        for (i = 0; i < u->max_sessions; i++) {
            session_release(u, &u->sessions[i]);
        }
    }
    if (u->fd >= 0) {
        (void)close(u->fd);
    }
    if (u->ai_list != NULL) {
        freeaddrinfo(u->ai_list);
    }
    free(u->server_text);
    free(u->pending);
    free(u->sessions);
    free(u->rx);
    free(u->tx);
    free(u);
}

/* The session can still talk: not failed, not reported terminal. */
static int is_live(const sdtls_udp_session *s)
{
    return s->in_use && !s->is_terminal && s->err == 0;
}

/* Codes that end a session: fatal alerts and timeouts, and failures the engine cannot get
 * past. SDTLS_ERR_CLOSED, _STATE, _AGAIN and _ARG only say "nothing (more) to do here". */
static int ends_session(int rc)
{
    return sdtls_err_is_fatal(rc) || rc == SDTLS_ERR_NOMEM || rc == SDTLS_ERR_CRYPTO ||
           rc == SDTLS_ERR_BUDGET || rc == SDTLS_ERR_TIMEOUT;
}

static void fail(sdtls_udp_session *s, int err)
{
    if (s->err == 0) {
        s->err = err;
    }
    s->has_events = 1;
}

/* ------------------------------------------------------------------------------------------
 * Sending
 * ---------------------------------------------------------------------------------------- */

/* Client: the server address refused our datagram. Before the server ever answered, move on
 * to the next resolved address (e.g. "localhost" gave ::1 first but the server is on
 * 127.0.0.1); the engine's next retransmission goes there. On the last address, keep trying
 * for REFUSED_GRACE_MS in case the server is still starting. Otherwise the session fails. */
static void client_refused(sdtls_udp *u)
{
    sdtls_udp_session *s = &u->sessions[0];
    uint64_t now = udp_now(u);

    while (!u->got_rx && u->ai_cur != NULL && u->ai_cur->ai_next != NULL) {
        int fd;

        u->ai_cur = u->ai_cur->ai_next;
        fd = sdtls__udp_open(u->ai_cur, 0, u->server_text);
        if (fd < 0) {
            continue;
        }
        (void)close(u->fd);
        u->fd = fd;
        if (u->ai_cur->ai_addrlen <= sizeof(s->peer.ss)) {
            memcpy(&s->peer.ss, u->ai_cur->ai_addr, u->ai_cur->ai_addrlen);
            s->peer.len = u->ai_cur->ai_addrlen;
        }
        return;
    }
    if (!u->got_rx) {
        if (!u->has_refused) {
            u->has_refused = 1;
            u->first_refused_ms = now;
        }
        if (now - u->first_refused_ms < REFUSED_GRACE_MS) {
            return;
        }
    }
    sdtls__udp_set_error("%s: connection refused", u->server_text);
    if (s->in_use) {
        fail(s, SDTLS_UDP_ERR_REFUSED);
    }
}

static void xmit(sdtls_udp *u, sdtls_udp_session *s, const uint8_t *buf, size_t len)
{
    int tries;

    for (tries = 0; tries < EINTR_RETRIES; tries++) {
        ssize_t n;

        if (u->is_server) {
            n = sendto(u->fd, buf, len, 0, (const struct sockaddr *)&s->peer.ss, s->peer.len);
        } else {
            n = send(u->fd, buf, len, 0);
        }
        if (n >= 0) {
            u->stats.dgrams_tx++;
            u->stats.bytes_tx += (uint64_t)n;
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == ECONNREFUSED && !u->is_server) {
            client_refused(u);
            return;
        }
        break;
    }
    /* EAGAIN, ENOBUFS and the like: the datagram is lost, as it could be on the wire. */
    u->stats.tx_errors++;
}

/* Send everything the engine has for this session. */
static void drain(sdtls_udp_session *s, uint64_t now)
{
    sdtls_udp *u = s->u;
    int i;

    for (i = 0; i < DRAIN_MAX; i++) {
        size_t n = 0;
        int rc = sdtls_conn_send(s->conn, u->tx, TX_CAP, &n, now);

        if (n > 0 && n <= TX_CAP) {
            if (!s->has_started) {
                s->has_started = 1;
                s->start_ms = now;
            }
            xmit(u, s, u->tx, n);
        }
        if (rc != 0) {
            /* The sticky fatal code after the alert went out, or a buffer problem that would
             * repeat at every call: the session is over. SDTLS_ERR_CLOSED after our
             * close_notify just means there is nothing more. */
            if (ends_session(rc) || rc == SDTLS_ERR_BUF_SMALL) {
                fail(s, rc);
            }
            return;
        }
        if (n == 0) {
            return;
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Receiving
 * ---------------------------------------------------------------------------------------- */

static void feed(sdtls_udp_session *s, const uint8_t *dgram, size_t len, uint64_t now)
{
    int rc;

    s->last_rx_ms = now;
    rc = sdtls_conn_recv(s->conn, dgram, len, now);
    if (ends_session(rc)) {
        fail(s, rc);
    }
    /* After a local-alert code this sends the alert (the fatal-error rule of sdtls.h). */
    drain(s, now);
    s->has_events = 1;
}

/* What the driver reads from a ClientHello itself: the random, to recognise a duplicate of the
 * one that created a session, and whether it carries a cookie. */
typedef struct ch_info {
    uint8_t random[CH_RANDOM_LEN];
    size_t cookie_len;
} ch_info;

/* A bounds-checked cursor over datagram bytes. The library's sdtls_rd is internal to it and
 * this driver sees only the public API, so it keeps its own minimal one, with the same rule:
 * every read checks what is left first. */
typedef struct cur {
    const uint8_t *p;
    size_t left;
} cur;

static int cur_take(cur *c, size_t n, const uint8_t **out)
{
    if (n > c->left) {
        return -1;
    }
    if (out != NULL) {
        *out = c->p;
    }
    c->p += n;
    c->left -= n;
    return 0;
}

/* Big-endian unsigned integer of n (1..4) bytes. */
static int cur_uint(cur *c, size_t n, uint32_t *v)
{
    const uint8_t *b;
    size_t i;

    if (n == 0 || n > 4 || cur_take(c, n, &b) != 0) {
        return -1;
    }
    *v = 0;
    for (i = 0; i < n; i++) {
        *v = (*v << 8) | b[i];
    }
    return 0;
}

/* Record and handshake headers of the first record (RFC 6347 4.1 and 4.2.2): 0 if it is a
 * handshake record in epoch 0 whose first message is a ClientHello, with *body set to the
 * message's first fragment when it starts at offset 0 (else body->left is 0). */
static int first_client_hello(const uint8_t *dgram, size_t len, cur *body)
{
    cur d = {dgram, len};
    cur rec;
    uint32_t type, epoch, rec_len, hs_type, frag_off, frag_len, ignored;
    const uint8_t *p;

    body->p = NULL;
    body->left = 0;
    if (cur_uint(&d, 1, &type) != 0 || type != 22 || cur_uint(&d, 2, &ignored) != 0 ||
        cur_uint(&d, 2, &epoch) != 0 || epoch != 0 || cur_take(&d, 6, NULL) != 0 ||
        cur_uint(&d, 2, &rec_len) != 0 || cur_take(&d, rec_len, &p) != 0) {
        return -1;
    }
    rec.p = p;
    rec.left = rec_len;
    if (cur_uint(&rec, 1, &hs_type) != 0 || hs_type != 1 || cur_uint(&rec, 3, &ignored) != 0 ||
        cur_uint(&rec, 2, &ignored) != 0 || cur_uint(&rec, 3, &frag_off) != 0 ||
        cur_uint(&rec, 3, &frag_len) != 0) {
        return -1;
    }
    if (frag_off == 0 && cur_take(&rec, frag_len, &p) == 0) {
        body->p = p;
        body->left = frag_len;
    }
    return 0;
}

/* The random and cookie length of the datagram's ClientHello (RFC 6347 4.2.1:
 * client_version, random, session_id<0..32>, cookie<0..255>), all inside the first fragment.
 * Returns 0 or -1. */
static int parse_client_hello(const uint8_t *dgram, size_t len, ch_info *out)
{
    cur body;
    uint32_t version, sid_len, cookie_len;
    const uint8_t *random;

    if (first_client_hello(dgram, len, &body) != 0 || cur_uint(&body, 2, &version) != 0 ||
        cur_take(&body, CH_RANDOM_LEN, &random) != 0 || cur_uint(&body, 1, &sid_len) != 0 ||
        sid_len > 32 || cur_take(&body, sid_len, NULL) != 0 ||
        cur_uint(&body, 1, &cookie_len) != 0 || cur_take(&body, cookie_len, NULL) != 0) {
        return -1;
    }
    memcpy(out->random, random, CH_RANDOM_LEN);
    out->cookie_len = cookie_len;
    return 0;
}

static sdtls_udp_session *lookup(sdtls_udp *u, const uint8_t *key, size_t key_len)
{
    size_t i;

    for (i = 0; i < u->max_sessions; i++) {
        sdtls_udp_session *s = &u->sessions[i];

        if (s->in_use && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            return s;
        }
    }
    return NULL;
}

static sdtls_udp_session *free_slot(sdtls_udp *u)
{
    size_t i;

    for (i = 0; i < u->max_sessions; i++) {
        if (!u->sessions[i].in_use) {
            return &u->sessions[i];
        }
    }
    return NULL;
}

/* Sessions whose handshake has not completed; terminal ones, about to be freed, left out. */
static size_t half_open_count(const sdtls_udp *u)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < u->max_sessions; i++) {
        const sdtls_udp_session *s = &u->sessions[i];

        if (s->in_use && !s->is_terminal && !sdtls_conn_is_handshake_done(s->conn)) {
            n++;
        }
    }
    return n;
}

/* The half-open cap, checked before anything is allocated for an ACCEPT. Returns 1 if full. */
static int half_open_full(sdtls_udp *u)
{
    if (half_open_count(u) < u->max_half_open) {
        return 0;
    }
    u->stats.half_open_full++;
    sdtls__udp_set_error("half-open sessions at the limit (%zu)", u->max_half_open);
    return 1;
}

/* The stateless front door: screen, send the HelloVerifyRequest if that is the answer.
 * Returns the verdict (IGNORE also when screening failed). */
static sdtls_verdict screen(sdtls_udp *u, const uint8_t *dgram, size_t len,
                            const sdtls_udp_addr *from, const uint8_t *key, size_t key_len,
                            uint64_t now)
{
    sdtls_verdict verdict = SDTLS_VERDICT_IGNORE;
    size_t reply_len = 0;
    int rc;

    u->stats.screened++;
    rc = sdtls_server_screen(u->cfg, dgram, len, key, key_len, now, u->tx, TX_CAP, &reply_len,
                             &verdict);
    if (rc != 0) {
        u->stats.ignored++;
        return SDTLS_VERDICT_IGNORE;
    }
    switch (verdict) {
    case SDTLS_VERDICT_REPLY:
        if (reply_len > 0 && reply_len <= TX_CAP) {
            sdtls_udp_session tmp;

            /* xmit() needs only the peer address of a session. */
            memset(&tmp, 0, sizeof(tmp));
            tmp.peer = *from;
            xmit(u, &tmp, u->tx, reply_len);
            u->stats.hvr_sent++;
        }
        return SDTLS_VERDICT_REPLY;
    case SDTLS_VERDICT_ACCEPT:
        return SDTLS_VERDICT_ACCEPT;
    case SDTLS_VERDICT_IGNORE:
    default:
        u->stats.ignored++;
        return SDTLS_VERDICT_IGNORE;
    }
}

/* RFC 6347 4.2.8: a ClientHello in epoch 0 from the address of an established session. */
static void server_restart(sdtls_udp *u, sdtls_udp_session *s, const uint8_t *dgram, size_t len,
                           const sdtls_udp_addr *from, const uint8_t *key, size_t key_len,
                           uint64_t now)
{
    ch_info ch;

    /* REPLY: the HelloVerifyRequest went out and the session is untouched. */
    if (screen(u, dgram, len, from, key, key_len, now) != SDTLS_VERDICT_ACCEPT) {
        return;
    }
    /* RFC 6347 4.2.8: the server "MUST NOT destroy the existing association until the client
     * has demonstrated reachability either by completing a cookie exchange or by completing a
     * complete handshake". A valid cookie is that proof; an ACCEPT without a cookie (cookies
     * off) is not. A ClientHello with the random of the one that created this session (or
     * the session it replaced) is a delayed duplicate, not a restart. */
    if (parse_client_hello(dgram, len, &ch) != 0 || ch.cookie_len == 0 || !s->has_ch_random ||
        memcmp(ch.random, s->ch_random, CH_RANDOM_LEN) == 0 ||
        (s->has_prev_random && memcmp(ch.random, s->prev_random, CH_RANDOM_LEN) == 0)) {
        u->stats.ignored++;
        return;
    }
    if (u->has_pending || u->pending == NULL || len > RX_CAP) {
        /* Cannot happen (see the design notes); dropped like a lost datagram. */
        u->stats.ignored++;
        return;
    }
    if (half_open_full(u)) {
        return;
    }
    /* The old session is reported first (the application holds its pointer until its next
     * call); its replacement is created from this copy once it has been freed. */
    memcpy(u->pending, dgram, len);
    u->pending_len = len;
    u->pending_from = *from;
    memcpy(u->pending_prev, s->ch_random, CH_RANDOM_LEN);
    u->has_pending = 1;
    u->stats.restarts++;
    fail(s, SDTLS_UDP_ERR_RESTARTED);
}

/* 1 if the datagram's first record is a tls12_cid record carrying session s's CID. */
static int cid_matches(const sdtls_udp_session *s, const uint8_t *dgram, size_t len)
{
    uint8_t cid[CID_CAP];
    size_t cid_len = 0;
    const uint8_t *in = NULL;

    if (!is_live(s) || sdtls_conn_cid(s->conn, cid, sizeof(cid), &cid_len) != 0 || cid_len == 0) {
        return 0;
    }
    return sdtls_datagram_cid(dgram, len, cid_len, &in) == 1 && memcmp(in, cid, cid_len) == 0;
}

/* The live session whose CID starts the datagram (a tls12_cid record), or NULL. `hint` (the
 * session of the source address, may be NULL) is tried first. */
static sdtls_udp_session *lookup_cid(sdtls_udp *u, sdtls_udp_session *hint, const uint8_t *dgram,
                                     size_t len)
{
    size_t i;

    if (len == 0 || dgram[0] != CT_TLS12_CID) {
        return NULL;
    }
    if (hint != NULL && cid_matches(hint, dgram, len)) {
        return hint;
    }
    for (i = 0; i < u->max_sessions; i++) {
        sdtls_udp_session *s = &u->sessions[i];

        if (s != hint && s->in_use && cid_matches(s, dgram, len)) {
            return s;
        }
    }
    return NULL;
}

/* A CID datagram for session s from another address than its own. `holder` is the session
 * that has the new address (NULL if none). */
static void cid_moved(sdtls_udp *u, sdtls_udp_session *s, sdtls_udp_session *holder,
                      const uint8_t *dgram, size_t len, const sdtls_udp_addr *from,
                      const uint8_t *key, size_t key_len, uint64_t now)
{
    uint64_t idle_base = s->last_rx_ms;

    u->stats.cid_routed++;
    feed(s, dgram, len, now);
    /* RFC 9146 6: the peer address may change only for a datagram that passed the record
     * layer's cryptographic checks and is newer (epoch and sequence number) than the newest
     * received. Its third condition, a way to make sure the new address can receive, is left
     * to the application: DTLS 1.2 has none built in (RFC 9853's return routability check is
     * not implemented). */
    if (!is_live(s) || !sdtls_conn_rx_was_newest(s->conn)) {
        s->last_rx_ms = idle_base; /* a replayed copy does not keep the session alive */
        return;
    }
    if (holder != NULL) {
        /* Its peer's NAT binding went to s's peer: the address leads to s from now on. */
        holder->key_len = 0;
    }
    s->peer = *from;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    u->stats.cid_migrations++;
}

static void server_dgram(sdtls_udp *u, const uint8_t *dgram, size_t len, const sdtls_udp_addr *from,
                         uint64_t now)
{
    uint8_t key[SDTLS_UDP_KEY_CAP];
    size_t key_len = sdtls__udp_addr_key(from, key);
    sdtls_udp_session *s;
    sdtls_conn *conn = NULL;
    ch_info ch;
    cur body;
    int rc;

    if (key_len == 0) {
        u->stats.ignored++;
        return;
    }
    s = lookup(u, key, key_len);
    if (len > 0 && dgram[0] == CT_TLS12_CID) {
        sdtls_udp_session *by_cid = lookup_cid(u, s, dgram, len);

        if (by_cid != NULL && by_cid != s) {
            cid_moved(u, by_cid, s, dgram, len, from, key, key_len, now);
            return;
        }
        /* No session has this CID (yet): e.g. the Finished of a handshake in progress. */
    }
    if (s != NULL) {
        if (!is_live(s)) {
            u->stats.ignored++;
        } else if (sdtls_conn_is_handshake_done(s->conn) && !sdtls_conn_is_closed(s->conn) &&
                   first_client_hello(dgram, len, &body) == 0) {
            server_restart(u, s, dgram, len, from, key, key_len, now);
        } else {
            /* Mid-handshake, retransmitted ClientHellos included: the engine's business. */
            feed(s, dgram, len, now);
        }
        return;
    }

    /* Unknown peer: the stateless front door decides; nothing is allocated before ACCEPT. */
    if (screen(u, dgram, len, from, key, key_len, now) != SDTLS_VERDICT_ACCEPT) {
        return;
    }
    if (half_open_full(u)) {
        return;
    }
    s = free_slot(u);
    if (s == NULL) {
        u->stats.table_full++;
        sdtls__udp_set_error("session table full (%zu)", u->max_sessions);
        return;
    }
    rc = sdtls_conn_new(u->cfg, SDTLS_ROLE_SERVER, key, key_len, &conn);
    if (rc != 0) {
        sdtls__udp_set_error("sdtls_conn_new: %s", sdtls_strerror(rc));
        u->stats.ignored++;
        return;
    }
    memset(s, 0, sizeof(*s));
    s->u = u;
    s->conn = conn;
    s->peer = *from;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    s->in_use = 1;
    s->has_started = 1;
    s->start_ms = now;
    s->last_rx_ms = now;
    s->accept_pending = 1;
    if (parse_client_hello(dgram, len, &ch) == 0) {
        memcpy(s->ch_random, ch.random, CH_RANDOM_LEN);
        s->has_ch_random = 1;
    }
    if (u->carry_prev) {
        memcpy(s->prev_random, u->pending_prev, CH_RANDOM_LEN);
        s->has_prev_random = 1;
    }
    u->count++;
    u->stats.accepted++;
    feed(s, dgram, len, now);
}

/* A client restart waits here until the session it replaces has been reported and freed. */
static void run_pending(sdtls_udp *u, uint64_t now)
{
    uint8_t key[SDTLS_UDP_KEY_CAP];
    size_t key_len;
    sdtls_udp_session *s;

    if (!u->has_pending) {
        return;
    }
    key_len = sdtls__udp_addr_key(&u->pending_from, key);
    s = lookup(u, key, key_len);
    if (s != NULL && !is_live(s)) {
        return; /* the old session's FAILED event is not delivered yet */
    }
    u->has_pending = 0;
    if (s != NULL) {
        u->stats.ignored++; /* cannot happen: nothing is read while a restart is pending */
        return;
    }
    u->carry_prev = 1;
    server_dgram(u, u->pending, u->pending_len, &u->pending_from, now);
    u->carry_prev = 0;
}

static void client_dgram(sdtls_udp *u, const uint8_t *dgram, size_t len, uint64_t now)
{
    sdtls_udp_session *s = &u->sessions[0];

    if (!u->got_rx) {
        /* The server answered: this is the address; stop trying others. */
        u->got_rx = 1;
    }
    if (!is_live(s)) {
        u->stats.ignored++;
        return;
    }
    feed(s, dgram, len, now);
}

static int pull_event(sdtls_udp *u, uint64_t now, sdtls_udp_event *ev);

static int read_batch(sdtls_udp *u)
{
    int i;

    for (i = 0; i < RX_BATCH; i++) {
        sdtls_udp_addr from;
        uint64_t now;
        ssize_t n;

        memset(&from, 0, sizeof(from));
        from.len = sizeof(from.ss);
        n = recvfrom(u->fd, u->rx, RX_CAP, 0, (struct sockaddr *)&from.ss, &from.len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            if (errno == ECONNREFUSED && !u->is_server) {
                client_refused(u);
                return 0;
            }
            if (errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH) {
                /* An ICMP error for one of many peers (Linux reports some on unconnected
                 * sockets too); not a reason to stop serving the others. */
                return 0;
            }
            sdtls__udp_set_error("recvfrom: %s", strerror(errno));
            return SDTLS_UDP_ERR_SOCKET;
        }
        u->stats.dgrams_rx++;
        u->stats.bytes_rx += (uint64_t)n;
        if (n == 0) {
            u->stats.ignored++;
            continue;
        }
        now = udp_now(u);
        if (u->is_server) {
            server_dgram(u, u->rx, (size_t)n, &from, now);
        } else {
            client_dgram(u, u->rx, (size_t)n, now);
        }
        /* Deliver what this datagram produced before feeding the next one. */
        if (pull_event(u, now, &u->stash)) {
            u->has_stash = 1;
            return 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Timers and events
 * ---------------------------------------------------------------------------------------- */

/* Server sessions still handshaking are bounded by the handshake deadline. */
static int has_handshake_deadline(const sdtls_udp *u, const sdtls_udp_session *s)
{
    return u->is_server && u->handshake_ms != 0 && !sdtls_conn_is_handshake_done(s->conn);
}

static void run_timers(sdtls_udp *u, uint64_t now)
{
    size_t i;

    for (i = 0; i < u->max_sessions; i++) {
        sdtls_udp_session *s = &u->sessions[i];
        uint64_t dl;

        if (!is_live(s)) {
            continue;
        }
        if (s->needs_kick) {
            /* Client: the handshake starts at the first send. */
            s->needs_kick = 0;
            drain(s, now);
            s->has_events = 1;
            if (!is_live(s)) {
                continue;
            }
        }
        dl = sdtls_conn_deadline(s->conn);
        if (dl != SDTLS_NO_DEADLINE && now >= dl) {
            int rc = sdtls_conn_on_timeout(s->conn, now);

            if (ends_session(rc)) {
                fail(s, rc);
            }
            drain(s, now);
            s->has_events = 1;
        }
        if (is_live(s) && u->idle_ms != 0 && now >= s->last_rx_ms &&
            now - s->last_rx_ms >= u->idle_ms) {
            fail(s, SDTLS_UDP_ERR_IDLE);
        }
        if (is_live(s) && has_handshake_deadline(u, s) && now >= s->start_ms &&
            now - s->start_ms >= u->handshake_ms) {
            u->stats.handshake_timeouts++;
            fail(s, SDTLS_UDP_ERR_HANDSHAKE);
        }
    }
}

/* Earliest timer of all live sessions, or SDTLS_NO_DEADLINE. */
static uint64_t next_timer(const sdtls_udp *u)
{
    uint64_t t = SDTLS_NO_DEADLINE;
    size_t i;

    for (i = 0; i < u->max_sessions; i++) {
        const sdtls_udp_session *s = &u->sessions[i];
        uint64_t dl;

        if (!is_live(s)) {
            continue;
        }
        dl = sdtls_conn_deadline(s->conn);
        if (dl < t) {
            t = dl;
        }
        if (u->idle_ms != 0 && s->last_rx_ms + u->idle_ms < t) {
            t = s->last_rx_ms + u->idle_ms;
        }
        if (has_handshake_deadline(u, s) && u->handshake_ms < SDTLS_NO_DEADLINE - s->start_ms &&
            s->start_ms + u->handshake_ms < t) {
            t = s->start_ms + u->handshake_ms;
        }
    }
    return t;
}

static void terminal(sdtls_udp_session *s, sdtls_udp_event *ev)
{
    s->is_terminal = 1;
    s->has_events = 0;
    ev->session = s;
    if (s->err != 0) {
        ev->type = SDTLS_UDP_EV_FAILED;
        ev->err = s->err;
        s->u->stats.failed++;
        int alert = sdtls_err_alert(s->err);
        if (alert >= 0 && alert < 256) {
            if (s->err <= -0x200) {
                s->u->stats.failed_alert_received[alert]++;
            } else {
                s->u->stats.failed_alert_sent[alert]++;
            }
        }
    } else {
        ev->type = SDTLS_UDP_EV_CLOSED;
        s->u->stats.closed++;
    }
}

/* Take one event of session s into ev. Returns 1 if ev was filled. */
static int pull_session(sdtls_udp_session *s, uint64_t now, sdtls_udp_event *ev)
{
    int k;

    if (s->accept_pending) {
        s->accept_pending = 0;
        ev->type = SDTLS_UDP_EV_ACCEPTED;
        ev->session = s;
        return 1;
    }
    if (!s->has_events) {
        return 0;
    }
    for (k = 0; k < SKIP_MAX; k++) {
        sdtls_event e;

        memset(&e, 0, sizeof(e));
        if (sdtls_conn_next_event(s->conn, &e) != 0 || e.type == SDTLS_EV_NONE) {
            break;
        }
        ev->session = s;
        switch (e.type) {
        case SDTLS_EV_HANDSHAKE_DONE:
            s->is_done = 1;
            s->done_ms = now;
            s->u->stats.handshakes_done++;
            ev->type = SDTLS_UDP_EV_HANDSHAKE_DONE;
            return 1;
        case SDTLS_EV_DATA:
            ev->type = SDTLS_UDP_EV_DATA;
            ev->data = e.data;
            ev->len = e.len;
            return 1;
        case SDTLS_EV_ALERT:
            if (e.alert == SDTLS_ALERT_CLOSE_NOTIFY && !s->close_sent && s->err == 0) {
                /* RFC 5246 7.2.1: answer close_notify with our own. */
                s->close_sent = 1;
                (void)sdtls_conn_close(s->conn);
                drain(s, now);
            }
            ev->type = SDTLS_UDP_EV_ALERT;
            ev->alert_level = e.alert_level;
            ev->alert = e.alert;
            return 1;
        case SDTLS_EV_CLOSED:
            terminal(s, ev);
            return 1;
        case SDTLS_EV_NONE:
        default:
            /* A newer engine's event this driver does not know: skip it. */
            continue;
        }
    }
    /* The engine has nothing more: report the end if there is one. */
    s->has_events = 0;
    if (s->err != 0 || sdtls_conn_is_closed(s->conn)) {
        terminal(s, ev);
        return 1;
    }
    return 0;
}

static int pull_event(sdtls_udp *u, uint64_t now, sdtls_udp_event *ev)
{
    size_t i;

    if (u->has_stash) {
        u->has_stash = 0;
        *ev = u->stash;
        return 1;
    }
    for (i = 0; i < u->max_sessions; i++) {
        size_t idx = (u->rr + i) % u->max_sessions;
        sdtls_udp_session *s = &u->sessions[idx];

        if (!s->in_use || s->is_terminal) {
            continue;
        }
        if (pull_session(s, now, ev)) {
            u->rr = (idx + 1) % u->max_sessions;
            return 1;
        }
    }
    return 0;
}

static void reap(sdtls_udp *u)
{
    size_t i;

    for (i = 0; i < u->max_sessions; i++) {
        if (u->sessions[i].in_use && u->sessions[i].is_terminal) {
            session_release(u, &u->sessions[i]);
        }
    }
}

int sdtls_udp_next_event(sdtls_udp *u, int extra_fd, int timeout_ms, sdtls_udp_event *ev)
{
    uint64_t limit;
    int has_polled = 0;

    if (u == NULL || ev == NULL) {
        return SDTLS_ERR_ARG;
    }
    memset(ev, 0, sizeof(*ev));
    reap(u);
    if (u->is_server) {
        run_pending(u, udp_now(u));
    }
    limit = timeout_ms < 0 ? SDTLS_NO_DEADLINE : udp_now(u) + (uint64_t)timeout_ms;

    /* Each turn delivers an event, returns NONE, or blocks in poll() until something is due,
     * so the loop is bounded by time. */
    for (;;) {
        uint64_t now = udp_now(u);
        uint64_t until;
        uint64_t wait;
        struct pollfd pfd[2];
        nfds_t nfds = 1;
        int rc;

        if (pull_event(u, now, ev)) {
            return 0;
        }
        run_timers(u, now);
        if (pull_event(u, now, ev)) {
            return 0;
        }
        if (u->extra_ready) {
            u->extra_ready = 0;
            if (extra_fd >= 0) {
                ev->type = SDTLS_UDP_EV_READABLE;
                return 0;
            }
        }
        /* Poll at least once, so a timeout of 0 still takes what the socket holds. */
        if (now >= limit && has_polled) {
            return 0;
        }
        until = next_timer(u);
        if (limit < until) {
            until = limit;
        }
        wait = until == SDTLS_NO_DEADLINE ? POLL_MAX_MS : (until > now ? until - now : 0);
        if (wait > POLL_MAX_MS) {
            wait = POLL_MAX_MS;
        }
        pfd[0].fd = u->fd;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        if (extra_fd >= 0) {
            pfd[1].fd = extra_fd;
            pfd[1].events = POLLIN;
            pfd[1].revents = 0;
            nfds = 2;
        }
        rc = poll(pfd, nfds, (int)wait);
        has_polled = 1;
        if (rc < 0) {
            if (errno == EINTR) {
                return 0;
            }
            sdtls__udp_set_error("poll: %s", strerror(errno));
            return SDTLS_UDP_ERR_SOCKET;
        }
        if (nfds == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
            u->extra_ready = 1;
        }
        if ((pfd[0].revents & POLLNVAL) != 0) {
            sdtls__udp_set_error("poll: socket descriptor is invalid");
            return SDTLS_UDP_ERR_SOCKET;
        }
        if ((pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            rc = read_batch(u);
            if (rc != 0) {
                return rc;
            }
        }
    }
}

int sdtls_udp_client_handshake(sdtls_udp *u, int timeout_ms)
{
    uint64_t limit;
    sdtls_udp_session *s;

    if (u == NULL) {
        return SDTLS_ERR_ARG;
    }
    s = &u->sessions[0];
    if (u->is_server || !s->in_use) {
        return SDTLS_ERR_STATE;
    }
    if (s->is_terminal) {
        return s->err != 0 ? s->err : SDTLS_ERR_CLOSED;
    }
    if (s->is_done) {
        return 0;
    }
    limit = timeout_ms < 0 ? SDTLS_NO_DEADLINE : udp_now(u) + (uint64_t)timeout_ms;
    for (;;) {
        sdtls_udp_event ev;
        int left = -1;
        int rc;

        if (limit != SDTLS_NO_DEADLINE) {
            uint64_t now = udp_now(u);

            left = now >= limit ? 0 : (int)(limit - now);
        }
        rc = sdtls_udp_next_event(u, -1, left, &ev);
        if (rc != 0) {
            return rc;
        }
        switch (ev.type) {
        case SDTLS_UDP_EV_NONE:
            return SDTLS_ERR_AGAIN;
        case SDTLS_UDP_EV_HANDSHAKE_DONE:
            return 0;
        case SDTLS_UDP_EV_CLOSED:
            return SDTLS_ERR_CLOSED;
        case SDTLS_UDP_EV_FAILED:
            return ev.err;
        default:
            /* Warning alerts and the like: keep going. */
            break;
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Endpoint creation and queries
 * ---------------------------------------------------------------------------------------- */

int sdtls_udp_server_new(sdtls_udp **out, const sdtls_config *cfg, const char *listen_addr,
                         size_t max_sessions)
{
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    sdtls_udp *u;
    int rc;

    if (out == NULL || cfg == NULL || listen_addr == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    sdtls__udp_clear_error();
    if (max_sessions == 0) {
        max_sessions = SDTLS_UDP_DEFAULT_MAX_SESSIONS;
    }
    u = endpoint_alloc(cfg, max_sessions);
    if (u == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    u->is_server = 1;
    u->pending = malloc(RX_CAP);
    if (u->pending == NULL) {
        sdtls_udp_free(u);
        return SDTLS_ERR_NOMEM;
    }
    rc = sdtls__udp_resolve(listen_addr, 1, &res);
    if (rc != 0) {
        sdtls_udp_free(u);
        return rc;
    }
    for (ai = res; ai != NULL && u->fd < 0; ai = ai->ai_next) {
        u->fd = sdtls__udp_open(ai, 1, listen_addr);
    }
    freeaddrinfo(res);
    if (u->fd < 0) {
        sdtls_udp_free(u);
        return SDTLS_UDP_ERR_SOCKET;
    }
    *out = u;
    return 0;
}

int sdtls_udp_client_new(sdtls_udp **out, const sdtls_config *cfg, const char *server_addr,
                         sdtls_udp_session **session)
{
    sdtls_udp *u;
    sdtls_udp_session *s;
    struct addrinfo *ai;
    int rc;

    if (out == NULL || cfg == NULL || server_addr == NULL) {
        return SDTLS_ERR_ARG;
    }
    *out = NULL;
    if (session != NULL) {
        *session = NULL;
    }
    sdtls__udp_clear_error();
    u = endpoint_alloc(cfg, 1);
    if (u == NULL) {
        return SDTLS_ERR_NOMEM;
    }
    u->server_text = strdup(server_addr);
    if (u->server_text == NULL) {
        sdtls_udp_free(u);
        return SDTLS_ERR_NOMEM;
    }
    rc = sdtls__udp_resolve(server_addr, 0, &u->ai_list);
    if (rc != 0) {
        sdtls_udp_free(u);
        return rc;
    }
    for (ai = u->ai_list; ai != NULL && u->fd < 0; ai = ai->ai_next) {
        u->fd = sdtls__udp_open(ai, 0, server_addr);
        u->ai_cur = ai;
    }
    if (u->fd < 0) {
        sdtls_udp_free(u);
        return SDTLS_UDP_ERR_SOCKET;
    }
    s = &u->sessions[0];
    memset(s, 0, sizeof(*s));
    s->u = u;
    if (u->ai_cur->ai_addrlen <= sizeof(s->peer.ss)) {
        memcpy(&s->peer.ss, u->ai_cur->ai_addr, u->ai_cur->ai_addrlen);
        s->peer.len = u->ai_cur->ai_addrlen;
    }
    s->key_len = sdtls__udp_addr_key(&s->peer, s->key);
    rc = sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, s->key, s->key_len, &s->conn);
    if (rc != 0) {
        sdtls__udp_set_error("sdtls_conn_new: %s", sdtls_strerror(rc));
        memset(s, 0, sizeof(*s));
        sdtls_udp_free(u);
        return rc;
    }
    s->in_use = 1;
    s->needs_kick = 1;
    s->last_rx_ms = udp_now(u);
    u->count = 1;
    *out = u;
    if (session != NULL) {
        *session = s;
    }
    return 0;
}

int sdtls_udp_close_all(sdtls_udp *u)
{
    uint64_t now;
    size_t i;

    if (u == NULL) {
        return SDTLS_ERR_ARG;
    }
    now = udp_now(u);
    for (i = 0; i < u->max_sessions; i++) {
        sdtls_udp_session *s = &u->sessions[i];

        if (is_live(s) && !s->close_sent) {
            s->close_sent = 1;
            /* Mid-handshake the engine may refuse (SDTLS_ERR_STATE): nothing to say then. */
            if (sdtls_conn_close(s->conn) == 0) {
                drain(s, now);
            }
        }
        session_release(u, s);
    }
    u->has_pending = 0;
    return 0;
}

int sdtls_udp_set_limits(sdtls_udp *u, size_t max_half_open, uint64_t handshake_timeout_ms)
{
    if (u == NULL) {
        return SDTLS_ERR_ARG;
    }
    if (!u->is_server) {
        return SDTLS_ERR_STATE;
    }
    u->max_half_open =
        max_half_open != 0 ? max_half_open : SDTLS_UDP_DEFAULT_MAX_HALF_OPEN(u->max_sessions);
    u->handshake_ms = handshake_timeout_ms;
    return 0;
}

int sdtls_udp_set_clock(sdtls_udp *u, sdtls_udp_clock_fn now_ms, void *user)
{
    if (u == NULL) {
        return SDTLS_ERR_ARG;
    }
    u->clock = now_ms;
    u->clock_user = user;
    return 0;
}

int sdtls_udp_set_idle_timeout(sdtls_udp *u, uint64_t idle_ms)
{
    if (u == NULL) {
        return SDTLS_ERR_ARG;
    }
    u->idle_ms = idle_ms;
    return 0;
}

int sdtls_udp_local_addr(const sdtls_udp *u, sdtls_udp_addr *out)
{
    if (u == NULL || out == NULL) {
        return SDTLS_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    out->len = sizeof(out->ss);
    if (getsockname(u->fd, (struct sockaddr *)&out->ss, &out->len) != 0) {
        sdtls__udp_set_error("getsockname: %s", strerror(errno));
        return SDTLS_UDP_ERR_SOCKET;
    }
    return 0;
}

int sdtls_udp_fd(const sdtls_udp *u)
{
    return u != NULL ? u->fd : -1;
}

size_t sdtls_udp_session_count(const sdtls_udp *u)
{
    return u != NULL ? u->count : 0;
}

size_t sdtls_udp_sessions(sdtls_udp *u, sdtls_udp_session **out, size_t cap)
{
    size_t i;
    size_t n = 0;

    if (u == NULL || out == NULL) {
        return 0;
    }
    for (i = 0; i < u->max_sessions && n < cap; i++) {
        if (u->sessions[i].in_use && !u->sessions[i].is_terminal) {
            out[n++] = &u->sessions[i];
        }
    }
    return n;
}

void sdtls_udp_get_stats(const sdtls_udp *u, sdtls_udp_stats *out)
{
    if (out == NULL) {
        return;
    }
    if (u == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = u->stats;
}

/* ------------------------------------------------------------------------------------------
 * Sessions
 * ---------------------------------------------------------------------------------------- */

sdtls_conn *sdtls_udp_session_conn(const sdtls_udp_session *s)
{
    return s != NULL ? s->conn : NULL;
}

const sdtls_udp_addr *sdtls_udp_session_peer(const sdtls_udp_session *s)
{
    return s != NULL ? &s->peer : NULL;
}

void sdtls_udp_session_set_user(sdtls_udp_session *s, void *user)
{
    if (s != NULL) {
        s->user = user;
    }
}

void *sdtls_udp_session_user(const sdtls_udp_session *s)
{
    return s != NULL ? s->user : NULL;
}

uint64_t sdtls_udp_session_start_ms(const sdtls_udp_session *s)
{
    return s != NULL && s->has_started ? s->start_ms : 0;
}

uint64_t sdtls_udp_session_handshake_ms(const sdtls_udp_session *s)
{
    if (s == NULL || !s->is_done || !s->has_started || s->done_ms < s->start_ms) {
        return 0;
    }
    return s->done_ms - s->start_ms;
}

int sdtls_udp_session_write(sdtls_udp_session *s, const uint8_t *data, size_t len)
{
    size_t n = 0;
    int rc;

    if (s == NULL || !s->in_use) {
        return SDTLS_ERR_ARG;
    }
    if (!is_live(s)) {
        return s->err != 0 ? s->err : SDTLS_ERR_CLOSED;
    }
    rc = sdtls_conn_write(s->conn, data, len, s->u->tx, TX_CAP, &n);
    if (rc == 0) {
        if (n > 0 && n <= TX_CAP) {
            xmit(s->u, s, s->u->tx, n);
        }
        return 0;
    }
    if (ends_session(rc)) {
        fail(s, rc);
        drain(s, udp_now(s->u));
    }
    return rc;
}

int sdtls_udp_session_close(sdtls_udp_session *s)
{
    int rc;

    if (s == NULL || !s->in_use) {
        return SDTLS_ERR_ARG;
    }
    if (!is_live(s)) {
        return s->err != 0 ? s->err : SDTLS_ERR_CLOSED;
    }
    if (s->close_sent) {
        return 0;
    }
    rc = sdtls_conn_close(s->conn);
    if (rc == 0) {
        s->close_sent = 1;
    } else if (ends_session(rc)) {
        fail(s, rc);
    }
    drain(s, udp_now(s->u));
    s->has_events = 1;
    return rc;
}
