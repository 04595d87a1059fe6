/*
 * Unit tests of the DTLS 1.2 message codecs shared by both roles and the cookie screen
 * (src/handshake/dtls12/messages.c): ClientHello with and without extensions, every
 * truncation, duplicate and malformed extensions, cipher suite and compression vectors, and
 * the HelloVerifyRequest body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "handshake/dtls12/dtls12.h"

#define DECODE SDTLS_ALERT(DECODE_ERROR)
#define ILLEGAL SDTLS_ALERT(ILLEGAL_PARAMETER)

/* ---- a ClientHello builder ------------------------------------------------------------------ */

typedef struct ext {
    uint16_t type;
    const uint8_t *body;
    size_t len;
} ext;

typedef struct ch_spec {
    uint16_t version;
    size_t sid_len, cookie_len;
    const uint8_t *suites;
    size_t suites_len;
    const uint8_t *comp;
    size_t comp_len;
    int has_exts; /* 0: no extensions block at all */
    ext exts[16];
    size_t n_exts;
    size_t trailing; /* junk bytes after the extensions */
} ch_spec;

static const uint8_t suites2[] = {0xc0, 0x2b, 0xcc, 0xa9};
static const uint8_t comp_null[] = {0};

static const uint8_t b_sni[] = {0x00, 0x0e, 0x00, 0x00, 0x0b, 'e', 'x', 'a',
                                'm',  'p',  'l',  'e',  '.',  'c', 'o', 'm'};
static const uint8_t b_groups[] = {0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18};
static const uint8_t b_points[] = {0x01, 0x00};
static const uint8_t b_sigalgs[] = {0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x08, 0x07};
static const uint8_t b_alpn[] = {0x00, 0x09, 0x02, 'h', '2', 0x05, 'c', 'o', 'a', 'p', 's'};
static const uint8_t b_reneg[] = {0x00};
static const uint8_t b_junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00};

static void spec_default(ch_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->version = SDTLS_VERSION_DTLS12;
    s->sid_len = 0;
    s->cookie_len = 0;
    s->suites = suites2;
    s->suites_len = sizeof(suites2);
    s->comp = comp_null;
    s->comp_len = 1;
    s->has_exts = 1;
}

static void add_ext(ch_spec *s, uint16_t type, const uint8_t *body, size_t len)
{
    assert_true(s->n_exts < 16);
    s->exts[s->n_exts].type = type;
    s->exts[s->n_exts].body = body;
    s->exts[s->n_exts].len = len;
    s->n_exts++;
}

static void spec_all_exts(ch_spec *s)
{
    spec_default(s);
    add_ext(s, 0, b_sni, sizeof(b_sni));
    add_ext(s, 10, b_groups, sizeof(b_groups));
    add_ext(s, 11, b_points, sizeof(b_points));
    add_ext(s, 13, b_sigalgs, sizeof(b_sigalgs));
    add_ext(s, 16, b_alpn, sizeof(b_alpn));
    add_ext(s, 23, NULL, 0);
    add_ext(s, 0xff01, b_reneg, sizeof(b_reneg));
}

