#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: `openssl s_client -dtls1_2` (client) against `sdtls server` (server).
# The sdtls server echoes (--echo --once); s_client sends lines from stdin and prints what
# comes back; the echoed bytes must equal the sent bytes exactly.
# Usage: test_openssl_client.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

make_pki
P=$IT_PKI

# One echo session. Arguments:
#   $1 server cert base name (ec, rsa, p384, ed25519)   $2 IANA suite   $3 sdtls group name
#   $4 openssl -cipher name   $5 openssl -groups name
#   then "--" and extra sdtls server arguments, then "--" and extra s_client arguments.
echo_session() {
    local cert=$1 suite=$2 group=$3 ocipher=$4 ogroup=$5
    shift 5
    local sargs=() cargs=()
    [[ ${1:-} == -- ]] && shift
    while [[ $# -gt 0 && $1 != -- ]]; do
        sargs+=("$1")
        shift
    done
    [[ ${1:-} == -- ]] && shift
    cargs=("$@")

    lines_file in.txt openssl-client "${LINES_KIND:-}"
    start_sdtls_server srv --cert "$P/$cert.pem" --key "$P/$cert.key" --echo --once -vv \
        --ciphers "$suite" --groups "$group" "${sargs[@]}"
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -cipher "$ocipher" -groups "$ogroup" -CAfile "$P/ca.pem" -verify_return_error \
        -verify_hostname localhost -quiet -no_ign_eof "${cargs[@]}"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to openssl s_client"
    : >release
    expect_exit "$CLI_PID" 0 "openssl s_client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
}

case_suite() { # cert suite group openssl-cipher openssl-group
    echo_session "$1" "$2" "$3" "$4" "$5"
    expect_handshake srv.err "$2" "$3" none
}

case_cookie() {
    echo_session ec TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 \
        ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256
    expect_grep srv.err '^driver: .* hvr_sent=1 ' "sdtls server sent one HelloVerifyRequest"
}

case_no_cookie() {
    echo_session ec TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 \
        ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256 -- --no-cookie
    expect_grep srv.err '^driver: .* hvr_sent=0 ' "sdtls server --no-cookie sent no HelloVerifyRequest"
    expect_handshake srv.err TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 none
}

case_mutual() { # client-cert-base server-verify-args...
    local ccert=$1
    shift
    echo_session ec TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 \
        ECDHE-ECDSA-AES256-GCM-SHA384 P-256 -- "$@" -- \
        -cert "$P/$ccert.pem" -key "$P/$ccert.key"
    expect_handshake srv.err TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 \
        "$(fp "$P/$ccert.pem")"
}

# MTU 500 on both sides, RSA certificates on both sides: the server's Certificate (about 650
# bytes) and the client's Certificate + CertificateVerify must be fragmented.
case_mtu() {
    LINES_KIND=short echo_session rsa TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 x25519 \
        ECDHE-RSA-AES128-GCM-SHA256 X25519:P-256 -- --mtu 500 --require-client-cert -- \
        -mtu 500 -cert "$P/client-rsa.pem" -key "$P/client-rsa.key"
    expect_handshake srv.err TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 x25519 \
        "$(fp "$P/client-rsa.pem")"
    local max big
    max=$(sed -n 's/.*send datagram \([0-9]*\) bytes.*/\1/p' srv.err | sort -n | tail -n1)
    [[ -n $max ]] || fail "no 'send datagram' lines in the -vv log"
    ((max <= 500)) || fail "sdtls sent a ${max}-byte datagram with --mtu 500"
    big=$(sed -n 's/.*queue Certificate seq=[0-9]* len=\([0-9]*\).*/\1/p' srv.err | head -n1)
    ((${big:-0} > 500)) || fail "server Certificate (${big:-?} bytes) did not need fragmenting"
    big=$(sed -n 's/.*recv Certificate (\([0-9]*\) bytes).*/\1/p' srv.err | head -n1)
    ((${big:-0} > 500)) || fail "client Certificate (${big:-?} bytes) did not need fragmenting"
}

# RFC 5705 exporter: both sides must derive the same EXTRACTOR-dtls_srtp keying material.
case_exporter() {
    lines_file in.txt openssl-client
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --echo --once \
        --export-keying-material EXTRACTOR-dtls_srtp:60
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -CAfile "$P/ca.pem" -verify_return_error -keymatexport EXTRACTOR-dtls_srtp \
        -keymatexportlen 60 -no_ign_eof
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line cli.out 'Keying material: ' || fail "no keying material from s_client"
    : >release
    expect_exit "$CLI_PID" 0 "openssl s_client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    local ours theirs
    ours=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' srv.err)
    theirs=$(sed -n 's/^ *Keying material: \([0-9A-F]*\)$/\1/p' cli.out | tr 'A-F' 'a-f')
    [[ ${#ours} -eq 120 ]] || fail "sdtls printed no 60-byte exporter line"
    [[ $ours == "$theirs" ]] || fail "exporter mismatch: sdtls $ours, openssl $theirs"
}

# Negative: the sdtls server pins a fingerprint the client certificate does not have.
case_wrong_pin() {
    lines_file in.txt openssl-client
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --echo --once \
        --verify-fingerprint "$(fp "$P/other.pem")"
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -CAfile "$P/ca.pem" -cert "$P/client-ec.pem" -key "$P/client-ec.key" -quiet -no_ign_eof
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server with a wrong --verify-fingerprint"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err '^error: .*handshake failed: .*' "sdtls server names the failure"
    : >release
    expect_fail_exit "$CLI_PID" "openssl s_client (its certificate was refused)"
}

run_case "openssl-client ECDSA AES128-GCM x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256
run_case "openssl-client ECDSA AES256-GCM P-256" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 ECDHE-ECDSA-AES256-GCM-SHA384 P-256
run_case "openssl-client ECDSA CHACHA20 x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 x25519 ECDHE-ECDSA-CHACHA20-POLY1305 X25519:P-256
run_case "openssl-client RSA AES128-GCM P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 ECDHE-RSA-AES128-GCM-SHA256 P-256
run_case "openssl-client RSA AES256-GCM x25519" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519 ECDHE-RSA-AES256-GCM-SHA384 X25519:P-256
run_case "openssl-client RSA CHACHA20 P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 ECDHE-RSA-CHACHA20-POLY1305 P-256
run_case "openssl-client ECDSA P-384 cert, secp384r1" case_suite p384 \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp384r1 ECDHE-ECDSA-AES256-GCM-SHA384 P-384
run_case "openssl-client Ed25519 cert" case_suite ed25519 \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 ECDHE-ECDSA-AES128-GCM-SHA256 X25519:P-256
run_case "openssl-client cookie (HelloVerifyRequest)" case_cookie
run_case "openssl-client --no-cookie" case_no_cookie
run_case "openssl-client mutual auth, any cert (ECDSA)" case_mutual client-ec --require-client-cert
run_case "openssl-client mutual auth, CA-verified (RSA)" case_mutual client-rsa --ca "$P/ca.pem"
run_case "openssl-client mutual auth, pinned fingerprint" case_mutual client-ec \
    --verify-fingerprint "$(fp "$P/client-ec.pem")"
run_case "openssl-client MTU 500 (fragmented flights)" case_mtu
run_case "openssl-client exporter EXTRACTOR-dtls_srtp:60" case_exporter
run_case "openssl-client NEG wrong pinned client fingerprint" case_wrong_pin
finish
