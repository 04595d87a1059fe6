#!/usr/bin/env bash
# Build the interop peers Debian 12 does not ship in a usable version, from Debian 13 (trixie)
# *source* packages (nothing is installed from trixie as a binary):
#
#   mbedtls-3.6/ssl_server2, ssl_client2   Mbed TLS 3.6 test programs: DTLS Connection ID
#                                          (RFC 9146), ECDHE-ECDSA with AES-128-CCM_8
#                                          (bookworm's libmbedtls is 2.28: no RFC 9146 CIDs)
#   wolfssl/server, client                 wolfSSL 5.7 examples with DTLS 1.2, raw public keys
#   wolfssl/wolfssl-rpk-server             (RFC 7250, wolfSSL >= 5.6.6; bookworm has 5.5.4)
#                                          and PSK, plus a small RPK server
#                                          (tests/interop/peers/wolfssl_rpk_server.c: the example
#                                          server has no raw public key option)
#
# Everything goes to $SDTLS_PEERS_CACHE (default /var/cache/sdtls-peers). A peer whose binaries
# are present (and, for wolfSSL, built with the same options and helper source) is not rebuilt,
# so after the first run this returns at once. Each build prints its duration: on 2 cores
# about 2.5 min for Mbed TLS and 5.5 min for wolfSSL (autogen + configure dominate), source
# download included. Run as root: the first run adds a deb-src entry for trixie
# (/etc/apt/sources.list.d/sdtls-trixie-src.sources, same URI as the existing Debian source)
# and runs apt-get update. Needs the packages of scripts/deps.sh (build-essential, cmake,
# autoconf, automake, libtool).
#
# Usage: scripts/build-peers.sh [mbedtls] [wolfssl]   (default: both)
# The interop tests (test_cid_mbedtls.sh, test_ccm_mbedtls.sh, test_rpk_wolfssl.sh,
# test_psk_wolfssl.sh) find the peers in the same cache ($SDTLS_PEERS_CACHE) and fail with a
# pointer to this script when they are missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SDTLS_PEERS_CACHE:-/var/cache/sdtls-peers}
JOBS=${JOBS:-2}
SRC_LIST=/etc/apt/sources.list.d/sdtls-trixie-src.sources

