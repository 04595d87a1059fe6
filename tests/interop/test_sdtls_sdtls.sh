#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: `sdtls client` against `sdtls server --echo --once` over loopback UDP, plus the
# keygen and fingerprint subcommands. The client's stdout must equal its stdin byte for byte.
# Usage: test_sdtls_sdtls.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

make_pki
P=$IT_PKI

# session SERVER-ARGS... -- CLIENT-ARGS...: echo session; both sides must exit 0.
# The server gets --echo --once -v; the client -v. The client may use the word SERVER_FP in
# its arguments: it is replaced by the fingerprint the server printed on its stderr.
session() {
    local sargs=() cargs=() a sfp
    while [[ $# -gt 0 && $1 != -- ]]; do
        sargs+=("$1")
        shift
    done
    [[ ${1:-} == -- ]] && shift
    lines_file in.txt sdtls "${LINES_KIND:-}"
    start_sdtls_server srv --echo --once -v "${sargs[@]}"
    sfp=$(sed -n 's/^fingerprint: //p' srv.err | head -n1)
    [[ -n $sfp ]] || fail "the sdtls server printed no 'fingerprint:' line"
    for a in "$@"; do
        cargs+=("${a//SERVER_FP/$sfp}")
    done
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -v "${cargs[@]}"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to the sdtls client"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
    SERVER_FP=$sfp
    expect_grep cli.err '^closed: close_notify exchanged' "client saw the server's close_notify"
}

case_suite() { # key-type suite group
    # RFC 8422 5.1: the client's groups must also name the curve of an ECDSA certificate (the
    # generated ec key is P-256); the server's single group decides the exchange.
    local cgroups=$3
    [[ $1 == ec && $3 != secp256r1 ]] && cgroups="$3:secp256r1"
    session --generate-cert "$1" --ciphers "$2" --groups "$3" -- \
        --verify-fingerprint SERVER_FP --ciphers "$2" --groups "$cgroups"
    expect_handshake cli.err "$2" "$3" "$SERVER_FP"
    expect_handshake srv.err "$2" "$3" none
    expect_grep cli.err 'handshake: .* rtx=0 ' "no retransmission on loopback"
}

case_cert() { # cert-base suite group
    session --cert "$P/$1.pem" --key "$P/$1.key" -- --ca "$P/ca.pem" --servername localhost \
        --groups "$3"
    expect_handshake cli.err "$2" "$3" "$(fp "$P/$1.pem")"
}

case_cookie() {
    session --generate-cert ec -- --verify-fingerprint SERVER_FP
    expect_grep cli.err 'recv HelloVerifyRequest' "client answered a HelloVerifyRequest"
    expect_grep srv.err '^driver: .* hvr_sent=1 ' "server sent one HelloVerifyRequest"
}

case_no_cookie() {
    session --generate-cert ec --no-cookie -- --verify-fingerprint SERVER_FP
    ! has_line cli.err 'HelloVerifyRequest' || fail "a HelloVerifyRequest was sent with --no-cookie"
    expect_grep srv.err '^driver: .* hvr_sent=0 ' "server sent no HelloVerifyRequest"
}

case_mutual_any() {
    session --generate-cert ec --require-client-cert -- --verify-fingerprint SERVER_FP \
        --generate-cert
    local cfp
    cfp=$(sed -n 's/^fingerprint: //p' cli.err | head -n1)
    [[ -n $cfp ]] || fail "the client printed no 'fingerprint:' line for --generate-cert"
    expect_handshake srv.err TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 "$cfp"
}

case_mutual_pinned() {
    "$SDTLS" keygen --type ec --cert ccert.pem --key ckey.pem >keygen.out 2>keygen.err ||
        fail "sdtls keygen failed"
    session --generate-cert rsa --verify-fingerprint "$(cat keygen.out)" -- \
        --verify-fingerprint SERVER_FP --cert ccert.pem --key ckey.pem
    expect_handshake srv.err TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 x25519 "$(cat keygen.out)"
}

case_mutual_ca() {
    session --cert "$P/rsa.pem" --key "$P/rsa.key" --ca "$P/ca.pem" -- --ca "$P/ca.pem" \
        --servername localhost --cert "$P/client-ec.pem" --key "$P/client-ec.key"
    expect_handshake srv.err TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 x25519 \
        "$(fp "$P/client-ec.pem")"
    expect_handshake cli.err TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 x25519 "$(fp "$P/rsa.pem")"
}

case_mtu() {
    LINES_KIND=short session --cert "$P/rsa.pem" --key "$P/rsa.key" --mtu 500 -vv \
        --require-client-cert -- --ca "$P/ca.pem" --servername localhost --mtu 500 -vv \
        --cert "$P/client-rsa.pem" --key "$P/client-rsa.key"
    local f max
    for f in srv.err cli.err; do
        max=$(sed -n 's/.*send datagram \([0-9]*\) bytes.*/\1/p' "$f" | sort -n | tail -n1)
        [[ -n $max ]] || fail "no 'send datagram' lines in $f"
        ((max <= 500)) || fail "$f: a ${max}-byte datagram was sent with --mtu 500"
    done
    expect_grep srv.err 'recv Certificate \(([5-9][0-9][0-9]|[0-9]{4,}) bytes\)' \
        "server reassembled a client Certificate larger than the MTU"
    expect_grep cli.err 'recv Certificate \(([5-9][0-9][0-9]|[0-9]{4,}) bytes\)' \
        "client reassembled a server Certificate larger than the MTU"
}

case_exporter_keylog() {
    session --generate-cert ec --export-keying-material EXTRACTOR-dtls_srtp:60 \
        --keylog srv.keylog -- --verify-fingerprint SERVER_FP \
        --export-keying-material EXTRACTOR-dtls_srtp:60 --keylog cli.keylog
    local a b
    a=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' srv.err)
    b=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' cli.err)
    [[ ${#a} -eq 120 ]] || fail "server printed no 60-byte exporter line"
    [[ $a == "$b" ]] || fail "exporter mismatch: server $a, client $b"
    expect_grep cli.keylog '^CLIENT_RANDOM [0-9a-fA-F]{64} [0-9a-fA-F]{96}$' "client key log line"
    cmp -s srv.keylog cli.keylog || fail "client and server key logs differ"
}

case_keygen() {
    local t out
    for t in ec rsa ed25519; do
        "$SDTLS" keygen --type "$t" --cert "$t.pem" --key "$t.key" >"$t.fp" 2>"$t.err" ||
            fail "sdtls keygen --type $t failed: $(cat "$t.err")"
        out=$("$SDTLS" fingerprint "$t.pem") || fail "sdtls fingerprint $t.pem failed"
        [[ $out == "$(cat "$t.fp")" ]] || fail "$t: keygen printed $(cat "$t.fp"), fingerprint $out"
        # The same hash as OpenSSL computes ("sha256 Fingerprint=AB:..." there).
        [[ "sha-256 $(openssl x509 -in "$t.pem" -noout -fingerprint -sha256 | cut -d= -f2)" == "$out" ]] ||
            fail "$t: fingerprint differs from openssl x509 -fingerprint -sha256"
        openssl pkey -in "$t.key" -noout 2>/dev/null || fail "$t.key is not a key OpenSSL reads"
    done
    ! "$SDTLS" fingerprint /nonexistent.pem >fp.out 2>fp.err || fail "fingerprint of a missing file succeeded"
    expect_grep fp.err '^error: ' "fingerprint of a missing file prints an error"
}

case_wrong_pin_client() {
    lines_file in.txt sdtls
    start_sdtls_server srv --generate-cert ec --echo --once
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" \
        --verify-fingerprint "$(fp "$P/other.pem")"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with a wrong --verify-fingerprint"
    expect_no_handshake cli.err "sdtls client"
    expect_grep cli.err '^error: handshake failed: .*bad_certificate' "client names the failure"
    expect_fail_exit "$SERVER_PID" "sdtls server --once after the client refused it"
    expect_grep srv.err 'bad_certificate' "server reports the client's alert"
}

case_wrong_pin_server() {
    lines_file in.txt sdtls
    start_sdtls_server srv --generate-cert ec --echo --once --verify-fingerprint "$(fp "$P/other.pem")"
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" --insecure \
        --cert "$P/client-ec.pem" --key "$P/client-ec.key"
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server with a wrong --verify-fingerprint"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err '^error: .*handshake failed: .*bad_certificate' "server names the failure"
    expect_fail_exit "$CLI_PID" "sdtls client refused by the server"
    expect_grep cli.err '^error: handshake failed: .*bad_certificate' "client reports the alert"
}

run_case "sdtls ECDSA AES128-GCM x25519" case_suite ec TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519
run_case "sdtls ECDSA AES256-GCM P-256" case_suite ec TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 secp256r1
run_case "sdtls ECDSA CHACHA20 P-384" case_suite ec TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 secp384r1
run_case "sdtls RSA AES128-GCM P-256" case_suite rsa TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 secp256r1
run_case "sdtls RSA AES256-GCM x25519" case_suite rsa TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 x25519
run_case "sdtls RSA CHACHA20 x25519" case_suite rsa TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 x25519
run_case "sdtls P-384 cert (CA-verified)" case_cert p384 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 secp384r1
run_case "sdtls Ed25519 cert (CA-verified)" case_cert ed25519 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519
run_case "sdtls cookie (HelloVerifyRequest)" case_cookie
run_case "sdtls --no-cookie" case_no_cookie
run_case "sdtls mutual auth, generated client cert" case_mutual_any
run_case "sdtls mutual auth, pinned client (keygen)" case_mutual_pinned
run_case "sdtls mutual auth, CA-verified both ways" case_mutual_ca
run_case "sdtls MTU 500 both sides (fragmented flights)" case_mtu
run_case "sdtls exporter and key log agree" case_exporter_keylog
run_case "sdtls keygen / fingerprint subcommands" case_keygen
run_case "sdtls NEG client pins a wrong server fingerprint" case_wrong_pin_client
run_case "sdtls NEG server pins a wrong client fingerprint" case_wrong_pin_server
finish
