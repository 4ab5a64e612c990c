//! Outbound HTTP from the standard clients (issue 18, part 1): `urllib.request`,
//! `requests` and httpx (sync and async) in fixtures/apps/outbound-clients, unchanged, reach a loopback upstream
//! started here through the host's wasi:http/outgoing-handler, under `pyedge serve` and
//! a plain `wasmtime serve`: GET, POST and PUT with JSON and binary bodies, a redirect,
//! a 404 as each library's HTTP error, a refused connection and a timeout as each
//! library's own exception types.

use crate::common::serve::{request, text};
use crate::common::upstream;
use crate::web_apps::{build_web_app, Host};
use std::time::Duration;

/// A loopback upstream: `/json`, `/echo` (method, content type and body back),
/// `/redirect` (302 to /json), `/slow` (answers after 3 s), anything else 404.
fn start_upstream() -> String {
    upstream::serve(|req| match req.target.as_str() {
        "/json" => upstream::response("200 OK", "", br#"{"hello": "world"}"#),
        "/echo" => {
            // As text (binary bytes replaced), so every client can decode the answer.
            let answer = format!(
                "{} {} {}",
                req.method,
                req.header("content-type"),
                String::from_utf8_lossy(&req.body)
            );
            upstream::response("200 OK", "", answer.as_bytes())
        }
        "/redirect" => upstream::response("302 Found", "location: /json\r\n", b""),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(3));
            upstream::response("200 OK", "", b"late")
        }
        _ => upstream::response("404 Not Found", "", b"no such page"),
    })
}

fn call(
    host: &Host,
    client: &str,
    method: &str,
    url: &str,
    body: Option<(&str, &[u8])>,
    timeout: &str,
) -> serde_json::Value {
    let query = format!(
        "/?client={client}&method={method}&timeout={timeout}&url={}",
        url.replace(':', "%3A").replace('/', "%2F")
    );
    let headers: Vec<(&str, &str)> = body.iter().map(|(ct, _)| ("content-type", *ct)).collect();
    let reply = request("POST", &host.url(&query), &headers, body.map(|(_, b)| b));
    assert_eq!(reply.status, 200, "{}\n{}", text(&reply), host.stderr());
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|_| panic!("not JSON: {}\n{}", text(&reply), host.stderr()))
}

fn clients_work_through(host: &Host, upstream: &str) {
    for client in ["urllib", "requests", "httpx", "httpx-async"] {
        let got = call(host, client, "GET", &format!("{upstream}/json"), None, "10");
        assert_eq!(got["status"], 200, "{client}: {got}");
        assert_eq!(got["body"], r#"{"hello": "world"}"#, "{client}: {got}");

        let json = br#"{"n": 1}"#;
        for method in ["POST", "PUT"] {
            let got = call(
                host,
                client,
                method,
                &format!("{upstream}/echo"),
                Some(("application/json", json)),
                "10",
            );
            assert_eq!(
                got["body"],
                format!("{method} application/json {{\"n\": 1}}"),
                "{client}: {got}"
            );
        }
        let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let got = call(
            host,
            client,
            "POST",
            &format!("{upstream}/echo"),
            Some(("application/octet-stream", &binary)),
            "10",
        );
        let echoed = got["body"].as_str().unwrap_or_default();
        assert!(
            echoed.starts_with("POST application/octet-stream ") && echoed.len() > 5000,
            "{client}: {got}"
        );

        let got = call(
            host,
            client,
            "GET",
            &format!("{upstream}/redirect"),
            None,
            "10",
        );
        assert_eq!(
            (got["status"].as_i64(), got["url"].as_str()),
            (Some(200), Some(format!("{upstream}/json").as_str())),
            "{client} redirect: {got}"
        );
    }

    let missing = format!("{upstream}/missing");
    let got = call(host, "urllib", "GET", &missing, None, "10");
    assert_eq!(got["error"], "urllib.error.HTTPError", "{got}");
    assert!(got["detail"].as_str().unwrap().contains("404"), "{got}");
    let got = call(host, "requests", "GET", &missing, None, "10");
    assert_eq!(got["error"], "requests.exceptions.HTTPError", "{got}");
    for client in ["httpx", "httpx-async"] {
        let got = call(host, client, "GET", &missing, None, "10");
        assert_eq!(got["error"], "httpx.HTTPStatusError", "{client}: {got}");
    }

    let refused = upstream::refused_url("/json");
    let got = call(host, "urllib", "GET", &refused, None, "10");
    assert_eq!(
        (got["error"].as_str(), got["reason"].as_str()),
        (Some("urllib.error.URLError"), Some("ConnectionError")),
        "{got}"
    );
    let got = call(host, "requests", "GET", &refused, None, "10");
    assert_eq!(got["error"], "requests.exceptions.ConnectionError", "{got}");
    for client in ["httpx", "httpx-async"] {
        let got = call(host, client, "GET", &refused, None, "10");
        assert_eq!(got["error"], "httpx.ConnectError", "{client}: {got}");
    }

    let slow = format!("{upstream}/slow");
    let got = call(host, "urllib", "GET", &slow, None, "0.5");
    assert_eq!(
        (got["error"].as_str(), got["reason"].as_str()),
        (Some("urllib.error.URLError"), Some("TimeoutError")),
        "{got}"
    );
    let got = call(host, "requests", "GET", &slow, None, "0.5");
    assert_eq!(got["error"], "requests.exceptions.ReadTimeout", "{got}");
    for client in ["httpx", "httpx-async"] {
        let got = call(host, client, "GET", &slow, None, "0.5");
        assert_eq!(got["error"], "httpx.ReadTimeout", "{client}: {got}");
    }
}

#[test]
fn urllib_requests_and_httpx_reach_the_upstream_through_the_host() {
    let upstream = start_upstream();
    let (wasm, _) = build_web_app("outbound-clients");
    clients_work_through(&Host::pyedge(&wasm), &upstream);
    clients_work_through(&Host::wasmtime(&wasm), &upstream);
}
