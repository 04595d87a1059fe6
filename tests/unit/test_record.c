/*
 * Unit tests of the DTLS 1.2 record layer (src/record/record.c): header framing, seal/open for
 * every AEAD we support, the nonce and additional data layout (RFC 5288, RFC 6655, RFC 7905,
 * RFC 6347 4.1.2.1), the RFC 9146 tls12_cid record (layout, additional data, inner
 * plaintext and padding), and every way a record can be refused: tampered header fields,
 * tampered ciphertext or tag, records too short for nonce + tag, lengths beyond the datagram
 * and the 2^14 + 2048 limit, the wrong or a missing connection ID.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "record/record.h"

static const sdtls_aead_id all_aeads[] = {
    SDTLS_AEAD_AES_128_GCM, SDTLS_AEAD_AES_256_GCM,   SDTLS_AEAD_CHACHA20_POLY1305,
    SDTLS_AEAD_AES_128_CCM, SDTLS_AEAD_AES_128_CCM_8,
};
#define N_AEADS (sizeof(all_aeads) / sizeof(all_aeads[0]))

static const char *aead_name(sdtls_aead_id a)
{
    switch (a) {
    case SDTLS_AEAD_AES_128_GCM:
        return "AES-128-GCM";
    case SDTLS_AEAD_AES_256_GCM:
        return "AES-256-GCM";
    case SDTLS_AEAD_CHACHA20_POLY1305:
        return "ChaCha20-Poly1305";
    case SDTLS_AEAD_AES_128_CCM:
        return "AES-128-CCM";
    case SDTLS_AEAD_AES_128_CCM_8:
        return "AES-128-CCM-8";
    default:
        return "?";
    }
}

static void known_key(uint8_t key[32], uint8_t iv[12], uint8_t salt)
{
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(i + salt);
    }
    for (int i = 0; i < 12; i++) {
        iv[i] = (uint8_t)(0xa0 + i + salt);
    }
}

/* A writer and a reader keyed alike for epoch `epoch`. */
static void pair_init(sdtls_aead_id a, uint16_t epoch, sdtls__cipher *wr, sdtls__cipher *rd)
{
    uint8_t key[32], iv[12];
    known_key(key, iv, 0);
    memset(wr, 0, sizeof(*wr));
    memset(rd, 0, sizeof(*rd));
    assert_int_equal(sdtls__cipher_init(wr, epoch, a, key, iv, 1), 0);
    assert_int_equal(sdtls__cipher_init(rd, epoch, a, key, iv, 0), 0);
}

static void pair_clear(sdtls__cipher *wr, sdtls__cipher *rd)
{
    sdtls__cipher_clear(wr);
    sdtls__cipher_clear(rd);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 7);
    }
}

/* Open rec with c into a fresh exact-size heap buffer (so ASan sees any overrun). */
static int open_copy(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *pt, size_t *pt_len)
{
    uint8_t *out = malloc(rec->len > 0 ? rec->len : 1);
    assert_non_null(out);
    size_t n = 0;
    int rc = sdtls__rec_open(c, rec, out, &n);
    if (rc == 0) {
        memcpy(pt, out, n);
        *pt_len = n;
    }
    free(out);
    return rc;
}

/* ---- header framing ----------------------------------------------------------------------- */

static void test_rec_next_parses_header(void **state)
{
    (void)state;
    static const uint8_t d[] = {22,   0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00,
                                0x00, 0x01, 0x02, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
    sdtls_rd r = sdtls_rd_init(d, sizeof(d));
    sdtls__rec rec;
    assert_int_equal(sdtls__rec_next(&r, &rec), 0);
    assert_int_equal(rec.type, 22);
    assert_int_equal(rec.version, SDTLS_VERSION_DTLS12);
    assert_int_equal(rec.epoch, 1);
    assert_int_equal(rec.seq, 0x0102);
    assert_int_equal(rec.len, 3);
    assert_ptr_equal(rec.hdr, d);
    assert_ptr_equal(rec.payload, d + 13);
    assert_int_equal(sdtls_rd_left(&r), 0);
    /* An empty datagram has no record. */
    assert_int_equal(sdtls__rec_next(&r, &rec), SDTLS_DROP);
}

static void test_rec_next_truncated_header(void **state)
{
    (void)state;
    uint8_t d[13] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t n = 0; n < SDTLS_REC_HDR_LEN; n++) {
        uint8_t *copy = malloc(n > 0 ? n : 1);
        memcpy(copy, d, n);
        sdtls_rd r = sdtls_rd_init(copy, n);
        sdtls__rec rec;
        assert_int_equal(sdtls__rec_next(&r, &rec), SDTLS_DROP);
        assert_ptr_equal(r.p, copy); /* cursor unchanged */
        free(copy);
    }
    /* Exactly a header with length 0: a valid empty record. */
    sdtls_rd r = sdtls_rd_init(d, sizeof(d));
    sdtls__rec rec;
    assert_int_equal(sdtls__rec_next(&r, &rec), 0);
    assert_int_equal(rec.len, 0);
}

