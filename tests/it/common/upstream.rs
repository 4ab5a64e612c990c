//! Loopback servers standing in for the upstreams and origins that components call out
//! to: a test gives the answer for each request it receives, and asserts on what came.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// One request as the upstream received it.
pub struct Incoming {
    /// `GET`, `POST`...
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The request line and header lines, as sent.
    pub head: String,
    /// The body, from its `content-length` or its chunked encoding.
    pub body: Vec<u8>,
    /// Whether it came chunked.
    pub chunked: bool,
}

impl Incoming {
    /// The value of header `name` (case-insensitive), or "".
    pub fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    }
}

/// Read one HTTP/1.1 request from `reader`.
pub fn read_request(reader: &mut impl BufRead) -> Option<Incoming> {
    let (mut head, mut line) = (String::new(), String::new());
    while reader.read_line(&mut line).ok()? > 2 {
        head.push_str(&line);
        line.clear();
    }
    let mut words = head.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let mut incoming = Incoming {
        method,
        target,
        head,
        body: Vec::new(),
        chunked: false,
    };
    if incoming
        .header("transfer-encoding")
        .eq_ignore_ascii_case("chunked")
    {
        incoming.chunked = true;
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim(), 16).ok()?;
            let start = incoming.body.len();
            incoming.body.resize(start + size, 0);
            reader.read_exact(&mut incoming.body[start..]).ok()?;
            line.clear();
            reader.read_line(&mut line).ok()?; // the CRLF after the chunk
            if size == 0 {
                break;
            }
        }
    } else {
        let length = incoming.header("content-length").parse().unwrap_or(0);
        incoming.body.resize(length, 0);
        reader.read_exact(&mut incoming.body).ok()?;
    }
    Some(incoming)
}

/// A whole response: `status` (`200 OK`), extra header lines (each ending in CRLF), and
/// the body with its `content-length`; the connection closes after it.
pub fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Serve on 127.0.0.1 (a free port), a thread per connection, answering each request
/// with `answer(request)` (the bytes of a whole response, see [`response`]); returns the
/// base URL, `http://127.0.0.1:PORT`.
pub fn serve(answer: impl Fn(Incoming) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an upstream");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if let Some(incoming) = read_request(&mut reader) {
                    let _ = stream.write_all(&answer(incoming));
                }
            });
        }
    });
    base
}

/// A loopback URL nothing listens on (a port bound, then let go).
pub fn refused_url(path: &str) -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}{path}")
}
