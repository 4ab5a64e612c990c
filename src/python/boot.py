"""pyedge boot module: serves the in-memory bundle to the import system and runs the app.

It is compiled and run by the runtime's C entry before the interpreter's main
initialization, when only builtin and frozen modules can be imported, so it reads the
bundle's zip directory itself instead of using zipfile/zipimport (which need the file
system and modules that live in the bundle).
"""

import sys
import _pyedge
import marshal
import zlib
import _frozen_importlib as _bootstrap
import _frozen_importlib_external as _bootstrap_external

_BUNDLE = _pyedge.bundle()  # memoryview over the zip in linear memory
# Bundle entry -> the bytecode of a module the snapshot does not hold (filled at build
# time by _store_lazy_bytecode): this interpreter's magic number, then its marshalled
# code object, deflated.
_BYTECODE = {}
_MAGIC = _bootstrap_external.MAGIC_NUMBER


def _u16(b, o):
    return b[o] | (b[o + 1] << 8)


def _u32(b, o):
    return int.from_bytes(b[o:o + 4], "little")


def _read_index(mv):
    """Map every zip entry name to (local header offset, method, compressed size)."""
    size = len(mv)
    tail = bytes(mv[max(0, size - 65557):])
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0:
        raise ImportError("pyedge: the embedded bundle is not a zip archive")
    count = _u16(tail, pos + 10)
    cd_size = _u32(tail, pos + 12)
    cd_off = _u32(tail, pos + 16)
    cd = bytes(mv[cd_off:cd_off + cd_size])
    index = {}
    p = 0
    for _ in range(count):
        if cd[p:p + 4] != b"PK\x01\x02":
            raise ImportError("pyedge: corrupt central directory in the bundle")
        method = _u16(cd, p + 10)
        csize = _u32(cd, p + 20)
        nlen = _u16(cd, p + 28)
        elen = _u16(cd, p + 30)
        clen = _u16(cd, p + 32)
        offset = _u32(cd, p + 42)
        name = cd[p + 46:p + 46 + nlen].decode("utf-8")
        index[name] = (offset, method, csize)
        p += 46 + nlen + elen + clen
    return index


_INDEX = _read_index(_BUNDLE)
_DIRS = set()
for _name in _INDEX:
    _parts = _name.split("/")[:-1]
    for _i in range(1, len(_parts) + 1):
        _DIRS.add("/".join(_parts[:_i]))
del _name, _parts, _i


def read(name):
    """The bytes of bundle entry `name` (a path without the leading slash)."""
    offset, method, csize = _INDEX[name]
    mv = _BUNDLE
    start = offset + 30 + _u16(mv, offset + 26) + _u16(mv, offset + 28)
    data = mv[start:start + csize]
    if method == 0:
        return bytes(data)
    if method == 8:
        return zlib.decompress(data, -15)
    raise ImportError(f"pyedge: unsupported compression {method} for /{name}")


def _config():
    cfg = {}
    for line in read("pyedge.cfg").decode("utf-8").splitlines():
        key, _, value = line.partition("=")
        cfg[key.strip()] = value.strip()
    return cfg


CONFIG = _config()
# Build-time settings for the app ([tool.pyedge.config]), read by `pyedge.config`.
SETTINGS = {k[8:]: v for k, v in CONFIG.items() if k.startswith("setting.")}
# Where `pyedge.config` looks first at run time ([tool.pyedge] runtime-config): "none",
# "env" (the host's environment) or "wasi-config" (the host's config store).
RUNTIME_CONFIG = CONFIG.get("runtime_config", "none")
# [tool.pyedge.secrets]: name -> required. Names only; the values exist only on the host.
SECRETS = {k[7:]: v == "required" for k, v in CONFIG.items() if k.startswith("secret.")}
# False while the app is imported at build time (the snapshot): the host is not there
# then, and nothing read from it may end up in the snapshot. True once an instance runs.
RUN_TIME = False
_WARMING = False  # build time: pyedge's request path runs with a stand-in app


def host_config(name):
    """The host's value for the configuration name `name`, or None: its environment
    variable (runtime-config = "env") or its config store's entry ("wasi-config").
    Run time only; a failing config store raises OSError."""
    if RUNTIME_CONFIG == "env":
        import os
        return os.environ.get(name)
    if RUNTIME_CONFIG == "wasi-config":
        import _pyedge_http
        return _pyedge_http.config_get(name)
    return None


def _missing_secrets():
    """The required secrets the host does not provide (a config store that fails counts
    as not providing them, with its error)."""
    missing = []
    for name, required in SECRETS.items():
        if not required:
            continue
        try:
            value = host_config(name)
        except OSError as exc:
            missing.append(f"{name} ({exc})")
            continue
        if value is None:
            missing.append(name)
    return missing
# Search roots, in import priority order: the app, its dependencies, the stdlib.
ROOTS = [r for r in CONFIG.get("roots", "app").split(":") if r]


# Client libraries that would open sockets, and pyedge's module that points each at the
# host's wasi:http/outgoing-handler, installed as soon as the library is imported (at
# build or run time). The build bundles each module only beside its library.
_HOST_TRANSPORTS = {
    "urllib.request": "pyedge._urllib_host",
    "urllib3.connectionpool": "pyedge._urllib3_host",
    "httpx._transports.default": "pyedge._httpx_host",
}


