//! pyedge's WASI `cryptography` (src/python/cryptography over runtime-assets/crypto's
//! `_pyedge_crypto`), inside built components: NIST/Ed25519 known-answer vectors from the
//! hash-pinned `cryptography_vectors` wheel, JWT interop with the real PyJWT +
//! `cryptography` on the host, fresh randomness per instance, and the C module left out
//! of apps that do not import it.

use crate::common::{describe, fixture, run_component, scratch};
use crate::deps_support::TestIndex;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Set by scripts/test.sh: the directory of the wheels in scripts/test-wheels.txt.
const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";

/// The wheel `prefix-*.whl` of scripts/test-wheels.txt.
pub(crate) fn test_wheel(prefix: &str) -> PathBuf {
    let dir = std::env::var_os(TEST_WHEELS_ENV).unwrap_or_else(|| {
        panic!(
            "{TEST_WHEELS_ENV} is not set: run scripts/test.sh (or: source scripts/tools.sh \
             && export {TEST_WHEELS_ENV}=\"$(ensure_test_wheels)\")"
        )
    });
    let dir = PathBuf::from(dir);
    let name = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{TEST_WHEELS_ENV}={}: {err}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with(prefix) && n.ends_with(".whl"))
        .unwrap_or_else(|| panic!("no {prefix}*.whl in {}: run scripts/test.sh", dir.display()));
    dir.join(name)
}

/// Extract the wheel members ending in one of `paths` into `dest`, by file name.
fn extract(wheel: &Path, paths: &[&str], dest: &Path) {
    std::fs::create_dir_all(dest).expect("mkdir");
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(wheel).expect("open wheel")).expect("read wheel");
    for path in paths {
        let name = path.rsplit('/').next().unwrap();
        let member = zip
            .file_names()
            .find(|m| m.ends_with(&format!("/{path}")))
            .unwrap_or_else(|| panic!("{path} not in {}", wheel.display()))
            .to_string();
        let mut data = Vec::new();
        zip.by_name(&member)
            .expect("member")
            .read_to_end(&mut data)
            .expect("read member");
        std::fs::write(dest.join(name), data).expect("write vector file");
    }
}

/// Extract a whole pure wheel into `dest` (for the host's PYTHONPATH).
fn unpack(wheel: &Path, dest: &Path) {
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(wheel).expect("open wheel")).expect("read wheel");
    zip.extract(dest).expect("unpack wheel");
}

/// A copy of fixture `name` in a scratch directory, with its own pyedge cache.
/// A copy of `fixtures/apps/<name>` in a scratch directory of its own, named after
/// `test`: tests run in parallel, and two of them sharing one directory wipe each
/// other's build (CI once failed on exactly that).
pub(crate) fn scratch_app(test: &str, name: &str) -> (PathBuf, PathBuf) {
    let root = scratch(&format!("crypto-{test}"));
    let app = root.join("app");
    std::fs::create_dir_all(&app).expect("mkdir app");
    for entry in std::fs::read_dir(fixture(name)).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, app.join(path.file_name().unwrap())).expect("copy fixture");
        }
    }
    (root, app)
}

pub(crate) fn pyedge_in(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyedge"))
        .args(args)
        .env("PYEDGE_CACHE_DIR", root.join("cache"))
        .env_remove("XDG_CACHE_HOME")
        .output()
        .expect("run pyedge")
}

