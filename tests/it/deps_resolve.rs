//! Dependency resolution through the library API, against a simple index on 127.0.0.1.

use crate::deps_support::*;
use pyedge::deps::resolve::Verdict;
use pyedge::deps::{
    check_deps, lock_deps, resolve_for_build, DepsOptions, DepsReport, ResolvedSet,
};
use pyedge::error::{exit_code_of, Exit};
use std::path::Path;

/// Options for an app against `index`, with a private cache.
fn options(app: &Path, index_url: &str, cache: &Path) -> DepsOptions {
    DepsOptions {
        index_url: Some(index_url.to_string()),
        cache_dir: Some(cache.to_path_buf()),
        ..DepsOptions::new(app)
    }
}

fn resolve_ok(opts: &DepsOptions) -> ResolvedSet {
    match resolve_for_build(opts) {
        Ok(Some(set)) => set,
        Ok(None) => panic!("no dependencies found"),
        Err(err) => panic!("resolution failed: {err:#}"),
    }
}

fn report(opts: &DepsOptions) -> DepsReport {
    check_deps(opts)
        .expect("check")
        .expect("dependencies declared")
}

fn versions(set: &ResolvedSet) -> Vec<String> {
    set.packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect()
}

fn failure_of<T: std::fmt::Debug>(result: anyhow::Result<T>) -> (Exit, String) {
    let err = result.expect_err("expected a failure");
    (exit_code_of(&err), format!("{err:#}"))
}

#[test]
fn transitive_chain_resolves_to_pure_wheels() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("alpha", "1.0").requires("beta>=1.0"));
    index.add_wheel(&WheelSpec::pure("beta", "1.2").requires("gamma_lib[fast]"));
    index.add_wheel(&WheelSpec::pure("gamma-lib", "3.0").requires("delta; extra == \"fast\""));
    index.add_wheel(&WheelSpec::pure("delta", "0.1"));
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
    assert_eq!(
        versions(&set),
        ["alpha 1.0", "beta 1.2", "delta 0.1", "gamma-lib 3.0"]
    );
    let delta = &set.packages[2];
    assert_eq!(
        delta.chain,
        ["app", "alpha", "beta", "gamma-lib[fast]", "delta"]
    );
    assert!(delta.wheel_path.is_file());
    assert_eq!(
        delta.sha256,
        sha256_hex(&std::fs::read(&delta.wheel_path).expect("read wheel"))
    );
    assert!(
        delta.source.starts_with(&index.file_url("")),
        "{}",
        delta.source
    );
    assert!(set.notes.is_empty(), "{:?}", set.notes);
}

#[test]
fn marker_excludes_native_dependency_on_wasi() {
    let index = TestIndex::start();
    index.add_wheel(
        &WheelSpec::pure("web", "2.0")
            .requires("fastnative>=1; sys_platform != \"wasi\"")
            .requires("machnative; platform_machine == \"x86_64\"")
            .requires("slowpure; sys_platform == \"wasi\" and python_version >= \"3.13\""),
    );
    index.add_wheel(&WheelSpec::pure("fastnative", "1.0").tag("cp313-cp313-manylinux_2_17_x86_64"));
    index.add_wheel(&WheelSpec::pure("machnative", "1.0").tag("cp313-cp313-manylinux_2_17_x86_64"));
    index.add_wheel(&WheelSpec::pure("slowpure", "1.0"));
    let app = app_dir(&[(
        "requirements.txt",
        "web\nuvloop ; sys_platform != \"wasi\"\n",
    )]);
    let cache = tempfile::tempdir().expect("cache");

    let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
    assert_eq!(versions(&set), ["slowpure 1.0", "web 2.0"]);
    let requested: Vec<String> = index.requests();
    assert!(
        !requested
            .iter()
            .any(|r| r.contains("native") || r.contains("uvloop")),
        "{requested:?}"
    );
}

