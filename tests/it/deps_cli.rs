//! `pyedge check-deps` and `pyedge lock` as a user runs them, against a simple index on
//! 127.0.0.1.

use crate::deps_support::*;
use std::path::Path;
use std::process::Output;

/// Run the real binary with a private wheel cache.
/// `pyedge ARGS` with its own cache directory.
fn pyedge(args: &[&str], cache: &Path) -> Output {
    crate::common::pyedge()
        .args(args)
        .env("PYEDGE_CACHE_DIR", cache)
        .env_remove("XDG_CACHE_HOME")
        .output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn pure_index() -> TestIndex {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("alpha", "1.0").requires("beta>=2"));
    index.add_wheel(&WheelSpec::pure("beta", "2.1"));
    index
}

fn crypto_index() -> TestIndex {
    let index = TestIndex::start();
    index
        .add_wheel(&WheelSpec::pure("pyjwt", "2.10.1").requires("cffi>=1.17; extra == \"crypto\""));
    index.add_wheel(&WheelSpec::pure("cffi", "1.17.1").tag("cp39-abi3-manylinux_2_28_x86_64"));
    index
}

#[test]
fn check_deps_prints_each_package_with_its_verdict() {
    let index = pure_index();
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &[
            "check-deps",
            path_str(app.path()),
            "--index-url",
            &index.url(),
        ],
        cache.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        code(&out),
        0,
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("CPython 3.13"), "{stdout}");
    for row in [
        "alpha",
        "beta",
        "2.1",
        "pure",
        "beta-2.1-py3-none-any.whl",
        "app → alpha → beta",
    ] {
        assert!(stdout.contains(row), "missing {row:?} in:\n{stdout}");
    }
    assert!(stdout.contains("2 packages, all pure Python."), "{stdout}");
}