def _install_transport(name, library):
    """`library` has just been executed: its parent package does not name it yet."""
    import importlib
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if not _names_module(exc, name):
            raise
        return  # not bundled: the library came in by a way the build could not see
    module.install(library)


def _names_module(exc, name):
    """Whether ModuleNotFoundError `exc` is about `name` itself or a package holding it
    (pyedge's own package is not in every bundle), not about something it imports."""
    return exc.name is not None and (name == exc.name or name.startswith(exc.name + "."))


class BundleLoader(_bootstrap_external._LoaderBasics):
    """Loads modules, data and resources from the in-memory bundle.

    Its paths (`__file__`, `__path__`) are real paths: the runtime's C entry serves the
    bundle as a read-only file system at /app and /lib, so `open()`, `os.listdir()` and
    `importlib.resources` work on them. Imports themselves never go through it.

    `exec_module` is importlib's own (`_LoaderBasics`, as zipimport's and SourceLoader's):
    the frame that runs a module's body must be one of importlib's, which `warnings`
    skips, so that `warnings.warn(..., stacklevel=2)` in a module body names the file
    that imported it, not this loader."""

    def __init__(self, fullname, entry, is_package, locations=None):
        self.name = fullname
        self.entry = entry  # None: a namespace package
        self.path = "/" + entry if entry is not None else None
        self._is_package = is_package
        self._locations = locations

    def create_module(self, spec):
        return None

    def is_package(self, fullname):
        return self._is_package

    def get_code(self, fullname):
        if self.entry is None:
            return compile("", "<namespace>", "exec")
        stored = _BYTECODE.get(self.entry)
        if stored is not None and stored[:4] == _MAGIC:
            return marshal.loads(zlib.decompress(stored[4:]))
        return compile(read(self.entry), self.path, "exec", dont_inherit=True)

    def get_source(self, fullname):
        if self.entry is None:
            return ""
        from importlib.util import decode_source
        return decode_source(read(self.entry))

    def get_filename(self, fullname):
        if self.path is None:
            raise ImportError(f"namespace package {fullname} has no file", name=fullname)
        return self.path

    def get_data(self, path):
        name = path.lstrip("/")
        if name in _INDEX:
            return read(name)
        with open(path, "rb") as f:  # served by the runtime's file system
            return f.read()

    def get_resource_reader(self, fullname):
        """For importlib.resources: the package's directory as a `pathlib.Path` (a file
        system path, so `as_file()` needs no temporary copy)."""
        if self.path is not None:
            return _BundleResources([self.path.rpartition("/")[0]])
        return _BundleResources(self._locations or [])


class _TransportLoader(BundleLoader):
    """The loader of a client library in `_HOST_TRANSPORTS`: once the module has run,
    its host transport is installed."""

    def exec_module(self, module):
        super().exec_module(module)
        _install_transport(_HOST_TRANSPORTS[module.__name__], module)


class _BundleResources:
    """importlib.resources' reader for bundle packages: `files()` is a `pathlib.Path`, or
    for a namespace package split across roots, a view over its directories."""

    def __init__(self, paths):
        self._paths = paths

    def files(self):
        # importlib.resources imports pathlib. Other callers import it here, by a name the
        # bundle's import scan does not follow (a literal would put pathlib in every app).
        pathlib = sys.modules.get("pathlib")
        if pathlib is None:
            name = "pathlib"
            pathlib = __import__(name)
        paths = [pathlib.Path(p) for p in self._paths]
        if len(paths) == 1:
            return paths[0]
        return _NamespaceFiles(paths)


class _NamespaceFiles:
    """A Traversable over the directories of a namespace package (PEP 420): names are
    looked up in each, in import order."""

    def __init__(self, paths):
        self._paths = paths
        self.name = paths[0].name if paths else ""

    def iterdir(self):
        seen = set()
        for path in self._paths:
            for child in path.iterdir():
                if child.name not in seen:
                    seen.add(child.name)
                    yield child

    def is_dir(self):
        return True

    def is_file(self):
        return False

    def joinpath(self, *descendants):
        for path in self._paths:
            child = path.joinpath(*descendants)
            if child.exists():
                return child
        return self._paths[0].joinpath(*descendants)

    __truediv__ = joinpath

    def open(self, *args, **kwargs):
        raise IsADirectoryError(21, "Is a directory", str(self))

    def read_bytes(self):
        self.open()

    def read_text(self, encoding=None):
        self.open()

    def __str__(self):
        return str(self._paths[0]) if self._paths else ""

    def __repr__(self):
        return f"_NamespaceFiles({[str(p) for p in self._paths]!r})"


