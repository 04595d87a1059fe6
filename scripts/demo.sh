#!/usr/bin/env bash
# A five-second tour of sdtls: a DTLS 1.2 server and client on 127.0.0.1.
#
#   bash scripts/demo.sh        (fresh Debian 12, as root: installs packages, builds, runs)
#
# The server makes a throw-away certificate (--generate-cert) and echoes what it receives; the
# client pins the server's certificate by its SHA-256 fingerprint, sends a few lines, prints
# the echo and closes. Both run with -v, so you see each handshake flight with its time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SDTLS_DEMO_BUILD:-$ROOT/build-release}
JOBS=${JOBS:-$(nproc)}

if [[ -t 1 ]]; then
    say() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
else
    say() { printf '\n== %s ==\n' "$*"; }
fi
indent() { sed 's/^/    /'; }

say "1. Installing build dependencies (scripts/deps.sh)"
bash "$ROOT/scripts/deps.sh"

say "2. Building the sdtls command-line tool (Release, $BUILD)"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSDTLS_BUILD_TESTS=OFF \
    -DSDTLS_BUILD_BENCH=OFF >"$BUILD/configure.log" 2>&1 || {
    cat "$BUILD/configure.log"
    exit 1
}
cmake --build "$BUILD" -j "$JOBS" --target sdtls_cli | tail -n 1
SDTLS=$BUILD/tools/sdtls/sdtls
"$SDTLS" --version | indent

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-demo.XXXXXX")
SERVER_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

EKM=()
if "$SDTLS" --help 2>&1 | grep -q -- '--export-keying-material'; then
    EKM=(--export-keying-material EXTRACTOR-dtls_srtp:60)
fi

say "3. Starting the server"
echo "    \$ sdtls server --listen 127.0.0.1:0 --generate-cert --echo --once -v ${EKM[*]}"
timeout 30 "$SDTLS" server --listen 127.0.0.1:0 --generate-cert --echo --once -v "${EKM[@]}" \
    2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 250); do
    grep -q '^listening: ' "$WORK/server.log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.02
done
ADDR=$(sed -n 's/^listening: //p' "$WORK/server.log" | head -n 1)
FP=$(sed -n 's/^fingerprint: //p' "$WORK/server.log" | head -n 1)
if [[ -z $ADDR || -z $FP ]]; then
    echo "the server did not start:"
    cat "$WORK/server.log"
    exit 1
fi
echo "    The server listens on $ADDR (port 0 asked the kernel for a free port)."
echo "    Its generated certificate has the fingerprint"
echo "      $FP"
echo "    which the client pins below instead of trusting a CA."

say "4. Running the client (three lines on stdin)"
printf '%s\n' "Hello, DTLS!" "Each line travels as one encrypted record." \
    "The server sends it straight back." >"$WORK/input.txt"
echo "    \$ printf ... | sdtls client $ADDR --verify-fingerprint \"$FP\" -v ${EKM[*]}"
rc=0
timeout 30 "$SDTLS" client "$ADDR" --verify-fingerprint "$FP" -v "${EKM[@]}" \
    <"$WORK/input.txt" >"$WORK/echo.txt" 2>"$WORK/client.log" || rc=$?
wait "$SERVER_PID" || true
SERVER_PID=

say "5. Client handshake trace (stderr; [+seconds since start])"
indent <"$WORK/client.log"

say "6. Server handshake trace"
indent <"$WORK/server.log"

say "7. What was negotiated"
CLIENT_HS=$(grep '^handshake: ' "$WORK/client.log" || true)
SERVER_HS=$(grep '^handshake: ' "$WORK/server.log" || true)
if [[ -n $CLIENT_HS ]]; then
    read -r _ version suite group rest <<<"$CLIENT_HS"
    echo "    protocol:      $version"
    echo "    cipher suite:  $suite"
    echo "    ECDHE group:   ${group#group=}"
    PEER=$(sed -n 's/.* peer=\(.*\) rtx=.*/\1/p' <<<"$CLIENT_HS")
    echo "    server certificate, as the server printed it:  $FP"
    echo "    server certificate, as the client verified it: $PEER"
    if [[ $PEER == "$FP" ]]; then
        echo "                   -> the same: the pin matched"
    fi
    echo "    client certificate: none (the server did not ask for one: peer=none on its side)"
    echo "    client time:   $(sed -n 's/.* rtx=\([0-9]*\) ms=\([0-9]*\)$/\2 ms, \1 retransmissions/p' <<<"$CLIENT_HS")"
    echo "    server time:   $(sed -n 's/.* rtx=\([0-9]*\) ms=\([0-9]*\)$/\2 ms, \1 retransmissions/p' <<<"$SERVER_HS")"
else
    echo "    no handshake (see the traces above)"
fi

say "8. Lines echoed back to the client (stdout)"
indent <"$WORK/echo.txt"
if cmp -s "$WORK/input.txt" "$WORK/echo.txt"; then
    echo "    -> identical to what was sent ($(wc -c <"$WORK/input.txt") bytes)"
else
    echo "    -> DIFFERENT from what was sent"
    rc=1
fi

if [[ ${#EKM[@]} -gt 0 ]]; then
    say "9. Exported keying material (RFC 5705, label EXTRACTOR-dtls_srtp, 60 bytes)"
    c=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp //p' "$WORK/client.log")
    s=$(sed -n 's/^exporter: EXTRACTOR-dtls_srtp //p' "$WORK/server.log")
    echo "    client: $c"
    echo "    server: $s"
    if [[ -n $c && $c == "$s" ]]; then
        echo "    -> both sides derived the same keys (what DTLS-SRTP would use)"
    else
        echo "    -> MISMATCH"
        rc=1
    fi
fi

echo
if [[ $rc -eq 0 ]]; then
    echo "Demo finished: handshake, echo and close all succeeded."
else
    echo "Demo FAILED (client exit status or data mismatch; see above)."
fi
exit "$rc"
