/*
 * `sdtls client`: one connection; stdin lines out as records, received records to stdout.
 *
 * Shutdown order at the end of stdin: keep reading until GRACE_QUIET_MS pass without data
 * (at most GRACE_MAX_MS), so echoes of the last lines are printed; then send close_notify and
 * wait up to CLOSE_WAIT_MS for the peer's. Exit 0 once ours was sent.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define GRACE_QUIET_MS 500
#define GRACE_MAX_MS 3000
#define CLOSE_WAIT_MS 1000
/* Bytes taken from stdin per readable event. */
#define STDIN_CHUNK 4096
/* Largest record payload we assemble (the record limit; the MTU usually lowers it). */
#define LINE_CAP 16384

typedef struct client {
    cli_opts o;
    cli_ctx ctx;
    sdtls_config *cfg;
    sdtls_udp *u;
    sdtls_udp_session *s;
    size_t max_data;
    uint8_t line[LINE_CAP];
    size_t line_len;
    int stdin_open;
    int closing;
    uint64_t eof_ms;
    uint64_t last_rx_ms;
    uint64_t close_ms;
} client;

/* Milliseconds from t to now; 0 if t is later (t may be read after now). */
static uint64_t since(uint64_t now, uint64_t t)
{
    return now > t ? now - t : 0;
}

static int send_line(client *c)
{
    int rc;

    if (c->line_len == 0) {
        return 0;
    }
    rc = sdtls_udp_session_write(c->s, c->line, c->line_len);
    c->line_len = 0;
    if (rc != 0) {
        cli_error("cannot send", rc);
        return -1;
    }
    return 0;
}

static void stdin_ended(client *c)
{
    c->stdin_open = 0;
    c->eof_ms = sdtls_udp_now_ms();
    c->last_rx_ms = c->eof_ms;
}

