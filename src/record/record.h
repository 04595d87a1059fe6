/*
 * Record layer: DTLS 1.2 record header, per-epoch cipher state, protect/unprotect, replay
 * window. It knows nothing about handshakes; the connection decides which epoch state to use.
 *
 * Design notes
 *  - A cipher state is one direction of one epoch. Epoch 0 is the null cipher (aead == NULL).
 *  - AES-GCM and AES-CCM (RFC 5288, RFC 6655) carry an 8-byte explicit nonce: we send the
 *    64-bit record number (epoch || sequence), which is unique per key by construction.
 *    ChaCha20-Poly1305 (RFC 7905) XORs the record number into a 12-byte IV and sends no
 *    explicit nonce.
 *  - The additional data is record number || type || version || plaintext length
 *    (RFC 5246 6.2.3.3 with the DTLS 64-bit sequence, RFC 6347 4.1.2.1).
 *  - Replay: a sliding window of SDTLS_REPLAY_WINDOW records, updated only after a record
 *    authenticates (RFC 6347 4.1.2.6).
 */
#ifndef SDTLS_RECORD_H
#define SDTLS_RECORD_H

#include "../crypto/crypto.h"
#include "../util/rd.h"
#include "../util/wr.h"

#define SDTLS_CT_CHANGE_CIPHER_SPEC 20
#define SDTLS_CT_ALERT 21
#define SDTLS_CT_HANDSHAKE 22
#define SDTLS_CT_APPLICATION_DATA 23
#define SDTLS_CT_HEARTBEAT 24 /* RFC 6520 */
#define SDTLS_CT_TLS12_CID 25 /* RFC 9146 */
#define SDTLS_MAX_CID 20

#define SDTLS_VERSION_DTLS10 0xFEFF
#define SDTLS_VERSION_DTLS12 0xFEFD

#define SDTLS_REC_HDR_LEN 13
#define SDTLS_MAX_PLAINTEXT 16384
/* RFC 6347 4.1.2.1 / RFC 5246 6.2.3: ciphertext at most 2^14 + 2048. */
#define SDTLS_MAX_CIPHERTEXT (SDTLS_MAX_PLAINTEXT + 2048)
#define SDTLS_SEQ_MAX ((UINT64_C(1) << 48) - 1)

/* Replay window in records (at least 256 as required; a multiple of 64). */
#define SDTLS_REPLAY_WINDOW 256

typedef struct sdtls__replay {
    uint64_t top;     /* highest sequence number accepted so far */
    int has_top;      /* 0 until the first record */
    uint64_t bits[SDTLS_REPLAY_WINDOW / 64]; /* bit i set: top - i was seen */
} sdtls__replay;

void sdtls__replay_reset(sdtls__replay *w);
/* 0 if seq is new and inside the window, SDTLS_DROP if seen or too old. */
SDTLS_MUST_CHECK int sdtls__replay_check(const sdtls__replay *w, uint64_t seq);
void sdtls__replay_update(sdtls__replay *w, uint64_t seq);

/* One direction of one epoch. */
typedef struct sdtls__cipher {
    uint16_t epoch;
    sdtls__aead *aead; /* NULL: null cipher (epoch 0) */
    sdtls_aead_id aead_id;
    uint8_t iv[12];          /* GCM/CCM: 4-byte salt used; ChaCha20: 12-byte IV */
    size_t explicit_nonce;   /* 8 (GCM, CCM) or 0 (ChaCha20) */
    size_t tag_len;
    uint64_t next_seq;       /* write side: next sequence number to use */
    sdtls__replay replay;    /* read side */
    /* RFC 9146: records of this epoch carry a connection ID (the receiver's) and an inner
     * plaintext with the real content type. */
    int use_cid;
    uint8_t cid[SDTLS_MAX_CID];
    size_t cid_len;
    size_t pad_to;           /* write side with CID: pad inner plaintexts to a multiple */
    /* Legacy AES-128-CBC with encrypt-then-MAC (RFC 7366); aead is NULL then. */
    const sdtls__cbc_class *cbc_class;
    sdtls__cbc *cbc;
    sdtls__cbc *iv_gen; /* same key, encrypt direction: derives each record's IV */
    sdtls__hmac_key *mac; /* scheduled once per epoch */
    size_t mac_len;
} sdtls__cipher;

