#!/usr/bin/env bash
# Install sdtls into a temporary prefix and use it the way an application would:
#   - `cmake --install` of the build directory this test belongs to (no rebuild): the
#     libraries, headers, sdtls.pc, the CMake package, the CLI and the man page are there;
#   - `sdtls --version` names the library and libcrypto versions;
#   - examples/sansio.c built with pkg-config, against the shared library and against the
#     static archive (libcrypto is a private dependency: a static link needs --static);
#   - examples/psk_node.c built with pkg-config's sdtls-udp (the driver), client and echo
#     server over 127.0.0.1;
#   - examples/standalone built with find_package(sdtls): sansio runs, and the UDP examples
#     (sdtls::driver_udp) run an echo over 127.0.0.1.
#
# Usage: test_install.sh PATH/TO/BUILD/tools/sdtls/sdtls   (CTest passes it)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need cmake pkg-config ldd

SRC=$(cd "$IT_SELF_DIR/../.." && pwd)
BUILD=$(cd "$(dirname "$SDTLS")/../.." && pwd)
PREFIX=$IT_DIR/prefix

if [[ ! -f $BUILD/CMakeCache.txt || ! -f $BUILD/cmake_install.cmake ]]; then
    echo "$IT_NAME: $BUILD (two levels above the sdtls binary) is not a CMake build directory" >&2
    exit 1
fi

# cache VAR: a value from the build's CMake cache ("" if unset).
cache() {
    sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" | head -n1
}

