/* The config object (shared, read-only once a connection uses it). */
#ifndef SDTLS_CONFIG_H
#define SDTLS_CONFIG_H

#include "../crypto/crypto.h"
#include "../handshake/transport.h"

#define SDTLS_MAX_SUITES 24
#define SDTLS_MAX_GROUPS 8
#define SDTLS_MAX_ALPN_WIRE 256

/*
 * Per-connection budgets (bytes), fixed when the connection is created:
 *  max_msg        largest handshake message, so also the certificate chain bytes we accept.
 *  reasm_bytes    reassembly pool: bodies + bitmaps of messages being reassembled.
 *  transcript     handshake transcript kept for Finished / CertificateVerify / EMS.
 *  future_bytes   records of the next epoch held until its keys are active.
 */
#define SDTLS_DEFAULT_MAX_MSG 16384
#define SDTLS_DEFAULT_TRANSCRIPT 32768
/* Default pool: two messages of the largest size with their fragment bitmaps. */
#define SDTLS_REASM_FOR(max_msg) (2 * ((max_msg) + (max_msg) / 8))
#define SDTLS_FUTURE_RECORDS 4
#define SDTLS_FUTURE_BYTES 2048

/*
 * What this build of the library contains, chosen at configure time (SDTLS_PROFILE): each
 * optional engine is a table the handshake reaches through the config, never a direct call,
 * so a profile that leaves an engine out also leaves its code out of the link.
 */
struct sdtls__hs12_pki;
typedef struct sdtls__profile {
    const char *name;                  /* "full", "psk-ccm8" */
    const struct sdtls__hs12_pki *pki; /* NULL: no certificate or raw-public-key suites */
    const sdtls__kex_class *kex;       /* NULL: no ECDHE suites */
    const sdtls__cbc_class *cbc;       /* NULL: no legacy CBC suites (RFC 7366) */
    uint32_t aeads;                    /* bit (1 << sdtls_aead_id) per AEAD in the build */
    void (*config_clear)(sdtls_config *cfg); /* certificate and trust store; may be NULL */
    /* Default handshake budgets: certificate chains need the room, PSK handshakes do not. */
    uint32_t max_msg;
    size_t transcript_bytes;
} sdtls__profile;
extern const sdtls__profile sdtls__build_profile;
/* profile.config_clear of builds with certificates (pki.c). */
void sdtls__config_pki_clear(sdtls_config *cfg);

struct sdtls_config {
    sdtls_allocator mem;
    const sdtls__profile *profile;
    sdtls_rng_fn rng;
    void *rng_user;

    sdtls__cert cert;
    int has_cert;
    sdtls__trust *trust;
    sdtls_verify_mode verify;
    sdtls_verify_fn verify_cb;
    void *verify_user;
    sdtls_hash_id pin_hash;
    uint8_t pin[SDTLS_HASH_MAX];
    size_t pin_len; /* 0: none */
    int client_auth_request, client_auth_require;

    uint16_t suites[SDTLS_MAX_SUITES];
    size_t n_suites;
    int suites_explicit; /* set by sdtls_config_set_ciphers */
    uint8_t psk_identity[128];
    size_t psk_identity_len;
    uint8_t psk[64];
    size_t psk_len;
    uint8_t psk_hint[128];
    size_t psk_hint_len;
    sdtls_psk_fn psk_cb;
    void *psk_user;
    uint16_t groups[SDTLS_MAX_GROUPS];
    size_t n_groups;
    uint8_t alpn[SDTLS_MAX_ALPN_WIRE]; /* wire form: u8-length-prefixed names */
    size_t alpn_len;
    uint16_t srtp[8]; /* RFC 5764 profiles in preference order; 0 entries: no DTLS-SRTP */
    size_t n_srtp;
    uint8_t srtp_mki[255];
    size_t srtp_mki_len;
    int legacy_cbc; /* allow the RFC 7366 encrypt-then-MAC CBC suites */
    int heartbeat; /* RFC 6520 mode we offer: 0 off, 1 peer may send, 2 peer may not */
    int rpk; /* RFC 7250: send our key and accept the peer's as raw public keys */
    int cid_len; /* RFC 9146: length of the CID we ask peers to use; -1: no CID */

    size_t mtu;
    sdtls__timer_cfg timer;
    int cookie_on;
    uint32_t cookie_lifetime_ms;
    sdtls__hmac_key *cookie_key; /* HMAC-SHA256 under a random secret (cookie.h) */
    int require_ems;

    sdtls_log_level log_level;
    sdtls_log_fn log_fn;
    void *log_user;
    sdtls_keylog_fn keylog_fn;
    void *keylog_user;

    uint32_t max_msg;
    size_t reasm_bytes, transcript_bytes;
    size_t rx_bytes; /* receive buffer: the largest datagram we accept */
};

/* Walk a ':' or ',' separated list (spaces after separators ignored), calling fn for each
 * non-empty item; stops at the first non-zero return. */
SDTLS_MUST_CHECK int sdtls__each_item(const char *list,
                                      int (*fn)(void *ctx, const char *item, size_t len),
                                      void *ctx);
void *sdtls__alloc(const sdtls_config *cfg, size_t size);
void sdtls__free(const sdtls_config *cfg, void *p, size_t size);
void sdtls__log(const sdtls_config *cfg, sdtls_log_level level, const char *fmt, ...)
    SDTLS_PRINTF(3, 4);
int sdtls__random(const sdtls_config *cfg, uint8_t *buf, size_t len);

/* Fingerprints in RFC 8122 form: "sha-256 AB:CD:...". */
SDTLS_MUST_CHECK int sdtls__fp_parse(const char *s, sdtls_hash_id *hash, uint8_t *out,
                                     size_t *out_len);
SDTLS_MUST_CHECK int sdtls__fp_format(sdtls_hash_id hash, const uint8_t *der, size_t der_len,
                                      char *out, size_t cap);

#endif