static void test_rec_next_length_beyond_datagram(void **state)
{
    (void)state;
    uint8_t d[13 + 10];
    memset(d, 0x5a, sizeof(d));
    d[0] = 23;
    d[1] = 0xfe;
    d[2] = 0xfd;
    for (unsigned claim = 0; claim <= 12; claim++) {
        d[11] = 0;
        d[12] = (uint8_t)claim;
        sdtls_rd r = sdtls_rd_init(d, sizeof(d));
        sdtls__rec rec;
        int rc = sdtls__rec_next(&r, &rec);
        if (claim <= 10) {
            assert_int_equal(rc, 0);
            assert_int_equal(rec.len, claim);
            assert_int_equal(sdtls_rd_left(&r), 10 - claim);
        } else {
            assert_int_equal(rc, SDTLS_DROP);
            assert_ptr_equal(r.p, d);
        }
    }
    /* Largest length field. */
    d[11] = 0xff;
    d[12] = 0xff;
    sdtls_rd r = sdtls_rd_init(d, sizeof(d));
    sdtls__rec rec;
    assert_int_equal(sdtls__rec_next(&r, &rec), SDTLS_DROP);
}

static void test_rec_next_ciphertext_limit(void **state)
{
    (void)state;
    /* RFC 6347 4.1.2.1 / RFC 5246 6.2.3: at most 2^14 + 2048 bytes of ciphertext. */
    size_t cap = SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 16;
    uint8_t *d = calloc(1, cap);
    assert_non_null(d);
    d[0] = 23;
    d[1] = 0xfe;
    d[2] = 0xfd;
    static const size_t lens[] = {SDTLS_MAX_CIPHERTEXT - 1, SDTLS_MAX_CIPHERTEXT,
                                  SDTLS_MAX_CIPHERTEXT + 1, SDTLS_MAX_CIPHERTEXT + 16};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        sdtls_put_u16(d + 11, (uint16_t)lens[i]);
        sdtls_rd r = sdtls_rd_init(d, SDTLS_REC_HDR_LEN + lens[i]);
        sdtls__rec rec;
        int rc = sdtls__rec_next(&r, &rec);
        assert_int_equal(rc, lens[i] <= SDTLS_MAX_CIPHERTEXT ? 0 : SDTLS_DROP);
    }
    assert_int_equal(SDTLS_MAX_CIPHERTEXT, 16384 + 2048);
    free(d);
}

static void test_several_records_in_one_datagram(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd, wr0, rd0;
        pair_init(all_aeads[k], 1, &wr, &rd);
        memset(&wr0, 0, sizeof(wr0));
        memset(&rd0, 0, sizeof(rd0));
        sdtls__cipher_null(&wr0, 0);
        sdtls__cipher_null(&rd0, 0);
        uint8_t dgram[2048], pt[3][300];
        size_t lens[3] = {0, 1, 300};
        sdtls_wr w = sdtls_wr_init(dgram, sizeof(dgram));
        for (int i = 0; i < 3; i++) {
            fill(pt[i], lens[i], (uint8_t)(i * 31));
        }
        /* A plaintext epoch-0 record followed by two protected ones, as in a final flight. */
        assert_int_equal(sdtls__rec_seal(&wr0, SDTLS_CT_CHANGE_CIPHER_SPEC, SDTLS_VERSION_DTLS12,
                                         (const uint8_t *)"\x01", 1, &w),
                         0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(
                sdtls__rec_seal(&wr, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, pt[i], lens[i], &w),
                0);
        }
        assert_true(sdtls_wr_ok(&w));
        sdtls_rd r = sdtls_rd_init(dgram, w.len);
        sdtls__rec rec;
        uint8_t out[400];
        size_t out_len;
        assert_int_equal(sdtls__rec_next(&r, &rec), 0);
        assert_int_equal(rec.type, SDTLS_CT_CHANGE_CIPHER_SPEC);
        assert_int_equal(rec.epoch, 0);
        assert_int_equal(rec.seq, 0);
        assert_int_equal(open_copy(&rd0, &rec, out, &out_len), 0);
        assert_int_equal(out_len, 1);
        assert_int_equal(out[0], 1);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(sdtls__rec_next(&r, &rec), 0);
            assert_int_equal(rec.epoch, 1);
            assert_int_equal(rec.seq, (uint64_t)i);
            assert_int_equal(open_copy(&rd, &rec, out, &out_len), 0);
            assert_int_equal(out_len, lens[i]);
            if (lens[i] > 0) {
                assert_memory_equal(out, pt[i], lens[i]);
            }
        }
        assert_int_equal(sdtls_rd_left(&r), 0);
        assert_int_equal(sdtls__rec_next(&r, &rec), SDTLS_DROP);
        pair_clear(&wr, &rd);
    }
}

