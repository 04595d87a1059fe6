/*
 * sdtls-relay: a UDP impairment relay for tests.
 *
 *   client <-> [listen socket] relay [upstream socket] <-> --to
 *
 * One session: the client is whoever sent the latest datagram to the listen socket. Every
 * client datagram goes to --to from the upstream socket; every datagram the upstream socket
 * receives goes back to the client. Per datagram and per direction, a seeded generator
 * decides loss, duplication and reordering (the copy is held back --reorder-ms while later
 * datagrams pass); --delay-ms delays everything. Held datagrams wait in a bounded binary heap
 * ordered by due time, then arrival, so a fixed delay keeps the order.
 *
 * Each direction draws from its own generator, always four numbers per datagram, so the
 * decision for the n-th datagram of a direction depends only on the seed and n, not on how
 * the two directions interleave.
 *
 * --rebind-after N moves the upstream side to a fresh socket (a new source port) after the
 * N-th client datagram, as a NAT rebinding would; --log prints each datagram's fate.
 *
 * Single-threaded poll() loop; ends after --duration-s or on SIGINT/SIGTERM and prints one
 * line of counters per direction: forwarded (datagrams sent, copies included), dropped (lost
 * on purpose, plus any the queue had no room for or the kernel refused to send: no client
 * yet, ENOBUFS, ICMP port unreachable reported on the connected upstream socket), duplicated
 * (datagrams sent twice) and reordered (copies held back).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_QUEUE_CAP 1024  /* held datagrams, both directions together */
#define RELAY_DGRAM_CAP 65536 /* largest UDP payload is 65507 bytes */
#define RELAY_BURST 64        /* datagrams read from one socket per wakeup */
#define RELAY_TICK_MS 200     /* longest poll, so a signal is seen promptly */
#define RELAY_ADDR_TEXT 64    /* "[" + INET6_ADDRSTRLEN + "]:65535" */

#define EXIT_USAGE 2
#define PARSE_HELP (-1) /* parse_args: --help was printed */

enum { DIR_C2S = 0, DIR_S2C = 1, DIR_COUNT = 2 };

typedef struct relay_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} relay_addr;

typedef struct relay_opts {
    relay_addr listen;
    relay_addr to;
    double loss;
    double reorder;
    double dup;
    uint64_t reorder_ms;
    uint64_t delay_ms;
    uint64_t seed;
    uint64_t duration_s;   /* 0: run until a signal */
    uint64_t rebind_after; /* 0: never */
    int log;               /* one stderr line per datagram */
} relay_opts;

typedef struct dir_stats {
    unsigned long long forwarded;
    unsigned long long dropped;
    unsigned long long duplicated;
    unsigned long long reordered;
} dir_stats;

typedef struct held {
    uint64_t due_ms;
    uint64_t seq; /* arrival order, breaks ties between equal due times */
    int dir;
    size_t len;
    uint8_t *data;
} held;

typedef struct relay {
    relay_opts o;
    int lfd; /* client side, bound to --listen */
    int ufd; /* upstream, connected to --to */
    relay_addr client;
    int has_client;
    uint64_t rng[DIR_COUNT];
    dir_stats st[DIR_COUNT];
    held heap[RELAY_QUEUE_CAP];
    size_t n_held;
    uint64_t next_seq;
    uint64_t seen[DIR_COUNT]; /* datagrams received per direction */
    uint64_t start_ms;
    int rebound;
    uint8_t buf[RELAY_DGRAM_CAP];
} relay;

static volatile sig_atomic_t relay_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    relay_stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------------------------
 * Random decisions: splitmix64, one stream per direction
 * ---------------------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double roll(relay *r, int dir)
{
    return (double)(splitmix64(&r->rng[dir]) >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------------------------------
 * Command line
 * ---------------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: sdtls-relay --listen ADDR:PORT --to ADDR:PORT [--loss P] [--reorder P]\n"
          "                   [--reorder-ms N] [--dup P] [--delay-ms N] [--seed N]\n"
          "                   [--duration-s N] [--rebind-after N] [--log]\n"
          "\n"
          "ADDR is an IPv4 literal or a bracketed IPv6 literal: 127.0.0.1:0, [::1]:4433.\n"
          "P is a probability, 0.2 or 20%; it applies to each datagram in each direction.\n"
          "  --loss P          drop the datagram\n"
          "  --dup P           send it twice\n"
          "  --reorder P       hold a copy back --reorder-ms (default 50) while later ones pass\n"
          "  --delay-ms N      delay every datagram by N ms (default 0)\n"
          "  --seed N          seed of the decisions (default 1)\n"
          "  --duration-s N    exit after N seconds (default 60, 0 = until a signal)\n"
          "  --rebind-after N  after N client datagrams, forward from a new source port\n"
          "  --log             one line per datagram on stderr: time, direction, number,\n"
          "                    length, first byte (the DTLS content type) and its fate\n"
          "Prints 'relay: listening ADDR:PORT' once bound (port 0 picks a free port) and one\n"
          "line of counters on exit (SIGINT/SIGTERM or --duration-s).\n",
          f);
}

