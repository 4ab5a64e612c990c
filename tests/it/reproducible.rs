//! Deterministic builds: the same app and runtime give the same bytes from different
//! directories and environments, and nothing of the build machine ends up inside.

use crate::common::{describe, fixture, pyedge, run_component, scratch};
use std::path::Path;

fn copy_app(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn build_with_env(app: &Path, out: &Path, env: &[(&str, &str)], extra: &[&str]) -> Vec<u8> {
    let mut cmd = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(extra);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let output = cmd.output();
    assert!(output.status.success(), "{}", describe(&output));
    std::fs::read(out).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn two_builds_in_different_places_are_byte_identical_and_clean() {
    let root = scratch("reproducible");
    let first_dir = root.join("first-checkout/app");
    let second_dir = root.join("elsewhere/deeper/app");
    copy_app(&fixture("env"), &first_dir);
    copy_app(&fixture("env"), &second_dir);
    let secret = "pyedge-build-secret-4d1f0c";
    let a = build_with_env(
        &first_dir,
        &root.join("a.wasm"),
        &[("PYEDGE_PROBE_SECRET", secret), ("USER", "builder-one")],
        &[],
    );
    let b = build_with_env(
        &second_dir,
        &root.join("b.wasm"),
        &[("USER", "builder-two"), ("TZ", "Asia/Tokyo")],
        &[],
    );
    assert!(a == b, "builds differ ({} vs {} bytes)", a.len(), b.len());
    for leak in [
        root.to_str().unwrap(),
        "first-checkout",
        secret,
        "builder-one",
        env!("CARGO_MANIFEST_DIR"),
        std::env::var("HOME")
            .unwrap_or_else(|_| "/nonexistent-home".into())
            .as_str(),
    ] {
        assert!(!contains(&a, leak), "the component contains {leak:?}");
    }
    // And the component still sees its own host's environment, not the build's.
    let run = run_component(&root.join("a.wasm"), &[], &[("GREETING", "hi")]);
    assert!(run.stdout.contains("keys=GREETING\n"), "{run:?}");
}

#[test]
fn hash_seed_can_be_fixed_or_random() {
    let root = scratch("hash-seed");
    let app = fixture("hello");
    let zero_a = build_with_env(&app, &root.join("zero-a.wasm"), &[], &["--hash-seed", "0"]);
    let zero_b = build_with_env(&app, &root.join("zero-b.wasm"), &[], &["--hash-seed", "0"]);
    assert!(zero_a == zero_b, "a fixed seed must give identical builds");
    let random = build_with_env(
        &app,
        &root.join("random.wasm"),
        &[],
        &["--hash-seed", "random"],
    );
    assert!(random != zero_a, "a random seed should change the snapshot");
    assert_eq!(
        run_component(&root.join("random.wasm"), &["Ada"], &[]).stdout,
        "Hello, Ada!\n"
    );
    let bad = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            root.join("bad.wasm").to_str().unwrap(),
            "--hash-seed",
            "lots",
        ])
        .output();
    assert_eq!(bad.status.code(), Some(2), "{}", describe(&bad));
}