/* ---- seal / open --------------------------------------------------------------------------- */

static void test_overhead(void **state)
{
    (void)state;
    sdtls__cipher c;
    memset(&c, 0, sizeof(c));
    sdtls__cipher_null(&c, 0);
    assert_int_equal(sdtls__cipher_overhead(&c), 13);
    uint8_t key[32], iv[12];
    known_key(key, iv, 0);
    static const size_t expect[] = {13 + 8 + 16, 13 + 8 + 16, 13 + 0 + 16, 13 + 8 + 16, 13 + 8 + 8};
    for (size_t k = 0; k < N_AEADS; k++) {
        assert_int_equal(sdtls__cipher_init(&c, 1, all_aeads[k], key, iv, 1), 0);
        assert_int_equal(sdtls__cipher_overhead(&c), expect[k]);
        sdtls__cipher_clear(&c);
    }
}

static void test_roundtrip_all_aeads(void **state)
{
    (void)state;
    static const size_t sizes[] = {
        0, 1, 15, 16, 17, 255, 1024, SDTLS_MAX_PLAINTEXT - 1, SDTLS_MAX_PLAINTEXT};
    uint8_t *pt = malloc(SDTLS_MAX_PLAINTEXT);
    uint8_t *buf = malloc(SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT);
    uint8_t *out = malloc(SDTLS_MAX_CIPHERTEXT);
    assert_non_null(pt);
    assert_non_null(buf);
    assert_non_null(out);
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            size_t n = sizes[i];
            fill(pt, n, (uint8_t)i);
            sdtls_wr w = sdtls_wr_init(buf, SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT);
            assert_int_equal(
                sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt, n, &w),
                0);
            assert_int_equal(w.len, sdtls__cipher_overhead(&wr) + n);
            sdtls_rd r = sdtls_rd_init(buf, w.len);
            sdtls__rec rec;
            assert_int_equal(sdtls__rec_next(&r, &rec), 0);
            assert_int_equal(rec.type, SDTLS_CT_APPLICATION_DATA);
            assert_int_equal(rec.version, SDTLS_VERSION_DTLS12);
            assert_int_equal(rec.epoch, 1);
            assert_int_equal(rec.seq, (uint64_t)i);
            assert_int_equal(rec.len, n + wr.explicit_nonce + wr.tag_len);
            size_t out_len = 12345;
            if (sdtls__rec_open(&rd, &rec, out, &out_len) != 0) {
                fail_msg("%s: open failed for %zu bytes", aead_name(all_aeads[k]), n);
            }
            assert_int_equal(out_len, n);
            if (n > 0) {
                assert_memory_equal(out, pt, n);
                /* Plaintext does not appear in the ciphertext. */
                if (n >= 16) {
                    assert_memory_not_equal(rec.payload + wr.explicit_nonce, pt, 16);
                }
            }
        }
        assert_int_equal(wr.next_seq, sizeof(sizes) / sizeof(sizes[0]));
        pair_clear(&wr, &rd);
    }
    free(pt);
    free(buf);
    free(out);
}

static void test_open_in_place(void **state)
{
    (void)state;
    /* The connection opens records in place: out == payload + explicit nonce. */
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        uint8_t pt[100], buf[200];
        fill(pt, sizeof(pt), 3);
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(
            sdtls__rec_seal(&wr, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS12, pt, sizeof(pt), &w), 0);
        sdtls_rd r = sdtls_rd_init(buf, w.len);
        sdtls__rec rec;
        assert_int_equal(sdtls__rec_next(&r, &rec), 0);
        uint8_t *dst = (uint8_t *)(uintptr_t)rec.payload + rd.explicit_nonce;
        size_t n;
        assert_int_equal(sdtls__rec_open(&rd, &rec, dst, &n), 0);
        assert_int_equal(n, sizeof(pt));
        assert_memory_equal(dst, pt, sizeof(pt));
        pair_clear(&wr, &rd);
    }
}

/* Rebuild nonce and AAD from the RFCs and open with the bare AEAD: the record layer must use
 * exactly this layout to interoperate. */
