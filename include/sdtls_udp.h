/*
 * sdtls UDP driver — the optional socket layer around the sans-I/O engine.
 *
 * This is the only part of sdtls that opens sockets, calls poll() and reads a clock. It owns
 * one non-blocking UDP socket and the sdtls_conn objects behind it ("sessions"):
 *
 *  - A client endpoint (sdtls_udp_client_new) holds one session towards one server.
 *  - A server endpoint (sdtls_udp_server_new) holds a fixed-size table of sessions keyed by
 *    peer address. Datagrams from unknown peers go through sdtls_server_screen() first: REPLY
 *    sends the HelloVerifyRequest and keeps no state; ACCEPT creates the connection and feeds
 *    it the same datagram. Nothing is allocated for a peer before that.
 *
 * Server limits (sdtls_udp_set_limits), which bound what peers that can receive our
 * HelloVerifyRequest (real addresses, not spoofed ones) can cost:
 *  - at most `max_sessions` sessions in the table (fixed at creation); an ACCEPT beyond it is
 *    dropped and counted `table_full`;
 *  - at most `max_half_open` sessions whose handshake is not complete; an ACCEPT beyond it is
 *    dropped before anything is allocated and counted `half_open_full` (the client
 *    retransmits and may find room later);
 *  - a handshake deadline: a session still handshaking `handshake_timeout_ms` after its
 *    creation fails with SDTLS_UDP_ERR_HANDSHAKE and is freed (counted `handshake_timeouts`),
 *    so a peer that passes the cookie exchange and then stalls holds a slot for a bounded time.
 *
 * Client restart (RFC 6347 4.2.8): a datagram from the address of an established session whose
 * first record is a ClientHello in epoch 0 is screened like one from an unknown peer. REPLY
 * sends the HelloVerifyRequest and leaves the session alone. ACCEPT (a valid cookie: the client
 * has shown it receives at that address) ends the old session with a FAILED event, err
 * SDTLS_UDP_ERR_RESTARTED (counted `restarts`), and once that event has been delivered a new
 * session for the same address takes its place (an ACCEPTED event follows), subject to the
 * half-open limit. A duplicate of the ClientHello that created the current session (same
 * client random) and a ClientHello accepted without a cookie (cookies off: no proof of
 * reachability) never replace a session. While the existing session is still handshaking its
 * datagrams, ClientHellos included, go to it as usual.
 *
 * Connection IDs (RFC 9146, sdtls_config_set_cid with a length of 1 or more): a server routes
 * a datagram whose first record is a tls12_cid record to the session with that CID, whatever
 * address it came from, and moves the session to that address (sdtls_udp_session_peer()
 * changes; replies go there) once such a datagram held an authenticated record newer than any
 * the session received before (RFC 9146 6). A replayed or delayed datagram from another
 * address is given to the session, which drops or accepts its records as usual, but does not
 * move it. So a client behind a NAT whose binding changes keeps its session. Counted in
 * `cid_routed` and `cid_migrations`.
 *
 * The application pulls events with sdtls_udp_next_event(), which waits in poll() for the
 * socket, an optional extra descriptor (e.g. stdin) and the earliest sdtls_conn_deadline()
 * of all sessions, feeds datagrams and timeouts to the engine and sends everything the
 * engine produces. There are no callbacks.
 *
 * Session lifetime: a session is created by the driver and reported once by exactly one
 * terminal event (SDTLS_UDP_EV_CLOSED or SDTLS_UDP_EV_FAILED). The session pointer, its
 * connection and its user pointer stay valid until the next call of sdtls_udp_next_event()
 * or sdtls_udp_client_handshake() on the endpoint (read stats then), which frees it.
 *
 * Return codes: the sdtls codes from sdtls.h, plus the driver codes below. Use
 * sdtls_udp_strerror() for any of them and sdtls_udp_last_error() for the detail of the
 * last failed system call (resolver or socket message) in the calling thread.
 *
 * Threads: an endpoint and its sessions are used by one thread at a time.
 */