/* Build the body; *ext_start receives the offset of the extensions block. */
static size_t build(const ch_spec *s, uint8_t *out, size_t cap, size_t *ext_start)
{
    sdtls_wr w = sdtls_wr_init(out, cap);
    uint8_t fill[256];
    for (int i = 0; i < 256; i++) {
        fill[i] = (uint8_t)(i ^ 0x5a);
    }
    assert_int_equal(sdtls_wr_u16(&w, s->version), 0);
    assert_int_equal(sdtls_wr_bytes(&w, fill, 32), 0);
    assert_int_equal(sdtls_wr_vec(&w, 1, fill, s->sid_len), 0);
    assert_int_equal(sdtls_wr_vec(&w, 1, fill + 1, s->cookie_len), 0);
    assert_int_equal(sdtls_wr_vec(&w, 2, s->suites, s->suites_len), 0);
    assert_int_equal(sdtls_wr_vec(&w, 1, s->comp, s->comp_len), 0);
    if (ext_start != NULL) {
        *ext_start = w.len;
    }
    if (s->has_exts) {
        size_t mark;
        assert_int_equal(sdtls_wr_vec_open(&w, 2, &mark), 0);
        for (size_t i = 0; i < s->n_exts; i++) {
            assert_int_equal(sdtls_wr_u16(&w, s->exts[i].type), 0);
            assert_int_equal(sdtls_wr_vec(&w, 2, s->exts[i].body, s->exts[i].len), 0);
        }
        assert_int_equal(sdtls_wr_vec_close(&w, 2, mark), 0);
    }
    for (size_t i = 0; i < s->trailing; i++) {
        assert_int_equal(sdtls_wr_u8(&w, 0), 0);
    }
    assert_true(sdtls_wr_ok(&w));
    return w.len;
}

/* Parse a copy in an exact-size heap buffer, so ASan catches any read past the end. */
static int parse(const uint8_t *body, size_t len, sdtls__client_hello *ch)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    memcpy(copy, body, len);
    int rc = sdtls__client_hello_parse(copy, len, ch);
    free(copy);
    return rc;
}

static int parse_spec(const ch_spec *s)
{
    uint8_t body[2048];
    size_t len = build(s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    return parse(body, len, &ch);
}

/* ---- ClientHello ------------------------------------------------------------------------------
 */

static void test_client_hello_all_extensions(void **state)
{
    (void)state;
    ch_spec s;
    spec_all_exts(&s);
    s.sid_len = 32;
    s.cookie_len = 20;
    uint8_t body[2048];
    size_t len = build(&s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    assert_int_equal(sdtls__client_hello_parse(body, len, &ch), 0);
    assert_int_equal(ch.version, SDTLS_VERSION_DTLS12);
    assert_ptr_equal(ch.random, body + 2);
    assert_int_equal(ch.sid_len, 32);
    assert_ptr_equal(ch.sid, body + 35);
    assert_int_equal(ch.cookie_len, 20);
    assert_ptr_equal(ch.cookie, body + 35 + 32 + 1);
    assert_int_equal(sdtls_rd_left(&ch.suites), 4);
    const sdtls__exts *e = &ch.ext;
    assert_true(e->has_sni);
    assert_int_equal(e->sni_len, 11);
    assert_memory_equal(e->sni, "example.com", 11);
    assert_true(e->has_groups);
    assert_int_equal(sdtls_rd_left(&e->groups), 6);
    assert_memory_equal(e->groups.p, b_groups + 2, 6);
    assert_true(e->has_point_formats);
    assert_int_equal(sdtls_rd_left(&e->point_formats), 1);
    assert_true(e->has_sigalgs);
    assert_int_equal(sdtls_rd_left(&e->sigalgs), 6);
    assert_true(e->has_alpn);
    assert_int_equal(sdtls_rd_left(&e->alpn), 9);
    assert_true(e->ems);
    assert_true(e->has_reneg);
    assert_int_equal(e->reneg_len, 0);
}

static void test_client_hello_no_extensions(void **state)
{
    (void)state;
    ch_spec s;
    spec_default(&s);
    s.has_exts = 0;
    uint8_t body[512];
    size_t len = build(&s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), 0);
    sdtls__exts zero;
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(ch.ext.has_groups + ch.ext.has_sigalgs + ch.ext.has_alpn +
                         ch.ext.has_point_formats + ch.ext.ems + ch.ext.has_reneg + ch.ext.has_sni,
                     0);
    /* An empty extensions block is fine too. */
    s.has_exts = 1;
    assert_int_equal(parse_spec(&s), 0);
}

static void test_client_hello_truncated_everywhere(void **state)
{
    (void)state;
    ch_spec s;
    spec_all_exts(&s);
    s.sid_len = 16;
    s.cookie_len = 20;
    add_ext(&s, 0x1234, b_junk, sizeof(b_junk));
    uint8_t body[2048];
    size_t ext_start;
    size_t len = build(&s, body, sizeof(body), &ext_start);
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), 0);
    for (size_t n = 0; n < len; n++) {
        int rc = parse(body, n, &ch);
        if (n == ext_start) {
            /* Cut exactly before the extensions: a valid ClientHello without them. */
            assert_int_equal(rc, 0);
            assert_false(ch.ext.has_groups);
        } else if (rc != DECODE) {
            fail_msg("truncated to %zu of %zu bytes: got %d, want decode_error", n, len, rc);
        }
    }
    /* Also every truncation of the version without extensions. */
    s.has_exts = 0;
    len = build(&s, body, sizeof(body), &ext_start);
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(parse(body, n, &ch), DECODE);
    }
}