static void test_nonce_and_aad_layout(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls_aead_id a = all_aeads[k];
        sdtls__cipher wr, rd;
        pair_init(a, 7, &wr, &rd);
        wr.next_seq = 0x0000a1b2c3d4e5ull;
        uint8_t pt[40], buf[200];
        fill(pt, sizeof(pt), 9);
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt,
                                         sizeof(pt), &w),
                         0);
        uint8_t key[32], iv[12];
        known_key(key, iv, 0);
        uint64_t rn = ((uint64_t)7 << 48) | 0x0000a1b2c3d4e5ull;
        uint8_t rnb[8];
        for (int i = 0; i < 8; i++) {
            rnb[i] = (uint8_t)(rn >> (8 * (7 - i)));
        }
        /* Header: type, version, epoch, 48-bit sequence, length. */
        assert_int_equal(buf[0], SDTLS_CT_APPLICATION_DATA);
        assert_int_equal(buf[1], 0xfe);
        assert_int_equal(buf[2], 0xfd);
        assert_memory_equal(buf + 3, rnb, 8);
        uint8_t nonce[12];
        const uint8_t *ct = buf + 13;
        size_t ct_len = w.len - 13;
        if (a == SDTLS_AEAD_CHACHA20_POLY1305) {
            /* RFC 7905 2: IV XOR left-padded record number; no explicit nonce. */
            memcpy(nonce, iv, 12);
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] ^= rnb[i];
            }
        } else {
            /* RFC 5288 3 / RFC 6655 3: salt || explicit nonce, and we send the record number. */
            memcpy(nonce, iv, 4);
            memcpy(nonce + 4, ct, 8);
            assert_memory_equal(ct, rnb, 8);
            ct += 8;
            ct_len -= 8;
        }
        uint8_t aad[13];
        memcpy(aad, rnb, 8);
        aad[8] = SDTLS_CT_APPLICATION_DATA;
        aad[9] = 0xfe;
        aad[10] = 0xfd;
        sdtls_put_u16(aad + 11, sizeof(pt));
        sdtls__aead *ctx = NULL;
        assert_int_equal(sdtls__aead_new(a, key, 0, &ctx), 0);
        uint8_t out[sizeof(pt)];
        if (sdtls__aead_open(ctx, nonce, aad, sizeof(aad), ct, ct_len, out) != 0) {
            fail_msg("%s: record layout does not match the RFC", aead_name(a));
        }
        assert_memory_equal(out, pt, sizeof(pt));
        sdtls__aead_free(ctx);
        pair_clear(&wr, &rd);
    }
}

static void test_distinct_nonces(void **state)
{
    (void)state;
    /* The same plaintext under consecutive sequence numbers must encrypt differently. */
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        uint8_t pt[32] = {0}, b1[100], b2[100];
        sdtls_wr w1 = sdtls_wr_init(b1, sizeof(b1)), w2 = sdtls_wr_init(b2, sizeof(b2));
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, 32, &w1), 0);
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, 32, &w2), 0);
        size_t off = 13 + wr.explicit_nonce;
        assert_memory_not_equal(b1 + off, b2 + off, 32);
        pair_clear(&wr, &rd);
    }
}

static void test_null_cipher(void **state)
{
    (void)state;
    sdtls__cipher wr, rd;
    memset(&wr, 0, sizeof(wr));
    memset(&rd, 0, sizeof(rd));
    sdtls__cipher_null(&wr, 0);
    sdtls__cipher_null(&rd, 0);
    uint8_t pt[50], buf[100], out[100];
    fill(pt, sizeof(pt), 1);
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(&wr, SDTLS_CT_HANDSHAKE, SDTLS_VERSION_DTLS10, pt, 50, &w), 0);
    assert_int_equal(w.len, 63);
    assert_memory_equal(buf + 13, pt, 50);
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    sdtls__rec rec;
    assert_int_equal(sdtls__rec_next(&r, &rec), 0);
    assert_int_equal(rec.version, SDTLS_VERSION_DTLS10);
    size_t n;
    assert_int_equal(open_copy(&rd, &rec, out, &n), 0);
    assert_int_equal(n, 50);
    assert_memory_equal(out, pt, 50);
}

/* ---- refusals ------------------------------------------------------------------------------ */

/* Seal one record, let `mutate` change it, and return what open says. */
static int open_mutated(sdtls_aead_id a, size_t pt_len, size_t at, uint8_t xor_mask)
{
    sdtls__cipher wr, rd;
    pair_init(a, 1, &wr, &rd);
    wr.next_seq = 5;
    uint8_t pt[64], buf[200], out[200];
    fill(pt, pt_len, 0x11);
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(
        sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt, pt_len, &w), 0);
    assert_true(at < w.len);
    buf[at] ^= xor_mask;
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    sdtls__rec rec;
    int rc = sdtls__rec_next(&r, &rec);
    if (rc == 0) {
        size_t n;
        rc = open_copy(&rd, &rec, out, &n);
        if (rc == 0 && (n != pt_len || memcmp(out, pt, pt_len) != 0)) {
            rc = -1000; /* opened to something else: worst case */
        }
    }
    pair_clear(&wr, &rd);
    return rc;
}

