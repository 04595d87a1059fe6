#!/usr/bin/env bash
# Key log interop: Wireshark's tshark decrypts an sdtls session with the NSS key log that
# `--keylog` (or SSLKEYLOGFILE) writes.
#
# Each case captures one session (handshake with cookie exchange, two lines echoed, close)
# on the loopback interface (`tshark -i lo`: needs root or the capture capability), then
# reads the capture:
#   - with the key log (`-o tls.keylog_file:FILE`, the TLS preference that DTLS uses too):
#     every handshake message is named, both Finished messages are decrypted (Verify Data),
#     the close_notify alerts are readable, and each record's plaintext is the line that was
#     sent, in both directions (the server echoes);
#   - without it (control): the Finished messages stay "Encrypted Handshake Message" and no
#     plaintext appears, so the decryption above is the key log's doing.
# The key log's client random is also matched against the ClientHello on the wire.
#
# No ChaCha20-Poly1305 case: tshark 4.0 (Debian 12) cannot decrypt DTLS 1.2 ChaCha20 records
# from any implementation (OpenSSL to OpenSSL included; its debug log shows a nonce built
# from the 48-bit sequence number without the epoch, RFC 7905 wants both).
#
# Needs tshark (Debian package tshark; see scripts/deps.sh). A missing tshark fails the test.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need tshark

# tshark takes seconds to start (dissector and extcap set-up), many more on a loaded machine:
# its own bounds, longer than lib.sh's IT_WAIT / IT_TIMEOUT for the sdtls peers.
TS_WAIT=${TS_WAIT:-60}         # tshark start-up, and its view of the end of the session
TS_LIFETIME=${TS_LIFETIME:-180} # upper bound on the capturing tshark's life

# ts_read ARGS...: tshark reading the session's packets from the capture, bounded; -n: no
# name lookups.
ts_read() {
    timeout "$TS_LIFETIME" tshark -n -r cap.pcapng -d "udp.port==$PORT,dtls" \
        -Y "udp.port == $PORT" "$@" 2>>tshark_read.err
}

