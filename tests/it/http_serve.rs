//! HTTP handlers end to end: build fixture apps into wasi:http components, start the real
//! `pyedge serve` on 127.0.0.1 (ephemeral port) and send it real HTTP requests.

use crate::common::serve::{request, text, Server};
use crate::common::{built, describe, fixture, pyedge, scratch};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[test]
fn geo_router_answers_every_rule() {
    let server = Server::start(&built("geo-router", &[]));
    let cases = [
        (None, "Welcome to our global site."),
        (Some("GB"), "Welcome to our UK portal."),
        (Some("FR"), "Bienvenue sur notre portail francais."),
        (Some("DE"), "Welcome to our global site."),
        (Some("US"), "Welcome to our global site."),
    ];
    for (location, expected) in cases {
        let headers: Vec<(&str, &str)> = location
            .map(|l| ("x-user-location", l))
            .into_iter()
            .collect();
        let reply = request("GET", &format!("{}/", server.base), &headers, None);
        assert_eq!(reply.status, 200, "{location:?}");
        assert_eq!(reply.content_type, "text/plain");
        assert_eq!(text(&reply), expected, "{location:?}");
    }
    let log = server.stderr();
    assert!(log.contains("GET / 200"), "no request log line: {log}");
}

#[test]
fn bodies_of_every_size_and_encoding_round_trip() {
    let server = Server::start(&built("http-errors", &[]));
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let bodies: [&[u8]; 3] = [b"", &[0xff, 0xfe, 0x00, 0x80, b'\n', 0xc3], &big];
    for body in bodies {
        let reply = request("POST", &format!("{}/echo", server.base), &[], Some(body));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body.len(), body.len());
        assert!(
            reply.body == body,
            "body of {} bytes changed on the way",
            body.len()
        );
    }
}

#[test]
fn handler_exception_gives_500_and_traceback_on_stderr() {
    let server = Server::start(&built("http-errors", &[]));
    let reply = request("GET", &format!("{}/raise", server.base), &[], None);
    assert_eq!(reply.status, 500);
    assert_eq!(text(&reply), "Internal Server Error\n");
    let log = server.stderr();
    assert!(log.contains("Traceback (most recent call last)"), "{log}");
    assert!(
        log.contains("ValueError: handler exploded on purpose"),
        "{log}"
    );
    assert!(
        !text(&reply).contains("wasm"),
        "trap text leaked to the client"
    );
}

#[test]
fn handler_returning_none_gives_500_naming_the_type() {
    let server = Server::start(&built("http-errors", &[]));
    let reply = request("GET", &format!("{}/none", server.base), &[], None);
    assert_eq!(reply.status, 500);
    assert!(
        text(&reply).contains("handler returned NoneType, expected Response"),
        "{}",
        text(&reply)
    );
    assert!(server.stderr().contains("handle_request returned NoneType"));
}

#[test]
fn module_globals_do_not_leak_between_requests() {
    let server = Server::start(&built("http-errors", &[]));
    for _ in 0..3 {
        let reply = request("GET", &format!("{}/hits", server.base), &[], None);
        assert_eq!(
            text(&reply),
            "1",
            "state from an earlier request was visible"
        );
    }
}

#[test]
fn app_without_entry_point_says_what_it_looked_for() {
    let dir = scratch("no-entry-point");
    std::fs::write(dir.join("app.py"), "def helper():\n    return 1\n").unwrap();
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--world",
            "http",
        ])
        .output();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("looked for a module-level function `handle_request(request)`"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// A tiny origin server: answers every request with its path and the
/// x-internal-user-id header it received.
fn start_origin() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = crate::common::upstream::serve(move |req| {
        log.lock().unwrap().push(req.head.clone());
        let answer = format!(
            "origin saw {} for user {} with {} body bytes",
            req.target,
            req.header("x-internal-user-id"),
            req.body.len()
        );
        crate::common::upstream::response(
            "200 OK",
            "content-type: text/plain\r\n",
            answer.as_bytes(),
        )
    });
    (addr, seen)
}

