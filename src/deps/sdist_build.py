"""pyedge's sdist builder: runs inside pyedge's own WASI CPython (src/deps/sdist.rs).

The unpacked source tree is preopened at /src, an empty output directory at /out and a
scratch directory at /tmp. This calls the project's PEP 517 backend (`build_wheel`) and
then imports the public top-level modules of the wheel it made, from that wheel, so the
host knows they work on this runtime. The sandbox cannot start processes: a compile
attempt fails there, and so does the build unless the package falls back to pure Python.
The result goes to /out/.pyedge-build.json; what the backend prints goes to stdout.
With `"mode": "import"` it only imports a wheel it is given (with others beside it).
"""

import importlib
import json
import os
import sys
import traceback
import zipfile

RESULT = "/out/.pyedge-build.json"


def _write(result):
    with open(RESULT, "w", encoding="utf-8") as f:
        json.dump(result, f)


def _backend(spec):
    module, _, attrs = spec.partition(":")
    backend = importlib.import_module(module.strip())
    for attr in filter(None, attrs.strip().split(".")):
        backend = getattr(backend, attr)
    return backend


def _top_level(names):
    """Top-level modules and packages of a wheel, from its entry names."""
    tops = set()
    for name in names:
        first, _, rest = name.partition("/")
        if first.endswith((".dist-info", ".data")):
            continue
        if rest:
            if name.endswith(".py"):
                tops.add(first)
        elif first.endswith(".py"):
            tops.add(first[:-3])
    return sorted(tops)


def _import_check(wheel, switches, others=()):
    """Import each public top-level module of `wheel` from a fresh copy of it (with the
    wheels `others` beside it, for its dependencies)."""
    # Run time knows nothing of the build switches: import as an app would.
    for key in switches:
        os.environ.pop(key, None)
    check = "/tmp/pyedge-import-check"
    for other in others:
        with zipfile.ZipFile(other) as archive:
            archive.extractall(check)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(check)
    tops = _top_level(names)
    public = [name for name in tops if not name.startswith("_")]
    sys.path[:] = [check] + [p for p in sys.path if not p.startswith("/src")]
    for loaded in list(sys.modules):
        if loaded.partition(".")[0] in tops:
            del sys.modules[loaded]
    importlib.invalidate_caches()
    errors = {}
    for name in public:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: B036 (SystemExit too: nothing may end the check)
            errors[name] = "".join(traceback.format_exception_only(exc)).strip()
    return tops, public, errors


def main():
    spec = json.loads(os.environ.pop("PYEDGE_BUILD_SPEC"))
    if spec.get("mode") == "import":
        # Only an import check of a wheel pyedge did not build (an old fallback version).
        wheels = [os.path.join("/src", name) for name in spec["wheels"]]
        tops, public, errors = _import_check(wheels[0], [], wheels[1:])
        _write({"ok": True, "top_level": tops, "imported": public, "import_errors": errors})
        return 0
    os.chdir("/src")
    for path in reversed(spec["backend_path"]):
        sys.path.insert(0, os.path.normpath(os.path.join("/src", path)))
    result = {"ok": False}
    try:
        backend = _backend(spec["backend"])
        hook = getattr(backend, "get_requires_for_build_wheel", None)
        result["dynamic_requires"] = list(hook(None)) if hook else []
        result["wheel"] = backend.build_wheel("/out", None, None)
    except BaseException as exc:  # noqa: B036 (setup() ends with SystemExit on errors)
        sys.stdout.flush()
        result["error"] = "".join(traceback.format_exception_only(exc)).strip()
        result["traceback"] = traceback.format_exc()
        _write(result)
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    tops, public, errors = _import_check(os.path.join("/out", result["wheel"]), spec["switches"])
    result.update(ok=True, top_level=tops, imported=public, import_errors=errors)
    _write(result)
    return 0
