/*
 * ClientHello body parser (sdtls__client_hello_parse and its prefix), with the extension
 * parser in both roles and the HelloVerifyRequest parser run over the same bytes.
 *
 * Input: a ClientHello body (no record or handshake header).
 *
 * Oracles beyond the sanitizers: every view the parser returns lies inside the input; the
 * prefix parser succeeds with the same fields whenever the full parser does; the vectors the
 * server walks later (suites, groups, signature algorithms, ALPN names) can be walked without
 * leaving their bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake/dtls12/dtls12.h"

static const uint8_t *lo, *hi;

static void inside(const uint8_t *p, size_t n)
{
    if (n == 0) {
        return;
    }
    if (p < lo || p + n > hi) {
        abort();
    }
}

static void inside_rd(const sdtls_rd *r)
{
    if (r->p > r->end) {
        abort();
    }
    inside(r->p, sdtls_rd_left(r));
}

static unsigned walk_u16(sdtls_rd r)
{
    unsigned sum = 0;
    uint16_t v;
    while (sdtls_rd_u16(&r, &v) == 0) {
        sum += v;
    }
    return sum;
}

static unsigned walk_alpn(sdtls_rd r)
{
    unsigned sum = 0;
    sdtls_rd name;
    while (sdtls_rd_vec(&r, 1, 1, 255, &name) == 0) {
        inside_rd(&name);
        sum += (unsigned)sdtls_rd_left(&name);
    }
    return sum;
}

static void check_exts(const sdtls__exts *e)
{
    if (e->has_groups) {
        inside_rd(&e->groups);
        (void)walk_u16(e->groups);
    }
    if (e->has_sigalgs) {
        inside_rd(&e->sigalgs);
        (void)walk_u16(e->sigalgs);
    }
    if (e->has_alpn) {
        inside_rd(&e->alpn);
        (void)walk_alpn(e->alpn);
    }
    if (e->has_point_formats) {
        inside_rd(&e->point_formats);
    }
    if (e->has_sni) {
        inside(e->sni, e->sni_len);
    }
    if (e->has_srtp) {
        inside_rd(&e->srtp_profiles);
        inside(e->srtp_mki, e->srtp_mki_len);
        if (sdtls_rd_left(&e->srtp_profiles) % 2 != 0 || e->srtp_mki_len > 255) {
            abort();
        }
        (void)walk_u16(e->srtp_profiles);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lo = data;
    hi = data + size;
    sdtls__client_hello ch;
    int rc = sdtls__client_hello_parse(data, size, &ch);
    if (rc == 0) {
        inside(ch.random, 32);
        inside(ch.sid, ch.sid_len);
        inside(ch.cookie, ch.cookie_len);
        if (ch.sid_len > 32) {
            abort();
        }
        inside_rd(&ch.suites);
        if (sdtls_rd_left(&ch.suites) % 2 != 0 || sdtls_rd_left(&ch.suites) < 2) {
            abort();
        }
        (void)walk_u16(ch.suites);
        check_exts(&ch.ext);

        sdtls__client_hello pre;
        sdtls_rd r = sdtls_rd_init(data, size);
        if (sdtls__client_hello_parse_prefix(&r, &pre) != 0 || pre.version != ch.version ||
            pre.random != ch.random || pre.sid_len != ch.sid_len || pre.cookie != ch.cookie ||
            pre.cookie_len != ch.cookie_len) {
            abort();
        }
    } else if (rc != SDTLS_ALERT(DECODE_ERROR) && rc != SDTLS_ALERT(ILLEGAL_PARAMETER)) {
        abort(); /* only these two alerts are expected from a parser */
    }

    /* The same bytes as a ServerHello's extension block and as a HelloVerifyRequest. */
    sdtls_rd r = sdtls_rd_init(data, size);
    sdtls__exts e;
    if (sdtls__exts_parse(&r, 0, &e) == 0) {
        check_exts(&e);
        if (e.has_sni) {
            abort(); /* server_name is not parsed outside a ClientHello */
        }
    }
    r = sdtls_rd_init(data, size);
    if (sdtls__exts_parse(&r, 1, &e) == 0) {
        check_exts(&e);
    }
    const uint8_t *cookie;
    uint8_t cookie_len;
    if (sdtls__hvr_parse(data, size, &cookie, &cookie_len) == 0) {
        inside(cookie, cookie_len);
        if ((size_t)cookie_len + 3 != size) {
            abort();
        }
    }
    return 0;
}