static void test_client_hello_duplicate_extension(void **state)
{
    (void)state;
    static const struct {
        uint16_t type;
        const uint8_t *body;
        size_t len;
    } known[] = {
        {0, b_sni, sizeof(b_sni)},          {10, b_groups, sizeof(b_groups)},
        {11, b_points, sizeof(b_points)},   {13, b_sigalgs, sizeof(b_sigalgs)},
        {16, b_alpn, sizeof(b_alpn)},       {23, NULL, 0},
        {0xff01, b_reneg, sizeof(b_reneg)}, {5, b_junk, sizeof(b_junk)},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        ch_spec s;
        spec_default(&s);
        add_ext(&s, known[i].type, known[i].body, known[i].len);
        assert_int_equal(parse_spec(&s), 0);
        /* RFC 5246 7.4.1.4: no more than one extension of the same type. */
        add_ext(&s, 0x4444, b_junk, sizeof(b_junk));
        add_ext(&s, known[i].type, known[i].body, known[i].len);
        int rc = parse_spec(&s);
        if (rc != ILLEGAL) {
            fail_msg("duplicate extension %u: got %d, want illegal_parameter", known[i].type, rc);
        }
    }
}

static void test_client_hello_suites(void **state)
{
    (void)state;
    ch_spec s;
    spec_default(&s);
    static const uint8_t odd[] = {0xc0, 0x2b, 0xcc};
    s.suites = odd;
    s.suites_len = 3;
    assert_int_equal(parse_spec(&s), DECODE);
    s.suites_len = 1;
    assert_int_equal(parse_spec(&s), DECODE);
    s.suites_len = 0; /* <2..2^16-2> */
    assert_int_equal(parse_spec(&s), DECODE);
    s.suites_len = 2;
    assert_int_equal(parse_spec(&s), 0);
    /* The largest suite list: 2^16 - 2 bytes. */
    uint8_t *many = calloc(1, 0xfffe);
    uint8_t *body = malloc(0x10000 + 512);
    s.suites = many;
    s.suites_len = 0xfffe;
    size_t len = build(&s, body, 0x10000 + 512, NULL);
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), 0);
    assert_int_equal(sdtls_rd_left(&ch.suites), 0xfffe);
    /* 2^16 - 1 bytes (odd and over the maximum). */
    s.suites_len = 0xffff;
    uint8_t *many2 = calloc(1, 0xffff);
    s.suites = many2;
    len = build(&s, body, 0x10000 + 512, NULL);
    assert_int_equal(parse(body, len, &ch), DECODE);
    free(many);
    free(many2);
    free(body);
}

static void test_client_hello_compression(void **state)
{
    (void)state;
    ch_spec s;
    spec_default(&s);
    static const uint8_t deflate_only[] = {1};
    static const uint8_t deflate_null[] = {1, 0};
    s.comp = deflate_only;
    s.comp_len = 1;
    /* RFC 5246 7.4.1.2: null compression must be offered. */
    assert_int_equal(parse_spec(&s), ILLEGAL);
    s.comp = deflate_null;
    s.comp_len = 2;
    assert_int_equal(parse_spec(&s), 0);
    s.comp_len = 0; /* <1..2^8-1> */
    assert_int_equal(parse_spec(&s), DECODE);
}

