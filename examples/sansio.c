/*
 * sansio.c: a DTLS 1.2 client and server in one process, talking through two in-memory
 * queues. No sockets, no clock, no driver: only the sans-I/O API of sdtls.h.
 *
 * The engine sees bytes and time, nothing else. For every connection the caller runs the
 * same loop:
 *
 *   datagram arrives  ->  sdtls_conn_recv(conn, dgram, len, now)
 *                         (a server with no connection for that peer yet screens the
 *                         datagram with sdtls_server_screen() and creates one on ACCEPT)
 *   then              ->  sdtls_conn_next_event() until SDTLS_EV_NONE
 *                         sdtls_conn_send() until it writes nothing; put each datagram
 *                         on the wire
 *   nothing arrives   ->  sleep until sdtls_conn_deadline(); then sdtls_conn_on_timeout()
 *                         and sdtls_conn_send() again (retransmissions)
 *
 * Here "the wire" is a queue per direction and "now" is a counter we move ourselves, so
 * waiting for a deadline is just a jump of the clock. The wire loses the client's first
 * datagram on purpose, so the retransmission timer has something to do.
 *
 * What happens: handshake (with a HelloVerifyRequest cookie exchange), the client sends one
 * message, the server echoes it, the client closes, both sides see the close.
 * Exit status 0 when all of that happened, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "sdtls.h"

#define MTU 1200   /* the engine's default; our datagram buffers hold one datagram each */
#define QUEUE 32   /* datagrams in flight per direction */
#define STEPS 1000 /* safety bound on loop turns */

/* One direction of the in-memory network: a FIFO of datagrams. */
typedef struct wire {
    uint8_t dgram[QUEUE][MTU];
    size_t len[QUEUE];
    size_t head, count;
    int drop_next; /* lose the next datagram put on this wire */
} wire;

/* One endpoint: its connection, the wire it sends on and what happened to it. */
typedef struct endpoint {
    const char *name;
    sdtls_conn *conn; /* the server's stays NULL until screening says ACCEPT */
    wire *out;
    int handshake_done, got_reply, closed;
} endpoint;

static const char message[] = "hello over sans-I/O DTLS";
/* The server binds its cookie to the peer address: any stable bytes will do here. */
static const uint8_t client_addr[] = "client-1";

static uint64_t now_ms = 1000; /* our clock; the engine only ever gets it as an argument */

static void wire_put(wire *w, const uint8_t *data, size_t len)
{
    if (w->drop_next || w->count == QUEUE) {
        printf("[%5llu ms] wire: datagram of %zu bytes lost\n", (unsigned long long)now_ms, len);
        w->drop_next = 0;
        return;
    }
    size_t tail = (w->head + w->count) % QUEUE;
    memcpy(w->dgram[tail], data, len);
    w->len[tail] = len;
    w->count++;
}

/* Take every datagram the connection wants to send (flights, retransmissions, alerts). */
static int flush(endpoint *e)
{
    uint8_t buf[MTU];
    size_t len;

    do {
        int rc = sdtls_conn_send(e->conn, buf, sizeof(buf), &len, now_ms);
        if (rc != 0) {
            fprintf(stderr, "%s: send: %s\n", e->name, sdtls_strerror(rc));
            return -1;
        }
        if (len > 0) {
            wire_put(e->out, buf, len);
        }
    } while (len > 0);
    return 0;
}

/* Application data goes out as one record in one datagram, written straight to our buffer. */
static int write_data(endpoint *e, const uint8_t *data, size_t len)
{
    uint8_t buf[MTU];
    size_t out_len;
    int rc = sdtls_conn_write(e->conn, data, len, buf, sizeof(buf), &out_len);

    if (rc != 0) {
        fprintf(stderr, "%s: write: %s\n", e->name, sdtls_strerror(rc));
        return -1;
    }
    wire_put(e->out, buf, out_len);
    return 0;
}