static void test_tampered_header(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        /* type (0), version (1-2), epoch (3-4), sequence (5-10): each is in the AAD or the
         * nonce, so any change fails authentication. */
        for (size_t at = 0; at <= 10; at++) {
            for (int bit = 0; bit < 8; bit++) {
                int rc = open_mutated(all_aeads[k], 32, at, (uint8_t)(1u << bit));
                if (rc != SDTLS_DROP) {
                    fail_msg("%s: header byte %zu bit %d: open returned %d",
                             aead_name(all_aeads[k]), at, bit, rc);
                }
            }
        }
        /* Length (11-12): shorter framing breaks the tag, longer runs past the datagram. */
        for (size_t at = 11; at <= 12; at++) {
            for (int bit = 0; bit < 8; bit++) {
                assert_int_equal(open_mutated(all_aeads[k], 32, at, (uint8_t)(1u << bit)),
                                 SDTLS_DROP);
            }
        }
    }
}

static void test_tampered_body(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher tmp;
        uint8_t key[32], iv[12];
        known_key(key, iv, 0);
        memset(&tmp, 0, sizeof(tmp));
        assert_int_equal(sdtls__cipher_init(&tmp, 1, all_aeads[k], key, iv, 1), 0);
        size_t body = tmp.explicit_nonce + 20 + tmp.tag_len;
        sdtls__cipher_clear(&tmp);
        /* Every byte of explicit nonce, ciphertext and tag. */
        for (size_t at = 13; at < 13 + body; at++) {
            assert_int_equal(open_mutated(all_aeads[k], 20, at, 0x80), SDTLS_DROP);
            assert_int_equal(open_mutated(all_aeads[k], 20, at, 0x01), SDTLS_DROP);
        }
    }
}

static void test_wrong_key(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd, other;
        pair_init(all_aeads[k], 1, &wr, &rd);
        uint8_t key[32], iv[12];
        known_key(key, iv, 1);
        memset(&other, 0, sizeof(other));
        assert_int_equal(sdtls__cipher_init(&other, 1, all_aeads[k], key, iv, 0), 0);
        uint8_t pt[10] = {0}, buf[100], out[100];
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, 10, &w), 0);
        sdtls_rd r = sdtls_rd_init(buf, w.len);
        sdtls__rec rec;
        size_t n;
        assert_int_equal(sdtls__rec_next(&r, &rec), 0);
        assert_int_equal(open_copy(&other, &rec, out, &n), SDTLS_DROP);
        assert_int_equal(open_copy(&rd, &rec, out, &n), 0);
        sdtls__cipher_clear(&other);
        pair_clear(&wr, &rd);
    }
}

static void test_short_records(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        size_t min = rd.explicit_nonce + rd.tag_len;
        /* An empty plaintext gives exactly nonce + tag: the smallest valid record. */
        uint8_t buf[100], out[100];
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, NULL, 0, &w), 0);
        assert_int_equal(w.len, 13 + min);
        sdtls_rd r = sdtls_rd_init(buf, w.len);
        sdtls__rec rec;
        size_t n = 99;
        assert_int_equal(sdtls__rec_next(&r, &rec), 0);
        assert_int_equal(open_copy(&rd, &rec, out, &n), 0);
        assert_int_equal(n, 0);
        /* Anything shorter is dropped before any decryption, down to 0. */
        for (size_t len = 0; len < min; len++) {
            sdtls__rec s = rec;
            s.len = len;
            assert_int_equal(open_copy(&rd, &s, out, &n), SDTLS_DROP);
        }
        pair_clear(&wr, &rd);
    }
}

static void test_plaintext_limit(void **state)
{
    (void)state;
    uint8_t *pt = calloc(1, SDTLS_MAX_PLAINTEXT + 1);
    uint8_t *buf = calloc(1, SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 64);
    uint8_t *out = calloc(1, SDTLS_MAX_CIPHERTEXT + 64);
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        sdtls_wr w = sdtls_wr_init(buf, SDTLS_REC_HDR_LEN + SDTLS_MAX_CIPHERTEXT + 64);
        /* 2^14 is the largest plaintext; one more is refused before anything is written. */
        assert_int_equal(
            sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, SDTLS_MAX_PLAINTEXT + 1, &w),
            SDTLS_ERR_ARG);
        assert_int_equal(w.len, 0);
        assert_int_equal(wr.next_seq, 0);
        /* A received record whose plaintext would exceed 2^14 is dropped before decryption
         * (the tag cannot be right: the check must come first). */
        size_t len = SDTLS_MAX_PLAINTEXT + 1 + rd.explicit_nonce + rd.tag_len;
        sdtls__rec rec = {23, SDTLS_VERSION_DTLS12, 1, 0, buf, buf + 13, len, NULL, 0};
        size_t n;
        assert_int_equal(sdtls__rec_open(&rd, &rec, out, &n), SDTLS_DROP);
        pair_clear(&wr, &rd);
    }
    /* Null cipher: the payload is the plaintext. */
    sdtls__cipher c;
    memset(&c, 0, sizeof(c));
    sdtls__cipher_null(&c, 0);
    sdtls__rec rec = {22, SDTLS_VERSION_DTLS12, 0, 0, buf, buf + 13, SDTLS_MAX_PLAINTEXT, NULL, 0};
    size_t n;
    assert_int_equal(sdtls__rec_open(&c, &rec, out, &n), 0);
    assert_int_equal(n, SDTLS_MAX_PLAINTEXT);
    rec.len = SDTLS_MAX_PLAINTEXT + 1;
    assert_int_equal(sdtls__rec_open(&c, &rec, out, &n), SDTLS_DROP);
    free(pt);
    free(buf);
    free(out);
}

