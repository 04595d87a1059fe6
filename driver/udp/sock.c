/*
 * POSIX pieces of the UDP driver: the monotonic clock, address parsing and formatting, socket
 * creation and the thread-local error detail.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "udp_int.h"

/* Longest "HOST:PORT" we parse; host names are at most 253 bytes. */
#define ADDR_TEXT_CAP 300
/* Socket buffers we ask for: a burst of echoed records must not overflow the default. */
#define SOCK_BUF_BYTES (1 << 20)
/* Numeric host (IPv6 with scope) and port texts; NI_MAXHOST is not POSIX. */
#define HOST_TEXT_CAP 80
#define SERV_TEXT_CAP 16

static _Thread_local char last_error[320];

void sdtls__udp_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

void sdtls__udp_clear_error(void)
{
    last_error[0] = '\0';
}

const char *sdtls_udp_last_error(void)
{
    return last_error;
}

const char *sdtls_udp_strerror(int err)
{
    switch (err) {
    case SDTLS_UDP_ERR_RESOLVE:
        return "address could not be parsed or resolved";
    case SDTLS_UDP_ERR_SOCKET:
        return "socket operation failed";
    case SDTLS_UDP_ERR_REFUSED:
        return "connection refused: nothing listens at the peer address";
    case SDTLS_UDP_ERR_IDLE:
        return "session idle for too long";
    case SDTLS_UDP_ERR_FULL:
        return "session table full";
    case SDTLS_UDP_ERR_HANDSHAKE:
        return "handshake not complete by the server's handshake deadline";
    case SDTLS_UDP_ERR_RESTARTED:
        return "peer restarted: a new handshake from the same address replaced the session";
    default:
        return sdtls_strerror(err);
    }
}

uint64_t sdtls_udp_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        /* CLOCK_MONOTONIC is mandatory on every system we support; this cannot happen. */
        abort();
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Split "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" into host (NULL for "any") and port. */
static int split_host_port(const char *text, char *buf, size_t cap, const char **host,
                           const char **port)
{
    size_t len = strlen(text);
    char *colon;

    if (len == 0 || len >= cap) {
        return SDTLS_UDP_ERR_RESOLVE;
    }
    memcpy(buf, text, len + 1);
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');

        if (close == NULL || close[1] != ':') {
            return SDTLS_UDP_ERR_RESOLVE;
        }
        *close = '\0';
        *host = buf + 1;
        *port = close + 2;
    } else {
        colon = strrchr(buf, ':');
        if (colon == NULL || strchr(buf, ':') != colon) {
            /* No port, or an IPv6 address without brackets (ambiguous). */
            return SDTLS_UDP_ERR_RESOLVE;
        }
        *colon = '\0';
        *host = buf;
        *port = colon + 1;
    }
    if (**port == '\0') {
        return SDTLS_UDP_ERR_RESOLVE;
    }
    /* A numeric port must fit 16 bits: getaddrinfo() would silently take 99999 as 34463. */
    if (strspn(*port, "0123456789") == strlen(*port) &&
        (strlen(*port) > 5 || strtoul(*port, NULL, 10) > 65535)) {
        return SDTLS_UDP_ERR_RESOLVE;
    }
    if (**host == '\0' || strcmp(*host, "*") == 0) {
        *host = NULL;
    }
    return 0;
}

int sdtls__udp_resolve(const char *text, int passive, struct addrinfo **res)
{
    char buf[ADDR_TEXT_CAP];
    const char *host = NULL;
    const char *port = NULL;
    struct addrinfo hints;
    int rc;

    *res = NULL;
    if (text == NULL || split_host_port(text, buf, sizeof(buf), &host, &port) != 0) {
        sdtls__udp_set_error("bad address '%s': expected HOST:PORT or [IPV6]:PORT",
                             text != NULL ? text : "(null)");
        return SDTLS_UDP_ERR_RESOLVE;
    }
    memset(&hints, 0, sizeof(hints));
    /* "Any address" without a host means IPv4 any; "[::]:PORT" asks for IPv6 explicitly. */
    hints.ai_family = host == NULL ? AF_INET : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(host, port, &hints, res);
    if (rc != 0) {
        sdtls__udp_set_error("cannot resolve '%s': %s", text, gai_strerror(rc));
        *res = NULL;
        return SDTLS_UDP_ERR_RESOLVE;
    }
    if (*res == NULL) {
        sdtls__udp_set_error("cannot resolve '%s': no address", text);
        return SDTLS_UDP_ERR_RESOLVE;
    }
    return 0;
}

