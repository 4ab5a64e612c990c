//! Web apps run unchanged (issue 17): each framework fixture (fixtures/apps/web-*),
//! written as its framework's tutorial would have it, is built with its real wheels and
//! served by both the real `pyedge serve` and a plain `wasmtime serve` (the upstream
//! CLI, no -S flags), and answers the same battery of real HTTP requests: routing, path
//! and query parameters, repeated request headers, two Set-Cookie headers, a 300 KB
//! POST echoed, a JSON body, a streamed response whose chunks arrive separately, HEAD
//! and 204, an exception (500, traceback on stderr) and the app's own 404 handler.

use crate::common::serve::{request, text, Reply, Server};
use crate::common::{describe, fixture, scratch};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";
const WASMTIME_CLI_ENV: &str = "PYEDGE_WASMTIME_CLI";

pub(crate) fn required_env(name: &str) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "{name} is not set: run scripts/test.sh (or: source scripts/tools.sh && export \
             PYEDGE_TEST_WHEELS=\"$(ensure_test_wheels)\" PYEDGE_WASMTIME_CLI=\"$(ensure_wasmtime_cli)\")"
        )
    })
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy");
        }
    }
}

/// Build fixture `name` (copied to a scratch dir) with the test wheels, offline.
pub(crate) fn build_web_app(name: &str) -> (PathBuf, serde_json::Value) {
    let root = scratch(&format!("web-{name}"));
    let app = root.join("app");
    copy_tree(&fixture(name), &app);
    let wasm = root.join("app.wasm");
    let wheels = required_env(TEST_WHEELS_ENV);
    let output = Command::new(env!("CARGO_BIN_EXE_pyedge"))
        .args([
            "build",
            app.to_str().unwrap(),
            "-o",
            wasm.to_str().unwrap(),
            "--json",
        ])
        .args(["--find-links", wheels.to_str().unwrap(), "--offline"])
        .env("PYEDGE_CACHE_DIR", root.join("cache"))
        .output()
        .expect("run pyedge build");
    assert!(
        output.status.success(),
        "build {name}: {}",
        describe(&output)
    );
    let report = serde_json::from_slice(&output.stdout).expect("one JSON document");
    (wasm, report)
}

/// A running host: `pyedge serve` or the upstream `wasmtime serve`.
pub(crate) enum Host {
    Pyedge(Server),
    Wasmtime {
        child: Child,
        base: String,
        stderr: Arc<Mutex<String>>,
    },
}

impl Host {
    pub(crate) fn pyedge(wasm: &Path) -> Host {
        Host::Pyedge(Server::start(wasm))
    }

    /// `pyedge serve` with extra flags (`--env K=V`, `--config K=V`...).
    pub(crate) fn pyedge_with(wasm: &Path, flags: &[&str]) -> Host {
        Host::Pyedge(Server::start_with_args(wasm, flags))
    }

    /// `wasmtime serve` with no -S flags: the proxy world only.
    pub(crate) fn wasmtime(wasm: &Path) -> Host {
        Host::wasmtime_with(wasm, &[])
    }