/* Pull every event. This is where an application reacts to the connection. */
static int handle_events(endpoint *e, int is_client)
{
    sdtls_event ev;
    uint8_t copy[MTU];

    while (sdtls_conn_next_event(e->conn, &ev) == 0 && ev.type != SDTLS_EV_NONE) {
        switch (ev.type) {
        case SDTLS_EV_HANDSHAKE_DONE:
            e->handshake_done = 1;
            printf("[%5llu ms] %s: handshake done: %s %s group %s\n", (unsigned long long)now_ms,
                   e->name, sdtls_conn_version_name(e->conn), sdtls_conn_cipher_name(e->conn),
                   sdtls_conn_group_name(e->conn));
            if (is_client && write_data(e, (const uint8_t *)message, strlen(message)) != 0) {
                return -1;
            }
            break;
        case SDTLS_EV_DATA:
            printf("[%5llu ms] %s: received \"%.*s\"\n", (unsigned long long)now_ms, e->name,
                   (int)ev.len, (const char *)ev.data);
            if (is_client) {
                /* The echo came back: say goodbye (close_notify goes out at the next send). */
                e->got_reply = ev.len == strlen(message) && memcmp(ev.data, message, ev.len) == 0;
                if (sdtls_conn_close(e->conn) != 0) {
                    return -1;
                }
            } else {
                /* ev.data is a view into the connection, valid until our next call on it:
                 * copy it before calling sdtls_conn_write() on the same connection. */
                memcpy(copy, ev.data, ev.len);
                if (write_data(e, copy, ev.len) != 0) {
                    return -1;
                }
            }
            break;
        case SDTLS_EV_ALERT:
            printf("[%5llu ms] %s: peer sent alert %s\n", (unsigned long long)now_ms, e->name,
                   sdtls_alert_name(ev.alert));
            break;
        case SDTLS_EV_CLOSED:
            printf("[%5llu ms] %s: closed\n", (unsigned long long)now_ms, e->name);
            e->closed = 1;
            break;
        default:
            break;
        }
    }
    return flush(e);
}

/* The server's front door: no state for a peer until its cookie checks out. */
static int server_screen(const sdtls_config *cfg, endpoint *srv, const uint8_t *dgram,
                         size_t len)
{
    uint8_t reply[MTU];
    size_t reply_len = 0;
    sdtls_verdict verdict;
    int rc = sdtls_server_screen(cfg, dgram, len, client_addr, sizeof(client_addr), now_ms, reply,
                                 sizeof(reply), &reply_len, &verdict);

    if (rc != 0 || verdict == SDTLS_VERDICT_IGNORE) {
        return 0; /* not a ClientHello for us: drop it */
    }
    if (verdict == SDTLS_VERDICT_REPLY) {
        printf("[%5llu ms] server: HelloVerifyRequest (no state kept)\n",
               (unsigned long long)now_ms);
        wire_put(srv->out, reply, reply_len);
        return 0;
    }
    printf("[%5llu ms] server: cookie verified, connection created\n", (unsigned long long)now_ms);
    rc = sdtls_conn_new(cfg, SDTLS_ROLE_SERVER, client_addr, sizeof(client_addr), &srv->conn);
    if (rc != 0) {
        fprintf(stderr, "server: sdtls_conn_new: %s\n", sdtls_strerror(rc));
        return -1;
    }
    return 1; /* the caller feeds this same datagram to the new connection */
}

/* Deliver everything queued on `w` to endpoint `e`. Returns datagrams delivered, or -1. */
static int deliver(wire *w, endpoint *e, int is_client, const sdtls_config *server_cfg)
{
    int n = 0;

    for (; w->count > 0; w->head = (w->head + 1) % QUEUE, w->count--, n++) {
        const uint8_t *dgram = w->dgram[w->head];
        size_t len = w->len[w->head];
        int rc;

        if (e->conn == NULL) {
            rc = server_screen(server_cfg, e, dgram, len);
            if (rc <= 0) {
                if (rc < 0) {
                    return -1;
                }
                continue;
            }
        }
        rc = sdtls_conn_recv(e->conn, dgram, len, now_ms);
        if (rc != 0) {
            /* Fatal: a local alert would still go out with sdtls_conn_send(); we just stop. */
            fprintf(stderr, "%s: recv: %s\n", e->name, sdtls_strerror(rc));
            return -1;
        }
        if (handle_events(e, is_client) != 0) {
            return -1;
        }
    }
    return n;
}