#ifndef SDTLS_UDP_H
#define SDTLS_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sdtls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Driver error codes, outside the ranges of sdtls.h. */
#define SDTLS_UDP_ERR_RESOLVE (-0x401)   /* address could not be parsed or resolved */
#define SDTLS_UDP_ERR_SOCKET (-0x402)    /* socket(), bind(), connect() or poll() failed */
#define SDTLS_UDP_ERR_REFUSED (-0x403)   /* ICMP port unreachable: nobody listens there */
#define SDTLS_UDP_ERR_IDLE (-0x404)      /* session idle for longer than the idle timeout */
#define SDTLS_UDP_ERR_FULL (-0x405)      /* server session table full */
#define SDTLS_UDP_ERR_HANDSHAKE (-0x406) /* handshake not complete by the handshake deadline */
#define SDTLS_UDP_ERR_RESTARTED (-0x407) /* peer restarted: a new handshake replaced it */

/* Defaults of a new endpoint. */
#define SDTLS_UDP_DEFAULT_MAX_SESSIONS 64
#define SDTLS_UDP_DEFAULT_IDLE_MS 300000
/* Server: handshake deadline, from the session's creation. */
#define SDTLS_UDP_DEFAULT_HANDSHAKE_MS 30000
/* Server: half-open sessions allowed by default: half the table, rounded up. */
#define SDTLS_UDP_DEFAULT_MAX_HALF_OPEN(max_sessions) (((max_sessions) + 1) / 2)

/* A socket address as returned by recvfrom(); len 0 means "none". */
typedef struct sdtls_udp_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} sdtls_udp_addr;

typedef struct sdtls_udp sdtls_udp;
typedef struct sdtls_udp_session sdtls_udp_session;

typedef enum {
    SDTLS_UDP_EV_NONE = 0,           /* the wait timed out or a signal interrupted it */
    SDTLS_UDP_EV_ACCEPTED = 1,       /* server: a new session exists (cookie verified) */
    SDTLS_UDP_EV_HANDSHAKE_DONE = 2, /* the session can write and read application data */
    SDTLS_UDP_EV_DATA = 3,           /* data/len: one application record (see below) */
    SDTLS_UDP_EV_ALERT = 4,          /* alert_level/alert: the peer sent an alert */
    SDTLS_UDP_EV_CLOSED = 5,         /* terminal: close_notify exchanged */
    SDTLS_UDP_EV_FAILED = 6,         /* terminal: the session failed with `err` */
    SDTLS_UDP_EV_READABLE = 7,       /* the extra descriptor is readable (session NULL) */
} sdtls_udp_event_type;

typedef struct sdtls_udp_event {
    sdtls_udp_event_type type;
    sdtls_udp_session *session; /* the session concerned; NULL for NONE and READABLE */
    const uint8_t *data;        /* DATA: view into the connection, valid until the next
                                   driver call on the endpoint or session (copy it to echo) */
    size_t len;
    uint8_t alert_level, alert; /* ALERT */
    int err;                    /* FAILED: sdtls or driver code (sdtls_udp_strerror) */
} sdtls_udp_event;

/* Endpoint-level counters (the engine's own are in sdtls_conn_stats()). */
typedef struct sdtls_udp_stats {
    uint64_t dgrams_rx, dgrams_tx, bytes_rx, bytes_tx;
    uint64_t screened;   /* datagrams given to sdtls_server_screen() (unknown peers, restarts) */
    uint64_t hvr_sent;   /* HelloVerifyRequests sent */
    uint64_t ignored;    /* datagrams screened IGNORE, or for no session (client) */
    uint64_t accepted;   /* sessions created */
    uint64_t table_full; /* ACCEPT verdicts dropped because the table was full */
    uint64_t tx_errors;  /* datagrams the kernel refused to send (dropped, like loss) */
    uint64_t closed;     /* sessions ended by close_notify */
    uint64_t failed;     /* sessions ended by an error (all causes below included) */
    uint64_t half_open_full;     /* ACCEPT verdicts dropped: max_half_open handshakes running */
    uint64_t handshake_timeouts; /* sessions failed by the handshake deadline */
    uint64_t restarts;           /* sessions replaced by a client restart (RFC 6347 4.2.8) */
    uint64_t cid_routed;         /* datagrams from another address than their session's, routed by
                                    connection ID (RFC 9146) */
    uint64_t cid_migrations;     /* sessions moved to a new peer address by such a datagram */
    uint64_t handshakes_done;    /* sessions whose handshake completed */
    /* Sessions that failed with an alert, by alert description: sent[a] we sent alert a,
     * received[a] the peer sent it. */
    uint64_t failed_alert_sent[256];
    uint64_t failed_alert_received[256];
} sdtls_udp_stats;

