//! Output to a closed pipe or a full disk: the commands end quietly (closed pipe, status
//! 0) or say once that stdout cannot be written (exit 1), never with a panic.

use crate::common::{built, describe, pyedge, scratch};
use std::process::Output;

/// Run `pyedge ARGS` with stdout a pipe whose reading end is already closed.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    pyedge().args(args).stdout(writer).output()
}

/// Run `pyedge ARGS` with stdout on `/dev/full` (every write fails with ENOSPC).
fn with_full_stdout(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    pyedge().args(args).stdout(full).output()
}

fn assert_quiet_success(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    assert!(output.stderr.is_empty(), "{}", describe(output));
}

fn assert_says_stdout_is_full(output: &Output) {
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: cannot write to standard output: No space left on device"),
        "{}",
        describe(output)
    );
    assert!(!stderr.contains("panicked"), "{}", describe(output));
}

#[test]
fn inspect_to_a_closed_pipe_or_a_full_disk() {
    let wasm = built("hello", &[]);
    let wasm = wasm.to_str().unwrap();
    for args in [
        vec!["inspect", wasm],
        vec!["inspect", wasm, "--json"],
        vec!["inspect", wasm, "--files"],
    ] {
        assert_quiet_success(&with_closed_stdout(&args));
        assert_says_stdout_is_full(&with_full_stdout(&args));
    }
}

#[test]
fn check_deps_json_to_a_closed_pipe_or_a_full_disk() {
    let app = crate::common::fixture("hello");
    let args = ["check-deps", app.to_str().unwrap(), "--json"];
    assert_quiet_success(&with_closed_stdout(&args));
    assert_says_stdout_is_full(&with_full_stdout(&args));
}

#[test]
fn build_json_to_a_closed_pipe_or_a_full_disk() {
    let dir = scratch("output-build-json");
    let out = dir.join("app.wasm");
    let app = crate::common::fixture("hello");
    let args = [
        "build",
        app.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--json",
    ];
    assert_quiet_success(&with_closed_stdout(&args));
    assert!(out.is_file(), "the component is written before the summary");
    assert_says_stdout_is_full(&with_full_stdout(&args));
}

#[test]
fn quiet_builds_print_nothing_on_stderr() {
    let dir = scratch("output-build-quiet");
    let out = dir.join("app.wasm");
    let app = crate::common::fixture("hello");
    let run = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ])
        .assert()
        .success()
        .stdout_has("budget");
    assert!(run.output.stderr.is_empty(), "{}", run.describe());
}

#[test]
fn version_names_the_cpython_runtime_and_its_content_hash() {
    let run = pyedge().arg("--version").assert().success();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(pyedge::runtime::PROVENANCE.as_bytes());
    let expected = format!(
        "pyedge {} (CPython 3.13.5 for wasm32-wasi, runtime {})\n",
        env!("CARGO_PKG_VERSION"),
        &hex::encode(digest)[..12]
    );
    assert_eq!(run.stdout(), expected);
}
