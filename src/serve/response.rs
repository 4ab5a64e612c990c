//! The answers the server gives itself, without the guest (or after it failed): short
//! plain-text responses that name the flag behind them; the details go to the log.

use super::log::format_duration;
use crate::report::human_bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use std::convert::Infallible;
use std::fmt::Display;
use std::time::Duration;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A plain-text response.
fn text_response(status: StatusCode, text: impl Into<String>) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from(text.into()))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// 500: the handler failed or answered with an error.
pub(super) fn internal_error() -> Response<HyperOutgoingBody> {
    text_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error: the handler failed (details in the server log)\n",
    )
}

/// 413: the request body is over `--max-body-size`.
pub(super) fn too_large(limit: u64) -> Response<HyperOutgoingBody> {
    let mut response = text_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "Payload Too Large: the request body is over the {} limit (--max-body-size)\n",
            human_bytes(limit)
        ),
    );
    // The rest of the body may still be on its way: do not reuse this connection.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// 503: `--max-concurrency` requests are already in flight.
pub(super) fn busy(max_concurrency: usize) -> Response<HyperOutgoingBody> {
    let mut response = text_response(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "Service Unavailable: {max_concurrency} requests already in flight \
             (--max-concurrency); retry shortly\n"
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 504: the handler did not answer within `--timeout`.
pub(super) fn gateway_timeout(timeout: Duration) -> Response<HyperOutgoingBody> {
    text_response(
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "Gateway Timeout: the handler did not answer within {}\n",
            format_duration(timeout)
        ),
    )
}

/// 400: a request the guest cannot be given.
pub(super) fn bad_request(reason: impl Display) -> Response<HyperOutgoingBody> {
    text_response(StatusCode::BAD_REQUEST, format!("Bad Request: {reason}\n"))
}
