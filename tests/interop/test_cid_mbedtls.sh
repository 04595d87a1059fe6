#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, DTLS 1.2 Connection ID (RFC 9146), against Mbed TLS 3.6's ssl_client2/ssl_server2
# (built from Debian 13's source by scripts/build-peers.sh; Debian 12's Mbed TLS 2.28 has only
# a draft CID):
#
#   a) ssl_client2 cid=1 -> sdtls server --cid N --echo: the CID is negotiated both ways (the
#      CID ssl_client2 reports for its peer is the one sdtls prints as `cid:`), records after
#      the handshake are tls12_cid records (type 25) towards a side that asked for a non-empty
#      CID and plain records otherwise (seen at sdtls-relay --log), and every request comes
#      back as its echo. With PSK/CCM_8 and with
#      ECDHE-ECDSA/CCM_8 certificates; with a CID on both sides and with an empty one.
#   b) sdtls client --cid N -> ssl_server2 cid=1: ssl_server2 reports sdtls's CID as its
#      peer's, reads our line and answers.
#   c) NAT rebinding: ssl_client2 -> sdtls-relay --rebind-after 4 -> sdtls server. After the
#      handshake and one (empty) record, the relay sends from a new source port; the sdtls
#      server must route the records by CID and move the session to the new port (RFC 9146
#      6), so the three request/echo exchanges that follow all succeed. Without CIDs (NEG) the
#      same rebinding strands the client.
#   The other direction of (c) is not run: ssl_server2 talks to its client through a UDP
#   socket connected to the client's first address (mbedtls_net_accept), so a datagram from a
#   new address never reaches that connection, CID or not.
# Usage: test_cid_mbedtls.sh PATH/TO/sdtls. Peers from $SDTLS_PEERS_CACHE (default
# /var/cache/sdtls-peers)/mbedtls-3.6; the relay is PATH/TO/../relay/sdtls-relay.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

MBEDTLS=${SDTLS_PEERS_CACHE:-/var/cache/sdtls-peers}/mbedtls-3.6
for b in ssl_client2 ssl_server2; do
    if [[ ! -x $MBEDTLS/$b ]]; then
        echo "$IT_NAME: $MBEDTLS/$b is missing; build it with scripts/build-peers.sh" >&2
        exit 1
    fi
done
RELAY=$(dirname "$SDTLS")/../relay/sdtls-relay
if [[ ! -x $RELAY ]]; then
    echo "$IT_NAME: relay binary '$RELAY' is missing (build the sdtls_relay target)" >&2
    exit 1
fi

make_pki
P=$IT_PKI
ID=sensor-17
KEY=00112233445566778899aabbccddeeff
PSK_M=(psk="$KEY" psk_identity="$ID" force_ciphersuite=TLS-PSK-WITH-AES-128-CCM-8)
PSK_S=(--psk-identity "$ID" --psk "$KEY" --ciphers TLS_PSK_WITH_AES_128_CCM_8)
# ssl_client2 reads after each write; hs_timeout keeps it from retransmitting handshake
# flights on a slow host (which would change the datagram count the rebinding case uses).
MCLI=(dtls=1 server_addr=127.0.0.1 read_timeout=5000 hs_timeout=3000-6000)

# start_relay UPSTREAM-PORT EXTRA...: sdtls-relay in front of 127.0.0.1:PORT, logging every
# datagram; sets RELAY_PORT and RELAY_PID.
start_relay() {
    local up=$1
    shift
    bg relay "$RELAY" --listen 127.0.0.1:0 --to "127.0.0.1:$up" --log --duration-s "$IT_TIMEOUT" "$@"
    RELAY_PID=$BG_PID
    wait_until "$IT_WAIT" relay_listening_or_dead relay.err "$RELAY_PID" ||
        fail "sdtls-relay printed no 'relay: listening' line within ${IT_WAIT}s"
    RELAY_PORT=$(sed -n 's/^relay: listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' relay.err)
    [[ -n $RELAY_PORT ]] || fail "sdtls-relay did not start"
    return 0
}
relay_listening_or_dead() {
    has_line "$1" '^relay: listening ' || proc_done "$2"
}

# sdtls_cid FILE: the CID the sdtls CLI printed (lowercase hex, may be empty); fails if none.
sdtls_cid() {
    has_line "$1" '^cid: ' || fail "no 'cid:' line in $1: no CID negotiated"
    sed -n 's/^cid: \([0-9a-f]*\)$/\1/p' "$1" | head -n1
}

