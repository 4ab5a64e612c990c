#!/usr/bin/env bash
# Build numpy for wasm32-wasi from its pinned PyPI sdist, as static archives for
# pyedge's runtime (issue 21), with the runtime's own toolchain and CPython build.
#
#   bash runtime-assets/numpy/build.sh --runtime-work DIR --out DIR [--work DIR] [--jobs N] [--check]
#
# --runtime-work is the work directory of a finished runtime-assets/build.sh run: its
# wasi-libc sysroot, its build Python (CPython 3.13, native) and its WASI CPython build
# are reused, so numpy is compiled against exactly the headers and sysconfig the runtime
# has. The numpy build lives in --work (default: the runtime work dir's numpy/); downloads
# go to the runtime work dir's downloads/. --check then builds again from scratch in
# <work>-check and fails unless every output is byte-identical.
#
# Outputs in --out:
#   lib/*.a          one archive per numpy extension module (NAME.a, NAME the module's
#                    dotted name) and the static libraries they share (lib*.a), plus
#                    what a program linking them also needs: libc++.a and libc++abi.a
#                    (Debian's, see pins.env) and libpyedge_cxx.a (cxx_no_exceptions.c)
#   modules.tsv      dotted name, init function, archives (space-separated, lib/-relative)
#   site-packages/   numpy's Python part as `meson install` lays it out (tests included;
#                    no native files)
#   python-numpy.wasm  a plain CPython command line (the WASI build's Programs/python.c
#                    behaviour, Py_BytesMain) with every numpy module built in: numpy's
#                    own test suite and scripts/numpy-tests.sh run on it
#   provenance.json  inputs (URL, SHA-256), patches, toolchain, outputs' SHA-256s
#
# How the modules become archives: meson links each extension module with the C
# compiler driver and `-shared`. The compiler given to meson (generated below,
# tools/wasi-cc) is clang for wasm32-wasi, except that such a shared-module link instead
# archives the module's objects and records which static libraries it would have linked
# (MODULE.so.libs). wasm32-wasi has no dynamic loading that CPython uses, so this is
# where the build stops being numpy's and becomes pyedge's.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ASSETS=$(cd "$HERE/.." && pwd -P)
RUNTIME_WORK="" OUT="" JOBS=2 W="" CHECK=0
usage() { sed -n '2,31p' "$HERE/build.sh" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case $1 in
        --runtime-work) RUNTIME_WORK=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        --jobs) JOBS=${2:?}; shift 2 ;;
        --work) W=${2:?}; shift 2 ;;
        --check) CHECK=1; shift ;;
        -h|--help) usage ;;
        *) echo "numpy/build.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[[ -n $RUNTIME_WORK && -n $OUT ]] || usage

