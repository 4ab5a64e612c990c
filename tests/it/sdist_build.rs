//! Pure wheels built from sdists (issue 17, part 1): the real sdists of MarkupSafe, PyYAML
//! and msgpack (hash-pinned in scripts/test-wheels.txt with their build requirements,
//! served from a local index on 127.0.0.1 next to a native wheel, as PyPI offers them)
//! are built pure inside pyedge's WASI runtime, with PATH cleared so that no host
//! compiler or Python could be used; the same bytes come out twice; apps using them work
//! inside the component; a package whose C extension is required is rejected.

use crate::common::{pyedge, run_component, scratch};
use crate::deps_support::{sha256_hex, TestIndex, WheelSpec};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Set by scripts/test.sh: the directory of the files in scripts/test-wheels.txt.
const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";

/// (project, file name prefix, file name suffix) of the files the tests serve.
const FILES: &[(&str, &str, &str)] = &[
    ("markupsafe", "markupsafe-", ".tar.gz"),
    ("pyyaml", "pyyaml-", ".tar.gz"),
    ("msgpack", "msgpack-", ".tar.gz"),
    ("setuptools", "setuptools-", ".whl"),
    ("cython", "cython-", ".whl"),
    ("flit-core", "flit_core-", ".whl"),
];

/// The three packages and the versions pinned in scripts/test-wheels.txt.
const BUILT: &[(&str, &str)] = &[
    ("markupsafe", "3.0.4"),
    ("msgpack", "1.2.4"),
    ("pyyaml", "6.0.4"),
];

fn test_wheels() -> PathBuf {
    match std::env::var_os(TEST_WHEELS_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => panic!(
            "{TEST_WHEELS_ENV} is not set: run scripts/test.sh, or: source scripts/tools.sh \
             && export {TEST_WHEELS_ENV}=\"$(ensure_test_wheels)\""
        ),
    }
}

/// An index with the real sdists, their build requirements, and for each of the three a
/// native wheel of the same version (never downloaded: it only makes the version native).
fn index() -> TestIndex {
    let dir = test_wheels();
    let index = TestIndex::start();
    for (project, prefix, suffix) in FILES {
        let filename = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{TEST_WHEELS_ENV}={}: {err}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|name| name.starts_with(prefix) && name.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {prefix}*{suffix} in {}", dir.display()));
        let bytes = std::fs::read(dir.join(&filename)).expect("read a test file");
        index.add_file(project, &filename, bytes);
    }
    for (project, version) in BUILT {
        let native = WheelSpec::pure(project, version)
            .tag("cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64");
        index.add_file(project, &native.filename(), native.build());
    }
    index
}

/// The app directory `name` with `requirements` and `app.py`.
fn app(name: &str, requirements: &str, source: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("requirements.txt"), requirements).unwrap();
    std::fs::write(dir.join("app.py"), source).unwrap();
    dir
}

/// One cache directory for the tests of this file (Wasmtime's compiled runtime is kept
/// there between builds); the sdist builds in it are removed where a test needs a build.
fn cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| scratch("sdist-build-cache"))
}

/// The tests of this file share the cache: one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `pyedge` with the shared cache and PATH cleared: nothing from the host's PATH (cc, gcc,
/// clang, python3) can take part in a build.
fn sandboxed_pyedge() -> crate::common::cli::Pyedge {
    pyedge()
        .env("PYEDGE_CACHE_DIR", cache())
        .env_remove("XDG_CACHE_HOME")
        .env("PATH", "")
}

fn check_deps_json(app: &Path, index: &TestIndex) -> serde_json::Value {
    let run = sandboxed_pyedge()
        .args(["check-deps", app.to_str().unwrap(), "--json"])
        .args(["--index-url", &index.url()])
        .assert()
        .success();
    serde_json::from_str(&run.stdout()).expect("check-deps --json prints JSON")
}