/* One record per line, newline included; longer lines are cut at max_data. */
static int read_stdin(client *c)
{
    uint8_t chunk[STDIN_CHUNK];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
    ssize_t i;

    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return 0;
        }
        fprintf(stderr, "warning: reading stdin: %s\n", strerror(errno));
        stdin_ended(c);
        return send_line(c);
    }
    if (n == 0) {
        stdin_ended(c);
        /* A last line without newline still goes out. */
        return send_line(c);
    }
    for (i = 0; i < n; i++) {
        c->line[c->line_len++] = chunk[i];
        if (chunk[i] == '\n' || c->line_len >= c->max_data) {
            if (send_line(c) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void begin_close(client *c)
{
    int rc = sdtls_udp_session_close(c->s);

    if (rc != 0 && c->o.verbose > 0) {
        fprintf(stderr, "close: %s\n", sdtls_udp_strerror(rc));
    }
    c->closing = 1;
    c->close_ms = sdtls_udp_now_ms();
}

/* Time to wait in the next poll: the tick, shortened to the next grace or close check. */
static int next_wait(const client *c, uint64_t now)
{
    uint64_t until = now + CLI_TICK_MS;

    if (c->closing) {
        if (c->close_ms + CLOSE_WAIT_MS < until) {
            until = c->close_ms + CLOSE_WAIT_MS;
        }
    } else if (!c->stdin_open) {
        if (c->last_rx_ms + GRACE_QUIET_MS < until) {
            until = c->last_rx_ms + GRACE_QUIET_MS;
        }
        if (c->eof_ms + GRACE_MAX_MS < until) {
            until = c->eof_ms + GRACE_MAX_MS;
        }
    }
    return until > now ? (int)(until - now) : 0;
}

static void print_alert(const client *c, const sdtls_udp_event *ev)
{
    if (c->o.verbose > 0 || ev->alert != SDTLS_ALERT_CLOSE_NOTIFY) {
        fprintf(stderr, "alert: peer sent %s %s\n", ev->alert_level == 2 ? "fatal" : "warning",
                sdtls_alert_name(ev->alert));
        fflush(stderr);
    }
}

/* The data phase. Returns an exit code. */
static int run(client *c)
{
    for (;;) {
        uint64_t now = sdtls_udp_now_ms();
        sdtls_udp_event ev;
        int rc;

        if (cli_stop) {
            if (!c->closing) {
                begin_close(c);
            }
            fprintf(stderr, "error: interrupted\n");
            return CLI_EXIT_FAIL;
        }
        if (!c->stdin_open && !c->closing &&
            (since(now, c->last_rx_ms) >= GRACE_QUIET_MS ||
             since(now, c->eof_ms) >= GRACE_MAX_MS)) {
            begin_close(c);
        }
        if (c->closing && since(now, c->close_ms) >= CLOSE_WAIT_MS) {
            if (c->o.verbose > 0) {
                fprintf(stderr, "closed: no close_notify from the peer within %d ms\n",
                        CLOSE_WAIT_MS);
            }
            return CLI_EXIT_OK;
        }
        rc = sdtls_udp_next_event(c->u, c->stdin_open ? STDIN_FILENO : -1, next_wait(c, now), &ev);
        if (rc != 0) {
            cli_error("socket", rc);
            return CLI_EXIT_FAIL;
        }
        switch (ev.type) {
        case SDTLS_UDP_EV_DATA:
            c->last_rx_ms = sdtls_udp_now_ms();
            if (cli_output(ev.data, ev.len) != 0) {
                fprintf(stderr, "error: cannot write stdout: %s\n", strerror(errno));
                if (!c->closing) {
                    begin_close(c);
                }
                return CLI_EXIT_FAIL;
            }
            break;
        case SDTLS_UDP_EV_READABLE:
            if (read_stdin(c) != 0) {
                begin_close(c);
                return CLI_EXIT_FAIL;
            }
            break;
        case SDTLS_UDP_EV_ALERT:
            print_alert(c, &ev);
            break;
        case SDTLS_UDP_EV_CLOSED:
            if (c->o.verbose > 0) {
                fprintf(stderr, "closed: close_notify exchanged\n");
            }
            return CLI_EXIT_OK;
        case SDTLS_UDP_EV_FAILED:
            if (c->closing) {
                /* Our close_notify is out; the peer going away now is not a failure. */
                if (c->o.verbose > 0) {
                    fprintf(stderr, "closed: %s\n", sdtls_udp_strerror(ev.err));
                }
                return CLI_EXIT_OK;
            }
            cli_error("connection failed", ev.err);
            return CLI_EXIT_FAIL;
        case SDTLS_UDP_EV_NONE:
        case SDTLS_UDP_EV_HANDSHAKE_DONE:
        case SDTLS_UDP_EV_ACCEPTED:
        default:
            break;
        }
    }
}

static int handshake(client *c)
{
    uint64_t start = sdtls_udp_now_ms();
    int rc;

    for (;;) {
        if (cli_stop) {
            fprintf(stderr, "error: interrupted during the handshake\n");
            return CLI_EXIT_FAIL;
        }
        if (c->o.timeout_ms != 0 && since(sdtls_udp_now_ms(), start) >= c->o.timeout_ms) {
            fprintf(stderr, "error: handshake failed: no handshake within --timeout %zu ms\n",
                    c->o.timeout_ms);
            return CLI_EXIT_FAIL;
        }
        rc = sdtls_udp_client_handshake(c->u, CLI_TICK_MS);
        if (rc != SDTLS_ERR_AGAIN) {
            break;
        }
    }
    if (rc != 0) {
        cli_error("handshake failed", rc);
        return CLI_EXIT_FAIL;
    }
    if (cli_print_handshake(c->s, &c->o) != 0) {
        return CLI_EXIT_FAIL;
    }
    c->max_data = sdtls_conn_max_data(sdtls_udp_session_conn(c->s));
    if (c->max_data > LINE_CAP) {
        c->max_data = LINE_CAP;
    }
    if (c->max_data == 0) {
        fprintf(stderr, "error: the MTU leaves no room for application data\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int start(client *c)
{
    sdtls_conn *conn;
    int rc;

    rc = sdtls_udp_client_new(&c->u, c->cfg, c->o.addr, &c->s);
    if (rc != 0) {
        cli_error(c->o.addr, rc);
        return CLI_EXIT_FAIL;
    }
    /* An interactive session may sit idle for long; the user ends it. */
    (void)sdtls_udp_set_idle_timeout(c->u, 0);
    conn = sdtls_udp_session_conn(c->s);
    if (c->o.servername != NULL) {
        rc = sdtls_conn_set_server_name(conn, c->o.servername);
        if (rc != 0) {
            fprintf(stderr, "error: --servername '%s': %s\n", c->o.servername, sdtls_strerror(rc));
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_EXIT_OK;
}

int cli_client(int argc, char **argv)
{
    client *c = calloc(1, sizeof(*c));
    int code;

    if (c == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    c->ctx.start_ms = sdtls_udp_now_ms();
    c->stdin_open = 1;
    code = cli_parse(argc, argv, 0, &c->o);
    if (code == CLI_EXIT_OK) {
        code = cli_build_config(&c->o, &c->ctx, &c->cfg);
    }
    if (code == CLI_EXIT_OK) {
        cli_print_own_fingerprint(c->cfg);
        code = start(c);
    }
    if (code == CLI_EXIT_OK) {
        code = handshake(c);
        if (code == CLI_EXIT_OK) {
            code = run(c);
        }
        if (c->o.verbose > 0) {
            sdtls_stats st;
            sdtls_udp_stats ds;

            /* The session is still valid: no driver call since its last event. */
            sdtls_conn_stats(sdtls_udp_session_conn(c->s), &st);
            sdtls_udp_get_stats(c->u, &ds);
            cli_print_stats(&st, &ds);
        }
    }
    sdtls_udp_free(c->u);
    sdtls_config_free(c->cfg);
    cli_ctx_close(&c->ctx);
    free(c);
    return code;
}