#[test]
fn check_deps_rejects_a_native_dependency_with_exit_4() {
    let index = crypto_index();
    let app = app_dir(&[("requirements.txt", "pyjwt[crypto]\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &[
            "check-deps",
            path_str(app.path()),
            "--index-url",
            &index.url(),
        ],
        cache.path(),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 4, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("REJECTED") && stdout.contains("1 of 2 packages rejected."),
        "{stdout}"
    );
    for expected in [
        "cffi 1.17.1",
        "required by: app → pyjwt[crypto] → cffi",
        "tag cp39-abi3-manylinux_2_28_x86_64",
        "hint:",
        "pyjwt[crypto]",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn check_deps_json_is_one_document() {
    let index = crypto_index();
    let app = app_dir(&[("requirements.txt", "pyjwt[crypto]\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &[
            "check-deps",
            path_str(app.path()),
            "--json",
            "--index-url",
            &index.url(),
        ],
        cache.path(),
    );
    assert_eq!(code(&out), 4, "stderr:\n{}", text(&out.stderr));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_code"], 4);
    assert_eq!(doc["target"]["sys_platform"], "wasi");
    assert_eq!(doc["rejected"], serde_json::json!(["cffi"]));
    let crypto = &doc["packages"][0];
    assert_eq!(crypto["verdict"], "rejected");
    assert_eq!(crypto["reason_kind"], "platform-wheels-only");
    assert_eq!(
        crypto["chain"],
        serde_json::json!(["app", "pyjwt[crypto]", "cffi"])
    );
    assert_eq!(doc["packages"][1]["verdict"], "pure");

    let url = unreachable_index_url();
    let out = pyedge(
        &[
            "check-deps",
            path_str(app.path()),
            "--json",
            "--index-url",
            &url,
        ],
        cache.path(),
    );
    assert_eq!(code(&out), 5);
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["exit_code"], 5);
    assert!(
        doc["error"].as_str().is_some_and(|e| e.contains(&url)),
        "{doc}"
    );
}

#[test]
fn unreachable_index_exits_5_naming_the_url() {
    let url = unreachable_index_url();
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &["check-deps", path_str(app.path()), "--index-url", &url],
        cache.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 5, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the package index at {url}/alpha/")),
        "{stderr}"
    );
}

#[test]
fn offline_works_from_the_cache_only() {
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let dir = path_str(app.path());

    let out = pyedge(&["check-deps", dir, "--offline"], cache.path());
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--offline forbids the index"),
        "{}",
        text(&out.stderr)
    );

    {
        let index = pure_index();
        let out = pyedge(
            &["check-deps", dir, "--index-url", &index.url()],
            cache.path(),
        );
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    }
    let out = pyedge(&["check-deps", dir, "--offline"], cache.path());
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("app → alpha → beta"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn lock_writes_the_lock_and_locked_checks_it() {
    let index = pure_index();
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let dir = path_str(app.path());

    let out = pyedge(&["lock", dir, "--index-url", &index.url()], cache.path());
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let lock =
        std::fs::read_to_string(app.path().join("pyedge.lock")).expect("pyedge.lock written");
    assert!(
        lock.contains("name = \"beta\"") && lock.contains("sha256 = "),
        "{lock}"
    );

    let out = pyedge(
        &["check-deps", dir, "--locked", "--index-url", &index.url()],
        cache.path(),
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    let beta = sha256_hex(&WheelSpec::pure("beta", "2.1").build());
    std::fs::write(
        app.path().join("pyedge.lock"),
        lock.replace(&beta, &"0".repeat(64)),
    )
    .expect("edit lock");
    let out = pyedge(
        &["check-deps", dir, "--locked", "--index-url", &index.url()],
        cache.path(),
    );
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("hash mismatch for beta-2.1-py3-none-any.whl"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn lock_refuses_a_rejected_dependency_and_writes_nothing() {
    let index = crypto_index();
    let app = app_dir(&[("requirements.txt", "pyjwt[crypto]\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &["lock", path_str(app.path()), "--index-url", &index.url()],
        cache.path(),
    );
    assert_eq!(code(&out), 4, "{}", text(&out.stderr));
    assert!(!app.path().join("pyedge.lock").exists());
}

#[test]
fn usage_errors_exit_2_naming_file_and_line() {
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(&["check-deps", "/nonexistent/app"], cache.path());
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));

    let app = app_dir(&[("requirements.txt", "alpha\nbeta >= = 1\n")]);
    let out = pyedge(&["check-deps", path_str(app.path())], cache.path());
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("requirements.txt:2: invalid requirement"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn huge_and_deeply_included_requirements_are_refused_with_exit_2() {
    let cache = tempfile::tempdir().expect("cache");
    // 100 MB (sparse: no disk used): refused by its size, before reading it.
    let app = app_dir(&[]);
    std::fs::File::create(app.path().join("requirements.txt"))
        .and_then(|file| file.set_len(100 * 1024 * 1024))
        .expect("sparse file");
    let out = pyedge(&["check-deps", path_str(app.path())], cache.path());
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("requirements.txt: 104857600 bytes is over the limit of 4194304 bytes"),
        "{}",
        text(&out.stderr)
    );

    // A `-r` chain 100 files deep: refused at the depth limit, naming the file and line.
    let files: Vec<(String, String)> = (0..100)
        .map(|i| (format!("r{i}.txt"), format!("-r r{}.txt\n", i + 1)))
        .chain([("requirements.txt".to_string(), "-r r0.txt\n".to_string())])
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let app = app_dir(&files);
    let out = pyedge(&["check-deps", path_str(app.path())], cache.path());
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("r30.txt:1: -r r31.txt: includes nested deeper than 32 files"),
        "{}",
        text(&out.stderr)
    );

    // A loop through another file.
    let app = app_dir(&[
        ("requirements.txt", "-r a.txt\n"),
        ("a.txt", "-r requirements.txt\n"),
    ]);
    let out = pyedge(&["check-deps", path_str(app.path())], cache.path());
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("a.txt:1: requirements.txt includes itself (-r cycle)"),
        "{}",
        text(&out.stderr)
    );
}

/// FastAPI on pydantic v2 (issue 17): pydantic-core has native wheels only and no
/// sdist, so the app is rejected naming it, with the chain from the app, while pydantic
/// v1 (pure) is not taken behind the app's back: the FastAPI asked for needs v2.
#[test]
fn fastapi_on_pydantic_v2_is_rejected_naming_pydantic_core() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("fastapi", "0.165.0").requires("pydantic>=2.9"));
    index.add_wheel(&WheelSpec::pure("pydantic", "2.12.5").requires("pydantic-core==2.41.5"));
    index.add_wheel(&WheelSpec::pure("pydantic", "1.10.27"));
    for tag in ["cp313-cp313-manylinux_2_17_x86_64", "cp313-cp313-win_amd64"] {
        index.add_wheel(&WheelSpec::pure("pydantic-core", "2.41.5").tag(tag));
    }
    let app = app_dir(&[("requirements.txt", "fastapi\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let out = pyedge(
        &[
            "check-deps",
            path_str(app.path()),
            "--index-url",
            &index.url(),
        ],
        cache.path(),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 4, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for expected in [
        "pydantic-core 2.41.5",
        "required by: app → fastapi → pydantic → pydantic-core",
        "cp313",
        "hint:        pydantic v2's compiled core has no WASI build",
        "`pydantic>=1.10,<2`",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!stdout.contains("pydantic 1.10.27"), "{stdout}");
}
