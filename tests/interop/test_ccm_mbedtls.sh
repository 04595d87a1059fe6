#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, AES-CCM suites for constrained devices (RFC 6655, RFC 7251; CoAP's RFC 7252 9.1.3)
# against Mbed TLS 3.6's ssl_client2/ssl_server2 (built by scripts/build-peers.sh), both
# directions:
#
#   TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (CoAP's certificate suite), with x25519 and secp256r1,
#   with and without client certificates; TLS_ECDHE_ECDSA_WITH_AES_128_CCM (16-byte tag);
#   TLS_PSK_WITH_AES_128_CCM_8 (CoAP's PSK suite).
#
#   a) ssl_client2 -> sdtls server --echo --once: two 51-byte requests, each answered by its
#      echo; the sdtls handshake line names the suite, the group and the client certificate.
#   b) sdtls client -> ssl_server2: ssl_server2 reads our line whole and answers with its page,
#      which names the suite.
# Usage: test_ccm_mbedtls.sh PATH/TO/sdtls. Peers from $SDTLS_PEERS_CACHE (default
# /var/cache/sdtls-peers)/mbedtls-3.6.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

MBEDTLS=${SDTLS_PEERS_CACHE:-/var/cache/sdtls-peers}/mbedtls-3.6
for b in ssl_client2 ssl_server2; do
    if [[ ! -x $MBEDTLS/$b ]]; then
        echo "$IT_NAME: $MBEDTLS/$b is missing; build it with scripts/build-peers.sh" >&2
        exit 1
    fi
done

make_pki
P=$IT_PKI
ID=sensor-17
KEY=00112233445566778899aabbccddeeff

# mbedtls_name IANA-NAME: Mbed TLS spells suites with dashes.
mbedtls_name() {
    tr '_' '-' <<<"$1"
}

expect_exchanges() { # FILE N: ssl_client2 read N answers as long as its requests
    local w r
    w=$(grep -c '^  > Write to server: 51 bytes written' "$1")
    r=$(grep -c '^  < Read from server: 51 bytes read' "$1")
    ((w == $2 && r == w)) || fail "ssl_client2 wrote $w 51-byte requests and read $r echoes, expected $2"
    return 0
}

answered_or_dead() { # FILE PID: ssl_server2's page arrived, or the sdtls client ended
    has_line "$1" 'Successful connection using: ' || proc_done "$2"
}

expect_psk_handshake() { # FILE SUITE
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line =~ ^handshake:\ DTLSv1\.2\ $2\ group=none\ peer=none\ rtx=[0-9]+\ ms=[0-9]+$ ]] ||
        fail "expected suite $2 without group or peer certificate, got: '$line'"
    return 0
}

# RFC 8422 5.1: the curve of an ECDSA certificate must be among the client's groups, so a
# client preferring x25519 lists secp256r1 too (our certificates are P-256).
groups_for() {
    if [[ $1 == x25519 ]]; then echo x25519,secp256r1; else echo "$1"; fi
}

# a) ssl_client2 -> sdtls server.
case_mcli() { # suite group client-cert|none
    local suite=$1 group=$2 peer=none sargs=() cargs=()
    if [[ $3 != none ]]; then
        sargs=(--ca "$P/ca.pem")
        cargs=(crt_file="$P/$3.pem" key_file="$P/$3.key")
        peer=$(fp "$P/$3.pem")
    fi
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --ciphers "$suite" --echo --once \
        -v "${sargs[@]}"
    bg cli "$MBEDTLS/ssl_client2" dtls=1 server_addr=127.0.0.1 server_port="$PORT" \
        read_timeout=5000 exchanges=2 ca_file="$P/ca.pem" server_name=localhost \
        auth_mode=required groups="$(groups_for "$group")" force_ciphersuite="$(mbedtls_name "$suite")" \
        "${cargs[@]}"
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "ssl_client2"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_exchanges cli.out 2
    expect_grep cli.out "Ciphersuite is $(mbedtls_name "$suite")" "ssl_client2 names the suite"
    expect_grep cli.out '^  \. Verifying peer X\.509 certificate\.\.\. ok' \
        "ssl_client2 verified the sdtls certificate"
    expect_handshake srv.err "$suite" "$group" "$peer"
}

