//! The issue's edge gateway (fixtures/apps/jwt-gateway-{rs256,es256}, verbatim): PyJWT
//! with pyedge's `cryptography` verifies RS256/ES256 tokens and `send_to_origin` forwards
//! to a loopback origin, under `pyedge serve`; the origin down gives 502.

use crate::common::fixture;
use crate::crypto::{build, scratch_app, test_wheel};
use crate::deps_support::TestIndex;
use std::path::{Path, PathBuf};

/// A loopback origin: answers every request with what it saw (method, path and query,
/// x-internal-user-id, x-forwarded-*, body length) and records each request's head.
fn start_origin() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = crate::common::upstream::serve(move |req| {
        let answer = format!(
            "{} {} user={} proto={} fwd-host={} body={}",
            req.method,
            req.target,
            req.header("x-internal-user-id"),
            req.header("x-forwarded-proto"),
            !req.header("x-forwarded-host").is_empty(),
            String::from_utf8_lossy(&req.body)
        );
        log.lock().unwrap().push(req.head.clone());
        crate::common::upstream::response(
            "201 Created",
            "content-type: text/plain\r\nx-origin: yes\r\n",
            answer.as_bytes(),
        )
    });
    (addr, seen)
}

/// The issue's gateway (fixtures/apps/jwt-gateway-{rs256,es256}, verbatim) built with
/// `pyjwt[crypto]` from a local index and the origin set to `origin`.
fn built_gateway(alg: &str, origin: &str) -> (PathBuf, serde_json::Value) {
    let fixture = format!("jwt-gateway-{}", alg.to_lowercase());
    let (root, app) = scratch_app(&format!("gateway-{}", alg.to_lowercase()), &fixture);
    std::fs::write(
        app.join("pyproject.toml"),
        format!("[project]\nname = \"gateway\"\nversion = \"0.1.0\"\n\n[tool.pyedge]\norigin = \"{origin}\"\n"),
    )
    .unwrap();
    let pyjwt = test_wheel("pyjwt-");
    let index = TestIndex::start();
    index.add_file(
        "pyjwt",
        pyjwt.file_name().unwrap().to_str().unwrap(),
        std::fs::read(&pyjwt).expect("read pyjwt wheel"),
    );
    // cryptography is only listed (its native wheel is never downloaded: substituted).
    index.add_file(
        "cryptography",
        "cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl",
        b"never downloaded".to_vec(),
    );
    let (wasm, report) = build(&root, &app, &["--index-url", &index.url()]);
    assert!(
        !index
            .requests()
            .iter()
            .any(|r| r.contains(".whl") && r.contains("cryptography")),
        "the native cryptography wheel was downloaded: {:?}",
        index.requests()
    );
    (wasm, report)
}

fn gateway_tokens(alg: &str) -> (String, String) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/crypto_support/gateway_tokens.json"),
    )
    .expect("tokens");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let get = |k: &str| doc[alg][k].as_str().expect("token").to_string();
    (get("valid"), get("expired"))
}

/// A token with one byte of its signature changed.
fn forged(token: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 1;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw))
}

/// HS256 over the claims with the fixture's public key PEM as the secret.
fn alg_confusion(alg: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let app = std::fs::read_to_string(
        fixture(&format!("jwt-gateway-{}", alg.to_lowercase())).join("app.py"),
    )
    .unwrap();
    let start = app.find("-----BEGIN").unwrap();
    let end = app.find("-----END PUBLIC KEY-----").unwrap() + 24;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory","exp":4102444800}"#);
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&app.as_bytes()[start..end]).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn gateway_serves(alg: &str) {
    use crate::common::serve::{request, text, Server};
    let (origin, seen) = start_origin();
    let (wasm, report) = built_gateway(alg, &origin);
    assert_eq!(report["world"], "http");
    assert_eq!(
        report["substituted"],
        serde_json::json!(["cryptography 50.0.2 (pyedge WASI build)"])
    );
    let server = Server::start(&wasm);
    let url = format!("{}/orders?id=7", server.base);
    let (valid, expired) = gateway_tokens(alg);

    let missing = request("GET", &url, &[], None);
    assert_eq!(
        (missing.status, text(&missing).as_str()),
        (401, "Missing Authorization Header")
    );
    for bad in [
        "Bearer nonsense".to_string(),
        format!("Bearer {expired}"),
        format!("Bearer {}", forged(&valid)),
        format!("Bearer {}", alg_confusion(alg)),
    ] {
        let reply = request("GET", &url, &[("authorization", &bad)], None);
        assert_eq!(
            (reply.status, text(&reply).as_str()),
            (403, "Invalid or Expired Token"),
            "{bad}\n{}",
            server.stderr()
        );
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "a rejected request reached the origin"
    );

    let auth = format!("Bearer {valid}");
    let reply = request(
        "POST",
        &url,
        &[
            ("authorization", &auth),
            ("proxy-authorization", "Basic cHJveHk6cHc="),
            ("keep-alive", "timeout=5"),
        ],
        Some(b"{\"qty\": 2}"),
    );
    assert_eq!(reply.status, 201, "{}", server.stderr());
    assert_eq!(reply.header("x-origin"), Some("yes"));
    assert_eq!(
        text(&reply),
        "POST /orders?id=7 user=ada proto=http fwd-host=true body={\"qty\": 2}"
    );
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    // Hop-by-hop headers stop at the gateway (the host may drop some before the guest).
    for hop in ["proxy-authorization:", "keep-alive:"] {
        assert!(!heads[0].to_ascii_lowercase().contains(hop), "{}", heads[0]);
    }
    drop(server);

    // The origin down: 502, and a log line naming it.
    let (dead, _) = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        (format!("http://{}", listener.local_addr().unwrap()), ())
    };
    let (wasm, _) = built_gateway(alg, &dead);
    let server = Server::start(&wasm);
    let reply = request(
        "GET",
        &format!("{}/x", server.base),
        &[("authorization", &auth)],
        None,
    );
    assert_eq!(reply.status, 502, "{}", text(&reply));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        server
            .stderr()
            .contains(&format!("origin {dead} unreachable")),
        "{}",
        server.stderr()
    );
}

#[test]
fn rs256_gateway_verifies_and_forwards_to_the_origin() {
    gateway_serves("RS256");
}

#[test]
fn es256_gateway_verifies_and_forwards_to_the_origin() {
    gateway_serves("ES256");
}

#[test]
fn send_to_origin_without_an_origin_fails_the_build() {
    let (root, app) = scratch_app("gateway-without-origin", "jwt-gateway-rs256");
    std::fs::write(
        app.join("pyproject.toml"),
        "[project]\nname = \"gateway\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let links = root.join("links");
    std::fs::create_dir_all(&links).unwrap();
    let pyjwt = test_wheel("pyjwt-");
    std::fs::copy(&pyjwt, links.join(pyjwt.file_name().unwrap())).unwrap();
    let wasm = root.join("app.wasm");
    let output = crate::crypto::pyedge_in(
        &root,
        &[
            "build",
            app.to_str().unwrap(),
            "-o",
            wasm.to_str().unwrap(),
            "--find-links",
            links.to_str().unwrap(),
            "--offline",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        crate::common::describe(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("app.py:23: send_to_origin() forwards to the app's origin, but none is set")
            && stderr.contains("[tool.pyedge]"),
        "{stderr}"
    );
    assert!(!wasm.exists());
}