/* Nothing in flight: jump the clock to the earliest deadline and fire the timers. */
static int wait_for_timers(endpoint *eps[2])
{
    uint64_t next = SDTLS_NO_DEADLINE;
    int i;

    for (i = 0; i < 2; i++) {
        if (eps[i]->conn != NULL && sdtls_conn_deadline(eps[i]->conn) < next) {
            next = sdtls_conn_deadline(eps[i]->conn);
        }
    }
    if (next == SDTLS_NO_DEADLINE) {
        fprintf(stderr, "stuck: nothing in flight and no timer armed\n");
        return -1;
    }
    if (next > now_ms) {
        now_ms = next; /* a real program would poll() until then */
    }
    for (i = 0; i < 2; i++) {
        if (eps[i]->conn != NULL && sdtls_conn_deadline(eps[i]->conn) <= now_ms) {
            printf("[%5llu ms] %s: timer fired\n", (unsigned long long)now_ms, eps[i]->name);
            int rc = sdtls_conn_on_timeout(eps[i]->conn, now_ms);
            if (rc != 0) {
                fprintf(stderr, "%s: timeout: %s\n", eps[i]->name, sdtls_strerror(rc));
                return -1;
            }
            if (flush(eps[i]) != 0) { /* the retransmission */
                return -1;
            }
        }
    }
    return 0;
}

static int run(sdtls_config *client_cfg, sdtls_config *server_cfg)
{
    static wire to_server, to_client; /* static: about 77 KB, kept off the stack */
    endpoint client = {"client", NULL, &to_server, 0, 0, 0};
    endpoint server = {"server", NULL, &to_client, 0, 0, 0};
    endpoint *eps[2] = {&client, &server};
    int ok = 0;
    int step;

    if (sdtls_conn_new(client_cfg, SDTLS_ROLE_CLIENT, NULL, 0, &client.conn) != 0) {
        goto out;
    }
    to_server.drop_next = 1;   /* lose the first ClientHello */
    if (flush(&client) != 0) { /* the client's first send() starts the handshake */
        goto out;
    }
    for (step = 0; step < STEPS && !(client.closed && server.closed); step++) {
        int moved_to_server = deliver(&to_server, &server, 0, server_cfg);
        int moved_to_client = deliver(&to_client, &client, 1, NULL);

        if (moved_to_server < 0 || moved_to_client < 0) {
            goto out;
        }
        if (moved_to_server == 0 && moved_to_client == 0 && wait_for_timers(eps) != 0) {
            goto out;
        }
    }
    ok = client.handshake_done && server.handshake_done && client.got_reply && client.closed &&
         server.closed;
out:
    sdtls_conn_free(client.conn);
    sdtls_conn_free(server.conn);
    return ok ? 0 : -1;
}

int main(void)
{
    sdtls_config *server_cfg = NULL, *client_cfg = NULL;
    char fingerprint[128];
    int rc;

    /* Server: a fresh self-signed certificate; it does not ask for a client certificate. */
    rc = sdtls_config_new(&server_cfg, NULL);
    if (rc == 0) {
        rc = sdtls_config_generate_cert(server_cfg, SDTLS_KEY_EC_P256, "sansio-server");
    }
    if (rc == 0) {
        rc = sdtls_config_set_verify(server_cfg, SDTLS_VERIFY_NONE);
    }
    /* Client: trust exactly that certificate, by its SHA-256 fingerprint (as WebRTC does
     * with the fingerprint from the SDP). */
    if (rc == 0) {
        rc = sdtls_config_get_fingerprint(server_cfg, "sha-256", fingerprint,
                                          sizeof(fingerprint));
    }
    if (rc == 0) {
        rc = sdtls_config_new(&client_cfg, NULL);
    }
    if (rc == 0) {
        rc = sdtls_config_set_verify(client_cfg, SDTLS_VERIFY_FINGERPRINT);
    }
    if (rc == 0) {
        rc = sdtls_config_set_peer_fingerprint(client_cfg, fingerprint);
    }
    if (rc != 0) {
        fprintf(stderr, "config: %s\n", sdtls_strerror(rc));
        sdtls_config_free(client_cfg);
        sdtls_config_free(server_cfg);
        return 1;
    }
    printf("%s\nserver certificate %s\n", sdtls_version(), fingerprint);

    rc = run(client_cfg, server_cfg);
    printf("%s\n", rc == 0 ? "ok" : "FAILED");

    /* Connections first (run() freed them), then the configs they used. */
    sdtls_config_free(client_cfg);
    sdtls_config_free(server_cfg);
    return rc == 0 ? 0 : 1;
}