# b) sdtls client -> ssl_server2.
case_msrv() { # suite group client-cert|none
    local suite=$1 group=$2 cargs=() sargs=(auth_mode=none)
    if [[ $3 != none ]]; then
        cargs=(--cert "$P/$3.pem" --key "$P/$3.key")
        sargs=(auth_mode=required ca_file="$P/ca.pem")
    fi
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$MBEDTLS/ssl_server2" dtls=1 server_addr=127.0.0.1 server_port="$PORT" \
        read_timeout=5000 crt_file="$P/ec.pem" key_file="$P/ec.key" groups="$(groups_for "$group")" \
        force_ciphersuite="$(mbedtls_name "$suite")" "${sargs[@]}"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "ssl_server2"
    lines_file in.txt from-sdtls short
    head -n1 in.txt >line.txt
    bg_fed cli line.txt release "$SDTLS" client "127.0.0.1:$PORT" -v --ca "$P/ca.pem" \
        --servername localhost --ciphers "$suite" --groups "$(groups_for "$group")" "${cargs[@]}"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" answered_or_dead cli.out "$CLI_PID" ||
        fail "no answer from ssl_server2 within ${IT_WAIT}s"
    has_line cli.out "Successful connection using: $(mbedtls_name "$suite")" ||
        fail "no answer from ssl_server2 naming $(mbedtls_name "$suite")"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_grep srv.out "^  < Read from client: $(stat -c %s line.txt) bytes read" \
        "ssl_server2 read our line whole"
    grep -qF -- "$(cat line.txt)" srv.out || fail "ssl_server2 did not print our line"
    expect_handshake cli.err "$suite" "$group" "$(fp "$P/ec.pem")"
    if [[ $3 != none ]]; then
        expect_grep srv.out '^  \. Verifying peer X\.509 certificate\.\.\. ok' \
            "ssl_server2 verified the sdtls client certificate"
    fi
}

# PSK with CCM_8, both directions.
case_psk_mcli() {
    start_sdtls_server srv --psk-identity "$ID" --psk "$KEY" --echo --once -v
    bg cli "$MBEDTLS/ssl_client2" dtls=1 server_addr=127.0.0.1 server_port="$PORT" \
        read_timeout=5000 exchanges=2 psk="$KEY" psk_identity="$ID" \
        force_ciphersuite=TLS-PSK-WITH-AES-128-CCM-8
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "ssl_client2"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_exchanges cli.out 2
    expect_psk_handshake srv.err TLS_PSK_WITH_AES_128_CCM_8
}

case_psk_msrv() {
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$MBEDTLS/ssl_server2" dtls=1 server_addr=127.0.0.1 server_port="$PORT" \
        read_timeout=5000 psk="$KEY" psk_identity="$ID" force_ciphersuite=TLS-PSK-WITH-AES-128-CCM-8
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "ssl_server2"
    lines_file in.txt from-sdtls short
    head -n1 in.txt >line.txt
    bg_fed cli line.txt release "$SDTLS" client "127.0.0.1:$PORT" -v --psk-identity "$ID" \
        --psk "$KEY"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" answered_or_dead cli.out "$CLI_PID" ||
        fail "no answer from ssl_server2 within ${IT_WAIT}s"
    has_line cli.out 'Successful connection using: TLS-PSK-WITH-AES-128-CCM-8' ||
        fail "no answer from ssl_server2"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    grep -qF -- "$(cat line.txt)" srv.out || fail "ssl_server2 did not print our line"
    expect_psk_handshake cli.err TLS_PSK_WITH_AES_128_CCM_8
}

C8=TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
C16=TLS_ECDHE_ECDSA_WITH_AES_128_CCM
run_case "ccm mbedtls-client -> sdtls ECDSA CCM_8 x25519" case_mcli $C8 x25519 none
run_case "ccm mbedtls-client -> sdtls ECDSA CCM_8 secp256r1, client cert" case_mcli $C8 secp256r1 client-ec
run_case "ccm mbedtls-client -> sdtls ECDSA CCM secp256r1" case_mcli $C16 secp256r1 none
run_case "ccm sdtls-client -> mbedtls ECDSA CCM_8 x25519" case_msrv $C8 x25519 none
run_case "ccm sdtls-client -> mbedtls ECDSA CCM_8 secp256r1, client cert" case_msrv $C8 secp256r1 client-ec
run_case "ccm sdtls-client -> mbedtls ECDSA CCM x25519" case_msrv $C16 x25519 none
run_case "ccm mbedtls-client -> sdtls PSK CCM_8" case_psk_mcli
run_case "ccm sdtls-client -> mbedtls PSK CCM_8" case_psk_msrv
finish