static int usage_error(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "sdtls-relay: %s '%s': %s\n", opt, val, why);
    usage(stderr);
    return EXIT_USAGE;
}

/* "1.2.3.4:PORT" or "[v6]:PORT". Returns 0 or -1. */
static int parse_addr(const char *s, relay_addr *out)
{
    char host[RELAY_ADDR_TEXT];
    const char *colon;
    const char *port_text;
    char *end = NULL;
    unsigned long port;
    size_t host_len;

    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':') {
            return -1;
        }
        host_len = (size_t)(close - (s + 1));
        if (host_len == 0 || host_len >= sizeof(host)) {
            return -1;
        }
        memcpy(host, s + 1, host_len);
        port_text = close + 2;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return -1;
        }
        host_len = (size_t)(colon - s);
        if (host_len == 0 || host_len >= sizeof(host)) {
            return -1;
        }
        memcpy(host, s, host_len);
        port_text = colon + 1;
    }
    host[host_len] = '\0';
    if (port_text[0] < '0' || port_text[0] > '9') {
        return -1;
    }
    errno = 0;
    port = strtoul(port_text, &end, 10);
    if (errno != 0 || *end != '\0' || port > 65535) {
        return -1;
    }
    if (s[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;

        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
            return -1;
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;

        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
            return -1;
        }
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        out->len = sizeof(*a4);
    }
    return 0;
}

static uint16_t addr_port(const relay_addr *a)
{
    if (a->ss.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    }
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

static void addr_text(const relay_addr *a, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];

    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;

        if (inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host)) == NULL) {
            snprintf(host, sizeof(host), "?");
        }
        snprintf(out, cap, "[%s]:%u", host, (unsigned)addr_port(a));
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;

        if (inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host)) == NULL) {
            snprintf(host, sizeof(host), "?");
        }
        snprintf(out, cap, "%s:%u", host, (unsigned)addr_port(a));
    }
}