int sdtls_udp_addr_parse(const char *text, int passive, sdtls_udp_addr *out)
{
    struct addrinfo *res = NULL;
    int rc;

    if (out == NULL) {
        return SDTLS_ERR_ARG;
    }
    memset(out, 0, sizeof(*out));
    rc = sdtls__udp_resolve(text, passive, &res);
    if (rc != 0) {
        return rc;
    }
    if (res->ai_addrlen > sizeof(out->ss)) {
        freeaddrinfo(res);
        sdtls__udp_set_error("address '%s' too long", text);
        return SDTLS_UDP_ERR_RESOLVE;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int sdtls_udp_addr_format(const sdtls_udp_addr *addr, char *out, size_t cap)
{
    char host[HOST_TEXT_CAP];
    char serv[SERV_TEXT_CAP];
    int rc;
    int n;

    if (addr == NULL || out == NULL || cap == 0 || addr->len == 0) {
        return SDTLS_ERR_ARG;
    }
    rc = getnameinfo((const struct sockaddr *)&addr->ss, addr->len, host, sizeof(host), serv,
                     sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) {
        sdtls__udp_set_error("getnameinfo: %s", gai_strerror(rc));
        return SDTLS_ERR_ARG;
    }
    if (addr->ss.ss_family == AF_INET6) {
        n = snprintf(out, cap, "[%s]:%s", host, serv);
    } else {
        n = snprintf(out, cap, "%s:%s", host, serv);
    }
    if (n < 0 || (size_t)n >= cap) {
        return SDTLS_ERR_BUF_SMALL;
    }
    return 0;
}

size_t sdtls__udp_addr_key(const sdtls_udp_addr *addr, uint8_t key[SDTLS_UDP_KEY_CAP])
{
    if (addr->ss.ss_family == AF_INET && addr->len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&addr->ss;

        key[0] = 4;
        memcpy(key + 1, &sin->sin_port, 2);
        memcpy(key + 3, &sin->sin_addr, 4);
        return 7;
    }
    if (addr->ss.ss_family == AF_INET6 && addr->len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&addr->ss;
        uint32_t scope = sin6->sin6_scope_id;

        /* The flow label is left out: it may differ between datagrams of one peer. */
        key[0] = 6;
        memcpy(key + 1, &sin6->sin6_port, 2);
        memcpy(key + 3, &sin6->sin6_addr, 16);
        key[19] = (uint8_t)(scope >> 24);
        key[20] = (uint8_t)(scope >> 16);
        key[21] = (uint8_t)(scope >> 8);
        key[22] = (uint8_t)scope;
        return 23;
    }
    return 0;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -1;
    }
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
        return -1;
    }
    return 0;
}

int sdtls__udp_open(const struct addrinfo *ai, int is_bind, const char *text)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int bytes = SOCK_BUF_BYTES;

    if (fd < 0) {
        sdtls__udp_set_error("socket for '%s': %s", text, strerror(errno));
        return -1;
    }
    if (set_flags(fd) != 0) {
        sdtls__udp_set_error("fcntl: %s", strerror(errno));
        (void)close(fd);
        return -1;
    }
    /* Best effort: the kernel may cap these, and the defaults still work. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    if (is_bind) {
        if (ai->ai_family == AF_INET6) {
            int off = 0;

            /* "[::]:PORT" serves IPv4 peers too where the system allows it. */
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            sdtls__udp_set_error("bind %s: %s", text, strerror(errno));
            (void)close(fd);
            return -1;
        }
    } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        sdtls__udp_set_error("connect %s: %s", text, strerror(errno));
        (void)close(fd);
        return -1;
    }
    return fd;
}
