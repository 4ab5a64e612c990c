//! `pyedge build` for script apps, end to end: build fixture apps with the real binary,
//! run the components in Wasmtime, check what they print and how they exit.

use crate::common::{built, describe, fixture, pyedge, run_component, scratch};
use std::path::Path;

#[test]
fn hello_runs_main_with_argv() {
    let wasm = built("hello", &[]);
    let run = run_component(&wasm, &["Ada", "Grace"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Hello, Ada!\nHello, Grace!\n");
    assert_eq!(run.stderr, "argv=['Ada', 'Grace']\n");
}

#[test]
fn hello_without_snapshot_runs_the_same() {
    let wasm = built("hello", &["--no-snapshot"]);
    let run = run_component(&wasm, &["Linus"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Hello, Linus!\n");
}

/// wasi:cli@0.2's `exit` carries success or failure only (`exit-with-code` is still an
/// unstable host feature), so any non-zero status reaches the host as failure (1).
#[test]
fn sys_exit_status_is_passed_through() {
    let wasm = built("exit-code", &[]);
    let run = run_component(&wasm, &["7"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("exiting with the code"), "{run:?}");
    assert_eq!(run_component(&wasm, &["0"], &[]).code, 0);
}

#[test]
fn uncaught_exception_prints_traceback_and_exits_1() {
    let wasm = built("crash", &[]);
    let run = run_component(&wasm, &[], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "about to fail\n");
    assert!(
        run.stderr.contains("Traceback (most recent call last)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/app/app.py\", line 2, in divide"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ZeroDivisionError: division by zero"),
        "{}",
        run.stderr
    );
}

#[test]
fn stdlib_modules_import_lazily_with_no_filesystem() {
    let wasm = built("lazy-import", &[]);
    let run = run_component(&wasm, &[], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json line");
    assert_eq!(doc["decimal"], "0.3");
    let expected = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"pyedge"));
    assert_eq!(doc["sha256"], expected[..16]);
    assert_eq!(doc["zlib"], 1000);
    assert_eq!(doc["unicodedata"], "LATIN SMALL LETTER E WITH ACUTE");
    assert_eq!(doc["date"], "2024-02-29");
    assert_eq!(doc["asyncio"], 42);
    assert_eq!(doc["zoneinfo"], "zoneinfo");
}

/// `stdlib = "reachable"` leaves out what no import statement reaches. Importing such a
/// module by a computed name fails with a hint naming the fix, and `stdlib-include`
/// brings it back.
#[test]
fn omitted_stdlib_module_names_the_fix_and_stdlib_include_keeps_it() {
    let wasm = built("dynamic-import", &[]);
    let reached = run_component(&wasm, &["json"], &[]);
    assert_eq!(reached.code, 0, "{reached:?}");
    assert_eq!(reached.stdout, "imported json\n");

    let omitted = run_component(&wasm, &["doctest"], &[]);
    assert_eq!(omitted.code, 1, "{omitted:?}");
    assert!(
        omitted
            .stderr
            .contains("ModuleNotFoundError: No module named 'doctest'"),
        "{}",
        omitted.stderr
    );
    assert!(
        omitted
            .stderr
            .contains("pyedge: 'doctest' is in the standard library but not in this build")
            && omitted.stderr.contains("[tool.pyedge] stdlib-include"),
        "{}",
        omitted.stderr
    );
    // The modules the interpreter imports from frozen code as it starts are in every
    // instance, though the bundle carries neither their source nor the frozen code.
    for module in pyedge::stdlib::STDLIB_FROZEN_AT_START {
        let run = run_component(&wasm, &[module], &[]);
        assert_eq!(run.code, 0, "{module}: {run:?}");
        // (`_collections_abc` calls itself `collections.abc`.)
        assert!(run.stdout.starts_with("imported "), "{module}: {run:?}");
    }
    // An optional C module nothing imports is left out of the build, with the same hint.
    let left_out = run_component(&wasm, &["unicodedata"], &[]);
    assert_eq!(left_out.code, 1, "{left_out:?}");
    assert!(
        left_out
            .stderr
            .contains("ModuleNotFoundError: No module named 'unicodedata'")
            && left_out
                .stderr
                .contains("pyedge: 'unicodedata' is in the standard library but not in this build"),
        "{}",
        left_out.stderr
    );
    let unknown = run_component(&wasm, &["no_such_module"], &[]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(
        !unknown.stderr.contains("stdlib-include"),
        "a module that is not in the stdlib got the hint: {}",
        unknown.stderr
    );

    let dir = scratch("dynamic-import-include");
    std::fs::copy(fixture("dynamic-import").join("app.py"), dir.join("app.py")).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"dynamic-import\"\nversion = \"0.1.0\"\n\n[tool.pyedge]\nstdlib-include = [\"doctest\", \"unicodedata\", \"runpy\"]\n",
    )
    .unwrap();
    let out = dir.join("app.wasm");
    let build = pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output();
    assert!(build.status.success(), "{}", describe(&build));
    let included = run_component(&out, &["doctest"], &[]);
    assert_eq!(included.code, 0, "{included:?}");
    assert_eq!(included.stdout, "imported doctest\n");
    let kept = run_component(&out, &["unicodedata"], &[]);
    assert_eq!(kept.code, 0, "{kept:?}");
    assert_eq!(kept.stdout, "imported unicodedata\n");
    // A frozen module the snapshot did not import loads from the bundle's source.
    let runpy = run_component(&out, &["runpy"], &[]);
    assert_eq!(runpy.code, 0, "{runpy:?}");
    assert_eq!(runpy.stdout, "imported runpy\n");
}

#[test]
fn codecs_named_by_literals_are_kept_and_others_name_the_fix() {
    let wasm = built("codecs", &[]);
    let run = run_component(&wasm, &["utf-32", "mac-roman", "no-such-codec"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "Grüße b'caf\\xe9'", "{run:?}");
    assert_eq!(lines[1], "äö", "{run:?}");
    assert!(
        lines[2].starts_with("utf-32 b'\\xff\\xfe\\x00\\x00G"),
        "{run:?}"
    );
    // A legacy code page no literal names: left out, and the error says how to keep it.
    assert!(
        lines[3].starts_with("LookupError: unknown encoding: mac_roman (pyedge:")
            && lines[3].contains("\"encodings.mac_roman\" to [tool.pyedge] stdlib-include"),
        "{run:?}"
    );
    // Not a codec at all: Python's own error, no hint.
    assert_eq!(
        lines[4], "LookupError: unknown encoding: no-such-codec",
        "{run:?}"
    );

    let dir = scratch("codecs-include");
    std::fs::copy(fixture("codecs").join("app.py"), dir.join("app.py")).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"codecs\"\nversion = \"0.1.0\"\n\n[tool.pyedge]\nstdlib-include = [\"encodings.mac_roman\"]\n",
    )
    .unwrap();
    let out = dir.join("app.wasm");
    let build = pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output();
    assert!(build.status.success(), "{}", describe(&build));
    let included = run_component(&out, &["mac-roman"], &[]);
    assert_eq!(included.code, 0, "{included:?}");
    assert!(
        included.stdout.ends_with("mac-roman b'Gr\\x9f\\xa7e'\n"),
        "{included:?}"
    );
}

#[test]
fn random_differs_between_two_runs_of_one_component() {
    let wasm = built("random", &[]);
    let first = run_component(&wasm, &[], &[]);
    let second = run_component(&wasm, &[], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let a: Vec<&str> = first.stdout.split_whitespace().collect();
    let b: Vec<&str> = second.stdout.split_whitespace().collect();
    assert_eq!(a.len(), 3, "{first:?}");
    for i in 0..3 {
        assert_ne!(a[i], b[i], "value {i} repeated across instances: {a:?}");
    }
}

#[test]
fn environment_comes_from_the_host_at_run_time() {
    let wasm = built("env", &[]);
    let run = run_component(&wasm, &[], &[("GREETING", "bonjour"), ("ZONE", "eu")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("GREETING=bonjour\n"), "{run:?}");
    assert!(
        run.stdout.contains("keys=GREETING,ZONE\n"),
        "build-time environment leaked: {run:?}"
    );
    let bare = run_component(&wasm, &[], &[]);
    assert!(
        bare.stdout.contains("GREETING=<unset>\nkeys=\n"),
        "{bare:?}"
    );
}

#[test]
fn script_without_main_runs_its_body_at_run_time_only() {
    let wasm = built("script", &[]);
    let run = run_component(&wasm, &["x", "y"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "script body ran with [\"x\", \"y\"]\n__name__ = __main__\n"
    );
}

#[test]
fn syntax_error_fails_the_build_with_file_and_line() {
    let dir = scratch("syntax-error");
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            fixture("syntax-error").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/app/app.py\", line 4"), "{stderr}");
    assert!(stderr.contains("SyntaxError"), "{stderr}");
    assert!(!out.exists(), "a failed build left {}", out.display());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

#[test]
fn import_time_exception_fails_the_build_with_the_traceback() {
    let dir = scratch("import-error");
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            fixture("import-error").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("importing the app failed at build time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/app/helper.py\", line 2, in load_config"),
        "{stderr}"
    );
    assert!(
        stderr.contains("RuntimeError: config server unreachable at import time"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn missing_entry_names_the_file_and_exits_2() {
    let dir = scratch("missing-entry");
    let output = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            dir.join("x.wasm").to_str().unwrap(),
        ])
        .output();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "entry file not found: {}",
            dir.join("app.py").display()
        )),
        "{stderr}"
    );
}

#[test]
fn bad_pyproject_names_the_file_and_exits_2() {
    let dir = scratch("bad-config");
    std::fs::write(dir.join("app.py"), "def main():\n    pass\n").unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[tool.pyedge]\nentry = \"app\"\nbudgit = \"1MB\"\n",
    )
    .unwrap();
    let output = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            dir.join("x.wasm").to_str().unwrap(),
        ])
        .output();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pyproject.toml: invalid [tool.pyedge]"),
        "{stderr}"
    );
    assert!(stderr.contains("budgit"), "{stderr}");
}

