#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# Interop: Debian's Chromium (headless, driven by playwright-core) against examples/webrtc,
# an ICE-lite DTLS-SRTP endpoint built on sdtls and libsrtp2.
#
# Each case runs examples/webrtc/run.sh: a network namespace holding only loopback, a fresh
# browser profile, a page that offers one fake-device audio track (actpass; the endpoint's
# answer decides the DTLS roles), and driver.mjs, which checks:
#   - the browser's connection and DTLS transport reach "connected";
#   - getStats' dtlsCipher, srtpCipher, tlsVersion and dtlsRole agree with the endpoint's
#     RESULT line (cipher suite, SRTP profile, "DTLS 1.2", the opposite role);
#   - the endpoint authenticated >= 50 SRTP packets and none failed, and the browser received
#     >= 50 packets (inbound-rtp packetsReceived) of the endpoint's echo;
#   - as DTLS server, the endpoint saw Chromium's post-quantum ClientHello (X25519MLKEM768,
#     about 1.4 KB in two fragments) by default, and a classic one with
#     --disable-features=WebRtcPqcForDtls;
#   - with the offer's a=fingerprint mangled, the handshake fails with a clear error on the
#     endpoint's stderr and nothing is decrypted.
# Needs chromium, node, playwright-core and libsrtp2-dev: scripts/deps-webrtc.sh.
# Usage: test_webrtc_chromium.sh PATH/TO/sdtls   (the build directory is $(dirname $1)/../..)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need node timeout unshare ip

ROOT=$(cd "$IT_SELF_DIR/../.." && pwd)
BUILD=$(cd "$(dirname "$SDTLS")/../.." && pwd)
ENDPOINT=$BUILD/examples/webrtc/webrtc_endpoint
RUN=$ROOT/examples/webrtc/run.sh
WEBRTC_TIMEOUT=${WEBRTC_TIMEOUT:-120} # one browser session, launch to exit (seconds)

missing=()
[[ -x $ENDPOINT ]] ||
    missing+=("$ENDPOINT (not built: configure with libsrtp2-dev installed and SDTLS_BUILD_EXAMPLES=ON)")
[[ -x /usr/bin/chromium ]] || missing+=("/usr/bin/chromium")
[[ -f $ROOT/examples/webrtc/node_modules/playwright-core/package.json ]] ||
    missing+=("playwright-core in examples/webrtc/node_modules")
if [[ ${#missing[@]} -gt 0 ]]; then
    printf '%s: missing: %s\n' "$IT_NAME" "${missing[@]}" >&2
    echo "$IT_NAME: run scripts/deps-webrtc.sh (as root), then rebuild" >&2
    exit 1
fi

# session ARGS...: one browser session; the driver's files (endpoint.err, endpoint.out,
# browser.log, result.json) land in the case directory, its report in driver.out.
session() {
    timeout -k 5 "$WEBRTC_TIMEOUT" bash "$RUN" "$ENDPOINT" --dir "$PWD" "$@" \
        >driver.out 2>driver.err
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        grep -E '^(FAIL|driver:)' driver.out driver.err | sed 's/^/  /'
        [[ $rc -eq 124 || $rc -eq 137 ]] && fail "browser session timed out after ${WEBRTC_TIMEOUT}s"
        fail "browser session failed (driver exit status $rc)"
    fi
    expect_grep driver.out '^PASS ' "driver reported PASS"
    return 0
}

case_ok() { # setup pqc [profiles]
    local extra=()
    [[ -n ${3:-} ]] && extra=(--profiles "$3")
    session --setup "$1" --pqc "$2" "${extra[@]}"
    # The clear-text record of what was negotiated, for the log of a failed run.
    expect_grep endpoint.err '^webrtc: DTLS connected: DTLS 1\.2 ' "endpoint logged the handshake"
}

case_wrong_fp() { # setup
    session --setup "$1" --mode wrong-fingerprint
    expect_grep endpoint.err "^webrtc: error: DTLS handshake failed: .*does not match the offer's a=fingerprint" \
        "endpoint named the fingerprint mismatch"
    expect_grep endpoint.out '^RESULT \{"dtls_connected":false,' "RESULT says not connected"
}

run_case "chromium offer, sdtls passive (DTLS server), PQ ClientHello" case_ok passive on
run_case "chromium offer, sdtls passive (DTLS server), classic ClientHello" case_ok passive off
run_case "chromium offer, sdtls active (DTLS client), PQ on" case_ok active on
run_case "chromium offer, sdtls active (DTLS client), PQ off" case_ok active off
run_case "chromium offer, sdtls passive, SRTP_AEAD_AES_256_GCM only" case_ok passive on \
    SRTP_AEAD_AES_256_GCM
run_case "chromium offer, sdtls active, SRTP_AEAD_AES_128_GCM only" case_ok active on \
    SRTP_AEAD_AES_128_GCM
run_case "NEG wrong a=fingerprint in the offer, sdtls passive" case_wrong_fp passive
run_case "NEG wrong a=fingerprint in the offer, sdtls active" case_wrong_fp active
finish