    /// `wasmtime serve` with extra flags before the component (`-Scli`, `--env K=V`...).
    pub(crate) fn wasmtime_with(wasm: &Path, flags: &[&str]) -> Host {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = Command::new(required_env(WASMTIME_CLI_ENV))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(flags)
            .arg(wasm)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wasmtime serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let reader = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "wasmtime serve did not start: {}",
                stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Host::Wasmtime {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        match self {
            Host::Pyedge(server) => server.url(path),
            Host::Wasmtime { base, .. } => format!("{base}{path}"),
        }
    }

    pub(crate) fn stderr(&self) -> String {
        match self {
            Host::Pyedge(server) => server.stderr(),
            Host::Wasmtime { stderr, .. } => {
                std::thread::sleep(Duration::from_millis(200));
                stderr.lock().unwrap().clone()
            }
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Host::Wasmtime { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// GET `path` by hand over HTTP/1.1 and return each chunk of the chunked body with the
/// time it arrived, so a test can see the chunks came separately.
pub(crate) fn chunks_of(url: &str) -> Vec<(Instant, String)> {
    let rest = url.strip_prefix("http://").expect("http url");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut chunked = false;
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read head");
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    assert!(chunked, "the streamed response is not chunked");
    let mut chunks = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read chunk size");
        let at = Instant::now();
        let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
        let mut data = vec![0; size + 2];
        reader.read_exact(&mut data).expect("read chunk");
        if size == 0 {
            break;
        }
        chunks.push((at, String::from_utf8_lossy(&data[..size]).into_owned()));
    }
    chunks
}

/// What differs between frameworks in the battery.
struct Expect {
    /// The text of the app's 500 traceback's last line.
    boom: &'static str,
    /// The HEAD status (a framework without automatic HEAD has an explicit route).
    head_status: u16,
}

fn battery(name: &str, host: &Host, expect: &Expect) {
    let ctx = |what: &str, reply: &Reply| {
        format!(
            "{name} {what}: status {} body {:?}\n--- host stderr\n{}",
            reply.status,
            text(reply),
            host.stderr()
        )
    };
    // Routing, a path parameter and a query string.
    let reply = request("GET", &host.url("/hello/Ada?greeting=Hi"), &[], None);
    assert_eq!(
        (reply.status, text(&reply).as_str()),
        (200, "Hi, Ada!"),
        "{}",
        ctx("hello", &reply)
    );
    let reply = request("GET", &host.url("/hello/Grace"), &[], None);
    assert_eq!(
        text(&reply),
        "Hello, Grace!",
        "{}",
        ctx("hello default", &reply)
    );

    // A request header sent twice reaches the app as both values.
    let reply = request(
        "GET",
        &host.url("/tags"),
        &[("x-tag", "a"), ("x-tag", "b")],
        None,
    );
    assert_eq!(
        text(&reply).replace(", ", ","),
        "a,b",
        "{}",
        ctx("repeated header", &reply)
    );

    // Two Set-Cookie headers stay two headers.
    let reply = request("GET", &host.url("/cookies"), &[], None);
    let cookies: Vec<_> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(cookies.len(), 2, "{}: {cookies:?}", ctx("cookies", &reply));
    assert!(cookies[0].starts_with("session=abc"), "{cookies:?}");
    assert!(cookies[1].starts_with("theme=dark"), "{cookies:?}");

    // A 300 KB body comes back byte for byte.
    let body: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let reply = request(
        "POST",
        &host.url("/echo"),
        &[("content-type", "application/octet-stream")],
        Some(&body),
    );
    assert_eq!(reply.status, 200, "{}", ctx("echo", &reply));
    assert!(
        reply.body == body,
        "{name} echo: {} bytes back",
        reply.body.len()
    );

    // A JSON body.
    let order = br#"{"items": [{"name": "tea", "price": 2.5}, {"name": "cake", "price": 4.0}]}"#;
    let reply = request(
        "POST",
        &host.url("/total"),
        &[("content-type", "application/json")],
        Some(order),
    );
    assert_eq!(reply.status, 200, "{}", ctx("json", &reply));
    let doc: serde_json::Value = serde_json::from_slice(&reply.body).expect("json reply");
    assert_eq!(
        (doc["items"].as_i64(), doc["total"].as_f64()),
        (Some(2), Some(6.5))
    );

    // A streamed response: three chunks, 0.2 s apart at the source, arrive one by one.
    let chunks = chunks_of(&host.url("/stream"));
    let texts: Vec<_> = chunks.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts.concat(),
        "chunk 0\nchunk 1\nchunk 2\n",
        "{name} stream"
    );
    assert!(chunks.len() >= 3, "{name}: chunks were merged: {texts:?}");
    let spread = chunks.last().unwrap().0 - chunks[0].0;
    assert!(
        spread >= Duration::from_millis(300),
        "{name}: the first chunk did not arrive before the last was made ({spread:?})"
    );

    // HEAD has no body; 204 has none either.
    let reply = request("HEAD", &host.url("/hello/Ada"), &[], None);
    assert_eq!(reply.status, expect.head_status, "{}", ctx("head", &reply));
    assert!(reply.body.is_empty(), "{name}: HEAD with a body");
    let reply = request("GET", &host.url("/empty"), &[], None);
    assert_eq!(
        (reply.status, reply.body.len()),
        (204, 0),
        "{}",
        ctx("204", &reply)
    );

    // The app's 404 handler.
    let reply = request("GET", &host.url("/missing/page"), &[], None);
    assert_eq!(
        (reply.status, text(&reply).as_str()),
        (404, "not found: /missing/page"),
        "{}",
        ctx("404", &reply)
    );

    // An exception: a 500, and the traceback on the host's stderr.
    let reply = request("GET", &host.url("/boom"), &[], None);
    assert_eq!(reply.status, 500, "{}", ctx("boom", &reply));
    let log = host.stderr();
    assert!(
        log.contains("Traceback (most recent call last)") && log.contains(expect.boom),
        "{name}: no traceback on stderr:\n{log}"
    );
}

fn serves_everywhere(name: &str, interface: &str, expect: Expect) {
    let (wasm, report) = build_web_app(name);
    assert_eq!(report["world"], "http", "{report}");
    assert_eq!(report["interface"], interface, "{report}");
    battery(name, &Host::pyedge(&wasm), &expect);
    battery(name, &Host::wasmtime(&wasm), &expect);
}

#[test]
fn starlette_asgi() {
    serves_everywhere(
        "web-starlette",
        "asgi",
        Expect {
            boom: "RuntimeError: boom from starlette",
            head_status: 200,
        },
    );
}

#[test]
fn fastapi_on_pydantic_v1() {
    serves_everywhere(
        "web-fastapi",
        "asgi",
        Expect {
            boom: "RuntimeError: boom from fastapi",
            head_status: 200,
        },
    );
}

#[test]
fn django_wsgi() {
    serves_everywhere(
        "web-django",
        "wsgi",
        Expect {
            boom: "RuntimeError: boom from django",
            head_status: 200,
        },
    );
}

#[test]
fn bottle_wsgi() {
    serves_everywhere(
        "web-bottle",
        "wsgi",
        Expect {
            boom: "RuntimeError: boom from bottle",
            head_status: 200,
        },
    );
}

#[test]
fn falcon_wsgi() {
    serves_everywhere(
        "web-falcon",
        "wsgi",
        Expect {
            boom: "RuntimeError: boom from falcon",
            head_status: 200,
        },
    );
}

#[test]
fn async_handler_runs_on_the_wasi_event_loop() {
    let wasm = crate::common::built("async-handler", &[]);
    for host in [Host::pyedge(&wasm), Host::wasmtime(&wasm)] {
        let reply = request("GET", &host.url("/"), &[], None);
        assert_eq!(
            (reply.status, text(&reply).as_str()),
            (200, "[1, 4, 9] timed out 14 EventLoop"),
            "{}",
            host.stderr()
        );
    }
}

#[test]
fn script_runs_asyncio_run() {
    let wasm = crate::common::built("async-script", &[]);
    let run = crate::common::run_component(&wasm, &["x", "y", "z"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Each task sleeps less than the one before it: they finish in reverse.
    assert_eq!(run.stdout.trim(), "finished in order: z y x");
}

#[test]
fn flask_wsgi_with_templates_and_markupsafe_built_pure() {
    let (wasm, report) = build_web_app("web-flask");
    assert_eq!(report["interface"], "wsgi", "{report}");
    let said = report.to_string();
    assert!(
        said.contains("markupsafe") && said.contains("built pure from sdist"),
        "build does not say MarkupSafe was built pure from its sdist: {report}"
    );
    let expect = Expect {
        boom: "RuntimeError: boom from flask",
        head_status: 200,
    };
    for host in [Host::pyedge(&wasm), Host::wasmtime(&wasm)] {
        battery("web-flask", &host, &expect);
        // Jinja2 templates with inheritance, autoescaping (MarkupSafe) and url_for.
        let reply = request("GET", &host.url("/page/%3Cb%3EAda"), &[], None);
        let page = text(&reply);
        assert_eq!(reply.status, 200, "{page}\n{}", host.stderr());
        assert!(
            page.contains("<title>Hi &lt;b&gt;Ada - Edge</title>"),
            "{page}"
        );
        assert!(page.contains("<li>tea</li><li>cake</li>"), "{page}");
        assert!(page.contains(r#"<a href="/hello/%3Cb%3EAda">"#), "{page}");
        // A form post answered with a redirect built by url_for.
        let reply = request(
            "POST",
            &host.url("/signup"),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(b"name=Grace"),
        );
        assert_eq!(reply.status, 200, "{}", text(&reply));
        assert!(text(&reply).contains("Hello, Grace!"), "{}", text(&reply));
        // The app's own 400 handler.
        let reply = request(
            "POST",
            &host.url("/signup"),
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(b"name="),
        );
        assert_eq!(
            (reply.status, text(&reply).trim()),
            (400, r#"{"error":"name is required"}"#)
        );
    }
}
