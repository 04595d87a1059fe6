#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: `sdtls client` against `gnutls-serv --udp --echo` (server).
# The sdtls client sends lines; gnutls-serv echoes each record; the client's stdout must equal
# its stdin byte for byte. gnutls-serv has no bind-address option (it listens on all
# addresses); the client always connects to 127.0.0.1.
# Usage: test_gnutls_server.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need gnutls-serv openssl timeout

make_pki
P=$IT_PKI

# prio CIPHER KX GROUPS...: a GnuTLS priority string for exactly DTLS 1.2, one AEAD cipher,
# one ECDHE key exchange and the given groups (in preference order).
prio() {
    local s="NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+$1:-MAC-ALL:+AEAD:-KX-ALL:+$2:-GROUP-ALL" g
    shift 2
    for g in "$@"; do
        s+=":+GROUP-$g"
    done
    echo "$s"
}

# start_gnutls_serv CERT PRIORITY EXTRA...: sets PORT and SRV_PID.
start_gnutls_serv() {
    local cert=$1 priority=$2
    shift 2
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv gnutls-serv --udp --echo -p "$PORT" --x509certfile "$P/$cert.pem" \
        --x509keyfile "$P/$cert.key" --priority "$priority" "$@"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "gnutls-serv"
}

# run_client ARGS...: the sdtls client sends in.txt, waits for the echo, ends stdin and must
# exit 0 with the echo equal to what it sent.
run_client() {
    lines_file in.txt from-sdtls "${LINES_KIND:-}"
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -v "$@"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo from gnutls-serv"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    same_bytes in.txt cli.out "echo"
}

case_suite() { # cert suite group sdtls-groups gnutls-cipher gnutls-kx gnutls-groups...
    local cert=$1 suite=$2 group=$3 groups=$4 cipher=$5 kx=$6
    shift 6
    start_gnutls_serv "$cert" "$(prio "$cipher" "$kx" "$@")"
    run_client --ca "$P/ca.pem" --servername localhost --ciphers "$suite" --groups "$groups"
    expect_handshake cli.err "$suite" "$group" "$(fp "$P/$cert.pem")"
}

case_cookie() {
    start_gnutls_serv ec "$(prio AES-128-GCM ECDHE-ECDSA X25519 SECP256R1)"
    run_client --verify-fingerprint "$(fp "$P/ec.pem")"
    expect_grep cli.err 'recv HelloVerifyRequest' "sdtls client answered a HelloVerifyRequest"
    expect_handshake cli.err TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 "$(fp "$P/ec.pem")"
}

case_mutual() { # client-cert-base
    start_gnutls_serv ec "$(prio AES-256-GCM ECDHE-ECDSA SECP256R1)" --require-client-cert \
        --verify-client-cert --x509cafile "$P/ca.pem"
    run_client --ca "$P/ca.pem" --servername localhost --cert "$P/$1.pem" --key "$P/$1.key"
    expect_handshake cli.err TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 "$(fp "$P/ec.pem")"
    # gnutls-serv prints nothing about the peer in UDP mode; the client's trace shows that a
    # certificate was asked for and proven (case_client_not_trusted shows gnutls-serv checks it).
    expect_grep cli.err 'recv CertificateRequest' "gnutls-serv asked for a client certificate"
    expect_grep cli.err 'send flight: Certificate, ClientKeyExchange, CertificateVerify' \
        "sdtls client sent its certificate and CertificateVerify"
}

# Negative: gnutls-serv --verify-client-cert refuses a client certificate not issued by its CA;
# the sdtls client must exit non-zero and report the peer's alert.
case_client_not_trusted() {
    start_gnutls_serv ec "$(prio AES-256-GCM ECDHE-ECDSA SECP256R1)" --require-client-cert \
        --verify-client-cert --x509cafile "$P/ca.pem"
    lines_file in.txt from-sdtls
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" --ca "$P/ca.pem" \
        --servername localhost --cert "$P/other.pem" --key "$P/other.key"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with an untrusted client certificate"
    expect_grep cli.err '^(error|alert): .*(peer sent|fatal)' "sdtls client reports the peer's alert"
    [[ ! -s cli.out ]] || fail "the sdtls client printed application data"
}

