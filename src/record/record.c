#include "record.h"

int sdtls__cipher_init(sdtls__cipher *c, uint16_t epoch, sdtls_aead_id id, const uint8_t *key,
                       const uint8_t *iv, int encrypt)
{
    sdtls__cipher_clear(c);
    c->epoch = epoch;
    c->aead_id = id;
    c->tag_len = sdtls__aead_tag_len(id);
    c->explicit_nonce = id == SDTLS_AEAD_CHACHA20_POLY1305 ? 0 : 8;
    memcpy(c->iv, iv, c->explicit_nonce ? 4 : 12);
    return sdtls__aead_new(id, key, encrypt, &c->aead);
}

int sdtls__cipher_init_cbc(sdtls__cipher *c, const sdtls__cbc_class *cls, uint16_t epoch,
                           const uint8_t *key, const uint8_t *mac_key, sdtls_hash_id mac_hash,
                           int encrypt)
{
    sdtls__cipher_clear(c);
    c->cbc_class = cls;
    c->epoch = epoch;
    c->mac_len = sdtls__hash_len(mac_hash);
    SDTLS_TRY(sdtls__hmac_key_new(mac_hash, mac_key, c->mac_len, &c->mac));
    SDTLS_TRY(cls->make(key, encrypt, &c->cbc));
    return encrypt ? cls->make(key, 1, &c->iv_gen) : 0;
}

void sdtls__cipher_null(sdtls__cipher *c, uint16_t epoch)
{
    sdtls__cipher_clear(c);
    c->epoch = epoch;
}

void sdtls__cipher_clear(sdtls__cipher *c)
{
    if (c->cbc_class != NULL) {
        c->cbc_class->release(c->cbc);
        c->cbc_class->release(c->iv_gen);
    }
    sdtls__aead_free(c->aead);
    sdtls__hmac_key_free(c->mac);
    sdtls__wipe(c, sizeof(*c));
    c->aead = NULL;
    c->cbc = NULL;
    c->iv_gen = NULL;
    c->cbc_class = NULL;
    c->mac = NULL;
}

size_t sdtls__cipher_overhead(const sdtls__cipher *c)
{
    if (c->cbc != NULL) {
        return SDTLS_REC_HDR_LEN + 16 + 16 + c->mac_len; /* IV, padding up to a block, MAC */
    }
    size_t cid = c->use_cid && c->aead ? c->cid_len + 1 + (c->pad_to > 1 ? c->pad_to - 1 : 0) : 0;
    return SDTLS_REC_HDR_LEN + cid + (c->aead ? c->explicit_nonce + c->tag_len : 0);
}

int sdtls__rec_next(sdtls_rd *dgram, sdtls__rec *rec)
{
    return sdtls__rec_next_cid(dgram, 0, rec);
}

int sdtls__rec_next_cid(sdtls_rd *dgram, size_t cid_len, sdtls__rec *rec)
{
    sdtls_rd r = *dgram;
    const uint8_t *hdr;
    uint16_t len;
    if (sdtls_rd_take(&r, SDTLS_REC_HDR_LEN - 2, &hdr) != 0) {
        return SDTLS_DROP;
    }
    sdtls_rd h = sdtls_rd_init(hdr, SDTLS_REC_HDR_LEN - 2);
    if (sdtls_rd_u8(&h, &rec->type) != 0 || sdtls_rd_u16(&h, &rec->version) != 0 ||
        sdtls_rd_u16(&h, &rec->epoch) != 0 || sdtls_rd_u48(&h, &rec->seq) != 0) {
        return SDTLS_DROP;
    }
    rec->cid = NULL;
    rec->cid_len = 0;
    if (rec->type == SDTLS_CT_TLS12_CID && sdtls_rd_take(&r, cid_len, &rec->cid) == 0) {
        rec->cid_len = cid_len;
    } else if (rec->type == SDTLS_CT_TLS12_CID) {
        return SDTLS_DROP;
    }
    if (sdtls_rd_u16(&r, &len) != 0) {
        return SDTLS_DROP;
    }
    /* RFC 6347 4.1.2.7: a length beyond the datagram invalidates the rest of it. */
    if (len > SDTLS_MAX_CIPHERTEXT || sdtls_rd_take(&r, len, &rec->payload) != 0) {
        return SDTLS_DROP;
    }
    rec->hdr = hdr;
    rec->len = len;
    *dgram = r;
    return 0;
}

