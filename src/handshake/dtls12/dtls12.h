/*
 * DTLS 1.2 handshake logic (RFC 6347 over RFC 5246): per-role state tables, one handler per
 * message, parse -> validate -> commit. The handshake owns the transcript and the flight and
 * writes keys into the connection's cipher states through the pointers it is given.
 */
#ifndef SDTLS_DTLS12_H
#define SDTLS_DTLS12_H

#include "../../conn/config.h"
#include "../transport.h"

/* ---- cipher suites ---------------------------------------------------------------------- */

typedef enum {
    SDTLS_KX_ECDHE_ECDSA,
    SDTLS_KX_ECDHE_RSA,
    SDTLS_KX_PSK,       /* RFC 4279 2 */
    SDTLS_KX_ECDHE_PSK, /* RFC 5489 */
} sdtls_kx;

#define SDTLS_KX_IS_PSK(kx) ((kx) == SDTLS_KX_PSK || (kx) == SDTLS_KX_ECDHE_PSK)
#define SDTLS_KX_HAS_ECDHE(kx) ((kx) != SDTLS_KX_PSK)
#define SDTLS_KX_HAS_CERT(kx) ((kx) == SDTLS_KX_ECDHE_ECDSA || (kx) == SDTLS_KX_ECDHE_RSA)

typedef struct sdtls__suite {
    uint16_t id;
    const char *name;
    sdtls_kx kx;
    sdtls_aead_id aead;
    sdtls_hash_id prf;
    uint8_t key_len, iv_len; /* iv_len: implicit part (4 for GCM/CCM, 12 for ChaCha20) */
    int cbc;                 /* legacy AES-CBC with encrypt-then-MAC (RFC 7366) */
    sdtls_hash_id mac;       /* cbc: HMAC hash */
} sdtls__suite;

const sdtls__suite *sdtls__suite_by_id(uint16_t id);
const sdtls__suite *sdtls__suite_by_name(const char *name, size_t len);
/* Whether a configured suite can be offered (client) or chosen (server) with this config:
 * PSK suites need a key; certificate suites need a certificate on a server, and are not
 * offered by a PSK client unless its cipher list was set explicitly. */
int sdtls__suite_usable(const sdtls_config *cfg, const sdtls__suite *s, sdtls_role role);
/* Whether the build profile has what suite s needs (its AEAD, ECDHE, certificates, CBC).
 * Every suite a connection can negotiate passes this, so a handshake may use the profile's
 * engines for any suite it negotiated without checking them for NULL. */
int sdtls__suite_in_build(const sdtls__profile *p, const sdtls__suite *s);
/* Default preference: every suite of the build. */
size_t sdtls__suite_defaults(const sdtls__profile *p, uint16_t *out, size_t cap);
const char *sdtls__group_name(uint16_t group);
/* DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2). */
typedef struct sdtls__srtp_profile {
    uint16_t id;
    const char *name;
    uint8_t key_len, salt_len;
} sdtls__srtp_profile;
const sdtls__srtp_profile *sdtls__srtp_by_id(uint16_t id);
const sdtls__srtp_profile *sdtls__srtp_by_name(const char *name, size_t len);
int sdtls__group_by_name(const char *name, size_t len, uint16_t *out);
/* Signature schemes we accept, in preference order. */
extern const uint16_t sdtls__sig_schemes[];
extern const size_t sdtls__n_sig_schemes;

/* ---- handshake state -------------------------------------------------------------------- */

typedef enum {
    /* client */
    C_START,
    C_WAIT_SH,      /* HelloVerifyRequest or ServerHello */
    C_WAIT_CERT,
    C_WAIT_SKE,
    C_WAIT_CR_SHD,  /* CertificateRequest or ServerHelloDone */
    C_WAIT_SHD,
    C_WAIT_CCS,
    C_WAIT_FIN,
    /* server */
    S_WAIT_CH,
    S_WAIT_CERT,
    S_WAIT_CKE,
    S_WAIT_CV,
    S_WAIT_CCS,
    S_WAIT_FIN,
    HS_DONE,
    HS_N_STATES
} sdtls__hs_state;

