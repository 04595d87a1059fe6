# shellcheck shell=bash
# Shared helpers for the interop tests. Sourced by tests/interop/test_*.sh, never run alone.
#
# A test script looks like this:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"   # $1: path to the sdtls binary
#   need openssl                                           # fail clearly if a peer is missing
#   make_pki
#   case_foo() { ...; }              # runs in a subshell, in its own directory
#   run_case "foo: what it checks" case_foo ARGS...
#   finish                           # summary line; exit 1 if any case failed
#
# Rules every case follows:
#   - Everything runs on 127.0.0.1. Every peer runs under timeout(1) (IT_TIMEOUT seconds) and
#     every wait is bounded (IT_WAIT seconds); nothing sleeps longer than a 20 ms poll.
#   - Background processes are started with bg/bg_fed and recorded; the case's EXIT trap ends
#     them by process id, so a failing case never leaves a peer behind.
#   - A case prints nothing on success. On failure `fail MSG` ends it; run_case then prints
#     the message and the tail of every log the case wrote (peer stdout/stderr).
#
# Process stdin for peers that read lines (sdtls client, openssl s_client/s_server,
# gnutls-cli) comes from a "feeder": it writes a file, then holds stdin open until a release
# file exists, so a peer never sees end-of-input before the test has what it waits for.

export LC_ALL=C
set -uo pipefail

# shellcheck disable=SC2034 # for the test scripts (e.g. to find the source tree)
IT_SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_NAME=$(basename "$0" .sh)
IT_TIMEOUT=${IT_TIMEOUT:-40} # upper bound on the life of any peer process (seconds)
IT_WAIT=${IT_WAIT:-20}       # upper bound on any single wait (seconds; ASan, loaded hosts)