/* Key a cipher state. key/iv lengths follow the AEAD (iv: 4 or 12 bytes). */
SDTLS_MUST_CHECK int sdtls__cipher_init(sdtls__cipher *c, uint16_t epoch, sdtls_aead_id id,
                                        const uint8_t *key, const uint8_t *iv, int encrypt);
/* Key a legacy CBC + encrypt-then-MAC state: AES-128 key, HMAC key of mac_len bytes. */
SDTLS_MUST_CHECK int sdtls__cipher_init_cbc(sdtls__cipher *c, const sdtls__cbc_class *cls,
                                            uint16_t epoch, const uint8_t *key,
                                            const uint8_t *mac_key, sdtls_hash_id mac_hash,
                                            int encrypt);
void sdtls__cipher_null(sdtls__cipher *c, uint16_t epoch);
void sdtls__cipher_clear(sdtls__cipher *c);
/* Whether the state protects records (epoch 0 does not). */
static inline int sdtls__cipher_keyed(const sdtls__cipher *c)
{
    return c->aead != NULL || c->cbc != NULL;
}
/* Where the plaintext of a received record starts, relative to its payload, when opened in
 * place: after the explicit nonce (AEAD) or the IV (CBC). */
static inline size_t sdtls__cipher_pt_offset(const sdtls__cipher *c)
{
    return c->aead != NULL ? c->explicit_nonce : c->cbc != NULL ? 16 : 0;
}
/* Bytes a record adds on top of its plaintext (header + nonce + tag). */
size_t sdtls__cipher_overhead(const sdtls__cipher *c);

typedef struct sdtls__rec {
    uint8_t type;
    uint16_t version;
    uint16_t epoch;
    uint64_t seq;
    const uint8_t *hdr;     /* the 13 header bytes */
    const uint8_t *payload; /* fragment as received */
    size_t len;
    const uint8_t *cid;     /* tls12_cid records: the connection ID */
    size_t cid_len;
} sdtls__rec;

/* Parse the next record of a datagram. SDTLS_DROP if the header is short or the length
 * goes beyond the datagram (the rest of the datagram is then discarded). */
SDTLS_MUST_CHECK int sdtls__rec_next(sdtls_rd *dgram, sdtls__rec *rec);
/* The same, for a receiver whose connection ID is cid_len bytes: a tls12_cid record carries
 * that many CID bytes before its length (RFC 9146 4). */
SDTLS_MUST_CHECK int sdtls__rec_next_cid(sdtls_rd *dgram, size_t cid_len, sdtls__rec *rec);

/* Append one protected record (header included) to w, using and advancing c->next_seq.
 * Returns 0, SDTLS_ERR_BUF_SMALL, SDTLS_ERR_CRYPTO, SDTLS_ERR_STATE (sequence exhausted). */
#define SDTLS_REC_MALFORMED (-98)

SDTLS_MUST_CHECK int sdtls__rec_seal(sdtls__cipher *c, uint8_t type, uint16_t version,
                                     const uint8_t *pt, size_t len, sdtls_wr *w);
/* Unprotect rec into out (capacity at least rec->len); *out_len receives the plaintext
 * length. SDTLS_DROP on authentication failure or malformed ciphertext; SDTLS_REC_MALFORMED
 * (drop too) when the record authenticated but what it holds is malformed: an RFC 9146 inner
 * plaintext of zeros only, bad CBC padding, a plaintext over 2^14 bytes. Does not touch the
 * replay window: the caller checks it before and updates it after. A tls12_cid record
 * (c->use_cid) yields its inner content and real type in *type; otherwise *type = rec->type. */
SDTLS_MUST_CHECK int sdtls__rec_open(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out,
                                     size_t *out_len);
SDTLS_MUST_CHECK int sdtls__rec_open_type(sdtls__cipher *c, const sdtls__rec *rec, uint8_t *out,
                                          size_t *out_len, uint8_t *type);

#endif
