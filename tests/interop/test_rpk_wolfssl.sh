#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop, raw public keys (RFC 7250) in DTLS 1.2, against wolfSSL 5.7 (built from Debian 13's
# source by scripts/build-peers.sh with --enable-rpk; Debian 12's wolfSSL 5.5.4 predates RPK,
# and Mbed TLS does not implement RFC 7250). Both sides authenticate with raw keys:
#
#   a) wolfSSL's example client --rpk -> sdtls server --raw-public-key --echo, which pins the
#      client's SubjectPublicKeyInfo hash (--verify-fingerprint): the echo equals wolfSSL's
#      message; the server's Certificate message is the 91-byte P-256 SPKI (3-byte length
#      prefix: 94 bytes), not a certificate.
#   b) sdtls client --raw-public-key, pinning the server's SPKI -> wolfssl-rpk-server
#      (tests/interop/peers/wolfssl_rpk_server.c): wolfSSL reports RawPublicKey (2) as the
#      negotiated server and client certificate types; the echo equals our line.
#   c) NEG: a pin that is not the peer's key fails the handshake, in each direction.
# The wolfSSL client runs with -R (offers renegotiation_info) and, once, without: the sdtls
# server must then leave renegotiation_info out of its ServerHello (RFC 5746 3.6), which
# wolfSSL checks (it aborts with -388 on an unsolicited one).
# Usage: test_rpk_wolfssl.sh PATH/TO/sdtls. Peers from $SDTLS_PEERS_CACHE (default
# /var/cache/sdtls-peers)/wolfssl.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl od timeout

WOLFSSL=${SDTLS_PEERS_CACHE:-/var/cache/sdtls-peers}/wolfssl
for b in client wolfssl-rpk-server root/certs/dh2048.pem; do
    if [[ ! -e $WOLFSSL/$b ]]; then
        echo "$IT_NAME: $WOLFSSL/$b is missing; build it with scripts/build-peers.sh" >&2
        exit 1
    fi
done

make_pki
P=$IT_PKI

# Keys for wolfSSL (DER: the SPKI is its "certificate" in RPK mode) and their pins.
(
    cd "$P" || exit 1
    openssl ecparam -name prime256v1 -genkey -noout -out wolf.key.pem &&
        openssl ec -in wolf.key.pem -outform DER -out wolf.key.der &&
        openssl pkey -in wolf.key.pem -pubout -outform DER -out wolf.spki.der &&
        openssl ecparam -name prime256v1 -genkey -noout -out other.key.pem &&
        openssl pkey -in other.key.pem -pubout -outform DER -out other.spki.der &&
        openssl x509 -in ec.pem -pubkey -noout | openssl pkey -pubin -outform DER -out ec.spki.der
) >"$IT_DIR/keys.log" 2>&1 || {
    cat "$IT_DIR/keys.log" >&2
    exit 1
}

# spki_fp FILE: "sha-256 AB:..." of a DER SubjectPublicKeyInfo (what --verify-fingerprint
# pins for a raw key).
spki_fp() {
    echo "sha-256 $(openssl dgst -sha256 -binary "$1" | od -An -v -tx1 | tr -d ' \n' |
        tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//')"
}

# The wolfSSL examples want ./certs/dh2048.pem in their working directory.
wolf_root() {
    ln -sfn "$WOLFSSL/root/certs" certs
}

# a) wolfSSL client -> sdtls server.
case_wcli() { # wolfssl-cipher suite group [extra client args]
    local wc=$1 suite=$2 group=$3
    shift 3
    wolf_root
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --raw-public-key \
        --verify-fingerprint "$(spki_fp "$P/wolf.spki.der")" --echo --once -vv
    bg cli "$WOLFSSL/client" -u -v 3 -h 127.0.0.1 -p "$PORT" --rpk --files-are-der \
        -c "$P/wolf.spki.der" -k "$P/wolf.key.der" -A "$P/wolf.spki.der" -l "$wc" "$@"
    CLI_PID=$BG_PID
    expect_exit "$CLI_PID" 0 "wolfSSL client"
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    expect_grep cli.out "^SSL cipher suite is $suite\$" "wolfSSL names the suite"
    expect_grep cli.out '^hello wolfssl!$' "wolfSSL got its message back"
    expect_handshake srv.err "$suite" "$group" "$(spki_fp "$P/wolf.spki.der")"
    # RFC 7250 3: the Certificate body is the SubjectPublicKeyInfo alone (91 bytes for P-256)
    # in a 3-byte length: 94 bytes, where the X.509 certificate would be several hundred.
    expect_grep srv.err 'queue Certificate seq=[0-9]* len=94$' "sdtls sent its raw key"
    expect_grep srv.err 'recv Certificate \(94 bytes\)' "wolfSSL sent its raw key"
}