/* The 13-byte DTLS 1.2 header for the next record of c; returns its 64-bit record number. */
static uint64_t write_header(const sdtls__cipher *c, uint8_t *p, uint8_t type, uint16_t version,
                             size_t body)
{
    p[0] = type;
    sdtls_put_u16(p + 1, version);
    sdtls_put_u16(p + 3, c->epoch);
    sdtls_put_u48(p + 5, c->next_seq);
    sdtls_put_u16(p + 11, (uint16_t)body);
    return ((uint64_t)c->epoch << 48) | c->next_seq;
}

static void make_nonce(const sdtls__cipher *c, uint64_t rn, const uint8_t *explicit_nonce,
                       uint8_t nonce[12])
{
    if (c->explicit_nonce) {
        memcpy(nonce, c->iv, 4);
        memcpy(nonce + 4, explicit_nonce, 8);
        return;
    }
    memcpy(nonce, c->iv, 12);
    for (int i = 0; i < 8; i++) {
        nonce[4 + i] ^= (uint8_t)(rn >> (8 * (7 - i)));
    }
}

/* RFC 9146 5: 8 bytes of 0xff, tls12_cid, cid_length, tls12_cid, version, epoch and sequence,
 * cid, length of the inner plaintext. */
static size_t make_cid_aad(uint64_t rn, uint16_t version, const uint8_t *cid, size_t cid_len,
                           size_t inner_len, uint8_t aad[23 + SDTLS_MAX_CID])
{
    memset(aad, 0xff, 8);
    aad[8] = SDTLS_CT_TLS12_CID;
    aad[9] = (uint8_t)cid_len;
    aad[10] = SDTLS_CT_TLS12_CID;
    sdtls_put_u16(aad + 11, version);
    for (int i = 0; i < 8; i++) {
        aad[13 + i] = (uint8_t)(rn >> (8 * (7 - i)));
    }
    memcpy(aad + 21, cid, cid_len);
    sdtls_put_u16(aad + 21 + cid_len, (uint16_t)inner_len);
    return 23 + cid_len;
}

static void make_aad(uint64_t rn, uint8_t type, uint16_t version, size_t len, uint8_t aad[13])
{
    for (int i = 0; i < 8; i++) {
        aad[i] = (uint8_t)(rn >> (8 * (7 - i)));
    }
    aad[8] = type;
    sdtls_put_u16(aad + 9, version);
    sdtls_put_u16(aad + 11, (uint16_t)len);
}