# mbedtls_peer_cid FILE: the peer CID ssl_client2/ssl_server2 reported after the handshake.
mbedtls_peer_cid() {
    has_line "$1" '^\(initial handshake\) Use of Connection ID has been negotiated' ||
        fail "Mbed TLS did not negotiate a CID ($1)"
    sed -n 's/^(initial handshake) Peer CID (length [0-9]* Bytes): *//p' "$1" | head -n1 | tr -d ' '
}

# expect_exchanges FILE N: ssl_client2 read N answers as long as its requests.
expect_exchanges() {
    local w r
    w=$(grep -c '^  > Write to server: 51 bytes written' "$1")
    r=$(grep -c '^  < Read from server: 51 bytes read' "$1")
    ((w >= $2 && r == w)) || fail "ssl_client2 wrote $w 51-byte requests and read $r echoes, expected $2"
    return 0
}

# expect_records FILE C2S S2C: the datagrams the relay forwarded after the server's last
# handshake flight (the first server datagram opening with ChangeCipherSpec) start with a
# tls12_cid record (RFC 9146 4: content type 25) in a direction marked "cid", and never in one
# marked "plain" (the receiver asked for an empty CID: RFC 9146 3, records without CID).
expect_records() {
    local after dir want
    after=$(awk '/ s2c #[0-9]+ .* first=0x14 / { seen = 1; next } seen && / (c2s|s2c) #/' "$1")
    for dir in c2s s2c; do
        want=$2
        [[ $dir == s2c ]] && want=$3
        grep -q " $dir #" <<<"$after" || fail "no $dir datagram after the handshake in $1"
        if [[ $want == cid ]]; then
            ! grep " $dir #" <<<"$after" | grep -vq ' first=0x19 ' ||
                fail "$dir: a datagram without CID record: $(grep " $dir #" <<<"$after" | grep -v ' first=0x19 ' | head -n1)"
        else
            ! grep " $dir #" <<<"$after" | grep -q ' first=0x19 ' ||
                fail "$dir: a CID record, but the receiver asked for an empty CID"
        fi
    done
    return 0
}

# cid_dirs SDTLS-LEN MBEDTLS-HEX ROLE: "c2s s2c" record kinds for the lengths of the CIDs the
# sdtls side (ROLE server or client) and the Mbed TLS side asked for.
cid_dirs() {
    local to_sdtls=plain to_mbedtls=plain
    (($1 > 0)) && to_sdtls=cid
    [[ -n $2 ]] && to_mbedtls=cid
    if [[ $3 == server ]]; then
        echo "$to_sdtls $to_mbedtls"
    else
        echo "$to_mbedtls $to_sdtls"
    fi
}