#[test]
fn three_sdists_build_pure_twice_to_the_same_bytes() {
    let _serial = serial();
    let index = index();
    let dir = app(
        "sdist-twice",
        "markupsafe\npyyaml\nmsgpack\n",
        "print('hi')\n",
    );
    let mut runs = Vec::new();
    for _ in 0..2 {
        // Each run builds from scratch: no earlier build is reused.
        let _ = std::fs::remove_dir_all(cache().join("sdist-builds"));
        let doc = check_deps_json(&dir, &index);
        let mut wheels = Vec::new();
        for (project, version) in BUILT {
            let package = doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == *project)
                .unwrap_or_else(|| panic!("{project} missing: {doc:#}"));
            assert_eq!(package["verdict"], "built pure from sdist", "{doc:#}");
            assert_eq!(package["version"], *version, "{doc:#}");
            let wheel = package["wheel"].as_str().unwrap().to_string();
            assert!(wheel.ends_with("-py3-none-any.whl"), "{wheel}");
            let sdist = package["sdist"].as_str().unwrap();
            assert!(sdist.ends_with(".tar.gz"), "{sdist}");
            let sdist_sha = package["sdist_sha256"].as_str().unwrap();
            let path = cache().join("sdist-builds/v1").join(sdist_sha).join(&wheel);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            assert_eq!(package["sha256"], sha256_hex(&bytes));
            assert_no_native_file(&wheel, &bytes);
            wheels.push((wheel, bytes));
        }
        assert_eq!(doc["built"].as_array().unwrap().len(), 3, "{doc:#}");
        runs.push(wheels);
    }
    for ((name, first), (_, second)) in runs[0].iter().zip(&runs[1]) {
        assert!(first == second, "{name}: two builds gave different bytes");
    }
    // The build requirements came from the index, like every other dependency.
    let requests = index.requests();
    for project in ["setuptools", "cython"] {
        assert!(
            requests
                .iter()
                .any(|r| r == &format!("GET /simple/{project}/")),
            "{project} not asked of the index: {requests:?}"
        );
    }
}

fn assert_no_native_file(name: &str, bytes: &[u8]) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut modules = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let entry_name = entry.name().to_string();
        for suffix in [".so", ".pyd", ".dylib", ".dll"] {
            assert!(!entry_name.ends_with(suffix), "{name} holds {entry_name}");
        }
        let mut head = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut entry, 4), &mut head).unwrap();
        assert!(head != b"\x7fELF", "{name}: {entry_name} is an ELF file");
        modules += usize::from(entry_name.ends_with(".py"));
    }
    assert!(modules > 0, "{name} holds no Python module");
}

const APP: &str = r#"
import markupsafe
import msgpack
import yaml


def main():
    print("escape:", markupsafe.escape("<a href='x'>&</a>"))
    print("markup:", markupsafe.Markup("<b>%s</b>") % "<i>")
    doc = {"name": "edge", "tags": ["a", "b"], "n": 3, "nested": {"ok": True}}
    text = yaml.safe_dump(doc, sort_keys=True)
    assert yaml.safe_load(text) == doc, text
    print("yaml:", text.replace("\n", "|"))
    print("yaml-c:", hasattr(yaml, "CSafeLoader"))
    packed = msgpack.packb({"k": [1, 2.5, "x", b"\x00", None]})
    assert msgpack.unpackb(packed) == {"k": [1, 2.5, "x", b"\x00", None]}
    print("msgpack:", packed.hex())
    print("msgpack-impl:", msgpack.Packer.__module__)
"#;

