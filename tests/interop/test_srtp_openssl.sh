#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: DTLS-SRTP (RFC 5764, RFC 7714) between the sdtls CLI and OpenSSL, both directions,
# for every protection profile OpenSSL supports:
#
#   openssl s_server/s_client -dtls1_2 -use_srtp PROFILES
#       -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen LEN
#   sdtls server|client --srtp PROFILE[:PROFILE...]
#       --export-keying-material EXTRACTOR-dtls_srtp:LEN
#
# LEN is 2 * (key + salt): 60 for the AES-CM profiles, 56 for AEAD_AES_128_GCM, 88 for
# AEAD_AES_256_GCM. Checks, byte for byte (hex compared without regard to case):
#   - both sides name the same profile (OpenSSL's "SRTP Extension negotiated, profile=");
#   - OpenSSL's "Keying material: HEX" equals sdtls's "exporter: EXTRACTOR-dtls_srtp HEX";
#   - and equals sdtls's "srtp: PROFILE client_key=.. client_salt=.. server_key=.. server_salt=.."
#     concatenated in the RFC 5764 4.2 order client_key|server_key|client_salt|server_salt,
#     with the key and salt lengths of the profile.
# Negative: no profile in common, and a peer that does not offer use_srtp, both fail the
# handshake (sdtls requires DTLS-SRTP once --srtp is given).
# Usage: test_srtp_openssl.sh PATH/TO/sdtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need openssl timeout

usage=$("$SDTLS" server --help 2>&1)
if [[ $usage != *--srtp* ]]; then
    echo "$IT_NAME: '$SDTLS' has no --srtp option (the CLI's usage does not list it)" >&2
    exit 1
fi

make_pki
P=$IT_PKI
LABEL=EXTRACTOR-dtls_srtp

# OpenSSL's profile names -> RFC 5764's (what sdtls prints), key and salt lengths.
rfc_name() {
    case $1 in
    SRTP_AES128_CM_SHA1_80) echo SRTP_AES128_CM_HMAC_SHA1_80 ;;
    SRTP_AES128_CM_SHA1_32) echo SRTP_AES128_CM_HMAC_SHA1_32 ;;
    *) echo "$1" ;;
    esac
}
key_salt_len() { # PROFILE (OpenSSL name): "KEY SALT" in bytes
    case $1 in
    SRTP_AES128_CM_SHA1_80 | SRTP_AES128_CM_SHA1_32) echo "16 14" ;;
    SRTP_AEAD_AES_128_GCM) echo "16 12" ;;
    SRTP_AEAD_AES_256_GCM) echo "32 12" ;;
    *) return 1 ;;
    esac
}
material_len() {
    local k s
    read -r k s < <(key_salt_len "$1")
    echo $((2 * (k + s)))
}
lower() { tr 'A-F' 'a-f'; }

