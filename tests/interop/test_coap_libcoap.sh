#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: CoAP over DTLS with pre-shared keys (RFC 7252 9.1.3.1) against libcoap 4.3
# (Debian's libcoap3-bin), with both of its DTLS backends (OpenSSL and GnuTLS):
#
#   a) sdtls client -> coap-server-{openssl,gnutls} -k KEY: the client sends one CoAP request as
#      application data, a confirmable GET /.well-known/core (tests/interop/coap/get-core.hex),
#      and must get back a piggybacked response: an ACK with the same message ID and token and
#      code 2.05 Content (0x45) carrying the resource list.
#   b) coap-client-{openssl,gnutls} -u ID -k KEY -> sdtls server --psk-file: the handshake must
#      complete (the server's handshake: line) and the server must receive coap-client's GET
#      /.well-known/core as a CoAP message. The sdtls server does not answer CoAP: coap-client
#      is stopped once its request has arrived.
#
# For each of the PSK suites libcoap's backends accept: PSK with AES-128-CCM_8 (CoAP's
# mandatory suite), AES-128-CCM, AES-128-GCM, AES-256-GCM, and ECDHE-PSK with ChaCha20-Poly1305.
# (Neither backend has TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256: both answer handshake_failure.)
# libcoap's -k takes the key as text: the sdtls side gets its bytes in hex.
# Usage: test_coap_libcoap.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need coap-server-openssl coap-server-gnutls coap-client-openssl coap-client-gnutls od timeout

ID=coap-device-1
KEY_TEXT=secretPSK-for-CoAP
KEY_HEX=$(printf '%s' "$KEY_TEXT" | od -An -v -tx1 | tr -d ' \n')
REQ_HEX=$(sed 's/#.*//' "$IT_SELF_DIR/coap/get-core.hex" | tr -d ' \n')

expect_psk_handshake() { # FILE SUITE GROUP ("" for plain PSK)
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line =~ ^handshake:\ DTLSv1\.2\ $2\ group=${3:-none}\ peer=none\ rtx=[0-9]+\ ms=[0-9]+$ ]] ||
        fail "expected suite $2 group '$3' and no peer certificate, got: '$line'"
    return 0
}

hex_of() { # hex_of FILE [BYTES]: the first BYTES (default all) bytes of FILE as lowercase hex
    od -An -v -tx1 ${2:+-N "$2"} "$1" | tr -d ' \n'
}

# pick_port_pair: a port P with P and P+1 free (coap-server binds P for CoAP and P+1 for
# CoAP over DTLS).
pick_port_pair() {
    local p _
    for _ in $(seq 1 50); do
        p=$(pick_port) || return 1
        if ((p < 65535)) && ! udp_bound $((p + 1)); then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# a) sdtls client -> coap-server.
case_server() { # backend suite group
    local base resp code
    base=$(pick_port_pair) || fail "no free UDP port pair"
    bg srv "coap-server-$1" -A 127.0.0.1 -p "$base" -k "$KEY_TEXT" -v 7
    SRV_PID=$BG_PID
    wait_port_or_exit $((base + 1)) "$SRV_PID" "coap-server-$1"
    printf '%s' "$REQ_HEX" | sed 's/../\\x&/g' | xargs -0 printf '%b' >req.bin
    # The request has no newline byte, so the client sends it whole as one record at the end
    # of its input.
    timeout -k 2 "$IT_TIMEOUT" "$SDTLS" client "127.0.0.1:$((base + 1))" -v \
        --psk-identity "$ID" --psk "$KEY_HEX" --ciphers "$2" --timeout 10000 \
        <req.bin >cli.out 2>cli.err &
    CLI_PID=$!
    BG_PIDS+=("$CLI_PID")
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_psk_handshake cli.err "$2" "$3"
    resp=$(hex_of cli.out)
    [[ -n $resp ]] || fail "no CoAP response from coap-server-$1"
    # RFC 7252 3: Ver=1, T=ACK (2), TKL=1 -> 0x61; code 2.05 -> 0x45; message ID and token of
    # the request (bytes 2..4).
    [[ ${resp:0:2} == 61 ]] || fail "response byte 0 is 0x${resp:0:2}, expected 0x61 (CoAP ACK, TKL 1)"
    code=${resp:2:2}
    [[ $code == 45 ]] || fail "response code 0x$code, expected 0x45 (2.05 Content): $resp"
    [[ ${resp:4:6} == "${REQ_HEX:4:6}" ]] ||
        fail "response message ID/token ${resp:4:6}, expected ${REQ_HEX:4:6}"
    grep -q '</time>' cli.out || fail "response payload is not coap-server's resource list"
    expect_grep srv.out 'c:GET .*Uri-Path:\.well-known, Uri-Path:core' \
        "coap-server-$1 logged the GET /.well-known/core"
}

# b) coap-client -> sdtls server.
case_client() { # backend suite group
    local req
    printf '%s\n' "# identity:hexkey" "someone-else:0011223344556677" "$ID:$KEY_HEX" >psk.txt
    start_sdtls_server srv --psk-file psk.txt --ciphers "$2" --once -v
    bg cli "coap-client-$1" -B 1 -u "$ID" -k "$KEY_TEXT" -m get \
        "coaps://127.0.0.1:$PORT/.well-known/core"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line srv.err '^handshake: ' ||
        fail "no handshake with coap-client-$1 within ${IT_WAIT}s"
    expect_psk_handshake srv.err "$2" "$3"
    wait_until "$IT_WAIT" test -s srv.out || fail "no CoAP request reached the sdtls server"
    # No answer will come; coap-client would wait -B 1 second more.
    stop_bg "$CLI_PID"
    req=$(hex_of srv.out)
    # Ver=1, T=CON, any token length (0x40..0x48); code 0.01 GET; the Uri-Path options.
    [[ ${req:0:1} == 4 && ${req:2:2} == 01 ]] ||
        fail "not a CoAP confirmable GET: $req"
    if ! grep -q '\.well-known' srv.out || ! grep -q 'core' srv.out; then
        fail "the GET does not carry Uri-Path .well-known/core: $req"
    fi
}

while read -r suite group; do
    short=${suite#TLS_}
    for backend in openssl gnutls; do
        run_case "coap sdtls-client -> coap-server-$backend $short" case_server "$backend" \
            "$suite" "${group:-}"
        run_case "coap coap-client-$backend -> sdtls $short" case_client "$backend" \
            "$suite" "${group:-}"
    done
done <<'LIST'
TLS_PSK_WITH_AES_128_CCM_8
TLS_PSK_WITH_AES_128_CCM
TLS_PSK_WITH_AES_128_GCM_SHA256
TLS_PSK_WITH_AES_256_GCM_SHA384
TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 x25519
LIST
finish
