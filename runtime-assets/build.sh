#!/usr/bin/env bash
# Build pyedge's WASI CPython runtime from pinned Debian sources, reproducibly.
#
#   bash runtime-assets/build.sh --out DIR [--work DIR] [--entry-dir DIR] [--jobs N] [--check]
#
# Outputs in --out: python-cli.wasm and python-http.wasm (core modules: CPython + our C
# entry, for wasi:cli and wasi:http) with their prune tables (*.prune.json), the same two
# with numpy's extension modules built in (python-cli-numpy.wasm, python-http-numpy.wasm,
# and theirs), stdlib.zip (pure-Python stdlib), numpy-site.zip (numpy's Python part),
# LICENSE.python, provenance.json. numpy is compiled by numpy/build.sh (issue 21).
# --work (default: target/runtime-work in the repo) keeps downloads, build trees, logs and
# stamps; expensive stages are skipped when their inputs did not change.
# --check then rebuilds from scratch in a second work directory (<work>-check)
# and fails unless the runtime modules and zips are byte-identical.
# Pins (URLs, SHA-256s, SOURCE_DATE_EPOCH) live in runtime-assets/pins.env.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PINS="$HERE/pins.env"

OUT="" WORK="$HERE/../target/runtime-work" ENTRY_DIR="$HERE/entry" JOBS=2 CHECK=0
usage() { sed -n '2,12p' "$HERE/build.sh" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case $1 in
        --out) OUT=${2:?}; shift 2 ;;
        --work) WORK=${2:?}; shift 2 ;;
        --entry-dir) ENTRY_DIR=${2:?}; shift 2 ;;
        --jobs) JOBS=${2:?}; shift 2 ;;
        --check) CHECK=1; shift ;;
        -h|--help) usage ;;
        *) echo "build.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[[ -n $OUT ]] || usage

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

# Canonical absolute paths: the work dir is redacted from outputs by string
# replacement, so it must be spelled the same way everywhere.
mkdir -p "$WORK" "$OUT"
WORK=$(cd "$WORK" && pwd -P)
OUT=$(cd "$OUT" && pwd -P)
ENTRY_DIR=$(cd "$ENTRY_DIR" 2>/dev/null && pwd -P) ||
    die "entry directory not found (runtime-assets/entry, or pass --entry-dir)"

# shellcheck source=pins.env
source "$PINS"
# shellcheck source=numpy/pins.env
source "$HERE/numpy/pins.env"
export SOURCE_DATE_EPOCH
# Nothing from the caller's environment may reach compilers or make
# (a cargo build script would pass MAKEFLAGS with jobserver fds, for one).
unset CC CXX CPP CFLAGS CXXFLAGS CPPFLAGS LDFLAGS LIBS AR RANLIB OPT \
    MAKEFLAGS MFLAGS MAKELEVEL PYTHONPATH PYTHONHOME PYTHONSTARTUP \
    PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR CONFIG_SITE
export LC_ALL=C TZ=UTC
umask 022

DL="$WORK/downloads"
LOGS="$WORK/logs"
STAMPS="$WORK/stamps"
SRC="$WORK/src/Python-$CPYTHON_VERSION"
ZLIB_SRC="$WORK/src/zlib-$ZLIB_VERSION"
MBEDTLS_SRC="$WORK/src/mbedtls-$MBEDTLS_VERSION"
SODIUM_SRC="$WORK/src/libsodium-$LIBSODIUM_VERSION"
BEARSSL_SRC="$WORK/src/bearssl-$BEARSSL_VERSION"
CRYPTO_DIR="$HERE/crypto"          # _pyedge_crypto.c and the mbedTLS configuration
CRYPTO_BUILD="$WORK/build/crypto"
CRYPTO_LIBS="$WORK/crypto-libs"    # libmbedcrypto.a, libsodium-ed25519.a, libbearssl.a, libpyedge_crypto.a
WASI_LIBC="$WORK/toolchain/wasi-libc"
SYSROOT="$WORK/toolchain/sysroot"
NATIVE_BUILD="$WORK/build/native"
ZLIB_BUILD="$WORK/build/zlib"
DEPS="$WORK/deps"                 # wasm32 libraries we build (zlib)
WASI_BUILD="$WORK/build/wasi"
WASI_INSTALL="$WORK/install/wasi"  # DESTDIR of the WASI `make install`
PREFIX=/usr/local                  # CPython's prefix inside the guest
PYVER=${CPYTHON_VERSION%.*}        # 3.13
# What the work dir is replaced by in anything we ship.
REDACTED_WORK=/pyedge-work
REDACTED_ENTRY=/pyedge-entry
mkdir -p "$DL" "$LOGS" "$STAMPS"

HOST_PY=/usr/bin/python3
[[ -x $HOST_PY ]] || HOST_PY=$(command -v python3) || die "python3 is required"


# ---------------------------------------------------------------- toolchain --

LLVM_PKGS=("clang-$LLVM_MAJOR" "lld-$LLVM_MAJOR" "llvm-$LLVM_MAJOR" "libclang-rt-$LLVM_MAJOR-dev-wasm32")

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