# a) ssl_client2 -> relay -> sdtls server (echo).
case_mcli() { # sdtls-cid-len mbedtls-cid-hex "psk"|"cert"
    local ours theirs
    if [[ $3 == psk ]]; then
        start_sdtls_server srv --cid "$1" --echo --once -v "${PSK_S[@]}"
        start_relay "$PORT"
        bg cli "$MBEDTLS/ssl_client2" "${MCLI[@]}" server_port="$RELAY_PORT" cid=1 \
            cid_val="$2" exchanges=2 "${PSK_M[@]}"
    else
        start_sdtls_server srv --cid "$1" --echo --once -v --cert "$P/ec.pem" --key "$P/ec.key" \
            --ciphers TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
        start_relay "$PORT"
        bg cli "$MBEDTLS/ssl_client2" "${MCLI[@]}" server_port="$RELAY_PORT" cid=1 \
            cid_val="$2" exchanges=2 ca_file="$P/ca.pem" server_name=localhost \
            auth_mode=required force_ciphersuite=TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8
    fi
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "ssl_client2"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_exchanges cli.out 2
    ours=$(sdtls_cid srv.err)
    theirs=$(mbedtls_peer_cid cli.out)
    [[ ${#ours} -eq $(($1 * 2)) ]] || fail "sdtls CID '$ours' is not $1 bytes"
    [[ $ours == "$theirs" ]] || fail "sdtls CID $ours, ssl_client2 says its peer's is '$theirs'"
    stop_bg "$RELAY_PID"
    # shellcheck disable=SC2046 # two words
    expect_records relay.err $(cid_dirs "$1" "$2" server)
}

# b) sdtls client -> relay -> ssl_server2.
case_msrv() { # sdtls-cid-len mbedtls-cid-hex
    local ours theirs
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$MBEDTLS/ssl_server2" dtls=1 server_addr=127.0.0.1 server_port="$PORT" cid=1 \
        cid_val="$2" read_timeout=5000 "${PSK_M[@]}"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "ssl_server2"
    start_relay "$PORT"
    lines_file in.txt from-sdtls short
    head -n1 in.txt >line.txt
    bg_fed cli line.txt release "$SDTLS" client "127.0.0.1:$RELAY_PORT" -v --cid "$1" "${PSK_S[@]}"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line cli.out 'Successful connection using: TLS-PSK-WITH-AES-128-CCM-8' ||
        fail "no answer from ssl_server2"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_grep srv.out "^$(head -c 20 line.txt)" "ssl_server2 printed our line"
    expect_grep srv.out "^  < Read from client: $(stat -c %s line.txt) bytes read" \
        "ssl_server2 read our line whole"
    ours=$(sdtls_cid cli.err)
    theirs=$(mbedtls_peer_cid srv.out)
    [[ ${#ours} -eq $(($1 * 2)) ]] || fail "sdtls CID '$ours' is not $1 bytes"
    [[ $ours == "$theirs" ]] || fail "sdtls CID $ours, ssl_server2 says its peer's is '$theirs'"
    stop_bg "$RELAY_PID"
    # shellcheck disable=SC2046 # two words
    expect_records relay.err $(cid_dirs "$1" "$2" client)
}

# c) The relay changes its upstream source port after the 4th client datagram: ClientHello,
# ClientHello with cookie, ClientKeyExchange+CCS+Finished, then an empty application record
# (request_size=0), whose echo is lost with the old binding. The 51-byte requests that follow
# come from the new port.
case_rebind() {
    local acc closed newport
    start_sdtls_server srv --cid 4 --echo --once -v "${PSK_S[@]}"
    start_relay "$PORT" --rebind-after 4
    bg cli "$MBEDTLS/ssl_client2" "${MCLI[@]}" server_port="$RELAY_PORT" cid=1 cid_val=c1d2c3 \
        exchanges=3 request_size=0 "${PSK_M[@]}"
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "ssl_client2 (through a NAT rebinding)"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_grep relay.err '^relay: rebound upstream after 4 client datagrams' "the relay rebound"
    expect_grep relay.err '^relay: .* c2s #4 len=[0-9]* first=0x19 ' \
        "the 4th client datagram was the first CID record (the empty one)"
    expect_exchanges cli.out 3
    newport=$(sed -n 's/^relay: rebound upstream .*new source port \([0-9]*\)$/\1/p' relay.err)
    acc=$(sed -n 's/^accepted: 127\.0\.0\.1:\([0-9]*\)$/\1/p' srv.err)
    closed=$(sed -n 's/^closed: 127\.0\.0\.1:\([0-9]*\)$/\1/p' srv.err)
    [[ -n $newport && -n $acc ]] || fail "no relay port or accepted line"
    [[ $closed == "$newport" && $acc != "$newport" ]] ||
        fail "session accepted from port $acc should have ended at the new port $newport, not '$closed'"
    stop_bg "$RELAY_PID"
    expect_records relay.err cid cid
}

# NEG: the same rebinding without CIDs: datagrams from the new port belong to no session (and
# are no ClientHello), so ssl_client2's first 51-byte request is never answered.
case_rebind_no_cid() {
    start_sdtls_server srv --echo --once -v "${PSK_S[@]}"
    start_relay "$PORT" --rebind-after 4
    bg cli "$MBEDTLS/ssl_client2" dtls=1 server_addr=127.0.0.1 read_timeout=1000 \
        hs_timeout=3000-6000 server_port="$RELAY_PORT" cid=0 exchanges=1 request_size=0 \
        "${PSK_M[@]}"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "ssl_client2 without CID through a NAT rebinding"
    expect_grep relay.err '^relay: rebound upstream after 4 client datagrams' "the relay rebound"
    expect_grep cli.out 'The operation timed out' "ssl_client2 timed out waiting for the echo"
    ! has_line srv.err '^cid: ' || fail "a CID was negotiated without cid=1"
}

run_case "cid mbedtls-client -> sdtls, PSK CCM_8, CIDs 4+3 bytes" case_mcli 4 c1d2c3 psk
run_case "cid mbedtls-client -> sdtls, ECDSA CCM_8, CIDs 8+0 bytes" case_mcli 8 "" cert
run_case "cid sdtls-client -> mbedtls, PSK CCM_8, CIDs 4+2 bytes" case_msrv 4 5e55
run_case "cid sdtls-client -> mbedtls, PSK CCM_8, CIDs 0+5 bytes" case_msrv 0 0102030405
run_case "cid mbedtls-client -> relay rebind -> sdtls (RFC 9146 6)" case_rebind
run_case "cid NEG no CID: mbedtls-client -> relay rebind -> sdtls" case_rebind_no_cid
finish
