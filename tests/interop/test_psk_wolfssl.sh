#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, ECDHE-PSK (RFC 5489, RFC 8442) against wolfSSL 5.7's example client and server
# (built by scripts/build-peers.sh), both directions. wolfSSL is the peer here that has
# TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, which OpenSSL and GnuTLS lack (test_psk_openssl.sh
# and test_psk_gnutls.sh cover the other PSK suites); its static-PSK suites are compiled out by
# default (WOLFSSL_STATIC_PSK), so only ECDHE-PSK is run.
#
#   a) wolfSSL client -s (PSK: identity "Client_identity", key 1a2b3c4d, fixed in wolfSSL's
#      test.h) -> sdtls server --echo: wolfSSL prints its message back.
#   b) sdtls client -> wolfSSL server -s: it prints our line and answers with its fixed reply.
# The wolfSSL client runs with -R (see test_rpk_wolfssl.sh: without renegotiation_info in the
# ClientHello the sdtls server answers with an unsolicited one, a library bug).
# Usage: test_psk_wolfssl.sh PATH/TO/sdtls. Peers from $SDTLS_PEERS_CACHE (default
# /var/cache/sdtls-peers)/wolfssl.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need timeout

WOLFSSL=${SDTLS_PEERS_CACHE:-/var/cache/sdtls-peers}/wolfssl
for b in client server root/certs/dh2048.pem; do
    if [[ ! -e $WOLFSSL/$b ]]; then
        echo "$IT_NAME: $WOLFSSL/$b is missing; build it with scripts/build-peers.sh" >&2
        exit 1
    fi
done
ID=Client_identity
KEY=1a2b3c4d

expect_psk_handshake() { # FILE SUITE GROUP
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line =~ ^handshake:\ DTLSv1\.2\ $2\ group=${3:-none}\ peer=none\ rtx=[0-9]+\ ms=[0-9]+$ ]] ||
        fail "expected suite $2 group '$3' and no peer certificate, got: '$line'"
    return 0
}

case_wcli() { # wolfssl-cipher suite
    ln -sfn "$WOLFSSL/root/certs" certs
    start_sdtls_server srv --psk-identity "$ID" --psk "$KEY" --ciphers "$2" --echo --once -v
    bg cli "$WOLFSSL/client" -u -v 3 -h 127.0.0.1 -p "$PORT" -s -R -l "$1"
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "wolfSSL client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_grep cli.out "^SSL cipher suite is $2\$" "wolfSSL names the suite"
    expect_grep cli.out '^hello wolfssl!$' "wolfSSL got its message back"
    expect_psk_handshake srv.err "$2" x25519
}

case_wsrv() { # wolfssl-cipher suite
    ln -sfn "$WOLFSSL/root/certs" certs
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$WOLFSSL/server" -u -v 3 -p "$PORT" -s -l "$1"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "wolfSSL server"
    printf 'hello from sdtls\n' >line.txt # the example server reads at most 31 bytes
    bg_fed cli line.txt release "$SDTLS" client "127.0.0.1:$PORT" -v --psk-identity "$ID" \
        --psk "$KEY" --ciphers "$2"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" reply_or_dead cli.out "$CLI_PID" || fail "no reply from the wolfSSL server"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_exit "$SRV_PID" 0 "wolfSSL server"
    expect_grep cli.out 'I hear you fa shizzle!' "the wolfSSL server's reply arrived"
    expect_grep srv.out "^Client message: $(cat line.txt)\$" "the wolfSSL server got our line"
    expect_grep srv.out "^SSL cipher suite is $2\$" "wolfSSL names the suite"
    expect_psk_handshake cli.err "$2" x25519
}
reply_or_dead() {
    has_line "$1" 'I hear you' || proc_done "$2"
}

run_case "psk wolfssl-client -> sdtls ECDHE_PSK AES128-GCM" case_wcli \
    ECDHE-PSK-AES128-GCM-SHA256 TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
run_case "psk sdtls-client -> wolfssl ECDHE_PSK AES128-GCM" case_wsrv \
    ECDHE-PSK-AES128-GCM-SHA256 TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
run_case "psk wolfssl-client -> sdtls ECDHE_PSK CHACHA20" case_wcli \
    ECDHE-PSK-CHACHA20-POLY1305 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
run_case "psk sdtls-client -> wolfssl ECDHE_PSK CHACHA20" case_wsrv \
    ECDHE-PSK-CHACHA20-POLY1305 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
finish
