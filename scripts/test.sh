#!/usr/bin/env bash
# Build and test sdtls the way CI does, from a fresh Debian 12 machine (run as root):
#
#   1. scripts/deps.sh                    install packages (skipped when all are present),
#      then scripts/deps-webrtc.sh and scripts/build-peers.sh if present (extra interop peers)
#   2. build/       cc (gcc), -DSDTLS_WERROR=ON                 ctest: unit, conn, interop
#   3. build-asan/  clang, -DSDTLS_ASAN=ON -DSDTLS_UBSAN=ON     ctest: unit, conn, interop
#                   (leak detection on; any sanitizer report fails the test)
#   4. build-psk-ccm8/  the reduced library, -DSDTLS_PROFILE=psk-ccm8, clang with ASan+UBSan
#                   and -Werror                                 ctest: its unit tests, interop
#   5. build-fuzz/  clang, -DSDTLS_BUILD_FUZZ=ON (only if fuzz/CMakeLists.txt exists)
#                                                               ctest -L fuzz: short fixed runs
#
# Every stage runs even if an earlier one failed; the last line is "N passed, N failed" over
# all ctest results (a build that fails counts as one failed result), and the exit status is
# non-zero if anything failed.
#
# Environment: JOBS (default: nproc) for builds; CTEST_JOBS (default: 2 * JOBS, since the
# interop tests mostly wait on timers and peers) for ctest; SDTLS_TEST_BUILD_ROOT (default: the
# repository) to put the build directories elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc)}
CTEST_JOBS=${CTEST_JOBS:-$((JOBS * 2))}
BUILD_ROOT=${SDTLS_TEST_BUILD_ROOT:-$ROOT}
T0=$SECONDS

TOTAL_PASSED=0
TOTAL_FAILED=0
STAGES=()

section() {
    printf '\n==== %s ====\n' "$*"
}

# count_ctest LOG: add the "N% tests passed, F tests failed out of T" line of LOG to the totals.
count_ctest() {
    local line failed total
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n1 || true)
    if [[ -z $line ]]; then
        if grep -q 'No tests were found' "$1"; then
            echo "0 0"
        else
            echo "0 1" # ctest did not get to run: count as one failure
        fi
        return
    fi
    failed=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    echo "$((total - failed)) $failed"
}

# stage NAME BUILD-DIR CTEST-ARGS -- CMAKE-ARGS...: configure, build, run ctest; add to totals.
stage() {
    local name=$1 dir=$2 ctest_args=$3
    shift 4
    local log="$dir/ctest.log" p f t0=$SECONDS
    section "$name: configure and build ($dir)"
    if ! cmake -S "$ROOT" -B "$dir" "$@" || ! cmake --build "$dir" -j "$JOBS"; then
        echo "$name: BUILD FAILED"
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        STAGES+=("$name: build failed ($((SECONDS - t0)) s)")
        return 0
    fi
    section "$name: ctest $ctest_args"
    # shellcheck disable=SC2086 # ctest_args is a list of words by design
    (cd "$dir" && ctest --output-on-failure -j "$CTEST_JOBS" $ctest_args) 2>&1 | tee "$log" || true
    read -r p f < <(count_ctest "$log")
    TOTAL_PASSED=$((TOTAL_PASSED + p))
    TOTAL_FAILED=$((TOTAL_FAILED + f))
    STAGES+=("$name: $p passed, $f failed ($((SECONDS - t0)) s)")
}

section "dependencies"
bash "$ROOT/scripts/deps.sh"
# Peers that some interop tests need beyond Debian packages, each installed by its own
# idempotent script (fast once done): the WebRTC browser test's Chromium/Node.js, and the
# Mbed TLS / wolfSSL peers built from source (minutes on the first run only).
for extra in deps-webrtc.sh build-peers.sh; do
    if [[ -f $ROOT/scripts/$extra ]]; then
        section "dependencies: scripts/$extra"
        if ! bash "$ROOT/scripts/$extra"; then
            echo "scripts/$extra FAILED (the tests that need it will fail)"
            TOTAL_FAILED=$((TOTAL_FAILED + 1))
            STAGES+=("scripts/$extra: failed")
        fi
    fi
done

# Sanitizer settings for every process the ASan/UBSan build starts (the interop tests run the
# instrumented sdtls binary; OpenSSL and GnuTLS peers ignore these variables).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=report_objects=1

# The system compiler (gcc on Debian), so an existing build/ keeps its compiler and cache.
stage "werror (cc)" "$BUILD_ROOT/build" "" -- -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_WERROR=ON

ASAN_CC=clang
command -v clang >/dev/null 2>&1 || ASAN_CC=gcc
stage "asan+ubsan ($ASAN_CC)" "$BUILD_ROOT/build-asan" "" -- \
    -DCMAKE_C_COMPILER="$ASAN_CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_ASAN=ON \
    -DSDTLS_UBSAN=ON -DSDTLS_BUILD_BENCH=OFF

stage "psk-ccm8 profile ($ASAN_CC, asan+ubsan)" "$BUILD_ROOT/build-psk-ccm8" "" -- \
    -DCMAKE_C_COMPILER="$ASAN_CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_PROFILE=psk-ccm8 \
    -DSDTLS_WERROR=ON -DSDTLS_ASAN=ON -DSDTLS_UBSAN=ON

if [[ -f $ROOT/fuzz/CMakeLists.txt ]]; then
    stage "fuzz (clang, short runs)" "$BUILD_ROOT/build-fuzz" "-L fuzz" -- \
        -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_BUILD_FUZZ=ON \
        -DSDTLS_ASAN=ON -DSDTLS_UBSAN=ON -DSDTLS_BUILD_TOOLS=OFF -DSDTLS_BUILD_BENCH=OFF
else
    STAGES+=("fuzz: skipped (no fuzz/CMakeLists.txt)")
fi

section "summary ($((SECONDS - T0)) s)"
printf '  %s\n' "${STAGES[@]}"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[[ $TOTAL_FAILED -eq 0 ]]