#[test]
fn over_budget_exits_3_with_the_numbers_and_writes_nothing() {
    let dir = scratch("over-budget");
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            fixture("hello").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--budget",
            "1MB",
        ])
        .output();
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("over the budget of 1000000 bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("snapshot memory"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn json_report_parses_and_adds_up() {
    let dir = scratch("json");
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            fixture("hello").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["world"], "cli");
    let total = doc["size"]["total"].as_u64().unwrap();
    assert_eq!(total, std::fs::metadata(&out).unwrap().len());
    let parts = doc["size"]["parts"].as_array().unwrap();
    let top: u64 = parts
        .iter()
        .filter(|p| !p["name"].as_str().unwrap().starts_with(' '))
        .map(|p| p["raw"].as_u64().unwrap())
        .sum();
    assert_eq!(top, total, "parts do not add up: {parts:?}");
    assert_eq!(doc["size"]["budget"], 50_000_000);
    assert!(doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["stage"] == "pre-initialize"));
}

#[test]
fn inspect_describes_a_component_and_refuses_other_files() {
    let wasm = built("hello", &[]);
    let output = pyedge()
        .args(["inspect", wasm.to_str().unwrap(), "--json"])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(doc["component"], true);
    assert_eq!(doc["size"], std::fs::metadata(&wasm).unwrap().len());
    let exports: Vec<&str> = doc["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        exports.iter().any(|e| e.starts_with("wasi:cli/run@")),
        "{exports:?}"
    );
    assert!(doc["snapshot_memory"].as_u64().unwrap() > 1_000_000);

    let dir = scratch("inspect-garbage");
    let garbage = dir.join("notes.wasm");
    std::fs::write(&garbage, "not wasm at all").unwrap();
    let output = pyedge()
        .args(["inspect", garbage.to_str().unwrap()])
        .output();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a WebAssembly file"));
}

