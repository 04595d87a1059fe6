#!/usr/bin/env bash
# Run one browser session against the WebRTC endpoint, in a network namespace that holds only
# loopback (so nothing the browser does can leave the machine):
#
#   examples/webrtc/run.sh PATH/TO/webrtc_endpoint [driver.mjs options]
#
# e.g. run.sh build/examples/webrtc/webrtc_endpoint --setup passive --pqc off --dir /tmp/x
# (driver.mjs describes the options and the files it leaves in --dir). Exit status: the
# driver's (0: every check passed, 1: a check failed, 2: the harness itself failed).
#
# Needs Debian's chromium, node and playwright-core in examples/webrtc/node_modules:
# scripts/deps-webrtc.sh installs them. SDTLS_WEBRTC_NETNS=0 runs without the namespace
# (for debugging on a machine where unshare is not allowed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 1 ]]; then
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
ENDPOINT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift

missing=()
[[ -x $ENDPOINT ]] || missing+=("the endpoint $ENDPOINT (build with libsrtp2-dev installed)")
command -v node >/dev/null 2>&1 || missing+=("node")
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || missing+=("${CHROMIUM:-/usr/bin/chromium}")
[[ -f $HERE/node_modules/playwright-core/package.json ]] ||
    missing+=("playwright-core in $HERE/node_modules")
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "run.sh: missing: ${missing[*]}; run scripts/deps-webrtc.sh" >&2
    exit 2
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
DRIVER=(node "$HERE/driver.mjs" --endpoint "$ENDPOINT" "$@")
if [[ ${SDTLS_WEBRTC_NETNS:-1} == 0 ]]; then
    exec "${DRIVER[@]}"
fi
# Root gets a plain network namespace; anyone else tries a user namespace as well.
UNSHARE=(unshare -n)
[[ $(id -u) -eq 0 ]] || UNSHARE=(unshare -r -n)
exec "${UNSHARE[@]}" -- bash -c 'ip link set lo up && exec "$@"' netns "${DRIVER[@]}"
