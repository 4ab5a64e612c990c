//! The server's log: one access line per request and how durations are written in it
//! and in the server's messages.

use hyper::header::HeaderMap;
use hyper::{Method, StatusCode};
use std::time::{Duration, SystemTime};

/// The per-request log line: `METHOD PATH STATUS LATENCYms`.
pub(super) fn log_line(
    method: &Method,
    path: &str,
    status: StatusCode,
    elapsed: Duration,
) -> String {
    format!(
        "{method} {path} {} {:.1}ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1e3
    )
}

/// The per-request line as one JSON object, in the shape of `pyedge.logs` (an app with
/// `log-format = "json"`): `ts`, `level`, `logger`, `msg` (the text line), `method`,
/// `path`, `status`, `duration_ms`, and the request's `x-request-id` and the trace id of
/// its W3C `traceparent` when it has them.
pub(super) fn json_log_line(
    method: &Method,
    path: &str,
    status: StatusCode,
    elapsed: Duration,
    headers: &HeaderMap,
    now: SystemTime,
) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut doc = serde_json::json!({
        "ts": humantime::format_rfc3339_millis(now).to_string(),
        "level": if status.is_server_error() { "error" } else { "info" },
        "logger": "pyedge.serve",
        "msg": log_line(method, path, status, elapsed),
        "method": method.as_str(),
        "path": path,
        "status": status.as_u16(),
        "duration_ms": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
    });
    if let Some(id) = header("x-request-id") {
        doc["request_id"] = id.into();
    }
    let trace = header("traceparent").and_then(|v| {
        let id = v.trim().split('-').nth(1)?;
        (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| id.to_ascii_lowercase())
    });
    if let Some(trace_id) = trace {
        doc["trace_id"] = trace_id.into();
    }
    doc.to_string()
}

/// A limit's duration as the user would write it: `30s`, or `1500ms` when not whole seconds.
pub(super) fn format_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_name_method_path_status_and_latency() {
        let line = log_line(
            &Method::POST,
            "/echo",
            StatusCode::PAYLOAD_TOO_LARGE,
            Duration::from_micros(1250),
        );
        assert_eq!(line, "POST /echo 413 1.2ms");
    }

    #[test]
    fn json_lines_carry_the_request_and_its_trace() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-7".parse().unwrap());
        headers.insert(
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let line = json_log_line(
            &Method::GET,
            "/orders",
            StatusCode::BAD_GATEWAY,
            Duration::from_micros(1250),
            &headers,
            now,
        );
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["ts"], "2023-11-14T22:13:20.123Z");
        assert_eq!(doc["level"], "error");
        assert_eq!(doc["msg"], "GET /orders 502 1.2ms");
        assert_eq!(doc["status"], 502);
        assert_eq!(doc["duration_ms"], 1.25);
        assert_eq!(doc["request_id"], "req-7");
        assert_eq!(doc["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        let bare = json_log_line(
            &Method::GET,
            "/",
            StatusCode::OK,
            Duration::ZERO,
            &HeaderMap::new(),
            now,
        );
        let doc: serde_json::Value = serde_json::from_str(&bare).unwrap();
        assert!(doc.get("request_id").is_none() && doc.get("trace_id").is_none());
    }

    #[test]
    fn durations_are_written_as_whole_seconds_or_milliseconds() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }
}