if [[ $# -lt 1 || -z $1 ]]; then
    echo "usage: $0 PATH/TO/sdtls" >&2
    exit 2
fi
if [[ ! -x $1 ]]; then
    echo "$IT_NAME: sdtls binary '$1' is missing or not executable" >&2
    exit 2
fi
SDTLS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

IT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-${IT_NAME}.XXXXXX")
IT_PKI=$IT_DIR/pki
IT_PASSED=0
IT_FAILED=0
IT_FAILED_NAMES=()
IT_CASE_N=0
IT_START_MS=0

it_exit() {
    local rc=$?
    # Keep the logs of a failed run for inspection; IT_KEEP=1 keeps them always.
    if [[ $IT_FAILED -eq 0 && ${IT_KEEP:-0} != 1 && $rc -eq 0 ]]; then
        rm -rf "$IT_DIR"
    else
        echo "$IT_NAME: logs kept in $IT_DIR" >&2
    fi
}
trap it_exit EXIT

# ------------------------------------------------------------------------------------------
# Small utilities
# ------------------------------------------------------------------------------------------

now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# need CMD...: fail the whole script with a clear message when a peer tool is missing (a
# missing peer is an environment problem that must not pass as a silent skip).
need() {
    local c
    for c in "$@"; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "$IT_NAME: '$c' not found; install it with scripts/deps.sh" >&2
            exit 1
        fi
    done
}

# fail MSG: end the current case with a message.
fail() {
    echo "error: $*"
    exit 1
}

# wait_until SECS CMD...: poll CMD every 20 ms until it succeeds (0) or SECS pass (1).
wait_until() {
    local limit=$(($(now_ms) + $1 * 1000))
    shift
    while ! "$@"; do
        if (($(now_ms) >= limit)); then
            return 1
        fi
        sleep 0.02
    done
    return 0
}

# size_ge FILE REF: FILE holds at least as many bytes as REF.
size_ge() {
    [[ -f $1 ]] && (($(stat -c %s "$1") >= $(stat -c %s "$2")))
}

has_line() { # has_line FILE EXTENDED-REGEX
    [[ -f $1 ]] && grep -Eq -- "$2" "$1"
}

# proc_done PID: the process has exited (gone or a zombie waiting to be reaped).
proc_done() {
    local st
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
    [[ -z $st || $st == Z ]]
}

# udp_bound PORT: some socket is bound to this UDP port (IPv4 or IPv6).
udp_bound() {
    local hex
    hex=$(printf ':%04X ' "$1")
    grep -q -- "$hex" /proc/net/udp /proc/net/udp6 2>/dev/null
}

# pick_port: print a UDP port that is free right now (for peers that cannot bind port 0).
pick_port() {
    local p _
    for _ in $(seq 1 100); do
        p=$((20000 + (SRANDOM % 40000)))
        if ! udp_bound "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# fp FILE: sha-256 fingerprint of a certificate, as the sdtls CLI prints and accepts it.
fp() {
    "$SDTLS" fingerprint "$1"
}

# ------------------------------------------------------------------------------------------
# Background peers
# ------------------------------------------------------------------------------------------

BG_PIDS=()
BG_PID=

# bg NAME CMD...: start CMD under timeout(1) with stdin from /dev/null, stdout in NAME.out,
# stderr in NAME.err (case directory). Sets BG_PID.
bg() {
    local name=$1
    shift
    timeout -k 2 "$IT_TIMEOUT" "$@" </dev/null >"$name.out" 2>"$name.err" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# feeder INPUT RELEASE: write INPUT, then keep stdin open until RELEASE exists (bounded by
# IT_TIMEOUT, and cut short when the case ends).
feeder() {
    cat "$1"
    wait_until "$IT_TIMEOUT" release_or_stop "$2"
    return 0
}
release_or_stop() {
    [[ -e $1 || -e .stop ]]
}

# bg_fed NAME INPUT RELEASE CMD...: like bg, with stdin fed from INPUT through the FIFO
# NAME.stdin and held open until the file RELEASE is created (touch it to send end-of-input).
# The feeder is a separate background job, so BG_PID is CMD alone and `wait` on it returns as
# soon as CMD ends, whatever the feeder is doing.
bg_fed() {
    local name=$1 input=$2 release=$3
    shift 3
    rm -f "$name.stdin"
    mkfifo "$name.stdin" || fail "mkfifo $name.stdin"
    timeout -k 2 "$IT_TIMEOUT" "$@" <"$name.stdin" >"$name.out" 2>"$name.err" &
    BG_PID=$!
    feeder "$input" "$release" >"$name.stdin" &
    BG_PIDS+=("$BG_PID" "$!")
}

# wait_exit PID [SECS]: wait for the process to end (bounded) and set EXIT_RC to its status.
wait_exit() {
    local pid=$1 secs=${2:-$IT_WAIT}
    if ! wait_until "$secs" proc_done "$pid"; then
        EXIT_RC=124
        return 1
    fi
    wait "$pid"
    EXIT_RC=$?
    return 0
}

# stop_bg PID: end a background process (SIGTERM, then SIGKILL after 2 s) and reap it.
stop_bg() {
    local pid=$1
    if ! proc_done "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        if ! wait_until 2 proc_done "$pid"; then
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    return 0
}

case_cleanup() {
    local pid
    : >.stop
    for pid in "${BG_PIDS[@]}"; do
        stop_bg "$pid"
    done
}

# wait_port_or_exit PORT PID WHAT: wait until PORT is bound, failing early if PID died.
wait_port_or_exit() {
    local port=$1 pid=$2 what=$3
    wait_until "$IT_WAIT" port_or_dead "$port" "$pid" || fail "$what did not bind UDP port $port"
    proc_done "$pid" && fail "$what exited before binding UDP port $port"
    return 0
}
port_or_dead() {
    udp_bound "$1" || proc_done "$2"
}

# start_sdtls_server NAME ARGS...: run `sdtls server --listen 127.0.0.1:0 ARGS`, wait for its
# "listening:" line and set PORT. Sets BG_PID (and SERVER_PID).
start_sdtls_server() {
    local name=$1
    shift
    bg "$name" "$SDTLS" server --listen 127.0.0.1:0 "$@"
    SERVER_PID=$BG_PID
    wait_listening "$name.err" "$SERVER_PID" "sdtls server"
}

# wait_listening FILE PID WHAT: wait until FILE has a "listening: 127.0.0.1:PORT" line (the
# form of the sdtls CLI and of the examples) and set PORT; fail if PID ends first.
wait_listening() {
    wait_until "$IT_WAIT" listening_or_dead "$1" "$2" ||
        fail "$3 printed no 'listening:' line within ${IT_WAIT}s"
    PORT=$(sed -n 's/^listening: 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1" | head -n1)
    [[ -n $PORT ]] || fail "$3 did not start (no 'listening: 127.0.0.1:PORT' line)"
    return 0
}
listening_or_dead() {
    has_line "$1" '^listening: ' || proc_done "$2"
}

# ------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------

# expect_exit PID RC WHAT: the process ends within IT_WAIT with status RC.
expect_exit() {
    local pid=$1 want=$2 what=$3
    wait_exit "$pid" || fail "$what did not exit within ${IT_WAIT}s"
    [[ $EXIT_RC -eq $want ]] || fail "$what exited with status $EXIT_RC, expected $want"
    return 0
}

# expect_fail_exit PID WHAT: the process ends within IT_WAIT with a non-zero status.
expect_fail_exit() {
    local pid=$1 what=$2
    wait_exit "$pid" || fail "$what did not exit within ${IT_WAIT}s"
    [[ $EXIT_RC -ne 0 && $EXIT_RC -ne 124 ]] ||
        fail "$what exited with status $EXIT_RC, expected a failure (non-zero, not a timeout)"
    return 0
}

# wait_bytes FILE REF WHAT: wait until FILE holds at least as many bytes as REF.
wait_bytes() {
    local got
    if ! wait_until "$IT_WAIT" size_ge "$1" "$2"; then
        got=$(stat -c %s "$1" 2>/dev/null || echo 0)
        fail "$3: expected $(stat -c %s "$2") bytes in $1 within ${IT_WAIT}s, got $got"
    fi
    return 0
}

# same_bytes EXPECTED ACTUAL WHAT: byte-for-byte comparison with a readable diff on failure.
same_bytes() {
    if ! cmp -s "$1" "$2"; then
        echo "$3: data differs (expected $1, got $2)"
        cmp "$1" "$2" 2>&1 | head -n 3
        echo "--- expected (od -c)"
        od -c "$1" | head -n 20
        echo "--- got (od -c)"
        od -c "$2" 2>/dev/null | head -n 20
        fail "$3: received data is not byte-for-byte what was sent"
    fi
    return 0
}

# expect_handshake FILE SUITE GROUP PEER: FILE has the CLI's handshake line with these values.
# PEER is a fingerprint ("sha-256 AB:...") or "none"; "*" accepts any.
expect_handshake() {
    local file=$1 suite=$2 group=$3 peer=$4 line re
    line=$(grep -m1 '^handshake: ' "$file") || fail "no 'handshake:' line in $file"
    re='^handshake: DTLSv1\.2 TLS_[A-Z0-9_]+ group=[a-z0-9]+ '
    re+='peer=(none|sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}) rtx=[0-9]+ ms=[0-9]+$'
    [[ $line =~ $re ]] || fail "malformed handshake line: '$line'"
    [[ $line == "handshake: DTLSv1.2 $suite group=$group "* ]] ||
        fail "expected suite $suite group $group, got: '$line'"
    if [[ $peer != "*" && $line != *" peer=$peer rtx="* ]]; then
        fail "expected peer=$peer, got: '$line'"
    fi
    return 0
}

# expect_grep FILE REGEX WHAT
expect_grep() {
    has_line "$1" "$2" || fail "$3 (no line matching '$2' in $1)"
    return 0
}

# expect_no_handshake FILE WHAT
expect_no_handshake() {
    ! has_line "$1" '^handshake: ' || fail "$2: a handshake completed but should have failed"
    return 0
}

# ------------------------------------------------------------------------------------------
# Test data
# ------------------------------------------------------------------------------------------

# lines_file FILE TAG [short]: a few lines of text (printable ASCII, punctuation, a 300-byte
# line) to send; "short" keeps the whole file under 200 bytes (for MTU 500 runs, where a peer
# that sends all of stdin as one record must stay under the record size the MTU allows).
lines_file() {
    {
        printf '%s: hello over DTLS 1.2\n' "$2"
        printf '%s: the quick brown fox jumps over the lazy dog 0123456789\n' "$2"
        printf '%s: punctuation !"#$%%&()*+,-./:;<=>?@[]^_{|}~ end\n' "$2"
        if [[ ${3:-} != short ]]; then
            printf '%s: %s\n' "$2" "$(printf 'abcdefghij%.0s' $(seq 1 30))"
        fi
    } >"$1"
}

# make_pki: a CA and certificates signed by it in $IT_PKI:
#   ca.pem/ca.key               P-256 CA ("sdtls interop CA")
#   ec.pem, rsa.pem, p384.pem, ed25519.pem (+ .key)   servers: CN=localhost,
#                               SAN DNS:localhost, IP:127.0.0.1
#   client-ec.pem, client-rsa.pem (+ .key)            clients: CN=sdtls-client
#   other.pem/other.key         a self-signed P-256 certificate (for wrong pins)
make_pki() {
    local d=$IT_PKI
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        set -e
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
            -out ca.pem -days 30 -subj "/CN=sdtls interop CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" >server.ext
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=clientAuth" >client.ext
        issue() { # issue NAME CN EXT KEYGEN-ARGS...
            local name=$1 cn=$2 ext=$3
            shift 3
            openssl req -new "$@" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
            openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(
                openssl rand -hex 8)" -days 30 -sha256 -out "$name.pem" -extfile "$ext"
        }
        issue ec localhost server.ext -newkey ec -pkeyopt ec_paramgen_curve:P-256
        issue p384 localhost server.ext -newkey ec -pkeyopt ec_paramgen_curve:P-384
        issue rsa localhost server.ext -newkey rsa:2048
        issue ed25519 localhost server.ext -newkey ed25519
        issue client-ec sdtls-client client.ext -newkey ec -pkeyopt ec_paramgen_curve:P-256
        issue client-rsa sdtls-client client.ext -newkey rsa:2048
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
            -out other.pem -days 30 -subj "/CN=someone else"
    ) >"$IT_DIR/pki.log" 2>&1 || {
        echo "$IT_NAME: could not create test certificates:" >&2
        cat "$IT_DIR/pki.log" >&2
        exit 1
    }
}

# ------------------------------------------------------------------------------------------
# Running cases
# ------------------------------------------------------------------------------------------

# run_case NAME FUNC ARGS...: run FUNC ARGS in a subshell inside a fresh directory; print one
# PASS/FAIL line (with the failure message and the peers' logs on failure).
run_case() {
    local name=$1 t0 ms rc dir f
    shift
    # IT_ONLY=REGEX runs only the cases whose name matches (for debugging one case).
    if [[ -n ${IT_ONLY:-} && ! $name =~ $IT_ONLY ]]; then
        return 0
    fi
    IT_CASE_N=$((IT_CASE_N + 1))
    dir=$(printf '%s/case%02d' "$IT_DIR" "$IT_CASE_N")
    mkdir -p "$dir"
    t0=$(now_ms)
    (
        cd "$dir" || exit 1
        BG_PIDS=()
        trap case_cleanup EXIT
        "$@"
    ) >"$dir/case.log" 2>&1
    rc=$?
    # A sanitizer report from the sdtls binary fails the case even when the exit status was
    # the expected one (negative cases expect a failure status, which a crash also gives).
    if grep -lE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ' \
        "$dir"/*.err >/dev/null 2>&1; then
        echo "error: sanitizer report in $(grep -lE 'Sanitizer|runtime error: ' "$dir"/*.err |
            xargs -n1 basename | tr '\n' ' ')" >>"$dir/case.log"
        rc=1
    fi
    ms=$(($(now_ms) - t0))
    if [[ $rc -eq 0 ]]; then
        IT_PASSED=$((IT_PASSED + 1))
        printf 'PASS  %-62s %5d ms\n' "$name" "$ms"
        return 0
    fi
    IT_FAILED=$((IT_FAILED + 1))
    IT_FAILED_NAMES+=("$name")
    printf 'FAIL  %-62s %5d ms\n' "$name" "$ms"
    sed 's/^/      | /' "$dir/case.log"
    for f in "$dir"/*.out "$dir"/*.err; do
        [[ -f $f ]] || continue
        echo "      ---- $(basename "$f") (last 30 lines)"
        tail -n 30 "$f" | sed 's/^/      | /'
    done
    echo "      (all files: $dir)"
    return 0
}

finish() {
    local total_ms=$(($(now_ms) - IT_START_MS))
    printf '%s: %d passed, %d failed (%d.%03d s)\n' "$IT_NAME" "$IT_PASSED" "$IT_FAILED" \
        $((total_ms / 1000)) $((total_ms % 1000))
    if [[ $IT_FAILED -gt 0 ]]; then
        printf '  failed: %s\n' "${IT_FAILED_NAMES[@]}"
        exit 1
    fi
    exit 0
}

IT_START_MS=$(now_ms)
