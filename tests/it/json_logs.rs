//! Structured logs (issue 18, part 4): an app built with `log-format = "json"`
//! (fixtures/apps/json-logs) writes one JSON object per `logging` record, with the
//! request's method, path, request id and inbound trace id, under `pyedge serve
//! --log-format json` (whose own request lines are JSON too) and a plain `wasmtime
//! serve`; an exception is one JSON line with its traceback; the outbound call carries
//! the trace on in its `traceparent`.

use crate::common::serve::{request, Server};
use crate::common::upstream;
use crate::web_apps::Host;
use std::sync::{Arc, Mutex};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A loopback upstream that records each request's `traceparent`.
fn start_upstream() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let base = upstream::serve(move |req| {
        log.lock().unwrap().push(req.header("traceparent"));
        upstream::response("200 OK", "", b"ok")
    });
    (format!("{base}/stock"), seen)
}

/// The guest's and the server's log lines as JSON (wasmtime's `stderr [N] :: ` prefix
/// removed; the hosts' own start-up lines are not the app's and are skipped).
fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter(|l| !l.starts_with("listening on") && !l.starts_with("Serving HTTP"))
        .map(|l| l.split_once(" :: ").map_or(l, |(_, rest)| rest))
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l:?}\n{log}")))
        .collect()
}

fn logs_are_json(host: &Host, seen: &Arc<Mutex<Vec<String>>>, upstream: &str) {
    let traceparent = format!("00-{TRACE}-00f067aa0ba902b7-01");
    let reply = request(
        "GET",
        &host.url("/orders"),
        &[
            ("traceparent", &traceparent),
            ("x-request-id", "req-1"),
            ("x-upstream", upstream),
        ],
        None,
    );
    assert_eq!(reply.status, 200, "{}", host.stderr());
    let reply = request(
        "GET",
        &host.url("/boom"),
        &[("traceparent", &traceparent)],
        None,
    );
    assert_eq!(reply.status, 500);
    let lines = json_lines(&host.stderr());
    let app: Vec<_> = lines
        .iter()
        .filter(|d| d["logger"] != "pyedge.serve")
        .collect();
    let looked_up = app
        .iter()
        .find(|d| d["msg"] == "looking up /orders")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(
        (
            &looked_up["level"],
            &looked_up["method"],
            &looked_up["path"]
        ),
        (&"info".into(), &"GET".into(), &"/orders".into())
    );
    assert_eq!(looked_up["request_id"], "req-1");
    assert_eq!(looked_up["trace_id"], TRACE);
    let warned = app
        .iter()
        .find(|d| d["msg"] == "upstream answered 200")
        .unwrap();
    assert_eq!(warned["level"], "warning");
    let failed = app
        .iter()
        .find(|d| d["logger"] == "pyedge")
        .unwrap_or_else(|| panic!("no error line: {lines:?}"));
    assert_eq!(failed["level"], "error");
    assert_eq!(failed["path"], "/boom");
    assert_eq!(failed["trace_id"], TRACE);
    assert!(failed["exc"]
        .as_str()
        .unwrap()
        .contains("RuntimeError: the shop is on fire"));
    // Every app line carries the inbound trace; the upstream saw it continued.
    assert!(app.iter().all(|d| d["trace_id"] == TRACE), "{app:?}");
    let sent = seen
        .lock()
        .unwrap()
        .pop()
        .expect("the upstream got no traceparent");
    let parts: Vec<_> = sent.split('-').collect();
    assert_eq!((parts.len(), parts[1]), (4, TRACE), "{sent}");
    assert_eq!(parts[2], looked_up["span_id"], "{sent}");
}

#[test]
fn json_logs_carry_the_request_and_its_trace() {
    let (upstream, seen) = start_upstream();
    let wasm = crate::common::built("json-logs", &[]);
    let server = Host::Pyedge(Server::start_with_args(&wasm, &["--log-format", "json"]));
    logs_are_json(&server, &seen, &upstream);
    let serve_lines: Vec<_> = json_lines(&server.stderr())
        .into_iter()
        .filter(|d| d["logger"] == "pyedge.serve")
        .collect();
    assert_eq!(serve_lines.len(), 2, "{serve_lines:?}");
    assert_eq!(
        (&serve_lines[0]["path"], &serve_lines[0]["status"]),
        (&"/orders".into(), &200.into())
    );
    assert_eq!(serve_lines[0]["trace_id"], TRACE);
    assert_eq!(serve_lines[1]["status"], 500);
    logs_are_json(&Host::wasmtime(&wasm), &seen, &upstream);
}
