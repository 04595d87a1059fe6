#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, pre-shared keys (RFC 4279, RFC 5489, RFC 6655): sdtls against OpenSSL's DTLS 1.2
# PSK suites, both directions, for every PSK suite both implement with an AEAD cipher:
#
#   TLS_PSK_WITH_AES_128_CCM_8 (CoAP's mandatory PSK suite), TLS_PSK_WITH_AES_128_CCM,
#   TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_256_GCM_SHA384,
#   TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256.
#
# (OpenSSL has no TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256; test_psk_wolfssl.sh covers it.)
#
#   a) sdtls client -> openssl s_server -nocert -psk: the lines each side sends appear byte for
#      byte on the other's stdout.
#   b) openssl s_client -psk -> sdtls server --echo --once (--psk-file, several identities):
#      the echo equals what was sent.
#   c) negatives: a wrong key fails both handshakes; an unknown identity is refused.
# Usage: test_psk_openssl.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

ID=sensor-17
KEY=00112233445566778899aabbccddeeff
OTHER_KEY=ffeeddccbbaa99887766554433221100

# expect_psk_handshake FILE SUITE GROUP: the CLI's handshake line shows SUITE, GROUP ("" for
# the plain PSK suites, which have no key exchange group) and no peer certificate.
expect_psk_handshake() {
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line =~ ^handshake:\ DTLSv1\.2\ $2\ group=${3:-none}\ peer=none\ rtx=[0-9]+\ ms=[0-9]+$ ]] ||
        fail "expected suite $2 group '$3' and no peer certificate, got: '$line'"
    return 0
}

# start_s_server OCIPHER EXTRA...: s_server with a PSK and no certificate on a free port
# (sets PORT, SRV_PID); stdin from srv_in.txt, held open until srv_release exists.
start_s_server() {
    local ocipher=$1
    shift
    lines_file srv_in.txt from-openssl
    PORT=$(pick_port) || fail "no free UDP port"
    bg_fed srv srv_in.txt srv_release openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" \
        -nocert -cipher "$ocipher" -naccept 1 -quiet "$@"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "openssl s_server"
}

# a) sdtls client -> s_server.
case_client() { # suite openssl-cipher group
    start_s_server "$2" -psk "$KEY" -psk_identity "$ID"
    lines_file cli_in.txt from-sdtls
    bg_fed cli cli_in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" -v \
        --psk-identity "$ID" --psk "$KEY" --ciphers "$1"
    CLI_PID=$BG_PID
    wait_bytes srv.out cli_in.txt "sdtls client -> openssl s_server"
    wait_bytes cli.out srv_in.txt "openssl s_server -> sdtls client"
    : >cli_release
    expect_exit "$CLI_PID" 0 "sdtls client"
    : >srv_release
    same_bytes cli_in.txt srv.out "sdtls client -> openssl s_server"
    same_bytes srv_in.txt cli.out "openssl s_server -> sdtls client"
    expect_psk_handshake cli.err "$1" "$3"
}

# b) s_client -> sdtls server (echo). The server holds three identities in a --psk-file.
case_server() { # suite openssl-cipher group
    printf '%s\n' "# identity:hexkey" "gateway:0102030405060708" "" "$ID:$KEY" \
        "other:$OTHER_KEY" >psk.txt
    lines_file in.txt openssl-client
    start_sdtls_server srv --psk-file psk.txt --ciphers "$1" --echo --once -v
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -psk "$KEY" -psk_identity "$ID" -cipher "$2" -quiet -no_ign_eof
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to openssl s_client"
    : >release
    expect_exit "$CLI_PID" 0 "openssl s_client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
    expect_psk_handshake srv.err "$1" "$3"
}

# The sdtls server with one --psk-identity/--psk (no file) and its default suite order: the
# client's only suite, CCM_8, must be accepted.
case_server_single() {
    lines_file in.txt openssl-client
    start_sdtls_server srv --psk-identity "$ID" --psk "$KEY" --echo --once -v
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -psk "$KEY" -psk_identity "$ID" -cipher PSK-AES128-CCM8 -quiet -no_ign_eof
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to openssl s_client"
    : >release
    expect_exit "$CLI_PID" 0 "openssl s_client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
    expect_psk_handshake srv.err TLS_PSK_WITH_AES_128_CCM_8 ""
}

# c) The sdtls client has the wrong key: s_server's Finished check fails, and so does ours.
case_client_wrong_key() {
    start_s_server PSK-AES128-CCM8 -psk "$KEY" -psk_identity "$ID"
    lines_file cli_in.txt from-sdtls
    bg_fed cli cli_in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" -v --timeout 2500 \
        --psk-identity "$ID" --psk "$OTHER_KEY" --ciphers TLS_PSK_WITH_AES_128_CCM_8
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with the wrong PSK"
    expect_no_handshake cli.err "sdtls client with the wrong PSK"
    expect_grep cli.err '^error: .*handshake failed' "sdtls client names the failure"
    : >srv_release
}

# c) s_client sends an identity the sdtls server does not know: unknown_psk_identity.
case_server_unknown_identity() {
    printf '%s\n' "$ID:$KEY" >psk.txt
    lines_file in.txt openssl-client
    start_sdtls_server srv --psk-file psk.txt --echo --once -v
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -psk "$KEY" -psk_identity nobody -cipher PSK-AES128-CCM8 -quiet -no_ign_eof
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server with an unknown PSK identity"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err 'unknown_psk_identity' "sdtls server refused with unknown_psk_identity"
    : >release
    expect_fail_exit "$CLI_PID" "openssl s_client with an unknown identity"
    expect_grep cli.err 'unknown psk identity' "s_client got the unknown_psk_identity alert"
}

while read -r suite ocipher group; do
    short=${suite#TLS_}
    run_case "psk sdtls-client -> openssl ${short}" case_client "$suite" "$ocipher" "$group"
    run_case "psk openssl-client -> sdtls ${short}" case_server "$suite" "$ocipher" "$group"
done <<'EOF'
TLS_PSK_WITH_AES_128_CCM_8 PSK-AES128-CCM8
TLS_PSK_WITH_AES_128_CCM PSK-AES128-CCM
TLS_PSK_WITH_AES_128_GCM_SHA256 PSK-AES128-GCM-SHA256
TLS_PSK_WITH_AES_256_GCM_SHA384 PSK-AES256-GCM-SHA384
TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE-PSK-CHACHA20-POLY1305 x25519
EOF
run_case "psk openssl-client -> sdtls single --psk, default suites" case_server_single
run_case "psk NEG sdtls-client wrong key" case_client_wrong_key
run_case "psk NEG openssl-client unknown identity" case_server_unknown_identity
finish