apt_install() {
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "need root (or sudo) to apt-get install: $*"
        sudo=(sudo)
    fi
    log "installing with apt-get: $*"
    local aptlog="$LOGS/apt.log"
    # Try the existing package lists first; refresh them only if that fails.
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y \
            --no-install-recommends "$@" >>"$aptlog" 2>&1; then
        run_logged "$aptlog" "${sudo[@]}" apt-get update
        run_logged "$aptlog" env DEBIAN_FRONTEND=noninteractive "${sudo[@]}" \
            apt-get install -y --no-install-recommends "$@"
    fi
}

ensure_host_tools() {
    local missing=() pkg
    command -v make >/dev/null || missing+=(make)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    command -v curl >/dev/null || missing+=(curl ca-certificates)
    command -v xz >/dev/null || missing+=(xz-utils)
    command -v bzip2 >/dev/null || missing+=(bzip2)
    command -v patch >/dev/null || missing+=(patch)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    for pkg in "${LLVM_PKGS[@]}"; do
        pkg_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
    local ver
    for pkg in "${LLVM_PKGS[@]}"; do
        ver=$(dpkg-query -W -f='${Version}' "$pkg")
        [[ $ver == "$LLVM_DEB_VERSION" ]] ||
            log "warning: $pkg is $ver, pins.env expects $LLVM_DEB_VERSION (output hashes may differ)"
    done
}

SCRIPT=build.sh
# shellcheck source=common.sh
source "$HERE/common.sh" # run_logged, fetch

# wasi-libc goes into a private directory, and clang gets a sysroot that holds
# only it: with a plain --target=wasm32-wasi Debian's clang also searches the
# host /usr/include, where configure would find the host's zlib.h & co.
setup_wasi_libc() {
    local deb
    deb=$(fetch "$WASI_LIBC_URL" "$WASI_LIBC_SHA256")
    rm -rf "$WASI_LIBC" "$SYSROOT"
    mkdir -p "$WASI_LIBC"
    dpkg-deb -x "$deb" "$WASI_LIBC"
    [[ -f $WASI_LIBC/usr/include/wasm32-wasi/stdio.h ]] || die "unexpected wasi-libc layout in $deb"
    mkdir -p "$SYSROOT/include" "$SYSROOT/lib"
    ln -s ../../wasi-libc/usr/include/wasm32-wasi "$SYSROOT/include/wasm32-wasi"
    ln -s ../../wasi-libc/usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"
}

# Compiler settings shared by every wasm32 compile. The prefix maps keep the
# work (and, for the entry, its source) directory out of the objects
# (__FILE__, debug info).
WASM_CC="clang-$LLVM_MAJOR --target=wasm32-wasi --sysroot=$SYSROOT"
WASM_AR="llvm-ar-$LLVM_MAJOR"
WASM_RANLIB="llvm-ranlib-$LLVM_MAJOR"
PREFIX_MAPS="-ffile-prefix-map=$WORK=$REDACTED_WORK"
ENTRY_PREFIX_MAPS="$PREFIX_MAPS -ffile-prefix-map=$ENTRY_DIR=$REDACTED_ENTRY"

WASI_CONFIGURE_FLAGS=(
    --prefix="$PREFIX"
    --host=wasm32-unknown-wasi
    --build=x86_64-pc-linux-gnu
    --with-build-python="$NATIVE_BUILD/python"
    --disable-test-modules
    --without-ensurepip
    # mimalloc seeds random state at start-up even when unused as the
    # allocator, which would make pre-initialized snapshots differ per build.
    --without-mimalloc
    # Use the copies bundled with CPython (there are no wasm32 system ones);
    # saying so keeps configure from probing the host.
    --without-system-libmpdec
    --without-system-expat
)
WASI_OPT="-DNDEBUG -O2"

# ------------------------------------------------------------------ stages --

# A stage is skipped when its stamp holds the same key: the pins, the
# toolchain versions, the stage function's own text and its upstream keys.
declare -A KEY=()
stage() {
    local name=$1 fn=$2; shift 2
    local key
    key=$({
        cat "$PINS"; printf '%s\n' "$TOOLCHAIN_VERSIONS" "$WASM_CC" "$PREFIX_MAPS"
        declare -f "$fn"; printf '%s\n' "$@"
    } | sha256sum | cut -d' ' -f1)
    KEY[$name]=$key
    if [[ -f $STAMPS/$name && $(<"$STAMPS/$name") == "$key" ]]; then
        log "$name: up to date"
        return
    fi
    rm -f "$STAMPS/$name"
    local t0=$SECONDS
    log "building $name"
    : >"$LOGS/$name.log"
    "$fn"
    printf '%s\n' "$key" >"$STAMPS/$name"
    log "$name done in $((SECONDS - t0))s (log: $LOGS/$name.log)"
}

