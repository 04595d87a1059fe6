/* Internal to the DTLS 1.2 handshake: state table rows and shared helpers. */
#ifndef SDTLS_HS12_INT_H
#define SDTLS_HS12_INT_H

#include "dtls12.h"

/* sdtls__hs12_on_record: a new handshake began after ours completed. */
#define SDTLS_HS12_RENEGOTIATION 2

typedef int (*sdtls__hs_handler)(sdtls__hs12 *hs, const uint8_t *body, size_t len,
                                 uint16_t seq, sdtls__hs_state *next);

/* One row of a state table: in `state`, message `type` is handled by `fn`, which may move to
 * any state in next_mask. tr_auto: the dispatcher adds the message to the transcript before
 * the handler runs (handlers needing the transcript without it use hs->tr_before). */
typedef struct sdtls__hs_row {
    sdtls__hs_state state;
    int type;
    sdtls__hs_handler fn;
    uint32_t next_mask;
    int tr_auto;
} sdtls__hs_row;

#define NEXT(s) (1u << (s))

extern const sdtls__hs_row sdtls__hs12_client_rows[];
extern const size_t sdtls__hs12_n_client_rows;
extern const sdtls__hs_row sdtls__hs12_server_rows[];
extern const size_t sdtls__hs12_n_server_rows;

/*
 * Certificate and raw-public-key authentication (RFC 5246 7.4.2-7.4.8, RFC 7250) of the
 * ECDHE_ECDSA and ECDHE_RSA suites. The handshake reaches it only through this table, found
 * in the config's build profile, so a build without certificate suites (SDTLS_PROFILE=
 * psk-ccm8) leaves pki.c and the X.509 and signature code under it out (BearSSL reaches its
 * X.509 engine through a class pointer the same way). Every entry returns 0 or a fatal code.
 */
typedef struct sdtls__hs12_pki {
    /* Client. The server's signature over client_random || server_random || params. */
    int (*verify_key_exchange)(const sdtls__hs12 *hs, const uint8_t *params, size_t params_len,
                               uint16_t scheme, const uint8_t *sig, size_t sig_len);
    /* Queue our Certificate (empty if we have none that fits); *scheme is the signature
     * scheme for CertificateVerify, 0 when none is to be sent. */
    int (*queue_client_certificate)(sdtls__hs12 *hs, uint16_t *scheme);
    int (*queue_certificate_verify)(sdtls__hs12 *hs, uint16_t scheme);
    /* Server. Whether certificate suite s can serve this ClientHello with our key: 0 and
     * *scheme set, or why not (SDTLS_PKI_*). */
    int (*suite_ok)(const sdtls__hs12 *hs, const sdtls__client_hello *ch, const sdtls__suite *s,
                    uint16_t *scheme);
    int (*queue_certificate)(sdtls__hs12 *hs);
    /* Append scheme and signature over the ServerECDHParams at w->buf[params_start..]. */
    int (*sign_key_exchange)(const sdtls__hs12 *hs, sdtls_wr *w, size_t params_start);
    int (*queue_certificate_request)(sdtls__hs12 *hs);
    /* Both: rows for Certificate, CertificateRequest and CertificateVerify. */
    const sdtls__hs_row *client_rows, *server_rows;
    size_t n_client_rows, n_server_rows;
    void (*clear)(sdtls__hs12 *hs); /* the peer's key */
} sdtls__hs12_pki;

/* sdtls__hs12_pki.suite_ok: why a certificate suite cannot be chosen. */
#define SDTLS_PKI_KEY_TYPE 1 /* our key is not of the suite's type */
#define SDTLS_PKI_NO_SIG 2   /* no signature scheme both sides accept for our key */
#define SDTLS_PKI_CURVE 3    /* the client does not accept our ECDSA key's curve */

extern const sdtls__hs12_pki sdtls__hs12_pki_x509;
/* Start sending the flight built in hs->flight. */
void sdtls__hs12_send_flight(sdtls__hs12 *hs, int with_timer);

#endif
