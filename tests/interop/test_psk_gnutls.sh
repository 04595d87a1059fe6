#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, pre-shared keys (RFC 4279, RFC 5489, RFC 6655): sdtls against GnuTLS's DTLS 1.2 PSK
# suites, both directions, for every AEAD PSK suite both implement:
#
#   TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM, TLS_PSK_WITH_AES_128_GCM_SHA256,
#   TLS_PSK_WITH_AES_256_GCM_SHA384, TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256.
#
#   a) sdtls client -> gnutls-serv --udp --echo --pskpasswd FILE: the echo equals what was sent.
#   b) gnutls-cli --udp --pskusername --pskkey -> sdtls server --echo --once --psk-file FILE
#      (not with ECDHE-PSK: Debian 12's gnutls-cli crashes on it, whatever the server).
#   c) negatives: gnutls-cli with the wrong key; the sdtls client with an identity gnutls-serv
#      does not know.
# gnutls-serv has no bind-address option (it listens on all addresses); clients connect to
# 127.0.0.1.
# Usage: test_psk_gnutls.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need gnutls-serv gnutls-cli timeout

ID=sensor-17
KEY=00112233445566778899aabbccddeeff
OTHER_KEY=ffeeddccbbaa99887766554433221100

expect_psk_handshake() { # FILE SUITE GROUP ("" for plain PSK)
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line =~ ^handshake:\ DTLSv1\.2\ $2\ group=${3:-none}\ peer=none\ rtx=[0-9]+\ ms=[0-9]+$ ]] ||
        fail "expected suite $2 group '$3' and no peer certificate, got: '$line'"
    return 0
}

# prio CIPHER KX: DTLS 1.2 only, one AEAD cipher, one key exchange (PSK or ECDHE-PSK).
prio() {
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+$1:-MAC-ALL:+AEAD:-KX-ALL:+$2"
}

psk_file() {
    printf '%s\n' "# identity:hexkey" "gateway:0102030405060708" "$ID:$KEY" "other:$OTHER_KEY" \
        >psk.txt
}

# a) sdtls client -> gnutls-serv (echo).
case_client() { # suite gnutls-cipher gnutls-kx group
    psk_file
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv gnutls-serv --udp --echo -p "$PORT" --pskpasswd psk.txt --priority "$(prio "$2" "$3")"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "gnutls-serv"
    lines_file in.txt from-sdtls
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -v \
        --psk-identity "$ID" --psk "$KEY" --ciphers "$1"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo from gnutls-serv"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    same_bytes in.txt cli.out "echo"
    expect_psk_handshake cli.err "$1" "$4"
}

# b) gnutls-cli -> sdtls server (echo).
case_server() { # suite gnutls-cipher gnutls-kx group
    psk_file
    lines_file in.txt gnutls-client
    start_sdtls_server srv --psk-file psk.txt --ciphers "$1" --echo --once -v
    bg_fed cli in.txt release gnutls-cli --udp -p "$PORT" 127.0.0.1 --priority "$(prio "$2" "$3")" \
        --pskusername "$ID" --pskkey "$KEY" --logfile cli.log
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to gnutls-cli"
    : >release
    expect_exit "$CLI_PID" 0 "gnutls-cli"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    same_bytes in.txt cli.out "echo"
    expect_psk_handshake srv.err "$1" "$4"
}

# c) gnutls-cli has the wrong key for its identity: the sdtls server cannot decrypt its
# Finished and the handshake fails on both sides.
case_server_wrong_key() {
    psk_file
    lines_file in.txt gnutls-client
    # RFC 6347 4.1.2.7: a record that fails authentication is dropped silently, so the server
    # waits for a good Finished until its handshake deadline.
    start_sdtls_server srv --psk-file psk.txt --echo --once -v --handshake-timeout 2000
    bg_fed cli in.txt release gnutls-cli --udp -p "$PORT" 127.0.0.1 \
        --priority "$(prio AES-128-CCM-8 PSK)" --pskusername "$ID" --pskkey "$OTHER_KEY" \
        --logfile cli.log
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server, client with the wrong PSK"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err 'failed authentication' "sdtls server saw the bad Finished"
    : >release
    stop_bg "$CLI_PID"
}

# c) The sdtls client's identity is not in gnutls-serv's password file.
case_client_unknown_identity() {
    psk_file
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv gnutls-serv --udp --echo -p "$PORT" --pskpasswd psk.txt \
        --priority "$(prio AES-128-CCM-8 PSK)"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "gnutls-serv"
    lines_file in.txt from-sdtls
    # GnuTLS answers an unknown identity with a random key (RFC 4279 5.1 allows hiding it), so
    # the client's Finished is never accepted.
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -v --timeout 2500 \
        --psk-identity nobody --psk "$KEY" --ciphers TLS_PSK_WITH_AES_128_CCM_8
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with an unknown identity"
    expect_no_handshake cli.err "sdtls client"
    : >release
}

while read -r suite cipher kx group; do
    short=${suite#TLS_}
    run_case "psk sdtls-client -> gnutls ${short}" case_client "$suite" "$cipher" "$kx" "${group:-}"
    # gnutls-cli 3.7.9 (Debian 12) crashes (SIGSEGV) on any ECDHE-PSK handshake, against
    # gnutls-serv too and over TLS as well, right after the ServerKeyExchange: not run.
    [[ $kx == ECDHE-PSK ]] && continue
    run_case "psk gnutls-client -> sdtls ${short}" case_server "$suite" "$cipher" "$kx" "${group:-}"
done <<'LIST'
TLS_PSK_WITH_AES_128_CCM_8 AES-128-CCM-8 PSK
TLS_PSK_WITH_AES_128_CCM AES-128-CCM PSK
TLS_PSK_WITH_AES_128_GCM_SHA256 AES-128-GCM PSK
TLS_PSK_WITH_AES_256_GCM_SHA384 AES-256-GCM PSK
TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 CHACHA20-POLY1305 ECDHE-PSK x25519
LIST
run_case "psk NEG gnutls-client wrong key" case_server_wrong_key
run_case "psk NEG sdtls-client unknown identity" case_client_unknown_identity
finish
