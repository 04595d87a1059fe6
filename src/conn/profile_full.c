/* SDTLS_PROFILE=full (the default): every suite, certificates and raw public keys, ECDHE,
 * the legacy CBC suites (still off until sdtls_config_set_legacy_cbc). */
#include "config.h"

#include "../handshake/dtls12/hs12_int.h"

const sdtls__profile sdtls__build_profile = {
    "full",
    &sdtls__hs12_pki_x509,
    &sdtls__kex_ecdhe,
    &sdtls__cbc_aes128,
    1u << SDTLS_AEAD_AES_128_GCM | 1u << SDTLS_AEAD_AES_256_GCM |
        1u << SDTLS_AEAD_CHACHA20_POLY1305 | 1u << SDTLS_AEAD_AES_128_CCM |
        1u << SDTLS_AEAD_AES_128_CCM_8,
    sdtls__config_pki_clear,
    SDTLS_DEFAULT_MAX_MSG,
    SDTLS_DEFAULT_TRANSCRIPT,
};