static void test_client_hello_session_id_and_cookie(void **state)
{
    (void)state;
    ch_spec s;
    spec_default(&s);
    s.sid_len = 32;
    assert_int_equal(parse_spec(&s), 0);
    s.cookie_len = 255;
    assert_int_equal(parse_spec(&s), 0);
    /* session_id <0..32>: 33 is refused (build by hand: the builder writes what it is told). */
    uint8_t body[512];
    size_t len = build(&s, body, sizeof(body), NULL);
    body[2 + 32] = 33;
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), DECODE);
    body[2 + 32] = 255;
    assert_int_equal(parse(body, len, &ch), DECODE);
}

static void test_client_hello_unknown_extensions_skipped(void **state)
{
    (void)state;
    ch_spec s;
    spec_default(&s);
    static uint8_t big[3000];
    memset(big, 0xcc, sizeof(big));
    add_ext(&s, 0x1234, b_junk, sizeof(b_junk));
    add_ext(&s, 35, big, sizeof(big)); /* session_ticket */
    add_ext(&s, 43, b_junk, 3);        /* supported_versions (TLS 1.3) */
    add_ext(&s, 0xfe0d, NULL, 0);
    add_ext(&s, 0xffff, b_junk, 1);
    add_ext(&s, 10, b_groups, sizeof(b_groups));
    add_ext(&s, 21, big, 100); /* padding */
    uint8_t body[4096];
    size_t len = build(&s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), 0);
    assert_true(ch.ext.has_groups);
    assert_false(ch.ext.has_sigalgs);
}

static void test_client_hello_trailing_bytes(void **state)
{
    (void)state;
    ch_spec s;
    spec_all_exts(&s);
    s.trailing = 1;
    assert_int_equal(parse_spec(&s), DECODE);
    s.trailing = 5;
    assert_int_equal(parse_spec(&s), DECODE);
}