/// `pyedge build --json` with its own cache dir; returns the JSON and the output's bytes.
fn build_with_cache(app: &Path, cache: &Path, out: &Path) -> (serde_json::Value, Vec<u8>) {
    let output = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ])
        .env("PYEDGE_CACHE_DIR", cache)
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let doc = serde_json::from_slice(&output.stdout).expect("one JSON document");
    (doc, std::fs::read(out).unwrap())
}

/// Pre-initialization is cached by the module's hash: a second build of the same app
/// reuses the snapshot and writes the same bytes; a damaged entry is ignored and replaced.
#[test]
fn snapshot_cache_reuses_and_survives_damage() {
    let cache = scratch("snapshot-cache");
    let out = scratch("snapshot-cache-out").join("app.wasm");
    let app = fixture("hello");
    let (first, bytes) = build_with_cache(&app, &cache, &out);
    assert_eq!(first["snapshot_cached"], false);
    let (second, again) = build_with_cache(&app, &cache, &out);
    assert_eq!(second["snapshot_cached"], true);
    assert!(bytes == again, "a cached snapshot changed the output");

    let entries: Vec<_> = std::fs::read_dir(cache.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut damaged = std::fs::read(&entries[0]).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::write(&entries[0], damaged).unwrap();
    let (third, rebuilt) = build_with_cache(&app, &cache, &out);
    assert_eq!(third["snapshot_cached"], false, "a damaged entry was used");
    assert!(bytes == rebuilt);
    assert_eq!(
        build_with_cache(&app, &cache, &out).0["snapshot_cached"],
        true
    );
}

/// The snapshot holds the app's live heap only: what the app freed while importing is
/// cleared before the snapshot (it does not reach the component), and what it kept is
/// immortal (requests do not write its reference counts).
#[test]
fn snapshot_keeps_live_objects_immortal_and_drops_freed_memory() {
    let app = scratch("settled-heap");
    std::fs::write(
        app.join("app.py"),
        "import sys\n\
         # 24 MB of non-zero bytes, freed before the snapshot is taken\n\
         junk = [bytes([i % 251 + 1]) * 4000 for i in range(6000)]\n\
         del junk\n\
         SETTINGS = {'greeting': 'hi'}\n\
         def main():\n\
         \x20   print(sys.getrefcount(SETTINGS), SETTINGS['greeting'])\n",
    )
    .unwrap();
    let out = app.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let memory = doc["size"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "snapshot memory")
        .unwrap()["raw"]
        .as_u64()
        .unwrap();
    assert!(
        memory < 12_000_000,
        "freed memory reached the snapshot: {memory} bytes"
    );
    let run = run_component(&out, &[], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // An immortal object's count is CPython's fixed immortal value (2**30 - 1 on wasm32).
    assert_eq!(run.stdout, format!("{} hi\n", (1u64 << 30) - 1), "{run:?}");
}

/// `preimport = "reachable"` (the default): the modules main() imports are in the
/// snapshot before it runs, except those whose import the snapshot would get wrong —
/// they stay lazy, `build -v` says why, and they run on the host's clock, environment
/// and randomness, printing and failing at run time as written.
#[test]
fn imports_inside_functions_are_preimported_when_safe() {
    let dir = scratch("preimport-reachable");
    let out = dir.join("app.wasm");
    let app = fixture("preimport");
    let build = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-v",
        ])
        .output();
    assert!(build.status.success(), "{}", describe(&build));
    let text = String::from_utf8_lossy(&build.stdout);
    let lazy: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("left lazy (7 of "))
        .skip(1)
        .take(7)
        .collect();
    assert_eq!(
        lazy,
        [
            "  broken: ValueError: broken on purpose",
            "  cProfile: imports cProfile, profile (a development tool: the edge never runs it)",
            "  clocky: reads the clock at import (the snapshot's clock is the build's)",
            "  devtool: imports cProfile, profile (a development tool: the edge never runs it)",
            "  envy: reads os.environ at import (GREETING): the host's comes at run time",
            "  noisy: writes to stdout or stderr at import",
            "  randy: reads random bytes at import (the snapshot's would be the build's)",
        ],
        "{text}"
    );

    let run = run_component(&out, &[], &[("GREETING", "hi")]);
    assert_eq!(run.code, 0, "{run:?}");
    // Nothing the build printed or told pyedge reaches the run's output.
    let (first, json) = run.stdout.split_once('\n').expect("two lines");
    assert_eq!(first, "noisy imported", "{run:?}");
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("json line");
    assert_eq!(doc["at_import"], serde_json::json!([]));
    assert_eq!(
        doc["loaded"],
        serde_json::json!(["decimal", "helpers", "statistics"])
    );
    assert_eq!(doc["mean"], "2");
    assert_eq!(doc["helper"], 42);
    assert_eq!(doc["env"], "hi");
    assert_eq!(doc["random"], 32);
    assert_eq!(doc["broken"], "broken on purpose");
    // The bytecode of what the build left lazy is in the snapshot: importing those modules
    // compiled none of them (tokenize, which linecache imports inside a function to read
    // the traceback's source, was left lazy by no build decision and compiles), and a
    // traceback still shows their source. A development tool gets no bytecode (the edge
    // never runs it): devtool and the profilers it imports compile as before.
    let compiled = doc["compiled"].as_array().expect("compiled");
    assert_compiled(
        &doc,
        &[
            "/app/devtool.py",
            "/lib/python3.13/cProfile.py",
            "/lib/python3.13/profile.py",
        ],
    );
    for lazy in ["clocky", "envy", "noisy", "randy", "broken"] {
        assert!(
            !compiled
                .iter()
                .any(|f| f.as_str().unwrap().ends_with(&format!("/{lazy}.py"))),
            "{lazy} compiled: {run:?}"
        );
    }
    assert_eq!(
        doc["broken_line"],
        "raise ValueError(\"broken on purpose\")"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("bytecode of 5 bundle modules not in the snapshot: ")),
        "{text}"
    );
    assert_eq!(doc["devtool"], "cProfile");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let clock = doc["clock"].as_f64().expect("clock");
    assert!(
        (now - clock).abs() < 600.0,
        "clocky ran at {clock}, now {now}"
    );
    // A second run draws its own random bytes (randy was not snapshotted).
    let again = run_component(&out, &[], &[]);
    let doc2: serde_json::Value =
        serde_json::from_str(again.stdout.lines().nth(1).expect("json")).expect("json line");
    assert_eq!(doc2["env"], "unset");
}

