#!/usr/bin/env python3
"""Helpers for runtime-assets/build.sh that are easier in Python than in bash.

  pack.py stdlib-zip LIBDIR OUT.zip [--redact OLD=NEW ...]
      Zip the installed pure-Python standard library byte-reproducibly.
  pack.py wasm-exports MODULE.wasm [--require NAME[:KIND] ...]
      List a core module's exports; fail if a required one is missing.
  pack.py provenance OUT.json --meta KEY=VALUE ... --input NAME URL SHA256 ...
      --toolchain FILE --output FILE ...
      Write provenance.json (no timestamps, no local paths).

Only the standard library is used, so any python3 >= 3.8 runs it.
"""

import argparse
import hashlib
import json
import os
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

    leaks = []
    tmp = args.out + ".tmp"
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
    os.replace(tmp, args.out)
    print(f"{len(files)} files", file=sys.stderr)


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

    w = sub.add_parser("wasm-exports")
    w.add_argument("module")
    w.add_argument("--require", action="append", default=[])
    w.set_defaults(func=wasm_exports)

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