# The consumers are built with the build's own compiler: a sanitizer build made with clang
# needs clang's sanitizer runtime at link time.
CC=$(cache CMAKE_C_COMPILER)
[[ -n $CC ]] || CC=cc
need "$CC"
LIBDIR=$(cache CMAKE_INSTALL_LIBDIR)
[[ -n $LIBDIR && $LIBDIR != /* ]] || LIBDIR=lib
VERSION=$(cache CMAKE_PROJECT_VERSION)
# A sanitizer build installs instrumented libraries: consumers must link the runtime too.
SAN_FLAGS=()
[[ $(cache SDTLS_ASAN) == ON ]] && SAN_FLAGS+=(-fsanitize=address)
[[ $(cache SDTLS_UBSAN) == ON ]] && SAN_FLAGS+=(-fsanitize=undefined)
# Warnings as errors: the installed headers must compile cleanly in strict C11.
CFLAGS_STRICT=(-std=c11 -Wall -Wextra -pedantic -Werror "${SAN_FLAGS[@]}")

# ------------------------------------------------------------------------------------------

case_install() {
    cmake --install "$BUILD" --prefix "$PREFIX" >install.log 2>&1 ||
        fail "cmake --install failed: $(tail -n 5 install.log)"
    local f
    for f in \
        include/sdtls.h include/sdtls_udp.h \
        "$LIBDIR/libsdtls.a" "$LIBDIR/libsdtls_driver_udp.a" \
        "$LIBDIR/libsdtls.so" "$LIBDIR/libsdtls.so.${VERSION%%.*}" "$LIBDIR/libsdtls.so.$VERSION" \
        "$LIBDIR/pkgconfig/sdtls.pc" "$LIBDIR/pkgconfig/sdtls-udp.pc" \
        "$LIBDIR/cmake/sdtls/sdtlsConfig.cmake" "$LIBDIR/cmake/sdtls/sdtlsConfigVersion.cmake" \
        "$LIBDIR/cmake/sdtls/sdtlsTargets.cmake" \
        bin/sdtls share/man/man1/sdtls.1; do
        [[ -e $PREFIX/$f ]] || fail "not installed: $f (see install.log)"
    done
    [[ -x $PREFIX/bin/sdtls ]] || fail "bin/sdtls is not executable"
    # The public headers, and nothing private, in the include directory.
    local installed public
    installed=$(cd "$PREFIX/include" && find . -type f | sort)
    public=$(cd "$SRC/include" && find . -type f -name '*.h' | sort)
    [[ $installed == "$public" ]] ||
        fail "installed headers ($(tr '\n' ' ' <<<"$installed")) are not include/ ($(tr '\n' ' ' <<<"$public"))"
}

case_version() {
    local out want_crypto
    out=$("$PREFIX/bin/sdtls" --version) || fail "sdtls --version exited with $?"
    [[ $out =~ ^sdtls\ ([0-9]+\.[0-9]+\.[0-9]+)\ full\ \((OpenSSL\ [0-9]+\.[0-9]+\.[0-9]+[^\)]*)\)$ ]] ||
        fail "sdtls --version: expected 'sdtls X.Y.Z full (OpenSSL A.B.C ...)', got '$out'"
    [[ ${BASH_REMATCH[1]} == "$VERSION" ]] ||
        fail "sdtls --version says library ${BASH_REMATCH[1]}, the project is $VERSION"
    want_crypto=$(pkg-config --modversion libcrypto 2>/dev/null || true)
    if [[ -n $want_crypto && ${BASH_REMATCH[2]} != "OpenSSL $want_crypto"* ]]; then
        fail "sdtls --version says '${BASH_REMATCH[2]}', libcrypto is $want_crypto"
    fi
    # The man page is valid roff (when groff is there to say so).
    if command -v groff >/dev/null 2>&1; then
        groff -man -Tutf8 -ww -z "$PREFIX/share/man/man1/sdtls.1" 2>groff.err ||
            fail "groff could not format the man page"
        [[ ! -s groff.err ]] || fail "groff warnings on the man page: $(head -n 5 groff.err)"
    fi
    # Every subcommand and every option of `sdtls --help` is documented (roff writes "-" as
    # "\-" in option names).
    local man=$PREFIX/share/man/man1/sdtls.1 opts word
    opts=$("$PREFIX/bin/sdtls" --help | grep -oE -- '(^|[^a-zA-Z0-9-])-{1,2}[a-z][a-z-]*' | sed 's/^[^-]*//' | sort -u)
    [[ -n $opts ]] || fail "sdtls --help lists no options"
    for word in server client keygen fingerprint $opts; do
        grep -qF -- "${word//-/\\-}" "$man" || fail "the man page does not mention '$word'"
    done
}

# loads_from_prefix BINARY [ENV...]: ldd resolves libsdtls.so into the prefix. (No `ldd | grep
# -q`: with pipefail, grep quitting early can fail the pipeline through SIGPIPE.)
loads_from_prefix() {
    local bin=$1 out
    shift
    out=$(env "$@" ldd "$bin") || return 1
    [[ $out =~ libsdtls\.so[.0-9]*\ =\>\ "$PREFIX/$LIBDIR/libsdtls.so" ]]
}

# run_sansio BINARY WHAT [ENV...]: the example runs, exits 0 and prints its closing "ok".
run_sansio() {
    local bin=$1 what=$2
    shift 2
    env "$@" timeout 30 "$bin" >"$what.out" 2>"$what.err" ||
        fail "$what: sansio exited with $? ($(tail -n 3 "$what.err"))"
    has_line "$what.out" '\] client: received "hello over sans-I/O DTLS"$' ||
        fail "$what: no echoed message in the output"
    has_line "$what.out" 'handshake done: DTLSv1\.2 TLS_' || fail "$what: no negotiated suite printed"
    [[ $(tail -n1 "$what.out") == ok ]] || fail "$what: last line is not 'ok'"
}

case_pkgconfig_shared() {
    export PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig
    local cflags libs
    cflags=$(pkg-config --cflags sdtls) || fail "pkg-config does not find sdtls.pc"
    libs=$(pkg-config --libs sdtls)
    [[ $(pkg-config --modversion sdtls) == "$VERSION" ]] || fail "sdtls.pc version is not $VERSION"
    # The prefix in sdtls.pc must follow the install prefix, not the configure-time one.
    [[ $(cd "$(pkg-config --variable=includedir sdtls)" && pwd) == "$PREFIX/include" ]] ||
        fail "sdtls.pc includedir $(pkg-config --variable=includedir sdtls) is not $PREFIX/include"
    # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
    "$CC" "${CFLAGS_STRICT[@]}" "$SRC/examples/sansio.c" $cflags $libs -o sansio 2>cc.err ||
        fail "cc with pkg-config --cflags --libs sdtls failed: $(head -n 5 cc.err)"
    loads_from_prefix ./sansio "LD_LIBRARY_PATH=$PREFIX/$LIBDIR" ||
        fail "sansio does not load libsdtls.so from the prefix: $(ldd ./sansio | grep sdtls)"
    run_sansio ./sansio pkgconfig-shared "LD_LIBRARY_PATH=$PREFIX/$LIBDIR"
}

case_pkgconfig_static() {
    export PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig
    local cflags libs_static rest
    cflags=$(pkg-config --cflags sdtls) || fail "pkg-config does not find sdtls.pc"
    # libcrypto is Requires.private: only --static lists it, and a static link needs it.
    libs_static=$(pkg-config --static --libs sdtls)
    [[ " $libs_static " == *" -lcrypto "* ]] ||
        fail "pkg-config --static --libs sdtls lacks -lcrypto: '$libs_static'"
    # Link libsdtls.a (the linker prefers the .so for -lsdtls), libcrypto as usual.
    rest=" $libs_static "
    rest=${rest// -lsdtls / }
    # shellcheck disable=SC2086
    "$CC" "${CFLAGS_STRICT[@]}" "$SRC/examples/sansio.c" $cflags \
        "$(pkg-config --variable=libdir sdtls)/libsdtls.a" $rest -o sansio 2>cc.err ||
        fail "static link with pkg-config --static failed: $(head -n 5 cc.err)"
    [[ $(ldd ./sansio) != *libsdtls* ]] || fail "sansio is linked to libsdtls.so, not the archive"
    run_sansio ./sansio pkgconfig-static
}

# The UDP driver through pkg-config (sdtls-udp.pc requires sdtls.pc): examples/psk_node
# built with it links the driver archive and the shared core, and a client and an echo server
# of it talk over 127.0.0.1.
case_pkgconfig_driver() {
    export PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig
    local flags srv
    flags=$(pkg-config --cflags --libs sdtls-udp) || fail "pkg-config does not find sdtls-udp.pc"
    [[ " $flags " == *" -lsdtls_driver_udp "*"-lsdtls "* ]] ||
        fail "sdtls-udp.pc does not link the driver before the core: '$flags'"
    # shellcheck disable=SC2086 # word splitting of pkg-config output is intended
    "$CC" "${CFLAGS_STRICT[@]}" "$SRC/examples/psk_node.c" $flags -o psk_node 2>cc.err ||
        fail "cc with pkg-config --cflags --libs sdtls-udp failed: $(head -n 5 cc.err)"
    loads_from_prefix ./psk_node "LD_LIBRARY_PATH=$PREFIX/$LIBDIR" ||
        fail "psk_node does not load libsdtls.so from the prefix: $(ldd ./psk_node | grep sdtls)"
    local key=000102030405060708090a0b0c0d0e0f
    bg server env "LD_LIBRARY_PATH=$PREFIX/$LIBDIR" ./psk_node server 127.0.0.1:0 node "$key"
    srv=$BG_PID
    wait_listening server.out "$srv" "psk_node server"
    env "LD_LIBRARY_PATH=$PREFIX/$LIBDIR" timeout "$IT_TIMEOUT" ./psk_node client \
        "127.0.0.1:$PORT" node "$key" "installed psk" >client.out 2>client.err ||
        fail "psk_node client exited with $? ($(tail -n 3 client.err))"
    has_line client.out '^echo: installed psk$' || fail "psk_node client got no echo"
    stop_bg "$srv"
}
case_find_package() {
    local b=$PWD/build flags="${SAN_FLAGS[*]}" found
    cmake -S "$SRC/examples/standalone" -B "$b" -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
        -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >configure.log 2>&1 ||
        fail "cmake -S examples/standalone failed: $(tail -n 15 configure.log)"
    found=$(sed -n 's/^sdtls_DIR:PATH=//p' "$b/CMakeCache.txt")
    [[ $found == "$PREFIX/$LIBDIR/cmake/sdtls" ]] ||
        fail "find_package(sdtls) used '$found', not the prefix"
    cmake --build "$b" -j2 >build.log 2>&1 || fail "examples/standalone build failed: $(tail -n 15 build.log)"
    loads_from_prefix "$b/sansio" ||
        fail "sansio (sdtls::sdtls) does not load libsdtls.so from the prefix"
    run_sansio "$b/sansio" find-package
    (cd "$b" && ctest --output-on-failure >ctest.log 2>&1) ||
        fail "ctest in examples/standalone failed: $(tail -n 10 "$b/ctest.log")"

    # The UDP examples (sdtls::driver_udp): echo server and client over 127.0.0.1.
    bg server "$b/udp_server" 127.0.0.1:0
    local srv=$BG_PID port fpr
    wait_until "$IT_WAIT" fp_or_dead server.out "$srv" || fail "udp_server printed nothing"
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' server.out)
    fpr=$(sed -n 's/^fingerprint //p' server.out)
    [[ -n $port && -n $fpr ]] || fail "udp_server did not start: $(cat server.out server.err)"
    timeout "$IT_TIMEOUT" "$b/udp_client" "127.0.0.1:$port" "$fpr" "installed echo" \
        >client.out 2>client.err || fail "udp_client exited with $?"
    has_line client.out '^echo: installed echo$' || fail "udp_client got no echo"
    # The wrong pin is refused.
    ! timeout "$IT_TIMEOUT" "$b/udp_client" "127.0.0.1:$port" \
        "sha-256 $(printf '00:%.0s' $(seq 1 31))00" >wrong.out 2>wrong.err ||
        fail "udp_client accepted a wrong fingerprint"
    stop_bg "$srv"
}
fp_or_dead() {
    has_line "$1" '^fingerprint ' || proc_done "$2"
}

run_case "install: files in the prefix" case_install
run_case "install: sdtls --version, man page" case_version
run_case "install: pkg-config, shared library" case_pkgconfig_shared
run_case "install: pkg-config --static, static archive" case_pkgconfig_static
run_case "install: pkg-config sdtls-udp, examples/psk_node" case_pkgconfig_driver
run_case "install: find_package(sdtls), examples/standalone" case_find_package
finish