/* "0.25" or "25%", in [0, 1]. Returns 0 or -1. */
static int parse_prob(const char *s, double *out)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s) {
        return -1;
    }
    if (*end == '%' && end[1] == '\0') {
        v /= 100.0;
    } else if (*end != '\0') {
        return -1;
    }
    if (!(v >= 0.0 && v <= 1.0)) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Decimal in [0, max]. Returns 0 or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Returns 0, PARSE_HELP, or EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, relay_opts *o)
{
    /* One day of delay is far beyond any test and keeps due-time arithmetic overflow-free. */
    const uint64_t ms_max = 86400000u;
    int have_listen = 0;
    int have_to = 0;
    int i;

    memset(o, 0, sizeof(*o));
    o->reorder_ms = 50;
    o->seed = 1;
    o->duration_s = 60;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int bad = 0;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return PARSE_HELP;
        }
        if (strcmp(a, "--log") == 0) {
            o->log = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sdtls-relay: %s: unknown option or missing value\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        v = argv[++i];
        if (strcmp(a, "--listen") == 0) {
            bad = parse_addr(v, &o->listen);
            have_listen = 1;
        } else if (strcmp(a, "--to") == 0) {
            bad = parse_addr(v, &o->to) != 0 || addr_port(&o->to) == 0;
            have_to = 1;
        } else if (strcmp(a, "--loss") == 0) {
            bad = parse_prob(v, &o->loss);
        } else if (strcmp(a, "--reorder") == 0) {
            bad = parse_prob(v, &o->reorder);
        } else if (strcmp(a, "--dup") == 0) {
            bad = parse_prob(v, &o->dup);
        } else if (strcmp(a, "--reorder-ms") == 0) {
            bad = parse_u64(v, ms_max, &o->reorder_ms);
        } else if (strcmp(a, "--delay-ms") == 0) {
            bad = parse_u64(v, ms_max, &o->delay_ms);
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_u64(v, UINT64_MAX, &o->seed);
        } else if (strcmp(a, "--duration-s") == 0) {
            bad = parse_u64(v, ms_max / 1000u, &o->duration_s);
        } else if (strcmp(a, "--rebind-after") == 0) {
            bad = parse_u64(v, UINT64_MAX, &o->rebind_after);
        } else {
            return usage_error(a, v, "unknown option");
        }
        if (bad) {
            return usage_error(a, v, "invalid value");
        }
    }
    if (!have_listen || !have_to) {
        fprintf(stderr, "sdtls-relay: --listen and --to are required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Sockets
 * ---------------------------------------------------------------------------------------- */

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    int flags;

    if (fd < 0) {
        return -1;
    }
    flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A fresh upstream socket, connected to --to (so only its replies come in). -1 on error. */
static int open_upstream(const relay_opts *o)
{
    int fd = udp_socket(o->to.ss.ss_family);

    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&o->to.ss, o->to.len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int local_addr(int fd, relay_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->len = sizeof(out->ss);
    return getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
}

/* Open both sockets and print the listening line. Returns 0 or -1 (message printed). */
static int open_sockets(relay *r)
{
    char text[RELAY_ADDR_TEXT];
    relay_addr bound;
    int one = 1;

    addr_text(&r->o.listen, text, sizeof(text));
    r->lfd = udp_socket(r->o.listen.ss.ss_family);
    if (r->lfd < 0) {
        fprintf(stderr, "sdtls-relay: socket: %s\n", strerror(errno));
        return -1;
    }
    if (r->o.listen.ss.ss_family == AF_INET6) {
        (void)setsockopt(r->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(r->lfd, (const struct sockaddr *)&r->o.listen.ss, r->o.listen.len) != 0) {
        fprintf(stderr, "sdtls-relay: bind %s: %s\n", text, strerror(errno));
        return -1;
    }
    r->ufd = open_upstream(&r->o);
    if (r->ufd < 0) {
        addr_text(&r->o.to, text, sizeof(text));
        fprintf(stderr, "sdtls-relay: upstream socket to %s: %s\n", text, strerror(errno));
        return -1;
    }
    if (local_addr(r->lfd, &bound) != 0) {
        fprintf(stderr, "sdtls-relay: getsockname: %s\n", strerror(errno));
        return -1;
    }
    addr_text(&bound, text, sizeof(text));
    fprintf(stderr, "relay: listening %s\n", text);
    fflush(stderr);
    return 0;
}

/* Switch to a new upstream socket (a new source port); the old one closes, so replies still
 * addressed to it are lost, as after a NAT rebinding. */
static void rebind_upstream(relay *r)
{
    relay_addr src;
    int fd = open_upstream(&r->o);

    r->rebound = 1;
    if (fd < 0) {
        fprintf(stderr, "relay: warning: rebind failed: %s\n", strerror(errno));
        return;
    }
    close(r->ufd);
    r->ufd = fd;
    if (local_addr(fd, &src) == 0) {
        fprintf(stderr, "relay: rebound upstream after %llu client datagrams, new source port %u\n",
                (unsigned long long)r->seen[DIR_C2S], (unsigned)addr_port(&src));
        fflush(stderr);
    }
}

/* ------------------------------------------------------------------------------------------
 * Forwarding
 * ---------------------------------------------------------------------------------------- */

static int send_errno_expected(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ECONNREFUSED ||
           err == EHOSTUNREACH || err == ENETUNREACH;
}

static void send_now(relay *r, int dir, const uint8_t *data, size_t len)
{
    ssize_t n;

    if (dir == DIR_C2S) {
        n = send(r->ufd, data, len, 0);
    } else if (r->has_client) {
        n = sendto(r->lfd, data, len, 0, (const struct sockaddr *)&r->client.ss, r->client.len);
    } else {
        r->st[dir].dropped++;
        return;
    }
    if (n < 0) {
        if (!send_errno_expected(errno)) {
            fprintf(stderr, "relay: warning: %s send: %s\n", dir == DIR_C2S ? "c2s" : "s2c",
                    strerror(errno));
        }
        r->st[dir].dropped++;
        return;
    }
    r->st[dir].forwarded++;
}

static int held_before(const held *a, const held *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_swap(relay *r, size_t i, size_t j)
{
    held t = r->heap[i];

    r->heap[i] = r->heap[j];
    r->heap[j] = t;
}

static void heap_push(relay *r, const held *h)
{
    size_t i = r->n_held++;

    r->heap[i] = *h;
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!held_before(&r->heap[i], &r->heap[parent])) {
            break;
        }
        heap_swap(r, i, parent);
        i = parent;
    }
}

static void heap_pop(relay *r, held *out)
{
    size_t i = 0;

    *out = r->heap[0];
    r->heap[0] = r->heap[--r->n_held];
    for (;;) {
        size_t left = 2 * i + 1;
        size_t right = left + 1;
        size_t m = i;

        if (left < r->n_held && held_before(&r->heap[left], &r->heap[m])) {
            m = left;
        }
        if (right < r->n_held && held_before(&r->heap[right], &r->heap[m])) {
            m = right;
        }
        if (m == i) {
            break;
        }
        heap_swap(r, i, m);
        i = m;
    }
}

/* Send now, or hold for delay ms. Returns 0, or -1 if the queue had no room (dropped). */
static int schedule(relay *r, int dir, const uint8_t *data, size_t len, uint64_t delay,
                    uint64_t now)
{
    held h;

    if (delay == 0) {
        send_now(r, dir, data, len);
        return 0;
    }
    if (r->n_held >= RELAY_QUEUE_CAP) {
        r->st[dir].dropped++;
        return -1;
    }
    h.data = malloc(len > 0 ? len : 1);
    if (h.data == NULL) {
        r->st[dir].dropped++;
        return -1;
    }
    memcpy(h.data, data, len);
    h.len = len;
    h.dir = dir;
    h.due_ms = now + delay;
    h.seq = r->next_seq++;
    heap_push(r, &h);
    return 0;
}

/* Send every held datagram that is due. */
static void flush_due(relay *r, uint64_t now)
{
    while (r->n_held > 0 && r->heap[0].due_ms <= now) {
        held h;

        heap_pop(r, &h);
        send_now(r, h.dir, h.data, h.len);
        free(h.data);
    }
}

/* --log: "relay: +1.234 c2s #7 len=127 first=0x16 fwd" (the count is per direction). */
static void log_dgram(const relay *r, int dir, const uint8_t *data, size_t len, uint64_t now,
                      const char *fate)
{
    uint64_t t = now - r->start_ms;

    if (!r->o.log) {
        return;
    }
    fprintf(stderr, "relay: +%llu.%03llu %s #%llu len=%zu first=0x%02x %s\n",
            (unsigned long long)(t / 1000u), (unsigned long long)(t % 1000u),
            dir == DIR_C2S ? "c2s" : "s2c", (unsigned long long)r->seen[dir], len,
            len > 0 ? (unsigned)data[0] : 0u, fate);
}

/* Apply the impairments to one datagram travelling in direction dir. */
static void impair(relay *r, int dir, const uint8_t *data, size_t len, uint64_t now)
{
    char fate[64];
    double loss_roll = roll(r, dir);
    double dup_roll = roll(r, dir);
    double hold_roll[2];
    int copies;
    int k;

    hold_roll[0] = roll(r, dir);
    hold_roll[1] = roll(r, dir);
    if (loss_roll < r->o.loss) {
        r->st[dir].dropped++;
        log_dgram(r, dir, data, len, now, "drop");
        return;
    }
    copies = dup_roll < r->o.dup ? 2 : 1;
    if (copies == 2) {
        r->st[dir].duplicated++;
    }
    fate[0] = '\0';
    for (k = 0; k < copies; k++) {
        uint64_t delay = r->o.delay_ms;
        size_t used = strlen(fate);

        if (hold_roll[k] < r->o.reorder) {
            delay += r->o.reorder_ms;
            r->st[dir].reordered++;
        }
        if (schedule(r, dir, data, len, delay, now) != 0) {
            snprintf(fate + used, sizeof(fate) - used, "%sdrop(queue full)", k > 0 ? " dup " : "");
        } else {
            snprintf(fate + used, sizeof(fate) - used, "%s%s", k > 0 ? " dup " : "",
                     delay == r->o.delay_ms ? "fwd" : "hold");
        }
    }
    log_dgram(r, dir, data, len, now, fate);
}

static int recv_failed(const char *what)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 1;
    }
    /* ICMP errors from earlier sends surface here; they end nothing. */
    if (errno == EINTR || send_errno_expected(errno)) {
        return 0;
    }
    fprintf(stderr, "relay: warning: %s recv: %s\n", what, strerror(errno));
    return 1;
}

static void drain_client(relay *r)
{
    int i;

    for (i = 0; i < RELAY_BURST; i++) {
        relay_addr from;
        ssize_t n;

        memset(&from, 0, sizeof(from));
        from.len = sizeof(from.ss);
        n = recvfrom(r->lfd, r->buf, sizeof(r->buf), 0, (struct sockaddr *)&from.ss, &from.len);
        if (n < 0) {
            if (recv_failed("client")) {
                return;
            }
            continue;
        }
        r->client = from;
        r->has_client = 1;
        r->seen[DIR_C2S]++;
        impair(r, DIR_C2S, r->buf, (size_t)n, now_ms());
        if (r->o.rebind_after != 0 && !r->rebound && r->seen[DIR_C2S] >= r->o.rebind_after) {
            rebind_upstream(r);
        }
    }
}

static void drain_upstream(relay *r)
{
    int i;

    for (i = 0; i < RELAY_BURST; i++) {
        ssize_t n = recv(r->ufd, r->buf, sizeof(r->buf), 0);

        if (n < 0) {
            if (recv_failed("upstream")) {
                return;
            }
            continue;
        }
        r->seen[DIR_S2C]++;
        impair(r, DIR_S2C, r->buf, (size_t)n, now_ms());
    }
}

/* Poll timeout: until the next held datagram or the end, at most RELAY_TICK_MS. */
static int poll_wait(const relay *r, uint64_t now, uint64_t end)
{
    uint64_t until = now + RELAY_TICK_MS;

    if (r->n_held > 0 && r->heap[0].due_ms < until) {
        until = r->heap[0].due_ms;
    }
    if (end < until) {
        until = end;
    }
    return until > now ? (int)(until - now) : 0;
}

static int run(relay *r)
{
    uint64_t end = r->o.duration_s != 0 ? now_ms() + r->o.duration_s * 1000u : UINT64_MAX;

    while (!relay_stop) {
        struct pollfd fds[2];
        uint64_t now = now_ms();
        int ufd = r->ufd;
        int rc;

        flush_due(r, now);
        if (now >= end) {
            break;
        }
        fds[0].fd = r->lfd;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = ufd;
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        rc = poll(fds, 2, poll_wait(r, now, end));
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "sdtls-relay: poll: %s\n", strerror(errno));
            return 1;
        }
        if (fds[0].revents != 0) {
            drain_client(r);
        }
        /* A rebinding while draining the client closed the socket polled here. */
        if (fds[1].revents != 0 && r->ufd == ufd) {
            drain_upstream(r);
        }
    }
    return 0;
}

