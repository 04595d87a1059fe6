/*
 * Record layer: sdtls__rec_next over a datagram, then sdtls__rec_open of every record with a
 * fixed key, as the connection does (replay window checked before, updated after).
 *
 * Input: one byte choosing the AEAD of epoch 1 (byte % 5: AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305, AES-128-CCM, AES-128-CCM-8), then the datagram. Epoch 0 is the null
 * cipher; other epochs are skipped.
 *
 * Oracles beyond the sanitizers: a record that opens has at most 2^14 bytes of plaintext, opens
 * the same in place as into a separate buffer, and sealing that plaintext again under the same
 * record number gives back the exact record bytes (when the explicit nonce is the record number,
 * as we send it).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "record/record.h"

static const sdtls_aead_id aeads[5] = {SDTLS_AEAD_AES_128_GCM, SDTLS_AEAD_AES_256_GCM,
                                       SDTLS_AEAD_CHACHA20_POLY1305, SDTLS_AEAD_AES_128_CCM,
                                       SDTLS_AEAD_AES_128_CCM_8};

static void check_reseal(sdtls__cipher *wr, const sdtls__rec *rec, const uint8_t *pt, size_t pt_len)
{
    if (wr->aead != NULL) {
        /* Our explicit nonce is the record number; a peer may send anything there. */
        uint64_t rn = ((uint64_t)rec->epoch << 48) | rec->seq;
        for (size_t i = 0; i < wr->explicit_nonce; i++) {
            if (rec->payload[i] != (uint8_t)(rn >> (8 * (7 - i)))) {
                return;
            }
        }
    }
    uint8_t *buf = malloc(SDTLS_REC_HDR_LEN + rec->len + 64);
    if (buf == NULL) {
        abort();
    }
    sdtls_wr w = sdtls_wr_init(buf, SDTLS_REC_HDR_LEN + rec->len + 64);
    wr->epoch = rec->epoch;
    wr->next_seq = rec->seq;
    if (sdtls__rec_seal(wr, rec->type, rec->version, pt, pt_len, &w) != 0 ||
        w.len != SDTLS_REC_HDR_LEN + rec->len || memcmp(buf, rec->hdr, SDTLS_REC_HDR_LEN) != 0 ||
        memcmp(buf + SDTLS_REC_HDR_LEN, rec->payload, rec->len) != 0) {
        abort(); /* open and seal disagree */
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    sdtls_aead_id id = aeads[data[0] % 5];
    uint8_t key[32], iv[12];
    fz_record_key(key, iv);
    sdtls__cipher rd0, wr0, rd1, wr1;
    memset(&rd0, 0, sizeof(rd0));
    memset(&wr0, 0, sizeof(wr0));
    memset(&rd1, 0, sizeof(rd1));
    memset(&wr1, 0, sizeof(wr1));
    sdtls__cipher_null(&rd0, 0);
    sdtls__cipher_null(&wr0, 0);
    if (sdtls__cipher_init(&rd1, 1, id, key, iv, 0) != 0 ||
        sdtls__cipher_init(&wr1, 1, id, key, iv, 1) != 0) {
        abort();
    }
    /* A private copy: in-place opening writes into it. */
    size_t len = size - 1;
    uint8_t *dgram = malloc(len > 0 ? len : 1);
    if (dgram == NULL) {
        abort();
    }
    memcpy(dgram, data + 1, len);
    sdtls_rd r = sdtls_rd_init(dgram, len);
    sdtls__rec rec;
    while (sdtls__rec_next(&r, &rec) == 0) {
        if (rec.len > SDTLS_MAX_CIPHERTEXT || rec.payload + rec.len > dgram + len) {
            abort();
        }
        sdtls__cipher *rd = rec.epoch == 0 ? &rd0 : rec.epoch == 1 ? &rd1 : NULL;
        sdtls__cipher *wr = rec.epoch == 0 ? &wr0 : &wr1;
        if (rd == NULL || sdtls__replay_check(&rd->replay, rec.seq) != 0) {
            continue;
        }
        uint8_t *out = malloc(rec.len > 0 ? rec.len : 1);
        if (out == NULL) {
            abort();
        }
        size_t out_len = 0;
        int rc = sdtls__rec_open(rd, &rec, out, &out_len);
        if (rc == 0) {
            if (out_len > SDTLS_MAX_PLAINTEXT || out_len > rec.len) {
                abort();
            }
            check_reseal(wr, &rec, out, out_len);
            /* In place, as sdtls_conn_recv does. */
            uint8_t *copy = malloc(rec.len > 0 ? rec.len : 1);
            if (copy == NULL) {
                abort();
            }
            if (rec.len > 0) {
                memcpy(copy, rec.payload, rec.len);
            }
            sdtls__rec again = rec;
            again.payload = copy;
            uint8_t *dst = copy + (rd->aead != NULL ? rd->explicit_nonce : 0);
            size_t n2 = 0;
            if (sdtls__rec_open(rd, &again, dst, &n2) != 0 || n2 != out_len ||
                (out_len > 0 && memcmp(dst, out, out_len) != 0)) {
                abort();
            }
            free(copy);
            sdtls__replay_update(&rd->replay, rec.seq);
        } else if (rc != SDTLS_DROP) {
            abort();
        }
        free(out);
    }
    free(dgram);
    sdtls__cipher_clear(&rd0);
    sdtls__cipher_clear(&wr0);
    sdtls__cipher_clear(&rd1);
    sdtls__cipher_clear(&wr1);
    return 0;
}