stage_sources() {
    local py zl
    py=$(fetch "$CPYTHON_URL" "$CPYTHON_SHA256")
    zl=$(fetch "$ZLIB_URL" "$ZLIB_SHA256")
    rm -rf "$WORK/src"
    mkdir -p "$WORK/src"
    tar -C "$WORK/src" -xf "$py"
    [[ -x $SRC/configure ]] || die "no $SRC/configure after unpacking $py"
    # pyedge's patches to CPython (patches/cpython/*.patch, in name order), each file
    # opening with why.
    local cpatch
    for cpatch in "$HERE"/patches/cpython/*.patch; do
        patch -s -d "$SRC" -p1 --no-backup-if-mismatch <"$cpatch" ||
            die "CPython: $cpatch does not apply"
    done
    # Debian's repacked zlib unpacks as zlib-<ver>.dfsg; use the plain name.
    tar -C "$WORK/src" -xf "$zl"
    mv "$WORK/src/zlib-$ZLIB_VERSION.dfsg" "$ZLIB_SRC"
    local mb so sodeb
    mb=$(fetch "$MBEDTLS_URL" "$MBEDTLS_SHA256")
    so=$(fetch "$LIBSODIUM_URL" "$LIBSODIUM_SHA256")
    sodeb=$(fetch "$LIBSODIUM_DEBIAN_URL" "$LIBSODIUM_DEBIAN_SHA256")
    tar -C "$WORK/src" -xf "$mb"
    [[ -f $MBEDTLS_SRC/include/mbedtls/build_info.h ]] || die "no mbedTLS sources in $mb"
    tar -C "$WORK/src" -xf "$so"
    local bs
    bs=$(fetch "$BEARSSL_URL" "$BEARSSL_SHA256")
    tar -C "$WORK/src" -xf "$bs"
    [[ -f $BEARSSL_SRC/inc/bearssl_ec.h ]] || die "no BearSSL sources in $bs"
    # Debian's patches to libsodium (security fixes), in their series order.
    tar -C "$SODIUM_SRC" -xf "$sodeb"
    local patch
    while read -r patch; do
        [[ -z $patch || $patch == \#* ]] && continue
        patch -s -d "$SODIUM_SRC" -p1 <"$SODIUM_SRC/debian/patches/$patch" ||
            die "libsodium: Debian patch $patch does not apply"
    done <"$SODIUM_SRC/debian/patches/series"
}

stage_toolchain() {
    setup_wasi_libc
}

# wit-bindgen (C generator only), pinned, from crates.io into the work dir.
stage_wit_bindgen() {
    local l="$LOGS/wit-bindgen.log"
    rm -rf "$WORK/tools/wit-bindgen"
    run_logged "$l" env -u CARGO_TARGET_DIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo install --locked --quiet wit-bindgen-cli --version "$WIT_BINDGEN_VERSION" \
        --no-default-features --features c --root "$WORK/tools/wit-bindgen" \
        --target-dir "$WORK/tools/wit-bindgen-target"
    rm -rf "$WORK/tools/wit-bindgen-target"
}

# C bindings for entry-http/world.wit (wasi:http/proxy), from the pinned WIT.
stage_http_bindings() {
    local crate dir="$WORK/wit-http" gen="$WORK/gen/http"
    crate=$(fetch "$WASI_HTTP_WIT_CRATE_URL" "$WASI_HTTP_WIT_CRATE_SHA256")
    rm -rf "$dir" "$gen" "$WORK/wit-crate"
    mkdir -p "$dir" "$gen" "$WORK/wit-crate"
    tar -C "$WORK/wit-crate" -xzf "$crate"
    cp -r "$WORK"/wit-crate/*/wit/deps "$dir/deps"
    cp "$HERE/entry-http/world.wit" "$dir/world.wit"
    # --all-features: the WIT declares unstable items (e.g. clocks/timezone) that the
    # parser must see to resolve the packages; wit-component drops unused imports.
    run_logged "$LOGS/http-bindings.log" "$WORK/tools/wit-bindgen/bin/wit-bindgen" c \
        --all-features --world http --out-dir "$gen" "$dir"
}

# A directory holding one variant's entry sources: the shared entry plus a world's.
assemble_entry() {
    local name=$1; shift
    local dir="$WORK/entry-src/$name"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$ENTRY_DIR"/*.c "$ENTRY_DIR"/*.h "$dir/"
    local extra
    for extra in "$@"; do cp "$extra" "$dir/"; done
    echo "$dir"
}

# The build Python: same version, native, only used to run CPython's build
# scripts (freezing, deepfreeze, sysconfig data) during the cross build. It is
# run from its build tree (as CPython's Tools/wasm/wasi.py does); -O1 because
# its speed hardly matters and it compiles much faster than the default -O3.
stage_native_python() {
    local l="$LOGS/native-python.log"
    rm -rf "$NATIVE_BUILD"
    mkdir -p "$NATIVE_BUILD"
    cd "$NATIVE_BUILD"
    run_logged "$l" env OPT="-DNDEBUG -O1" "../../src/Python-$CPYTHON_VERSION/configure" \
        --prefix="$WORK/native-prefix" --without-ensurepip --disable-test-modules
    run_logged "$l" make -j"$JOBS" all
    [[ $(./python -c 'import sys; print(sys.version.split()[0])') == "$CPYTHON_VERSION" ]] ||
        die "native build Python is not $CPYTHON_VERSION"
}