# hex STRING: lowercase hex of the bytes, as tshark prints data.data.
hex() {
    printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# capture_start: tshark on lo for udp port $PORT into cap.pcapng, also printing each packet's
# summary as it comes (-P -l). tshark says "Capturing on" before its capture process has
# opened the interface, so readiness is proven instead: probe datagrams go to a second port
# in the capture filter until tshark prints one.
capture_start() {
    local probe_port next=0 now
    probe_port=$(pick_port) || fail "no free UDP port for the probe"
    # As lib.sh's bg, with tshark's own lifetime; case_cleanup stops it through BG_PIDS.
    timeout -k 2 "$TS_LIFETIME" tshark -n -l -P -i lo \
        -f "udp port $PORT or udp port $probe_port" -d "udp.port==$PORT,dtls" -w cap.pcapng \
        </dev/null >tshark.out 2>tshark.err &
    TSHARK_PID=$!
    BG_PIDS+=("$TSHARK_PID")
    local limit=$(($(now_ms) + TS_WAIT * 1000))
    while ! grep -q " $probe_port " tshark.out; do
        proc_done "$TSHARK_PID" && fail "tshark could not capture on lo: $(tail -n 3 tshark.err)"
        now=$(now_ms)
        ((now < limit)) || fail "tshark did not capture a probe datagram within ${TS_WAIT}s"
        if ((now >= next)); then
            printf 'sdtls-capture-probe' >"/dev/udp/127.0.0.1/$probe_port" 2>/dev/null
            next=$((now + 200))
        fi
        sleep 0.02
    done
    return 0
}

# capture_stop: wait until tshark has seen the two close_notify alerts that end the session
# (packets still in the capture buffer at SIGINT would be lost), then SIGINT (tshark
# finishes the file) and wait for the exit.
capture_stop() {
    wait_until "$TS_WAIT" two_alerts tshark.out ||
        fail "tshark did not see both close_notify alerts: $(cat tshark.out)"
    # TSHARK_PID is timeout(1), which passes SIGINT on to tshark.
    kill -INT "$TSHARK_PID" 2>/dev/null
    wait_exit "$TSHARK_PID" "$TS_WAIT" || fail "tshark did not stop within ${TS_WAIT}s"
    [[ $EXIT_RC -eq 0 ]] || fail "tshark exited with $EXIT_RC: $(tail -n 3 tshark.err)"
    [[ -s cap.pcapng ]] || fail "tshark wrote no capture file"
}
two_alerts() {
    [[ $(grep -c 'Alert' "$1") -ge 2 ]]
}

# case_keylog SUITE KEYTYPE WHO: one session with this suite and server key type; WHO says
# which side writes the key log: "client" (--keylog), "server" (--keylog) or "env"
# (the client, through SSLKEYLOGFILE).
case_keylog() {
    local suite=$1 keytype=$2 who=$3 keys=$PWD/keys.txt line random_log random_wire
    local srv_keylog=() cli_keylog=() cli_env=()
    case $who in
    client) cli_keylog=(--keylog "$keys") ;;
    server) srv_keylog=(--keylog "$keys") ;;
    env) cli_env=("SSLKEYLOGFILE=$keys") ;;
    *) fail "bad case argument $who" ;;
    esac
    PORT=$(pick_port) || fail "no free UDP port"
    {
        echo "keylog secret: $suite"
        echo "second record, over DTLS $who"
    } >input.txt

    capture_start
    bg srv "$SDTLS" server --listen "127.0.0.1:$PORT" --generate-cert "$keytype" --echo --once \
        --ciphers "$suite" "${srv_keylog[@]}"
    SRV_PID=$BG_PID
    wait_until "$IT_WAIT" listening_or_dead srv.err "$SRV_PID" ||
        fail "sdtls server printed no 'listening:' line"
    proc_done "$SRV_PID" && fail "sdtls server did not start: $(cat srv.err)"
    bg_fed cli input.txt cli_release env "${cli_env[@]}" "$SDTLS" client "127.0.0.1:$PORT" \
        --insecure "${cli_keylog[@]}"
    CLI_PID=$BG_PID
    wait_bytes cli.out input.txt "echo from the sdtls server"
    : >cli_release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_exit "$SRV_PID" 0 "sdtls server --once"
    same_bytes input.txt cli.out "echo"
    expect_handshake cli.err "$suite" x25519 "*"
    capture_stop

    # The key log: one NSS line, client random (32 bytes) and master secret (48 bytes).
    [[ -s $keys ]] || fail "no key log written ($who)"
    [[ $(wc -l <"$keys") -eq 1 ]] || fail "expected one key log line, got: $(cat "$keys")"
    line=$(cat "$keys")
    [[ $line =~ ^CLIENT_RANDOM\ ([0-9a-f]{64})\ [0-9a-f]{96}$ ]] ||
        fail "malformed key log line: '$line'"
    random_log=${BASH_REMATCH[1]}

    # Decrypted, field by field: frame|Info column|handshake types|random|verify_data|data.
    ts_read -o "tls.keylog_file:$keys" -T fields -E separator='|' -E occurrence=a \
        -e frame.number -e _ws.col.Info -e dtls.handshake.type -e dtls.handshake.random \
        -e dtls.handshake.verify_data -e data.data >dec.txt ||
        fail "tshark -r -T fields failed: $(tail -n 3 tshark_read.err)"
    random_wire=$(awk -F'|' '$3 == "1" { r = $4 } END { print r }' dec.txt)
    [[ $random_wire == "$random_log" ]] ||
        fail "key log client random $random_log is not the ClientHello's ($random_wire)"
    local want
    for want in '\|Client Hello\|1\|' '\|Hello Verify Request\|3\|' \
        '\|Server Hello, Certificate, Server Key Exchange, Server Hello Done\|2,11,12,14\|' \
        '\|Client Key Exchange, Change Cipher Spec, Finished\|16,20\|' \
        '\|Change Cipher Spec, Finished\|20\|' '\|Application Data\|' \
        '\|Alert \(Level: Warning, Description: Close Notify\)\|'; do
        expect_grep dec.txt "$want" "tshark decodes '$want' with the key log"
    done
    ! has_line dec.txt 'Encrypted (Handshake Message|Alert)' ||
        fail "tshark left records encrypted despite the key log: $(grep -m2 Encrypted dec.txt)"
    # verify_data is a label field in tshark 4.0: "1" when present.
    [[ $(grep -cE '[|,]20\|\|[^|]+\|$' dec.txt) -eq 2 ]] ||
        fail "expected 2 decrypted Finished messages with verify_data"
    while IFS= read -r line; do
        [[ $(grep -c "|$(hex "$line"$'\n')\$" dec.txt) -eq 2 ]] ||
            fail "line '$line' not decrypted twice (sent and echoed); data.data: $(cut -d'|' -f6 dec.txt)"
    done <input.txt

    # The same, as a person reads it: tshark -V names the Finished messages and their
    # Verify Data, and shows the decrypted records' bytes.
    ts_read -o "tls.keylog_file:$keys" -V >details.txt || fail "tshark -r -V failed"
    [[ $(grep -c 'Handshake Type: Finished (20)' details.txt) -eq 2 ]] ||
        fail "expected 2 'Handshake Type: Finished (20)' in tshark -V"
    [[ $(grep -c '^ *Verify Data' details.txt) -eq 2 ]] || fail "expected 2 Verify Data in tshark -V"
    grep -qF "keylog secret" details.txt || fail "the plaintext is not in tshark -V"

    # Control: without the key log nothing is decrypted.
    ts_read -T fields -E separator='|' -e _ws.col.Info -e data.data >plain.txt ||
        fail "tshark -r (no key log) failed"
    [[ $(grep -c 'Encrypted Handshake Message' plain.txt) -eq 2 ]] ||
        fail "without the key log, both Finished should be 'Encrypted Handshake Message'"
    ! grep -qE '\|.+$' plain.txt || fail "data.data present without the key log"
}

run_case "keylog: client --keylog, ECDSA AES128-GCM-SHA256" case_keylog \
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ec client
run_case "keylog: server --keylog, RSA AES128-GCM-SHA256" case_keylog \
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 rsa server
run_case "keylog: client SSLKEYLOGFILE, ECDSA AES256-GCM-SHA384" case_keylog \
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 ec env
finish
