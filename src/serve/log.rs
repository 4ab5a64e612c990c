//! The server's log: one access line per request and how durations are written in it
//! and in the server's messages.

use hyper::{Method, StatusCode};
use std::time::Duration;

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
    fn durations_are_written_as_whole_seconds_or_milliseconds() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }
}