#[test]
fn apps_using_them_run_inside_the_component() {
    let _serial = serial();
    let index = index();
    let dir = app("sdist-app", "markupsafe\npyyaml\nmsgpack\n", APP);
    let wasm = dir.join("app.wasm");
    let build = sandboxed_pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .assert()
        .success()
        .stderr_has("markupsafe 3.0.4: built pure from sdist (markupsafe-3.0.4.tar.gz)")
        .stderr_has("pyyaml 6.0.4: built pure from sdist")
        .stderr_has("msgpack 1.2.4: built pure from sdist");
    drop(build);
    let run = run_component(&wasm, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("escape: &lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"),
        "{out}"
    );
    assert!(out.contains("markup: <b>&lt;i&gt;</b>"), "{out}");
    assert!(
        out.contains("yaml: n: 3|name: edge|nested:|  ok: true|tags:|- a|- b|"),
        "{out}"
    );
    // The pure build: no libyaml bindings, msgpack's pure-Python fallback.
    assert!(out.contains("yaml-c: False"), "{out}");
    assert!(out.contains("msgpack-impl: msgpack.fallback"), "{out}");
    assert!(
        out.contains("msgpack: 81a16b9501cb4004000000000000a178c40100c0"),
        "{out}"
    );

    // The lock records both hashes, and a locked build gets the same wheels back.
    sandboxed_pyedge()
        .args(["lock", dir.to_str().unwrap(), "--index-url", &index.url()])
        .assert()
        .success();
    let lock = std::fs::read_to_string(dir.join("pyedge.lock")).unwrap();
    let locked: toml::Table = toml::from_str(&lock).unwrap();
    let packages = locked["package"].as_array().unwrap();
    for (project, version) in BUILT {
        let package = packages
            .iter()
            .find(|p| p["name"].as_str() == Some(project))
            .unwrap_or_else(|| panic!("{project} not locked:\n{lock}"));
        assert_eq!(package["version"].as_str(), Some(*version), "{lock}");
        assert_eq!(
            package["sdist"].as_str(),
            Some(format!("{project}-{version}.tar.gz").as_str()),
            "{lock}"
        );
        assert_eq!(
            package["sdist_sha256"].as_str().unwrap().len(),
            64,
            "{lock}"
        );
        assert_ne!(package["sdist_sha256"], package["sha256"], "{lock}");
        assert!(
            package["wheel"]
                .as_str()
                .unwrap()
                .ends_with("-py3-none-any.whl"),
            "{lock}"
        );
    }
    // Built again from the sdists (not from the build cache): the locked bytes.
    let _ = std::fs::remove_dir_all(cache().join("sdist-builds"));
    let again = dir.join("again.wasm");
    sandboxed_pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            again.to_str().unwrap(),
        ])
        .args(["--locked", "--index-url", &index.url()])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&wasm).unwrap(),
        std::fs::read(&again).unwrap()
    );

    // Offline, the cached sdists and their builds are enough.
    let offline = dir.join("offline.wasm");
    sandboxed_pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            offline.to_str().unwrap(),
        ])
        .arg("--offline")
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&wasm).unwrap(),
        std::fs::read(&offline).unwrap()
    );
}

/// `name-1.0.tar.gz`: a project `name` whose `setup.py` declares `ext_modules` that are
/// not optional, and a `[build-system]` as given.
fn test_sdist(name: &str, build_system: &str, setup_py: &str) -> Vec<u8> {
    sdist_of(
        name,
        &[
            ("pyproject.toml", build_system),
            ("setup.py", setup_py),
            (&format!("{name}/__init__.py"), "from ._core import add\n"),
            (
                &format!("{name}/_core.c"),
                "#include <Python.h>\n/* a required accelerator */\n",
            ),
            (
                "PKG-INFO",
                &format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
            ),
        ],
    )
}

/// `name-1.0.tar.gz` holding `files` under `name-1.0/`.
fn sdist_of(name: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{name}-1.0/{path}"), text.as_bytes())
            .unwrap();
    }
    let mut gz = builder.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

const SETUPTOOLS: &str =
    "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n";

