#!/usr/bin/env bash
# Legacy AES-128-CBC suites with encrypt-then-MAC (RFC 7366) against OpenSSL, both directions.
# Usage: test_legacy_cbc_openssl.sh /path/to/sdtls
set -uo pipefail
SDTLS=$1
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; shift; for f in "$@"; do echo "--- $f"; tail -n 20 "$f"; done; fail=$((fail + 1)); }

# A UDP port nobody has bound (checked against /proc/net/udp).
free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + (SRANDOM % 40000)))
        if ! grep -q -- "$(printf ':%04X ' "$p")" /proc/net/udp /proc/net/udp6 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
wait_for() { # FILE PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 20; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$TMP/k.pem" \
    -out "$TMP/c.pem" -days 2 -nodes -subj /CN=localhost 2>/dev/null

# sdtls client -> openssl s_server
run_client() { # NAME OSSL_CIPHER SDTLS_SUITE SERVER_ARGS CLIENT_ARGS
    local name=$1 port
    port=$(free_port)
    mkfifo "$TMP/in.$name"
    (sleep 6 > "$TMP/in.$name") &
    PIDS+=($!)
    # shellcheck disable=SC2086 # argument lists by design
    timeout 10 openssl s_server -dtls1_2 -accept "127.0.0.1:$port" $4 -cipher "$2" -listen -quiet \
        < "$TMP/in.$name" > "$TMP/srv.$name" 2> "$TMP/srv.err.$name" &
    PIDS+=($!)
    sleep 0.4
    # shellcheck disable=SC2086
    (echo "line one $name"; echo "line two $name"; sleep 0.8) |
        timeout 8 "$SDTLS" client "127.0.0.1:$port" --legacy-cbc --ciphers "$3" $5 \
            > "$TMP/cli.$name" 2> "$TMP/cli.err.$name"
    wait_for "$TMP/srv.$name" "line two $name" 3
    if grep -q "handshake: DTLSv1.2 $3 " "$TMP/cli.err.$name" &&
        grep -q "line one $name" "$TMP/srv.$name" && grep -q "line two $name" "$TMP/srv.$name"; then
        ok "sdtls client -> openssl s_server $3"
    else
        ko "sdtls client -> openssl s_server $3" "$TMP/cli.err.$name" "$TMP/srv.err.$name"
    fi
}

# openssl s_client -> sdtls server (echo)
run_server() { # NAME OSSL_CIPHER SDTLS_SUITE SERVER_ARGS CLIENT_ARGS
    local name=$1 port
    port=$(free_port)
    # shellcheck disable=SC2086
    timeout 10 "$SDTLS" server --listen "127.0.0.1:$port" --echo --once --legacy-cbc \
        --ciphers "$3" $4 > "$TMP/srv.$name" 2> "$TMP/srv.err.$name" &
    PIDS+=($!)
    wait_for "$TMP/srv.err.$name" "listening:" 3
    # shellcheck disable=SC2086
    (echo "echo me $name"; sleep 1.2) |
        timeout 6 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -cipher "$2" $5 -quiet \
            > "$TMP/cli.$name" 2> "$TMP/cli.err.$name"
    if grep -q "handshake: DTLSv1.2 $3 " "$TMP/srv.err.$name" &&
        grep -q "echo me $name" "$TMP/cli.$name"; then
        ok "openssl s_client -> sdtls server $3"
    else
        ko "openssl s_client -> sdtls server $3" "$TMP/srv.err.$name" "$TMP/cli.err.$name"
    fi
}

run_client ecdsa ECDHE-ECDSA-AES128-SHA TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA \
    "-cert $TMP/c.pem -key $TMP/k.pem" "--insecure"
run_client psk PSK-AES128-CBC-SHA256 TLS_PSK_WITH_AES_128_CBC_SHA256 \
    "-nocert -psk 0123456789abcdef -psk_identity node" "--psk-identity node --psk 0123456789abcdef"
run_server ecdsa2 ECDHE-ECDSA-AES128-SHA TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA \
    "--cert $TMP/c.pem --key $TMP/k.pem" ""
run_server psk2 PSK-AES128-CBC-SHA256 TLS_PSK_WITH_AES_128_CBC_SHA256 \
    "--psk-identity node --psk 0123456789abcdef" "-psk 0123456789abcdef -psk_identity node"

echo "legacy-cbc: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