stage_zlib() {
    local l="$LOGS/zlib.log"
    rm -rf "$ZLIB_BUILD" "$DEPS"
    mkdir -p "$WORK/build"
    cp -a "$ZLIB_SRC" "$ZLIB_BUILD"   # zlib only builds in its source tree
    cd "$ZLIB_BUILD"
    run_logged "$l" env CHOST=wasm32-wasi CC="$WASM_CC" AR="$WASM_AR" RANLIB="$WASM_RANLIB" \
        CFLAGS="-O2 -DNDEBUG $PREFIX_MAPS" ./configure --static --prefix="$DEPS"
    run_logged "$l" make -j"$JOBS" libz.a
    run_logged "$l" make install
    [[ -f $DEPS/lib/libz.a && -f $DEPS/include/zlib.h ]] || die "zlib install incomplete"
}

# The crypto libraries under _pyedge_crypto, as static wasm32 archives: mbedTLS with
# pyedge's configuration (crypto/pyedge_mbedtls_config.h: no sockets, clock or entropy
# source) and the Ed25519 part of libsodium. Objects nothing references are not linked.
MBEDTLS_SKIPPED=(net_sockets.c timing.c entropy_poll.c)  # need sockets/clocks WASI lacks
SODIUM_FILES=(
    crypto_sign/ed25519/ref10/keypair.c crypto_sign/ed25519/ref10/sign.c
    crypto_sign/ed25519/ref10/open.c crypto_core/ed25519/ref10/ed25519_ref10.c
    crypto_hash/sha512/cp/hash_sha512_cp.c crypto_verify/sodium/verify.c sodium/utils.c
)
CRYPTO_CFLAGS="-O2 -DNDEBUG -I$CRYPTO_DIR -DMBEDTLS_CONFIG_FILE=\"pyedge_mbedtls_config.h\""