#[test]
fn a_required_c_extension_is_rejected_with_the_reason() {
    let _serial = serial();
    let index = index();
    let setup = "from setuptools import setup, Extension\n\
                 setup(name='needsc', version='1.0', packages=['needsc'],\n      \
                 ext_modules=[Extension('needsc._core', ['needsc/_core.c'])])\n";
    index.add_file(
        "needsc",
        "needsc-1.0.tar.gz",
        test_sdist("needsc", SETUPTOOLS, setup),
    );
    let native = WheelSpec::pure("needsc", "1.0").tag("cp313-cp313-manylinux_2_17_x86_64");
    index.add_file("needsc", &native.filename(), native.build());
    let dir = app("sdist-needs-c", "needsc\n", "import needsc\n");
    let run = sandboxed_pyedge()
        .args(["check-deps", dir.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .assert()
        .code(4)
        .stderr_has("needsc 1.0: only platform-specific wheels (compiled code), and its C extension is required")
        .stderr_has("wasi does not support processes")
        .stderr_has("required by: app → needsc")
        .stderr_has("tag cp313-cp313-manylinux_2_17_x86_64 (needsc-1.0-cp313-cp313-manylinux_2_17_x86_64.whl); file needsc-1.0.tar.gz");
    // The whole message, as a reviewed snapshot (tests/it/snapshots/).
    insta::assert_snapshot!(
        "check-deps-sdist-extension-required",
        run.message(&[(&dir, "[APP]")])
    );
    let doc = {
        let run = sandboxed_pyedge()
            .args(["check-deps", dir.to_str().unwrap(), "--json"])
            .args(["--index-url", &index.url()])
            .assert()
            .code(4);
        serde_json::from_str::<serde_json::Value>(&run.stdout()).unwrap()
    };
    assert_eq!(
        doc["packages"][0]["reason_kind"], "extension-required",
        "{doc:#}"
    );
}

#[test]
fn compiling_build_backends_are_refused_by_name() {
    let _serial = serial();
    let index = index();
    let meson = "[build-system]\nrequires = [\"meson-python\"]\nbuild-backend = \"mesonpy\"\n";
    index.add_file(
        "mesonish",
        "mesonish-1.0.tar.gz",
        test_sdist("mesonish", meson, ""),
    );
    let dir = app("sdist-meson", "mesonish\n", "import mesonish\n");
    sandboxed_pyedge()
        .args(["check-deps", dir.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .assert()
        .code(4)
        .stderr_has("mesonish 1.0: no wheel, only a source distribution (sdist-only), and its sdist is built with meson-python, which compiles code");
}

#[test]
fn a_build_that_hangs_is_stopped_at_the_time_limit() {
    let _serial = serial();
    let index = index();
    let setup = "while True:\n    pass\n";
    index.add_file(
        "hangs",
        "hangs-1.0.tar.gz",
        test_sdist("hangs", SETUPTOOLS, setup),
    );
    let dir = app("sdist-hangs", "hangs\n", "import hangs\n");
    let started = std::time::Instant::now();
    sandboxed_pyedge()
        .args(["check-deps", dir.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .env("PYEDGE_SDIST_TIME_LIMIT", "3")
        .assert()
        .code(4)
        .stderr_has(
            "hangs 1.0: no wheel, only a source distribution (sdist-only), and the pure build",
        )
        .stderr_has("stopped after the time limit of 3 s (PYEDGE_SDIST_TIME_LIMIT)");
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
}

#[test]
fn an_sdist_only_project_builds_with_flit_core_too() {
    let _serial = serial();
    let index = index();
    let pyproject = "[build-system]\nrequires = [\"flit_core>=3.2,<5\"]\n\
                     build-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"flitpkg\"\n\
                     version = \"1.0\"\ndescription = \"A pure package built with flit\"\n";
    let module = "def hello(name):\n    return f\"hello {name}\"\n";
    let sdist = sdist_of(
        "flitpkg",
        &[
            ("pyproject.toml", pyproject),
            ("flitpkg/__init__.py", module),
            (
                "PKG-INFO",
                "Metadata-Version: 2.1\nName: flitpkg\nVersion: 1.0\n",
            ),
        ],
    );
    index.add_file("flitpkg", "flitpkg-1.0.tar.gz", sdist);
    let source = "import flitpkg\n\ndef main():\n    print(flitpkg.hello(\"edge\"))\n";
    let dir = app("sdist-flit", "flitpkg\n", source);
    let doc = check_deps_json(&dir, &index);
    let package = &doc["packages"][0];
    assert_eq!(package["verdict"], "built pure from sdist", "{doc:#}");
    assert_eq!(package["wheel"], "flitpkg-1.0-py3-none-any.whl", "{doc:#}");
    let wasm = dir.join("app.wasm");
    sandboxed_pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .assert()
        .success();
    let run = run_component(&wasm, &[], &[]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "hello edge\n"),
        "{}",
        run.stderr
    );
}