/* ------------------------------------------------------------------------------------------
 * Utilities
 * ---------------------------------------------------------------------------------------- */

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC); the time base for every sdtls call. */
uint64_t sdtls_udp_now_ms(void);

/* Parse "127.0.0.1:4433", "[::1]:4433", "localhost:4433" (getaddrinfo, UDP) into the first
 * address found. `passive` 1 resolves for bind() ("*:4433" or ":4433" mean any IPv4 address).
 * Returns 0 or SDTLS_UDP_ERR_RESOLVE. */
int sdtls_udp_addr_parse(const char *text, int passive, sdtls_udp_addr *out);
/* Format as "127.0.0.1:4433" or "[::1]:4433" (NUL-terminated; 64 bytes are enough).
 * Returns 0, SDTLS_ERR_ARG or SDTLS_ERR_BUF_SMALL. */
int sdtls_udp_addr_format(const sdtls_udp_addr *addr, char *out, size_t cap);

/* Message for an sdtls or driver code (never NULL, static storage). */
const char *sdtls_udp_strerror(int err);
/* Detail of the last failing driver call in this thread, e.g. "bind 127.0.0.1:80: Permission
 * denied" ("" if none). Valid until the next driver call in this thread. */
const char *sdtls_udp_last_error(void);

/* ------------------------------------------------------------------------------------------
 * Endpoints
 * ---------------------------------------------------------------------------------------- */

/* Server endpoint: a UDP socket bound to `listen_addr` ("ADDR:PORT"; port 0 picks a free
 * port, see sdtls_udp_local_addr()) serving at most `max_sessions` peers at once (0 means
 * SDTLS_UDP_DEFAULT_MAX_SESSIONS). `cfg` must carry a certificate and outlive the endpoint.
 * Returns 0, SDTLS_ERR_ARG, SDTLS_ERR_NOMEM, SDTLS_UDP_ERR_RESOLVE, SDTLS_UDP_ERR_SOCKET. */
int sdtls_udp_server_new(sdtls_udp **out, const sdtls_config *cfg, const char *listen_addr,
                         size_t max_sessions);

/* Client endpoint: a UDP socket connected to `server_addr` and one client connection, whose
 * handshake starts at the first sdtls_udp_next_event() / sdtls_udp_client_handshake(). Before
 * that the caller may configure sdtls_udp_session_conn(*session) (server name, fingerprint).
 * If the name resolves to several addresses and the first answers "port unreachable" before
 * any datagram arrived, the next one is tried (the flight goes there at its next
 * retransmission); on the last one, "port unreachable" is tolerated for 3 s (the server may
 * be starting) before the session fails with SDTLS_UDP_ERR_REFUSED. `cfg` must outlive the
 * endpoint. Returns as sdtls_udp_server_new() and the codes of sdtls_conn_new(). */
int sdtls_udp_client_new(sdtls_udp **out, const sdtls_config *cfg, const char *server_addr,
                         sdtls_udp_session **session);

/* Free the endpoint, its sessions (without sending anything) and close the socket. NULL ok. */
void sdtls_udp_free(sdtls_udp *u);

/* Send close_notify on every live session, then free them all without reporting events.
 * Use before sdtls_udp_free() on shutdown. Returns 0. */
int sdtls_udp_close_all(sdtls_udp *u);

/* The endpoint's clock, in milliseconds, for every deadline, timer and time stamp it keeps
 * (default NULL: sdtls_udp_now_ms). Meant for tests and simulations that move time on
 * purpose; it must never go backwards, and it should keep moving, since waits in poll() are
 * computed from it. Set it before the first event. Returns 0 or SDTLS_ERR_ARG. */
typedef uint64_t (*sdtls_udp_clock_fn)(void *user);
int sdtls_udp_set_clock(sdtls_udp *u, sdtls_udp_clock_fn now_ms, void *user);

/* Idle timeout: a session that receives nothing for `idle_ms` fails with SDTLS_UDP_ERR_IDLE
 * (0 disables). Default SDTLS_UDP_DEFAULT_IDLE_MS. Returns 0 or SDTLS_ERR_ARG. */
int sdtls_udp_set_idle_timeout(sdtls_udp *u, uint64_t idle_ms);