static int seal_cid(sdtls__cipher *c, uint8_t type, uint16_t version, const uint8_t *pt,
                    size_t len, sdtls_wr *w)
{
    /* DTLSInnerPlaintext: content, real type, zero padding (RFC 9146 4). */
    size_t inner = len + 1;
    if (c->pad_to > 1 && inner % c->pad_to != 0) {
        inner += c->pad_to - inner % c->pad_to;
    }
    if (inner > SDTLS_MAX_PLAINTEXT + 1 + 255) {
        inner = len + 1;
    }
    size_t hdr = SDTLS_REC_HDR_LEN + c->cid_len;
    size_t body = c->explicit_nonce + inner + c->tag_len;
    uint8_t *p = sdtls_wr_reserve(w, hdr + body);
    if (p == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    uint64_t seq = c->next_seq;
    uint64_t rn = ((uint64_t)c->epoch << 48) | seq;
    p[0] = SDTLS_CT_TLS12_CID;
    sdtls_put_u16(p + 1, version);
    sdtls_put_u16(p + 3, c->epoch);
    sdtls_put_u48(p + 5, seq);
    memcpy(p + 11, c->cid, c->cid_len);
    sdtls_put_u16(p + 11 + c->cid_len, (uint16_t)body);
    uint8_t *out = p + hdr;
    for (size_t i = 0; i < c->explicit_nonce; i++) {
        out[i] = (uint8_t)(rn >> (8 * (7 - i)));
    }
    uint8_t *ct = out + c->explicit_nonce;
    memmove(ct, pt, len);
    ct[len] = type;
    memset(ct + len + 1, 0, inner - len - 1);
    uint8_t nonce[12], aad[23 + SDTLS_MAX_CID];
    make_nonce(c, rn, out, nonce);
    size_t aad_len = make_cid_aad(rn, version, c->cid, c->cid_len, inner, aad);
    if (sdtls__aead_seal(c->aead, nonce, aad, aad_len, ct, inner, ct) != 0) {
        w->len -= hdr + body;
        return SDTLS_ERR_CRYPTO;
    }
    c->next_seq++;
    return 0;
}

/* RFC 7366 3: MAC over seq_num || type || version || length || IV || ciphertext, where
 * length covers IV and ciphertext. */
static int etm_mac(const sdtls__cipher *c, uint64_t rn, uint8_t type, uint16_t version,
                   const uint8_t *iv_ct, size_t len, uint8_t *mac)
{
    uint8_t hdr[13];
    make_aad(rn, type, version, len, hdr);
    const uint8_t *parts[] = {hdr, iv_ct};
    size_t lens[] = {sizeof(hdr), len};
    return sdtls__hmac_key_mac_v_own(c->mac, parts, lens, 2, mac);
}

static int seal_cbc(sdtls__cipher *c, uint8_t type, uint16_t version, const uint8_t *pt,
                    size_t len, sdtls_wr *w)
{
    size_t padded = (len / 16 + 1) * 16; /* at least one padding byte */
    size_t body = 16 + padded + c->mac_len;
    uint8_t *p = sdtls_wr_reserve(w, SDTLS_REC_HDR_LEN + body);
    if (p == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    uint64_t rn = write_header(c, p, type, version, body);
    uint8_t *iv = p + SDTLS_REC_HDR_LEN, *ct = iv + 16;
    /* An unpredictable IV without a random source: the record number encrypted under the
     * record key (NIST SP 800-38A, appendix C). */
    uint8_t block[16] = {0}, zero[16] = {0};
    for (int i = 0; i < 8; i++) {
        block[i] = (uint8_t)(rn >> (8 * (7 - i)));
    }
    memmove(ct, pt, len);
    memset(ct + len, (int)(padded - len - 1), padded - len);
    int rc = c->cbc_class->crypt(c->iv_gen, zero, block, 16, iv);
    if (rc == 0) {
        rc = c->cbc_class->crypt(c->cbc, iv, ct, padded, ct);
    }
    if (rc == 0) {
        rc = etm_mac(c, rn, type, version, iv, 16 + padded, ct + padded);
    }
    if (rc != 0) {
        w->len -= SDTLS_REC_HDR_LEN + body;
        return SDTLS_ERR_CRYPTO;
    }
    c->next_seq++;
    return 0;
}

static int open_cbc(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out, size_t *out_len)
{
    if (rec->len < 32 + c->mac_len || (rec->len - c->mac_len) % 16 != 0) {
        return SDTLS_DROP;
    }
    size_t ct_len = rec->len - c->mac_len - 16;
    uint64_t rn = ((uint64_t)rec->epoch << 48) | rec->seq;
    uint8_t mac[SDTLS_HASH_MAX];
    /* Encrypt-then-MAC: authenticate first, so nothing about the padding leaks. */
    if (etm_mac(c, rn, rec->type, rec->version, rec->payload, 16 + ct_len, mac) != 0 ||
        !sdtls__ct_equal(mac, rec->payload + 16 + ct_len, c->mac_len)) {
        return SDTLS_DROP;
    }
    /* The IV is the first block of the payload; keep a copy since out may overlap it. */
    uint8_t iv[16];
    memcpy(iv, rec->payload, 16);
    if (c->cbc_class->crypt(c->cbc, iv, rec->payload + 16, ct_len, out) != 0) {
        return SDTLS_DROP;
    }
    /* Padding check in constant time all the same (RFC 7366 leaves it to the MAC, we do not
     * rely on callers' timing). */
    uint8_t pad = out[ct_len - 1];
    unsigned bad = (unsigned)(pad + 1u > ct_len);
    for (size_t i = 0; i < 256 && i < ct_len; i++) {
        unsigned in_pad = (unsigned)(i <= pad);
        bad |= in_pad & (unsigned)(out[ct_len - 1 - i] != pad);
    }
    if (bad) {
        return SDTLS_REC_MALFORMED;
    }
    *out_len = ct_len - pad - 1;
    return *out_len > SDTLS_MAX_PLAINTEXT ? SDTLS_REC_MALFORMED : 0;
}

int sdtls__rec_seal(sdtls__cipher *c, uint8_t type, uint16_t version, const uint8_t *pt,
                    size_t len, sdtls_wr *w)
{
    if (len > SDTLS_MAX_PLAINTEXT) {
        return SDTLS_ERR_ARG;
    }
    if (c->use_cid && c->aead != NULL) {
        if (c->next_seq > SDTLS_SEQ_MAX) {
            return SDTLS_ERR_STATE;
        }
        return seal_cid(c, type, version, pt, len, w);
    }
    if (c->cbc != NULL) {
        if (c->next_seq > SDTLS_SEQ_MAX) {
            return SDTLS_ERR_STATE;
        }
        return seal_cbc(c, type, version, pt, len, w);
    }
    if (c->next_seq > SDTLS_SEQ_MAX) {
        return SDTLS_ERR_STATE;
    }
    size_t body = len + (c->aead ? c->explicit_nonce + c->tag_len : 0);
    uint8_t *p = sdtls_wr_reserve(w, SDTLS_REC_HDR_LEN + body);
    if (p == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    uint64_t rn = write_header(c, p, type, version, body);
    uint8_t *out = p + SDTLS_REC_HDR_LEN;
    if (c->aead == NULL) {
        memmove(out, pt, len);
    } else {
        uint8_t nonce[12], aad[13];
        for (size_t i = 0; i < c->explicit_nonce; i++) {
            out[i] = (uint8_t)(rn >> (8 * (7 - i)));
        }
        make_nonce(c, rn, out, nonce);
        make_aad(rn, type, version, len, aad);
        int rc = sdtls__aead_seal(c->aead, nonce, aad, sizeof(aad), pt, len,
                                  out + c->explicit_nonce);
        if (rc != 0) {
            w->len -= SDTLS_REC_HDR_LEN + body;
            return SDTLS_ERR_CRYPTO;
        }
    }
    c->next_seq++;
    return 0;
}

int sdtls__rec_open(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out, size_t *out_len)
{
    uint8_t type;
    SDTLS_TRY(sdtls__rec_open_type(c, rec, out, out_len, &type));
    return type == rec->type ? 0 : SDTLS_DROP;
}

static int open_cid(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out, size_t *out_len,
                    uint8_t *type)
{
    if (rec->cid_len != c->cid_len || !sdtls__ct_equal(rec->cid, c->cid, c->cid_len) ||
        rec->len < c->explicit_nonce + c->tag_len + 1) {
        return SDTLS_DROP;
    }
    size_t inner = rec->len - c->explicit_nonce - c->tag_len;
    if (inner > SDTLS_MAX_PLAINTEXT + 1 + 255) {
        return SDTLS_DROP;
    }
    uint64_t rn = ((uint64_t)rec->epoch << 48) | rec->seq;
    uint8_t nonce[12], aad[23 + SDTLS_MAX_CID];
    make_nonce(c, rn, rec->payload, nonce);
    size_t aad_len = make_cid_aad(rn, rec->version, c->cid, c->cid_len, inner, aad);
    if (sdtls__aead_open(c->aead, nonce, aad, aad_len, rec->payload + c->explicit_nonce,
                         inner + c->tag_len, out) != 0) {
        return SDTLS_DROP;
    }
    /* The real type is the last non-zero byte; all zeros is malformed. */
    size_t n = inner;
    while (n > 0 && out[n - 1] == 0) {
        n--;
    }
    if (n == 0 || n - 1 > SDTLS_MAX_PLAINTEXT) {
        return SDTLS_REC_MALFORMED;
    }
    *type = out[n - 1];
    *out_len = n - 1;
    return 0;
}

int sdtls__rec_open_type(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out, size_t *out_len,
                         uint8_t *type)
{
    *type = rec->type;
    if (c->use_cid != (rec->type == SDTLS_CT_TLS12_CID)) {
        return SDTLS_DROP; /* a record in the other format than this epoch uses */
    }
    if (c->use_cid) {
        return c->aead != NULL ? open_cid(c, rec, out, out_len, type) : SDTLS_DROP;
    }
    if (c->cbc != NULL) {
        return open_cbc(c, rec, out, out_len);
    }
    if (c->aead == NULL) {
        if (rec->len > SDTLS_MAX_PLAINTEXT) {
            return SDTLS_DROP;
        }
        memmove(out, rec->payload, rec->len);
        *out_len = rec->len;
        return 0;
    }
    if (rec->len < c->explicit_nonce + c->tag_len) {
        return SDTLS_DROP;
    }
    size_t pt_len = rec->len - c->explicit_nonce - c->tag_len;
    if (pt_len > SDTLS_MAX_PLAINTEXT) {
        return SDTLS_DROP;
    }
    uint64_t rn = ((uint64_t)rec->epoch << 48) | rec->seq;
    uint8_t nonce[12], aad[13];
    make_nonce(c, rn, rec->payload, nonce);
    make_aad(rn, rec->type, rec->version, pt_len, aad);
    if (sdtls__aead_open(c->aead, nonce, aad, sizeof(aad), rec->payload + c->explicit_nonce,
                         pt_len + c->tag_len, out) != 0) {
        return SDTLS_DROP;
    }
    *out_len = pt_len;
    return 0;
}