#[test]
fn falls_back_to_the_newest_pure_version_and_says_so() {
    // With PEP 658 metadata the mis-tagged 1.5 is chosen first and rejected when its wheel
    // is checked; without it, the wheel is checked before it is chosen. Same outcome.
    for core_metadata in [true, false] {
        let index = TestIndex::start();
        index.set_core_metadata(core_metadata);
        index.add_wheel(&WheelSpec::pure("lib", "2.0").tag("cp313-cp313-manylinux_2_17_x86_64"));
        index.add_wheel(&WheelSpec::pure("lib", "1.5").file(
            "lib/_speedups.cpython-313-x86_64-linux-gnu.so",
            b"\x7fELF\x02\x01\x01",
        ));
        index.add_wheel(&WheelSpec::pure("lib", "1.4"));
        index.add_wheel(&WheelSpec::pure("lib", "1.3"));
        let app = app_dir(&[("requirements.txt", "lib>=1\n")]);
        let cache = tempfile::tempdir().expect("cache");

        let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
        assert_eq!(versions(&set), ["lib 1.4"]);
        let note = set.notes.join("\n");
        assert!(
            note.contains("lib: using 1.4, not the newest version"),
            "{note}"
        );
        assert!(
            note.contains("2.0: tag cp313-cp313-manylinux_2_17_x86_64"),
            "{note}"
        );
        assert!(
            note.contains("1.5: file lib/_speedups.cpython-313-x86_64-linux-gnu.so"),
            "{note}"
        );
    }
}

