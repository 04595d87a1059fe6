/*
 * UDP driver tests over real sockets on 127.0.0.1: a driver server against sdtls client
 * connections driven by hand through the sans-I/O API, each on its own UDP socket.
 *
 *  - half-open cap and handshake deadline: clients that pass the cookie exchange and then
 *    stall hold at most max_half_open sessions, for at most the handshake deadline;
 *  - a flood of ClientHellos without cookies allocates nothing and is answered by at most one
 *    HelloVerifyRequest each, never larger than the request;
 *  - client restart (RFC 6347 4.2.8): a new client connection from the address of an
 *    established session replaces it after the cookie exchange; delayed duplicates of
 *    accepted ClientHellos do not; with cookies off nothing replaces a session;
 *  - connection IDs (RFC 9146): a record with the session's CID from a second socket (a NAT
 *    rebinding) reaches the session and moves it there; a replayed record from a third
 *    socket reaches it too but moves nothing.
 *
 * Every wait is bounded (short poll() slices, wall-clock limits); the whole file runs in well
 * under five seconds.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdtls.h"
#include "sdtls_udp.h"

/* Datagram buffers: the default MTU is 1200; room for any datagram the test sees. */
#define DGRAM_CAP 2048
/* Client datagrams remembered for replays. */
#define SENT_CAP 16
/* Upper bound on any single wait loop of the test. */
#define LOOP_LIMIT_MS 2000

/* ------------------------------------------------------------------------------------------
 * A hand-driven client: one sdtls client connection on its own connected UDP socket.
 * ---------------------------------------------------------------------------------------- */

typedef struct peer {
    int fd;
    sdtls_conn *c;
    int is_mute;      /* stop transmitting (the connection still reads) */
    int is_done;      /* HANDSHAKE_DONE seen */
    int is_closed;    /* CLOSED seen */
    int fatal;        /* first fatal code from the connection */
    size_t rx_dgrams; /* datagrams read from the socket */
    size_t rx_bytes;
    uint8_t data[256]; /* last application record */
    size_t data_len;
    size_t n_data;
    uint8_t sent[SENT_CAP][DGRAM_CAP];
    size_t sent_len[SENT_CAP];
    size_t n_sent;
} peer;

static int open_socket(const sdtls_udp_addr *server)
{
    struct sockaddr_in local;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int bytes = 1 << 20;

    assert_true(fd >= 0);
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&local, sizeof(local)), 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&server->ss, server->len), 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    return fd;
}

/* A new client connection on an existing socket (fd >= 0) or a new one. */
static void peer_start(peer *p, const sdtls_config *cfg, const sdtls_udp_addr *server, int fd)
{
    memset(p, 0, sizeof(*p));
    p->fd = fd >= 0 ? fd : open_socket(server);
    assert_int_equal(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, "srv", 3, &p->c), 0);
}

static void peer_free(peer *p, int close_fd)
{
    sdtls_conn_free(p->c);
    p->c = NULL;
    if (close_fd && p->fd >= 0) {
        (void)close(p->fd);
        p->fd = -1;
    }
}

static void peer_xmit(peer *p, const uint8_t *buf, size_t len)
{
    ssize_t n = send(p->fd, buf, len, 0);

    assert_true(n == (ssize_t)len);
    if (p->n_sent < SENT_CAP) {
        memcpy(p->sent[p->n_sent], buf, len);
        p->sent_len[p->n_sent] = len;
        p->n_sent++;
    }
}

static void peer_events(peer *p)
{
    sdtls_event ev;

    for (;;) {
        assert_int_equal(sdtls_conn_next_event(p->c, &ev), 0);
        switch (ev.type) {
        case SDTLS_EV_NONE:
            return;
        case SDTLS_EV_HANDSHAKE_DONE:
            p->is_done = 1;
            break;
        case SDTLS_EV_DATA:
            assert_true(ev.len <= sizeof(p->data));
            memcpy(p->data, ev.data, ev.len);
            p->data_len = ev.len;
            p->n_data++;
            break;
        case SDTLS_EV_CLOSED:
            p->is_closed = 1;
            break;
        case SDTLS_EV_ALERT:
        default:
            break;
        }
    }
}