/// `preimport = "top-level"`: only what importing the app imports is in the snapshot, and
/// the other imports compile their source (nothing was left lazy by the build).
#[test]
fn preimport_top_level_leaves_function_imports_lazy() {
    let (out, build) = build_preimport_fixture("preimport-top-level", "preimport = \"top-level\"");
    assert!(build.status.success(), "{}", describe(&build));
    assert!(
        !String::from_utf8_lossy(&build.stdout).contains("left lazy"),
        "{}",
        describe(&build)
    );
    let run = run_component(&out, &[], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value =
        serde_json::from_str(run.stdout.lines().nth(1).expect("json")).expect("json line");
    assert_eq!(doc["loaded"], serde_json::json!([]));
    assert_eq!(doc["mean"], "2");
    assert_compiled(&doc, &["/app/helpers.py", "/lib/python3.13/statistics.py"]);
    assert!(
        !String::from_utf8_lossy(&build.stdout).contains("lazy bytecode"),
        "{}",
        describe(&build)
    );
}

/// `lazy-bytecode = false`: the modules the build left lazy compile their source at run
/// time, and the size report has no bytecode line.
#[test]
fn lazy_bytecode_off_leaves_lazy_modules_source() {
    let (out, build) = build_preimport_fixture("lazy-bytecode-off", "lazy-bytecode = false");
    assert!(build.status.success(), "{}", describe(&build));
    let text = String::from_utf8_lossy(&build.stdout);
    assert!(text.contains("left lazy (7 of "), "{text}");
    assert!(!text.contains("lazy bytecode"), "{text}");
    assert!(!text.contains("bytecode of "), "{text}");
    let run = run_component(&out, &[], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc: serde_json::Value =
        serde_json::from_str(run.stdout.lines().nth(1).expect("json")).expect("json line");
    assert_compiled(&doc, &["/app/clocky.py", "/lib/python3.13/cProfile.py"]);
    assert_eq!(
        doc["broken_line"],
        "raise ValueError(\"broken on purpose\")"
    );
}

/// Build a copy of the preimport fixture with `tool` as its `[tool.pyedge]` table (`-v`):
/// the component's path and the build's output.
fn build_preimport_fixture(name: &str, tool: &str) -> (std::path::PathBuf, std::process::Output) {
    let dir = scratch(name);
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    for entry in std::fs::read_dir(fixture("preimport")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, app.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        app.join("pyproject.toml"),
        format!("[project]\nname = \"preimport\"\nversion = \"0.1.0\"\n\n[tool.pyedge]\n{tool}\n"),
    )
    .unwrap();
    let out = dir.join("app.wasm");
    let build = pyedge()
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-v",
        ])
        .output();
    (out, build)
}

/// Each of `files` is among those the preimport fixture's imports compiled from source.
fn assert_compiled(doc: &serde_json::Value, files: &[&str]) {
    let compiled: Vec<&str> = doc["compiled"]
        .as_array()
        .expect("compiled")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for file in files {
        assert!(compiled.contains(file), "{file} not in {compiled:?}");
    }
}
