/*
 * udp_server.c: a DTLS echo server on the sdtls UDP driver.
 *
 *   udp_server [ADDR:PORT]        (default 127.0.0.1:4433; Ctrl-C or SIGTERM stops it)
 *
 * Flow: make a config with a self-signed certificate, print its fingerprint (clients pin
 * it), open the server endpoint, then pull events forever. The driver screens new peers
 * with HelloVerifyRequest cookies, runs every handshake and timer, and hands us events.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sdtls_udp.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1; /* sdtls_udp_next_event() returns EV_NONE on EINTR, so the loop sees this */
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:4433";
    sdtls_config *cfg = NULL;
    sdtls_udp *u = NULL;
    char fp[128], text[64];
    uint8_t echo[16384];
    sdtls_udp_addr local;
    int rc;
    /* 1. Config: our certificate. Clients are not asked for one (VERIFY_NONE). */
    rc = sdtls_config_new(&cfg, NULL);
    if (rc == 0) {
        rc = sdtls_config_generate_cert(cfg, SDTLS_KEY_EC_P256, "localhost");
    }
    if (rc == 0) {
        rc = sdtls_config_set_verify(cfg, SDTLS_VERIFY_NONE);
    }
    /* 2. The fingerprint a client passes to udp_client (or in WebRTC, the SDP). */
    if (rc == 0) {
        rc = sdtls_config_get_fingerprint(cfg, "sha-256", fp, sizeof(fp));
    }
    /* 3. The endpoint: one socket, a table of up to 64 sessions (0 = default). */
    if (rc == 0) {
        rc = sdtls_udp_server_new(&u, cfg, addr, 0);
    }
    if (rc == 0) {
        rc = sdtls_udp_local_addr(u, &local);
    }
    if (rc != 0 || sdtls_udp_addr_format(&local, text, sizeof(text)) != 0) {
        fprintf(stderr, "error: %s (%s)\n", sdtls_udp_strerror(rc), sdtls_udp_last_error());
        sdtls_udp_free(u);
        sdtls_config_free(cfg);
        return 1;
    }
    printf("listening on %s\nfingerprint %s\n", text, fp);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    /* 4. The event loop. Handshakes, retransmissions and close_notify answers happen inside
     *    sdtls_udp_next_event(); we only see what the application needs to know. */
    while (!stop) {
        sdtls_udp_event ev;

        if (sdtls_udp_next_event(u, -1, 1000, &ev) != 0) {
            fprintf(stderr, "error: socket: %s\n", sdtls_udp_last_error());
            break;
        }
        switch (ev.type) {
        case SDTLS_UDP_EV_HANDSHAKE_DONE:
            printf("session up: %s\n", sdtls_conn_cipher_name(sdtls_udp_session_conn(ev.session)));
            break;
        case SDTLS_UDP_EV_DATA:
            /* 5. Echo. ev.data is a view into the connection: copy it before writing. */
            memcpy(echo, ev.data, ev.len);
            (void)sdtls_udp_session_write(ev.session, echo, ev.len);
            break;
        case SDTLS_UDP_EV_CLOSED: /* 6. The peer closed; the driver frees the session. */
            printf("session closed\n");
            break;
        case SDTLS_UDP_EV_FAILED:
            printf("session failed: %s\n", sdtls_udp_strerror(ev.err));
            break;
        default:
            break;
        }
        fflush(stdout);
    }
    /* 7. Shutdown: close_notify to every live session, then free everything. */
    (void)sdtls_udp_close_all(u);
    sdtls_udp_free(u);
    sdtls_config_free(cfg);
    return 0;
}
