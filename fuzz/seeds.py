#!/usr/bin/env python3
"""Write the seed corpora under fuzz/corpus/<target>/ (committed; run again after a change).

Every seed is made here by hand: small requirements and pyproject files, wheels built
with zipfile, and WebAssembly written byte by byte. Nothing is copied from elsewhere.
"""
import base64
import hashlib
import io
import os
import shutil
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
HASH = "0f343b0f5f2ec1e1f2e3e6a5c4a2d4e2b2f9a7d2c7e1b1c3a4d5e6f708192a3b"


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def requirements_txt():
    # Files are separated by NUL bytes: requirements.txt, base.txt, dev/more.txt, ...
    write("requirements_txt", "simple", "attrs>=23\nrequests[socks]==2.31 ; python_version >= \"3.8\"\n")
    write(
        "requirements_txt",
        "includes",
        "# app\n--index-url http://127.0.0.1:1/simple\n-r base.txt\n"
        f"pyjwt[crypto] >= 2.8 ; python_version >= \"3.8\" \\\n    --hash=sha256:{HASH}\n"
        "\0attrs  # trailing comment\n-rdev/more.txt\n"
        "\0uvloop; sys_platform != \"wasi\"\n--requirement=../up.txt\n"
        "\0six==1.16.0 --hash sha256:" + HASH.upper() + "\n",
    )
    write("requirements_txt", "cycle", "-r base.txt\n\0-r requirements.txt\n")
    write(
        "requirements_txt",
        "markers",
        "x; (python_version < '3.14' and (os_name == 'posix' or extra == 'a')) "
        "or platform_machine == 'wasm32'\n"
        "y[a,b] (>=1.0,<2.0,!=1.5.*); implementation_name == \"cpython\"\n"
        "z~=1.4.2; sys_platform == 'wasi' and python_full_version >= '3.13.0'\n",
    )
    write(
        "requirements_txt",
        "options",
        "--pre\n--no-index\n-f wheels\n--extra-index-url=http://127.0.0.1:2/simple\n"
        "--only-binary :all:\n--require-hashes\n-i http://127.0.0.1:3/simple\nflask\n",
    )


def pyproject_toml():
    write(
        "pyproject_toml",
        "full",
        '[project]\nname = "gate"\nversion = "0.1.0"\n'
        'dependencies = [\n  "pyjwt[crypto]>=2.8",\n  \'attrs ; python_version >= "3.8"\',\n]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\nFast = ["orjson"]\n\n'
        '[tool.pyedge]\nentry = "app"\nbudget = "20MiB"\nstdlib = "reachable"\n'
        'stdlib-include = ["json"]\ninclude = ["**/*.py"]\nexclude = ["tests/**"]\n'
        'config = { GREETING = "hi" }\n',
    )
    write("pyproject_toml", "tool_only", '[tool.pyedge]\nbudget = "1.5 MB"\nstdlib = "all"\n')
    write(
        "pyproject_toml",
        "inline",
        'project = { name = "x", dependencies = ["a", "b>=1"], '
        'optional-dependencies = { test = ["c"] } }\n'
        "[tool]\npyedge.entry = 'pkg.main'\n",
    )
    write("pyproject_toml", "nested", "a = [[[[1]]], {b = {c = [2]}}]\n[x.y.z]\nw = 1979-05-27T07:32:00Z\n")


def wheel(entries, record=True, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    lines = []
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            if isinstance(data, str):
                data = data.encode()
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{name},sha256={digest},{len(data)}")
        if record:
            lines.append("demo-1.0.dist-info/RECORD,,")
            info = zipfile.ZipInfo("demo-1.0.dist-info/RECORD", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, "\n".join(lines) + "\n")
    return buf.getvalue()


def wheel_archive():
    meta = [
        ("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (
            "demo-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.8\n"
            "Requires-Dist: attrs\nRequires-Dist: idna ; extra == 'net'\n\nA body.\n",
        ),
    ]
    write("wheel_archive", "pure", wheel([("demo/__init__.py", "X = 1\n")] + meta))
    write(
        "wheel_archive",
        "stored_data",
        wheel(
            [("demo/m.py", "pass\n"), ("demo-1.0.data/purelib/extra.py", ""), ("demo-1.0.data/scripts/run", "#!/bin/sh\n")]
            + meta,
            compression=zipfile.ZIP_STORED,
        ),
    )
    write("wheel_archive", "native", wheel([("demo/_x.cpython-313-x86_64-linux-gnu.so", b"\x7fELF\x02\x01\x01")] + meta))
    write("wheel_archive", "no_record", wheel([("demo/__init__.py", "")] + meta, record=False))


def wheel_names():
    for i, name in enumerate(
        [
            "demo-1.0-py3-none-any.whl",
            "six-1.16.0-py2.py3-none-any.whl",
            "cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl",
            "foo-1.0-1build-cp313-cp313-wasi_0_0_0_wasm32.whl",
            "python-dateutil\npython-dateutil-2.9.0.post0.tar.gz",
            "demo-1.0.data/purelib/pkg/m.py",
            "pkg\\..\\evil.py",
            "Metadata-Version: 2.1\nName: demo\nRequires-Dist: a\n  continued\nrequires-dist: b ; extra == 'c'\n\nbody: x\n",
        ]
    ):
        write("wheel_names", f"name{i}", name)


def leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def section(ident, content):
    return bytes([ident]) + leb(len(content)) + content


def name(text):
    return leb(len(text)) + text.encode()


def core_module():
    return b"".join(
        [
            b"\0asm\x01\0\0\0",
            section(1, b"\x01\x60\x00\x00"),  # type: func () -> ()
            section(2, b"\x01" + name("env") + name("f") + b"\x00\x00"),  # import env#f
            section(3, b"\x01\x00"),  # one function of type 0
            section(5, b"\x01\x00\x01"),  # memory: min 1 page
            section(7, b"\x01" + name("main") + b"\x00\x01"),  # export func 1
            section(10, b"\x01\x02\x00\x0b"),  # code: empty body
            section(11, b"\x01\x00\x41\x00\x0b" + name("hello")),  # active data at 0
            section(0, name("note") + b"x"),  # custom section
        ]
    )


def component():
    return b"".join(
        [
            b"\0asm\x0d\0\x01\0",
            section(1, core_module()),  # nested core module
            section(7, b"\x01\x40\x00\x01\x00"),  # type 0: func ()
            section(10, b"\x01\x00" + name("f") + b"\x01\x00"),  # import f: func type 0
            section(11, b"\x01\x00" + name("g") + b"\x01\x00\x00"),  # export g = func 0
        ]
    )


def inspect_wasm():
    write("inspect_wasm", "module", core_module())
    write("inspect_wasm", "component", component())
    write("inspect_wasm", "empty_module", b"\0asm\x01\0\0\0")


if __name__ == "__main__":
    shutil.rmtree(ROOT, ignore_errors=True)
    requirements_txt()
    pyproject_toml()
    wheel_archive()
    wheel_names()
    inspect_wasm()
    for target in sorted(os.listdir(ROOT)):
        files = os.listdir(os.path.join(ROOT, target))
        size = sum(os.path.getsize(os.path.join(ROOT, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")
