/*
 * SDTLS_PROFILE=psk-ccm8: a library for constrained nodes that speak only
 * TLS_PSK_WITH_AES_128_CCM_8 (the PSK suite CoAP mandates, RFC 7252 9.1.3.1). No certificate
 * engine, no ECDHE, no CBC: their code is not compiled, and the certificate and DTLS-SRTP
 * functions of sdtls.h are not in the library. Both roles, cookies, Connection ID, heartbeat,
 * ALPN, SNI and the exporter stay.
 */
#include "config.h"

/* A PSK handshake is small: the largest message is a ClientHello (a few hundred bytes from
 * the peers we know), and the whole transcript stays under 2 KiB. */
const sdtls__profile sdtls__build_profile = {
    "psk-ccm8", NULL, NULL, NULL, 1u << SDTLS_AEAD_AES_128_CCM_8, NULL, 2048, 4096,
};
