"""The boot module's bundle reader and import finder, over a zip written by the host's
`zipfile` (the oracle for the reader): stored and deflated entries, packages, modules,
namespace packages split across roots, settings and left-out modules."""

import importlib.util
import io
import sys
import types
import zipfile

import pytest

from conftest import PYTHON_DIR

FILES = {
    "app/app.py": b"import helper\nVALUE = helper.X * 2\n",
    "app/helper.py": b"X = 21\n",
    "app/pkg/__init__.py": b"NAME = 'pkg'\n",
    "app/pkg/sub.py": b"from . import NAME\nFULL = NAME + '.sub'\n",
    "app/pkg/data.txt": "données\n".encode(),
    "app/google/app_part.py": b"WHERE = 'app'\n",
    "lib/python3.13/site-packages/google/protobuf/__init__.py": b"WHERE = 'site'\n",
    "lib/python3.13/json/__init__.py": b"STDLIB = True\n",
}
CONFIG = (
    "entry=app\nentry_path=app/app.py\nworld=cli\n"
    "roots=app:lib/python3.13/site-packages:lib/pyedge:lib/python3.13\n"
    "left_out=unicodedata,_decimal\nsetting.origin=https://o.example\n"
)


@pytest.fixture(scope="module")
def bundle():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (name, data) in enumerate(FILES.items()):
            method = zipfile.ZIP_STORED if i % 2 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
        archive.writestr("pyedge.cfg", CONFIG, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("pyedge.omitted", "decimal\nencodings.cp437")
    return buffer.getvalue()


@pytest.fixture
def boot(bundle, monkeypatch):
    """The boot module, run as the runtime runs it, with `_pyedge.bundle()` returning
    the zip; the finders it installs are removed afterwards."""
    runtime = types.ModuleType("_pyedge")
    runtime.bundle = lambda: memoryview(bundle)
    monkeypatch.setitem(sys.modules, "_pyedge", runtime)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    spec = importlib.util.spec_from_file_location("pyedge_boot_under_test", PYTHON_DIR / "boot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for name in [n for n in sys.modules if n.split(".")[0] in ("app", "helper", "pkg", "google")]:
        del sys.modules[name]


def test_every_entry_reads_back_as_zipfile_wrote_it(boot, bundle):
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        names = archive.namelist()
        assert sorted(boot._INDEX) == sorted(names)
        for name in names:
            assert boot.read(name) == archive.read(name), name


def test_configuration_settings_and_roots(boot):
    assert boot.CONFIG["entry"] == "app"
    assert boot.SETTINGS == {"origin": "https://o.example"}
    assert boot.ROOTS == ["app", "lib/python3.13/site-packages", "lib/pyedge", "lib/python3.13"]
    assert boot.LeftOutFinder.names == {"unicodedata", "_decimal"}
    assert boot._omitted() == {"decimal", "encodings.cp437"}


def test_modules_and_packages_are_found_with_real_paths(boot):
    spec = boot.BundleFinder.find_spec("pkg")
    assert spec.origin == "/app/pkg/__init__.py"
    assert spec.submodule_search_locations == ["/app/pkg"]
    sub = boot.BundleFinder.find_spec("pkg.sub")
    assert sub.origin == "/app/pkg/sub.py" and sub.submodule_search_locations is None
    assert boot.BundleFinder.find_spec("json").origin == "/lib/python3.13/json/__init__.py"
    assert boot.BundleFinder.find_spec("not_there") is None


def test_imports_run_from_the_bundle(boot):
    import app

    assert app.VALUE == 42
    assert app.__file__ == "/app/app.py"
    from pkg import sub

    assert sub.FULL == "pkg.sub"
    loader = sub.__spec__.loader
    assert loader.get_data("/app/pkg/data.txt") == "données\n".encode()
    assert loader.get_source("pkg.sub").startswith("from . import NAME")


def test_a_namespace_package_spans_every_root_that_has_it(boot):
    spec = boot.BundleFinder.find_spec("google")
    assert spec.origin is None
    assert spec.submodule_search_locations == [
        "/app/google",
        "/lib/python3.13/site-packages/google",
    ]
    import google.app_part
    import google.protobuf

    assert (google.app_part.WHERE, google.protobuf.WHERE) == ("app", "site")
    with pytest.raises(ImportError, match="has no file"):
        spec.loader.get_filename("google")


def test_a_corrupt_bundle_is_an_import_error(monkeypatch):
    runtime = types.ModuleType("_pyedge")
    runtime.bundle = lambda: memoryview(b"not a zip at all")
    monkeypatch.setitem(sys.modules, "_pyedge", runtime)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    spec = importlib.util.spec_from_file_location("pyedge_boot_corrupt", PYTHON_DIR / "boot.py")
    with pytest.raises(ImportError, match="not a zip archive"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
