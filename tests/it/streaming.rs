//! Streaming bodies (issue 18, part 2) with a plain handler (fixtures/apps/streaming): a
//! 100 MB upload passed through to a loopback upstream as it arrives (`request.stream()`
//! as an outbound body), a 100 MB download passed back as it arrives (`send(...,
//! stream=True)` as a response body), a 100 MB upload hashed chunk by chunk, each under
//! `pyedge serve --memory-limit 64MB`: an instance that held one of them whole would run
//! out of memory (a 500). And a generator's chunks reach the client one by one.

use crate::common::serve::{request, text, Server};
use crate::common::upstream;
use crate::web_apps::{chunks_of, Host};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::sync::OnceLock;
use std::time::Duration;

const BIG: usize = 100 << 20;

fn payload() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| (0..BIG).map(|i| (i * 7 % 251) as u8).collect())
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A loopback upstream: `POST /sink` answers `SIZE SHA256` of the body it got (chunked
/// or not); `GET /big` answers the 100 MB payload.
fn start_upstream() -> String {
    upstream::serve(|req| {
        if req.target == "/big" {
            return upstream::response("200 OK", "", payload());
        }
        let answer = format!("{} {}", req.body.len(), sha256_hex(&req.body));
        upstream::response("200 OK", "", answer.as_bytes())
    })
}

/// POST `data` by hand; the response's status, if the server's answer could be read.
fn post_ignoring_a_cut(url: &str, data: &[u8]) -> Option<String> {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        data.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(data));
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1).map(str::to_string)
}

fn streams_both_ways(host: &Host, upstream: &str, data: &[u8]) {
    let expected = format!("{} {}", data.len(), sha256_hex(data));
    let octets = ("content-type", "application/octet-stream");
    let sink = format!("{upstream}/sink");
    let reply = request(
        "POST",
        &host.url("/upload"),
        &[octets, ("x-upstream", &sink)],
        Some(data),
    );
    assert_eq!(
        (reply.status, text(&reply)),
        (200, expected.clone()),
        "upload\n{}",
        host.stderr()
    );
    let reply = request("POST", &host.url("/count"), &[octets], Some(data));
    assert_eq!(
        (reply.status, text(&reply)),
        (200, expected),
        "count\n{}",
        host.stderr()
    );
    let reply = request(
        "GET",
        &host.url("/download"),
        &[("x-upstream", &format!("{upstream}/big"))],
        None,
    );
    assert_eq!(reply.status, 200, "download\n{}", host.stderr());
    assert!(
        reply.body == payload(),
        "download: {} bytes back",
        reply.body.len()
    );
    let chunks = chunks_of(&host.url("/ticks"));
    let texts: Vec<_> = chunks.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts.concat(), "tick 0\ntick 1\ntick 2\n");
    assert!(chunks.len() >= 3, "{texts:?}");
    assert!(chunks.last().unwrap().0 - chunks[0].0 >= Duration::from_millis(300));
}

#[test]
fn bodies_stream_through_a_handler_in_bounded_memory() {
    let upstream = start_upstream();
    let wasm = crate::common::built("streaming", &[]);
    let server = Host::Pyedge(Server::start_with_args(
        &wasm,
        &[
            "--memory-limit",
            "64MB",
            "--max-body-size",
            "200MB",
            "--timeout",
            "120s",
        ],
    ));
    streams_both_ways(&server, &upstream, payload());
    // The control: a handler that reads the same upload whole runs out of memory there.
    // (It answers 500 before the upload is all sent, so the client may see its write cut.)
    let status = post_ignoring_a_cut(&server.url("/whole"), payload());
    assert!(
        matches!(status.as_deref(), Some("500") | None),
        "{status:?}"
    );
    assert!(
        server.stderr().contains("MemoryError"),
        "{}",
        server.stderr()
    );
    // The same under a plain wasmtime serve, with a 5 MB upload.
    streams_both_ways(&Host::wasmtime(&wasm), &upstream, &payload()[..5 << 20]);
}
