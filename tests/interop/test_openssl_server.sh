#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: `sdtls client` against `openssl s_server -dtls1_2` (server).
# s_server does not echo: the lines the sdtls client sends must appear byte for byte on
# s_server's stdout, and the lines fed to s_server's stdin must appear byte for byte on the
# sdtls client's stdout.
# Usage: test_openssl_server.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

make_pki
P=$IT_PKI

# start_s_server CERT OCIPHER OGROUPS EXTRA...: s_server on a free port (sets PORT, SRV_PID),
# stdin fed from srv_in.txt and held open until the file srv_release exists.
start_s_server() {
    local cert=$1 ocipher=$2 ogroups=$3
    shift 3
    lines_file srv_in.txt from-openssl "${LINES_KIND:-}"
    PORT=$(pick_port) || fail "no free UDP port"
    bg_fed srv srv_in.txt srv_release openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" \
        -cert "$P/$cert.pem" -key "$P/$cert.key" -cipher "$ocipher" -groups "$ogroups" \
        -naccept 1 -quiet "$@"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "openssl s_server"
}

# run_client ARGS...: the sdtls client, fed cli_in.txt; waits until both directions carried
# all their bytes, ends stdin and expects exit status 0. Then checks the data both ways.
run_client() {
    lines_file cli_in.txt from-sdtls "${LINES_KIND:-}"
    bg_fed cli cli_in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" -v "$@"
    CLI_PID=$BG_PID
    wait_bytes srv.out cli_in.txt "sdtls client -> openssl s_server"
    wait_bytes cli.out srv_in.txt "openssl s_server -> sdtls client"
    : >cli_release
    expect_exit "$CLI_PID" 0 "sdtls client"
    : >srv_release
    same_bytes cli_in.txt srv.out "sdtls client -> openssl s_server"
    same_bytes srv_in.txt cli.out "openssl s_server -> sdtls client"
}

# RFC 8422 5.1: an ECDSA certificate's curve must be among the client's supported groups, so
# an x25519 run with a P-256 certificate offers x25519 first and secp256r1 second.
case_suite() { # cert suite expected-group sdtls-groups openssl-cipher openssl-groups
    start_s_server "$1" "$5" "$6"
    run_client --ca "$P/ca.pem" --servername localhost --ciphers "$2" --groups "$4"
    expect_handshake cli.err "$2" "$3" "$(fp "$P/$1.pem")"
}

case_cookie() {
    start_s_server ec ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256 -listen
    run_client --verify-fingerprint "$(fp "$P/ec.pem")"
    expect_grep cli.err 'recv HelloVerifyRequest' "sdtls client answered a HelloVerifyRequest"
    expect_handshake cli.err TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 "$(fp "$P/ec.pem")"
}

case_mutual() { # client-cert-base server-cert-base openssl-cipher suite
    start_s_server "$2" "$3" X25519:P-256 -Verify 1 -CAfile "$P/ca.pem" -verify_return_error
    run_client --ca "$P/ca.pem" --servername localhost --cert "$P/$1.pem" --key "$P/$1.key"
    expect_handshake cli.err "$4" x25519 "$(fp "$P/$2.pem")"
    expect_grep srv.err '^depth=0 CN = sdtls-client' "s_server verified the client certificate"
}

# MTU 500 both ways with RSA certificates on both sides: every flight is fragmented.
case_mtu() {
    LINES_KIND=short start_s_server rsa ECDHE-RSA-AES256-GCM-SHA384 X25519:P-256 -mtu 500 \
        -Verify 1 -CAfile "$P/ca.pem" -verify_return_error
    LINES_KIND=short run_client --ca "$P/ca.pem" --servername localhost --mtu 500 -vv \
        --cert "$P/client-rsa.pem" --key "$P/client-rsa.key"
    expect_handshake cli.err TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519 "$(fp "$P/rsa.pem")"
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
    start_s_server rsa ECDHE-RSA-CHACHA20-POLY1305 P-256
    run_client --verify-fingerprint "$(fp "$P/rsa.pem")"
    expect_handshake cli.err TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 \
        "$(fp "$P/rsa.pem")"
}

# Negative cases: the sdtls client must refuse the server, exit non-zero and say why.
neg_client() { # what ARGS...
    local what=$1
    shift
    start_s_server ec ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256
    lines_file cli_in.txt from-sdtls
    bg_fed cli cli_in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" "$@"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with $what"
    expect_no_handshake cli.err "sdtls client"
    expect_grep cli.err '^error: handshake failed: ' "sdtls client names the failure"
    [[ ! -s cli.out ]] || fail "the sdtls client printed application data"
    : >cli_release
}

case_wrong_pin() {
    neg_client "a wrong --verify-fingerprint" --verify-fingerprint "$(fp "$P/other.pem")"
}

case_wrong_name() {
    neg_client "--servername not in the certificate" --ca "$P/ca.pem" --servername wrong.example
}

case_wrong_ca() {
    # other.pem is a self-signed certificate, not the CA that issued the server's.
    neg_client "--ca of another CA" --ca "$P/other.pem" --servername localhost
}

run_case "openssl-server ECDSA AES128-GCM x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 x25519:secp256r1 \
    ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256
run_case "openssl-server ECDSA AES256-GCM P-256" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 secp256r1 \
    ECDHE-ECDSA-AES256-GCM-SHA384 P-256
run_case "openssl-server ECDSA CHACHA20 x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 x25519 x25519:secp256r1 \
    ECDHE-ECDSA-CHACHA20-POLY1305 X25519:P-256
run_case "openssl-server RSA AES128-GCM P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 secp256r1 \
    ECDHE-RSA-AES128-GCM-SHA256 P-256
run_case "openssl-server RSA AES256-GCM x25519" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519 x25519 \
    ECDHE-RSA-AES256-GCM-SHA384 X25519
run_case "openssl-server RSA CHACHA20 P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 secp256r1 \
    ECDHE-RSA-CHACHA20-POLY1305 P-256
run_case "openssl-server ECDSA P-384 cert, secp384r1" case_suite p384 \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp384r1 secp384r1 \
    ECDHE-ECDSA-AES256-GCM-SHA384 P-384
# No Ed25519 case here: OpenSSL 3.0's s_server cannot use an Ed25519 certificate in DTLS 1.2
# at all ("no shared cipher", also against its own s_client). test_openssl_client.sh covers
# an Ed25519 sdtls server with OpenSSL as the client.
run_case "openssl-server cookie (-listen, HelloVerifyRequest)" case_cookie
run_case "openssl-server mutual auth, ECDSA client cert" case_mutual client-ec ec \
    ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
run_case "openssl-server mutual auth, RSA client cert" case_mutual client-rsa rsa \
    ECDHE-RSA-AES128-GCM-SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
run_case "openssl-server MTU 500 (fragmented flights)" case_mtu
run_case "openssl-server pinned server fingerprint" case_pinned
run_case "openssl-server NEG wrong pinned server fingerprint" case_wrong_pin
run_case "openssl-server NEG CA-verified, wrong server name" case_wrong_name
run_case "openssl-server NEG CA-verified, wrong CA" case_wrong_ca
finish