log() { printf 'build-peers: %s\n' "$*"; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
fi

# The URI of the main Debian archive, as the existing apt sources spell it.
debian_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f && $f != "$SRC_LIST" ]] || continue
        # deb822: the URIs line of the stanza whose Suites names bookworm (not -security).
        uri=$(awk 'BEGIN{RS=""; FS="\n"}
            /Suites:[^\n]*bookworm( |$|\n|-updates)/ && !/debian-security/ {
                for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { sub(/^URIs: */, "", $i); print $i; exit }
            }' "$f")
        if [[ -n $uri ]]; then
            echo "${uri%% *}"
            return 0
        fi
    done
    if [[ -f /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $3 ~ /^bookworm(-updates)?$/ { print $2; exit }' \
            /etc/apt/sources.list)
        if [[ -n $uri ]]; then
            echo "$uri"
            return 0
        fi
    fi
    echo "http://deb.debian.org/debian"
}

# Make `apt-get source PKG/trixie` work: a deb-src entry for trixie and fresh lists.
ensure_trixie_src() {
    if [[ ! -f $SRC_LIST ]]; then
        local uri
        uri=$(debian_uri)
        log "adding deb-src for trixie ($uri) in $SRC_LIST"
        printf '%s\n' "Types: deb-src" "URIs: $uri" "Suites: trixie" "Components: main" \
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
            "${SUDO[@]}" tee "$SRC_LIST" >/dev/null
        "${SUDO[@]}" apt-get update -qq
    elif ! apt-cache showsrc mbedtls 2>/dev/null | grep -q '^Version: 3\.'; then
        "${SUDO[@]}" apt-get update -qq
    fi
}

# fetch_source PKG DIR: unpack trixie's source of PKG into DIR/src (once).
fetch_source() {
    local pkg=$1 dir=$2 d
    if [[ -d $dir/src ]]; then
        return 0
    fi
    ensure_trixie_src
    rm -rf "$dir/dl"
    mkdir -p "$dir/dl"
    (cd "$dir/dl" && apt-get source -qq "$pkg/trixie" >apt-source.log 2>&1) || {
        cat "$dir/dl/apt-source.log" >&2
        log "apt-get source $pkg/trixie failed"
        return 1
    }
    d=$(find "$dir/dl" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1)
    [[ -n $d ]] || {
        log "no unpacked source of $pkg in $dir/dl"
        return 1
    }
    mv "$d" "$dir/src"
    log "$pkg source: $(basename "$(ls "$dir"/dl/*.dsc)")"
}

build_mbedtls() {
    local dir=$CACHE/mbedtls-3.6 t0=$SECONDS
    if [[ -x $dir/ssl_server2 && -x $dir/ssl_client2 ]]; then
        log "mbedtls: cached in $dir"
        return 0
    fi
    mkdir -p "$dir"
    fetch_source mbedtls "$dir"
    # RFC 9146 CIDs are on in 3.6's default config; fail loudly if Debian's patches changed it.
    if ! grep -Eq '^#define MBEDTLS_SSL_DTLS_CONNECTION_ID$' "$dir/src/include/mbedtls/mbedtls_config.h"; then
        log "mbedtls: MBEDTLS_SSL_DTLS_CONNECTION_ID is not enabled in mbedtls_config.h"
        return 1
    fi
    log "mbedtls: building ssl_server2 and ssl_client2 (-j$JOBS)"
    cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DENABLE_TESTING=OFF \
        -DENABLE_PROGRAMS=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DMBEDTLS_FATAL_WARNINGS=OFF \
        >"$dir/build.log" 2>&1 &&
        cmake --build "$dir/build" -j "$JOBS" --target ssl_server2 ssl_client2 \
            >>"$dir/build.log" 2>&1 || {
        tail -n 40 "$dir/build.log" >&2
        log "mbedtls: build failed (log: $dir/build.log)"
        return 1
    }
    cp "$dir/build/programs/ssl/ssl_server2" "$dir/build/programs/ssl/ssl_client2" "$dir/"
    log "mbedtls: built in $((SECONDS - t0)) s ($("$dir/ssl_client2" build_version=1 2>/dev/null |
        grep -m1 -o 'Mbed TLS [0-9.]*' || echo '?'))"
}

# wolfSSL 5.7 implements DTLS Connection IDs for DTLS 1.3 only, so no --enable-dtlscid.
# --enable-secure-renegotiation lets its example client offer renegotiation_info (-R).
WOLFSSL_CONFIGURE=(--disable-shared --enable-static --enable-dtls --enable-rpk --enable-psk
    --enable-aesccm --enable-curve25519 --enable-ecc --enable-supportedcurves
    --enable-extended-master --enable-secure-renegotiation --enable-examples
    --disable-crypttests --disable-benchmark)

build_wolfssl() {
    local dir=$CACHE/wolfssl t0=$SECONDS stamp
    stamp="configure ${WOLFSSL_CONFIGURE[*]}"
    if [[ -x $dir/server && -x $dir/client && $(cat "$dir/build.stamp" 2>/dev/null) == "$stamp" ]]
    then
        log "wolfssl: cached in $dir"
        build_wolfssl_helper "$dir"
        return
    fi
    mkdir -p "$dir"
    fetch_source wolfssl "$dir"
    rm -f "$dir/build.stamp" "$dir/helper.stamp"
    log "wolfssl: configuring and building the library, examples/server and examples/client" \
        "(-j$JOBS)"
    # The subshell runs in an || list, where set -e does not apply: chain with &&.
    # Static: plain executables (no libtool wrapper, no system libwolfssl).
    (
        cd "$dir/src" &&
            { [[ -x configure ]] || ./autogen.sh; } &&
            ./configure "${WOLFSSL_CONFIGURE[@]}" &&
            make -j"$JOBS" src/libwolfssl.la examples/server/server examples/client/client
    ) >"$dir/build.log" 2>&1 || {
        tail -n 40 "$dir/build.log" >&2
        log "wolfssl: build failed (log: $dir/build.log)"
        return 1
    }
    cp "$dir/src/examples/server/server" "$dir/src/examples/client/client" "$dir/"
    # The examples look for ./certs/dh2048.pem (their "wolf root") from the working directory.
    mkdir -p "$dir/root/certs"
    cp "$dir/src/certs/dh2048.pem" "$dir/root/certs/"
    echo "$stamp" >"$dir/build.stamp"
    log "wolfssl: built in $((SECONDS - t0)) s ($(grep -m1 -o 'LIBWOLFSSL_VERSION_STRING "[^"]*"' \
        "$dir/src/wolfssl/version.h" | cut -d'"' -f2))"
    build_wolfssl_helper "$dir"
}

# The RPK server helper, rebuilt (in a second) whenever its source changes.
build_wolfssl_helper() {
    local dir=$1 helper=$ROOT/tests/interop/peers/wolfssl_rpk_server.c sum
    sum=$(sha256sum "$helper" | cut -d' ' -f1)
    if [[ -x $dir/wolfssl-rpk-server && $(cat "$dir/helper.stamp" 2>/dev/null) == "$sum" ]]; then
        return 0
    fi
    cc -O2 -Wall -I"$dir/src" -o "$dir/wolfssl-rpk-server" "$helper" "$dir/src/src/.libs/libwolfssl.a" \
        -lm -lpthread || {
        log "wolfssl: could not build wolfssl-rpk-server"
        return 1
    }
    echo "$sum" >"$dir/helper.stamp"
    log "wolfssl: built wolfssl-rpk-server"
}

what=("$@")
[[ ${#what[@]} -gt 0 ]] || what=(mbedtls wolfssl)
mkdir -p "$CACHE"
rc=0
for w in "${what[@]}"; do
    case $w in
    mbedtls) build_mbedtls || rc=1 ;;
    wolfssl) build_wolfssl || rc=1 ;;
    *)
        echo "usage: $0 [mbedtls] [wolfssl]" >&2
        exit 2
        ;;
    esac
done
exit $rc