static void test_seal_buffer_too_small(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls__cipher wr, rd;
        pair_init(all_aeads[k], 1, &wr, &rd);
        uint8_t pt[20] = {0}, buf[200];
        size_t need = sdtls__cipher_overhead(&wr) + sizeof(pt);
        sdtls_wr w = sdtls_wr_init(buf, need - 1);
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, sizeof(pt), &w),
                         SDTLS_ERR_BUF_SMALL);
        assert_int_equal(wr.next_seq, 0); /* a failed seal uses no sequence number */
        w = sdtls_wr_init(buf, need);
        assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, pt, sizeof(pt), &w), 0);
        assert_int_equal(w.len, need);
        pair_clear(&wr, &rd);
    }
}

static void test_sequence_exhaustion(void **state)
{
    (void)state;
    sdtls__cipher wr, rd;
    pair_init(SDTLS_AEAD_AES_128_GCM, 1, &wr, &rd);
    wr.next_seq = SDTLS_SEQ_MAX;
    uint8_t buf[200], out[200];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, (const uint8_t *)"x", 1, &w),
                     0);
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    sdtls__rec rec;
    size_t n;
    assert_int_equal(sdtls__rec_next(&r, &rec), 0);
    assert_int_equal(rec.seq, SDTLS_SEQ_MAX);
    assert_int_equal(open_copy(&rd, &rec, out, &n), 0);
    /* RFC 6347 4.1: the sequence number must not wrap; the epoch's key is used up. */
    size_t before = w.len;
    assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, (const uint8_t *)"x", 1, &w),
                     SDTLS_ERR_STATE);
    assert_int_equal(w.len, before);
    pair_clear(&wr, &rd);
}

static void test_replayed_record(void **state)
{
    (void)state;
    /* The caller's sequence: check window, open, update window. A replayed record opens
     * fine (the MAC is right) but the window refuses it. */
    sdtls__cipher wr, rd;
    pair_init(SDTLS_AEAD_CHACHA20_POLY1305, 1, &wr, &rd);
    uint8_t buf[200], out[200];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(&wr, 23, SDTLS_VERSION_DTLS12, (const uint8_t *)"hi", 2, &w),
                     0);
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    sdtls__rec rec;
    size_t n;
    assert_int_equal(sdtls__rec_next(&r, &rec), 0);
    assert_int_equal(sdtls__replay_check(&rd.replay, rec.seq), 0);
    assert_int_equal(open_copy(&rd, &rec, out, &n), 0);
    sdtls__replay_update(&rd.replay, rec.seq);
    assert_int_equal(sdtls__replay_check(&rd.replay, rec.seq), SDTLS_DROP);
    pair_clear(&wr, &rd);
}

static void test_cipher_clear_wipes(void **state)
{
    (void)state;
    sdtls__cipher wr, rd;
    pair_init(SDTLS_AEAD_AES_256_GCM, 1, &wr, &rd);
    sdtls__cipher_clear(&wr);
    sdtls__cipher_clear(&rd);
    static const uint8_t zero[12] = {0};
    assert_null(wr.aead);
    assert_memory_equal(wr.iv, zero, 12);
    /* Clearing twice, or a never-keyed state, is harmless. */
    sdtls__cipher_clear(&wr);
}

/* ---- RFC 9146 connection ID records ------------------------------------------------------- */

static const uint8_t test_cid[4] = {0xc1, 0xc2, 0xc3, 0xc4};

static void cid_pair(sdtls_aead_id a, size_t pad_to, sdtls__cipher *wr, sdtls__cipher *rd)
{
    pair_init(a, 1, wr, rd);
    wr->use_cid = rd->use_cid = 1;
    memcpy(wr->cid, test_cid, sizeof(test_cid));
    memcpy(rd->cid, test_cid, sizeof(test_cid));
    wr->cid_len = rd->cid_len = sizeof(test_cid);
    wr->pad_to = pad_to;
}