log() { printf '==> numpy: %s\n' "$*" >&2; }
die() { printf 'numpy/build.sh: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../pins.env
source "$ASSETS/pins.env"
# shellcheck source=pins.env
source "$HERE/pins.env"
export SOURCE_DATE_EPOCH
unset CC CXX CPP CFLAGS CXXFLAGS CPPFLAGS LDFLAGS LIBS AR RANLIB MAKEFLAGS MFLAGS \
    PYTHONPATH PYTHONHOME PYTHONSTARTUP PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CONFIG_SITE
export LC_ALL=C TZ=UTC
umask 022

RUNTIME_WORK=$(cd "$RUNTIME_WORK" 2>/dev/null && pwd -P) || die "no runtime work dir: $RUNTIME_WORK"
for stamp in toolchain native-python cpython-wasi zlib; do
    [[ -f $RUNTIME_WORK/stamps/$stamp ]] ||
        die "$RUNTIME_WORK has no finished '$stamp' stage: run runtime-assets/build.sh first"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

PYVER=${CPYTHON_VERSION%.*}
DL="$RUNTIME_WORK/downloads"
W=${W:-$RUNTIME_WORK/numpy}
mkdir -p "$W"
W=$(cd "$W" && pwd -P)
LOGS="$W/logs"
NATIVE_PY="$RUNTIME_WORK/build/native/python"
WASI_BUILD="$RUNTIME_WORK/build/wasi"
WASI_INSTALL="$RUNTIME_WORK/install/wasi"
PY_INCLUDE="$WASI_INSTALL/usr/local/include/python$PYVER"
SYSROOT="$W/sysroot"
SRC="$W/src/numpy-$NUMPY_VERSION"
BUILD="$W/build"
TOOLS="$W/tools"
# The work dirs never reach an output: objects name them /pyedge-work and
# /pyedge-numpy-work (clang applies the more specific map where both match).
PREFIX_MAPS="-ffile-prefix-map=$RUNTIME_WORK=/pyedge-work -ffile-prefix-map=$W=/pyedge-numpy-work"
HOST_PY=/usr/bin/python3
[[ -x $HOST_PY ]] || HOST_PY=$(command -v python3) || die "python3 is required"
mkdir -p "$DL" "$LOGS"

SCRIPT=numpy/build.sh
# shellcheck source=../common.sh
source "$ASSETS/common.sh" # run_logged, fetch

# Everything the outputs depend on: this script, the pins, the patches, the C stubs, and
# the runtime stages numpy is compiled against.
KEY=$({
    cat "$HERE/build.sh" "$HERE/pins.env" "$ASSETS/pins.env" "$HERE"/patches/*.patch \
        "$HERE"/*.c "$HERE"/*.py
    cat "$RUNTIME_WORK"/stamps/{toolchain,native-python,cpython-wasi,zlib}
    dpkg-query -W "clang-$LLVM_MAJOR" "lld-$LLVM_MAJOR" "llvm-$LLVM_MAJOR" 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
# --check: build again from scratch in another work dir and compare every output.
check_reproducible() {
    local w2="$W-check" status=0 f
    log "reproducibility check: building again from scratch in $w2"
    rm -rf "$w2"
    bash "$HERE/build.sh" --runtime-work "$RUNTIME_WORK" --work "$w2" --out "$w2/out" --jobs "$JOBS"
    while read -r f; do
        if ! cmp -s "$OUT/$f" "$w2/out/$f"; then
            log "NOT REPRODUCIBLE: $f differs ($OUT/$f, $w2/out/$f)"
            status=1
        fi
    done < <(cd "$OUT" && find . -type f ! -name .key ! -name provenance.json | LC_ALL=C sort)
    [[ $(cd "$OUT" && find . -type f | wc -l) == $(cd "$w2/out" && find . -type f | wc -l) ]] ||
        { log "NOT REPRODUCIBLE: the two builds have different files"; status=1; }
    ((status == 0)) || exit 1
    log "reproducible: both builds are byte-identical ($(cd "$OUT" && find . -type f | wc -l) files)"
}

if [[ -f $OUT/.key && $(<"$OUT/.key") == "$KEY" && -f $OUT/provenance.json ]]; then
    log "up to date in $OUT"
    if ((CHECK)); then check_reproducible; fi
    exit 0
fi
T0=$SECONDS
rm -f "$OUT/.key"

# ---- sources and tools ----
log "sources (numpy $NUMPY_VERSION, Cython $CYTHON_VERSION, ninja, libc++ for wasm32)"
rm -rf "$W/src" "$TOOLS" "$SYSROOT" "$BUILD" "$W/install"
mkdir -p "$W/src" "$TOOLS/bin" "$TOOLS/cython" "$TOOLS/debs"
tar -C "$W/src" -xzf "$(fetch "$NUMPY_URL" "$NUMPY_SHA256")"
[[ -f $SRC/meson.build && -f $SRC/vendored-meson/meson/meson.py ]] || die "unexpected numpy sdist layout"
for p in "$HERE"/patches/*.patch; do
    patch -s -d "$SRC" -p1 --no-backup-if-mismatch <"$p" || die "numpy: $p does not apply"
done
# A method whose C function takes fewer parameters than its flags pass traps in wasm32.
"$HOST_PY" "$HERE/check_methods.py" "$SRC/numpy" >"$LOGS/check-methods.log" 2>&1 || {
    cat "$LOGS/check-methods.log" >&2
    die "numpy has C methods whose signature does not match their flags (a trap in wasm32): patch them"
}
# A wheel is a zip: unpacked, it is importable as it stands.
"$HOST_PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$(fetch "$CYTHON_URL" "$CYTHON_SHA256")" "$TOOLS/cython"
dpkg-deb -x "$(fetch "$NINJA_URL" "$NINJA_SHA256")" "$TOOLS/debs"
dpkg-deb -x "$(fetch "$LIBCXX_URL" "$LIBCXX_SHA256")" "$TOOLS/debs"
dpkg-deb -x "$(fetch "$LIBCXXABI_URL" "$LIBCXXABI_SHA256")" "$TOOLS/debs"
ln -s ../debs/usr/bin/ninja "$TOOLS/bin/ninja"
"$TOOLS/bin/ninja" --version >/dev/null || die "the extracted ninja does not run"

# The runtime's sysroot (wasi-libc only) plus libc++: a copy, so the runtime's stays as
# it was. Debian's wasm32 libc++ is built without threads and without exceptions.
mkdir -p "$SYSROOT/include" "$SYSROOT/lib"
cp -rL "$RUNTIME_WORK/toolchain/sysroot/include/wasm32-wasi" "$SYSROOT/include/"
cp -rL "$RUNTIME_WORK/toolchain/sysroot/lib/wasm32-wasi" "$SYSROOT/lib/"
LLVM_CXX="$TOOLS/debs/usr/lib/llvm-$LLVM_MAJOR"
mkdir -p "$SYSROOT/include/wasm32-wasi/c++"
cp -rL "$LLVM_CXX/include/wasm32-wasi/c++/v1" "$SYSROOT/include/wasm32-wasi/c++/"
cp "$LLVM_CXX"/lib/wasm32-wasi/libc++.a "$LLVM_CXX"/lib/wasm32-wasi/libc++abi.a \
    "$SYSROOT/lib/wasm32-wasi/"

# The compiler meson is given: clang for wasm32-wasi; a shared-module link archives.
cat >"$TOOLS/bin/wasi-cc" <<EOF
#!/usr/bin/env bash
# Generated by runtime-assets/numpy/build.sh: clang-$LLVM_MAJOR for wasm32-wasi. A link with
# -shared (an extension module) archives its objects instead and lists in OUT.libs the
# static libraries it names; pyedge links those into the runtime.
set -euo pipefail
driver=\${WASI_DRIVER:-clang-$LLVM_MAJOR}
shared=0 compile=0
for a in "\$@"; do case \$a in -shared) shared=1 ;; -c|-E|-S) compile=1 ;; esac; done
if [[ \$shared == 0 || \$compile == 1 ]]; then
    exec "\$driver" --target=wasm32-wasi --sysroot="$SYSROOT" $PREFIX_MAPS "\$@"
fi
out="" prev="" objs=() libs=()
for a in "\$@"; do
    if [[ \$prev == -o ]]; then out=\$a
    elif [[ \$a == *.o ]]; then objs+=("\$a")
    elif [[ \$a == *.a ]]; then libs+=("\$a")
    fi
    prev=\$a
done
[[ -n \$out ]] || { echo "wasi-cc: a -shared link without -o" >&2; exit 1; }
rm -f "\$out" "\$out.libs"
llvm-ar-$LLVM_MAJOR rcsD "\$out" "\${objs[@]}"
printf '%s\n' "\${libs[@]}" >"\$out.libs"
EOF
printf '#!/bin/sh\nWASI_DRIVER=clang++-%s exec "%s/bin/wasi-cc" "$@"\n' "$LLVM_MAJOR" "$TOOLS" \
    >"$TOOLS/bin/wasi-c++"
# The build Python answering sysconfig questions as the WASI CPython: the same
# mechanism CPython's own cross builds use (_PYTHON_PROJECT_BASE names the WASI build
# tree, so include/platinclude are its Include/ and pyconfig.h).
cat >"$TOOLS/bin/python" <<EOF
#!/bin/sh
export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__wasi_wasm32-wasi
export _PYTHON_HOST_PLATFORM=wasi-wasm32
export _PYTHON_PROJECT_BASE="$WASI_BUILD"
export PYTHONPATH="$WASI_BUILD/build/lib.wasi-wasm32-$PYVER\${PYTHONPATH:+:\$PYTHONPATH}"
exec "$NATIVE_PY" "\$@"
EOF
# Cython runs on the build Python as itself (no WASI sysconfig).
printf '#!/bin/sh\nPYTHONPATH="%s" exec "%s" -m cython "$@"\n' "$TOOLS/cython" "$NATIVE_PY" \
    >"$TOOLS/bin/cython"
chmod +x "$TOOLS"/bin/*
"$TOOLS/bin/cython" --version >/dev/null 2>&1 || die "Cython does not run on $NATIVE_PY"
# sysconfig also names the install-time include dir (INCLUDEPY, /usr/local/include/...);
# a host copy of it there would shadow the WASI headers.
[[ ! -e /usr/local/include/python$PYVER ]] ||
    die "/usr/local/include/python$PYVER exists on this machine and would be searched before the WASI headers"

# long double on wasm32 is IEEE binary128 (clang's layout for the target), as Pyodide's
# cross file also says for Emscripten. No BLAS/LAPACK: numpy's bundled lapack_lite.
cat >"$W/wasi.cross" <<EOF
[binaries]
c = '$TOOLS/bin/wasi-cc'
cpp = '$TOOLS/bin/wasi-c++'
ar = 'llvm-ar-$LLVM_MAJOR'
strip = 'llvm-strip-$LLVM_MAJOR'
python = '$TOOLS/bin/python'

[built-in options]
# numpy's modules are linked into one program: see patches/0001-*.patch.
c_args = ['-DNPY_STATIC_EXTENSIONS']
cpp_args = ['-DNPY_STATIC_EXTENSIONS']

[properties]
longdouble_format = 'IEEE_QUAD_LE'
needs_exe_wrapper = true

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
EOF

# ---- configure, compile, install ----
# disable-optimization: no SIMD dispatch (wasm32 here has no SIMD target in numpy's list);
# disable-threading: WASI preview 1 has no threads.
# optimization=s (clang -Oz): numpy's code is most of a numpy app's component, and -Oz
# makes the runtime module 1.5 MB smaller than release's -O3 (16.38 -> 14.84 MB) with no
# change in the analytics fixture's request time that bench/numpy.sh could measure (a
# request is dominated by the fresh instance's page faults). The inner loops are not
# affected: numpy's meson.build compiles its dispatch sources (arithmetic, comparison,
# argfunc, ... loops) with -O3 whatever the build's level. NDEBUG stays (buildtype release).
log "meson setup"
export PATH="$TOOLS/bin:$PATH"
(cd "$SRC" && run_logged "$LOGS/setup.log" "$TOOLS/bin/python" vendored-meson/meson/meson.py setup \
    "$BUILD" --cross-file "$W/wasi.cross" --buildtype=release -Doptimization=s -Db_ndebug=if-release \
    -Dallow-noblas=true -Dblas=none -Dlapack=none \
    -Ddisable-optimization=true -Ddisable-threading=true)
log "compiling (log: $LOGS/compile.log)"
run_logged "$LOGS/compile.log" ninja -C "$BUILD" -j"$JOBS"
run_logged "$LOGS/install.log" "$TOOLS/bin/python" "$SRC/vendored-meson/meson/meson.py" install \
    -C "$BUILD" --destdir "$W/install" --no-rebuild

# ---- outputs ----
log "archives and modules.tsv"
STAGE="$OUT.partial"
rm -rf "$STAGE"
mkdir -p "$STAGE/lib"
SITE="$W/install/usr/local/lib/python$PYVER/site-packages"
[[ -f $SITE/numpy/__init__.py ]] || die "meson install left no numpy/__init__.py in $SITE"
cp -r "$SITE" "$STAGE/site-packages"
find "$STAGE/site-packages" \( -name '*.so' -o -name '*.so.libs' -o -name '__pycache__' \) -prune \
    -exec rm -rf {} +
# numpy/__config__.py records the compilers' and the build Python's paths (np.show_config):
# the work dirs are named as in the objects.
"$HOST_PY" - "$STAGE/site-packages" "$W" "$RUNTIME_WORK" <<'PY'
import pathlib, sys
root, numpy_work, runtime_work = sys.argv[1:]
for path in pathlib.Path(root).rglob("*.py"):
    text = path.read_text(encoding="utf-8")
    new = text.replace(numpy_work, "/pyedge-numpy-work").replace(runtime_work, "/pyedge-work")
    if new != text:
        path.write_text(new, encoding="utf-8")
PY
if grep -rqF -e "$RUNTIME_WORK" -e "$W" "$STAGE/site-packages"; then
    die "numpy's Python files name a build path: $(grep -rlF -e "$RUNTIME_WORK" -e "$W" "$STAGE/site-packages" | head -3)"
fi
: >"$STAGE/modules.tsv"
while read -r so; do
    rel=${so#"$BUILD"/}
    mod=${rel%%.cpython-*}
    dotted=${mod//\//.}
    cp "$so" "$STAGE/lib/$dotted.a"
    archives="$dotted.a"
    while read -r lib; do
        [[ -n $lib ]] || continue
        base=$(basename "$lib")
        # meson makes its internal static libraries thin archives (they name objects
        # in the build tree): a self-contained copy (llvm-ar's L adds an archive's members).
        if [[ ! -f $STAGE/lib/$base ]]; then
            (cd "$BUILD" && "llvm-ar-$LLVM_MAJOR" qcsLD "$STAGE/lib/$base" "$lib")
        fi
        archives+=" $base"
    done <"$so.libs"
    printf '%s\tPyInit_%s\t%s\n' "$dotted" "${dotted##*.}" "$archives" >>"$STAGE/modules.tsv"
done < <(find "$BUILD/numpy" -name "*.cpython-*-wasm32-wasi.so" | LC_ALL=C sort)
[[ -s $STAGE/modules.tsv ]] || die "no extension modules were built"

# What every program linking the modules needs besides: the C++ runtime, and pyedge's
# answer to a C++ throw (cxx_no_exceptions.c). runtime-assets/build.sh links them too.
CC_WASM=(clang-"$LLVM_MAJOR" --target=wasm32-wasi --sysroot="$SYSROOT" $PREFIX_MAPS)
cp "$LLVM_CXX"/lib/wasm32-wasi/libc++.a "$LLVM_CXX"/lib/wasm32-wasi/libc++abi.a "$STAGE/lib/"
run_logged "$LOGS/link.log" "${CC_WASM[@]}" -O2 -Wall -Werror -c "$HERE/cxx_no_exceptions.c" \
    -o "$W/cxx_no_exceptions.o"
"llvm-ar-$LLVM_MAJOR" rcsD "$STAGE/lib/libpyedge_cxx.a" "$W/cxx_no_exceptions.o"

# The test interpreter: CPython's main with every numpy module in the inittab.
log "linking python-numpy.wasm"
INIT_C="$W/python_numpy_main.c"
{
    echo '/* Generated by runtime-assets/numpy/build.sh from modules.tsv. */'
    echo '#include <Python.h>'
    awk -F'\t' '{ printf "PyMODINIT_FUNC %s(void);\n", $2 }' "$STAGE/modules.tsv"
    echo 'int main(int argc, char **argv) {'
    awk -F'\t' '{ printf "    if (PyImport_AppendInittab(\"%s\", %s) < 0) return 120;\n", $1, $2 }' \
        "$STAGE/modules.tsv"
    echo '    return Py_BytesMain(argc, argv);'
    echo '}'
} >"$INIT_C"
run_logged "$LOGS/link.log" "${CC_WASM[@]}" -O2 -I"$PY_INCLUDE" -c "$INIT_C" -o "$W/python_numpy_main.o"
libs=()
while read -r a; do libs+=("$STAGE/lib/$a"); done < <(cut -f3 "$STAGE/modules.tsv" | tr ' ' '\n' |
    awk '!seen[$0]++')
# numpy formats and parses long double (binary128), which wasi-libc keeps in a separate
# library; C++ runtime last.
run_logged "$LOGS/link.log" clang++-"$LLVM_MAJOR" --target=wasm32-wasi --sysroot="$SYSROOT" -O2 \
    -Wl,-z,stack-size=8388608 -Wl,--stack-first -Wl,--fatal-warnings \
    "$W/python_numpy_main.o" "${libs[@]}" "$STAGE/lib/libpyedge_cxx.a" \
    "$WASI_INSTALL/usr/local/lib/libpython$PYVER.a" \
    $(find "$WASI_BUILD/Modules" -name '*.a' | LC_ALL=C sort) "$RUNTIME_WORK/deps/lib/libz.a" \
    -lc-printscan-long-double -lwasi-emulated-signal -lwasi-emulated-getpid \
    -lwasi-emulated-process-clocks -ldl -lm -o "$STAGE/python-numpy.wasm"
if grep -qaF -e "$RUNTIME_WORK" -e "$W" "$STAGE/python-numpy.wasm" "$STAGE"/lib/*.a; then
    die "an output contains a build path ($RUNTIME_WORK or $W)"
fi

log "provenance.json"
TC="$W/toolchain-versions.tsv"
dpkg-query -W "clang-$LLVM_MAJOR" "lld-$LLVM_MAJOR" "llvm-$LLVM_MAJOR" | LC_ALL=C sort >"$TC"
outputs=()
for f in "$STAGE/python-numpy.wasm" "$STAGE/modules.tsv" "$STAGE"/lib/*.a; do outputs+=(--output "$f"); done
"$HOST_PY" "$ASSETS/pack.py" provenance "$STAGE/provenance.json" \
    --meta "numpy_version=$NUMPY_VERSION" \
    --meta "meson_options=blas=none lapack=none allow-noblas=true disable-optimization=true disable-threading=true buildtype=release optimization=s" \
    --meta "numpy_patches=$(cd "$HERE/patches" && sha256sum -- *.patch | awk '{printf "%s%s sha256:%s", (NR > 1 ? ", " : ""), $2, $1}')" \
    --meta "runtime_stages=$(cat "$RUNTIME_WORK"/stamps/cpython-wasi)" \
    --input numpy "$NUMPY_URL" "$NUMPY_SHA256" \
    --input cython "$CYTHON_URL" "$CYTHON_SHA256" \
    --input ninja-build "$NINJA_URL" "$NINJA_SHA256" \
    --input libc++-wasm32 "$LIBCXX_URL" "$LIBCXX_SHA256" \
    --input libc++abi-wasm32 "$LIBCXXABI_URL" "$LIBCXXABI_SHA256" \
    --toolchain "$TC" "${outputs[@]}"
printf '%s\n' "$KEY" >"$STAGE/.key"
rm -rf "$OUT"
mv "$STAGE" "$OUT"
log "built in $((SECONDS - T0))s: $(wc -l <"$OUT/modules.tsv") modules, python-numpy.wasm $(stat -c %s "$OUT/python-numpy.wasm") bytes"
if ((CHECK)); then check_reproducible; fi