/* What the connection gets when the handshake completes. */
typedef struct sdtls__params {
    const sdtls__suite *suite;
    uint16_t group;
    uint8_t master[48];
    uint8_t client_random[32], server_random[32];
    int has_peer_cert;
    uint8_t peer_cert_sha256[32];
    char alpn[256];
    uint16_t srtp_profile; /* 0: none negotiated */
    /* RFC 9146: rx_cid is ours (peers put it in records to us), tx_cid the peer's. */
    int cid_on;
    uint8_t peer_hb_mode; /* RFC 6520 mode the peer sent: 0 none, 1 we may send, 2 not */
    uint8_t rx_cid[SDTLS_MAX_CID], tx_cid[SDTLS_MAX_CID];
    size_t rx_cid_len, tx_cid_len;
    uint8_t srtp_mki[255];
    size_t srtp_mki_len;
    int ems;
} sdtls__params;

typedef struct sdtls__hs12 {
    const sdtls_config *cfg;
    sdtls_role role;
    sdtls__hs_state state;
    uint64_t now_ms;

    sdtls__reasm reasm;
    sdtls__flight flight;
    uint16_t send_seq;

    uint8_t *tr; /* transcript: every handshake message as hashed, header included */
    size_t tr_len, tr_cap;
    size_t tr_before; /* transcript length before the message being handled */

    /* negotiation */
    uint8_t session_id[32];
    uint8_t sid_len;
    uint8_t cookie[255];
    uint8_t cookie_len;
    uint16_t peer_sigalgs[32];
    size_t n_peer_sigalgs;
    uint16_t sig_scheme; /* ours, for ServerKeyExchange or CertificateVerify */
    sdtls__kex *kex;
    uint8_t kex_pub[133];
    size_t kex_pub_len;
    int hvr_count;
    int peer_point_formats;
    int peer_etm;
    int peer_reneg; /* client signalled RFC 5746 support */
    int rpk_ours, rpk_peer; /* RFC 7250 raw public keys in our / the peer's Certificate */
    const uint8_t *peer_addr; /* server: binds cookies */
    size_t peer_addr_len;
    uint8_t pms[2 + 66 + 2 + 64]; /* ECDHE-PSK: Z and the PSK, each length-prefixed */
    size_t pms_len;
    int peer_ems;
    int cert_requested; /* client: server sent CertificateRequest */
    int peer_sent_cert; /* server: client Certificate was non-empty */
    sdtls__pkey *peer_key;
    char server_name[256];
    const uint8_t *pin; /* fingerprint to check (connection or config), NULL if none */
    size_t pin_len;
    sdtls_hash_id pin_hash;

    /* the connection's cipher states this handshake keys */
    sdtls__cipher *wr1, *rd1;
    sdtls__params *out;
    uint32_t rtx_total; /* flights retransmitted during this handshake */
    /* Records of the next epoch held by the connection until its keys are active. */
    uint8_t future[SDTLS_FUTURE_BYTES];
    size_t future_len, future_n;
} sdtls__hs12;

/* Set up a handshake over caller memory (pool for reassembly, flight, transcript). */
void sdtls__hs12_init(sdtls__hs12 *hs, const sdtls_config *cfg, sdtls_role role,
                      uint8_t *reasm_pool, size_t reasm_cap, uint8_t *flight_buf,
                      size_t flight_cap, uint8_t *tr, size_t tr_cap);
void sdtls__hs12_clear(sdtls__hs12 *hs);
/* Client: build and queue the first ClientHello. */
SDTLS_MUST_CHECK int sdtls__hs12_start(sdtls__hs12 *hs);
/* One handshake record's plaintext (epoch already checked). Returns 0, SDTLS_REASM_OLD when
 * the record held only retransmitted messages (the caller may resend our flight), or a
 * fatal code. */
SDTLS_MUST_CHECK int sdtls__hs12_on_record(sdtls__hs12 *hs, const uint8_t *pt, size_t len);
/* A ChangeCipherSpec record: 0 if expected now (the caller activates the read epoch),
 * SDTLS_DROP if early or late (silently ignored). */