/* Read what the socket holds, run the timer, send what the connection has. */
static void peer_step(peer *p)
{
    uint8_t buf[DGRAM_CAP];
    uint64_t now = sdtls_udp_now_ms();
    size_t n;
    int rc;

    for (;;) {
        ssize_t got = recv(p->fd, buf, sizeof(buf), 0);

        if (got < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
            break;
        }
        p->rx_dgrams++;
        p->rx_bytes += (size_t)got;
        if (p->c == NULL) {
            continue;
        }
        rc = sdtls_conn_recv(p->c, buf, (size_t)got, now);
        if (rc != 0 && p->fatal == 0) {
            p->fatal = rc;
        }
        peer_events(p);
    }
    if (p->c == NULL || p->is_mute) {
        return;
    }
    if (now >= sdtls_conn_deadline(p->c)) {
        rc = sdtls_conn_on_timeout(p->c, now);
        if (rc != 0 && p->fatal == 0) {
            p->fatal = rc;
        }
    }
    for (;;) {
        n = 0;
        rc = sdtls_conn_send(p->c, buf, sizeof(buf), &n, now);
        if (n > 0) {
            peer_xmit(p, buf, n);
        }
        if (rc != 0 || n == 0) {
            break;
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * The driver server and what it reported.
 * ---------------------------------------------------------------------------------------- */

typedef struct server {
    sdtls_config *cfg;
    sdtls_udp *u;
    sdtls_udp_addr addr;
    int is_echo;
    size_t accepted, done, closed, failed, n_data;
    int last_err;
    uint64_t last_failed_ms;
    uint64_t min_failed_age_ms; /* least session age (from creation) at a FAILED event */
    sdtls_udp_session *last_failed;
    sdtls_udp_session *last_accepted;
    size_t n_events, last_failed_seq, last_accepted_seq; /* event order */
    uint8_t data[256];
    size_t data_len;
} server;

static sdtls_config *make_config(int is_server, int has_cookies)
{
    sdtls_config *cfg = NULL;

    assert_int_equal(sdtls_config_new(&cfg, NULL), 0);
    assert_int_equal(sdtls_config_set_verify(cfg, SDTLS_VERIFY_NONE), 0);
    if (is_server) {
        assert_int_equal(sdtls_config_generate_cert(cfg, SDTLS_KEY_EC_P256, "test"), 0);
        if (!has_cookies) {
            assert_int_equal(sdtls_config_set_cookie(cfg, 0, 0), 0);
        }
    }
    return cfg;
}

static void server_start(server *sv, size_t max_sessions, int has_cookies)
{
    memset(sv, 0, sizeof(*sv));
    sv->cfg = make_config(1, has_cookies);
    assert_int_equal(sdtls_udp_server_new(&sv->u, sv->cfg, "127.0.0.1:0", max_sessions), 0);
    assert_int_equal(sdtls_udp_local_addr(sv->u, &sv->addr), 0);
}

static void server_stop(server *sv)
{
    sdtls_udp_free(sv->u);
    sdtls_config_free(sv->cfg);
}

/* Wait at most `wait_ms` for one server event and record it. Returns 0 if there was none. */
static int server_event(server *sv, int wait_ms)
{
    sdtls_udp_event ev;
    uint64_t age;

    assert_int_equal(sdtls_udp_next_event(sv->u, -1, wait_ms, &ev), 0);
    sv->n_events++;
    switch (ev.type) {
    case SDTLS_UDP_EV_NONE:
        return 0;
    case SDTLS_UDP_EV_ACCEPTED:
        sv->accepted++;
        sv->last_accepted = ev.session;
        sv->last_accepted_seq = sv->n_events;
        break;
    case SDTLS_UDP_EV_HANDSHAKE_DONE:
        sv->done++;
        break;
    case SDTLS_UDP_EV_DATA:
        assert_true(ev.len <= sizeof(sv->data));
        memcpy(sv->data, ev.data, ev.len);
        sv->data_len = ev.len;
        sv->n_data++;
        if (sv->is_echo) {
            assert_int_equal(sdtls_udp_session_write(ev.session, sv->data, sv->data_len), 0);
        }
        break;
    case SDTLS_UDP_EV_CLOSED:
        sv->closed++;
        break;
    case SDTLS_UDP_EV_FAILED:
        sv->failed++;
        sv->last_err = ev.err;
        sv->last_failed = ev.session;
        sv->last_failed_seq = sv->n_events;
        sv->last_failed_ms = sdtls_udp_now_ms();
        age = sv->last_failed_ms - sdtls_udp_session_start_ms(ev.session);
        if (sv->failed == 1 || age < sv->min_failed_age_ms) {
            sv->min_failed_age_ms = age;
        }
        break;
    case SDTLS_UDP_EV_ALERT:
    case SDTLS_UDP_EV_READABLE:
    default:
        break;
    }
    return 1;
}

/* Take the server's events until a wait of `slice_ms` brings nothing. */
static void server_pump(server *sv, int slice_ms)
{
    uint64_t limit = sdtls_udp_now_ms() + LOOP_LIMIT_MS;

    while (sdtls_udp_now_ms() < limit && server_event(sv, slice_ms)) {
    }
}

static void stats(const server *sv, sdtls_udp_stats *st)
{
    sdtls_udp_get_stats(sv->u, st);
}

/* Run server and peers until `done(arg)` or the loop limit. Returns done(arg). */
typedef int (*cond_fn)(void *arg);

static int run_until(server *sv, peer **peers, size_t n, cond_fn done, void *arg)
{
    uint64_t limit = sdtls_udp_now_ms() + LOOP_LIMIT_MS;
    size_t i;

    while (!done(arg) && sdtls_udp_now_ms() < limit) {
        for (i = 0; i < n; i++) {
            peer_step(peers[i]);
        }
        server_pump(sv, 2);
    }
    return done(arg);
}

static int peer_is_done(void *arg)
{
    return ((peer *)arg)->is_done;
}

/* Offsets in a datagram whose first record is a ClientHello (RFC 6347 4.1, 4.2.2, 4.2.1). */
#define REC_HDR 13
#define HS_HDR 12
#define CH_RANDOM_OFF (REC_HDR + HS_HDR + 2)

/* Length of the cookie of a ClientHello datagram built by sdtls (one record, unfragmented),
 * or -1 if the datagram is not a ClientHello. */
static int ch_cookie_len(const uint8_t *d, size_t len)
{
    size_t off = CH_RANDOM_OFF + 32;

    if (len < off + 1 || d[0] != 22 || d[REC_HDR] != 1) {
        return -1;
    }
    off += 1 + d[off]; /* session_id */
    if (len < off + 1) {
        return -1;
    }
    return d[off];
}

static const uint8_t *find_cookie_ch(const peer *p, size_t *len)
{
    size_t i;

    for (i = 0; i < p->n_sent; i++) {
        if (ch_cookie_len(p->sent[i], p->sent_len[i]) > 0) {
            *len = p->sent_len[i];
            return p->sent[i];
        }
    }
    return NULL;
}

/* The peer has sent its ClientHello with the cookie. */
static int cookie_ch_sent(void *arg)
{
    size_t len;

    return find_cookie_ch(arg, &len) != NULL;
}

/* Drive one client through the cookie exchange only: it sends its ClientHello with the
 * cookie, then goes mute (it keeps reading, so it sees the server's flight if one comes). */
static void half_open(server *sv, peer *p)
{
    assert_true(run_until(sv, &p, 1, cookie_ch_sent, p));
    p->is_mute = 1;
    /* Let the server read it and answer (or not). */
    server_pump(sv, 10);
    peer_step(p);
}

/* The server has read everything sent so far (in flight on loopback: a few ms). */
static void settle(server *sv, peer *p)
{
    size_t i;

    for (i = 0; i < 5; i++) {
        peer_step(p);
        server_pump(sv, 5);
    }
}

/* ------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------- */

#define HALF_OPEN_CAP 3
#define STALLED 6
#define HS_DEADLINE_MS 200
#define LONG_DEADLINE_MS 60000

static void test_half_open_cap_and_deadline(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer *peers = calloc(STALLED, sizeof(*peers));
    sdtls_udp_stats st;
    uint64_t limit;
    uint64_t accepted_ms;
    uint64_t established_ms;
    size_t i;
    size_t before;

    (void)state;
    assert_non_null(peers);
    server_start(&sv, 16, 1);

    /* 1. The cap. The deadline is long here, so that no session ends while the test (maybe
     *    on a loaded machine) is still setting up the others. */
    assert_int_equal(sdtls_udp_set_limits(sv.u, HALF_OPEN_CAP, LONG_DEADLINE_MS), 0);
    for (i = 0; i < STALLED; i++) {
        peer_start(&peers[i], ccfg, &sv.addr, -1);
        before = peers[i].rx_dgrams;
        half_open(&sv, &peers[i]);
        assert_true(peers[i].rx_dgrams >= before + 1); /* the HelloVerifyRequest at least */
    }
    stats(&sv, &st);
    /* Only HALF_OPEN_CAP sessions exist; the others' ClientHellos were dropped unallocated. */
    assert_int_equal(st.accepted, HALF_OPEN_CAP);
    assert_int_equal(st.half_open_full, STALLED - HALF_OPEN_CAP);
    assert_int_equal(st.table_full, 0);
    assert_int_equal(sdtls_udp_session_count(sv.u), HALF_OPEN_CAP);
    assert_int_equal(sv.accepted, HALF_OPEN_CAP);
    for (i = 0; i < STALLED; i++) {
        /* Accepted ones got the HelloVerifyRequest and the server's flight; refused ones the
         * HelloVerifyRequest only. */
        if (i < HALF_OPEN_CAP) {
            assert_true(peers[i].rx_dgrams >= 2);
        } else {
            assert_int_equal(peers[i].rx_dgrams, 1);
        }
    }

    /* 2. A short deadline frees the stalled sessions, none before its time. */
    assert_int_equal(sdtls_udp_set_limits(sv.u, HALF_OPEN_CAP, HS_DEADLINE_MS), 0);
    limit = sdtls_udp_now_ms() + LOOP_LIMIT_MS;
    while (sv.failed < HALF_OPEN_CAP && sdtls_udp_now_ms() < limit) {
        (void)server_event(&sv, 100);
    }
    assert_int_equal(sv.failed, HALF_OPEN_CAP);
    assert_int_equal(sv.last_err, SDTLS_UDP_ERR_HANDSHAKE);
    assert_true(sv.min_failed_age_ms >= HS_DEADLINE_MS);
    server_pump(&sv, 1); /* frees the terminal sessions */
    assert_int_equal(sdtls_udp_session_count(sv.u), 0);
    stats(&sv, &st);
    assert_int_equal(st.handshake_timeouts, HALF_OPEN_CAP);
    assert_int_equal(st.failed, HALF_OPEN_CAP);

    /* 3. With room again, a refused client's retransmitted ClientHello (cookie still valid;
     *    resent by hand rather than after the client's 1 s timer) gets a session. It stalls
     *    too, and the driver must wake up for its deadline by itself: the waits here are
     *    longer than the deadline, and the engine's own first timer (the server flight's
     *    retransmission) is 1 s away. */
    {
        peer *p = &peers[HALF_OPEN_CAP];
        const uint8_t *again;
        size_t again_len;

        again = find_cookie_ch(p, &again_len);
        assert_non_null(again);
        assert_int_equal(send(p->fd, again, again_len, 0), (ssize_t)again_len);
        limit = sdtls_udp_now_ms() + LOOP_LIMIT_MS;
        while (sv.accepted == HALF_OPEN_CAP && sdtls_udp_now_ms() < limit) {
            (void)server_event(&sv, 10);
        }
        accepted_ms = sdtls_udp_now_ms();
        assert_int_equal(sv.accepted, HALF_OPEN_CAP + 1);
        while (sv.failed == HALF_OPEN_CAP && sdtls_udp_now_ms() < limit) {
            (void)server_event(&sv, 1000);
        }
        assert_int_equal(sv.failed, HALF_OPEN_CAP + 1);
        assert_int_equal(sv.last_err, SDTLS_UDP_ERR_HANDSHAKE);
        assert_true(sv.last_failed_ms - accepted_ms < HS_DEADLINE_MS + 400);
    }

    /* 4. Another refused client, with time to finish: it completes its handshake, and an
     *    established session no longer counts against the half-open cap nor the deadline. */
    {
        peer *p = &peers[HALF_OPEN_CAP + 1];
        peer *q = &peers[HALF_OPEN_CAP + 2];
        const uint8_t *again;
        size_t again_len;

        again = find_cookie_ch(p, &again_len);
        assert_non_null(again);
        assert_int_equal(sdtls_udp_set_limits(sv.u, 1, LONG_DEADLINE_MS), 0);
        assert_int_equal(send(p->fd, again, again_len, 0), (ssize_t)again_len);
        p->is_mute = 0;
        assert_true(run_until(&sv, &p, 1, peer_is_done, p));
        settle(&sv, p);
        assert_int_equal(sv.done, 1);
        established_ms = sdtls_udp_session_start_ms(sv.last_accepted);
        /* One half-open allowed, and the established session is not one. */
        again = find_cookie_ch(q, &again_len);
        assert_non_null(again);
        assert_int_equal(send(q->fd, again, again_len, 0), (ssize_t)again_len);
        settle(&sv, q);
        stats(&sv, &st);
        assert_int_equal(st.accepted, HALF_OPEN_CAP + 3);
        assert_int_equal(sdtls_udp_session_count(sv.u), 2);
        /* A short deadline ends the stalled one, not the established one. */
        assert_int_equal(sdtls_udp_set_limits(sv.u, 1, HS_DEADLINE_MS), 0);
        limit = sdtls_udp_now_ms() + LOOP_LIMIT_MS;
        while (sv.failed == HALF_OPEN_CAP + 1 && sdtls_udp_now_ms() < limit) {
            (void)server_event(&sv, 100);
        }
        /* And the established one lives on past its own deadline. */
        limit = sdtls_udp_now_ms() + HS_DEADLINE_MS + 100;
        while (sdtls_udp_now_ms() < limit) {
            (void)server_event(&sv, 50);
        }
        assert_true(sdtls_udp_now_ms() - established_ms > HS_DEADLINE_MS);
        assert_int_equal(sv.failed, HALF_OPEN_CAP + 2);
        assert_int_equal(sdtls_udp_session_count(sv.u), 1);
        stats(&sv, &st);
        assert_int_equal(st.handshake_timeouts, HALF_OPEN_CAP + 2);
    }

    for (i = 0; i < STALLED; i++) {
        peer_free(&peers[i], 1);
    }
    free(peers);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

/* A clock that runs with the real one plus a skew the test moves forward: the driver's loops
 * still see time pass, and its deadlines can be crossed at once and exactly. */
static uint64_t skew_ms;

static uint64_t skewed_now(void *user)
{
    (void)user;
    return sdtls_udp_now_ms() + skew_ms;
}

#define TEST_CLOCK_DEADLINE_MS 60000
#define TEST_CLOCK_IDLE_MS 600000

/* The handshake deadline and the idle timeout on the endpoint's own clock (sdtls_udp_set_clock):
 * a minute and ten minutes, so the real clock alone cannot cross them during the test; moving
 * the test clock past each ends exactly the session it should, and not before. */
static void test_deadlines_on_test_clock(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer stalled, live;
    sdtls_udp_stats st;

    (void)state;
    server_start(&sv, 16, 1);
    skew_ms = UINT64_C(1000000000); /* far from the real clock: time stamps show which is used */
    assert_int_equal(sdtls_udp_set_clock(sv.u, skewed_now, NULL), 0);
    assert_int_equal(sdtls_udp_set_limits(sv.u, 4, TEST_CLOCK_DEADLINE_MS), 0);
    assert_int_equal(sdtls_udp_set_idle_timeout(sv.u, TEST_CLOCK_IDLE_MS), 0);

    /* One client stalls after the cookie exchange, another completes its handshake. */
    peer_start(&stalled, ccfg, &sv.addr, -1);
    half_open(&sv, &stalled);
    peer *lp = &live;
    peer_start(&live, ccfg, &sv.addr, -1);
    assert_true(run_until(&sv, &lp, 1, peer_is_done, &live));
    settle(&sv, &live);
    assert_int_equal(sv.accepted, 2);
    assert_int_equal(sv.done, 1);
    assert_int_equal(sv.failed, 0);
    assert_true(sdtls_udp_session_start_ms(sv.last_accepted) >= skew_ms);

    /* Just short of the deadline: nothing ends. */
    skew_ms += TEST_CLOCK_DEADLINE_MS - 2000;
    server_pump(&sv, 5);
    assert_int_equal(sv.failed, 0);
    /* Past it: the stalled session ends, the established one does not. */
    skew_ms += 3000;
    server_pump(&sv, 5);
    assert_int_equal(sv.failed, 1);
    assert_int_equal(sv.last_err, SDTLS_UDP_ERR_HANDSHAKE);
    server_pump(&sv, 1);
    assert_int_equal(sdtls_udp_session_count(sv.u), 1);

    /* The established session hears nothing (its client is left alone): short of the idle
     * timeout it lives, past it it fails as idle. */
    skew_ms += TEST_CLOCK_IDLE_MS - TEST_CLOCK_DEADLINE_MS - 5000;
    server_pump(&sv, 5);
    assert_int_equal(sv.failed, 1);
    skew_ms += 10000;
    server_pump(&sv, 5);
    assert_int_equal(sv.failed, 2);
    assert_int_equal(sv.last_err, SDTLS_UDP_ERR_IDLE);
    server_pump(&sv, 1);
    assert_int_equal(sdtls_udp_session_count(sv.u), 0);
    stats(&sv, &st);
    assert_int_equal(st.handshake_timeouts, 1);
    assert_int_equal(sdtls_udp_set_clock(NULL, skewed_now, NULL), SDTLS_ERR_ARG);

    peer_free(&stalled, 1);
    peer_free(&live, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

#define FLOOD 10000
#define FLOOD_BURST 100

static void test_cookieless_flood(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer p;
    uint8_t ch[DGRAM_CAP];
    size_t ch_len;
    size_t hvr = 0;
    size_t sent = 0;
    sdtls_udp_stats st;

    (void)state;
    server_start(&sv, 16, 1);
    peer_start(&p, ccfg, &sv.addr, -1);
    /* One real ClientHello (no cookie) as the template. */
    p.is_mute = 1;
    {
        size_t n = 0;

        assert_int_equal(sdtls_conn_send(p.c, ch, sizeof(ch), &n, sdtls_udp_now_ms()), 0);
        assert_true(n > CH_RANDOM_OFF + 32);
        assert_int_equal(ch_cookie_len(ch, n), 0);
        ch_len = n;
    }
    while (sent < FLOOD) {
        size_t k;
        uint64_t limit;

        for (k = 0; k < FLOOD_BURST && sent < FLOOD; k++, sent++) {
            /* A different client random each time, as from many clients. */
            memcpy(ch + CH_RANDOM_OFF, &sent, sizeof(sent));
            assert_int_equal(send(p.fd, ch, ch_len, 0), (ssize_t)ch_len);
        }
        /* Let the server read the burst; collect the answers. */
        limit = sdtls_udp_now_ms() + 200;
        for (;;) {
            uint8_t buf[DGRAM_CAP];
            ssize_t got;

            server_pump(&sv, 1);
            while ((got = recv(p.fd, buf, sizeof(buf), 0)) >= 0) {
                /* A HelloVerifyRequest, never larger than the ClientHello. */
                assert_true((size_t)got <= ch_len);
                assert_true(got > REC_HDR + HS_HDR);
                assert_int_equal(buf[0], 22);
                assert_int_equal(buf[REC_HDR], 3);
                hvr++;
            }
            stats(&sv, &st);
            if (st.dgrams_rx >= sent || sdtls_udp_now_ms() >= limit) {
                break;
            }
        }
        assert_int_equal(sdtls_udp_session_count(sv.u), 0);
    }
    server_pump(&sv, 5);
    {
        uint8_t buf[DGRAM_CAP];

        while (recv(p.fd, buf, sizeof(buf), 0) >= 0) {
            hvr++;
        }
    }
    stats(&sv, &st);
    /* Loopback may drop under a burst; whatever arrived was screened, and each got one
     * answer at most. Nothing was allocated. */
    assert_true(st.dgrams_rx <= FLOOD);
    assert_true(st.dgrams_rx >= FLOOD / 2);
    assert_int_equal(st.screened, st.dgrams_rx);
    assert_int_equal(st.hvr_sent, st.screened);
    assert_true(hvr <= st.hvr_sent);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(sv.accepted, 0);
    assert_int_equal(sdtls_udp_session_count(sv.u), 0);
    assert_true(st.bytes_tx <= st.bytes_rx);

    peer_free(&p, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

static int got_data(void *arg)
{
    return ((peer *)arg)->n_data > 0;
}

static void test_client_restart(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer p1, p2;
    peer *pp;
    sdtls_udp_session *old_session;
    sdtls_udp_stats st;
    const uint8_t *dup;
    size_t dup_len;
    uint8_t dup1[DGRAM_CAP], dup2[DGRAM_CAP];
    size_t dup1_len, dup2_len;
    size_t n = 0;
    uint8_t rec[DGRAM_CAP];

    (void)state;
    server_start(&sv, 4, 1);
    sv.is_echo = 1;

    /* First connection from socket S, with data both ways. */
    peer_start(&p1, ccfg, &sv.addr, -1);
    pp = &p1;
    assert_true(run_until(&sv, &pp, 1, peer_is_done, &p1));
    settle(&sv, &p1);
    assert_int_equal(sv.done, 1);
    old_session = sv.last_accepted;
    assert_int_equal(sdtls_conn_write(p1.c, (const uint8_t *)"one", 3, rec, sizeof(rec), &n), 0);
    peer_xmit(&p1, rec, n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p1));
    assert_memory_equal(p1.data, "one", 3);
    dup = find_cookie_ch(&p1, &dup_len);
    assert_non_null(dup);
    memcpy(dup1, dup, dup_len);
    dup1_len = dup_len;

    /* The client restarts: a new connection from the same socket. */
    peer_start(&p2, ccfg, &sv.addr, p1.fd);
    pp = &p2;
    assert_true(run_until(&sv, &pp, 1, peer_is_done, &p2));
    settle(&sv, &p2);
    stats(&sv, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(sv.failed, 1);
    assert_int_equal(sv.last_err, SDTLS_UDP_ERR_RESTARTED);
    assert_ptr_equal(sv.last_failed, old_session);
    /* The old session was reported before its replacement appeared. */
    assert_true(sv.last_failed_seq < sv.last_accepted_seq);
    assert_int_equal(sv.accepted, 2);
    assert_int_equal(sv.done, 2);
    assert_int_equal(sdtls_udp_session_count(sv.u), 1);

    /* Data flows on the new connection. */
    assert_int_equal(sdtls_conn_write(p2.c, (const uint8_t *)"two", 3, rec, sizeof(rec), &n), 0);
    peer_xmit(&p2, rec, n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p2));
    assert_int_equal(sv.n_data, 2);
    assert_memory_equal(sv.data, "two", 3);
    assert_memory_equal(p2.data, "two", 3);

    /* Delayed duplicates of the cookie ClientHellos of the current and of the replaced
     * connection (cookies still valid) replace nothing. */
    dup = find_cookie_ch(&p2, &dup_len);
    assert_non_null(dup);
    memcpy(dup2, dup, dup_len);
    dup2_len = dup_len;
    assert_int_equal(send(p2.fd, dup2, dup2_len, 0), (ssize_t)dup2_len);
    assert_int_equal(send(p2.fd, dup1, dup1_len, 0), (ssize_t)dup1_len);
    settle(&sv, &p2);
    stats(&sv, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(sv.failed, 1);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(sdtls_udp_session_count(sv.u), 1);
    p2.n_data = 0;
    assert_int_equal(sdtls_conn_write(p2.c, (const uint8_t *)"three", 5, rec, sizeof(rec), &n), 0);
    peer_xmit(&p2, rec, n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p2));
    assert_memory_equal(p2.data, "three", 5);

    peer_free(&p1, 0);
    peer_free(&p2, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

/* Without cookies an ACCEPT proves nothing about the sender: a ClientHello from the address
 * of an established session must not replace it (RFC 6347 4.2.8). */
static void test_no_restart_without_cookie(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer p1, p2;
    peer *pp;
    sdtls_udp_stats st;
    size_t n = 0;
    uint8_t rec[DGRAM_CAP];

    (void)state;
    server_start(&sv, 4, 0);
    sv.is_echo = 1;
    peer_start(&p1, ccfg, &sv.addr, -1);
    pp = &p1;
    assert_true(run_until(&sv, &pp, 1, peer_is_done, &p1));
    settle(&sv, &p1);

    peer_start(&p2, ccfg, &sv.addr, p1.fd);
    p2.is_mute = 0;
    peer_step(&p2); /* its ClientHello */
    p2.is_mute = 1;
    settle(&sv, &p2);
    stats(&sv, &st);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(sv.failed, 0);
    assert_int_equal(sdtls_udp_session_count(sv.u), 1);

    /* The first connection still works. */
    assert_int_equal(sdtls_conn_write(p1.c, (const uint8_t *)"four", 4, rec, sizeof(rec), &n), 0);
    peer_xmit(&p1, rec, n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p1));
    assert_memory_equal(p1.data, "four", 4);

    peer_free(&p1, 0);
    peer_free(&p2, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

/* Local port of a socket, to compare with the session's peer address. */
static unsigned local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static unsigned session_port(const sdtls_udp_session *s)
{
    const sdtls_udp_addr *a = sdtls_udp_session_peer(s);

    assert_int_equal(a->ss.ss_family, AF_INET);
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

/* One application record from the peer's connection, sent from its current socket. */
static void peer_write(peer *p, const char *text, uint8_t *rec, size_t cap, size_t *rec_len)
{
    assert_int_equal(sdtls_conn_write(p->c, (const uint8_t *)text, strlen(text), rec, cap, rec_len),
                     0);
    p->n_data = 0;
    peer_xmit(p, rec, *rec_len);
}

/* RFC 9146 6: the server routes by CID and adopts a new address only for an authenticated
 * record newer than any before. */
static void test_cid_rebinding(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer p;
    peer *pp = &p;
    sdtls_udp_session *sess;
    sdtls_udp_stats st;
    uint8_t old_rec[DGRAM_CAP], rec[DGRAM_CAP], cid[32];
    size_t old_len = 0, n = 0, cid_len = 0;
    const uint8_t *in = NULL;
    int fd_a, fd_b, fd_c;

    (void)state;
    memset(&sv, 0, sizeof(sv));
    sv.cfg = make_config(1, 1);
    assert_int_equal(sdtls_config_set_cid(sv.cfg, 4), 0);
    assert_int_equal(sdtls_udp_server_new(&sv.u, sv.cfg, "127.0.0.1:0", 4), 0);
    assert_int_equal(sdtls_udp_local_addr(sv.u, &sv.addr), 0);
    sv.is_echo = 1;
    /* The client wants no CID of its own but writes the server's (RFC 9146 3). */
    assert_int_equal(sdtls_config_set_cid(ccfg, 0), 0);

    /* Handshake and one echo from socket A. */
    peer_start(&p, ccfg, &sv.addr, -1);
    fd_a = p.fd;
    assert_true(run_until(&sv, &pp, 1, peer_is_done, &p));
    settle(&sv, &p);
    sess = sv.last_accepted;
    assert_non_null(sess);
    assert_int_equal(sdtls_conn_cid(sdtls_udp_session_conn(sess), cid, sizeof(cid), &cid_len), 0);
    assert_int_equal(cid_len, 4);
    assert_int_equal(session_port(sess), local_port(fd_a));
    peer_write(&p, "one", old_rec, sizeof(old_rec), &old_len);
    assert_int_equal(sdtls_datagram_cid(old_rec, old_len, cid_len, &in), 1);
    assert_memory_equal(in, cid, cid_len);
    assert_true(run_until(&sv, &pp, 1, got_data, &p));
    assert_memory_equal(p.data, "one", 3);

    /* The NAT binding changes: the same connection now sends from socket B. The record is
     * routed by its CID, and the echo goes to B. */
    fd_b = open_socket(&sv.addr);
    p.fd = fd_b;
    peer_write(&p, "two", rec, sizeof(rec), &n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p));
    assert_memory_equal(p.data, "two", 3);
    assert_memory_equal(sv.data, "two", 3);
    assert_int_equal(session_port(sess), local_port(fd_b));
    stats(&sv, &st);
    assert_int_equal(st.cid_routed, 1);
    assert_int_equal(st.cid_migrations, 1);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(sdtls_udp_session_count(sv.u), 1);

    /* An attacker replays the old "one" record from socket C: it is not newer than what the
     * session has seen, so the session stays at B and nothing is echoed. */
    fd_c = open_socket(&sv.addr);
    assert_int_equal(send(fd_c, old_rec, old_len, 0), (ssize_t)old_len);
    /* The same record with a sequence number above any seen (RFC 6347 4.1: bytes 5..10 of
     * the header): newer, but it fails authentication (the sequence number is in the AEAD's
     * additional data), so it moves nothing either. */
    old_rec[10] = (uint8_t)(old_rec[10] + 100);
    assert_int_equal(send(fd_c, old_rec, old_len, 0), (ssize_t)old_len);
    settle(&sv, &p);
    stats(&sv, &st);
    assert_int_equal(st.cid_routed, 3);
    assert_int_equal(st.cid_migrations, 1);
    assert_int_equal(sv.n_data, 2);
    assert_int_equal(session_port(sess), local_port(fd_b));
    {
        uint8_t buf[DGRAM_CAP];

        assert_true(recv(fd_c, buf, sizeof(buf), 0) < 0); /* nothing was sent to C */
    }

    /* Data keeps flowing at B; socket A hears nothing more. */
    peer_write(&p, "three", rec, sizeof(rec), &n);
    assert_true(run_until(&sv, &pp, 1, got_data, &p));
    assert_memory_equal(p.data, "three", 5);
    assert_int_equal(session_port(sess), local_port(fd_b));
    {
        uint8_t buf[DGRAM_CAP];

        assert_true(recv(fd_a, buf, sizeof(buf), 0) < 0);
    }

    (void)close(fd_a);
    (void)close(fd_c);
    peer_free(&p, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

/* A zero timeout still takes what the socket holds (one poll() without waiting). */
static void test_zero_timeout_reads(void **state)
{
    server sv;
    sdtls_config *ccfg = make_config(0, 1);
    peer p;
    sdtls_udp_stats st;
    sdtls_udp_event ev;
    struct pollfd pfd;

    (void)state;
    server_start(&sv, 4, 1);
    peer_start(&p, ccfg, &sv.addr, -1);
    peer_step(&p); /* the ClientHello */
    pfd.fd = sdtls_udp_fd(sv.u);
    pfd.events = POLLIN;
    pfd.revents = 0;
    assert_int_equal(poll(&pfd, 1, LOOP_LIMIT_MS), 1);
    assert_int_equal(sdtls_udp_next_event(sv.u, -1, 0, &ev), 0);
    assert_int_equal(ev.type, SDTLS_UDP_EV_NONE);
    stats(&sv, &st);
    assert_int_equal(st.dgrams_rx, 1);
    assert_int_equal(st.hvr_sent, 1);
    peer_free(&p, 1);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

/* Address text: numeric ports must fit 16 bits (getaddrinfo() alone wraps 99999 to 34463). */
static void test_addr_parse_ports(void **state)
{
    sdtls_udp_addr a;
    char text[64];
    assert_int_equal(sdtls_udp_addr_parse("127.0.0.1:65535", 0, &a), 0);
    assert_int_equal(sdtls_udp_addr_format(&a, text, sizeof(text)), 0);
    assert_string_equal(text, "127.0.0.1:65535");
    assert_int_equal(sdtls_udp_addr_parse("[::1]:0", 1, &a), 0);
    static const char *const bad[] = {"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:000001",
                                      "[::1]:70000",     "127.0.0.1:",      "127.0.0.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sdtls_udp_addr_parse(bad[i], 0, &a), SDTLS_UDP_ERR_RESOLVE);
    }
}

static void test_set_limits_args(void **state)
{
    server sv;
    sdtls_udp *client = NULL;
    sdtls_config *ccfg = make_config(0, 1);

    (void)state;
    server_start(&sv, 4, 1);
    assert_int_equal(sdtls_udp_set_limits(NULL, 1, 1), SDTLS_ERR_ARG);
    assert_int_equal(sdtls_udp_set_limits(sv.u, 0, 0), 0);
    assert_int_equal(sdtls_udp_client_new(&client, ccfg, "127.0.0.1:9", NULL), 0);
    assert_int_equal(sdtls_udp_set_limits(client, 1, 1), SDTLS_ERR_STATE);
    assert_string_not_equal(sdtls_udp_strerror(SDTLS_UDP_ERR_RESTARTED),
                            sdtls_strerror(SDTLS_UDP_ERR_RESTARTED));
    assert_string_not_equal(sdtls_udp_strerror(SDTLS_UDP_ERR_HANDSHAKE),
                            sdtls_strerror(SDTLS_UDP_ERR_HANDSHAKE));
    sdtls_udp_free(client);
    server_stop(&sv);
    sdtls_config_free(ccfg);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_ports),
        cmocka_unit_test(test_deadlines_on_test_clock),
        cmocka_unit_test(test_set_limits_args),
        cmocka_unit_test(test_zero_timeout_reads),
        cmocka_unit_test(test_half_open_cap_and_deadline),
        cmocka_unit_test(test_cookieless_flood),
        cmocka_unit_test(test_client_restart),
        cmocka_unit_test(test_no_restart_without_cookie),
        cmocka_unit_test(test_cid_rebinding),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]); /* e.g. "*restart*" */
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
