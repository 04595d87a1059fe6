/*
 * `sdtls server`: serve many clients on one socket; echo records back or print them.
 * With --once, exit after the first session ends (0 if it closed cleanly, 1 if it failed).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Largest record payload (RFC 6347: 2^14). */
#define ECHO_CAP 16384
/* Text of a peer address. */
#define ADDR_CAP 96

typedef struct server {
    cli_opts o;
    cli_ctx ctx;
    sdtls_config *cfg;
    sdtls_udp *u;
    sdtls_udp_session *first; /* --once: the session whose end ends the server */
    sdtls_stats total;        /* engine counters of ended sessions */
    uint8_t echo[ECHO_CAP];
} server;

static const char *peer_text(const sdtls_udp_session *s, char *buf, size_t cap)
{
    if (sdtls_udp_addr_format(sdtls_udp_session_peer(s), buf, cap) != 0) {
        snprintf(buf, cap, "?");
    }
    return buf;
}

static void session_ended(server *sv, const sdtls_udp_session *s)
{
    sdtls_stats st;

    sdtls_conn_stats(sdtls_udp_session_conn(s), &st);
    cli_stats_add(&sv->total, &st);
}

static void on_data(server *sv, const sdtls_udp_event *ev)
{
    char addr[ADDR_CAP];
    int rc;

    if (!sv->o.echo) {
        if (cli_output(ev->data, ev->len) != 0) {
            fprintf(stderr, "warning: cannot write stdout\n");
        }
        return;
    }
    if (ev->len > sizeof(sv->echo)) {
        return;
    }
    /* The event data is a view into the connection; copy it before calling the connection.
     * A record larger than what fits our MTU goes back in several. */
    memcpy(sv->echo, ev->data, ev->len);
    size_t max = sdtls_conn_max_data(sdtls_udp_session_conn(ev->session));
    for (size_t off = 0; off < ev->len && max > 0; off += max) {
        size_t n = ev->len - off < max ? ev->len - off : max;
        rc = sdtls_udp_session_write(ev->session, sv->echo + off, n);
        if (rc != 0) {
            fprintf(stderr, "warning: echo to %s: %s\n",
                    peer_text(ev->session, addr, sizeof(addr)), sdtls_udp_strerror(rc));
            return;
        }
    }
}

/* Handle one event. Returns -1 to keep serving, or the exit code. */
static int on_event(server *sv, const sdtls_udp_event *ev)
{
    char addr[ADDR_CAP];
    const sdtls_conn *conn = ev->session != NULL ? sdtls_udp_session_conn(ev->session) : NULL;

    switch (ev->type) {
    case SDTLS_UDP_EV_ACCEPTED:
        if (sv->o.once && sv->first == NULL) {
            sv->first = ev->session;
        }
        if (sv->o.verbose > 0) {
            fprintf(stderr, "accepted: %s\n", peer_text(ev->session, addr, sizeof(addr)));
        }
        return -1;
    case SDTLS_UDP_EV_HANDSHAKE_DONE:
        (void)cli_print_handshake(ev->session, &sv->o);
        return -1;
    case SDTLS_UDP_EV_DATA:
        on_data(sv, ev);
        return -1;
    case SDTLS_UDP_EV_ALERT:
        if (sv->o.verbose > 0 || ev->alert != SDTLS_ALERT_CLOSE_NOTIFY) {
            fprintf(stderr, "alert: %s sent %s %s\n", peer_text(ev->session, addr, sizeof(addr)),
                    ev->alert_level == 2 ? "fatal" : "warning", sdtls_alert_name(ev->alert));
        }
        return -1;
    case SDTLS_UDP_EV_CLOSED:
        session_ended(sv, ev->session);
        if (sv->o.verbose > 0) {
            fprintf(stderr, "closed: %s\n", peer_text(ev->session, addr, sizeof(addr)));
        }
        return sv->o.once && ev->session == sv->first ? CLI_EXIT_OK : -1;
    case SDTLS_UDP_EV_FAILED:
        session_ended(sv, ev->session);
        fprintf(stderr, "error: %s: %s: %s\n", peer_text(ev->session, addr, sizeof(addr)),
                sdtls_conn_is_handshake_done(conn) ? "session failed" : "handshake failed",
                sdtls_udp_strerror(ev->err));
        return sv->o.once && ev->session == sv->first ? CLI_EXIT_FAIL : -1;
    case SDTLS_UDP_EV_NONE:
    case SDTLS_UDP_EV_READABLE:
    default:
        return -1;
    }
}