case_mtu() {
    start_gnutls_serv rsa "$(prio CHACHA20-POLY1305 ECDHE-RSA X25519)" --mtu 500 \
        --require-client-cert --verify-client-cert --x509cafile "$P/ca.pem"
    LINES_KIND=short run_client --ca "$P/ca.pem" --servername localhost --mtu 500 -vv \
        --cert "$P/client-rsa.pem" --key "$P/client-rsa.key"
    expect_handshake cli.err TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 x25519 \
        "$(fp "$P/rsa.pem")"
    local max big
    max=$(sed -n 's/.*send datagram \([0-9]*\) bytes.*/\1/p' cli.err | sort -n | tail -n1)
    [[ -n $max ]] || fail "no 'send datagram' lines in the -vv log"
    ((max <= 500)) || fail "sdtls sent a ${max}-byte datagram with --mtu 500"
    big=$(sed -n 's/.*queue Certificate seq=[0-9]* len=\([0-9]*\).*/\1/p' cli.err | head -n1)
    ((${big:-0} > 500)) || fail "client Certificate (${big:-?} bytes) did not need fragmenting"
    big=$(sed -n 's/.*recv Certificate (\([0-9]*\) bytes).*/\1/p' cli.err | head -n1)
    ((${big:-0} > 500)) || fail "server Certificate (${big:-?} bytes) did not need fragmenting"
}

case_pinned() {
    start_gnutls_serv rsa "$(prio AES-128-GCM ECDHE-RSA SECP256R1)"
    run_client --verify-fingerprint "$(fp "$P/rsa.pem")"
    expect_handshake cli.err TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 "$(fp "$P/rsa.pem")"
}

case_wrong_pin() {
    start_gnutls_serv ec "$(prio AES-128-GCM ECDHE-ECDSA X25519 SECP256R1)"
    lines_file in.txt from-sdtls
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" \
        --verify-fingerprint "$(fp "$P/other.pem")"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with a wrong --verify-fingerprint"
    expect_no_handshake cli.err "sdtls client"
    expect_grep cli.err '^error: handshake failed: ' "sdtls client names the failure"
    [[ ! -s cli.out ]] || fail "the sdtls client printed application data"
}

run_case "gnutls-server ECDSA AES128-GCM x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 x25519:secp256r1 \
    AES-128-GCM ECDHE-ECDSA X25519 SECP256R1
run_case "gnutls-server ECDSA AES256-GCM P-256" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 secp256r1 \
    AES-256-GCM ECDHE-ECDSA SECP256R1
run_case "gnutls-server ECDSA CHACHA20 x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 x25519 x25519:secp256r1 \
    CHACHA20-POLY1305 ECDHE-ECDSA X25519 SECP256R1
run_case "gnutls-server RSA AES128-GCM P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 secp256r1 AES-128-GCM ECDHE-RSA SECP256R1
run_case "gnutls-server RSA AES256-GCM x25519" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519 x25519 AES-256-GCM ECDHE-RSA X25519
run_case "gnutls-server RSA CHACHA20 P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 secp256r1 \
    CHACHA20-POLY1305 ECDHE-RSA SECP256R1
run_case "gnutls-server ECDSA P-384 cert, secp384r1" case_suite p384 \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp384r1 secp384r1 AES-256-GCM ECDHE-ECDSA SECP384R1
run_case "gnutls-server Ed25519 cert" case_suite ed25519 \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 x25519 AES-128-GCM ECDHE-ECDSA X25519
run_case "gnutls-server cookie (HelloVerifyRequest)" case_cookie
run_case "gnutls-server mutual auth, ECDSA client cert" case_mutual client-ec
run_case "gnutls-server mutual auth, RSA client cert" case_mutual client-rsa
run_case "gnutls-server MTU 500 (fragmented flights)" case_mtu
# No exporter case here: gnutls-serv prints no keying material in UDP mode;
# test_gnutls_client.sh compares the exporter with gnutls-cli --keymatexport.
run_case "gnutls-server pinned server fingerprint" case_pinned
run_case "gnutls-server NEG wrong pinned server fingerprint" case_wrong_pin
run_case "gnutls-server NEG client cert not from the server's CA" case_client_not_trusted
finish
