#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: `gnutls-cli --udp` (client) against `sdtls server` (server).
# The sdtls server echoes (--echo --once); gnutls-cli sends stdin lines and prints what comes
# back (its informational messages go to --logfile), so its stdout must equal its stdin.
# Usage: test_gnutls_client.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need gnutls-cli openssl timeout

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

# echo_session CERT SUITE GROUP PRIORITY [SERVER-ARGS... [-- CLIENT-ARGS...]]
echo_session() {
    local cert=$1 suite=$2 group=$3 priority=$4
    shift 4
    local sargs=() cargs=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        sargs+=("$1")
        shift
    done
    [[ ${1:-} == -- ]] && shift
    cargs=("$@")

    lines_file in.txt gnutls-client "${LINES_KIND:-}"
    start_sdtls_server srv --cert "$P/$cert.pem" --key "$P/$cert.key" --echo --once -vv \
        --ciphers "$suite" --groups "$group" "${sargs[@]}"
    bg_fed cli in.txt release gnutls-cli --udp -p "$PORT" 127.0.0.1 --priority "$priority" \
        --x509cafile "$P/ca.pem" --verify-hostname localhost --logfile cli.log "${cargs[@]}"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to gnutls-cli"
    : >release
    expect_exit "$CLI_PID" 0 "gnutls-cli"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
}

case_suite() { # cert suite group gnutls-cipher gnutls-kx gnutls-groups...
    local cert=$1 suite=$2 group=$3 cipher=$4 kx=$5
    shift 5
    echo_session "$cert" "$suite" "$group" "$(prio "$cipher" "$kx" "$@")"
    expect_handshake srv.err "$suite" "$group" none
}

case_cookie() {
    echo_session ec TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 \
        "$(prio AES-128-GCM ECDHE-ECDSA X25519 SECP256R1)"
    expect_grep srv.err '^driver: .* hvr_sent=1 ' "sdtls server sent one HelloVerifyRequest"
}

case_mutual() { # client-cert-base server-verify-args...
    local ccert=$1
    shift
    echo_session ec TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 \
        "$(prio CHACHA20-POLY1305 ECDHE-ECDSA SECP256R1)" "$@" -- \
        --x509certfile "$P/$ccert.pem" --x509keyfile "$P/$ccert.key"
    expect_handshake srv.err TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 \
        "$(fp "$P/$ccert.pem")"
}

case_mtu() {
    LINES_KIND=short echo_session rsa TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 secp256r1 \
        "$(prio AES-256-GCM ECDHE-RSA SECP256R1)" --mtu 500 --require-client-cert -- \
        --mtu 500 --x509certfile "$P/client-rsa.pem" --x509keyfile "$P/client-rsa.key"
    expect_handshake srv.err TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 secp256r1 \
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

case_exporter() {
    echo_session ec TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 secp256r1 \
        "$(prio AES-128-GCM ECDHE-ECDSA SECP256R1)" \
        --export-keying-material EXTRACTOR-dtls_srtp:60 -- \
        --keymatexport EXTRACTOR-dtls_srtp --keymatexportsize 60
    local ours theirs
    ours=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' srv.err)
    theirs=$(sed -n 's/^- Key material: \([0-9a-fA-F]*\)$/\1/p' cli.log | tr 'A-F' 'a-f')
    [[ ${#ours} -eq 120 ]] || fail "sdtls printed no 60-byte exporter line"
    [[ $ours == "$theirs" ]] || fail "exporter mismatch: sdtls $ours, gnutls '$theirs'"
}

case_wrong_pin() {
    lines_file in.txt gnutls-client
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --echo --once \
        --verify-fingerprint "$(fp "$P/other.pem")"
    bg_fed cli in.txt release gnutls-cli --udp -p "$PORT" 127.0.0.1 \
        --x509cafile "$P/ca.pem" --verify-hostname localhost --logfile cli.log \
        --x509certfile "$P/client-ec.pem" --x509keyfile "$P/client-ec.key"
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server with a wrong --verify-fingerprint"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err '^error: .*handshake failed: .*' "sdtls server names the failure"
    : >release
    expect_fail_exit "$CLI_PID" "gnutls-cli (its certificate was refused)"
}

run_case "gnutls-client ECDSA AES128-GCM x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 AES-128-GCM ECDHE-ECDSA X25519 SECP256R1
run_case "gnutls-client ECDSA AES256-GCM P-256" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1 AES-256-GCM ECDHE-ECDSA SECP256R1
run_case "gnutls-client ECDSA CHACHA20 x25519" case_suite ec \
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 x25519 CHACHA20-POLY1305 ECDHE-ECDSA \
    X25519 SECP256R1
run_case "gnutls-client RSA AES128-GCM P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1 AES-128-GCM ECDHE-RSA SECP256R1
run_case "gnutls-client RSA AES256-GCM x25519" case_suite rsa \
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519 AES-256-GCM ECDHE-RSA X25519
run_case "gnutls-client RSA CHACHA20 P-256" case_suite rsa \
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 secp256r1 CHACHA20-POLY1305 ECDHE-RSA SECP256R1
run_case "gnutls-client ECDSA P-384 cert, secp384r1" case_suite p384 \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp384r1 AES-256-GCM ECDHE-ECDSA SECP384R1
run_case "gnutls-client Ed25519 cert" case_suite ed25519 \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 AES-128-GCM ECDHE-ECDSA X25519
run_case "gnutls-client cookie (HelloVerifyRequest)" case_cookie
run_case "gnutls-client mutual auth, any cert (ECDSA)" case_mutual client-ec --require-client-cert
run_case "gnutls-client mutual auth, CA-verified (RSA)" case_mutual client-rsa --ca "$P/ca.pem"
run_case "gnutls-client mutual auth, pinned fingerprint" case_mutual client-ec \
    --verify-fingerprint "$(fp "$P/client-ec.pem")"
run_case "gnutls-client MTU 500 (fragmented flights)" case_mtu
run_case "gnutls-client exporter EXTRACTOR-dtls_srtp:60" case_exporter
run_case "gnutls-client NEG wrong pinned client fingerprint" case_wrong_pin
finish
