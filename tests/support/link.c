#include "link.h"

#include <string.h>

double link_rand(link *l)
{
    uint64_t x = l->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    l->rng = x;
    return (double)(x >> 11) / (double)(UINT64_C(1) << 53);
}

void link_init(link *l, uint64_t seed, sdtls_conn *client, sdtls_conn *server)
{
    memset(l, 0, sizeof(*l));
    l->rng = seed * 2654435761u + 88172645463325252ull;
    l->now = 1000000; /* arbitrary non-zero start */
    l->ep[0] = client;
    l->ep[1] = server;
}

static void enqueue(link *l, link_dir *d, const uint8_t *data, size_t len, uint64_t at)
{
    if (d->n == LINK_QUEUE || len > LINK_DGRAM) {
        d->lost++;
        return;
    }
    link_pkt *p = &d->q[d->n++];
    p->at = at;
    p->len = len;
    memcpy(p->data, data, len);
    if (d->imp.corrupt > 0 && link_rand(l) < d->imp.corrupt && len > 0) {
        size_t i = (size_t)(link_rand(l) * (double)len);
        p->data[i] ^= (uint8_t)(1u << (unsigned)(link_rand(l) * 8));
    }
}

/* Offer a datagram to the network in direction `dir`. */
static void transmit(link *l, int dir, const uint8_t *data, size_t len)
{
    link_dir *d = &l->dir[dir];
    d->sent++;
    const link_impair *im = &d->imp;
    if (d->sent < 64 && (im->drop_mask & (UINT64_C(1) << d->sent))) {
        d->lost++;
        return;
    }
    if (im->mtu != 0 && len > im->mtu) {
        d->lost++;
        return;
    }
    if (d->burst_left > 0) {
        d->burst_left--;
        d->lost++;
        return;
    }
    if (im->burst_start > 0 && link_rand(l) < im->burst_start) {
        d->burst_left = im->burst_len > 0 ? im->burst_len - 1 : 0;
        d->lost++;
        return;
    }
    if (im->loss > 0 && link_rand(l) < im->loss) {
        d->lost++;
        return;
    }
    uint64_t at = l->now + im->delay_ms;
    if (im->jitter_ms > 0) {
        at += (uint64_t)(link_rand(l) * (double)(im->jitter_ms + 1));
    }
    if (im->reorder > 0 && link_rand(l) < im->reorder) {
        at += im->reorder_ms;
    }
    enqueue(l, d, data, len, at);
    if (im->dup > 0 && link_rand(l) < im->dup) {
        enqueue(l, d, data, len, at + 1);
    }
}

static void drain_events(link *l, int side)
{
    sdtls_event ev;
    while (l->ep[side] != NULL && sdtls_conn_next_event(l->ep[side], &ev) == 0 &&
           ev.type != SDTLS_EV_NONE) {
        switch (ev.type) {
        case SDTLS_EV_HANDSHAKE_DONE:
            l->done[side] = 1;
            break;
        case SDTLS_EV_DATA:
            if (l->rx_len[side] + ev.len <= sizeof(l->rx[side])) {
                memcpy(l->rx[side] + l->rx_len[side], ev.data, ev.len);
                l->rx_len[side] += ev.len;
            }
            l->rx_records[side]++;
            break;
        case SDTLS_EV_CLOSED:
            l->closed[side] = 1;
            break;
        default:
            break;
        }
    }
}

static void flush(link *l, int side)
{
    uint8_t buf[LINK_DGRAM];
    size_t len;
    for (int i = 0; i < 64 && l->ep[side] != NULL; i++) {
        int rc = sdtls_conn_send(l->ep[side], buf, sizeof(buf), &len, l->now);
        if (rc != 0) {
            if (l->err[side] == 0) {
                l->err[side] = rc;
            }
            return;
        }
        if (len == 0) {
            return;
        }
        transmit(l, side, buf, len);
    }
}

static const uint8_t link_client_addr[] = {127, 0, 0, 1, 0x30, 0x39};

/* A server without a connection yet screens statelessly, as a real front door does. */
static int screen(link *l, const uint8_t *data, size_t len)
{
    uint8_t reply[LINK_DGRAM];
    size_t reply_len;
    sdtls_verdict v;
    if (sdtls_server_screen(l->server_cfg, data, len, link_client_addr, sizeof(link_client_addr),
                            l->now, reply, sizeof(reply), &reply_len, &v) != 0) {
        return 0;
    }
    l->screened++;
    if (v == SDTLS_VERDICT_REPLY) {
        transmit(l, 1, reply, reply_len);
        return 0;
    }
    if (v != SDTLS_VERDICT_ACCEPT) {
        return 0;
    }
    if (sdtls_conn_new(l->server_cfg, SDTLS_ROLE_SERVER, link_client_addr,
                       sizeof(link_client_addr), &l->ep[1]) != 0) {
        return 0;
    }
    l->server_created = 1;
    return 1;
}