class BundleFinder:
    """A meta-path finder over the bundle: imports never touch the file system.

    importlib.metadata finds the bundle's `.dist-info` directories with importlib's own
    path finder, through the runtime's file system (sys.path holds the bundle's roots)."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        rel = fullname.replace(".", "/")
        for root in ROOTS:
            base = root + "/" + rel
            init = base + "/__init__.py"
            if init in _INDEX:
                return cls._spec(fullname, init, base)
            module = base + ".py"
            if module in _INDEX:
                return cls._spec(fullname, module, None)
        # A namespace package (PEP 420): directories without __init__.py, in every root
        # that has one (`google.*` from several distributions, or the app and one).
        locations = ["/" + root + "/" + rel for root in ROOTS if root + "/" + rel in _DIRS]
        if locations:
            loader = BundleLoader(fullname, None, True, locations)
            spec = _bootstrap.ModuleSpec(fullname, loader, origin=None, is_package=True)
            spec.submodule_search_locations = locations
            return spec
        return None

    @staticmethod
    def _spec(fullname, entry, package_dir):
        kind = _TransportLoader if fullname in _HOST_TRANSPORTS else BundleLoader
        loader = kind(fullname, entry, package_dir is not None)
        spec = _bootstrap.ModuleSpec(
            fullname, loader, origin="/" + entry, is_package=package_dir is not None
        )
        spec.has_location = True
        if package_dir is not None:
            spec.submodule_search_locations = ["/" + package_dir]
        return spec

    @classmethod
    def invalidate_caches(cls):
        pass


# After the builtin and frozen importers: CPython's frozen stdlib modules (os, stat,
# codecs, io...) need no compiling; everything else comes from the bundle.
_FROZEN = [i for i, f in enumerate(sys.meta_path) if getattr(f, "__name__", "") == "FrozenImporter"]
sys.meta_path.insert(_FROZEN[0] + 1 if _FROZEN else 0, BundleFinder)


class LeftOutFinder:
    """In the builtin importer's place: the optional C extension modules this build left
    out (nothing imports them; their code and data are gone from the module) are not
    found, as if the runtime had none, so the interpreter never runs what is not there."""

    names = frozenset(n for n in CONFIG.get("left_out", "").split(",") if n)

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname in cls.names:
            return None
        return _bootstrap.BuiltinImporter.find_spec(fullname, path, target)

    @classmethod
    def invalidate_caches(cls):
        pass


if LeftOutFinder.names:
    sys.meta_path[:] = [
        LeftOutFinder if f is _bootstrap.BuiltinImporter else f for f in sys.meta_path
    ]


def _print_exception():
    """Print the exception being handled, as traceback.print_exc() does, plus a hint when
    it is (or was caused by) an import of a stdlib module this bundle left out."""
    import traceback
    traceback.print_exc()
    exc = sys.exc_info()[1]
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if name:
            omitted = _omitted()
            if name in omitted or name.partition(".")[0] in omitted:
                print(
                    f"pyedge: {name!r} is in the standard library but not in this build: "
                    "pyedge bundles the stdlib modules that import statements reach, and "
                    "none reaches this one. Add it to [tool.pyedge] stdlib-include "
                    "(or set stdlib = \"all\") and rebuild.",
                    file=sys.stderr,
                )
                return
        exc = exc.__cause__ or exc.__context__


def _omitted():
    """The stdlib modules this build left out (the bundle's pyedge.omitted)."""
    if "pyedge.omitted" not in _INDEX:
        return frozenset()
    return frozenset(read("pyedge.omitted").decode("utf-8").split("\n"))


def _omitted_codec(encoding):
    """Codec search function after the stdlib's: a codec whose module this build left
    out fails with a LookupError that says so and names the fix."""
    import encodings
    normal = encodings.normalize_encoding(encoding).lower()
    aliases = encodings.aliases.aliases
    module = aliases.get(normal) or aliases.get(normal.replace(".", "_")) or normal
    if f"encodings.{module}" in _omitted():
        raise LookupError(
            f"unknown encoding: {encoding} (pyedge: its codec module encodings.{module} is "
            "in the standard library but not in this build: pyedge keeps the common codecs "
            "and those named by a literal in encode/decode/lookup calls. Add "
            f"\"encodings.{module}\" to [tool.pyedge] stdlib-include and rebuild.)"
        )
    return None


# ---- after the interpreter's main initialization ----

_MAIN = None  # ("module", module) or ("script", code object)
_HANDLER = None  # the app: a handler taking a Request, or a WSGI or ASGI app
_SERVE = None  # how a request reaches _HANDLER: _serve_handler, _serve_wsgi or _serve_asgi
_JSON_LOGS = None  # pyedge.logs when [tool.pyedge] log-format = "json"
_DIRECT_STDIO = ()  # streams that write through (see _direct_stdio): never flushed


def _top_level_imports(tree):
    """Module names imported at the top level of a script (also inside if/try)."""
    names = []
    stack = list(tree.body)
    while stack:
        node = stack.pop(0)
        kind = type(node).__name__
        if kind == "Import":
            names.extend(alias.name for alias in node.names)
        elif kind == "ImportFrom" and node.level == 0 and node.module:
            names.append(node.module)
        elif kind in ("If", "Try", "TryStar"):
            stack.extend(node.body)
    return names


def prepare():
    """Build time: import the app (or a script's imports) so the snapshot holds them."""
    global _MAIN
    import os  # noqa: F401  (every run refreshes os.environ: keep it in the snapshot)
    import codecs
    codecs.register(_omitted_codec)
    sys.path[:] = ["/" + root for root in ROOTS]
    # The bundle finder serves the roots from memory; the path finder skips them, so a
    # module that is not there fails fast instead of listing directories (directories
    # the app adds to sys.path itself are searched as usual).
    for root in sys.path:
        sys.path_importer_cache[root] = None
    sys.argv[:] = [""]
    numpy_draw = _numpy().watch() if _numpy() else None
    entry = CONFIG["entry"]
    path = CONFIG["entry_path"]
    source = read(path)
    tree = compile(source, "/" + path, "exec", 0x400, dont_inherit=True)  # PyCF_ONLY_AST
    has_main = any(
        type(node).__name__ in ("FunctionDef", "AsyncFunctionDef") and node.name == "main"
        for node in tree.body
    )
    if CONFIG.get("world") == "http":
        _prepare_http(entry, path)
    elif has_main:
        _install_event_loop()
        import importlib
        _MAIN = ("module", importlib.import_module(entry))
    else:
        _install_event_loop()
        code = compile(source, "/" + path, "exec", dont_inherit=True)
        for name in _top_level_imports(tree):
            try:
                __import__(name)
            except Exception:
                pass  # the script's own run reports it, with its traceback
        _MAIN = ("script", code)
    _preimport()
    if numpy_draw is not None:
        _numpy().find_generators(numpy_draw)
    _current_abc_caches()
    if CONFIG.get("world") == "http":
        # After every import: an import that registers a class with an ABC would make
        # the negative isinstance results it fills stale again (see _current_abc_caches).
        _warm_request_path()
        _current_abc_caches()
    # The snapshot holds every frozen module imported so far, and the build drops the
    # frozen modules' bytes from it: any other (runpy, importlib.util) loads from the
    # bundle, like the rest of the stdlib.
    sys.meta_path[:] = [
        f for f in sys.meta_path if getattr(f, "__name__", "") != "FrozenImporter"
    ]
    if CONFIG.get("lazy_bytecode", "1") == "1" and _LEFT_LAZY:
        _store_lazy_bytecode()
    _settle_heap()


def _numpy():
    """pyedge._numpy in a numpy app (bundled only there), else None."""
    if CONFIG.get("numpy") != "1":
        return None
    import pyedge._numpy
    return pyedge._numpy


class _RecordingEnviron(dict):
    """posix.environ while a module is imported speculatively: records the names read."""

    def __init__(self, data):
        super().__init__(data)
        self.read = []

    def __getitem__(self, key):
        self.read.append(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.append(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self.read.append(key)
        return super().get(key, default)

    def __iter__(self):
        self.read.append(b"*")
        return super().__iter__()

    def copy(self):
        self.read.append(b"*")
        return super().copy()


# Standard-library modules that belong to development tools (servers, debuggers, REPLs,
# profilers, terminals, process spawning) — the same kind the stdlib walk leaves out of
# lazy imports (src/imports.rs). A module whose speculative import brings one in is a
# development tool itself (werkzeug.serving, flask.cli, a test runner): it stays lazy
# rather than make every instance's snapshot larger for code the edge never runs. Imported by the app at module level, they are in the snapshot as before.
_DEV_TOOLS = frozenset((
    "socketserver", "http.server", "wsgiref.simple_server", "xmlrpc.server", "pdb", "bdb",
    "pydoc", "code", "codeop", "cmd", "tty", "pty", "curses", "readline", "rlcompleter",
    "webbrowser", "multiprocessing", "subprocess", "unittest", "doctest", "cProfile",
    "profile", "pstats", "timeit", "trace", "tracemalloc", "idlelib", "tkinter",
))


# Build time: the modules whose import `_preimport` undid (what a lazy import loads).
_LEFT_LAZY = set()


def _speculative_import(name):
    """Import `name` at build time if that has no effect the snapshot would get wrong;
    returns None, or why it stays lazy (the import is then undone)."""
    import io
    import os
    before = set(sys.modules)
    environ = os.environ._data
    recording = os.environ._data = _RecordingEnviron(environ)
    out, err = sys.stdout, sys.stderr
    captured = sys.stdout = sys.stderr = io.StringIO()
    clock0, random0 = _pyedge.watch_host(True)
    numpy_draws = len(_numpy().ENTROPY) if _numpy() else 0
    reason = None
    # Whether a run-time import of it can work, so that its bytecode is worth storing
    # (_store_lazy_bytecode): not for a development tool, nor for a module that is not
    # there (the bundle is the same at run time; 55 such modules, pdb, doctest, unittest
    # and what they import, made 667 kB of bytecode in a numpy app).
    runs_later = True
    try:
        __import__(name)
    except BaseException as exc:  # SystemExit, KeyboardInterrupt from an import: still lazy
        text = str(exc).splitlines()
        reason = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
        runs_later = not isinstance(exc, ModuleNotFoundError)
    finally:
        clock1, random1 = _pyedge.watch_host(False)
        sys.stdout, sys.stderr = out, err
        os.environ._data = environ
    added = set(sys.modules) - before
    if reason is None:
        tools = sorted(added & _DEV_TOOLS)
        if tools:
            reason = f"imports {', '.join(tools)} (a development tool: the edge never runs it)"
            runs_later = False
        elif clock1 > clock0:
            reason = "reads the clock at import (the snapshot's clock is the build's)"
        elif (random1 > random0 + (_numpy().seeds_drawn(name, numpy_draws) if _numpy() else 0)
              and "random" not in added):
            reason = "reads random bytes at import (the snapshot's would be the build's)"
        elif _env_read_matters(recording.read):
            names = sorted({k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
                            for k in recording.read})
            reason = f"reads os.environ at import ({', '.join(names)}): the host's comes at run time"
        elif captured.getvalue():
            reason = "writes to stdout or stderr at import"
    if reason is not None:
        if runs_later:
            _LEFT_LAZY.add(name)
            _LEFT_LAZY.update(added)
        for module in added:
            sys.modules.pop(module, None)
            parent, _, child = module.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                try:
                    delattr(sys.modules[parent], child)
                except AttributeError:
                    pass
    return reason


# Environment variables read at import that configure what this runtime does not have, so
# the host's value could change nothing: numpy's huge-page advice and OpenBLAS's (no
# madvise, no OpenBLAS here), and NPY_PROMOTION_STATE, which numpy 2.5 only answers, when it
# is anything but "weak", with a warning that it is ignored (numpy/__init__.py).
_ENV_WITHOUT_EFFECT = {
    "NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_MAIN_FREE", "GOTOBLAS_MAIN_FREE", "NPY_PROMOTION_STATE",
}


def _env_read_matters(names):
    """Whether an import read an environment variable whose run-time value could matter."""
    for name in names:
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if text not in _ENV_WITHOUT_EFFECT:
            return True
    return False


def _preimport():
    """Build time: import every module src/pipeline.rs chose (what the app's import
    statements name, inside functions too, and the stdlib modules its dependencies name),
    each on its own, so that an import inside a handler finds it in the snapshot instead
    of compiling it on every request. One whose import fails, reads the clock, random
    bytes or the environment, prints, or brings in a development tool stays lazy; the
    build lists it with the reason (`-v`)."""
    names = [n for n in CONFIG.get("preimport", "").split(",") if n]
    if not names:
        return
    for name in names:
        if name in sys.modules:
            continue
        reason = _speculative_import(name)
        if reason is not None:
            _tell_build("lazy", f"{name}: {reason}")


def _current_abc_caches():
    """Build time, after the imports: bring every ABC's negative cache up to date.

    `ABC.register()` anywhere bumps one global counter, and an ABC whose negative cache is
    older than it throws that cache away on its next isinstance/issubclass check, then
    answers by calling its __subclasshook__ and walking all of its subclasses and
    registered classes (abc._abc_subclasscheck). Left stale in the snapshot, that happens
    again in every instance, on the first negative check of each such ABC: a walk over
    type objects all over the heap, each page it touches a page fault on a fresh instance
    (a trivial request in a numpy app, whose import registers numpy's scalar types with
    `numbers`, spent a fifth of its faults there). One check per stale ABC does it once,
    here; the check asks about `object`, which is no ABC's subclass. ABCs already current
    are left alone (their pages stay untouched)."""
    import _abc
    import abc
    import gc
    token = abc.get_cache_token()
    for cls in gc.get_objects():
        # type(), not isinstance(): isinstance asks a dead weakref.proxy for its __class__,
        # which raises ReferenceError (urllib3's import leaves one).
        if not issubclass(type(cls), abc.ABCMeta):
            continue
        try:
            if _abc._get_dump(cls)[3] >= token:
                continue  # current: leave its pages alone
            issubclass(object, cls)
        except Exception:
            pass  # a __subclasshook__ or __subclasscheck__ of its own that refuses


def _store_lazy_bytecode():
    """Build time, after every import: compile the modules that the imports left lazy by
    `_preimport` load (each module their undone import had loaded, and the module named),
    so that importing one at run time unmarshals its code instead of compiling its source
    on every fresh instance. The source stays in the bundle: tracebacks, `inspect` and
    `linecache` read it as before.

    Only those: compiling every bundle module the snapshot does not hold would also put
    the code of modules nothing imports into every instance (a small script app's
    snapshot grew by 0.9 MB that way, 0.56 MB of it bytecode, the rest the names that
    compiling interns for good). A module imported since, or that does not compile (its
    import fails at run time as written), is skipped. Tells the build how many modules
    and bytes that adds (the size report shows it)."""
    stored = 0
    for name in sorted(_LEFT_LAZY):
        if name in sys.modules:
            continue
        spec = BundleFinder.find_spec(name)
        entry = spec.loader.entry if spec is not None else None
        if entry is None or entry in _BYTECODE:
            continue
        try:
            code = compile(read(entry), "/" + entry, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        blob = _MAGIC + zlib.compress(marshal.dumps(code), 9)
        _BYTECODE[entry] = blob
        stored += len(blob)
    _LEFT_LAZY.clear()
    _tell_build("bytecode", f"{len(_BYTECODE)} {stored}")


def _settle_heap():
    """Build time, last step: make the heap the snapshot holds cheap to share.

    Every object reachable now becomes immortal, so a request that uses a module, a
    function or a constant does not write its reference count, and does not copy the
    snapshot page it lives on (on a fresh instance that copy is most of a request's cost).
    """
    import gc
    gc.collect()
    _pyedge.immortalize(gc.get_objects())
    gc.collect()
    gc.freeze()


class NoEntryPoint(Exception):
    """The app defines nothing pyedge can call."""


def _warm_request_path():
    """Build time: run a request through pyedge's own path (conversion, host-state refresh,
    response checks) a few times, with a stand-in for the app's handler, which is never
    called at build time. The interpreter then has that code specialized in the snapshot
    and a request does not rewrite it (each page it rewrites is a copy-on-write fault)."""
    global _HANDLER
    from pyedge.http import Response
    handler = _HANDLER
    if _SERVE is _serve_wsgi:
        def _HANDLER(environ, start_response):
            start_response("200 OK", [("content-type", "text/plain")])
            return [environ["wsgi.input"].read()]
    elif _SERVE is _serve_asgi:
        return  # warming would run the event loop in the snapshot for little gain
    else:
        _HANDLER = lambda request: Response(200, {"content-type": "text/plain"}, request.body)
    global _WARMING
    _WARMING = True
    try:
        for _ in range(8):
            handle_http("GET", "/warm?q=1", [(b"accept", b"*/*")], b"ok")
    finally:
        _HANDLER = handler
        _WARMING = False


def _direct_stdio():
    """Build time, HTTP world: stdout and stderr write straight through to the host, as
    with `python -u`. A handler's log line is out when print() returns (a later trap
    cannot lose it), and a request ends with nothing to flush: flushing buffered streams
    rewrote their state on snapshot pages, a copy-on-write fault on every request."""
    global _DIRECT_STDIO
    import io
    streams = []
    for name, fd in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        old.flush()
        raw = io.FileIO(fd, "w", closefd=False)
        new = io.TextIOWrapper(raw, encoding=old.encoding, errors=old.errors, write_through=True)
        setattr(sys, name, new)
        setattr(sys, f"__{name}__", new)
        streams.append(new)
    _DIRECT_STDIO = tuple(streams)


def _install_event_loop():
    """Build time: asyncio runs on pyedge's loop (bundled only into apps that can run a
    coroutine; the stock loop cannot start on WASI)."""
    try:
        import pyedge.loop
    except ModuleNotFoundError as exc:
        if not _names_module(exc, "pyedge.loop"):
            raise
        return
    pyedge.loop.install()


def _install_json_logs():
    """Build time, before the app is imported (its own logging setup then wins where it
    adds handlers): the root logger writes JSON lines (pyedge.logs)."""
    global _JSON_LOGS
    if CONFIG.get("log_format") == "json":
        import pyedge.logs
        pyedge.logs.install()
        _JSON_LOGS = pyedge.logs


def _app_object(module, attr, path):
    target = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise NoEntryPoint(
                f"pyedge: the entry names `{CONFIG['entry']}:{attr}`, and /{path} has no "
                f"`{attr}` after it is imported"
            ) from None
    return target


_FUNCTION = type(lambda: None)
_CO_VARARGS = 0x04
_CO_COROUTINE = 0x80


def _plain_function(func):
    """Whether `func` is a `def` whose code object tells its signature and kind as
    inspect would: not wrapped (functools.wraps), no `__signature__`, not marked by
    inspect.markcoroutinefunction."""
    return type(func) is _FUNCTION and not any(
        hasattr(func, name) for name in ("__wrapped__", "__signature__", "_is_coroutine_marker"))


def _positional_params(func):
    """How many positional arguments `func` takes without defaults, or None if unknown.

    A plain function (the usual `def handle_request(request)`) is answered from its code
    object: importing `inspect` for it would put inspect, ast, dis, tokenize and their
    data into the snapshot of every such app (+0.83 MB for a hello handler). Anything
    else (a decorated function, a callable object, a partial) asks inspect.signature."""
    if _plain_function(func):
        code = func.__code__
        if code.co_flags & _CO_VARARGS:
            return None
        return code.co_argcount - len(func.__defaults__ or ())
    import inspect
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def _is_async(target):
    if _plain_function(target):
        return bool(target.__code__.co_flags & _CO_COROUTINE)
    import inspect
    call = target if inspect.isroutine(target) else getattr(type(target), "__call__", None)
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(target)


def _detect_interface(target):
    """uvicorn's rule, with pyedge's handlers first: a class with handle_request is an
    IncomingHandler; a callable of one argument is a handler (sync or async); else an
    async callable is ASGI 3 and any other callable WSGI."""
    if isinstance(target, type) and callable(getattr(target, "handle_request", None)):
        return "handler"
    if _positional_params(target) == 1:
        return "handler"
    return "asgi" if _is_async(target) else "wsgi"


def _handler_of(target):
    if isinstance(target, type) and callable(getattr(target, "handle_request", None)):
        return lambda request: target().handle_request(request)
    return target


def _prepare_http(entry, path):
    """Build time: import the app and choose how requests reach it. The app object is
    created here (it lives in the snapshot); it is never called at build time."""
    global _HANDLER, _SERVE
    import importlib
    _direct_stdio()
    import pyedge.http  # noqa: F401  (pre-loaded: every request uses it)
    _install_json_logs()
    module = importlib.import_module(entry)
    attr = CONFIG.get("attr")
    interface = CONFIG.get("interface", "auto")
    _install_event_loop()
    if attr:
        target = _app_object(module, attr, path)
        if not callable(target):
            raise NoEntryPoint(
                f"pyedge: `{entry}:{attr}` is a {type(target).__name__}, not a callable app"
            )
    else:
        target = getattr(module, "handle_request", None)
        if not callable(target):
            cls = getattr(module, "IncomingHandler", None)
            target = cls if isinstance(cls, type) and callable(getattr(cls, "handle_request", None)) else None
        if target is None:
            raise NoEntryPoint(
                f"pyedge: no HTTP entry point in /{path}: looked for a module-level function "
                "`handle_request(request)` or a class `IncomingHandler` with a "
                "`handle_request(self, request)` method; a WSGI or ASGI app is named with "
                "its object, as uvicorn takes it: --entry " + entry + ":app"
            )
    if interface == "auto":
        interface = _detect_interface(target)
    if interface == "asgi" and "pyedge.asgi" not in sys.modules:
        try:
            import pyedge.asgi  # noqa: F401
        except ModuleNotFoundError:
            raise NoEntryPoint(
                f"pyedge: `{entry}:{attr}` is served as ASGI, and the build did not bundle "
                "pyedge's event loop: set [tool.pyedge] interface = \"asgi\""
            ) from None
    if interface == "wsgi":
        # Only for WSGI: it imports urllib.parse, and with it re, enum and ipaddress
        # (0.8 MB of a handler app's snapshot that no handler request uses).
        import pyedge.wsgi  # noqa: F401
    _SERVE = {"handler": _serve_handler, "wsgi": _serve_wsgi, "asgi": _serve_asgi}[interface]
    _HANDLER = _handler_of(target) if interface == "handler" else target
    if interface != "handler":
        # Frameworks decode hosts and headers with codecs a bare handler does not use;
        # a handler keeps its snapshot without them (about 0.2 MB).
        _preload_codecs()
    _preload_first_request_imports()
    _tell_build("interface", interface)


def _preload_first_request_imports():
    """Build time: import what frameworks import on their first request rather than
    with the app, so the snapshot holds it. Each instance serves one request, so every
    request would otherwise compile these modules again (anyio's asyncio backend alone
    is about 100 ms of a Starlette request with BaseHTTPMiddleware). Only imports: no
    app code runs beyond module bodies, as when the app itself is imported. A failure
    here is left for the request to report, as it would without the preload."""
    try:
        if "anyio" in sys.modules:
            # anyio picks its backend on first use (anyio._core._eventloop).
            import anyio._backends._asyncio  # noqa: F401
        conf = sys.modules.get("django.conf")
        if conf is not None and conf.settings.configured:
            # Django imports ROOT_URLCONF, and the views it names, on the first request.
            from django.urls import get_resolver
            get_resolver().url_patterns
    except Exception:
        pass


def _preload_codecs():
    """Build time: look up every codec the bundle carries. The build bundles a codec only
    when some code names it (`.encode("idna")`), and a codec is imported on its first
    lookup: Werkzeug's host check would compile `encodings.idna` and its `stringprep`
    tables on every request (about 10 ms of a Flask request)."""
    import codecs
    prefix = ROOTS[-1] + "/encodings/"  # the stdlib is the last search root
    for entry in _INDEX:
        if entry.startswith(prefix) and entry.endswith(".py") and "/" not in entry[len(prefix):]:
            name = entry[len(prefix):-3]
            if name in ("__init__", "aliases"):
                continue
            try:
                codecs.lookup(name)
            except Exception:
                pass  # a platform-only codec (mbcs, oem): unusable here either way


def _tell_build(key, value):
    """Build time: tell pyedge a fact about the app (src/snapshot.rs reads these lines
    from init's stdout and reports them). Flushed at once: a line still buffered when
    the snapshot is taken would reach the build never, and every run's stdout instead."""
    sys.stdout.write(f"pyedge-init: {key}={value}\n")
    sys.stdout.flush()


def _plain(status, text):
    return status, [(b"content-type", b"text/plain; charset=utf-8")], text.encode("utf-8")


def _serve_handler(method, uri, headers, body, scheme, authority):
    from pyedge.http import Headers, Request
    if isinstance(body, bytes):
        request = Request(method, uri, Headers(headers), body)
    else:  # read when the handler asks: request.body, or request.stream()
        request = Request._from_host(method, uri, Headers(headers), body)
    request.scheme, request.authority = scheme, authority
    response = _HANDLER(request)
    if hasattr(response, "__await__"):
        import pyedge.loop
        response = pyedge.loop.run(response)
    status = getattr(response, "status", None)
    if not (hasattr(response, "headers") and hasattr(response, "body")) or not isinstance(status, int):
        kind = type(response).__name__
        print(f"pyedge: handle_request returned {kind}, expected a Response", file=sys.stderr)
        return _plain(500, f"Internal Server Error: handler returned {kind}, expected Response\n")
    if not 100 <= status <= 599:
        print(f"pyedge: handle_request returned status {status}", file=sys.stderr)
        return _plain(500, f"Internal Server Error: invalid status {status}\n")
    out = Headers(response.headers)
    data = response.body
    if data is None or isinstance(data, (bytes, bytearray, memoryview, str)):
        data = response.body_bytes() if hasattr(response, "body_bytes") else (data or b"")
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:  # an iterable: streamed to the client chunk by chunk
        from pyedge.http import _byte_chunks
        data = _StreamedBody(data, _byte_chunks(data))
    items = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.items_all()]
    return status, items, data


class _StreamedBody:
    """A handler's iterable response body for the C entry: its chunks as bytes, and
    `close()` passed on to the iterable (a generator's cleanup, a BodyStream's release)."""

    def __init__(self, source, chunks):
        self._source = source
        self._chunks = chunks

    def __iter__(self):
        return self._chunks

    def close(self):
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


def _serve_wsgi(method, uri, headers, body, scheme, authority):
    import pyedge.wsgi
    return pyedge.wsgi.call(_HANDLER, method, uri, headers, body, scheme, authority)


def _serve_asgi(method, uri, headers, body, scheme, authority):
    import pyedge.asgi
    return pyedge.asgi.call(_HANDLER, method, uri, headers, body, scheme, authority,
                            lifespan=CONFIG.get("lifespan", "auto"))


def _without_body(data):
    """HEAD, 204 and 304 responses carry no body: close a streamed one unread."""
    close = getattr(data, "close", None)
    if close is not None:
        close()
    return b""


def handle_http(method, uri, headers, body, scheme=None, authority=None):
    """Run time: serve one request; returns (status, [(name, value)], body), where body
    is bytes or, for a streamed response, an iterator of bytes the C entry writes as
    they come (an exception from it truncates the response and is printed).

    The request's `body` is the C entry's `_pyedge_http.IncomingBody` (`read(n)`, read
    as the app asks for it) or, at build time, bytes."""
    _refresh_host_state()
    if _JSON_LOGS is not None:
        # Kept after the return: a streamed body's logs belong to this request too.
        _JSON_LOGS.begin_request(method, uri.partition("?")[0], headers)
    try:
        missing = _missing_secrets() if SECRETS and RUN_TIME else None
        if missing:
            where = ("environment" if RUNTIME_CONFIG == "env" else "config store")
            print(f"pyedge: required secret not set in the host's {where}: "
                  f"{', '.join(missing)}", file=sys.stderr)
            return _plain(500, "Internal Server Error: required secret not set on the host: "
                          f"{', '.join(name.split(' ')[0] for name in missing)}\n")
        status, items, data = _SERVE(method, uri, headers, body, scheme, authority)
        if method == "HEAD" or status in (204, 304):
            data = _without_body(data)
        return status, items, data
    except BaseException:
        if _JSON_LOGS is not None:
            import logging
            logging.getLogger("pyedge").error(
                "exception in the app for %s %s", method, uri, exc_info=True)
        else:
            print(f"pyedge: exception in the app for {method} {uri}", file=sys.stderr)
            _print_exception()
        return _plain(500, "Internal Server Error\n")
    finally:
        _flush_stdio()


def _flush_stdio():
    for stream in (sys.stdout, sys.stderr):
        if stream in _DIRECT_STDIO:
            continue  # nothing buffered, and flushing would still write stream state
        try:
            stream.flush()
        except Exception:
            pass  # a closed or broken stream must not turn success into a crash


def _refresh_host_state():
    """Run time: take environment, argv and randomness from this host, not the build."""
    global RUN_TIME
    RUN_TIME = not _WARMING
    import posix
    env = {}
    if RUNTIME_CONFIG == "env" and CONFIG.get("world") == "http" and RUN_TIME:
        # wasi:http/proxy has no environment: the component imports wasi:cli/environment
        # for this (src/runtime_config.rs), read by the C entry.
        import _pyedge_http
        env.update(_pyedge_http.host_environment())
    else:
        for item in _pyedge.environ():
            key, sep, value = item.partition(b"=")
            if sep:
                env[key] = value
    # Compare before writing: on a host that passes the build's environment (or none),
    # rewriting would dirty snapshot pages on every request for nothing. os.environ wraps
    # this same dict (os._createenviron), so it follows.
    if posix.environ != env:
        posix.environ.clear()
        posix.environ.update(env)
    argv = [arg.decode("utf-8", "surrogateescape") for arg in _pyedge.argv()]
    if sys.argv != (argv or [""]):
        sys.argv[:] = argv or [""]
    if sys.orig_argv != argv:
        sys.orig_argv[:] = argv
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if _numpy():
        _numpy().reseed()


def _exit_code(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run_cli():
    """Run time: run the app's main() or the script body; return the exit code."""
    _refresh_host_state()
    kind, target = _MAIN
    missing = _missing_secrets() if SECRETS else None
    if missing:
        print(f"pyedge: required secret not set in the host's environment: {', '.join(missing)}",
              file=sys.stderr)
        _flush_stdio()
        return 1
    try:
        if kind == "module":
            result = target.main()
            return result & 0xFF if isinstance(result, int) else 0
        main = type(sys)("__main__")
        main.__file__ = "/" + CONFIG["entry_path"]
        main.__builtins__ = __builtins__
        sys.modules["__main__"] = main
        exec(target, main.__dict__)
        return 0
    except SystemExit as exc:
        return _exit_code(exc)
    except BaseException:
        _print_exception()
        return 1
    finally:
        _flush_stdio()


def pre_initialize():
    """Build time: prepare(), or show why it failed; returns 0 or 1 for the C entry."""
    try:
        prepare()
        return 0
    except NoEntryPoint as exc:
        print(exc, file=sys.stderr)
    except SystemExit as exc:
        print(f"pyedge: the app called sys.exit({exc.code!r}) while being imported",
              file=sys.stderr)
    except BaseException:
        _print_exception()
    sys.stderr.flush()
    return 1
