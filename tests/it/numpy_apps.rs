//! numpy apps (issue 21): pyedge's WASI numpy, linked into a runtime variant, answers with
//! the same numbers as the host's numpy of the same release (the PyPI wheel on CPython
//! 3.13, which each test runs on the same inputs); unseeded generators draw from the host
//! per instance; `numpy` resolves to pyedge's build, and so do pure packages that depend
//! on it; an app without numpy gets the runtime without it.

use crate::common::serve::{request, text, Server};
use crate::common::{describe, fixture, pyedge, run_component_with_stdin, scratch};
use crate::deps_support::{TestIndex, WheelSpec};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Set by scripts/test.sh: the host's numpy (an unpacked wheel) and the Python 3.13 that
/// imports it.
const HOST_NUMPY_ENV: &str = "PYEDGE_TEST_HOST_NUMPY";
const PYTHON313_ENV: &str = "PYEDGE_TEST_PYTHON313";
/// Set by scripts/test.sh: the wheels of scripts/test-wheels.txt.
const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";

fn env_path(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(value) => PathBuf::from(value),
        None => panic!(
            "{name} is not set: run scripts/test.sh, which fetches the host's numpy and \
             exports {HOST_NUMPY_ENV}, {PYTHON313_ENV} and {TEST_WHEELS_ENV}"
        ),
    }
}

/// Run `script` on the host's Python 3.13 with the host's numpy and `path` importable;
/// its stdout.
fn host_python(script: &str, path: &[&Path]) -> String {
    let mut python_path = vec![env_path(HOST_NUMPY_ENV)];
    python_path.extend(path.iter().map(|p| p.to_path_buf()));
    let output = Command::new(env_path(PYTHON313_ENV))
        .arg("-c")
        .arg(script)
        .env("PYTHONPATH", std::env::join_paths(python_path).unwrap())
        .output()
        .expect("run the host's Python 3.13");
    assert!(output.status.success(), "host numpy: {}", describe(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// Whether two JSON documents agree: the same shape, integers and strings equal, floats
/// to 1e-9 relative (the two builds' libm and summation order may differ in the last
/// bits).
fn assert_close(wasi: &Value, host: &Value, at: &str) {
    match (wasi, host) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let scale = a.abs().max(b.abs()).max(1.0);
            assert!(
                (a - b).abs() <= 1e-9 * scale,
                "{at}: WASI numpy {a}, host numpy {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: lengths differ: {wasi} vs {host}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(b), "{at}: keys differ");
            for (key, x) in a {
                assert_close(x, &b[key], &format!("{at}.{key}"));
            }
        }
        _ => assert_eq!(wasi, host, "{at}"),
    }
}

/// A simple index on 127.0.0.1 with nothing on it: a build that needs only numpy must
/// not ask it for numpy.
fn empty_index() -> TestIndex {
    TestIndex::start()
}

struct Built {
    wasm: PathBuf,
    report: Value,
}

fn build(name: &str, app: &Path, index: &TestIndex) -> Built {
    let dir = scratch(&format!("numpy-built-{name}"));
    let wasm = dir.join("app.wasm");
    let output = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url(), "--json"])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let report = serde_json::from_slice(&output.stdout).expect("one JSON document");
    Built { wasm, report }
}

fn analytics() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let index = empty_index();
        let built = build("analytics", &fixture("numpy-analytics"), &index);
        assert!(
            !index.requests().iter().any(|r| r.contains("numpy")),
            "numpy was looked up on the index: {:?}",
            index.requests()
        );
        built
    })
}