/* Server limits (see the top of this file). `max_half_open`: handshakes running at once,
 * 0 for the default SDTLS_UDP_DEFAULT_MAX_HALF_OPEN(max_sessions); a value above max_sessions
 * leaves only the session cap. `handshake_timeout_ms`: time from a session's creation to the
 * end of its handshake, 0 disables (default SDTLS_UDP_DEFAULT_HANDSHAKE_MS). New limits apply
 * from the next datagram and timer check; sessions above a lowered half-open cap are not
 * ended. Returns 0, SDTLS_ERR_ARG (NULL), SDTLS_ERR_STATE (a client endpoint). */
int sdtls_udp_set_limits(sdtls_udp *u, size_t max_half_open, uint64_t handshake_timeout_ms);

/* The bound local address (with the real port when 0 was asked). Returns 0, SDTLS_ERR_ARG,
 * SDTLS_UDP_ERR_SOCKET. */
int sdtls_udp_local_addr(const sdtls_udp *u, sdtls_udp_addr *out);
/* The socket descriptor (owned by the endpoint; for the caller's own poll loops). */
int sdtls_udp_fd(const sdtls_udp *u);
/* Number of sessions in the table, terminal ones not yet freed included. */
size_t sdtls_udp_session_count(const sdtls_udp *u);
/* Fill out[0..cap) with the sessions that have not ended (for shutdown statistics or a
 * broadcast); returns how many were written. The pointers are valid as for events. */
size_t sdtls_udp_sessions(sdtls_udp *u, sdtls_udp_session **out, size_t cap);
void sdtls_udp_get_stats(const sdtls_udp *u, sdtls_udp_stats *out);

/* Pull the next event. Delivers pending events first; otherwise runs expired timers and waits
 * in poll() for at most `timeout_ms` (-1: no limit) for datagrams, timers or `extra_fd`
 * (-1: none) becoming readable, feeding everything to the engine and sending all it produces.
 * On timeout or EINTR it returns 0 with ev->type SDTLS_UDP_EV_NONE, so a signal handler that
 * sets a flag is seen promptly.
 * Returns 0, SDTLS_ERR_ARG, SDTLS_UDP_ERR_SOCKET (poll or the socket failed: the endpoint is
 * unusable; free it). Session failures are events, never return codes. */
int sdtls_udp_next_event(sdtls_udp *u, int extra_fd, int timeout_ms, sdtls_udp_event *ev);

/* Client helper: run the handshake of the client session for at most `timeout_ms` (-1: until
 * it ends; the engine's retransmission limit bounds it). Events before HANDSHAKE_DONE
 * (warning alerts) are consumed. Returns 0 (handshake done; later events stay queued),
 * SDTLS_ERR_AGAIN (timeout_ms passed or a signal arrived: call again), SDTLS_ERR_STATE (not a
 * client endpoint or the session is gone), SDTLS_ERR_CLOSED (peer closed before the end of
 * the handshake), the session's failure code, or the codes of sdtls_udp_next_event(). */
int sdtls_udp_client_handshake(sdtls_udp *u, int timeout_ms);

/* ------------------------------------------------------------------------------------------
 * Sessions
 * ---------------------------------------------------------------------------------------- */

/* The engine connection: for queries (names, fingerprints, export, stats) and for settings
 * before the handshake. Do not feed it datagrams or free it; the driver does. */
sdtls_conn *sdtls_udp_session_conn(const sdtls_udp_session *s);
const sdtls_udp_addr *sdtls_udp_session_peer(const sdtls_udp_session *s);
void sdtls_udp_session_set_user(sdtls_udp_session *s, void *user);
void *sdtls_udp_session_user(const sdtls_udp_session *s);
/* Handshake start: client, first datagram sent; server, session creation. 0 before. */
uint64_t sdtls_udp_session_start_ms(const sdtls_udp_session *s);
/* Handshake duration in ms (0 until the handshake is done). */
uint64_t sdtls_udp_session_handshake_ms(const sdtls_udp_session *s);

/* Send `len` bytes as one application record (len <= sdtls_conn_max_data()). A datagram the
 * kernel refuses counts as lost, as on the wire. Returns 0 or the codes of sdtls_conn_write();
 * a fatal code also ends the session with a FAILED event. */
int sdtls_udp_session_write(sdtls_udp_session *s, const uint8_t *data, size_t len);
/* Send close_notify (sdtls_conn_close, then drain). The session ends with a CLOSED event when
 * the peer answers, or by idle timeout; the caller may also stop waiting and free the
 * endpoint. Returns 0 or the codes of sdtls_conn_close(). */
int sdtls_udp_session_close(sdtls_udp_session *s);

#ifdef __cplusplus
}
#endif
#endif
