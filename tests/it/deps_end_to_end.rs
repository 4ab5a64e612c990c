//! Dependencies end to end: `fixtures/apps/jwt-gate` built with the real, newest PyJWT
//! wheel (hash-pinned in scripts/test-wheels.txt, served from a simple index on
//! 127.0.0.1) answering real HTTP requests under `pyedge serve`; `--locked` builds; a
//! rejected dependency; and the marker constants checked against the built runtime.

use crate::common::serve::{request, text, Server};
use crate::common::{describe, fixture, run_component, scratch};
use crate::deps_support::{sha256_hex, TestIndex, WheelSpec};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// Set by scripts/test.sh: the directory of the wheels in scripts/test-wheels.txt.
const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";

/// The real PyJWT wheel from PyPI that scripts/test.sh downloaded.
struct RealWheel {
    path: PathBuf,
    filename: String,
    version: String,
    sha256: String,
}

fn real_pyjwt_wheel() -> RealWheel {
    let Some(dir) = std::env::var_os(TEST_WHEELS_ENV) else {
        panic!(
            "{TEST_WHEELS_ENV} is not set: run scripts/test.sh, which downloads the \
             hash-pinned PyJWT wheel of scripts/test-wheels.txt and exports its directory \
             (or: source scripts/tools.sh && export {TEST_WHEELS_ENV}=\"$(ensure_test_wheels)\")"
        )
    };
    let dir = PathBuf::from(dir);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{TEST_WHEELS_ENV}={}: {err}", dir.display()));
    let filename = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.starts_with("pyjwt-") && name.ends_with(".whl"))
        .unwrap_or_else(|| {
            panic!(
                "no pyjwt-*.whl in {TEST_WHEELS_ENV}={}: run scripts/test.sh",
                dir.display()
            )
        });
    let path = dir.join(&filename);
    let bytes = std::fs::read(&path).expect("read the PyJWT wheel");
    RealWheel {
        version: filename.split('-').nth(1).expect("version in name").into(),
        sha256: sha256_hex(&bytes),
        filename,
        path,
    }
}

/// A simple index on 127.0.0.1 serving the real PyJWT wheel (and nothing else).
fn pyjwt_index(wheel: &RealWheel) -> TestIndex {
    let index = TestIndex::start();
    let bytes = std::fs::read(&wheel.path).expect("read the PyJWT wheel");
    index.add_file("pyjwt", &wheel.filename, bytes);
    index
}