static int serve(server *sv)
{
    for (;;) {
        sdtls_udp_event ev;
        int rc;

        if (cli_stop) {
            if (sv->o.verbose > 0) {
                fprintf(stderr, "stopping: closing %zu session(s)\n",
                        sdtls_udp_session_count(sv->u));
            }
            return CLI_EXIT_OK;
        }
        rc = sdtls_udp_next_event(sv->u, -1, CLI_TICK_MS, &ev);
        if (rc != 0) {
            cli_error("socket", rc);
            return CLI_EXIT_FAIL;
        }
        rc = on_event(sv, &ev);
        if (rc >= 0) {
            return rc;
        }
        fflush(stderr);
    }
}

/* Close every remaining session, counting its statistics first. */
static void shutdown_sessions(server *sv)
{
    size_t cap = sdtls_udp_session_count(sv->u);
    sdtls_udp_session **list = calloc(cap > 0 ? cap : 1, sizeof(*list));

    if (list != NULL) {
        size_t n = sdtls_udp_sessions(sv->u, list, cap);
        size_t i;

        for (i = 0; i < n; i++) {
            session_ended(sv, list[i]);
        }
        free(list);
    }
    (void)sdtls_udp_close_all(sv->u);
}

static int start(server *sv)
{
    sdtls_udp_addr local;
    char text[ADDR_CAP];
    int rc;

    rc = sdtls_udp_server_new(&sv->u, sv->cfg, sv->o.addr, sv->o.max_sessions);
    if (rc != 0) {
        cli_error(sv->o.addr, rc);
        return CLI_EXIT_FAIL;
    }
    rc = sdtls_udp_set_limits(sv->u, sv->o.max_half_open,
                              sv->o.has_handshake_timeout ? (uint64_t)sv->o.handshake_timeout_ms
                                                          : SDTLS_UDP_DEFAULT_HANDSHAKE_MS);
    if (rc != 0) {
        cli_error("limits", rc);
        return CLI_EXIT_FAIL;
    }
    rc = sdtls_udp_local_addr(sv->u, &local);
    if (rc == 0) {
        rc = sdtls_udp_addr_format(&local, text, sizeof(text));
    }
    if (rc != 0) {
        cli_error("local address", rc);
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, "listening: %s\n", text);
    fflush(stderr);
    return CLI_EXIT_OK;
}

int cli_server(int argc, char **argv)
{
    server *sv = calloc(1, sizeof(*sv));
    int code;

    if (sv == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    sv->ctx.start_ms = sdtls_udp_now_ms();
    code = cli_parse(argc, argv, 1, &sv->o);
    if (code == CLI_EXIT_OK) {
        code = cli_build_config(&sv->o, &sv->ctx, &sv->cfg);
    }
    if (code == CLI_EXIT_OK) {
        cli_print_own_fingerprint(sv->cfg);
        code = start(sv);
    }
    if (code == CLI_EXIT_OK) {
        code = serve(sv);
        shutdown_sessions(sv);
        if (sv->o.verbose > 0) {
            sdtls_udp_stats ds;

            sdtls_udp_get_stats(sv->u, &ds);
            cli_print_stats(&sv->total, &ds);
        }
    }
    sdtls_udp_free(sv->u);
    sdtls_config_free(sv->cfg);
    cli_ctx_close(&sv->ctx);
    free(sv);
    return code;
}