static void test_client_hello_malformed_extensions(void **state)
{
    (void)state;
    static const uint8_t groups_short[] = {0x00, 0x08, 0x00, 0x1d};       /* list runs past */
    static const uint8_t groups_trail[] = {0x00, 0x02, 0x00, 0x1d, 0x00}; /* extra byte */
    static const uint8_t groups_empty[] = {0x00, 0x00};                   /* <2..> */
    static const uint8_t points_empty[] = {0x00};                         /* <1..> */
    static const uint8_t sig_empty[] = {0x00, 0x00};
    static const uint8_t alpn_empty[] = {0x00, 0x00};
    static const uint8_t ems_body[] = {0x00};
    static const uint8_t reneg_long[] = {0x05, 0x00};
    static const uint8_t reneg_trail[] = {0x00, 0x00};
    static const uint8_t sni_empty_list[] = {0x00, 0x00};
    static const uint8_t sni_empty_name[] = {0x00, 0x03, 0x00, 0x00, 0x00};
    static const uint8_t sni_trail[] = {0x00, 0x04, 0x00, 0x00, 0x01, 'a', 0x00};
    static const uint8_t sni_list_short[] = {0x00, 0x09, 0x00, 0x00, 0x01, 'a'};
    static const struct {
        uint16_t type;
        const uint8_t *body;
        size_t len;
    } bad[] = {
        {10, groups_short, sizeof(groups_short)},
        {10, groups_trail, sizeof(groups_trail)},
        {10, groups_empty, sizeof(groups_empty)},
        {10, NULL, 0},
        {11, points_empty, sizeof(points_empty)},
        {11, NULL, 0},
        {13, sig_empty, sizeof(sig_empty)},
        {13, NULL, 0},
        {16, alpn_empty, sizeof(alpn_empty)},
        {16, NULL, 0},
        {23, ems_body, sizeof(ems_body)},
        {0xff01, reneg_long, sizeof(reneg_long)},
        {0xff01, reneg_trail, sizeof(reneg_trail)},
        {0xff01, NULL, 0},
        {0, sni_empty_list, sizeof(sni_empty_list)},
        {0, sni_empty_name, sizeof(sni_empty_name)},
        {0, sni_trail, sizeof(sni_trail)},
        {0, sni_list_short, sizeof(sni_list_short)},
        {0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ch_spec s;
        spec_default(&s);
        add_ext(&s, bad[i].type, bad[i].body, bad[i].len);
        int rc = parse_spec(&s);
        if (rc != DECODE) {
            fail_msg("malformed extension %u (case %zu): got %d, want decode_error", bad[i].type, i,
                     rc);
        }
    }
    /* An extension whose length runs past the block, and a block whose length runs past the
     * message. */
    ch_spec s;
    spec_default(&s);
    add_ext(&s, 10, b_groups, sizeof(b_groups));
    uint8_t body[512];
    size_t ext_start;
    size_t len = build(&s, body, sizeof(body), &ext_start);
    sdtls__client_hello ch;
    body[ext_start + 2 + 2 + 1] += 1; /* extension length + 1 */
    assert_int_equal(parse(body, len, &ch), DECODE);
    body[ext_start + 2 + 2 + 1] -= 1;
    body[ext_start + 1] += 1; /* block length + 1 */
    assert_int_equal(parse(body, len, &ch), DECODE);
    body[ext_start + 1] -= 2; /* block length - 1: the last extension is cut */
    assert_int_equal(parse(body, len, &ch), DECODE);
}

static void test_client_hello_sni_forms(void **state)
{
    (void)state;
    /* Several names: the first host_name wins, other types are skipped. */
    ch_spec s;
    spec_default(&s);
    static const uint8_t two[] = {0x00, 0x0b, 0x07, 0x00, 0x02, 'z', 'z',
                                  0x00, 0x00, 0x03, 'a',  'b',  'c'};
    add_ext(&s, 0, two, sizeof(two));
    uint8_t body[512];
    size_t len = build(&s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    assert_int_equal(parse(body, len, &ch), 0);
    assert_true(ch.ext.has_sni);
    assert_int_equal(ch.ext.sni_len, 3);
    assert_memory_equal(ch.ext.sni, "abc", 3);
    /* In a ServerHello the server_name extension is empty and not parsed. */
    static const uint8_t sh_exts[] = {0x00, 0x04, 0x00, 0x00, 0x00, 0x00};
    sdtls_rd r = sdtls_rd_init(sh_exts, sizeof(sh_exts));
    sdtls__exts e;
    assert_int_equal(sdtls__exts_parse(&r, 0, &e), 0);
    assert_false(e.has_sni);
    r = sdtls_rd_init(sh_exts, sizeof(sh_exts));
    assert_int_equal(sdtls__exts_parse(&r, 1, &e), DECODE);
}

static void test_client_hello_prefix(void **state)
{
    (void)state;
    ch_spec s;
    spec_all_exts(&s);
    s.sid_len = 5;
    s.cookie_len = 20;
    uint8_t body[2048];
    size_t len = build(&s, body, sizeof(body), NULL);
    size_t prefix = 2 + 32 + 1 + 5 + 1 + 20;
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, body, n);
        sdtls_rd r = sdtls_rd_init(copy, n);
        sdtls__client_hello ch;
        int rc = sdtls__client_hello_parse_prefix(&r, &ch);
        if (n < prefix) {
            assert_int_equal(rc, DECODE);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(ch.sid_len, 5);
            assert_int_equal(ch.cookie_len, 20);
            assert_int_equal(sdtls_rd_left(&r), n - prefix);
        }
        free(copy);
    }
}