/* Seal (type, pt) with wr, parse with the receiver's CID length, open with rd. */
static int cid_roundtrip(sdtls__cipher *wr, sdtls__cipher *rd, uint8_t type, const uint8_t *pt,
                         size_t len, uint8_t *out, size_t *out_len, uint8_t *out_type)
{
    static uint8_t buf[SDTLS_MAX_PLAINTEXT + 512];
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(wr, type, SDTLS_VERSION_DTLS12, pt, len, &w), 0);
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    sdtls__rec rec;
    assert_int_equal(sdtls__rec_next_cid(&r, rd->cid_len, &rec), 0);
    assert_int_equal(sdtls_rd_left(&r), 0);
    return sdtls__rec_open_type(rd, &rec, out, out_len, out_type);
}

/* The wire layout and the additional data of RFC 9146 4 and 5, checked by opening the record
 * with the AEAD alone and an additional-data block built here from the RFC's description. */
static void test_cid_layout(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_AEADS; k++) {
        sdtls_aead_id a = all_aeads[k];
        sdtls__cipher wr, rd;
        cid_pair(a, 16, &wr, &rd);
        wr.next_seq = 0x0000010203040506ull;
        static const uint8_t pt[5] = {'h', 'e', 'l', 'l', 'o'};
        uint8_t buf[200];
        sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
        assert_int_equal(sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12, pt,
                                         sizeof(pt), &w),
                         0);
        /* tls12_cid, version, epoch 1, sequence, the CID, then the length. */
        static const uint8_t hdr[] = {25, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6};
        assert_memory_equal(buf, hdr, sizeof(hdr));
        assert_memory_equal(buf + 11, test_cid, 4);
        size_t body = (size_t)buf[15] << 8 | buf[16];
        assert_int_equal(w.len, 17 + body);
        /* DTLSInnerPlaintext: content, real type, zeros up to a multiple of 16. */
        size_t inner = 16;
        size_t explicit_nonce = a == SDTLS_AEAD_CHACHA20_POLY1305 ? 0 : 8;
        assert_int_equal(body, explicit_nonce + inner + sdtls__aead_tag_len(a));
        uint8_t aad[8 + 3 + 2 + 8 + 4 + 2];
        memset(aad, 0xff, 8); /* seq_num_placeholder */
        aad[8] = 25;
        aad[9] = 4; /* cid_length */
        aad[10] = 25;
        aad[11] = 0xfe;
        aad[12] = 0xfd;
        memcpy(aad + 13, buf + 3, 8); /* epoch and sequence number */
        memcpy(aad + 21, test_cid, 4);
        sdtls_put_u16(aad + 25, (uint16_t)inner);
        uint8_t key[32], iv[12], nonce[12];
        known_key(key, iv, 0);
        const uint8_t *ct = buf + 17;
        memcpy(nonce, iv, 12);
        if (explicit_nonce != 0) {
            memcpy(nonce + 4, ct, 8);
            ct += 8;
        } else {
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] ^= buf[3 + i];
            }
        }
        sdtls__aead *ctx = NULL;
        uint8_t out[16];
        assert_int_equal(sdtls__aead_new(a, key, 0, &ctx), 0);
        if (sdtls__aead_open(ctx, nonce, aad, sizeof(aad), ct, inner + sdtls__aead_tag_len(a),
                             out) != 0) {
            fail_msg("%s: tls12_cid record does not match RFC 9146", aead_name(a));
        }
        static const uint8_t want[16] = {'h', 'e', 'l', 'l', 'o', SDTLS_CT_APPLICATION_DATA};
        assert_memory_equal(out, want, sizeof(want));
        sdtls__aead_free(ctx);
        pair_clear(&wr, &rd);
    }
}

static void test_cid_roundtrip_and_padding(void **state)
{
    (void)state;
    static const size_t pads[] = {0, 1, 16, 255};
    static const size_t lens[] = {0, 1, 15, 16, 17, 1000, SDTLS_MAX_PLAINTEXT};
    static uint8_t pt[SDTLS_MAX_PLAINTEXT], out[SDTLS_MAX_PLAINTEXT + 512];
    fill(pt, sizeof(pt), 3);
    for (size_t p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            sdtls__cipher wr, rd;
            cid_pair(SDTLS_AEAD_AES_128_CCM_8, pads[p], &wr, &rd);
            size_t n = 0;
            uint8_t type = 0;
            assert_int_equal(cid_roundtrip(&wr, &rd, SDTLS_CT_ALERT, pt, lens[i], out, &n, &type),
                             0);
            assert_int_equal(type, SDTLS_CT_ALERT);
            assert_int_equal(n, lens[i]);
            assert_memory_equal(out, pt, n);
            pair_clear(&wr, &rd);
        }
    }
}

/* The real type is the last non-zero byte of the inner plaintext: the sender's bytes decide
 * it when its own type byte is 0, and an inner plaintext of zeros only is malformed. */