/// A scratch directory with a copy of the jwt-gate app (`app/`) and an empty wheel and
/// compilation cache (`cache/`), so nothing comes from the machine's own cache.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// An empty app directory and cache.
    fn new(name: &str) -> Self {
        let root = scratch(name);
        std::fs::create_dir_all(root.join("app")).expect("mkdir app");
        std::fs::create_dir_all(root.join("cache")).expect("mkdir cache");
        Self { root }
    }

    /// A copy of fixtures/apps/jwt-gate.
    fn jwt_gate(name: &str) -> Self {
        let workspace = Self::new(name);
        for file in ["app.py", "pyproject.toml"] {
            std::fs::copy(fixture("jwt-gate").join(file), workspace.app().join(file))
                .expect("copy jwt-gate");
        }
        workspace
    }

    fn app(&self) -> PathBuf {
        self.root.join("app")
    }

    fn cache(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Run `pyedge ARGS` with this workspace's cache.
    fn pyedge(&self, args: &[&str]) -> Output {
        crate::common::pyedge()
            .args(args)
            .env("PYEDGE_CACHE_DIR", self.cache())
            .env_remove("XDG_CACHE_HOME")
            .output()
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `secret` setting of the fixture's `[tool.pyedge.config]`.
fn jwt_gate_secret() -> String {
    let text = std::fs::read_to_string(fixture("jwt-gate").join("pyproject.toml"))
        .expect("read jwt-gate pyproject.toml");
    let doc: toml::Value = toml::from_str(&text).expect("valid pyproject.toml");
    doc["tool"]["pyedge"]["config"]["secret"]
        .as_str()
        .expect("secret setting")
        .to_string()
}

/// An HS256 JSON Web Token over `claims`, signed with `secret`.
fn hs256_token(secret: &str, claims: serde_json::Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// jwt-gate built once per test process with `--index-url` and `--json`.
struct BuiltGate {
    workspace: Workspace,
    wasm: PathBuf,
    report: serde_json::Value,
    wheel: RealWheel,
}

fn built_jwt_gate() -> &'static BuiltGate {
    static BUILT: OnceLock<BuiltGate> = OnceLock::new();
    BUILT.get_or_init(|| {
        let wheel = real_pyjwt_wheel();
        let index = pyjwt_index(&wheel);
        let workspace = Workspace::jwt_gate("deps-e2e-jwt-gate");
        let wasm = workspace.root.join("jwt-gate.wasm");
        let output = workspace.pyedge(&[
            "build",
            path_str(&workspace.app()),
            "-o",
            path_str(&wasm),
            "--index-url",
            &index.url(),
            "--json",
        ]);
        assert!(output.status.success(), "{}", describe(&output));
        assert!(
            index.requests().iter().any(|r| r == "GET /simple/pyjwt/"),
            "pyjwt did not come from the test index: {:?}",
            index.requests()
        );
        let report = serde_json::from_slice(&output.stdout).expect("one JSON document");
        BuiltGate {
            workspace,
            wasm,
            report,
            wheel,
        }
    })
}

#[test]
fn jwt_gate_checks_tokens_with_the_newest_pyjwt() {
    let gate = built_jwt_gate();
    assert_eq!(gate.report["world"], "http");
    let server =
        Server::start_with_env(&gate.wasm, &[("PYEDGE_CACHE_DIR", &gate.workspace.cache())]);
    let url = format!("{}/account", server.base);
    let secret = jwt_gate_secret();
    let now = unix_now();

    for headers in [vec![], vec![("authorization", "Basic YWRhOnB3")]] {
        let reply = request("GET", &url, &headers, None);
        assert_eq!(
            (reply.status, text(&reply).as_str()),
            (401, "missing bearer token"),
            "{headers:?}"
        );
    }

    let forged = hs256_token(
        "not-the-secret-but-just-as-long-as-it",
        serde_json::json!({ "sub": "mallory", "exp": now + 600 }),
    );
    let expired = hs256_token(
        &secret,
        serde_json::json!({ "sub": "ada", "exp": now - 60 }),
    );
    let cases = [
        (forged, "invalid token: Signature verification failed"),
        (expired, "token expired"),
        ("not.a.jwt".to_string(), "invalid token: "),
    ];
    for (token, expected) in cases {
        let bearer = format!("Bearer {token}");
        let reply = request("GET", &url, &[("authorization", &bearer)], None);
        assert_eq!(reply.status, 403, "{token}: {}", text(&reply));
        assert!(
            text(&reply).starts_with(expected),
            "{token}: {}",
            text(&reply)
        );
    }

    let good = hs256_token(
        &secret,
        serde_json::json!({ "sub": "ada@example.com", "exp": now + 600 }),
    );
    let bearer = format!("Bearer {good}");
    let reply = request("GET", &url, &[("authorization", &bearer)], None);
    assert_eq!(reply.status, 200, "{}", server.stderr());
    assert_eq!(text(&reply), "hello ada@example.com");
    // importlib.metadata reads the bundled .dist-info: the wheel that was served.
    assert_eq!(
        reply.header("x-pyjwt-version"),
        Some(gate.wheel.version.as_str())
    );
    assert!(server.stderr().contains("GET /account 200"));
}

#[test]
fn size_report_lists_the_dependency() {
    let gate = built_jwt_gate();
    let parts = gate.report["size"]["parts"].as_array().expect("size.parts");
    let line = format!("  pyjwt=={}", gate.wheel.version);
    let part = parts
        .iter()
        .find(|p| p["name"] == line.as_str())
        .unwrap_or_else(|| panic!("no {line:?} in {parts:#?}"));
    let raw = part["raw"].as_u64().expect("raw size");
    // PyJWT's code, compressed in the bundle: tens of kB, not nothing and not megabytes.
    assert!((5_000..1_000_000).contains(&raw), "{part}");
}

#[test]
fn locked_build_installs_the_lock_and_refuses_a_tampered_hash() {
    let wheel = real_pyjwt_wheel();
    let index = pyjwt_index(&wheel);
    let workspace = Workspace::jwt_gate("deps-e2e-locked");
    let app = workspace.app();

    let output = workspace.pyedge(&["lock", path_str(&app), "--index-url", &index.url()]);
    assert!(output.status.success(), "{}", describe(&output));
    let lock_path = app.join("pyedge.lock");
    let lock = std::fs::read_to_string(&lock_path).expect("pyedge.lock written");
    assert!(lock.contains("name = \"pyjwt\""), "{lock}");
    assert!(
        lock.contains(&format!("sha256 = \"{}\"", wheel.sha256)),
        "{lock}"
    );

    let locked_wasm = workspace.root.join("locked.wasm");
    let output = workspace.pyedge(&[
        "build",
        path_str(&app),
        "--locked",
        "-o",
        path_str(&locked_wasm),
        "--json",
    ]);
    assert!(output.status.success(), "{}", describe(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    let line = format!("  pyjwt=={}", wheel.version);
    assert!(
        report["size"]["parts"]
            .as_array()
            .expect("size.parts")
            .iter()
            .any(|p| p["name"] == line.as_str()),
        "{report}"
    );

    let forged = "0".repeat(64);
    std::fs::write(&lock_path, lock.replace(&wheel.sha256, &forged)).expect("tamper lock");
    let tampered_wasm = workspace.root.join("tampered.wasm");
    let output = workspace.pyedge(&[
        "build",
        path_str(&app),
        "--locked",
        "-o",
        path_str(&tampered_wasm),
    ]);
    assert_eq!(output.status.code(), Some(5), "{}", describe(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!("hash mismatch for {}", wheel.filename))
            && stderr.contains(&format!("pyedge.lock promises sha256 {forged}"))
            && stderr.contains(&wheel.sha256),
        "{stderr}"
    );
    assert!(!tampered_wasm.exists(), "a failed build wrote its output");
}

#[test]
fn rejected_dependency_fails_the_build_with_exit_4_naming_the_chain() {
    let index = TestIndex::start();
    index
        .add_wheel(&WheelSpec::pure("pyjwt", "2.10.1").requires("cffi>=1.17; extra == \"crypto\""));
    index.add_wheel(&WheelSpec::pure("cffi", "1.17.1").tag("cp39-abi3-manylinux_2_28_x86_64"));
    let workspace = Workspace::new("deps-e2e-rejected");
    let app = workspace.app();
    std::fs::write(
        app.join("pyproject.toml"),
        "[project]\nname = \"signer\"\nversion = \"0.1.0\"\ndependencies = [\"pyjwt[crypto]\"]\n",
    )
    .expect("write pyproject.toml");
    std::fs::write(app.join("app.py"), "import jwt\n\ndef main():\n    pass\n").expect("app.py");
    let wasm = workspace.root.join("signer.wasm");

    let output = workspace.pyedge(&[
        "build",
        path_str(&app),
        "-o",
        path_str(&wasm),
        "--index-url",
        &index.url(),
    ]);
    assert_eq!(output.status.code(), Some(4), "{}", describe(&output));
    let stderr = stderr_of(&output);
    for expected in [
        "cffi 1.17.1",
        "signer → pyjwt[crypto] → cffi",
        "cp39-abi3-manylinux_2_28_x86_64",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!wasm.exists(), "a rejected build wrote its output");
}

/// A script app that runs [`pyedge::deps::markers::MARKER_PROBE`] (`markers`) or tries
/// TLS through the bundled `ssl` stub (`ssl`), at run time, inside the built runtime.
fn probe_app() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = scratch("deps-e2e-probe");
            let app = dir.join("app");
            std::fs::create_dir_all(&app).expect("mkdir app");
            std::fs::write(
                app.join("marker_probe.py"),
                pyedge::deps::markers::MARKER_PROBE,
            )
            .expect("write marker_probe.py");
            std::fs::write(
                app.join("app.py"),
                r#"import sys


def main():
    if sys.argv[1:] == ["markers"]:
        import marker_probe  # prints the runtime's marker values as JSON
    elif sys.argv[1:] == ["ssl"]:
        import ssl
        context = ssl.create_default_context()
        try:
            context.wrap_socket(None, server_hostname="example.com")
        except ssl.SSLError as err:
            print(f"SSLError: {err}")
"#,
            )
            .expect("write app.py");
            let wasm = dir.join("probe.wasm");
            let output = crate::common::pyedge()
                .args(["build", path_str(&app), "-o", path_str(&wasm)])
                .output();
            assert!(output.status.success(), "{}", describe(&output));
            wasm
        })
        .clone()
}

#[test]
fn marker_constants_match_the_built_runtime() {
    let run = run_component(&probe_app(), &["markers"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        pyedge::deps::markers::mismatches(&run.stdout),
        Vec::<String>::new(),
        "src/deps/markers.rs disagrees with the runtime; probe printed {}",
        run.stdout
    );
}

#[test]
fn ssl_imports_and_tls_says_it_belongs_to_the_host() {
    let run = run_component(&probe_app(), &["ssl"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("SSLError: TLS is not available inside a pyedge component"),
        "{run:?}"
    );
    assert!(run.stdout.contains("pyedge.http.send"), "{run:?}");
}