#[test]
fn the_analytics_handler_answers_like_host_numpy() {
    let built = analytics();
    let substituted = built.report["substituted"].to_string();
    assert!(
        substituted.contains("numpy 2.5.5 (pyedge WASI build)"),
        "{substituted}"
    );
    let server = Server::start(&built.wasm);

    // A synthetic window, made by the handler and by the host from the same seed.
    let reply = request(
        "GET",
        &server.url("/analyze?n=1024&rate=100&seed=7"),
        &[],
        None,
    );
    assert_eq!(reply.status, 200, "{}\n{}", text(&reply), server.stderr());
    let wasi: Value = serde_json::from_str(&text(&reply)).unwrap();
    // A window sent in the request body.
    let samples: Vec<f64> = (0..256)
        .map(|i| {
            let t = i as f64 / 50.0;
            20.0 + (t * 3.0).sin() * 4.0 + if i == 100 { 30.0 } else { 0.0 } + t * 0.1
        })
        .collect();
    let body = serde_json::json!({ "rate": 50, "samples": samples }).to_string();
    let reply = request(
        "POST",
        &server.url("/analyze"),
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(reply.status, 200, "{}\n{}", text(&reply), server.stderr());
    let wasi_posted: Value = serde_json::from_str(&text(&reply)).unwrap();

    let host = host_python(
        &format!(
            "import json\nfrom analytics import analyze, synthetic\n\
             print(json.dumps(analyze(synthetic(1024, 100.0, 7), 100.0)))\n\
             print(json.dumps(analyze(json.loads({body:?})['samples'], 50.0)))\n"
        ),
        &[&fixture("numpy-analytics")],
    );
    let mut lines = host.lines();
    let host_synthetic: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let host_posted: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_close(&wasi, &host_synthetic, "synthetic");
    assert_close(&wasi_posted, &host_posted, "posted");
    // The analysis found what the signal holds: the two tones, the two spikes.
    assert_eq!(wasi["anomalies"], serde_json::json!([341, 682]));
    let peaks: Vec<f64> = wasi["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["hz"].as_f64().unwrap())
        .collect();
    assert!(peaks.iter().any(|hz| (hz - 5.0).abs() < 0.1), "{peaks:?}");
    assert!(peaks.iter().any(|hz| (hz - 12.5).abs() < 0.1), "{peaks:?}");

    // Bad input is a 400 naming the problem, and the next request is answered.
    let reply = request(
        "POST",
        &server.url("/analyze"),
        &[],
        Some(b"{\"samples\": [1, 2]}"),
    );
    assert_eq!(reply.status, 400, "{}", text(&reply));
    assert!(
        text(&reply).contains("need at least 16 samples"),
        "{}",
        text(&reply)
    );
    let reply = request("GET", &server.url("/analyze?n=64"), &[], None);
    assert_eq!(reply.status, 200, "{}", text(&reply));
    assert!(!server.stderr().contains("trapped"), "{}", server.stderr());
}

#[test]
fn unseeded_generators_draw_per_instance_and_seeded_ones_repeat() {
    let built = analytics();
    let server = Server::start(&built.wasm);
    let draw = || {
        let reply = request("GET", &server.url("/random"), &[], None);
        assert_eq!(reply.status, 200, "{}\n{}", text(&reply), server.stderr());
        serde_json::from_str::<Value>(&text(&reply)).unwrap()
    };
    let (first, second) = (draw(), draw());
    // Each request is a fresh instance of the same snapshot: a generator made at build
    // time without a seed (module level, numpy's legacy global one) is reseeded from the
    // host, and one made in the handler draws from the host.
    for key in ["call_time", "module_level", "legacy"] {
        assert_ne!(first[key], second[key], "{key}: {first} vs {second}");
    }
    // An explicit seed stays deterministic: the same number as the host's numpy.
    assert_eq!(first["seeded"], second["seeded"]);
    let host = host_python(
        "import numpy as np\nprint(int(np.random.default_rng(12345).integers(1 << 62)))",
        &[],
    );
    assert_eq!(first["seeded"].to_string(), host.trim());
}

#[test]
fn the_csv_script_summarizes_like_host_numpy() {
    let index = empty_index();
    let built = build("csv", &fixture("numpy-csv"), &index);
    assert_eq!(built.report["world"], "cli");
    let mut csv = String::from("time,sensor,temperature,vibration\n");
    for i in 0..120 {
        let t = i * 30;
        let a = 21.0 + (i as f64 / 9.0).sin() * 1.5 + i as f64 * 0.01;
        let b = 35.0 + (i as f64 / 5.0).cos() * 3.0 - i as f64 * 0.02;
        csv.push_str(&format!(
            "{t},pump-a,{a:.3},{:.4}\n",
            0.2 + (i % 7) as f64 * 0.01
        ));
        csv.push_str(&format!(
            "{t},fan-b,{b:.3},{:.4}\n",
            0.5 + (i % 5) as f64 * 0.03
        ));
    }
    let run = run_component_with_stdin(&built.wasm, &[], csv.as_bytes());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let host = host_python(
        &format!(
            "import json\nfrom summary import summarize\n\
             for line in summarize({csv:?}):\n    print(json.dumps(line, sort_keys=True))\n"
        ),
        &[&fixture("numpy-csv")],
    );
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (wasi, host) = (parse(&run.stdout), parse(&host));
    assert_eq!(wasi.len(), 2, "{}", run.stdout);
    assert_eq!(wasi[0]["sensor"], "fan-b");
    assert_eq!(wasi[1]["count"], 120);
    assert_close(&Value::Array(wasi), &Value::Array(host), "summary");

    // No input: a message and a failed run (wasi:cli 0.2 carries success or failure, so
    // the script's `sys.exit(2)` reaches the host as 1), not a traceback.
    let run = run_component_with_stdin(&built.wasm, &[], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no CSV on stdin"), "{}", run.stderr);
    assert!(!run.stderr.contains("Traceback"), "{}", run.stderr);
}

#[test]
fn a_pure_package_that_depends_on_numpy_resolves_against_the_wasi_build() {
    let wheels = env_path(TEST_WHEELS_ENV);
    let filename = "numpy_financial-1.0.0-py3-none-any.whl";
    let wheel = wheels.join(filename);
    let index = TestIndex::start();
    index.add_file("numpy-financial", filename, std::fs::read(&wheel).unwrap());
    let app = scratch("numpy-financial-app");
    std::fs::write(
        app.join("pyproject.toml"),
        "[project]\nname = \"loans\"\nversion = \"0.1.0\"\ndependencies = [\"numpy-financial\"]\n",
    )
    .unwrap();
    let script = "import json\nimport numpy_financial as npf\n\n\ndef main():\n    \
                  print(json.dumps({\"irr\": npf.irr([-100, 39, 59, 55, 20]), \
                  \"pmt\": npf.pmt(0.075 / 12, 12 * 15, 200000), \
                  \"npv\": npf.npv(0.281, [-100, 39, 59, 55, 20])}))\n";
    std::fs::write(app.join("app.py"), script).unwrap();
    let built = build("financial", &app, &index);
    let parts = built.report["size"]["parts"].to_string();
    assert!(parts.contains("numpy-financial==1.0.0"), "{parts}");
    assert!(parts.contains("numpy==2.5.5"), "{parts}");
    let substituted = built.report["substituted"].to_string();
    assert!(substituted.contains("numpy 2.5.5"), "{substituted}");

    // check-deps says the same, and why numpy is substituted.
    let output = pyedge()
        .args([
            "check-deps",
            app.to_str().unwrap(),
            "--index-url",
            &index.url(),
        ])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("loans → numpy-financial → numpy"), "{table}");
    assert!(
        table.contains("note: numpy 2.5.5 is substituted by the pyedge WASI build"),
        "{table}"
    );

    let run = run_component_with_stdin(&built.wasm, &["app"], b"");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let host = host_python(&format!("{script}\nmain()\n"), &[&wheel]);
    assert_close(
        &serde_json::from_str(&run.stdout).unwrap(),
        &serde_json::from_str(&host).unwrap(),
        "numpy-financial",
    );
}

#[test]
fn a_numpy_version_pyedge_does_not_build_is_refused_naming_the_one_it_has() {
    let index = empty_index();
    let app = scratch("numpy-too-old");
    std::fs::write(app.join("requirements.txt"), "numpy<2\n").unwrap();
    std::fs::write(
        app.join("app.py"),
        "import numpy\n\ndef main():\n    pass\n",
    )
    .unwrap();
    let wasm = app.join("app.wasm");
    let output = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{}", describe(&output));
    assert!(stderr.contains("numpy 2.5.5 only"), "{stderr}");
    assert!(!wasm.exists());
}

#[test]
fn a_native_package_on_top_of_numpy_stays_rejected_with_its_chain() {
    let index = TestIndex::start();
    index.add_wheel(
        &WheelSpec::pure("scipy", "1.16.3")
            .tag("cp313-cp313-manylinux_2_27_x86_64")
            .requires("numpy>=1.25.2"),
    );
    let app = scratch("numpy-scipy");
    std::fs::write(app.join("requirements.txt"), "numpy\nscipy\n").unwrap();
    std::fs::write(
        app.join("app.py"),
        "import scipy\n\ndef main():\n    pass\n",
    )
    .unwrap();
    let wasm = app.join("app.wasm");
    let output = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url()])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{}", describe(&output));
    assert!(stderr.contains("scipy 1.16.3"), "{stderr}");
    assert!(stderr.contains("→ scipy"), "{stderr}");
    assert!(!wasm.exists());
}

