//! `pyedge serve` under its limits, end to end: a Python app that misbehaves on purpose
//! (runs forever, allocates without end, sleeps), served by the real binary with small
//! limits; every bad request gets its status and the server goes on answering.

use crate::common::serve::{request, text, Server};
use crate::common::{describe, pyedge, scratch};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const APP: &str = r#"
import time
from pyedge.http import Response

def handle_request(request):
    if request.path == "/loop":
        while True:
            pass
    if request.path == "/hog":
        chunks = []
        while True:
            chunks.append(bytearray(1 << 20))
    if request.path == "/sleep":
        time.sleep(60)
    if request.path == "/echo":
        return Response(200, {}, request.body)
    return Response(200, {"content-type": "text/plain"}, "ok")
"#;

/// The misbehaving app, built once per test process.
fn limits_app() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = scratch("serve-limits-app");
            std::fs::write(dir.join("app.py"), APP).unwrap();
            let out = dir.join("app.wasm");
            let output = pyedge()
                .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
                .output();
            assert!(output.status.success(), "build: {}", describe(&output));
            out
        })
        .clone()
}

fn get(server: &Server, path: &str) -> (u16, String) {
    let reply = request("GET", &server.url(path), &[], None);
    (reply.status, text(&reply))
}

#[test]
fn runaway_handlers_get_504_and_the_server_keeps_serving() {
    let server = Server::start_with_args(&limits_app(), &["--timeout", "1s"]);
    for path in ["/loop", "/sleep"] {
        let start = Instant::now();
        let (status, body) = get(&server, path);
        assert_eq!(status, 504, "{path}: {body}");
        assert!(body.contains("1s"), "{body}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{path} took {:?}",
            start.elapsed()
        );
        assert_eq!(get(&server, "/"), (200, "ok".to_string()));
    }
    let log = server.stderr();
    assert!(log.contains("GET /loop 504"), "{log}");
    assert!(log.contains("stopped at the 1s deadline"), "{log}");
}

#[test]
fn memory_hog_gets_500_with_its_traceback_and_the_server_keeps_serving() {
    let server = Server::start_with_args(&limits_app(), &["--memory-limit", "96MB"]);
    let (status, body) = get(&server, "/hog");
    assert_eq!(status, 500, "{body}");
    assert!(
        !body.contains("wasm"),
        "trap text leaked to the client: {body}"
    );
    assert_eq!(get(&server, "/"), (200, "ok".to_string()));
    let log = server.stderr();
    assert!(log.contains("MemoryError"), "{log}");
    assert!(log.contains("memory limit reached"), "{log}");
}

#[test]
fn oversized_bodies_get_413_before_the_handler_runs() {
    let server = Server::start_with_args(&limits_app(), &["--max-body-size", "1KB"]);
    let small = vec![b'a'; 1000];
    let reply = request("POST", &server.url("/echo"), &[], Some(&small));
    assert_eq!((reply.status, reply.body.len()), (200, 1000));
    let big = vec![b'a'; 1001];
    let reply = request("POST", &server.url("/echo"), &[], Some(&big));
    assert_eq!(reply.status, 413, "{}", text(&reply));
    assert!(text(&reply).contains("--max-body-size"), "{}", text(&reply));

    // A chunked body of unknown length is counted as it arrives.
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let chunk = "a".repeat(600);
    write!(
        stream,
        "POST /echo HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\r\n\
         258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(get(&server, "/"), (200, "ok".to_string()));
}

#[test]
fn saturated_server_answers_503_then_recovers() {
    let server = Server::start_with_args(
        &limits_app(),
        &["--max-concurrency", "1", "--timeout", "2s"],
    );
    let busy = {
        let url = server.url("/loop");
        std::thread::spawn(move || request("GET", &url, &[], None).status)
    };
    std::thread::sleep(Duration::from_millis(500));
    let reply = request("GET", &server.url("/"), &[], None);
    assert_eq!(reply.status, 503, "{}", text(&reply));
    assert!(
        text(&reply).contains("--max-concurrency"),
        "{}",
        text(&reply)
    );
    assert_eq!(busy.join().unwrap(), 504);
    assert_eq!(get(&server, "/"), (200, "ok".to_string()));
}

#[test]
fn ctrl_c_finishes_the_request_in_flight_and_exits_0() {
    let mut server = Server::start_with_args(&limits_app(), &["--timeout", "2s"]);
    let in_flight = {
        let url = server.url("/sleep");
        std::thread::spawn(move || request("GET", &url, &[], None).status)
    };
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.interrupt(), Some(0), "{}", server.stderr());
    assert_eq!(in_flight.join().unwrap(), 504);
    let log = server.stderr();
    assert!(log.contains("stopping"), "{log}");
    assert!(log.contains("GET /sleep 504"), "{log}");
}

#[test]
fn files_that_cannot_be_served_are_usage_errors_naming_the_file() {
    let dir = scratch("serve-bad-inputs");
    let missing = dir.join("missing.wasm");
    let script = dir.join("app.py");
    std::fs::write(&script, "print('hi')\n").unwrap();
    for (path, says) in [(&missing, "cannot read"), (&script, "not a WebAssembly")] {
        let output = pyedge().args(["serve", path.to_str().unwrap()]).output();
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
