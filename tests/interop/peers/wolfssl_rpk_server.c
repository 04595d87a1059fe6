/*
 * wolfssl-rpk-server: a minimal DTLS 1.2 server on wolfSSL that uses raw public keys
 * (RFC 7250) for its own key and asks the client for one, for tests/interop/test_rpk_wolfssl.sh.
 * wolfSSL's example server has no option for raw public keys (its example client has --rpk).
 * Built by scripts/build-peers.sh against the wolfSSL it builds.
 *
 *   wolfssl-rpk-server PORT SPKI.der KEY.der [CIPHER]
 *
 * Serves one client on 127.0.0.1:PORT: handshake, then echoes each record it reads until
 * close_notify or 10 s of silence. Prints "listening", "handshake: CIPHER
 * server_cert_type=N client_cert_type=N" and "echo: LEN" lines on stdout, errors on stderr.
 * Exit status 0 after a clean close, 1 on any error.
 */
#include <wolfssl/options.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <wolfssl/ssl.h>

#define RECORD_CAP 2048

/* The client's raw key comes with no chain to check: the test pins keys on the sdtls side.
 * (wolfSSL calls this only when its own check failed.) */
static int accept_peer(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    (void)preverify;
    (void)store;
    return 1;
}

static int fail(const char *what, WOLFSSL *ssl, int rc)
{
    char msg[WOLFSSL_MAX_ERROR_SZ];
    int err = ssl != NULL ? wolfSSL_get_error(ssl, rc) : rc;

    fprintf(stderr, "error: %s: %d %s\n", what, err, wolfSSL_ERR_error_string(err, msg));
    return 1;
}

int main(int argc, char **argv)
{
    const char rpk[] = {WOLFSSL_CERT_TYPE_RPK};
    struct sockaddr_in local, peer;
    socklen_t peer_len = sizeof(peer);
    struct timeval tv = {10, 0};
    unsigned char buf[RECORD_CAP];
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    int fd, rc, on = 1;
    int ctype = -1, stype = -1; /* RFC 7250 3: 0 X.509, 2 RawPublicKey */

    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT SPKI.der KEY.der [CIPHER-LIST]\n", argv[0]);
        return 2;
    }
    wolfSSL_Init();
    ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
    if (ctx == NULL) {
        return fail("wolfSSL_CTX_new", NULL, 0);
    }
    if (wolfSSL_CTX_set_server_cert_type(ctx, rpk, 1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_client_cert_type(ctx, rpk, 1) != WOLFSSL_SUCCESS) {
        return fail("set cert types", NULL, 0);
    }
    /* With RPK the "certificate" is the SubjectPublicKeyInfo (wolfSSL's certs/rpk/). */
    if ((rc = wolfSSL_CTX_use_certificate_file(ctx, argv[2], WOLFSSL_FILETYPE_ASN1)) !=
        WOLFSSL_SUCCESS) {
        return fail("load SPKI", NULL, rc);
    }
    if ((rc = wolfSSL_CTX_use_PrivateKey_file(ctx, argv[3], WOLFSSL_FILETYPE_ASN1)) !=
        WOLFSSL_SUCCESS) {
        return fail("load key", NULL, rc);
    }
    if (argc > 4 && wolfSSL_CTX_set_cipher_list(ctx, argv[4]) != WOLFSSL_SUCCESS) {
        return fail("cipher list", NULL, 0);
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           accept_peer);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = htons((unsigned short)atoi(argv[1]));
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
        perror("bind");
        return 1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    printf("listening\n");
    fflush(stdout);
    /* Wait for the first datagram and talk to its sender only. */
    if (recvfrom(fd, buf, sizeof(buf), MSG_PEEK, (struct sockaddr *)&peer, &peer_len) < 0 ||
        connect(fd, (struct sockaddr *)&peer, peer_len) != 0) {
        perror("recvfrom/connect");
        return 1;
    }
    ssl = wolfSSL_new(ctx);
    if (ssl == NULL || wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS ||
        wolfSSL_dtls_set_peer(ssl, &peer, peer_len) != WOLFSSL_SUCCESS) {
        return fail("wolfSSL_new", NULL, 0);
    }
    if ((rc = wolfSSL_accept(ssl)) != WOLFSSL_SUCCESS) {
        return fail("wolfSSL_accept", ssl, rc);
    }
    (void)wolfSSL_get_negotiated_server_cert_type(ssl, &stype);
    (void)wolfSSL_get_negotiated_client_cert_type(ssl, &ctype);
    printf("handshake: %s server_cert_type=%d client_cert_type=%d\n", wolfSSL_get_cipher(ssl),
           stype, ctype);
    fflush(stdout);
    for (;;) {
        rc = wolfSSL_read(ssl, buf, sizeof(buf));
        if (rc <= 0) {
            int err = wolfSSL_get_error(ssl, rc);

            if (err == WOLFSSL_ERROR_ZERO_RETURN) {
                (void)wolfSSL_shutdown(ssl);
                printf("closed\n");
                break;
            }
            return fail("wolfSSL_read", ssl, rc);
        }
        printf("echo: %d\n", rc);
        fflush(stdout);
        if (wolfSSL_write(ssl, buf, rc) != rc) {
            return fail("wolfSSL_write", ssl, rc);
        }
    }
    wolfSSL_free(ssl);
    wolfSSL_CTX_free(ctx);
    close(fd);
    wolfSSL_Cleanup();
    return 0;
}
