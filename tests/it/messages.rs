//! Every error message a user can get from `build`, `check-deps`, `lock`, `inspect` and
//! `serve` without a network, with its exit code, as a snapshot under
//! `tests/it/snapshots/`: a change of wording is a reviewed diff. Paths are replaced by
//! `[APP]`, `[TMP]`, `[FIXTURES]`; sizes and times by `[N]` where they depend on the
//! runtime build. Messages that need an index (rejections, an unreachable index) come
//! from a real local index on 127.0.0.1 ([`dependency_messages_from_an_index`]); hash
//! mismatches are checked by `deps_end_to_end`.

use crate::common::cli::Assert;
use crate::common::{built, fixture, pyedge, scratch};
use std::path::{Path, PathBuf};

/// A scratch app directory holding `files`.
fn app(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(&format!("messages-{name}"));
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The run's exit code and stderr, paths replaced, then sizes and timings.
fn message(run: &Assert, dir: &Path) -> String {
    let text = run.message(&[(dir, "[APP]")]);
    let numbers = regex::Regex::new(r"\d+(\.\d+)? ?(bytes|gzip|MB|kB|B|ms|s|%)(\W|$)").unwrap();
    let text = numbers.replace_all(&text, "[N] $2$3");
    // The boot module's own line numbers move with every edit of it.
    let boot = regex::Regex::new(r#"File "<pyedge-boot>", line \d+"#).unwrap();
    boot.replace_all(&text, r#"File "<pyedge-boot>", line [N]"#)
        .into_owned()
}

/// `message` with runs of spaces made one: table columns whose widths follow the sizes.
fn message_of_table(run: &Assert, dir: &Path) -> String {
    let spaces = regex::Regex::new(" {2,}").unwrap();
    spaces.replace_all(&message(run, dir), " ").into_owned()
}

fn build_error(name: &str, files: &[(&str, &str)], extra: &[&str], code: i32) -> String {
    let (run, dir) = build_run(name, files, extra, code);
    message(&run, &dir)
}

fn build_run(name: &str, files: &[(&str, &str)], extra: &[&str], code: i32) -> (Assert, PathBuf) {
    let dir = app(name, files);
    let out = dir.join("out/app.wasm");
    let run = pyedge()
        .args(["build", s(&dir), "-o", s(&out)])
        .args(extra)
        .env("PYEDGE_CACHE_DIR", dir.join(".cache"))
        .assert()
        .code(code);
    assert!(!out.exists(), "a failed build writes nothing");
    (run, dir)
}

/// A case: its name, the app's files and extra arguments.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

const HELLO: &str = "def main():\n    print('hi')\n";

#[test]
fn build_usage_errors() {
    let cases: Vec<Case> = vec![
        (
            "entry-missing",
            vec![("README.md", "no app here\n")],
            vec![],
        ),
        (
            "entry-invalid",
            vec![("app.py", HELLO)],
            vec!["--entry", "9lives"],
        ),
        (
            "entry-attribute-invalid",
            vec![("app.py", HELLO)],
            vec!["--entry", "app:create()"],
        ),
        (
            "interface-value",
            vec![
                ("app.py", HELLO),
                ("pyproject.toml", "[tool.pyedge]\ninterface = \"rsgi\"\n"),
            ],
            vec![],
        ),
        (
            "interface-for-a-script",
            vec![("app.py", HELLO)],
            vec!["--entry", "app:main", "--world", "cli"],
        ),
        (
            "toml-invalid",
            vec![("app.py", HELLO), ("pyproject.toml", "[tool.pyedge\n")],
            vec![],
        ),
        (
            "tool-unknown-key",
            vec![
                ("app.py", HELLO),
                ("pyproject.toml", "[tool.pyedge]\ncolour = 1\n"),
            ],
            vec![],
        ),
        (
            "stdlib-value",
            vec![
                ("app.py", HELLO),
                ("pyproject.toml", "[tool.pyedge]\nstdlib = \"some\"\n"),
            ],
            vec![],
        ),
        (
            "budget-invalid",
            vec![("app.py", HELLO)],
            vec!["--budget", "ten MB"],
        ),
        (
            "include-invalid",
            vec![
                ("app.py", HELLO),
                ("pyproject.toml", "[tool.pyedge]\ninclude = [\"a[b\"]\n"),
            ],
            vec![],
        ),
        (
            "secret-named-by-include",
            vec![
                ("app.py", HELLO),
                (
                    "keys/server.key",
                    "-----BEGIN EC PRIVATE KEY-----\nMHc...\n",
                ),
                (
                    "pyproject.toml",
                    "[tool.pyedge]\ninclude = [\"*.py\", \"keys/*\"]\n",
                ),
            ],
            vec![],
        ),
        (
            "precompile-script",
            vec![("app.py", HELLO)],
            vec!["--precompile"],
        ),
        (
            "requirements-invalid",
            vec![("app.py", HELLO), ("requirements.txt", "six\nflask==>1\n")],
            vec![],
        ),
    ];
    for (name, files, extra) in cases {
        insta::assert_snapshot!(
            format!("build-{name}"),
            build_error(name, &files, &extra, 2)
        );
    }
    let deep = format!("a = {}{}\n", "[".repeat(100), "]".repeat(100));
    insta::assert_snapshot!(
        "build-toml-too-deep",
        build_error(
            "toml-deep",
            &[("app.py", HELLO), ("pyproject.toml", &deep)],
            &[],
            2
        )
    );
    let missing = scratch("messages-app-dir-missing").join("nowhere");
    let run = pyedge().args(["build", s(&missing)]).assert().code(2);
    insta::assert_snapshot!("build-app-dir-missing", message(&run, &missing));
    let run = pyedge()
        .args(["build", s(&fixture("hello")), "--hash-seed", "often"])
        .assert()
        .code(2);
    insta::assert_snapshot!("build-hash-seed-invalid", message(&run, &missing));
    let dir = app("precompile-cwasm", &[("app.py", HELLO)]);
    let run = pyedge()
        .args([
            "build",
            s(&dir),
            "-o",
            s(&dir.join("app.cwasm")),
            "--precompile",
        ])
        .assert()
        .code(2);
    insta::assert_snapshot!("build-precompile-to-cwasm", message(&run, &dir));
}

#[test]
fn build_errors_from_the_app_and_the_budget() {
    insta::assert_snapshot!(
        "build-syntax-error",
        build_error("syntax", &[("app.py", "def main(:\n    pass\n")], &[], 1)
    );
    insta::assert_snapshot!(
        "build-import-error",
        build_error(
            "import",
            &[
                ("app.py", "import helper\n\ndef main():\n    pass\n"),
                ("helper.py", "import not_a_module_anywhere\n"),
            ],
            &[],
            1
        )
    );
    insta::assert_snapshot!(
        "build-raises-at-import",
        build_error(
            "raises",
            &[(
                "app.py",
                "raise RuntimeError('no config')\n\ndef main():\n    pass\n"
            )],
            &[],
            1
        )
    );
    insta::assert_snapshot!(
        "build-app-object-missing",
        build_error(
            "object-missing",
            &[("app.py", "application = object\n")],
            &["--entry", "app:app"],
            1
        )
    );
    insta::assert_snapshot!(
        "build-app-object-not-callable",
        build_error(
            "object-not-callable",
            &[("app.py", "app = {'routes': []}\n")],
            &["--entry", "app:app"],
            1
        )
    );
    insta::assert_snapshot!(
        "build-http-without-entry-point",
        build_error(
            "no-entry-point",
            &[("app.py", "app = 1\n")],
            &["--world", "http"],
            1
        )
    );
    let (run, dir) = build_run("budget", &[("app.py", HELLO)], &["--budget", "1MB"], 3);
    insta::assert_snapshot!("build-over-budget", message_of_table(&run, &dir));
    insta::assert_snapshot!(
        "build-offline-without-the-wheel",
        build_error(
            "offline",
            &[("app.py", HELLO), ("requirements.txt", "six==1.16.0\n")],
            &["--offline"],
            5
        )
    );
}

#[test]
fn check_deps_and_lock_errors() {
    let missing = scratch("messages-deps-missing").join("nowhere");
    for command in ["check-deps", "lock"] {
        let run = pyedge().args([command, s(&missing)]).assert().code(2);
        insta::assert_snapshot!(
            format!("{command}-app-dir-missing"),
            message(&run, &missing)
        );
        let dir = app(
            &format!("{command}-invalid"),
            &[(
                "requirements.txt",
                "# deps\nrequests >= 2 ; python_version >\n",
            )],
        );
        let run = pyedge().args([command, s(&dir)]).assert().code(2);
        insta::assert_snapshot!(
            format!("{command}-requirements-invalid"),
            message(&run, &dir)
        );
        let dir = app(
            &format!("{command}-offline"),
            &[("requirements.txt", "six==1.16.0\n")],
        );
        let run = pyedge()
            .args([command, s(&dir), "--offline"])
            .env("PYEDGE_CACHE_DIR", dir.join(".cache"))
            .assert()
            .code(5);
        insta::assert_snapshot!(
            format!("{command}-offline-without-the-wheel"),
            message(&run, &dir)
        );
    }
    let dir = app(
        "locked-without-lock",
        &[("requirements.txt", "six==1.16.0\n")],
    );
    let run = pyedge()
        .args(["check-deps", s(&dir), "--locked", "--offline"])
        .env("PYEDGE_CACHE_DIR", dir.join(".cache"))
        .assert()
        .code(5);
    insta::assert_snapshot!("check-deps-locked-without-a-lock", message(&run, &dir));
}

/// Files that are not what `inspect` and `serve` expect, in `dir`.
fn odd_files(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let files: [(&str, &[u8]); 4] = [
        ("text.wasm", b"hello, not wasm\n"),
        ("native.cwasm", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"),
        ("truncated.wasm", b"\0asm\x01\0\0\0\x01\x7f"),
        ("empty-module.wasm", b"\0asm\x01\0\0\0"),
    ];
    files
        .iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            (*name, path)
        })
        .collect()
}

#[test]
fn inspect_errors() {
    let dir = scratch("messages-inspect");
    let run = pyedge()
        .args(["inspect", s(&dir.join("missing.wasm"))])
        .assert()
        .code(2);
    insta::assert_snapshot!("inspect-missing", message(&run, &dir));
    for (name, path) in odd_files(&dir) {
        let args = if name == "empty-module.wasm" {
            vec!["inspect", s(&path), "--files"]
        } else {
            vec!["inspect", s(&path)]
        };
        let run = pyedge().args(args).assert().code(2);
        insta::assert_snapshot!(format!("inspect-{name}"), message(&run, &dir));
    }
}

#[test]
fn serve_errors() {
    let dir = scratch("messages-serve");
    let run = pyedge()
        .args(["serve", s(&dir.join("missing.wasm"))])
        .assert()
        .code(2);
    insta::assert_snapshot!("serve-missing", message(&run, &dir));
    for (name, path) in odd_files(&dir) {
        let run = pyedge().args(["serve", s(&path)]).assert().code(2);
        insta::assert_snapshot!(format!("serve-{name}"), message(&run, &dir));
    }
    let script = built("hello", &[]);
    let run = pyedge().args(["serve", s(&script)]).assert().code(2);
    insta::assert_snapshot!("serve-script-app", message(&run, script.parent().unwrap()));
    let http = built("geo-router", &[]);
    let shown = http.parent().unwrap();
    let run = pyedge()
        .args(["serve", s(&http), "--memory-limit", "1MB"])
        .assert()
        .code(2);
    insta::assert_snapshot!("serve-memory-limit-too-small", message(&run, shown));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = pyedge()
        .args(["serve", s(&http), "--addr", &addr])
        .assert()
        .code(2);
    insta::assert_snapshot!(
        "serve-address-in-use",
        message(&run, shown).replace(&addr, "[ADDR]")
    );
    let run = pyedge()
        .args(["serve", s(&http), "--timeout", "soon"])
        .assert()
        .code(2);
    insta::assert_snapshot!("serve-timeout-invalid", message(&run, shown));
}

/// The messages of `check-deps`, `lock` and `build` that need an index: a local one on
/// 127.0.0.1 (its URL shown as `[INDEX]`).
#[test]
fn dependency_messages_from_an_index() {
    use crate::deps_support::{TestIndex, WheelSpec};
    let native = |name: &str, version: &str| {
        WheelSpec::pure(name, version).tag("cp313-cp313-manylinux_2_17_x86_64")
    };
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("shop", "1.0").requires("fastcore>=1"));
    index.add_wheel(&native("fastcore", "2.2"));
    index.add_wheel(&native("fastcore", "2.1"));
    index.add_wheel(&native("fastcore", "1.0").requires_python("<3"));
    index.add_wheel(&WheelSpec::pure("fastapi", "0.165.0").requires("pydantic>=2.9"));
    index.add_wheel(&WheelSpec::pure("pydantic", "2.12.5").requires("pydantic-core==2.41.5"));
    index.add_wheel(&native("pydantic-core", "2.41.5"));
    index.add_wheel(&WheelSpec::pure("aiohttp", "3.13.2"));
    let url = index.url();
    let cases: &[(&str, &str, &[&str], i32)] = &[
        ("native-with-older-versions", "shop\n", &["check-deps"], 4),
        ("pydantic-core", "fastapi\n", &["check-deps"], 4),
        ("lock-refused", "shop\n", &["lock"], 4),
        ("build-refused", "shop\n", &["build"], 4),
        ("aiohttp", "aiohttp\n", &["build"], 4),
    ];
    for (name, requirements, command, code) in cases {
        let dir = app(
            &format!("index-{name}"),
            &[("requirements.txt", requirements), ("app.py", HELLO)],
        );
        let cache = scratch(&format!("messages-index-cache-{name}"));
        let out = dir.join("app.wasm");
        let mut args: Vec<&str> = command.to_vec();
        args.push(s(&dir));
        if command[0] == "build" {
            args.extend(["-o", s(&out)]);
        }
        args.extend(["--index-url", &url]);
        let run = pyedge()
            .args(&args)
            .env("PYEDGE_CACHE_DIR", &cache)
            .assert()
            .code(*code);
        let text = message(&run, &dir).replace(&url, "[INDEX]");
        insta::assert_snapshot!(format!("index-{name}"), text);
        if *name == "aiohttp" {
            assert!(!text.contains("panicked"), "{text}");
        }
        assert!(!out.exists(), "{name}: a refused build wrote its output");
    }
    // An index nobody answers.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/simple", listener.local_addr().unwrap())
    };
    let dir = app("index-unreachable", &[("requirements.txt", "shop\n")]);
    let run = pyedge()
        .args(["check-deps", s(&dir), "--index-url", &dead])
        .env("PYEDGE_CACHE_DIR", scratch("messages-index-cache-dead"))
        .assert()
        .code(5);
    insta::assert_snapshot!(
        "index-unreachable",
        message(&run, &dir).replace(&dead, "[INDEX]")
    );
}

#[test]
fn secret_looking_settings_are_warned_about() {
    let dir = app(
        "secret-settings",
        &[
            ("app.py", HELLO),
            (
                "pyproject.toml",
                "[tool.pyedge.config]\nregion = \"eu\"\nAPI_TOKEN = \"t0k\"\ndb_password = \"pw\"\n",
            ),
        ],
    );
    let out = dir.join("app.wasm");
    let run = pyedge()
        .args(["build", s(&dir), "-o", s(&out)])
        .assert()
        .success();
    insta::assert_snapshot!("build-secret-looking-settings", message(&run, &dir));
}