static void print_counters(const relay *r)
{
    const dir_stats *c = &r->st[DIR_C2S];
    const dir_stats *s = &r->st[DIR_S2C];

    fprintf(stderr,
            "relay: c2s forwarded=%llu dropped=%llu duplicated=%llu reordered=%llu; "
            "s2c forwarded=%llu dropped=%llu duplicated=%llu reordered=%llu\n",
            c->forwarded, c->dropped, c->duplicated, c->reordered, s->forwarded, s->dropped,
            s->duplicated, s->reordered);
    fflush(stderr);
}

static int install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll() returns EINTR and the loop sees the flag at once. */
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    relay *r = calloc(1, sizeof(*r));
    int code;

    if (r == NULL) {
        fprintf(stderr, "sdtls-relay: out of memory\n");
        return 1;
    }
    r->lfd = -1;
    r->ufd = -1;
    code = parse_args(argc, argv, &r->o);
    if (code == 0 && install_signals() != 0) {
        fprintf(stderr, "sdtls-relay: sigaction: %s\n", strerror(errno));
        code = 1;
    }
    if (code == 0) {
        uint64_t s = r->o.seed;

        r->rng[DIR_C2S] = splitmix64(&s);
        r->rng[DIR_S2C] = splitmix64(&s);
        r->start_ms = now_ms();
        if (open_sockets(r) != 0) {
            code = 1;
        } else {
            code = run(r);
            print_counters(r);
        }
    }
    if (code == PARSE_HELP) {
        code = 0;
    }
    while (r->n_held > 0) {
        held h;

        heap_pop(r, &h);
        free(h.data);
    }
    if (r->lfd >= 0) {
        close(r->lfd);
    }
    if (r->ufd >= 0) {
        close(r->ufd);
    }
    free(r);
    return code;
}