static void test_client_hello_use_srtp(void **state)
{
    (void)state;
    /* RFC 5764 4.1.1: SRTPProtectionProfiles<2..2^16-1> then srtp_mki<0..255>. */
    static const uint8_t good[] = {0x00, 0x04, 0x00, 0x07, 0x00, 0x01, 0x02, 0xaa, 0xbb};
    static const uint8_t no_mki[] = {0x00, 0x02, 0x00, 0x01, 0x00};
    static const uint8_t odd[] = {0x00, 0x03, 0x00, 0x07, 0x00, 0x00};
    static const uint8_t empty[] = {0x00, 0x00, 0x00};
    static const uint8_t no_mki_byte[] = {0x00, 0x02, 0x00, 0x01};
    static const uint8_t mki_long[] = {0x00, 0x02, 0x00, 0x01, 0x05, 0xaa};
    static const uint8_t trailing[] = {0x00, 0x02, 0x00, 0x01, 0x00, 0x00};
    ch_spec s;
    spec_default(&s);
    add_ext(&s, 14, good, sizeof(good));
    uint8_t body[512];
    size_t len = build(&s, body, sizeof(body), NULL);
    sdtls__client_hello ch;
    assert_int_equal(sdtls__client_hello_parse(body, len, &ch), 0);
    assert_true(ch.ext.has_srtp);
    assert_int_equal(sdtls_rd_left(&ch.ext.srtp_profiles), 4);
    assert_int_equal(ch.ext.srtp_mki_len, 2);
    assert_memory_equal(ch.ext.srtp_mki, "\xaa\xbb", 2);
    spec_default(&s);
    add_ext(&s, 14, no_mki, sizeof(no_mki));
    assert_int_equal(parse_spec(&s), 0);
    static const struct {
        const uint8_t *b;
        size_t n;
    } bad[] = {{odd, sizeof(odd)},
               {empty, sizeof(empty)},
               {no_mki_byte, sizeof(no_mki_byte)},
               {mki_long, sizeof(mki_long)},
               {trailing, sizeof(trailing)},
               {NULL, 0}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spec_default(&s);
        add_ext(&s, 14, bad[i].b, bad[i].n);
        assert_int_equal(parse_spec(&s), DECODE);
    }
    /* Duplicate use_srtp. */
    spec_default(&s);
    add_ext(&s, 14, good, sizeof(good));
    add_ext(&s, 14, good, sizeof(good));
    assert_int_equal(parse_spec(&s), ILLEGAL);
}

/* Regression: supported_groups (RFC 8422 5.1.1, NamedCurve<2..2^16-1>) and
 * signature_algorithms (RFC 5246 7.4.1.4.1, SignatureAndHashAlgorithm<2..2^16-2>) are lists of
 * 2-byte entries, so an odd length cannot be decoded: decode_error, as for cipher_suites,
 * CertificateRequest and use_srtp. sdtls__exts_parse used to accept both, and the server's
 * walkers silently ignored the dangling byte. */
static void test_client_hello_odd_length_lists(void **state)
{
    (void)state;
    static const uint8_t groups_odd[] = {0x00, 0x03, 0x00, 0x1d, 0x00};
    static const uint8_t sigalgs_odd[] = {0x00, 0x03, 0x04, 0x03, 0x08};
    ch_spec s;
    spec_default(&s);
    add_ext(&s, 10, groups_odd, sizeof(groups_odd));
    assert_int_equal(parse_spec(&s), DECODE);
    spec_default(&s);
    add_ext(&s, 13, sigalgs_odd, sizeof(sigalgs_odd));
    assert_int_equal(parse_spec(&s), DECODE);
}

/* ---- HelloVerifyRequest ---------------------------------------------------------------------- */

static int hvr(const uint8_t *b, size_t n, const uint8_t **c, uint8_t *cl)
{
    uint8_t *copy = malloc(n > 0 ? n : 1);
    memcpy(copy, b, n);
    int rc = sdtls__hvr_parse(copy, n, c, cl);
    int inside = rc != 0 || (*c >= copy && *c + *cl <= copy + n);
    free(copy);
    assert_true(inside);
    return rc;
}

