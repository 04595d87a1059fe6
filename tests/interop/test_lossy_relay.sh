#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# DTLS 1.2 interop with OpenSSL through sdtls-relay: 20% loss and 10% reordering in both
# directions, several relay seeds per case.
#
#   a) sdtls client -> relay -> openssl s_server -dtls1_2 -listen (cookie exchange)
#   b) openssl s_client -dtls1_2 -> relay -> sdtls server --echo --once (cookie exchange)
#
# The handshake must complete (retransmissions do the work). DTLS does not retransmit
# application data, so each of the LINES lines, sent one per record once the handshake is
# done, may be lost: a case asserts that at least one arrives and that every received line is
# one of those sent, whole and at most once. The PASS/FAIL line shows the sdtls side's
# handshake retransmissions (rtx=N), the lines that arrived, and the relay's counters.
#
# Usage: test_lossy_relay.sh PATH/TO/sdtls. The relay is PATH/TO/../relay/sdtls-relay.
# Environment: LOSSY_SEEDS (default "1 2 3 4 5"), LOSSY_LOSS, LOSSY_REORDER; IT_KEEP=1 keeps
# the logs. Seeds make the relay's decisions repeatable: the n-th datagram of a direction
# always meets the same fate, though peers' timing can change how many datagrams there are.
# Each case directory holds relay.err, the fate of every datagram (sdtls-relay --log), beside
# the peers' logs (the sdtls side runs with -v).

# At 20% loss a handshake waits out 1, 2, 4, ... s retransmission timers, so peers live longer
# than in the loss-free tests (set before lib.sh, which keeps a value already set).
IT_TIMEOUT=${IT_TIMEOUT:-45}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

RELAY=$(dirname "$SDTLS")/../relay/sdtls-relay
if [[ ! -x $RELAY ]]; then
    echo "$IT_NAME: relay binary '$RELAY' is missing (build the sdtls_relay target)" >&2
    exit 1
fi

SEEDS=${LOSSY_SEEDS:-1 2 3 4 5}
LOSS=${LOSSY_LOSS:-0.2}
REORDER=${LOSSY_REORDER:-0.1}
LINES=10
HS_WAIT=30   # longest wait for a handshake: timers 1+2+4+8+16 s with room to spare
SETTLE_MS=500 # after the last line is handed over: time for the others to arrive
INFO=$IT_DIR/lossy.info

make_pki

# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