# check_keys SDTLS-LOG OPENSSL-LOG PROFILE: the comparisons listed at the top.
check_keys() {
    local slog=$1 olog=$2 prof=$3 k s line ohex ehex ck cs sk ss got
    read -r k s < <(key_salt_len "$prof")
    expect_grep "$olog" "^SRTP Extension negotiated, profile=$prof\$" \
        "OpenSSL negotiated $prof"
    line=$(grep -m1 '^srtp: ' "$slog") || fail "no 'srtp:' line in $slog"
    local rfc re
    rfc=$(rfc_name "$prof")
    re="^srtp: $rfc client_key=([0-9a-fA-F]+) client_salt=([0-9a-fA-F]+) server_key=([0-9a-fA-F]+) server_salt=([0-9a-fA-F]+)\$"
    [[ $line =~ $re ]] || fail "sdtls: expected 'srtp: $rfc client_key=.. client_salt=.. server_key=.. server_salt=..', got '$line'"
    ck=${BASH_REMATCH[1],,} cs=${BASH_REMATCH[2],,} sk=${BASH_REMATCH[3],,} ss=${BASH_REMATCH[4],,}
    ((${#ck} == 2 * k && ${#sk} == 2 * k)) || fail "$prof keys are not $k bytes: '$line'"
    ((${#cs} == 2 * s && ${#ss} == 2 * s)) || fail "$prof salts are not $s bytes: '$line'"
    ohex=$(sed -n 's/^ *Keying material: \([0-9A-Fa-f]*\)$/\1/p' "$olog" | head -n1 | lower)
    [[ -n $ohex ]] || fail "no 'Keying material:' line from OpenSSL in $olog"
    ehex=$(sed -n "s/^exporter: $LABEL \([0-9A-Fa-f]*\)\$/\1/p" "$slog" | head -n1 | lower)
    [[ -n $ehex ]] || fail "no 'exporter: $LABEL' line from sdtls in $slog"
    ((${#ohex} == 2 * $(material_len "$prof"))) ||
        fail "OpenSSL exported $((${#ohex} / 2)) bytes, expected $(material_len "$prof")"
    [[ $ehex == "$ohex" ]] || fail "exporter differs: sdtls $ehex, OpenSSL $ohex"
    got=$ck$sk$cs$ss
    [[ $got == "$ohex" ]] ||
        fail "srtp keys differ from the keying material: client_key|server_key|client_salt|server_salt = $got, OpenSSL $ohex"
    return 0
}

# sdtls client -> openssl s_server. OPROF: s_server's -use_srtp list; SPROF: sdtls's --srtp;
# PROF: the profile both must settle on (OpenSSL name); LEN: bytes to export.
case_openssl_server() { # OPROF SPROF PROF
    local oprof=$1 sprof=$2 prof=$3 len
    len=$(material_len "$prof")
    : >in.txt
    PORT=$(pick_port) || fail "no free UDP port"
    bg_fed srv in.txt srv_release openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" \
        -cert "$P/ec.pem" -key "$P/ec.key" -naccept 1 -use_srtp "$oprof" \
        -keymatexport "$LABEL" -keymatexportlen "$len"
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "openssl s_server"
    bg_fed cli in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" -v \
        --verify-fingerprint "$(fp "$P/ec.pem")" --srtp "$sprof" \
        --export-keying-material "$LABEL:$len"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line cli.err '^exporter: ' ||
        fail "sdtls client printed no 'exporter:' line within ${IT_WAIT}s"
    wait_until "$IT_WAIT" has_line srv.out 'Keying material: ' ||
        fail "openssl s_server printed no 'Keying material:' within ${IT_WAIT}s"
    : >cli_release
    expect_exit "$CLI_PID" 0 "sdtls client"
    : >srv_release
    check_keys cli.err srv.out "$prof"
}

# openssl s_client -> sdtls server.
case_openssl_client() { # OPROF SPROF PROF
    local oprof=$1 sprof=$2 prof=$3 len
    len=$(material_len "$prof")
    : >in.txt
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --once -v --srtp "$sprof" \
        --export-keying-material "$LABEL:$len"
    bg_fed cli in.txt cli_release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" \
        -use_srtp "$oprof" -keymatexport "$LABEL" -keymatexportlen "$len"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line srv.err '^exporter: ' ||
        fail "sdtls server printed no 'exporter:' line within ${IT_WAIT}s"
    wait_until "$IT_WAIT" has_line cli.out 'Keying material: ' ||
        fail "openssl s_client printed no 'Keying material:' within ${IT_WAIT}s"
    : >cli_release
    expect_exit "$SERVER_PID" 0 "sdtls server --once"
    check_keys srv.err cli.out "$prof"
}

# Negative: sdtls server with --srtp against a client that offers no common profile (or no
# use_srtp at all): the handshake fails, sdtls says why, no keys are printed.
case_neg_server() { # what s_client-srtp-args...
    local what=$1
    shift
    : >in.txt
    start_sdtls_server srv --cert "$P/ec.pem" --key "$P/ec.key" --once -v \
        --srtp SRTP_AEAD_AES_128_GCM
    bg_fed cli in.txt cli_release openssl s_client -dtls1_2 -connect "127.0.0.1:$PORT" "$@"
    CLI_PID=$BG_PID
    wait_until "$IT_WAIT" has_line srv.err 'handshake_failure|DTLS-SRTP' ||
        fail "sdtls server did not report a failed handshake with $what"
    expect_no_handshake srv.err "sdtls server with $what"
    ! has_line srv.err '^srtp: ' || fail "sdtls server printed SRTP keys with $what"
    : >cli_release
}

# Negative: sdtls client with --srtp against a server with no common profile.
case_neg_client() {
    : >in.txt
    PORT=$(pick_port) || fail "no free UDP port"
    bg_fed srv in.txt srv_release openssl s_server -dtls1_2 -accept "127.0.0.1:$PORT" \
        -cert "$P/ec.pem" -key "$P/ec.key" -naccept 1 -use_srtp SRTP_AES128_CM_SHA1_32
    SRV_PID=$BG_PID
    wait_port_or_exit "$PORT" "$SRV_PID" "openssl s_server"
    bg_fed cli in.txt cli_release "$SDTLS" client "127.0.0.1:$PORT" -v \
        --verify-fingerprint "$(fp "$P/ec.pem")" --srtp SRTP_AEAD_AES_256_GCM
    CLI_PID=$BG_PID
    expect_fail_exit "$CLI_PID" "sdtls client with no common SRTP profile"
    expect_no_handshake cli.err "sdtls client"
    expect_grep cli.err '^error: handshake failed: ' "sdtls client names the failure"
    ! has_line cli.err '^srtp: ' || fail "sdtls client printed SRTP keys"
    : >srv_release
}

PROFILES=(SRTP_AES128_CM_SHA1_80 SRTP_AES128_CM_SHA1_32 SRTP_AEAD_AES_128_GCM
    SRTP_AEAD_AES_256_GCM)
for prof in "${PROFILES[@]}"; do
    run_case "sdtls client -> openssl s_server, $prof" case_openssl_server "$prof" \
        "$(rfc_name "$prof")" "$prof"
    run_case "openssl s_client -> sdtls server, $prof" case_openssl_client "$prof" \
        "$(rfc_name "$prof")" "$prof"
done
# Several profiles: sdtls as server picks its own first choice among the client's offer; as a
# client it offers them all and takes OpenSSL's pick (checked: both sides name the same one).
run_case "openssl s_client -> sdtls server, server preference (GCM over CM)" \
    case_openssl_client SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM \
    SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80 SRTP_AEAD_AES_128_GCM
run_case "sdtls client -> openssl s_server, offer of four, OpenSSL picks 256-GCM" \
    case_openssl_server SRTP_AEAD_AES_256_GCM \
    SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32:SRTP_AEAD_AES_256_GCM \
    SRTP_AEAD_AES_256_GCM
run_case "NEG openssl s_client offers no common profile" case_neg_server \
    "no common profile" -use_srtp SRTP_AES128_CM_SHA1_80
run_case "NEG openssl s_client offers no use_srtp" case_neg_server "no use_srtp"
run_case "NEG sdtls client, openssl s_server has no common profile" case_neg_client
finish