pub(crate) fn build(root: &Path, app: &Path, extra: &[&str]) -> (PathBuf, serde_json::Value) {
    let wasm = root.join("app.wasm");
    let mut args = vec![
        "build",
        app.to_str().unwrap(),
        "-o",
        wasm.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = pyedge_in(root, &args);
    assert!(output.status.success(), "{}", describe(&output));
    let report = serde_json::from_slice(&output.stdout).expect("one JSON document");
    (wasm, report)
}

/// The vector files the known-answer app reads, from `cryptography_vectors`.
const VECTOR_FILES: &[&str] = &[
    "asymmetric/RSA/FIPS_186-2/SigVer15_186-3.rsp",
    "asymmetric/RSA/FIPS_186-2/SigVerPSS_186-3.rsp",
    "asymmetric/ECDSA/FIPS_186-3/SigVer.rsp",
    "asymmetric/Ed25519/sign.input",
    "hashes/SHA1/SHA1ShortMsg.rsp",
    "hashes/SHA2/SHA224ShortMsg.rsp",
    "hashes/SHA2/SHA256ShortMsg.rsp",
    "hashes/SHA2/SHA384ShortMsg.rsp",
    "hashes/SHA2/SHA512ShortMsg.rsp",
    "ciphers/AES/GCM/gcmEncryptExtIV128.rsp",
    "ciphers/AES/GCM/gcmDecrypt256.rsp",
    "x509/custom/ca/ca.pem",
    "x509/custom/ca/rsa_ca.pem",
];

#[test]
fn known_answer_vectors_pass_inside_the_component() {
    let (root, app) = scratch_app("vectors", "crypto-vectors");
    extract(
        &test_wheel("cryptography_vectors-"),
        VECTOR_FILES,
        &app.join("vectors"),
    );
    let (wasm, _) = build(&root, &app, &[]);
    let run = run_component(&wasm, &[], &[]);
    println!("{}", run.stdout);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Every file's vectors were read and checked (the app fails on any wrong verdict).
    for line in [
        "RSA PKCS#1 v1.5 SigVer (SigVer15_186-3.rsp): 450 vectors (fail 375, pass 75)",
        "RSA PSS SigVer (SigVerPSS_186-3.rsp): 450 vectors (fail 375, pass 75)",
        "Ed25519 (sign.input): 1024 vectors",
        "sha256 (SHA256ShortMsg.rsp): 65 vectors",
        "sha512 (SHA512ShortMsg.rsp): 129 vectors",
        "AES-GCM (gcmEncryptExtIV128.rsp): 7875 vectors",
        "AES-GCM (gcmDecrypt256.rsp): 7875 vectors",
        "P-256 fail 60, P-256 pass 15, P-384 fail 60, P-384 pass 15, P-521 fail 60, P-521 pass 15",
        "ECDSA edge cases: 22 vectors (secp256r1 fail 9, secp256r1 pass 2, secp384r1 fail 9, secp384r1 pass 2)",
        "RSA PKCS#1 v1.5 edge cases: 5 vectors (fail 4, pass 1)",
        "x509 (ca.pem): ECPublicKey 256 bits, self-signature verified",
        "x509 (rsa_ca.pem): RSAPublicKey 4096 bits, self-signature verified",
        "all verdicts as expected",
    ] {
        assert!(
            run.stdout.contains(line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
}

/// The host's python3 with the real `cryptography` and the test PyJWT on its path, or
/// why it cannot be used.
fn host_python(pyjwt_dir: &Path) -> Result<Command, String> {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import cryptography, jwt; print(cryptography.__version__)",
        ])
        .env("PYTHONPATH", pyjwt_dir)
        .output()
        .map_err(|err| format!("no python3 on the host: {err}"))?;
    if !probe.status.success() {
        return Err(format!(
            "the host's python3 has no real `cryptography` to sign with: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/crypto_support/host_jwt.py"))
        .env("PYTHONPATH", pyjwt_dir);
    Ok(cmd)
}

#[test]
fn jwt_tokens_interoperate_with_the_real_cryptography() {
    let (root, app) = scratch_app("interop", "jwt-interop");
    let pyjwt = test_wheel("pyjwt-");
    let host_lib = root.join("host-lib");
    unpack(&pyjwt, &host_lib);
    let mut host = match host_python(&host_lib) {
        Ok(cmd) => cmd,
        Err(why) => {
            // The component side is covered by the vectors test; this one needs a signer.
            eprintln!("skipped: {why}");
            return;
        }
    };
    let index = TestIndex::start();
    index.add_file(
        "pyjwt",
        pyjwt.file_name().unwrap().to_str().unwrap(),
        std::fs::read(&pyjwt).expect("read pyjwt wheel"),
    );
    let (wasm, _) = build(&root, &app, &["--index-url", &index.url()]);

    let signed = host.arg("sign").output().expect("run host signer");
    assert!(signed.status.success(), "{}", describe(&signed));
    let given = String::from_utf8(signed.stdout).expect("utf-8");
    let run = run_component(&wasm, &[], &[("JWT_INTEROP", given.trim())]);
    println!("{}", run.stdout);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let line = format!("{alg} ok:host-user expired bad-signature");
        assert!(
            run.stdout.contains(&line),
            "{line:?} not in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("HS256 with the RS256 public key as secret: rejected:InvalidKeyError"),
        "{}",
        run.stdout
    );

    let result = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .expect("the component's tokens");
    let mut verify = host_python(&host_lib).expect("host python");
    let mut child = verify
        .arg("verify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run host verifier");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(result.as_bytes())
        .unwrap();
    let verified = child.wait_with_output().expect("host verifier");
    assert!(verified.status.success(), "{}", describe(&verified));
    let text = String::from_utf8_lossy(&verified.stdout);
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        assert!(
            text.contains(&format!("host verified the component's {alg} token")),
            "{text}"
        );
    }
}

#[test]
fn pss_salts_come_from_the_host_per_instance() {
    let (root, app) = scratch_app("pss-fresh", "pss-fresh");
    let (wasm, _) = build(&root, &app, &[]);
    let first = run_component(&wasm, &[], &[]);
    let second = run_component(&wasm, &[], &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let (key1, sig1) = first
        .stdout
        .trim()
        .split_once(' ')
        .expect("key and signature");
    let (key2, sig2) = second
        .stdout
        .trim()
        .split_once(' ')
        .expect("key and signature");
    // The key was made while the snapshot was taken: both instances share it...
    assert_eq!(key1, key2);
    // ...but each signature's salt was drawn from the host when it was made.
    assert_ne!(sig1, sig2, "two instances signed with the same PSS salt");
}

#[test]
fn check_deps_says_cryptography_is_substituted() {
    let (root, app) = scratch_app("check-deps-substituted", "jwt-gateway-rs256");
    let pyjwt = test_wheel("pyjwt-");
    let index = TestIndex::start();
    index.add_file(
        "pyjwt",
        pyjwt.file_name().unwrap().to_str().unwrap(),
        std::fs::read(&pyjwt).expect("read pyjwt wheel"),
    );
    index.add_file(
        "cryptography",
        "cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl",
        b"never downloaded".to_vec(),
    );
    let app_dir = app.to_str().unwrap();
    let table = pyedge_in(&root, &["check-deps", app_dir, "--index-url", &index.url()]);
    assert!(table.status.success(), "{}", describe(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("cryptography "))
        .unwrap_or_else(|| panic!("no cryptography row:\n{text}"));
    for part in [
        "50.0.2",
        "substituted",
        "pyedge WASI build",
        "pyjwt[crypto] → cryptography",
    ] {
        assert!(row.contains(part), "{part:?} not in {row:?}");
    }
    assert!(
        text.contains("cryptography 50.0.2 is substituted by the pyedge WASI build (required by pyjwt[crypto])"),
        "{text}"
    );
    assert!(text.contains("1 substituted"), "{text}");

    let json = pyedge_in(
        &root,
        &["check-deps", app_dir, "--index-url", &index.url(), "--json"],
    );
    assert!(json.status.success(), "{}", describe(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc["ok"], true);
    let package = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cryptography")
        .expect("cryptography in packages");
    assert_eq!(package["verdict"], "substituted");
    assert_eq!(package["substitute"], "pyedge WASI build");
    assert!(package["covers"].as_str().unwrap().contains("ECDSA"));
    assert_eq!(
        doc["substituted"],
        serde_json::json!([{
            "name": "cryptography",
            "requested_version": "50.0.2",
            "substitute": "pyedge WASI build",
            "required_by": "pyjwt[crypto]",
        }])
    );

    // No source lists cryptography at all (--find-links with PyJWT only, offline): the
    // substitute's own version stands in.
    let links = root.join("links");
    std::fs::create_dir_all(&links).unwrap();
    std::fs::copy(&pyjwt, links.join(pyjwt.file_name().unwrap())).unwrap();
    let offline = pyedge_in(
        &root,
        &[
            "check-deps",
            app_dir,
            "--find-links",
            links.to_str().unwrap(),
            "--offline",
        ],
    );
    assert!(offline.status.success(), "{}", describe(&offline));
    let text = String::from_utf8_lossy(&offline.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("cryptography ")
            && l.contains("46.0.0")
            && l.contains("substituted")),
        "{text}"
    );

    // The lock records the substitute, so a --locked build bundles pyedge's package too.
    let lock = pyedge_in(&root, &["lock", app_dir, "--index-url", &index.url()]);
    assert!(lock.status.success(), "{}", describe(&lock));
    let locked = std::fs::read_to_string(app.join("pyedge.lock")).expect("pyedge.lock");
    assert!(
        locked.contains("[[substituted]]\nname = \"cryptography\"\nversion = \"50.0.2\""),
        "{locked}"
    );
    let checked = pyedge_in(
        &root,
        &[
            "check-deps",
            app_dir,
            "--locked",
            "--index-url",
            &index.url(),
        ],
    );
    assert!(checked.status.success(), "{}", describe(&checked));
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(text.contains("1 substituted"), "{text}");
}

#[test]
fn fernet_and_aesgcm_round_trip_in_a_handler() {
    use crate::common::built;
    use crate::common::serve::{request, text, Server};
    let wasm = built("sealed-notes", &[]);
    let server = Server::start(&wasm);
    let note = b"meet at the usual place";
    let sealed = request("POST", &server.url("/fernet"), &[], Some(note));
    assert_eq!(sealed.status, 200, "{}", server.stderr());
    let token = text(&sealed);
    assert!(token.starts_with("gAAAAA"), "not a Fernet token: {token}");
    let opened = request(
        "POST",
        &server.url("/fernet/open"),
        &[],
        Some(token.as_bytes()),
    );
    assert_eq!(
        (opened.status, text(&opened).into_bytes()),
        (200, note.to_vec())
    );
    let mut forged = token.clone().into_bytes();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let refused = request("POST", &server.url("/fernet/open"), &[], Some(&forged));
    assert_eq!(
        (refused.status, text(&refused).as_str()),
        (400, "invalid token")
    );

    // Two requests: two fresh keys and nonces, from the host's randomness.
    let first = request("POST", &server.url("/aesgcm"), &[], Some(note));
    let second = request("POST", &server.url("/aesgcm"), &[], Some(note));
    assert_eq!(first.status, 200, "{}", text(&first));
    assert_eq!(second.status, 200, "{}", text(&second));
    assert!(text(&first).starts_with("ok "));
    assert_ne!(text(&first), text(&second), "the same nonce twice");
}