stage_crypto_libs() {
    local l="$LOGS/crypto-libs.log" src obj skipped objs=()
    rm -rf "$CRYPTO_BUILD" "$CRYPTO_LIBS"
    mkdir -p "$CRYPTO_BUILD/mbedtls" "$CRYPTO_BUILD/sodium" "$CRYPTO_LIBS"
    for src in "$MBEDTLS_SRC"/library/*.c; do
        skipped=0
        for obj in "${MBEDTLS_SKIPPED[@]}"; do [[ ${src##*/} == "$obj" ]] && skipped=1; done
        ((skipped)) && continue
        obj="$CRYPTO_BUILD/mbedtls/$(basename "${src%.c}").o"
        # shellcheck disable=SC2086
        run_logged "$l" $WASM_CC $CRYPTO_CFLAGS $PREFIX_MAPS -I"$MBEDTLS_SRC/include" -c "$src" -o "$obj"
        objs+=("$obj")
    done
    run_logged "$l" "$WASM_AR" rcsD "$CRYPTO_LIBS/libmbedcrypto.a" "${objs[@]}"
    objs=()
    local inc="$SODIUM_SRC/src/libsodium/include"
    for src in "${SODIUM_FILES[@]}"; do
        obj="$CRYPTO_BUILD/sodium/$(basename "${src%.c}").o"
        # CONFIGURED: no autoconf config.h; utils.c includes signal.h (emulated on WASI).
        # shellcheck disable=SC2086
        run_logged "$l" $WASM_CC -O2 -DNDEBUG $PREFIX_MAPS -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 \
            -D_WASI_EMULATED_SIGNAL -I"$inc" -I"$inc/sodium" -c "$SODIUM_SRC/src/libsodium/$src" -o "$obj"
        objs+=("$obj")
    done
    run_logged "$l" "$WASM_AR" rcsD "$CRYPTO_LIBS/libsodium-ed25519.a" "${objs[@]}"
    # BearSSL: the EC, RSA, integer and codec code (its only uses are P-256 ECDSA and
    # RSA PKCS#1 v1.5 verification; the linker keeps the objects those reach).
    objs=()
    mkdir -p "$CRYPTO_BUILD/bearssl"
    for src in "$BEARSSL_SRC"/src/{ec,rsa,int,codec}/*.c; do
        obj="$CRYPTO_BUILD/bearssl/$(basename "${src%.c}").o"
        # shellcheck disable=SC2086
        run_logged "$l" $WASM_CC -O2 -DNDEBUG $PREFIX_MAPS -I"$BEARSSL_SRC/inc" -I"$BEARSSL_SRC/src" \
            -c "$src" -o "$obj"
        objs+=("$obj")
    done
    run_logged "$l" "$WASM_AR" rcsD "$CRYPTO_LIBS/libbearssl.a" "${objs[@]}"
}

# The _pyedge_crypto extension module itself (needs CPython's installed headers).
stage_crypto_module() {
    local l="$LOGS/crypto-module.log" obj="$CRYPTO_BUILD/_pyedge_crypto.o"
    rm -f "$obj" "$CRYPTO_LIBS/libpyedge_crypto.a"
    # shellcheck disable=SC2086
    run_logged "$l" $WASM_CC $CRYPTO_CFLAGS $PREFIX_MAPS -ffile-prefix-map="$HERE=/pyedge-assets" -Wall -Werror \
        -I"$WASI_INSTALL$PREFIX/include/python$PYVER" -I"$MBEDTLS_SRC/include" \
        -I"$SODIUM_SRC/src/libsodium/include" -I"$BEARSSL_SRC/inc" -c "$CRYPTO_DIR/_pyedge_crypto.c" -o "$obj"
    run_logged "$l" "$WASM_AR" rcsD "$CRYPTO_LIBS/libpyedge_crypto.a" "$obj"
}

# Modules that must be compiled into libpython (static, no dlopen on WASI).
REQUIRED_MODULES=(
    zlib _decimal pyexpat _elementtree _sha2 _md5 _sha1 _sha3 _blake2 unicodedata
    _json _datetime _zoneinfo _asyncio _struct math cmath binascii _random
    _bisect _heapq array select _socket _pickle _csv _contextvars _statistics
    _queue _opcode _typing _lsprof _multibytecodec _codecs_jp faulthandler
)

# Always run (cheap): fail if a required module is not compiled in, and keep
# CPython's own summary of the optional modules it could not build.
check_modules() {
    local missing=() m
    for m in "${REQUIRED_MODULES[@]}"; do
        grep -q "PyInit_$m(void)" "$WASI_BUILD/Modules/config.c" || missing+=("$m")
    done
    ((${#missing[@]} == 0)) || die "modules not built into libpython: ${missing[*]}" \
        "(see $LOGS/cpython-wasi.log and $WASI_BUILD/config.log)"
    # The summary that `make` prints (check_extension_modules.py), first copy.
    awk '/^The necessary bits to build|^Failed to build these modules|^Following modules built successfully but were removed/ {p=1}
         p {print} /^Checked [0-9]+ modules/ {exit}' "$LOGS/cpython-wasi.log" \
        >"$LOGS/cpython-wasi-missing-modules.txt"
}

stage_cpython_wasi() {
    local l="$LOGS/cpython-wasi.log"
    rm -rf "$WASI_BUILD" "$WASI_INSTALL"
    mkdir -p "$WASI_BUILD"
    cd "$WASI_BUILD"
    # configure is called by a relative path so srcdir/VPATH stay relative
    # and no work-dir path is compiled in. pkg-config sees only our zlib.
    run_logged "$l" env \
        CONFIG_SITE="$SRC/Tools/wasm/config.site-wasm32-wasi" \
        CC="$WASM_CC" AR="$WASM_AR" RANLIB="$WASM_RANLIB" \
        CFLAGS="$PREFIX_MAPS" OPT="$WASI_OPT" \
        PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$DEPS/lib/pkgconfig" \
        ZLIB_CFLAGS="-I$DEPS/include" ZLIB_LIBS="-L$DEPS/lib -lz" \
        "../../src/Python-$CPYTHON_VERSION/configure" "${WASI_CONFIGURE_FLAGS[@]}"
    run_logged "$l" make -j"$JOBS" all
    # Also compiles .pyc files (with the build Python); we ship no .pyc.
    run_logged "$l" make install DESTDIR="$WASI_INSTALL"
}

# ------------------------------------------------------------------ linking --

# The static libraries a core module is linked from. `make install` only
# ships libpython; the bundled libmpdec, libexpat and HACL archives stay in
# the build tree.
runtime_libs() {
    printf '%s\n' "$WASI_INSTALL$PREFIX/lib/libpython$PYVER.a"
    find "$WASI_BUILD/Modules" -name '*.a' | LC_ALL=C sort
    printf '%s\n' "$DEPS/lib/libz.a"
    printf '%s\n' "$CRYPTO_LIBS/libpyedge_crypto.a" "$CRYPTO_LIBS/libmbedcrypto.a" \
        "$CRYPTO_LIBS/libsodium-ed25519.a" "$CRYPTO_LIBS/libbearssl.a"
}

# What entry/pyedge_vfs.c wraps (it defines __wrap_X and calls __real_X for each), and
# the two host reads entry/pyedge_entry.c counts while boot.py watches (clock, random).
VFS_WRAPPED=(
    __wasi_clock_time_get __wasi_random_get
    __wasilibc_find_abspath strerror
    __wasi_path_open __wasi_fd_close __wasi_fd_read __wasi_fd_pread __wasi_fd_write
    __wasi_fd_pwrite __wasi_fd_seek __wasi_fd_tell __wasi_fd_fdstat_get
    __wasi_fd_fdstat_set_flags __wasi_fd_fdstat_set_rights __wasi_fd_filestat_get
    __wasi_fd_filestat_set_size __wasi_fd_allocate __wasi_fd_filestat_set_times
    __wasi_fd_advise __wasi_fd_sync __wasi_fd_datasync __wasi_fd_renumber __wasi_fd_readdir
    __wasi_path_filestat_get __wasi_path_filestat_set_times __wasi_path_create_directory
    __wasi_path_unlink_file __wasi_path_remove_directory __wasi_path_rename
    __wasi_path_readlink __wasi_path_symlink __wasi_path_link
)

# link_variant NAME ENTRY_DIR [EXTRA_LINK_FLAG...]
# Compile every ENTRY_DIR/*.c (plus any prebuilt ENTRY_DIR/*.o, e.g. a
# wit-bindgen component-type object) and link NAME.wasm, a reactor-style core
# module without a _start: functions are exported by their
# __attribute__((export_name)), pyedge_bundle_desc (a data symbol) as a global.
link_variant() {
    local name=$1 dir=$2; shift 2
    local objdir="$WORK/link/$name" l="$LOGS/link-$name.log"
    local inc="$WASI_INSTALL$PREFIX/include/python$PYVER"
    rm -rf "$objdir"
    mkdir -p "$objdir"
    : >"$l"
    local srcs=() objs=() src obj
    mapfile -t srcs < <(find "$dir" -maxdepth 1 -name '*.c' | LC_ALL=C sort)
    ((${#srcs[@]})) || die "no .c files in $dir"
    for src in "${srcs[@]}"; do
        obj="$objdir/$(basename "${src%.c}").o"
        # shellcheck disable=SC2086
        run_logged "$l" $WASM_CC $WASI_OPT $ENTRY_PREFIX_MAPS -Wall -I"$inc" -I"$dir" -I"$DEPS/include" \
            -c "$src" -o "$obj"
        objs+=("$obj")
    done
    mapfile -t -O "${#objs[@]}" objs < <(find "$dir" -maxdepth 1 -name '*.o' | LC_ALL=C sort)
    local libs=()
    mapfile -t libs < <(runtime_libs)
    # The entry's in-memory file system (entry/pyedge_vfs.c) sits between wasi-libc and
    # the host: every WASI call that takes a file descriptor or a path, and the choice
    # of a preopened directory for an absolute path, go through its wrappers.
    local wraps=() fn
    for fn in "${VFS_WRAPPED[@]}"; do wraps+=("-Wl,--wrap=$fn"); done
    # shellcheck disable=SC2086
    run_logged "$l" $WASM_CC -O2 -nostartfiles -Wl,--no-entry \
        -Wl,--export=pyedge_bundle_desc \
        -Wl,-z,stack-size=8388608 -Wl,--stack-first -Wl,--wrap=sbrk "${wraps[@]}" \
        -Wl,--Map="$objdir/$name.map" \
        "$@" "${objs[@]}" "${libs[@]}" \
        -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks \
        -ldl -lm -o "$objdir/$name.wasm"
    run_logged "$l" "$HOST_PY" "$HERE/pack.py" wasm-exports "$objdir/$name.wasm" \
        --require memory:memory --require pyedge_bundle_desc:global
    # Which functions and data belong to the optional extension modules, by the map.
    run_logged "$l" "$HOST_PY" "$HERE/pack.py" prune-table "$objdir/$name.wasm" \
        "$objdir/$name.map" "$objdir/$name.prune.json"
    if grep -qaF -e "$WORK" -e "$ENTRY_DIR" "$objdir/$name.wasm" "$objdir/$name.prune.json"; then
        die "$name.wasm contains a build path ($WORK or $ENTRY_DIR)"
    fi
    cp "$objdir/$name.wasm" "$OUT/$name.wasm.tmp"
    mv "$OUT/$name.wasm.tmp" "$OUT/$name.wasm"
    cp "$objdir/$name.prune.json" "$OUT/$name.prune.json.tmp"
    mv "$OUT/$name.prune.json.tmp" "$OUT/$name.prune.json"
}

# -------------------------------------------------------------------- numpy --

# numpy for WASI (issue 21): compiled by numpy/build.sh against this work dir's CPython
# build into static archives (it keys and caches its own output). The runtime variants
# that carry it link every numpy extension module except the ones only numpy's own tests
# import; an app that does not import numpy gets the variants without it, unchanged.
NUMPY_OUT="$WORK/numpy-out"
NUMPY_TEST_ONLY=(
    numpy._core._multiarray_tests numpy._core._umath_tests numpy._core._rational_tests
    numpy._core._struct_ufunc_tests numpy._core._operand_flag_tests numpy._core._simd
)
NUMPY_GEN="$WORK/gen/numpy"

# The runtime's numpy modules (modules.tsv minus the test-only ones), one per line.
numpy_runtime_modules() {
    local test_only
    test_only=$(printf '%s\n' "${NUMPY_TEST_ONLY[@]}")
    awk -F'\t' -v skip="$test_only" 'BEGIN { n = split(skip, s, "\n"); for (i = 1; i <= n; i++) t[s[i]] = 1 }
        !($1 in t)' "$NUMPY_OUT/modules.tsv"
}

build_numpy() {
    bash "$HERE/numpy/build.sh" --runtime-work "$WORK" --out "$NUMPY_OUT" --jobs "$JOBS"
    local m
    for m in "${NUMPY_TEST_ONLY[@]}"; do
        grep -q "^$m"$'\t' "$NUMPY_OUT/modules.tsv" || die "numpy built no $m (NUMPY_TEST_ONLY is stale)"
    done
    # The inittab entries of the numpy variants: pyedge_entry.c calls this strong
    # definition instead of its weak, empty one.
    mkdir -p "$NUMPY_GEN"
    {
        echo '/* Generated by runtime-assets/build.sh from numpy/build.sh'"'"'s modules.tsv: numpy'"'"'s'
        echo ' * extension modules as built-in modules of this runtime variant. */'
        echo '#include <Python.h>'
        echo '#include "pyedge_entry.h"'
        numpy_runtime_modules | awk -F'\t' '{ printf "PyMODINIT_FUNC %s(void);\n", $2 }'
        echo 'int pyedge_register_extra_modules(void) {'
        numpy_runtime_modules |
            awk -F'\t' '{ printf "    if (PyImport_AppendInittab(\"%s\", %s) < 0) return -1;\n", $1, $2 }'
        echo '    return 0;'
        echo '}'
    } >"$NUMPY_GEN/pyedge_numpy_modules.c"
}