SDTLS_MUST_CHECK int sdtls__hs12_on_ccs(sdtls__hs12 *hs);

/* ---- message codecs (messages.c) --------------------------------------------------------- */

typedef struct sdtls__exts {
    sdtls_rd groups, sigalgs, alpn, point_formats;
    int has_groups, has_sigalgs, has_alpn, has_point_formats;
    int ems, has_reneg;
    uint8_t reneg_len;
    const uint8_t *sni;
    size_t sni_len;
    int has_sni;
    sdtls_rd srtp_profiles;
    const uint8_t *srtp_mki;
    size_t srtp_mki_len;
    int has_srtp;
    const uint8_t *cid;
    size_t cid_len;
    int has_cid;
    int etm; /* encrypt_then_mac (RFC 7366) */
    uint8_t heartbeat_mode; /* 0: no heartbeat extension */
    /* RFC 7250: in a ClientHello, lists; in a ServerHello, the single chosen type. */
    sdtls_rd client_cert_types, server_cert_types;
    int has_client_cert_type, has_server_cert_type;
    uint8_t client_cert_type, server_cert_type;
} sdtls__exts;

SDTLS_MUST_CHECK int sdtls__exts_parse(sdtls_rd *r, int is_client_hello, sdtls__exts *e);

typedef struct sdtls__client_hello {
    uint16_t version;
    const uint8_t *random;
    const uint8_t *sid;
    uint8_t sid_len;
    const uint8_t *cookie;
    uint8_t cookie_len;
    sdtls_rd suites;
    sdtls__exts ext;
} sdtls__client_hello;

/* Parse only up to the cookie (enough for stateless cookie screening of a first fragment). */
SDTLS_MUST_CHECK int sdtls__client_hello_parse_prefix(sdtls_rd *r, sdtls__client_hello *ch);
SDTLS_MUST_CHECK int sdtls__client_hello_parse(const uint8_t *body, size_t len,
                                               sdtls__client_hello *ch);
/* Whether a list of uint16 values (cipher suites, groups) holds v. */
int sdtls__u16_list_has(sdtls_rd list, uint16_t v);
/* HelloVerifyRequest body. */
int sdtls__hvr_write(sdtls_wr *w, const uint8_t *cookie, size_t cookie_len);
SDTLS_MUST_CHECK int sdtls__hvr_parse(const uint8_t *body, size_t len, const uint8_t **cookie,
                                      uint8_t *cookie_len);

/* ---- keys (keys.c) --------------------------------------------------------------------- */

SDTLS_MUST_CHECK int sdtls__tr_add(sdtls__hs12 *hs, int type, uint16_t seq,
                                   const uint8_t *body, size_t len);
SDTLS_MUST_CHECK int sdtls__tr_hash(const sdtls__hs12 *hs, sdtls_hash_id h, uint8_t *out);
/* Master secret from hs->pms (EMS if negotiated), then epoch-1 keys into wr1/rd1. */
SDTLS_MUST_CHECK int sdtls__hs12_derive_keys(sdtls__hs12 *hs);
/* RFC 4279 2 / RFC 5489 2: premaster = uint16 len || other || uint16 len || psk, where other
 * is the ECDHE secret already in hs->pms (ECDHE-PSK) or that many zero bytes (PSK). */
SDTLS_MUST_CHECK int sdtls__hs12_psk_premaster(sdtls__hs12 *hs, const uint8_t *psk,
                                               size_t psk_len);
SDTLS_MUST_CHECK int sdtls__hs12_finished(const sdtls__hs12 *hs, int from_client,
                                          uint8_t out[12]);
/* Check the peer's Finished against the transcript before it (hs->tr_before). */
SDTLS_MUST_CHECK int sdtls__hs12_check_finished(const sdtls__hs12 *hs, const uint8_t *body,
                                                size_t len);

/* Queue a message of ours: transcript + flight. */
SDTLS_MUST_CHECK int sdtls__hs12_queue(sdtls__hs12 *hs, int type, uint16_t epoch,
                                       const uint8_t *body, size_t len);

#endif