static void deliver(link *l, int to, const uint8_t *data, size_t len)
{
    if (l->ep[to] == NULL && (to == 0 || l->server_cfg == NULL || !screen(l, data, len))) {
        return;
    }
    int rc = sdtls_conn_recv(l->ep[to], data, len, l->now);
    if (rc != 0 && l->err[to] == 0) {
        l->err[to] = rc;
    }
    drain_events(l, to);
    flush(l, to);
}

void link_inject(link *l, int to, const uint8_t *data, size_t len)
{
    deliver(l, to, data, len);
}

/* One step: deliver everything due, fire timers, then advance the clock to the next event. */
static int step(link *l, uint64_t limit)
{
    flush(l, 0);
    flush(l, 1);
    for (int dir = 0; dir < 2; dir++) {
        link_dir *d = &l->dir[dir];
        for (size_t i = 0; i < d->n;) {
            if (d->q[i].at <= l->now) {
                link_pkt p = d->q[i];
                memmove(&d->q[i], &d->q[i + 1], (d->n - i - 1) * sizeof(d->q[0]));
                d->n--;
                d->delivered++;
                deliver(l, 1 - dir, p.data, p.len);
            } else {
                i++;
            }
        }
    }
    for (int side = 0; side < 2; side++) {
        if (l->ep[side] != NULL && sdtls_conn_deadline(l->ep[side]) <= l->now) {
            int rc = sdtls_conn_on_timeout(l->ep[side], l->now);
            if (rc != 0 && l->err[side] == 0) {
                l->err[side] = rc;
            }
            drain_events(l, side);
            flush(l, side);
        }
    }
    uint64_t next = UINT64_MAX;
    for (int dir = 0; dir < 2; dir++) {
        for (size_t i = 0; i < l->dir[dir].n; i++) {
            if (l->dir[dir].q[i].at < next) {
                next = l->dir[dir].q[i].at;
            }
        }
    }
    for (int side = 0; side < 2; side++) {
        if (l->ep[side] != NULL) {
            uint64_t dl = sdtls_conn_deadline(l->ep[side]);
            if (dl < next) {
                next = dl;
            }
        }
    }
    if (next == UINT64_MAX || next > limit) {
        return 0; /* nothing more can happen before the limit */
    }
    if (next > l->now) {
        l->now = next;
    }
    return 1;
}

int link_run_handshake(link *l, uint64_t limit_ms)
{
    uint64_t limit = l->now + limit_ms;
    for (int i = 0; i < 100000; i++) {
        if (l->done[0] && l->done[1]) {
            return 0;
        }
        if (l->err[0] != 0 || l->err[1] != 0) {
            /* let the alert reach the other side */
            step(l, l->now + 1000);
            return -1;
        }
        if (!step(l, limit)) {
            return l->done[0] && l->done[1] ? 0 : -1;
        }
    }
    return -1;
}

void link_run_for(link *l, uint64_t ms)
{
    uint64_t limit = l->now + ms;
    for (int i = 0; i < 100000 && l->now < limit; i++) {
        if (!step(l, limit)) {
            break;
        }
    }
    l->now = limit;
}

int link_write(link *l, int side, const void *data, size_t len)
{
    uint8_t buf[LINK_DGRAM];
    size_t out;
    int rc = sdtls_conn_write(l->ep[side], data, len, buf, sizeof(buf), &out);
    if (rc == 0) {
        transmit(l, side, buf, out);
    }
    return rc;
}

int link_measure_session(const sdtls_config *ccfg, tu_alloc_stats *cst,
                         const sdtls_config *scfg, tu_alloc_stats *sst, link_footprint *out)
{
    static link l;
    static const uint8_t addr[] = {1, 2, 3, 4};
    size_t c0 = cst->live_bytes, s0 = sst->live_bytes;
    tu_alloc_stats *crypto = tu_crypto_heap();
    size_t k0 = crypto->live_bytes;
    sdtls_conn *c = NULL, *s = NULL;
    int rc = -1;
    cst->peak_bytes = c0;
    sst->peak_bytes = s0;
    crypto->peak_bytes = k0;
    if (sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, NULL, 0, &c) != 0 ||
        sdtls_conn_new(scfg, SDTLS_ROLE_SERVER, addr, sizeof(addr), &s) != 0) {
        goto out;
    }
    link_init(&l, 1, c, s);
    /* The first application record lets the server drop its handshake state. */
    if (link_run_handshake(&l, 10000) != 0 || link_write(&l, 0, "x", 1) != 0) {
        goto out;
    }
    link_run_for(&l, 10);
    out->client_peak = cst->peak_bytes - c0;
    out->client_established = cst->live_bytes - c0;
    out->server_peak = sst->peak_bytes - s0;
    out->server_established = sst->live_bytes - s0;
    out->crypto_peak = crypto->peak_bytes - k0;
    out->crypto_established = crypto->live_bytes > k0 ? crypto->live_bytes - k0 : 0;
    rc = 0;
out:
    sdtls_conn_free(c);
    sdtls_conn_free(s);
    return cst->live_bytes == c0 && sst->live_bytes == s0 ? rc : -1;
}