fn token(secret: &str, user: &str, expires: u64) -> String {
    use hmac::{Hmac, Mac};
    let payload = format!("{user}.{expires}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{payload}.{}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn gateway_checks_tokens_and_forwards_to_the_origin() {
    let (origin, seen) = start_origin();
    let dir = scratch("gateway-app");
    std::fs::copy(fixture("gateway").join("app.py"), dir.join("app.py")).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        format!("[project]\nname = \"gateway\"\nversion = \"0.1.0\"\n\n[tool.pyedge.config]\norigin = \"{origin}\"\nsecret = \"s3cret\"\n"),
    )
    .unwrap();
    let wasm = dir.join("gateway.wasm");
    let output = pyedge()
        .args(["build", dir.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let server = Server::start(&wasm);
    let url = format!("{}/orders?id=7", server.base);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let missing = request("GET", &url, &[], None);
    assert_eq!(
        (missing.status, text(&missing).as_str()),
        (401, "Missing Authorization Header")
    );
    for bad in [
        "Bearer nonsense".to_string(),
        format!("Bearer {}", token("wrong-secret", "ada", now + 600)),
        format!("Bearer {}", token("s3cret", "ada", now - 10)),
        format!("Basic {}", token("s3cret", "ada", now + 600)),
    ] {
        let reply = request("GET", &url, &[("authorization", &bad)], None);
        assert_eq!(
            (reply.status, text(&reply).as_str()),
            (403, "Invalid or Expired Token"),
            "{bad}"
        );
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "a rejected request reached the origin"
    );

    let good = format!("Bearer {}", token("s3cret", "ada", now + 600));
    let reply = request(
        "POST",
        &url,
        &[("authorization", &good)],
        Some(b"{\"qty\": 2}"),
    );
    assert_eq!(reply.status, 200, "{}", server.stderr());
    assert_eq!(
        text(&reply),
        "origin saw /orders?id=7 for user ada with 10 body bytes"
    );
    let heads = seen.lock().unwrap();
    assert_eq!(heads.len(), 1);
    assert!(
        !heads[0].to_ascii_lowercase().contains("authorization:"),
        "token forwarded to origin"
    );
}

/// `send()` takes an absolute http(s) URL: the path and query reach the origin, the
/// fragment does not, the scheme is case-insensitive; anything else is an HttpError.
#[test]
fn send_splits_absolute_urls_and_refuses_others() {
    let (origin, seen) = start_origin();
    let wasm = built("outbound", &[]);
    let server = Server::start(&wasm);
    let get = |target: &str| {
        let reply = request("GET", &server.base, &[("x-target", target)], None);
        (reply.status, text(&reply))
    };
    let upper = origin.replacen("http://", "HTTP://", 1);
    for (target, path) in [
        (format!("{origin}/a/b?x=1&y=2#part"), "/a/b?x=1&y=2"),
        (format!("{origin}?q=1"), "/?q=1"),
        (origin.clone(), "/"),
        (format!("{upper}/up"), "/up"),
    ] {
        assert_eq!(
            get(&target),
            (
                200,
                format!("origin saw {path} for user  with 0 body bytes")
            ),
            "{target}: {}",
            server.stderr()
        );
    }
    assert_eq!(seen.lock().unwrap().len(), 4);
    for bad in [
        "ftp://127.0.0.1/file",
        "http:///no-authority",
        "/relative/path",
        "127.0.0.1:8080/no-scheme",
    ] {
        let (status, body) = get(bad);
        assert_eq!(status, 502, "{bad}: {body}");
        assert!(
            body.contains("send() needs an absolute http:// or https:// URL"),
            "{bad}: {body}"
        );
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "a refused URL reached the origin"
    );
}

/// Run `pyedge ARGS`, which must fail as a usage error (exit 2); its stderr.
fn usage_error(args: &[&str]) -> String {
    let output = pyedge().args(args).output();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `pyedge build FIXTURE -o OUT --precompile`, which must be refused (exit 2) before it
/// writes anything; its stderr.
fn refused_precompile(fixture_name: &str, out: &Path) -> String {
    let app = fixture(fixture_name);
    let stderr = usage_error(&[
        "build",
        app.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--precompile",
    ]);
    for path in [out.to_path_buf(), out.with_extension("cwasm")] {
        assert!(!path.exists(), "a refused build wrote {}", path.display());
    }
    stderr
}

#[test]
fn precompiled_component_serves_only_when_allowed_and_compatible() {
    let wasm = built("geo-router", &["--precompile"]);
    let cwasm = wasm.with_extension("cwasm");
    assert!(cwasm.is_file(), "--precompile wrote no {}", cwasm.display());

    // `inspect` reads components, and says what a .cwasm is.
    let stderr = usage_error(&["inspect", cwasm.to_str().unwrap()]);
    assert!(stderr.contains("inspect the .wasm"), "{stderr}");

    // Native code is not loaded without the flag.
    let stderr = usage_error(&["serve", cwasm.to_str().unwrap(), "--addr", "127.0.0.1:0"]);
    assert!(stderr.contains("--allow-precompiled"), "{stderr}");

    let server = Server::start_with_args(&cwasm, &["--allow-precompiled"]);
    for (location, expected) in [
        ("GB", "Welcome to our UK portal."),
        ("FR", "Bienvenue sur notre portail francais."),
    ] {
        let reply = request(
            "GET",
            &server.url("/"),
            &[("x-user-location", location)],
            None,
        );
        assert_eq!(reply.status, 200, "{location}");
        assert_eq!(text(&reply), expected, "{location}");
    }

    // A component precompiled for other engine settings (no epoch interruption) is
    // refused by Wasmtime's compatibility check, with the way out.
    let dir = scratch("precompiled-elsewhere");
    let other = dir.join("other.cwasm");
    let engine = wasmtime::Engine::new(&wasmtime::Config::new()).unwrap();
    let code = engine
        .precompile_component(&wasm_encoder::Component::new().finish())
        .unwrap();
    std::fs::write(&other, code).unwrap();
    let stderr = usage_error(&[
        "serve",
        other.to_str().unwrap(),
        "--allow-precompiled",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert!(stderr.contains("other.cwasm"), "{stderr}");
    assert!(stderr.contains("pyedge build --precompile"), "{stderr}");
}

#[test]
fn precompile_needs_an_output_that_is_not_the_cwasm() {
    let out = scratch("precompile-output").join("app.cwasm");
    let stderr = refused_precompile("geo-router", &out);
    assert!(stderr.contains("--precompile"), "{stderr}");
}

#[test]
fn precompile_is_refused_for_script_apps() {
    let out = scratch("precompile-cli").join("hello.wasm");
    let stderr = refused_precompile("hello", &out);
    assert!(stderr.contains("wasmtime compile"), "{stderr}");
}

/// How requests reach a handler is found without importing `inspect` for a plain function
/// (it would bring inspect, ast, dis and tokenize into every such app's snapshot), and
/// still through inspect for a decorated one: both are called as handlers. A handler app
/// does not carry pyedge's WSGI adapter (urllib.parse), and what pyedge's request API
/// imports when called (json, for `Request.json()`) is in the snapshot: no request
/// compiles it.
#[test]
fn handler_detection_keeps_inspect_out_of_the_snapshot() {
    let dir = scratch("handler-detection");
    let heavy = "\",\".join(m for m in (\"inspect\", \"ast\", \"dis\") if m in sys.modules)";
    let apps = [
        (
            "plain",
            format!(
                "import sys\nfrom pyedge.http import Response\n\n\
                 def handle_request(request, extra=None):\n    \
                 return Response(200, {{}}, ('plain:' + {heavy}).encode())\n"
            ),
            "plain:",
        ),
        (
            "decorated",
            format!(
                "import functools, sys\nfrom pyedge.http import Response\n\n\
                 def logged(func):\n    @functools.wraps(func)\n    \
                 def wrapper(*args, **kwargs):\n        return func(*args, **kwargs)\n    \
                 return wrapper\n\n\
                 @logged\ndef handle_request(request):\n    \
                 return Response(200, {{}}, ('decorated:' + {heavy}).encode())\n"
            ),
            "decorated:inspect,ast,dis",
        ),
        (
            "json",
            "import sys\nfrom pyedge.http import Response\n\n\
             def handle_request(request):\n    \
             loaded = [m for m in ('json', 'pyedge.wsgi', 'urllib.parse') if m in sys.modules]\n    \
             return Response(200, {}, f'{request.json()}:{loaded}'.encode())\n"
                .to_string(),
            "{'a': [1, 2]}:['json']",
        ),
    ];
    for (name, source, expected) in apps {
        let app = dir.join(name);
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("app.py"), source).unwrap();
        let out = dir.join(format!("{name}.wasm"));
        let build = pyedge()
            .args(["build", app.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .output();
        assert!(build.status.success(), "{name}: {}", describe(&build));
        let server = Server::start(&out);
        let body: &[u8] = b"{\"a\": [1, 2]}";
        let reply = request("POST", &format!("{}/", server.base), &[], Some(body));
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(text(&reply), expected, "{name}");
    }
}
