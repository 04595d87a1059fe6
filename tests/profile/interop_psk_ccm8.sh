#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop of the reduced library (SDTLS_PROFILE=psk-ccm8: TLS_PSK_WITH_AES_128_CCM_8 only, no
# certificates), through its peer program examples/psk_node, against OpenSSL and GnuTLS. The
# CLI is not built in that profile, so psk_node stands in for it; it uses the library's
# default cipher list, which in this profile is the one suite.
#
#   a) psk_node client --no-echo -> openssl s_server -nocert -psk: the client names the suite
#      and the psk-ccm8 library; s_server prints the message byte for byte.
#   b) openssl s_client -psk -> psk_node server: the server names the suite, prints the line
#      as a "data:" line and echoes it; s_client gets the echo and exits 0.
#   c) psk_node client -> gnutls-serv --echo --pskpasswd: the suite, and the echo.
#   d) gnutls-cli --pskusername/--pskkey -> psk_node server: gnutls reports PSK with
#      AES-128-CCM-8, the server names the suite, and the echo comes back.
#      c and d use the priority string NORMAL:+PSK:+AES-128-CCM-8: with every suite GnuTLS
#      has on offer, the choice is the reduced library's (it offers and accepts one suite).
#   e) psk_node client with the wrong key -> s_server: the client fails (status 1, not a
#      timeout kill), completes no handshake, prints an error line; s_server got no data.
#      No alert can be asserted here: OpenSSL, like any DTLS peer (RFC 6347 4.1.2.7), drops
#      the Finished it cannot decrypt without a word, so the client only sees its 10 s
#      handshake bound expire. f) is the negative case where an alert is named.
#   f) s_client with an identity psk_node does not know -> psk_node server: the server aborts
#      with unknown_psk_identity (its "failed:" line names it) and keeps serving; s_client
#      fails naming "unknown psk identity".
#   g) connection IDs (RFC 9146): psk_node client --cid 4 -> gnutls-serv (GnuTLS 3.7 has no
#      CIDs, so the extension is ignored and the echo works without one), and psk_node client
#      --cid 4 -> psk_node server --cid 4 (both print the CID they negotiated).
#
# Every psk_node server case ends it with SIGTERM and expects exit status 0 (close_notify to
# live sessions). A missing peer program fails the script (lib.sh `need`), as in every interop
# script of this project: a missing peer must not pass as a skip.
# gnutls-serv has no bind-address option (it listens on all addresses); clients connect to
# 127.0.0.1. Everything else binds 127.0.0.1.
# Usage: interop_psk_ccm8.sh PATH/TO/psk_node
source "$(dirname "${BASH_SOURCE[0]}")/../interop/lib.sh" "$@"
need openssl gnutls-serv gnutls-cli timeout

PSK_NODE=$SDTLS # lib.sh checked $1 and made it absolute
SUITE=TLS_PSK_WITH_AES_128_CCM_8
ID=sensor-17
KEY=00112233445566778899aabbccddeeff
OTHER_KEY=ffeeddccbbaa99887766554433221100
GNUTLS_PRIO=NORMAL:+PSK:+AES-128-CCM-8

# The line psk_node prints for a record: printable ASCII as is, other bytes and '\' as \xHH.
# MSG is printable on purpose (spaces and punctuation, no backslash), so it reads back as is.
MSG='psk-ccm8 node says hello: 0123456789 !#$%&()*+,-./:;<=>?@[]^_{|}~'

# expect_node_handshake FILE: FILE has psk_node's "handshake: SUITE" line, and nothing else
# names another suite.
expect_node_handshake() {
    local line
    line=$(grep -m1 '^handshake: ' "$1") || fail "no 'handshake:' line in $1"
    [[ $line == "handshake: $SUITE" ]] || fail "expected 'handshake: $SUITE', got: '$line'"
    return 0
}

