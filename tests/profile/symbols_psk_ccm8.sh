#!/usr/bin/env bash
# The psk-ccm8 library leaves out what it promises to: no certificate, signature, ECDHE, CBC
# or DTLS-SRTP code, while the PSK API is there. Checked on the static archive's symbols.
#
#   bash tests/profile/symbols_psk_ccm8.sh path/to/libsdtls.a
set -euo pipefail
lib=$1
defined=$(nm --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm --undefined-only "$lib" 2>/dev/null | awk '{ print $NF }' | sort -u)
fail=0

absent() {
    for sym in "$@"; do
        if grep -qx "$sym" <<<"$defined"; then
            echo "FAIL  $sym is in the library"
            fail=1
        fi
    done
}
present() {
    for sym in "$@"; do
        if ! grep -qx "$sym" <<<"$defined"; then
            echo "FAIL  $sym is missing"
            fail=1
        fi
    done
}

# Certificates and signatures (src/conn/pki.c, src/handshake/dtls12/pki.c, ossl_pki.c).
absent sdtls_config_set_cert_pem sdtls_config_generate_cert sdtls_config_set_ca_file \
    sdtls_config_set_verify sdtls_conn_peer_fingerprint sdtls_keygen_files \
    sdtls__hs12_pki_x509 sdtls__sign sdtls__verify sdtls__x509_pubkey sdtls__trust_verify \
    sdtls__cert_generate
# ECDHE, CBC, DTLS-SRTP.
absent sdtls__kex_ecdhe sdtls__kex_new sdtls__cbc_aes128 sdtls__cbc_new \
    sdtls_config_set_srtp_profiles sdtls_conn_srtp_keys
# Nor does the rest of the library expect them from elsewhere.
for sym in sdtls__sign sdtls__kex_new sdtls__cbc_new sdtls__x509_pubkey; do
    if grep -qx "$sym" <<<"$undefined"; then
        echo "FAIL  the library still calls $sym"
        fail=1
    fi
done
# What the profile keeps.
present sdtls_config_set_psk sdtls_config_set_psk_callback sdtls_config_set_cid \
    sdtls_server_screen sdtls_conn_export sdtls_conn_heartbeat sdtls__build_profile
# libcrypto's X.509 and EC key generation are not pulled in either.
for sym in X509_STORE_new X509_verify_cert EVP_PKEY_keygen EVP_DigestSign; do
    if grep -qx "$sym" <<<"$undefined"; then
        echo "FAIL  the library still calls libcrypto's $sym"
        fail=1
    fi
done
[[ $fail -eq 0 ]] && echo "PASS  psk-ccm8 symbols: $(wc -l <<<"$defined") defined, none of the left-out code"
exit $fail
