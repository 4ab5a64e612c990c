//! `pyedge init --template ...` (issue 22, part 2): each template builds with no edits
//! (its dependencies from the test wheels, offline), the component answers under
//! `pyedge serve` or a `wasmtime run`, and the generated tests pass on the host's CPython
//! under pytest (with the SDK from `pyedge sdk-path`).

use crate::common::serve::{request, text, Server};
use crate::common::{describe, pyedge, run_component, scratch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn env_path(name: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{name} is not set: run scripts/test.sh"))
}

fn init(dir: &Path, template: &str) {
    pyedge()
        .args(["init", dir.to_str().unwrap(), "--template", template])
        .assert()
        .success()
        .stdout_has("next:");
}

fn build(app: &Path) -> PathBuf {
    let wasm = app.join("app.wasm");
    let wheels = env_path("PYEDGE_TEST_WHEELS");
    let output = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--find-links", wheels.to_str().unwrap(), "--offline"])
        .env("PYEDGE_CACHE_DIR", app.parent().unwrap().join("cache"))
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    wasm
}

/// The templates' host-side dependencies, installed once (offline, from the test wheels)
/// into a directory put on PYTHONPATH; the host CPython with pytest is the test command's.
fn host_site() -> &'static Path {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let site = scratch("init-host-site");
        let wheels = env_path("PYEDGE_TEST_WHEELS");
        let output = Command::new(env_path("PYEDGE_TEST_PYTHON"))
            .args(["-m", "pip", "install", "--quiet", "--no-index", "--target"])
            .arg(&site)
            .arg("--find-links")
            .arg(&wheels)
            .args(["flask", "starlette", "httpx"])
            .output()
            .expect("run pip");
        assert!(output.status.success(), "{}", describe(&output));
        site
    })
}

/// The generated tests, under pytest on the host, with `pyedge` on PATH.
fn host_pytest(app: &Path) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pyedge")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let output = Command::new(env_path("PYEDGE_TEST_PYTHON"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(app)
        .env("PATH", path)
        .env("PYTHONPATH", host_site())
        .env("PYEDGE_CACHE_DIR", app.parent().unwrap().join("cache"))
        .output()
        .expect("run pytest");
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("2 passed"),
        "{}",
        describe(&output)
    );
}

fn fresh(template: &str) -> PathBuf {
    let root = scratch(&format!("init-{template}"));
    let app = root.join("edge-app");
    init(&app, template);
    for file in [
        "app.py",
        "pyproject.toml",
        "tests/test_app.py",
        "tests/conftest.py",
        ".gitignore",
        ".github/workflows/edge.yml",
    ] {
        assert!(app.join(file).is_file(), "{template}: no {file}");
    }
    let pyproject = std::fs::read_to_string(app.join("pyproject.toml")).unwrap();
    assert!(pyproject.contains("name = \"edge-app\""), "{pyproject}");
    app
}

#[test]
fn http_template_builds_serves_and_tests_on_the_host() {
    let app = fresh("http");
    let wasm = build(&app);
    let server = Server::start(&wasm);
    let reply = request(
        "GET",
        &format!("{}/hi", server.base),
        &[("x-name", "Ada")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", server.stderr());
    assert_eq!(text(&reply), "{\"hello\": \"Ada\", \"path\": \"/hi\"}");
    let posted = request("POST", &format!("{}/", server.base), &[], Some(b"abc"));
    assert_eq!(text(&posted), "you sent 3 characters");
    drop(server);
    host_pytest(&app);
}

#[test]
fn cli_template_builds_runs_and_tests_on_the_host() {
    let app = fresh("cli");
    let wasm = build(&app);
    let run = run_component(&wasm, &["Ada"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Hello, Ada!\n");
    host_pytest(&app);
}

#[test]
fn wsgi_template_builds_serves_and_tests_on_the_host() {
    let app = fresh("wsgi");
    let wasm = build(&app);
    let server = Server::start(&wasm);
    let reply = request("GET", &format!("{}/?name=Ada", server.base), &[], None);
    assert_eq!(reply.status, 200, "{}", server.stderr());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text(&reply)).unwrap(),
        serde_json::json!({"hello": "Ada"})
    );
    drop(server);
    host_pytest(&app);
}

#[test]
fn asgi_template_builds_serves_and_tests_on_the_host() {
    let app = fresh("asgi");
    let wasm = build(&app);
    let server = Server::start(&wasm);
    let reply = request(
        "POST",
        &format!("{}/echo", server.base),
        &[("content-type", "application/json")],
        Some(b"{\"n\": 1}"),
    );
    assert_eq!(reply.status, 200, "{}", server.stderr());
    assert_eq!(text(&reply), "{\"received\":{\"n\":1}}");
    drop(server);
    host_pytest(&app);
}

/// A directory with files is left alone unless `--force`; `--force` replaces only the
/// template's files.
#[test]
fn init_refuses_a_non_empty_directory_without_force() {
    let root = scratch("init-non-empty");
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    pyedge()
        .args(["init", root.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr_has("is not empty (notes.txt): pass --force");
    assert!(!root.join("app.py").exists());
    pyedge()
        .args([
            "init",
            root.to_str().unwrap(),
            "--template",
            "cli",
            "--force",
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(std::fs::read_to_string(root.join("app.py"))
        .unwrap()
        .contains("def main()"));
    pyedge()
        .args(["init", root.join("notes.txt").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr_has("exists and is not a directory");
    pyedge()
        .args([
            "init",
            root.join("x").to_str().unwrap(),
            "--name",
            "no spaces",
        ])
        .assert()
        .code(2)
        .stderr_has("is not a valid project name");
}