# b) sdtls client -> wolfssl-rpk-server.
case_wsrv() { # wolfssl-cipher suite group
    local wc=$1 suite=$2 group=$3
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$WOLFSSL/wolfssl-rpk-server" "$PORT" "$P/wolf.spki.der" "$P/wolf.key.der" "$wc"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "wolfssl-rpk-server"
    lines_file in.txt from-sdtls
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -vv --raw-public-key \
        --verify-fingerprint "$(spki_fp "$P/wolf.spki.der")" --cert "$P/ec.pem" --key "$P/ec.key"
    CLI_PID=$BG_PID
    wait_bytes cli.out in.txt "echo from wolfssl-rpk-server"
    : >release
    expect_exit "$CLI_PID" 0 "sdtls client"
    expect_exit "$SRV_PID" 0 "wolfssl-rpk-server"
    same_bytes in.txt cli.out "echo"
    expect_grep srv.out "^handshake: $suite server_cert_type=2 client_cert_type=2\$" \
        "wolfSSL negotiated raw public keys both ways"
    expect_handshake cli.err "$suite" "$group" "$(spki_fp "$P/wolf.spki.der")"
    expect_grep cli.err 'queue Certificate seq=[0-9]* len=94$' "sdtls sent its raw key"
}

# c) The sdtls server pins another key than the wolfSSL client's.
case_wcli_wrong_pin() {
    wolf_root
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --raw-public-key \
        --verify-fingerprint "$(spki_fp "$P/other.spki.der")" --echo --once -v
    bg cli "$WOLFSSL/client" -u -v 3 -h 127.0.0.1 -p "$PORT" --rpk --files-are-der \
        -c "$P/wolf.spki.der" -k "$P/wolf.key.der" -A "$P/wolf.spki.der" -R \
        -l ECDHE-ECDSA-AES128-GCM-SHA256
    CLI_PID=$BG_PID
    expect_fail_exit "$SERVER_PID" "sdtls server pinning another key"
    expect_no_handshake srv.err "sdtls server"
    expect_grep srv.err '^error: .*handshake failed' "sdtls server names the failure"
    expect_fail_exit "$CLI_PID" "wolfSSL client (its key was refused)"
}

# c) The sdtls client pins another key than the server's.
case_wsrv_wrong_pin() {
    PORT=$(pick_port) || fail "no free UDP port"
    bg srv "$WOLFSSL/wolfssl-rpk-server" "$PORT" "$P/wolf.spki.der" "$P/wolf.key.der"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "wolfssl-rpk-server"
    lines_file in.txt from-sdtls
    bg_fed cli in.txt release "$SDTLS" client "127.0.0.1:$PORT" -v --raw-public-key \
        --verify-fingerprint "$(spki_fp "$P/other.spki.der")" --cert "$P/ec.pem" --key "$P/ec.key"
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client pinning another key"
    expect_no_handshake cli.err "sdtls client"
    expect_fail_exit "$SRV_PID" "wolfssl-rpk-server (its key was refused)"
    : >release
}

run_case "rpk wolfssl-client -> sdtls ECDSA AES128-GCM" case_wcli \
    ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 -R
run_case "rpk wolfssl-client -> sdtls ECDSA CCM_8" case_wcli \
    ECDHE-ECDSA-AES128-CCM-8 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 x25519 -R
run_case "rpk sdtls-client -> wolfssl ECDSA AES128-GCM" case_wsrv \
    ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519
run_case "rpk sdtls-client -> wolfssl ECDSA CCM_8" case_wsrv \
    ECDHE-ECDSA-AES128-CCM-8 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 x25519
run_case "rpk NEG sdtls server pins another key" case_wcli_wrong_pin
run_case "rpk NEG sdtls client pins another key" case_wsrv_wrong_pin
run_case "rpk wolfssl-client without renegotiation_info -> sdtls" case_wcli \
    ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519
finish
