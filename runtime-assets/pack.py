#!/usr/bin/env python3
"""Helpers for runtime-assets/build.sh that are easier in Python than in bash.

  pack.py stdlib-zip LIBDIR OUT.zip [--redact OLD=NEW ...]
      Zip the installed pure-Python standard library byte-reproducibly.
  pack.py site-zip SITE OUT.zip --package NAME [--package NAME ...]
      Zip the Python files of installed packages (no tests, stubs or build tools)
      byte-reproducibly: numpy's Python part, which pyedge bundles beside the
      numpy runtime variant.
  pack.py wasm-exports MODULE.wasm [--require NAME[:KIND] ...]
      List a core module's exports; fail if a required one is missing.
  pack.py prune-table MODULE.wasm MODULE.map OUT.json
      From the linker's map, list the functions and static data of the optional
      C extension modules (unicodedata, the CJK codecs, _decimal, pyexpat...),
      so a build can drop the ones its app cannot import; and where the frozen
      modules' code lies, which a pre-initialized build no longer reads.
  pack.py provenance OUT.json --meta KEY=VALUE ... --input NAME URL SHA256 ...
      --toolchain FILE --output FILE ...
      Write provenance.json (no timestamps, no local paths).

Only the standard library is used, so any python3 >= 3.8 runs it.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import zipfile

# Zip entries get this timestamp: the earliest a zip can express, so the
# archive does not depend on file mtimes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Directories (any depth) that are never part of the runtime's stdlib: test
# suites, GUI/IDE code, installers, bytecode caches.
EXCLUDED_DIR_NAMES = {"test", "tests", "idle_test", "__pycache__", "site-packages"}
# Top-level packages dropped as a whole.
EXCLUDED_TOP_LEVEL = {
    "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "venv",
    "lib-dynload",
}


def _excluded(rel):
    parts = rel.split("/")
    if parts[0] in EXCLUDED_TOP_LEVEL or parts[0].startswith("config-"):
        return True
    if any(p in EXCLUDED_DIR_NAMES for p in parts[:-1]):
        return True
    return rel.endswith((".pyc", ".pyo"))


def stdlib_zip(args):
    redact = []
    for item in args.redact:
        old, sep, new = item.partition("=")
        if not sep or not old:
            sys.exit(f"pack.py: bad --redact {item!r}, want OLD=NEW")
        redact.append((old.encode(), new.encode()))

    files = []
    for root, dirs, names in os.walk(args.libdir):
        dirs.sort()
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, args.libdir).replace(os.sep, "/")
            if not _excluded(rel):
                files.append((rel, full))
    files.sort()
    if not any(rel == "os.py" for rel, _ in files):
        sys.exit(f"pack.py: {args.libdir} does not look like a stdlib (no os.py)")

    _write_zip(files, args.out, redact)


def _write_zip(files, out, redact=()):
    """Zip [(name, path)] into `out` with fixed metadata, refusing any `redact` string
    left in a file."""
    leaks = []
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=9) as zf:
        for rel, full in files:
            with open(full, "rb") as f:
                data = f.read()
            for old, new in redact:
                data = data.replace(old, new)
            # A build-machine path left in any file would make the zip differ
            # between work directories: refuse it instead of shipping it.
            if any(old in data for old, _ in redact):
                leaks.append(rel)
            info = zipfile.ZipInfo(rel, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine runs this
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED,
                        compresslevel=9)
    if leaks:
        os.unlink(tmp)
        sys.exit("pack.py: build paths remain in: " + ", ".join(leaks))
    os.replace(tmp, out)
    print(f"{len(files)} files", file=sys.stderr)


# Parts of an installed numpy that an app at the edge never imports: test suites and
# their helpers, the f2py compiler front end and the PyInstaller hook (build tools), and
# anything that is not Python source (C headers, .pyi stubs, .pxd, pkg-config files).
SITE_EXCLUDED_DIRS = {"tests", "__pycache__", "f2py", "_pyinstaller"}
SITE_EXCLUDED_FILES = {"conftest.py"}


def site_zip(args):
    files = []
    for package in args.package:
        top = os.path.join(args.site, package)
        if not os.path.isfile(os.path.join(top, "__init__.py")):
            sys.exit(f"pack.py: {args.site} holds no package {package}")
        for root, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in SITE_EXCLUDED_DIRS)
            for name in names:
                if name.endswith(".py") and name not in SITE_EXCLUDED_FILES:
                    full = os.path.join(root, name)
                    files.append((os.path.relpath(full, args.site).replace(os.sep, "/"), full))
    files.sort()
    _write_zip(files, args.out)


# --- a minimal wasm reader: enough to list a core module's exports ---------

EXPORT_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


def _leb(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def read_exports(path):
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != b"\0asm\x01\0\0\0":
        raise ValueError(f"{path}: not a wasm core module (version 1)")
    pos, exports = 8, []
    while pos < len(buf):
        sec_id = buf[pos]
        size, pos = _leb(buf, pos + 1)
        end = pos + size
        if end > len(buf):
            raise ValueError(f"{path}: section {sec_id} runs past the end")
        if sec_id == 7:
            count, p = _leb(buf, pos)
            for _ in range(count):
                nlen, p = _leb(buf, p)
                name = buf[p:p + nlen].decode()
                kind = buf[p + nlen]
                _, p = _leb(buf, p + nlen + 1)
                exports.append((name, EXPORT_KINDS.get(kind, str(kind))))
        pos = end
    return exports


def wasm_exports(args):
    exports = read_exports(args.module)
    for name, kind in exports:
        print(f"{kind}\t{name}")
    have = set(exports)
    names = {n for n, _ in exports}
    missing = []
    for req in args.require:
        name, _, kind = req.partition(":")
        if (kind and (name, kind) not in have) or (not kind and name not in names):
            missing.append(req)
    if missing:
        sys.exit(f"pack.py: {args.module} lacks exports: {', '.join(missing)}")


# --- prune table ----------------------------------------------------------------

# Optional extension modules a build may leave out, each with the link inputs that
# only it uses: the module's object in libpython, plus whole bundled libraries
# (`libmpdec.a(*)`). These are the large ones no interpreter start-up imports; the
# rest of the runtime is always kept. Each object's functions and static data are
# listed, so pyedge can replace the functions with `unreachable` and drop the data
# from the snapshot when nothing in the app can import the module.
PRUNABLE = {
    "unicodedata": ["libpython*.a(unicodedata.o)"],
    "_multibytecodec": ["libpython*.a(multibytecodec.o)"],
    "_codecs_cn": ["libpython*.a(_codecs_cn.o)"],
    "_codecs_hk": ["libpython*.a(_codecs_hk.o)"],
    "_codecs_iso2022": ["libpython*.a(_codecs_iso2022.o)"],
    "_codecs_jp": ["libpython*.a(_codecs_jp.o)"],
    "_codecs_kr": ["libpython*.a(_codecs_kr.o)"],
    "_codecs_tw": ["libpython*.a(_codecs_tw.o)"],
    "_decimal": ["libpython*.a(_decimal.o)", "libmpdec.a(*)"],
    "pyexpat": ["libpython*.a(pyexpat.o)", "libexpat.a(*)"],
    "_elementtree": ["libpython*.a(_elementtree.o)"],
    "_pickle": ["libpython*.a(_pickle.o)"],
    "_datetime": ["libpython*.a(_datetimemodule.o)"],
    "cmath": ["libpython*.a(cmathmodule.o)"],
    "_asyncio": ["libpython*.a(_asynciomodule.o)"],
    "array": ["libpython*.a(arraymodule.o)"],
    "_json": ["libpython*.a(_json.o)"],
    "_csv": ["libpython*.a(_csv.o)"],
    "_zoneinfo": ["libpython*.a(_zoneinfo.o)"],
    # pyedge's crypto core under the `cryptography` facade, with its libraries.
    "_pyedge_crypto": [
        "libpyedge_crypto.a(*)", "libmbedcrypto.a(*)", "libsodium-ed25519.a(*)", "libbearssl.a(*)",
    ],
}
# Modules whose C code imports another optional module (through a capsule or
# PyImport), so keeping the first keeps the second.
PRUNE_REQUIRES = {
    "_codecs_cn": ["_multibytecodec"],
    "_codecs_hk": ["_multibytecodec"],
    "_codecs_iso2022": ["_multibytecodec", "_codecs_cn", "_codecs_jp", "_codecs_kr"],
    "_codecs_jp": ["_multibytecodec"],
    "_codecs_kr": ["_multibytecodec"],
    "_codecs_tw": ["_multibytecodec"],
    "_elementtree": ["pyexpat"],
}

# The marshalled code of CPython's frozen modules (importlib._bootstrap, os, codecs...):
# read once, when the interpreter starts and imports them. A pre-initialized build
# imported them already; the bytes can go (see FROZEN_CODE in pyedge's src/prune.rs).
FROZEN_CODE = (re.compile(r"libpython[^()/]*\.a\(frozen\.o\)$"), re.compile(r"^\.rodata\._Py_M__"))

# One input-section line of a wasm-ld map: Addr Off Size In, e.g.
#   94b8f0 4bc245 810         .../libpython3.13.a(unicodedata.o):(.rodata.x)
MAP_LINE = re.compile(r"^\s*([0-9a-f]+|-)\s+([0-9a-f]+)\s+([0-9a-f]+)\s{9}(\S.*):\((.*)\)$")

# An output section's line: its name one space after the size.
SECTION_LINE = re.compile(r"^\s*(?:[0-9a-f]+|-)\s+[0-9a-f]+\s+[0-9a-f]+ (\S+)$")


def _pattern(glob):
    return re.compile(re.escape(glob).replace(r"\*", "[^()/]*") + "$")


def _function_bodies(buf):
    """[(file offset of each code entry, its function index)], in order."""
    pos, imported, bodies = 8, 0, []
    while pos < len(buf):
        sec_id = buf[pos]
        size, pos = _leb(buf, pos + 1)
        end = pos + size
        if sec_id == 2:  # imports: count the imported functions
            count, p = _leb(buf, pos)
            for _ in range(count):
                for _name in range(2):
                    n, p = _leb(buf, p)
                    p += n
                kind = buf[p]
                p += 1
                if kind == 0:
                    _, p = _leb(buf, p)
                    imported += 1
                elif kind in (1, 2):
                    p += kind == 1  # table: reftype first
                    flags = buf[p]
                    _, p = _leb(buf, p + 1)
                    if flags & 1:
                        _, p = _leb(buf, p)
                elif kind == 3:
                    p += 2
                else:
                    raise ValueError(f"import kind {kind} not understood")
        elif sec_id == 10:
            count, p = _leb(buf, pos)
            for i in range(count):
                body_size, body = _leb(buf, p)
                bodies.append((p, imported + i))
                p = body + body_size
        pos = end
    return bodies


def _ranges(values):
    """Sorted half-open [start, end) ranges covering the (start, end) pairs."""
    out = []
    for start, end in sorted(values):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def prune_table(args):
    with open(args.module, "rb") as f:
        buf = f.read()
    bodies = _function_bodies(buf)
    owners = [(name, _pattern(glob)) for name, globs in PRUNABLE.items() for glob in globs]
    groups = {name: {"functions": set(), "data": set(), "code_bytes": 0, "data_bytes": 0}
              for name in PRUNABLE}
    section, seen_code, shift = None, 0, None
    frozen = set()
    with open(args.map) as f:
        for line in f:
            m = MAP_LINE.match(line.rstrip("\n"))
            if not m:
                out = SECTION_LINE.match(line.rstrip("\n"))
                if out:
                    section = out.group(1)  # an output section: CODE, .rodata, .data...
                continue
            addr, off, size, source, symbol = m.groups()
            name = next((n for n, pat in owners if pat.search(source)), None)
            size = int(size, 16)
            if section == "CODE":
                # The map lists the code entries in order; its offsets sit a constant
                # distance from the module's (the section header's width).
                if seen_code >= len(bodies):
                    sys.exit(f"pack.py: {args.map} lists more functions than {args.module} has")
                at, index = bodies[seen_code]
                seen_code += 1
                shift = at - int(off, 16) if shift is None else shift
                if at - int(off, 16) != shift:
                    sys.exit(f"pack.py: {args.map} does not match {args.module} at {off}")
                if name is None:
                    continue
                group = groups[name]
                group["functions"].add((index, index + 1))
                group["code_bytes"] += size
                continue
            if FROZEN_CODE[0].search(source) and FROZEN_CODE[1].match(symbol) and size:
                frozen.add((int(addr, 16), int(addr, 16) + size))
            if name is None:
                continue
            group = groups[name]
            if section in (".rodata", ".data") and size:
                start = int(addr, 16)
                group["data"].add((start, start + size))
                group["data_bytes"] += size
    if seen_code != len(bodies):
        sys.exit(f"pack.py: {args.map} lists {seen_code} functions, {args.module} has {len(bodies)}")
    missing = [n for n, g in groups.items() if not g["functions"]]
    if missing:
        sys.exit(f"pack.py: the map lists no functions for {', '.join(missing)}")
    if not frozen:
        sys.exit(f"pack.py: {args.map} lists no frozen module code")
    doc = {
        "module_sha256": _sha256(args.module),
        "frozen_code": _ranges(frozen),
        "groups": [
            {
                "module": name,
                "requires": PRUNE_REQUIRES.get(name, []),
                "code_bytes": g["code_bytes"],
                "data_bytes": g["data_bytes"],
                "functions": _ranges(g["functions"]),
                "data": _ranges(g["data"]),
            }
            for name, g in sorted(groups.items())
        ],
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"{'frozen modules':<18} data {sum(e - s for s, e in doc['frozen_code']):>8}")
    for group in doc["groups"]:
        print(f"{group['module']:<18} code {group['code_bytes']:>8}  data {group['data_bytes']:>8}")


# --- provenance ---------------------------------------------------------------

def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(args):
    doc = {}
    for item in args.meta:
        key, _, value = item.partition("=")
        doc[key] = value
    doc["inputs"] = [{"name": n, "url": u, "sha256": s} for n, u, s in args.input]
    toolchain = {}
    with open(args.toolchain) as f:
        for line in f:
            if line.strip():
                pkg, _, ver = line.rstrip("\n").partition("\t")
                toolchain[pkg] = ver
    doc["toolchain"] = toolchain
    doc["outputs"] = {
        os.path.basename(p): {"sha256": _sha256(p), "size": os.path.getsize(p)}
        for p in sorted(args.output)
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)


def main():
    ap = argparse.ArgumentParser(prog="pack.py")
    sub = ap.add_subparsers(dest="cmd", required=True)

    z = sub.add_parser("stdlib-zip")
    z.add_argument("libdir")
    z.add_argument("out")
    z.add_argument("--redact", action="append", default=[])
    z.set_defaults(func=stdlib_zip)

    s = sub.add_parser("site-zip")
    s.add_argument("site")
    s.add_argument("out")
    s.add_argument("--package", action="append", required=True)
    s.set_defaults(func=site_zip)

    w = sub.add_parser("wasm-exports")
    w.add_argument("module")
    w.add_argument("--require", action="append", default=[])
    w.set_defaults(func=wasm_exports)

    t = sub.add_parser("prune-table")
    t.add_argument("module")
    t.add_argument("map")
    t.add_argument("out")
    t.set_defaults(func=prune_table)

    p = sub.add_parser("provenance")
    p.add_argument("out")
    p.add_argument("--meta", action="append", default=[])
    p.add_argument("--input", nargs=3, action="append", default=[],
                   metavar=("NAME", "URL", "SHA256"))
    p.add_argument("--toolchain", required=True)
    p.add_argument("--output", action="append", default=[])
    p.set_defaults(func=provenance)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