# start_relay NAME UPSTREAM-PORT SEED: run sdtls-relay in front of 127.0.0.1:UPSTREAM-PORT and
# set RELAY_PORT and RELAY_PID from its "relay: listening" line.
start_relay() {
    local name=$1 up=$2 seed=$3
    bg "$name" "$RELAY" --listen 127.0.0.1:0 --to "127.0.0.1:$up" --loss "$LOSS" \
        --reorder "$REORDER" --seed "$seed" --duration-s "$IT_TIMEOUT" --log
    RELAY_PID=$BG_PID
    wait_until "$IT_WAIT" relay_listening_or_dead "$name.err" "$RELAY_PID" ||
        fail "sdtls-relay printed no 'relay: listening' line within ${IT_WAIT}s"
    RELAY_PORT=$(sed -n 's/^relay: listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$name.err")
    [[ -n $RELAY_PORT ]] || fail "sdtls-relay did not start"
    return 0
}
relay_listening_or_dead() {
    has_line "$1" '^relay: listening ' || proc_done "$2"
}

# relay_summary NAME: stop the relay (it prints its counters on SIGTERM) and print them short.
relay_summary() {
    local line
    stop_bg "$RELAY_PID"
    line=$(grep -m1 '^relay: c2s ' "$1.err") || {
        echo "relay: no counters"
        return 0
    }
    line=${line#relay: }
    line=${line//forwarded=/fwd=}
    line=${line//dropped=/drop=}
    line=${line//duplicated=/dup=}
    line=${line//reordered=/reord=}
    echo "relay[$line]"
}

# paced_feeder INPUT TRIGGER REGEX RELEASE: once file TRIGGER has a line matching REGEX, write
# INPUT one line every 20 ms (so each line leaves as its own record), then hold stdin open until
# RELEASE exists. Every wait is bounded; the case's end (.stop) cuts them short.
paced_feeder() {
    local input=$1 trigger=$2 re=$3 release=$4 line
    wait_until "$HS_WAIT" trigger_or_stop "$trigger" "$re" || return 0
    [[ -e .stop ]] && return 0
    while IFS= read -r line; do
        printf '%s\n' "$line" || return 0
        sleep 0.02
    done <"$input"
    : >fed
    wait_until "$IT_TIMEOUT" released_or_stop "$release"
    return 0
}
trigger_or_stop() {
    has_line "$1" "$2" || [[ -e .stop ]]
}
released_or_stop() {
    [[ -e $1 || -e .stop ]]
}

# bg_paced NAME INPUT TRIGGER REGEX RELEASE CMD...: like bg_fed (stdin through the FIFO
# NAME.stdin, BG_PID is CMD alone), with paced_feeder writing it.
bg_paced() {
    local name=$1 input=$2 trigger=$3 re=$4 release=$5
    shift 5
    rm -f "$name.stdin"
    mkfifo "$name.stdin" || fail "mkfifo $name.stdin"
    timeout -k 2 "$IT_TIMEOUT" "$@" <"$name.stdin" >"$name.out" 2>"$name.err" &
    BG_PID=$!
    paced_feeder "$input" "$trigger" "$re" "$release" >"$name.stdin" &
    # shellcheck disable=SC2031 # BG_PIDS lives in the case's subshell, as in lib.sh's bg_fed
    BG_PIDS+=("$BG_PID" "$!")
}

# make_lines FILE SEED: LINES distinct lines of printable text.
make_lines() {
    local i
    for ((i = 1; i <= LINES; i++)); do
        printf 'seed %s line %02d: the quick brown fox jumps over the lazy dog %s\n' "$2" "$i" \
            '!"#$%&()*+,-./:;<=>?@[]^_{|}~'
    done >"$1"
}

# settle FILE: wait for a first line in FILE (bounded by IT_WAIT, a loaded host may be slow),
# then until FILE holds all LINES lines or SETTLE_MS pass (lines may be lost). check_lines
# judges the result.
settle() {
    wait_until "$IT_WAIT" has_line "$1" .
    SETTLE_END=$(($(now_ms) + SETTLE_MS))
    wait_until 1 all_or_settled "$1"
    return 0
}
all_or_settled() {
    [[ -f $1 ]] && (($(wc -l <"$1") >= LINES)) && return 0
    (($(now_ms) >= SETTLE_END))
}

# check_lines SENT GOT WHAT: at least one line arrived; each is a sent line, whole, at most once.
check_lines() {
    local sent=$1 got=$2 what=$3 bad dup n
    n=$(wc -l <"$got")
    ((n >= 1)) || fail "$what: none of the $LINES lines arrived"
    bad=$(grep -vxF -f "$sent" "$got" | head -n 3)
    [[ -z $bad ]] || fail "$what: received a line that was never sent (corrupted?): '$bad'"
    dup=$(sort "$got" | uniq -d | head -n 3)
    [[ -z $dup ]] || fail "$what: a line arrived twice (replayed record?): '$dup'"
    # A final partial line (no newline) would not be counted by wc; it would be corruption.
    [[ $(tail -c 1 "$got" | od -An -c | tr -d ' ') == '\n' ]] ||
        fail "$what: output ends with a partial line"
    return 0
}

# hs_of FILE: "rtx=N ms=M" from FILE's handshake line (retransmitted flights, duration).
hs_of() {
    sed -n 's/^handshake: .* \(rtx=[0-9][0-9]* ms=[0-9][0-9]*\)$/\1/p' "$1" | head -n1
}

# note TEXT: what the PASS/FAIL line shows for this case.
note() {
    printf '%s' "$*" >"$INFO"
}

# run_lossy NAME FUNC ARGS...: run_case, with the case's note appended to its PASS/FAIL line.
run_lossy() {
    local out=$IT_DIR/run_case.out info
    rm -f "$INFO"
    run_case "$@" >"$out"
    info=$(cat "$INFO" 2>/dev/null)
    head -n 1 "$out" | tr -d '\n'
    printf '  %s\n' "${info:-rtx=?}"
    tail -n +2 "$out"
}

# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------

# a) sdtls client -> relay -> openssl s_server -listen.
case_sdtls_client() {
    local seed=$1 sport hs n
    make_lines lines.txt "$seed"
    : >empty
    sport=$(pick_port) || fail "no free UDP port"
    # s_server's stdin stays open (its end of input would make it close the session).
    bg_fed server empty server.release openssl s_server -dtls1_2 -listen \
        -accept "127.0.0.1:$sport" -cert "$IT_PKI/ec.pem" -key "$IT_PKI/ec.key" -quiet
    local s_server_pid=$BG_PID
    wait_port_or_exit "$sport" "$s_server_pid" "openssl s_server"
    start_relay relay "$sport" "$seed"
    bg_paced client lines.txt client.err '^handshake: ' release \
        "$SDTLS" client "127.0.0.1:$RELAY_PORT" --ca "$IT_PKI/ca.pem" -v
    local client_pid=$BG_PID

    wait_until "$HS_WAIT" handshake_or_dead client.err "$client_pid" ||
        fail "sdtls client: no handshake within ${HS_WAIT}s through the relay"
    expect_grep client.err '^handshake: DTLSv1\.2 ' "sdtls client: handshake did not complete"
    expect_grep client.err 'recv HelloVerifyRequest' "sdtls client: no cookie exchange"
    hs=$(hs_of client.err)
    note "$hs"

    wait_until "$IT_WAIT" test -e fed || fail "the client's stdin was not fed"
    settle server.out
    : >release
    expect_exit "$client_pid" 0 "sdtls client"
    n=$(wc -l <server.out)
    note "$hs lines=$n/$LINES $(relay_summary relay)"
    check_lines lines.txt server.out "openssl s_server"
    return 0
}
handshake_or_dead() {
    has_line "$1" '^handshake: ' || proc_done "$2"
}

# b) openssl s_client -> relay -> sdtls server --echo --once.
case_openssl_client() {
    local seed=$1 hs n
    make_lines lines.txt "$seed"
    start_sdtls_server server --cert "$IT_PKI/ec.pem" --key "$IT_PKI/ec.key" --echo --once -v
    start_relay relay "$PORT" "$seed"
    # -state marks the client's own handshake end ("read finished"): lines are fed after it,
    # so s_client does not read them as one chunk (one record) while still in the handshake.
    bg_paced client lines.txt client.err '^SSL_connect:SSLv3/TLS read finished' release \
        openssl s_client -dtls1_2 -connect "127.0.0.1:$RELAY_PORT" -CAfile "$IT_PKI/ca.pem" \
        -verify_return_error -quiet -no_ign_eof -state
    local client_pid=$BG_PID

    wait_until "$HS_WAIT" handshake_or_dead server.err "$SERVER_PID" ||
        fail "sdtls server: no handshake within ${HS_WAIT}s through the relay"
    expect_grep server.err '^handshake: DTLSv1\.2 ' "sdtls server: handshake did not complete"
    hs=$(hs_of server.err)
    note "$hs"
    # The server's last flight may be lost: s_client then retransmits its own and the server
    # must answer with its last flight again, which takes another timer period or more.
    wait_until "$HS_WAIT" trigger_or_dead client.err '^SSL_connect:SSLv3/TLS read finished' \
        "$client_pid" || fail "openssl s_client: no handshake within ${HS_WAIT}s"
    expect_grep client.err '^SSL_connect:SSLv3/TLS read finished' \
        "openssl s_client: handshake did not complete"

    wait_until "$IT_WAIT" test -e fed || fail "the client's stdin was not fed"
    settle client.out
    : >release
    # On end of input s_client sends close_notify and exits 0; the server may never see it.
    expect_exit "$client_pid" 0 "openssl s_client"
    n=$(wc -l <client.out)
    note "$hs lines=$n/$LINES $(relay_summary relay)"
    check_lines lines.txt client.out "echo through sdtls server"
    return 0
}
trigger_or_dead() {
    has_line "$1" "$2" || proc_done "$3"
}

for seed in $SEEDS; do
    run_lossy "a) sdtls client -> relay -> s_server, seed $seed" case_sdtls_client "$seed"
done
for seed in $SEEDS; do
    run_lossy "b) s_client -> relay -> sdtls server, seed $seed" case_openssl_client "$seed"
done
finish