#[test]
fn an_app_without_numpy_gets_the_runtime_without_it() {
    let index = empty_index();
    let dir = scratch("numpy-free");
    std::fs::write(
        dir.join("app.py"),
        "def main():\n    print('no numpy here')\n",
    )
    .unwrap();
    let built = build("free", &dir, &index);
    let bytes = std::fs::read(&built.wasm).unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!has(b"_multiarray_umath"), "a numpy-free app carries numpy");
    let analytics = std::fs::read(&analytics().wasm).unwrap();
    assert!(analytics.windows(17).any(|w| w == b"_multiarray_umath"));
}

#[test]
fn numpy_imported_inside_a_function_is_in_the_snapshot_and_works_without_one() {
    let index = empty_index();
    let app = scratch("numpy-lazy-app");
    std::fs::write(
        app.join("app.py"),
        "def main():\n    import numpy as np\n    print(np.arange(4).sum(), np.linalg.det(np.eye(2)))\n",
    )
    .unwrap();
    let built = build("lazy", &app, &index);
    // numpy's import reads os.environ (huge pages, OpenBLAS, NPY_PROMOTION_STATE), which
    // configures nothing this build has: it is imported at build time all the same.
    let lazy = built.report["lazy_imports"].to_string();
    assert!(!lazy.contains("\"numpy"), "numpy stayed lazy: {lazy}");
    let run = run_component_with_stdin(&built.wasm, &[], b"");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "6 1.0\n"),
        "{}",
        run.stderr
    );
    // Without a snapshot the same imports run at start-up, then the app's own import.
    let dir = scratch("numpy-built-lazy-nosnap");
    let wasm = dir.join("app.wasm");
    let output = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--index-url", &index.url(), "--no-snapshot"])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let run = run_component_with_stdin(&wasm, &[], b"");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "6 1.0\n"),
        "{}",
        run.stderr
    );
}
