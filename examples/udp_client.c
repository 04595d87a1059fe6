/*
 * udp_client.c: send one message to a DTLS echo server and print the answer.
 *
 *   udp_client ADDR:PORT "sha-256 AB:CD:..." [MESSAGE]
 *
 * Flow: make a config that pins the server's certificate fingerprint (as printed by
 * udp_server), open a client endpoint, run the handshake, write one record, wait for the
 * echo, close with close_notify. Exit status 0 when the echo came back intact.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "sdtls_udp.h"

int main(int argc, char **argv)
{
    const char *msg = argc > 3 ? argv[3] : "hello over DTLS";
    sdtls_config *cfg = NULL;
    sdtls_udp *u = NULL;
    sdtls_udp_session *s = NULL;
    int got_echo = 0, rc;

    if (argc < 3) {
        fprintf(stderr, "usage: %s ADDR:PORT \"sha-256 AB:CD:...\" [MESSAGE]\n", argv[0]);
        return 2;
    }
    /* 1. Config: accept the server only if its certificate has this fingerprint. */
    rc = sdtls_config_new(&cfg, NULL);
    if (rc == 0) {
        rc = sdtls_config_set_verify(cfg, SDTLS_VERIFY_FINGERPRINT);
    }
    if (rc == 0) {
        rc = sdtls_config_set_peer_fingerprint(cfg, argv[2]);
    }
    /* 2. The endpoint: a connected UDP socket and one client session. */
    if (rc == 0) {
        rc = sdtls_udp_client_new(&u, cfg, argv[1], &s);
    }
    /* 3. The handshake, bounded to 10 s (the engine retransmits lost flights meanwhile). */
    if (rc == 0) {
        rc = sdtls_udp_client_handshake(u, 10000);
    }
    if (rc != 0) {
        /* last_error() adds the system detail (resolver, socket) when there is one. */
        fprintf(stderr, "error: %s (%s)\n", sdtls_udp_strerror(rc), sdtls_udp_last_error());
        goto out;
    }
    printf("connected: %s\n", sdtls_conn_cipher_name(sdtls_udp_session_conn(s)));

    /* 4. Data: one record out; events until the echo, then close_notify and its answer. */
    rc = sdtls_udp_session_write(s, (const uint8_t *)msg, strlen(msg));
    while (rc == 0) {
        sdtls_udp_event ev;

        rc = sdtls_udp_next_event(u, -1, 5000, &ev);
        if (rc != 0 || ev.type == SDTLS_UDP_EV_CLOSED) {
            break; /* 6. the server answered our close_notify: done */
        }
        if (ev.type == SDTLS_UDP_EV_NONE) {
            fprintf(stderr, "error: no answer within 5 s\n");
            break;
        }
        if (ev.type == SDTLS_UDP_EV_FAILED) {
            fprintf(stderr, "error: %s\n", sdtls_udp_strerror(ev.err));
            break;
        }
        if (ev.type == SDTLS_UDP_EV_DATA) {
            printf("echo: %.*s\n", (int)ev.len, (const char *)ev.data);
            got_echo = ev.len == strlen(msg) && memcmp(ev.data, msg, ev.len) == 0;
            rc = sdtls_udp_session_close(s); /* 5. close_notify */
        }
    }
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", sdtls_udp_strerror(rc));
    }
out:
    /* 7. Free the endpoint (its session and socket), then the config it used. */
    sdtls_udp_free(u);
    sdtls_config_free(cfg);
    return got_echo ? 0 : 1;
}