static void test_hvr_roundtrip(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 20, 32, 255};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t cookie[255], buf[300];
        for (size_t k = 0; k < lens[i]; k++) {
            cookie[k] = (uint8_t)(k * 3 + 1);
        }
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(sdtls__hvr_write(&w, cookie, lens[i]), 0);
        assert_int_equal(w.len, 3 + lens[i]);
        /* RFC 6347 4.2.1: server_version DTLS 1.0 in the HelloVerifyRequest. */
        assert_int_equal(buf[0], 0xfe);
        assert_int_equal(buf[1], 0xff);
        const uint8_t *c;
        uint8_t cl;
        uint8_t *copy = malloc(w.len);
        memcpy(copy, buf, w.len);
        assert_int_equal(sdtls__hvr_parse(copy, w.len, &c, &cl), 0);
        assert_int_equal(cl, lens[i]);
        assert_ptr_equal(c, copy + 3);
        if (cl > 0) {
            assert_memory_equal(c, cookie, cl);
        }
        free(copy);
    }
    /* Too small a buffer. */
    uint8_t cookie[20] = {0}, small[22];
    sdtls_wr w = sdtls_wr_init(small, sizeof(small));
    assert_int_not_equal(sdtls__hvr_write(&w, cookie, 20), 0);
    assert_false(sdtls_wr_ok(&w));
}

static void test_hvr_parse_bounds(void **state)
{
    (void)state;
    uint8_t b[3 + 255];
    b[0] = 0xfe;
    b[1] = 0xff;
    b[2] = 20;
    memset(b + 3, 0x42, 255);
    const uint8_t *c;
    uint8_t cl;
    assert_int_equal(hvr(b, 23, &c, &cl), 0);
    /* Every truncation. */
    for (size_t n = 0; n < 23; n++) {
        assert_int_equal(hvr(b, n, &c, &cl), DECODE);
    }
    /* Trailing bytes. */
    assert_int_equal(hvr(b, 24, &c, &cl), DECODE);
    /* Cookie length 255 (the maximum) and its truncation. */
    b[2] = 255;
    assert_int_equal(hvr(b, 258, &c, &cl), 0);
    assert_int_equal(cl, 255);
    assert_int_equal(hvr(b, 257, &c, &cl), DECODE);
    /* Cookie length 0. */
    b[2] = 0;
    assert_int_equal(hvr(b, 3, &c, &cl), 0);
    assert_int_equal(cl, 0);
    /* Versions: DTLS 1.0 and 1.2 are accepted, TLS and others are not. */
    b[2] = 20;
    b[1] = 0xfd;
    assert_int_equal(hvr(b, 23, &c, &cl), 0);
    static const uint16_t bad[] = {0x0303, 0x0301, 0xfefc, 0xfefe, 0x0000, 0xffff};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b[0] = (uint8_t)(bad[i] >> 8);
        b[1] = (uint8_t)bad[i];
        assert_int_equal(hvr(b, 23, &c, &cl), SDTLS_ALERT(PROTOCOL_VERSION));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_hello_all_extensions),
        cmocka_unit_test(test_client_hello_no_extensions),
        cmocka_unit_test(test_client_hello_truncated_everywhere),
        cmocka_unit_test(test_client_hello_duplicate_extension),
        cmocka_unit_test(test_client_hello_suites),
        cmocka_unit_test(test_client_hello_compression),
        cmocka_unit_test(test_client_hello_session_id_and_cookie),
        cmocka_unit_test(test_client_hello_unknown_extensions_skipped),
        cmocka_unit_test(test_client_hello_trailing_bytes),
        cmocka_unit_test(test_client_hello_malformed_extensions),
        cmocka_unit_test(test_client_hello_sni_forms),
        cmocka_unit_test(test_client_hello_prefix),
        cmocka_unit_test(test_client_hello_use_srtp),
        cmocka_unit_test(test_client_hello_odd_length_lists),
        cmocka_unit_test(test_hvr_roundtrip),
        cmocka_unit_test(test_hvr_parse_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
