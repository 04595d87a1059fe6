#!/usr/bin/env bash
# Install what the WebRTC example and its browser test need, on Debian 12 (run as root):
#   chromium        Debian's browser (/usr/bin/chromium); playwright-core drives it over CDP
#   nodejs, npm     runs examples/webrtc/driver.mjs (skipped when `node`/`npm` already exist,
#                   e.g. a NodeSource nodejs, which ships its own npm)
#   libsrtp2-dev    SRTP for examples/webrtc (pkg-config libsrtp2)
#   iproute2        `ip link set lo up` inside the test's network namespace
#   util-linux      unshare(1), for that namespace
# then `npm ci` (or `npm install` without a lock file) in examples/webrtc, which brings
# playwright-core only. No browser is ever downloaded: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1, and
# the test uses executablePath /usr/bin/chromium.
#
# Idempotent: when everything is present it does nothing and returns in well under a second.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEBRTC=$ROOT/examples/webrtc

PACKAGES=(chromium libsrtp2-dev pkg-config iproute2 util-linux)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
    sed -n 's/^\([^ :]*\)\(:[^ ]*\)\{0,1\} install ok installed$/\1/p' || true)
missing=()
for p in "${PACKAGES[@]}"; do
    if ! grep -qx -- "$p" <<<"$installed"; then
        missing+=("$p")
    fi
done

SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        echo "deps-webrtc: missing packages (${missing[*]}) and not root; run as root" >&2
        exit 1
    fi
    echo "deps-webrtc: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "deps-webrtc: all ${#PACKAGES[@]} packages already installed"
fi

# playwright-core 1.65 needs Node.js 20 or later (Debian 12's own nodejs is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
    echo "deps-webrtc: node $(node --version 2>/dev/null || echo missing) is too old;" \
        "playwright-core needs Node.js >= 20" >&2
    exit 1
fi

# playwright-core, pinned in examples/webrtc/package.json (and package-lock.json when present).
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$WEBRTC/package.json" | head -n1)
have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
    "$WEBRTC/node_modules/playwright-core/package.json" 2>/dev/null | head -n1 || true)
if [[ -n $want && $have == "$want" ]]; then
    echo "deps-webrtc: playwright-core $have already installed"
    exit 0
fi
echo "deps-webrtc: installing playwright-core $want in examples/webrtc"
cd "$WEBRTC"
if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --ignore-scripts
else
    npm install --no-audit --no-fund --ignore-scripts
fi