#[test]
fn backtracks_where_a_greedy_choice_would_fail() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("a", "2.0").requires("c==1.0"));
    index.add_wheel(&WheelSpec::pure("a", "1.0").requires("c"));
    index.add_wheel(&WheelSpec::pure("b", "1.0").requires("c==2.0"));
    index.add_wheel(&WheelSpec::pure("c", "1.0"));
    index.add_wheel(&WheelSpec::pure("c", "2.0"));
    let app = app_dir(&[("requirements.txt", "a\nb\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
    assert_eq!(versions(&set), ["a 1.0", "b 1.0", "c 2.0"]);
}

#[test]
fn backtracks_the_parent_when_its_dependency_is_native() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("parent", "2.0").requires("nativecore==2.0"));
    index.add_wheel(&WheelSpec::pure("parent", "1.0"));
    index.add_wheel(&WheelSpec::pure("nativecore", "2.0").tag("cp313-cp313-manylinux_2_17_x86_64"));
    let app = app_dir(&[("requirements.txt", "parent\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
    assert_eq!(versions(&set), ["parent 1.0"]);
    // Backtracking read parent 2.0's metadata file only, never its wheel.
    let requests = index.requests();
    assert!(
        requests.contains(&"GET /files/parent-2.0-py3-none-any.whl.metadata".to_string()),
        "{requests:?}"
    );
    assert!(
        !requests.contains(&"GET /files/parent-2.0-py3-none-any.whl".to_string()),
        "{requests:?}"
    );
    let note = set.notes.join("\n");
    assert!(
        note.contains("parent: using 1.0")
            && note.contains("2.0: depends on nativecore, not pure Python"),
        "{note}"
    );
}

/// pyjwt[crypto] pulls in a native package (here cffi: cryptography itself is substituted,
/// see tests/it/crypto.rs), which has only platform wheels and an sdist.
fn crypto_index() -> TestIndex {
    let index = TestIndex::start();
    index.add_wheel(
        &WheelSpec::pure("PyJWT", "2.10.1")
            .requires("cffi>=1.17; extra == \"crypto\"")
            .requires_python(">=3.9"),
    );
    for tag in [
        "cp39-abi3-manylinux_2_28_x86_64",
        "cp39-abi3-macosx_10_9_universal2",
        "cp39-abi3-win_amd64",
    ] {
        index.add_wheel(&WheelSpec::pure("cffi", "1.17.1").tag(tag));
    }
    index.add_file("cffi", "cffi-1.17.1.tar.gz", b"sdist".to_vec());
    index
}

#[test]
fn rejection_names_package_version_chain_tag_and_hint() {
    let index = crypto_index();
    let app = app_dir(&[("requirements.txt", "pyjwt[crypto]>=2\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());

    let (exit, message) = failure_of(resolve_for_build(&opts));
    assert_eq!(exit, Exit::DependencyRejected);
    for expected in [
        "cffi 1.17.1",
        "app → pyjwt[crypto] → cffi",
        "tag cp39-abi3-macosx_10_9_universal2 (cffi-1.17.1-cp39-abi3-macosx_10_9_universal2.whl) and 2 more",
        "only platform-specific wheels",
        "hint:",
        "drop the extra that pulls it in (`pyjwt[crypto]`)",
    ] {
        assert!(message.contains(expected), "missing {expected:?} in:\n{message}");
    }

    let report = report(&opts);
    let verdicts: Vec<(String, bool)> = report
        .packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                matches!(p.verdict, Verdict::Pure { .. }),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [("cffi".to_string(), false), ("pyjwt".to_string(), true)]
    );
}

#[test]
fn sdist_only_is_rejected_saying_so() {
    let index = TestIndex::start();
    index.add_file("oldlib", "oldlib-0.9.tar.gz", b"sdist".to_vec());
    let app = app_dir(&[("requirements.txt", "oldlib\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let (exit, message) = failure_of(resolve_for_build(&options(
        app.path(),
        &index.url(),
        cache.path(),
    )));
    assert_eq!(exit, Exit::DependencyRejected);
    assert!(
        message.contains("oldlib 0.9: no wheel, only a source distribution (sdist-only)"),
        "{message}"
    );
    assert!(message.contains("file oldlib-0.9.tar.gz"), "{message}");
    assert!(message.contains("--find-links"), "{message}");
}

#[test]
fn mis_tagged_and_unsafe_wheels_are_rejected_naming_the_wheel() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("platlib", "1.0").not_purelib());
    // Compiled code under an innocent name: caught by content, not by the name.
    index.add_wheel(
        &WheelSpec::pure("hidden", "1.0").file("hidden/data.bin", b"\x7fELF\x02\x01\x01\x00"),
    );
    let (slip_name, slip) = zip_slip_wheel("slippery", "1.0");
    index.add_file("slippery", &slip_name, slip);
    index.add_file(
        "broken",
        "broken-1.0-py3-none-any.whl",
        b"PK\x03\x04 this is not a zip".to_vec(),
    );
    let (bomb_name, bomb) = zip_bomb_wheel("bomb", "1.0");
    index.add_file("bomb", &bomb_name, bomb);
    let app = app_dir(&[(
        "requirements.txt",
        "platlib\nhidden\nslippery\nbroken\nbomb\n",
    )]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());

    let (exit, message) = failure_of(resolve_for_build(&opts));
    assert_eq!(exit, Exit::DependencyRejected);
    for expected in [
        "5 dependencies are not pure Python",
        "platlib-1.0-py3-none-any.whl says Root-Is-Purelib: false",
        "hidden-1.0-py3-none-any.whl is tagged pure but contains compiled code",
        "file hidden/data.bin",
        "slippery-1.0-py3-none-any.whl: entry `../../evil.py` escapes the install directory (zip-slip)",
        "broken-1.0-py3-none-any.whl: corrupt zip archive",
        "bomb-1.0-py3-none-any.whl: refused as a zip bomb: `bomb/zeros.bin`",
    ] {
        assert!(message.contains(expected), "missing {expected:?} in:\n{message}");
    }
}

#[test]
fn unreachable_index_exits_5_naming_the_url() {
    let url = unreachable_index_url();
    let app = app_dir(&[("requirements.txt", "anything\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let (exit, message) = failure_of(resolve_for_build(&options(app.path(), &url, cache.path())));
    assert_eq!(exit, Exit::Resolution);
    assert!(
        message.contains(&format!(
            "cannot reach the package index at {url}/anything/"
        )),
        "{message}"
    );
    assert!(message.contains("after 3 attempts"), "{message}");
}

#[test]
fn unknown_package_exits_5() {
    let index = TestIndex::start();
    let app = app_dir(&[("requirements.txt", "nosuchthing\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let (exit, message) = failure_of(resolve_for_build(&options(
        app.path(),
        &index.url(),
        cache.path(),
    )));
    assert_eq!(exit, Exit::Resolution);
    assert!(
        message.contains("no package named `nosuchthing`"),
        "{message}"
    );
}

#[test]
fn conflicting_requirements_exit_5_with_an_explanation() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("a", "1.0").requires("c<2"));
    index.add_wheel(&WheelSpec::pure("c", "1.0"));
    index.add_wheel(&WheelSpec::pure("c", "2.0"));
    let app = app_dir(&[("requirements.txt", "a\nc>=2\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let (exit, message) = failure_of(resolve_for_build(&options(
        app.path(),
        &index.url(),
        cache.path(),
    )));
    assert_eq!(exit, Exit::Resolution);
    assert!(message.contains("cannot be resolved"), "{message}");
}

#[test]
fn index_hash_mismatch_exits_5() {
    let index = TestIndex::start();
    let spec = WheelSpec::pure("solid", "1.0");
    index.add_wheel(&spec);
    index.tamper(
        &spec.filename(),
        WheelSpec::pure("solid", "1.0")
            .file("solid/extra.py", b"x = 1\n")
            .build(),
    );
    let app = app_dir(&[("requirements.txt", "solid\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let (exit, message) = failure_of(resolve_for_build(&options(
        app.path(),
        &index.url(),
        cache.path(),
    )));
    assert_eq!(exit, Exit::Resolution);
    assert!(
        message.contains("hash mismatch for solid-1.0-py3-none-any.whl"),
        "{message}"
    );
    assert!(message.contains("the index promises sha256"), "{message}");
}

#[test]
fn requirements_hash_mismatch_exits_5() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("pinned", "1.0"));
    let wrong = "0".repeat(64);
    let app = app_dir(&[(
        "requirements.txt",
        &format!("pinned==1.0 \\\n    --hash=sha256:{wrong}\n"),
    )]);
    let cache = tempfile::tempdir().expect("cache");

    let (exit, message) = failure_of(resolve_for_build(&options(
        app.path(),
        &index.url(),
        cache.path(),
    )));
    assert_eq!(exit, Exit::Resolution);
    assert!(
        message.contains(
            "hash mismatch for pinned-1.0-py3-none-any.whl: requirements.txt:1 allows sha256 000"
        ),
        "{message}"
    );

    let spec = WheelSpec::pure("pinned", "1.0");
    let right = sha256_hex(&spec.build());
    std::fs::write(
        app.path().join("requirements.txt"),
        format!("pinned==1.0 --hash=sha256:{right}\n"),
    )
    .expect("write");
    assert_eq!(
        versions(&resolve_ok(&options(
            app.path(),
            &index.url(),
            cache.path()
        ))),
        ["pinned 1.0"]
    );
}

#[test]
fn offline_without_cache_exits_5() {
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = DepsOptions {
        offline: true,
        ..options(app.path(), &unreachable_index_url(), cache.path())
    };
    let (exit, message) = failure_of(resolve_for_build(&opts));
    assert_eq!(exit, Exit::Resolution);
    assert!(message.contains("no files for `alpha`"), "{message}");
    assert!(message.contains("--offline forbids the index"), "{message}");
}

#[test]
fn offline_with_cache_resolves_without_the_network() {
    let cache = tempfile::tempdir().expect("cache");
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let online = {
        let index = TestIndex::start();
        index.add_wheel(&WheelSpec::pure("alpha", "1.0").requires("beta"));
        index.add_wheel(&WheelSpec::pure("beta", "2.0"));
        resolve_ok(&options(app.path(), &index.url(), cache.path()))
    };
    // The index is gone now; offline must not try to reach it.
    let opts = DepsOptions {
        offline: true,
        ..options(app.path(), &unreachable_index_url(), cache.path())
    };
    let offline = resolve_ok(&opts);
    assert_eq!(versions(&offline), ["alpha 1.0", "beta 2.0"]);
    assert_eq!(offline.packages[0].sha256, online.packages[0].sha256);
    assert_eq!(offline.packages[0].source, online.packages[0].source);
}

#[test]
fn lock_then_locked_installs_exactly_the_lock() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("alpha", "1.0"));
    let app = app_dir(&[("requirements.txt", "alpha>=1\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());

    lock_deps(&opts).expect("lock").expect("report");
    let lock_text = std::fs::read_to_string(app.path().join("pyedge.lock")).expect("lock written");
    assert!(
        lock_text.contains("name = \"alpha\"") && lock_text.contains("version = \"1.0\""),
        "{lock_text}"
    );
    assert!(
        lock_text.contains("chain = [\n    \"app\",\n    \"alpha\",\n]")
            || lock_text.contains("chain = [\"app\", \"alpha\"]"),
        "{lock_text}"
    );

    index.add_wheel(&WheelSpec::pure("alpha", "1.1"));
    let locked = DepsOptions {
        locked: true,
        ..opts.clone()
    };
    assert_eq!(versions(&resolve_ok(&locked)), ["alpha 1.0"]);
    assert_eq!(versions(&resolve_ok(&opts)), ["alpha 1.1"]);
}

#[test]
fn stale_lock_exits_5() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("alpha", "1.0"));
    index.add_wheel(&WheelSpec::pure("beta", "1.0"));
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    lock_deps(&opts).expect("lock");

    std::fs::write(app.path().join("requirements.txt"), "alpha\nbeta\n").expect("write");
    let locked = DepsOptions {
        locked: true,
        ..opts
    };
    let (exit, message) = failure_of(resolve_for_build(&locked));
    assert_eq!(exit, Exit::Resolution);
    assert!(message.contains("pyedge.lock is stale"), "{message}");
    assert!(message.contains("not in the lock: `beta`"), "{message}");
}

#[test]
fn locked_hash_mismatch_exits_5() {
    let index = TestIndex::start();
    let spec = WheelSpec::pure("alpha", "1.0");
    index.add_wheel(&spec);
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    lock_deps(&opts).expect("lock");

    let lock_path = app.path().join("pyedge.lock");
    let real = sha256_hex(&spec.build());
    let text = std::fs::read_to_string(&lock_path).expect("read lock");
    std::fs::write(&lock_path, text.replace(&real, &"ab".repeat(32))).expect("write lock");
    let locked = DepsOptions {
        locked: true,
        ..opts
    };
    let (exit, message) = failure_of(resolve_for_build(&locked));
    assert_eq!(exit, Exit::Resolution);
    assert!(
        message.contains("hash mismatch for alpha-1.0-py3-none-any.whl"),
        "{message}"
    );
    assert!(
        message.contains("pyedge.lock promises sha256 abab"),
        "{message}"
    );
}

#[test]
fn lock_is_not_written_when_a_dependency_is_rejected() {
    let index = crypto_index();
    let app = app_dir(&[("requirements.txt", "pyjwt[crypto]\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let report = lock_deps(&options(app.path(), &index.url(), cache.path()))
        .expect("lock")
        .expect("report");
    assert_eq!(report.rejected().count(), 1);
    assert!(!app.path().join("pyedge.lock").exists());
}

#[test]
fn json_simple_api_is_preferred() {
    let index = TestIndex::start();
    index.set_json(true);
    index.add_wheel(&WheelSpec::pure("alpha", "1.0").requires("beta"));
    index.add_wheel(&WheelSpec::pure("beta", "1.0"));
    let app = app_dir(&[("requirements.txt", "alpha\n")]);
    let cache = tempfile::tempdir().expect("cache");
    assert_eq!(
        versions(&resolve_ok(&options(
            app.path(),
            &index.url(),
            cache.path()
        ))),
        ["alpha 1.0", "beta 1.0"]
    );
}

#[test]
fn requires_python_and_yanked_versions_are_skipped() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("modern", "3.0").requires_python(">=3.14"));
    let mut yanked = Dist::new(
        &WheelSpec::pure("modern", "2.5").filename(),
        WheelSpec::pure("modern", "2.5").build(),
    );
    yanked.yanked = true;
    index.add("modern", yanked);
    index.add_wheel(&WheelSpec::pure("modern", "2.0").requires_python(">=3.8"));
    index.add_wheel(&WheelSpec::pure("modern", "2.1rc1"));
    let app = app_dir(&[("requirements.txt", "modern\n")]);
    let cache = tempfile::tempdir().expect("cache");

    let set = resolve_ok(&options(app.path(), &index.url(), cache.path()));
    assert_eq!(versions(&set), ["modern 2.0"]);
    let note = set.notes.join("\n");
    assert!(note.contains("3.0: Requires-Python: >=3.14"), "{note}");
}

#[test]
fn find_links_directory_works_without_an_index() {
    let wheels = tempfile::tempdir().expect("wheels");
    WheelSpec::pure("local-lib", "0.3")
        .requires("helper")
        .write_to(wheels.path());
    WheelSpec::pure("helper", "1.0").write_to(wheels.path());
    let app = app_dir(&[("requirements.txt", "--no-index\nlocal_lib\n")]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = DepsOptions {
        find_links: vec![wheels.path().to_path_buf()],
        cache_dir: Some(cache.path().to_path_buf()),
        ..DepsOptions::new(app.path())
    };
    let set = resolve_ok(&opts);
    assert_eq!(versions(&set), ["helper 1.0", "local-lib 0.3"]);
    assert!(set.packages[1].wheel_path.starts_with(wheels.path()));
}

#[test]
fn pyproject_extra_pulls_in_its_group() {
    let index = TestIndex::start();
    index.add_wheel(&WheelSpec::pure("alpha", "1.0"));
    index.add_wheel(&WheelSpec::pure("beta", "1.0"));
    let app = app_dir(&[(
        "pyproject.toml",
        "[project]\nname = \"gate\"\nversion = \"0\"\ndependencies = [\"alpha\"]\n\n[project.optional-dependencies]\nfast = [\"beta\"]\n",
    )]);
    let cache = tempfile::tempdir().expect("cache");
    let opts = options(app.path(), &index.url(), cache.path());
    assert_eq!(versions(&resolve_ok(&opts)), ["alpha 1.0"]);
    let with_extra = DepsOptions {
        extras: vec!["fast".into()],
        ..opts
    };
    let set = resolve_ok(&with_extra);
    assert_eq!(versions(&set), ["alpha 1.0", "beta 1.0"]);
    assert_eq!(set.packages[1].chain, ["gate", "beta"]);
}

#[test]
fn an_app_without_dependencies_resolves_to_none() {
    let app = app_dir(&[("app.py", "print('hi')\n")]);
    let opts = DepsOptions::new(app.path());
    assert_eq!(resolve_for_build(&opts).expect("resolve"), None);
}
