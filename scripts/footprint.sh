#!/usr/bin/env bash
# Code size of libsdtls per build profile (SDTLS_PROFILE), for docs/footprint.md.
#
#   bash scripts/footprint.sh [BUILD_ROOT]
#
# Builds each profile with CMAKE_BUILD_TYPE=MinSizeRel (gcc -Os) into BUILD_ROOT (default
# build-footprint/) and prints, per profile: the text/data of the static archive (all of
# the library's code), of the shared library, and of examples/psk_node linked statically
# against each (the same PSK program: what an application actually carries; libcrypto stays
# a shared library and is not counted). Sizes are bytes from size(1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build-footprint}
mkdir -p "$out"

# text and data columns of size(1) output, summed (an archive has one line per object).
sum_size() {
    size "$@" | awk 'NR > 1 { t += $1; d += $2 } END { printf "%d %d\n", t, d }'
}

declare -A text data
for profile in full psk-ccm8; do
    dir=$out/$profile
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=MinSizeRel -DSDTLS_PROFILE="$profile" \
        -DSDTLS_BUILD_TESTS=OFF -DSDTLS_BUILD_TOOLS=OFF -DSDTLS_BUILD_BENCH=OFF \
        -DSDTLS_BUILD_EXAMPLES=ON >"$dir.configure.log" 2>&1 ||
        { cat "$dir.configure.log"; exit 1; }
    cmake --build "$dir" -j"$(nproc)" --target sdtls_static sdtls_shared example_psk_node \
        >"$dir.build.log" 2>&1 || { tail -n 30 "$dir.build.log"; exit 1; }
    read -r text[$profile.a] data[$profile.a] < <(sum_size "$dir/libsdtls.a")
    read -r text[$profile.so] data[$profile.so] < <(sum_size "$dir/libsdtls.so")
    read -r text[$profile.node] data[$profile.node] < <(sum_size "$dir/examples/psk_node")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf '%-36s %12s %12s %8s\n' "code size (text bytes, gcc -Os)" full psk-ccm8 ratio
for what in a so node; do
    case $what in
        a) label="libsdtls.a (all objects)" ;;
        so) label="libsdtls.so" ;;
        node) label="psk_node, static libsdtls" ;;
    esac
    printf '%-36s %12d %12d %8s\n' "$label" "${text[full.$what]}" "${text[psk-ccm8.$what]}" \
        "$(ratio "${text[psk-ccm8.$what]}" "${text[full.$what]}")"
done
printf '%-36s %12d %12d\n' "libsdtls.a data+rodata tables" "${data[full.a]}" "${data[psk-ccm8.a]}"
printf 'compiler: %s\n' "$(cc --version | head -n 1)"