# expect_node_version FILE: the client's version line names the psk-ccm8 library.
expect_node_version() {
    local line
    line=$(grep -m1 '^version: ' "$1") || fail "no 'version:' line in $1"
    [[ $line =~ ^version:\ sdtls\ [0-9.]+\ psk-ccm8\ \(OpenSSL\  ]] ||
        fail "expected the psk-ccm8 library in the version line, got: '$line'"
    return 0
}

# has_exact FILE LINE: FILE holds LINE as a whole line (fixed string).
has_exact() {
    [[ -f $1 ]] && grep -Fxq -- "$2" "$1"
}

# start_node_server NAME ARGS...: psk_node server on 127.0.0.1:0 with ID/KEY and ARGS; waits
# for its "listening:" line (stdout) and sets PORT and NODE_PID.
start_node_server() {
    local name=$1
    shift
    bg "$name" "$PSK_NODE" server 127.0.0.1:0 "$ID" "$KEY" "$@"
    NODE_PID=$BG_PID
    wait_listening "$name.out" "$NODE_PID" "psk_node server"
}

# stop_node_server: SIGTERM must end psk_node server cleanly (status 0).
stop_node_server() {
    proc_done "$NODE_PID" && fail "psk_node server exited before SIGTERM"
    kill -TERM "$NODE_PID"
    expect_exit "$NODE_PID" 0 "psk_node server after SIGTERM"
}

# start_s_server KEY: openssl s_server, PSK only (-nocert), one connection (-naccept 1), on a
# free port (sets PORT, SRV_PID). Its stdin is empty but held open (until srv_release exists):
# at the end of its input s_server closes the connection, -quiet notwithstanding, before the
# client's record arrives.
start_s_server() {
    PORT=$(pick_port) || fail "no free UDP port"
    : >srv_in.txt
    bg_fed srv srv_in.txt srv_release openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" \
        -nocert -psk "$1" -psk_identity "$ID" -cipher PSK-AES128-CCM8 -naccept 1 -quiet
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "openssl s_server"
}

# start_gnutls_serv: gnutls-serv echo server with a PSK password file (sets PORT, SRV_PID).
start_gnutls_serv() {
    printf '%s\n' "other:0102030405060708" "$ID:$KEY" >psk.txt
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv gnutls-serv --udp --echo -p "$PORT" --pskpasswd psk.txt --priority "$GNUTLS_PRIO"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "gnutls-serv"
}

# a) psk_node client -> openssl s_server (which does not echo: --no-echo).
case_client_openssl() {
    start_s_server "$KEY"
    bg cli "$PSK_NODE" client "127.0.0.1:$PORT" "$ID" "$KEY" "$MSG" --no-echo
    expect_exit "$BG_PID" 0 "psk_node client"
    expect_node_handshake cli.out
    expect_node_version cli.out
    # Our close_notify ends s_server's only connection (-naccept 1).
    expect_exit "$SRV_PID" 0 "openssl s_server"
    printf '%s' "$MSG" >expected.txt
    same_bytes expected.txt srv.out "psk_node client -> openssl s_server"
}

# b) openssl s_client -> psk_node server (echo).
case_server_openssl() {
    start_node_server node
    printf '%s\n' "$MSG" >in.txt
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -psk "$KEY" -psk_identity "$ID" -cipher PSK-AES128-CCM8 -quiet -no_ign_eof
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo back to openssl s_client"
    : >release
    expect_exit "$CLI_PID" 0 "openssl s_client"
    same_bytes in.txt cli.out "echo"
    expect_node_handshake node.out
    # s_client sends the line with its newline as one record.
    expect_grep node.out "^data: " "psk_node server printed the record"
    has_exact node.out "data: $MSG\\x0a" ||
        fail "psk_node server: expected the line 'data: $MSG\\x0a'"
    wait_until "$IT_WAIT" has_line node.out '^closed: ' ||
        fail "psk_node server did not report the close_notify exchange"
    stop_node_server
}

# c) psk_node client -> gnutls-serv (echo).
case_client_gnutls() {
    start_gnutls_serv
    bg cli "$PSK_NODE" client "127.0.0.1:$PORT" "$ID" "$KEY" "$MSG"
    expect_exit "$BG_PID" 0 "psk_node client"
    expect_node_handshake cli.out
    expect_node_version cli.out
    has_exact cli.out "echo: $MSG" || fail "psk_node client: expected the line 'echo: $MSG'"
}

# d) gnutls-cli -> psk_node server (echo).
case_server_gnutls() {
    start_node_server node
    printf '%s\n' "$MSG" >in.txt
    bg_fed cli in.txt release gnutls-cli --udp -p "$PORT" 127.0.0.1 --priority "$GNUTLS_PRIO" \
        --pskusername "$ID" --pskkey "$KEY"
    CLI_PID=$BG_PID
    # gnutls-cli's stdout also carries its session report: wait for the echoed line in it.
    wait_until "$IT_WAIT" has_exact cli.out "$MSG" ||
        fail "gnutls-cli did not print the echo within ${IT_WAIT}s"
    : >release
    expect_exit "$CLI_PID" 0 "gnutls-cli"
    expect_grep cli.out '^- Description: \(DTLS1\.2-[^)]*\)-\(PSK\)-\(AES-128-CCM-8\)$' \
        "gnutls-cli negotiated DTLS 1.2, PSK, AES-128-CCM-8"
    expect_node_handshake node.out
    has_exact node.out "data: $MSG\\x0a" ||
        fail "psk_node server: expected the line 'data: $MSG\\x0a'"
    stop_node_server
}

# e) psk_node client with the wrong key -> s_server.
case_client_wrong_key() {
    start_s_server "$KEY"
    bg cli "$PSK_NODE" client "127.0.0.1:$PORT" "$ID" "$OTHER_KEY" "$MSG" --no-echo
    expect_fail_exit "$BG_PID" "psk_node client with the wrong key"
    [[ $EXIT_RC -eq 1 ]] || fail "psk_node client exited with $EXIT_RC, expected 1"
    expect_no_handshake cli.out "psk_node client with the wrong key"
    expect_grep cli.err '^error: handshake: ' "psk_node client names the failure on stderr"
    [[ ! -s srv.out ]] || fail "openssl s_server received data from a client with the wrong key"
}

# f) s_client with an identity psk_node does not know -> psk_node server.
case_server_unknown_identity() {
    start_node_server node
    printf '%s\n' "$MSG" >in.txt
    bg_fed cli in.txt release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -psk "$KEY" -psk_identity nobody -cipher PSK-AES128-CCM8 -quiet -no_ign_eof
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "openssl s_client with an unknown identity"
    expect_grep cli.err 'unknown psk identity' "s_client got the unknown_psk_identity alert"
    : >release
    wait_until "$IT_WAIT" has_line node.out '^failed: ' ||
        fail "psk_node server reported no failed session"
    expect_grep node.out '^failed: 127\.0\.0\.1:[0-9]+: .*unknown_psk_identity$' \
        "psk_node server names the alert it sent"
    expect_no_handshake node.out "psk_node server"
    ! has_line node.out '^data: ' || fail "psk_node server took data from an unknown identity"
    stop_node_server
}

# g) --cid towards a peer without RFC 9146: the extension is ignored, nothing else changes.
case_cid_gnutls() {
    start_gnutls_serv
    bg cli "$PSK_NODE" client "127.0.0.1:$PORT" "$ID" "$KEY" "$MSG" --cid 4
    expect_exit "$BG_PID" 0 "psk_node client --cid 4"
    expect_node_handshake cli.out
    has_exact cli.out "echo: $MSG" || fail "psk_node client: expected the line 'echo: $MSG'"
    ! has_line cli.out '^cid: ' || fail "a CID was negotiated with GnuTLS 3.7, which has none"
}

# g) --cid on both sides of the reduced library: a 4-byte CID each way, and the echo.
case_cid_node() {
    start_node_server node --cid 4
    bg cli "$PSK_NODE" client "127.0.0.1:$PORT" "$ID" "$KEY" "$MSG" --cid 4
    expect_exit "$BG_PID" 0 "psk_node client --cid 4"
    expect_node_handshake cli.out
    has_exact cli.out "echo: $MSG" || fail "psk_node client: expected the line 'echo: $MSG'"
    expect_grep cli.out '^cid: [0-9a-f]{8}$' "psk_node client negotiated a 4-byte CID"
    expect_node_handshake node.out
    expect_grep node.out '^cid: [0-9a-f]{8}$' "psk_node server negotiated a 4-byte CID"
    stop_node_server
}

run_case "a) psk_node client -> openssl s_server" case_client_openssl
run_case "b) openssl s_client -> psk_node server" case_server_openssl
run_case "c) psk_node client -> gnutls-serv" case_client_gnutls
run_case "d) gnutls-cli -> psk_node server" case_server_gnutls
run_case "e) NEG psk_node client wrong key -> openssl s_server" case_client_wrong_key
run_case "f) NEG openssl s_client unknown identity -> psk_node server" \
    case_server_unknown_identity
run_case "g) psk_node client --cid -> gnutls-serv (no CID support)" case_cid_gnutls
run_case "g) psk_node client --cid -> psk_node server --cid" case_cid_node
finish
