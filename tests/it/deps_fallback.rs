//! Fallbacks to older versions that are safe and said (issue 17, part 2): an older version
//! is a candidate only if it defines every requested extra and admits CPython 3.13 (by its
//! Requires-Python, or, declaring none, by importing in the runtime); a rejection names
//! the newest version and why each older one was not taken; `build` prints the notes.

use crate::common::{pyedge, scratch};
use crate::deps_support::*;
use pyedge::deps::resolve::Verdict;
use pyedge::deps::{check_deps, resolve_for_build, DepsOptions, DepsReport};
use pyedge::error::{exit_code_of, Exit};
use std::path::Path;

fn options(app: &Path, index_url: &str, cache: &Path) -> DepsOptions {
    DepsOptions {
        index_url: Some(index_url.to_string()),
        cache_dir: Some(cache.to_path_buf()),
        ..DepsOptions::new(app)
    }
}

fn report(opts: &DepsOptions) -> DepsReport {
    check_deps(opts)
        .expect("check")
        .expect("dependencies declared")
}

fn verdicts(report: &DepsReport) -> Vec<String> {
    report
        .packages
        .iter()
        .map(|p| {
            let verdict = match p.verdict {
                Verdict::Pure { .. } => "pure",
                Verdict::Rejected(_) => "rejected",
                Verdict::Substituted(_) => "substituted",
                Verdict::Built { .. } => "built",
            };
            format!("{} {} {verdict}", p.name, p.version)
        })
        .collect()
}

fn native(name: &str, version: &str) -> WheelSpec {
    WheelSpec::pure(name, version).tag("cp313-cp313-manylinux_2_17_x86_64")
}

#[test]
fn a_version_without_the_requested_extra_is_not_a_candidate() {
    // jwtish 2.0's `crypto` extra needs a native package; 1.1 has no `crypto` extra at
    // all. Taking 1.1 would drop the extra silently (the PyJWT 1.1.0 trap).
    let index = TestIndex::start();
    index.add_wheel(
        &WheelSpec::pure("jwtish", "2.0")
            .requires_python(">=3.8")
            .requires("nativecrypto; extra == \"crypto\""),
    );
    index.add_wheel(&WheelSpec::pure("jwtish", "1.1").requires_python(">=3.8"));
    index.add_wheel(&native("nativecrypto", "1.0"));
    let app = app_dir(&[("requirements.txt", "jwtish[crypto]\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());

    let report = report(&opts);
    assert_eq!(
        verdicts(&report),
        ["jwtish 2.0 pure", "nativecrypto 1.0 rejected"],
        "{:?}",
        report.notes
    );
    let err = resolve_for_build(&opts).expect_err("rejected");
    assert_eq!(exit_code_of(&err), Exit::DependencyRejected);
    let message = format!("{err:#}");
    assert!(
        message.contains("required by: app → jwtish[crypto] → nativecrypto"),
        "{message}"
    );

    // An older version that does define the extra, with a pure dependency, is taken,
    // and the note says why the newer one was not.
    index.add_wheel(
        &WheelSpec::pure("jwtish", "1.5")
            .requires_python(">=3.8")
            .requires("purecrypto; extra == \"crypto\""),
    );
    index.add_wheel(&WheelSpec::pure("purecrypto", "1.0").requires_python(">=3"));
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    let set = resolve_for_build(&opts)
        .expect("resolves")
        .expect("declared");
    let names: Vec<String> = set
        .packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    assert_eq!(names, ["jwtish 1.5", "purecrypto 1.0"]);
    assert!(
        set.notes.iter().any(|n| n
            == "jwtish: using 1.5, not the newest version: 2.0: depends on nativecrypto, not pure Python"),
        "{:?}",
        set.notes
    );
}

#[test]
fn an_old_version_without_requires_python_must_import() {
    // oldlib 2.0 is native; 1.0 is pure, declares no Requires-Python and does not import
    // on Python 3.13 (`collections.Mapping` went away in 3.10); 0.9 does.
    let index = TestIndex::start();
    index.add_wheel(&native("oldlib", "2.0"));
    let mut old = WheelSpec::pure("oldlib", "1.0");
    old.files = vec![(
        "oldlib/__init__.py".to_string(),
        b"from collections import Mapping\n".to_vec(),
    )];
    index.add_wheel(&old);
    let app = app_dir(&[("requirements.txt", "oldlib\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());

    let err = resolve_for_build(&opts).expect_err("rejected");
    assert_eq!(exit_code_of(&err), Exit::DependencyRejected);
    let message = format!("{err:#}");
    // The newest version is named, with why the older one was not taken, on one line.
    assert!(
        message.contains("oldlib 2.0: only platform-specific wheels"),
        "{message}"
    );
    assert!(
        message.contains("  older:       1.0: import oldlib fails\n"),
        "{message}"
    );
    let report = report(&opts);
    let json = pyedge::deps::report::report_json(&report);
    let older = json["packages"][0]["older_versions"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(older, "1.0: import oldlib fails", "{json:#}");

    // One that imports is taken, and said.
    index.add_wheel(&WheelSpec::pure("oldlib", "0.9"));
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    let set = resolve_for_build(&opts)
        .expect("resolves")
        .expect("declared");
    assert_eq!(set.packages[0].version, "0.9");
    let note = set.notes.join("\n");
    assert!(
        note.contains(
            "oldlib: using 0.9, not the newest version: 2.0: tag cp313-cp313-manylinux_2_17_x86_64"
        ),
        "{note}"
    );
    assert!(note.contains("1.0: import oldlib fails"), "{note}");
}

#[test]
fn a_rejection_says_why_each_older_version_was_not_taken() {
    let index = TestIndex::start();
    index.add_wheel(&native("nativeonly", "3.0"));
    index.add_wheel(&native("nativeonly", "2.1"));
    index.add_wheel(&native("nativeonly", "2.0"));
    index.add_wheel(&WheelSpec::pure("nativeonly", "1.0").requires_python("<3"));
    let app = app_dir(&[("requirements.txt", "nativeonly\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    let err = resolve_for_build(&opts).expect_err("rejected");
    let message = format!("{err:#}");
    assert!(
        message.contains("nativeonly 3.0: only platform-specific wheels"),
        "{message}"
    );
    assert!(
        message.contains(
            "  older:       2.1 … 2.0 (2 versions): tag cp313-cp313-manylinux_2_17_x86_64; \
             1.0: Requires-Python: <3\n"
        ),
        "{message}"
    );
}

#[test]
fn build_prints_the_resolution_notes_and_json_carries_them() {
    let index = TestIndex::start();
    index.add_wheel(&native("fallpkg", "2.0"));
    index.add_wheel(&WheelSpec::pure("fallpkg", "1.0").requires_python(">=3.8"));
    let dir = scratch("fallback-build-notes");
    std::fs::write(dir.join("requirements.txt"), "fallpkg\n").unwrap();
    std::fs::write(
        dir.join("app.py"),
        "import fallpkg\nprint(fallpkg.__version__)\n",
    )
    .unwrap();
    let note =
        "fallpkg: using 1.0, not the newest version: 2.0: tag cp313-cp313-manylinux_2_17_x86_64";
    let out = dir.join("app.wasm");
    pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .env("PYEDGE_CACHE_DIR", dir.join("cache"))
        .assert()
        .success()
        .stderr_has(&format!("note: {note}"));
    let run = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ])
        .args(["--index-url", &index.url()])
        .env("PYEDGE_CACHE_DIR", dir.join("cache"))
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).expect("json");
    let notes = doc["notes"].as_array().expect("notes in --json");
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().starts_with(note)),
        "{doc:#}"
    );
}