# The archives a numpy variant links: the modules', each once, then the C++ runtime.
numpy_link_inputs() {
    numpy_runtime_modules | cut -f3 | tr ' ' '\n' | awk 'NF && !seen[$0]++ { print }' |
        sed "s|^|$NUMPY_OUT/lib/|"
    printf '%s\n' "$NUMPY_OUT/lib/libpyedge_cxx.a" "$NUMPY_OUT/lib/libc++.a" "$NUMPY_OUT/lib/libc++abi.a"
}

# ------------------------------------------------------------------ outputs --

write_outputs() {
    log "packing stdlib.zip"
    # The installed lib dir plus the generated _sysconfigdata (installed there
    # too); the latter records build paths, which are redacted.
    "$HOST_PY" "$HERE/pack.py" stdlib-zip "$WASI_INSTALL$PREFIX/lib/python$PYVER" \
        "$OUT/stdlib.zip" --redact "$WORK=$REDACTED_WORK" 2>>"$LOGS/pack.log" ||
        die "packing stdlib.zip failed (see $LOGS/pack.log)"
    cp "$SRC/LICENSE" "$OUT/LICENSE.python"
    log "packing numpy-site.zip"
    "$HOST_PY" "$HERE/pack.py" site-zip "$NUMPY_OUT/site-packages" "$OUT/numpy-site.zip" \
        --package numpy 2>>"$LOGS/pack.log" || die "packing numpy-site.zip failed (see $LOGS/pack.log)"

    log "writing provenance.json"
    local tc="$WORK/toolchain-versions.tsv"
    printf '%s\n' "$TOOLCHAIN_VERSIONS" >"$tc"
    local flags="${WASI_CONFIGURE_FLAGS[*]}"
    "$HOST_PY" "$HERE/pack.py" provenance "$OUT/provenance.json" \
        --meta "cpython_version=$CPYTHON_VERSION" \
        --meta "source_date_epoch=$SOURCE_DATE_EPOCH" \
        --meta "wasi_configure_flags=${flags//"$WORK"/$REDACTED_WORK}" \
        --meta "wasi_opt=$WASI_OPT" \
        --meta "cpython_patches=$(cd "$HERE/patches/cpython" && sha256sum -- *.patch | awk '{printf "%s%s sha256:%s", (NR > 1 ? ", " : ""), $2, $1}')" \
        --meta "host_python=$("$HOST_PY" -c 'import sys, zlib; print(sys.version.split()[0], "zlib", zlib.ZLIB_RUNTIME_VERSION)')" \
        --input cpython "$CPYTHON_URL" "$CPYTHON_SHA256" \
        --input zlib "$ZLIB_URL" "$ZLIB_SHA256" \
        --input wasi-libc "$WASI_LIBC_URL" "$WASI_LIBC_SHA256" \
        --input mbedtls "$MBEDTLS_URL" "$MBEDTLS_SHA256" \
        --input libsodium "$LIBSODIUM_URL" "$LIBSODIUM_SHA256" \
        --input libsodium-debian "$LIBSODIUM_DEBIAN_URL" "$LIBSODIUM_DEBIAN_SHA256" \
        --input bearssl "$BEARSSL_URL" "$BEARSSL_SHA256" \
        --meta "numpy_version=$NUMPY_VERSION" \
        --meta "numpy_patches=$(cd "$HERE/numpy/patches" && sha256sum -- *.patch | awk '{printf "%s%s sha256:%s", (NR > 1 ? ", " : ""), $2, $1}')" \
        --input numpy "$NUMPY_URL" "$NUMPY_SHA256" \
        --input cython "$CYTHON_URL" "$CYTHON_SHA256" \
        --input ninja-build "$NINJA_URL" "$NINJA_SHA256" \
        --input libc++-wasm32 "$LIBCXX_URL" "$LIBCXX_SHA256" \
        --input libc++abi-wasm32 "$LIBCXXABI_URL" "$LIBCXXABI_SHA256" \
        --toolchain "$tc" \
        --input wasmtime-wasi-http-wit "$WASI_HTTP_WIT_CRATE_URL" "$WASI_HTTP_WIT_CRATE_SHA256" \
        --meta "wit_bindgen=wit-bindgen-cli $WIT_BINDGEN_VERSION (crates.io)" \
        --output "$OUT/python-cli.wasm" --output "$OUT/python-http.wasm" --output "$OUT/stdlib.zip" \
        --output "$OUT/python-cli.prune.json" --output "$OUT/python-http.prune.json" \
        --output "$OUT/python-cli-numpy.wasm" --output "$OUT/python-http-numpy.wasm" \
        --output "$OUT/python-cli-numpy.prune.json" --output "$OUT/python-http-numpy.prune.json" \
        --output "$OUT/numpy-site.zip" --output "$OUT/LICENSE.python"
}

