#!/usr/bin/env bash
# Install what sdtls needs to build, test, fuzz and run its interop tests on Debian 12.
# Run as root (or with sudo available). Idempotent: when every package is already installed it
# does nothing and returns in well under a second; otherwise one `apt-get update` and one
# `apt-get install`.
set -euo pipefail

PACKAGES=(
    build-essential     # gcc, make, libc headers
    cmake               # build system (>= 3.20)
    pkg-config          # finds cmocka
    libssl-dev          # OpenSSL libcrypto headers (the crypto backend)
    libcmocka-dev       # unit and connection tests
    openssl             # interop peer (s_client/s_server) and test certificates
    gnutls-bin          # interop peer (gnutls-cli/gnutls-serv)
    tshark              # key log interop test: Wireshark decrypts an sdtls capture
    clang               # fuzz targets (libFuzzer) and the sanitizer build
    llvm                # llvm-symbolizer for readable sanitizer reports
    libclang-rt-14-dev  # libFuzzer and sanitizer runtimes for clang 14
    coreutils           # timeout(1), stat, od (interop tests)
    diffutils           # cmp (interop tests)
    procps              # ps, for looking at stray processes when debugging
    libcoap3-bin        # interop peer: coap-client/coap-server (CoAP over DTLS with PSK)
    autoconf            # scripts/build-peers.sh: wolfSSL's autogen.sh (trixie source)
    automake            # scripts/build-peers.sh: wolfSSL's autogen.sh
    libtool             # scripts/build-peers.sh: wolfSSL's autogen.sh
)

# One dpkg-query for all packages: the installed ones print "NAME install ok installed".
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
    sed -n 's/^\([^ :]*\)\(:[^ ]*\)\{0,1\} install ok installed$/\1/p' || true)
missing=()
for p in "${PACKAGES[@]}"; do
    if ! grep -qx -- "$p" <<<"$installed"; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: missing packages (${missing[*]}) and not root; run as root" >&2
        exit 1
    fi
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