static void test_cid_inner_plaintext_type(void **state)
{
    (void)state;
    sdtls__cipher wr, rd;
    cid_pair(SDTLS_AEAD_AES_128_GCM, 0, &wr, &rd);
    uint8_t out[64], type = 0;
    size_t n = 0;
    static const uint8_t chosen[] = {'a', 'b', 'c', SDTLS_CT_HANDSHAKE, 0, 0};
    assert_int_equal(cid_roundtrip(&wr, &rd, 0, chosen, sizeof(chosen), out, &n, &type), 0);
    assert_int_equal(type, SDTLS_CT_HANDSHAKE);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "abc", 3);
    static const uint8_t zeros[8] = {0};
    assert_int_equal(cid_roundtrip(&wr, &rd, 0, zeros, sizeof(zeros), out, &n, &type),
                     SDTLS_REC_MALFORMED);
    assert_int_equal(cid_roundtrip(&wr, &rd, 0, zeros, 0, out, &n, &type), SDTLS_REC_MALFORMED);
    pair_clear(&wr, &rd);
}

static void test_cid_refused(void **state)
{
    (void)state;
    sdtls__cipher wr, rd;
    uint8_t buf[200], out[200], type;
    size_t n;
    sdtls__rec rec;
    cid_pair(SDTLS_AEAD_AES_128_CCM_8, 0, &wr, &rd);
    sdtls_wr w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12,
                                     (const uint8_t *)"x", 1, &w),
                     0);
    /* Another CID of the same length: refused (it is also under the MAC). */
    rd.cid[3] ^= 1;
    sdtls_rd r = sdtls_rd_init(buf, w.len);
    assert_int_equal(sdtls__rec_next_cid(&r, 4, &rec), 0);
    assert_int_equal(sdtls__rec_open_type(&rd, &rec, out, &n, &type), SDTLS_DROP);
    rd.cid[3] ^= 1;
    /* Parsed with another CID length, the length field is read from the wrong place. */
    r = sdtls_rd_init(buf, w.len);
    if (sdtls__rec_next_cid(&r, 5, &rec) == 0) {
        assert_int_equal(sdtls__rec_open_type(&rd, &rec, out, &n, &type), SDTLS_DROP);
    }
    /* A tls12_cid record to an epoch without CIDs, and a plain record to one with them. */
    r = sdtls_rd_init(buf, w.len);
    assert_int_equal(sdtls__rec_next_cid(&r, 4, &rec), 0);
    rd.use_cid = 0;
    assert_int_equal(sdtls__rec_open_type(&rd, &rec, out, &n, &type), SDTLS_DROP);
    rd.use_cid = 1;
    wr.use_cid = 0;
    w = sdtls_wr_init(buf, sizeof(buf));
    assert_int_equal(sdtls__rec_seal(&wr, SDTLS_CT_APPLICATION_DATA, SDTLS_VERSION_DTLS12,
                                     (const uint8_t *)"x", 1, &w),
                     0);
    r = sdtls_rd_init(buf, w.len);
    assert_int_equal(sdtls__rec_next_cid(&r, 4, &rec), 0);
    assert_int_equal(sdtls__rec_open_type(&rd, &rec, out, &n, &type), SDTLS_DROP);
    /* A tls12_cid header cut inside its CID. */
    static const uint8_t cut[] = {25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0xc1, 0xc2};
    r = sdtls_rd_init(cut, sizeof(cut));
    assert_int_equal(sdtls__rec_next_cid(&r, 4, &rec), SDTLS_DROP);
    pair_clear(&wr, &rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_next_parses_header),
        cmocka_unit_test(test_rec_next_truncated_header),
        cmocka_unit_test(test_rec_next_length_beyond_datagram),
        cmocka_unit_test(test_rec_next_ciphertext_limit),
        cmocka_unit_test(test_several_records_in_one_datagram),
        cmocka_unit_test(test_overhead),
        cmocka_unit_test(test_roundtrip_all_aeads),
        cmocka_unit_test(test_open_in_place),
        cmocka_unit_test(test_nonce_and_aad_layout),
        cmocka_unit_test(test_distinct_nonces),
        cmocka_unit_test(test_null_cipher),
        cmocka_unit_test(test_tampered_header),
        cmocka_unit_test(test_tampered_body),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_short_records),
        cmocka_unit_test(test_plaintext_limit),
        cmocka_unit_test(test_seal_buffer_too_small),
        cmocka_unit_test(test_sequence_exhaustion),
        cmocka_unit_test(test_replayed_record),
        cmocka_unit_test(test_cipher_clear_wipes),
        cmocka_unit_test(test_cid_layout),
        cmocka_unit_test(test_cid_roundtrip_and_padding),
        cmocka_unit_test(test_cid_inner_plaintext_type),
        cmocka_unit_test(test_cid_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