# -------------------------------------------------------------------- main --

T0=$SECONDS
log "work dir $WORK, output dir $OUT"
ensure_host_tools
TOOLCHAIN_VERSIONS=$(dpkg-query -W "${LLVM_PKGS[@]}" | LC_ALL=C sort)

stage sources stage_sources "$(cat "$HERE"/patches/cpython/*.patch)"
stage toolchain stage_toolchain
stage native-python stage_native_python "${KEY[sources]}"
stage zlib stage_zlib "${KEY[sources]}" "${KEY[toolchain]}"
stage cpython-wasi stage_cpython_wasi "${KEY[native-python]}" "${KEY[zlib]}" \
    "${WASI_CONFIGURE_FLAGS[*]}" "$WASI_OPT"
check_modules
stage crypto-libs stage_crypto_libs "${KEY[sources]}" "${KEY[toolchain]}" \
    "$(cat "$CRYPTO_DIR/pyedge_mbedtls_config.h")"
stage crypto-module stage_crypto_module "${KEY[crypto-libs]}" "${KEY[cpython-wasi]}" \
    "$(cat "$CRYPTO_DIR/_pyedge_crypto.c")"

if [[ -s $LOGS/cpython-wasi-missing-modules.txt ]]; then
    log "CPython's report of modules not built (expected on WASI):"
    sed 's/^/    /' "$LOGS/cpython-wasi-missing-modules.txt" >&2
fi

stage wit-bindgen stage_wit_bindgen
stage http-bindings stage_http_bindings "${KEY[wit-bindgen]}" "$(cat "$HERE/entry-http/world.wit")"

log "linking python-cli.wasm and python-http.wasm from $ENTRY_DIR"
link_variant python-cli "$(assemble_entry python-cli "$HERE"/entry-cli/*.c)"
link_variant python-http "$(assemble_entry python-http "$HERE"/entry-http/*.c \
    "$WORK"/gen/http/http.c "$WORK"/gen/http/http.h "$WORK"/gen/http/http_component_type.o)"

log "numpy, and the runtime variants with it"
build_numpy
mapfile -t NUMPY_LINK < <(numpy_link_inputs)
# numpy formats and parses long double (binary128): wasi-libc keeps that in its own library.
link_variant python-cli-numpy "$(assemble_entry python-cli-numpy "$HERE"/entry-cli/*.c \
    "$NUMPY_GEN/pyedge_numpy_modules.c")" "${NUMPY_LINK[@]}" -lc-printscan-long-double
link_variant python-http-numpy "$(assemble_entry python-http-numpy "$HERE"/entry-http/*.c \
    "$WORK"/gen/http/http.c "$WORK"/gen/http/http.h "$WORK"/gen/http/http_component_type.o \
    "$NUMPY_GEN/pyedge_numpy_modules.c")" "${NUMPY_LINK[@]}" -lc-printscan-long-double
write_outputs

OUTPUTS=(python-cli.wasm python-http.wasm python-cli-numpy.wasm python-http-numpy.wasm
    stdlib.zip numpy-site.zip)
for f in "${OUTPUTS[@]}"; do
    log "$f: $(stat -c %s "$OUT/$f") bytes, sha256 $(sha256sum "$OUT/$f" | cut -d' ' -f1)"
done
log "runtime built in $((SECONDS - T0))s"

if ((CHECK)); then
    # A cold rebuild in another directory; only the verified downloads are
    # shared. Any difference means something machine- or path-dependent leaked.
    W2="$WORK-check"
    log "reproducibility check: rebuilding from scratch in $W2"
    rm -rf "$W2"
    mkdir -p "$W2/downloads"
    cp -p "$DL"/* "$W2/downloads/"
    bash "$HERE/build.sh" --out "$W2/out" --work "$W2" --entry-dir "$ENTRY_DIR" --jobs "$JOBS"
    status=0
    for f in "${OUTPUTS[@]}"; do
        a=$(sha256sum "$OUT/$f" | cut -d' ' -f1)
        b=$(sha256sum "$W2/out/$f" | cut -d' ' -f1)
        printf '%-16s %s  %s\n' "$f" "$a" "$OUT/$f" >&2
        printf '%-16s %s  %s\n' "" "$b" "$W2/out/$f" >&2
        if [[ $a != "$b" ]]; then
            log "NOT REPRODUCIBLE: $f differs"
            status=1
        fi
    done
    ((status == 0)) || exit 1
    log "reproducible: both builds are byte-identical"
fi
