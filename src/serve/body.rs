//! Bodies on their way through the server: the request body held to `--max-body-size`
//! before the guest reads any of it (streamed, buffered, or refused and drained so the
//! client reads the answer), and the guest's response body, which must not end cleanly
//! when the guest failed halfway through it.

use super::response::{bad_request, too_large};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap};
use hyper::Response;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use wasmtime_wasi_http::p2::body::{HyperIncomingBody, HyperOutgoingBody};

/// A rejected request body (413, 503) is read and discarded up to this many bytes, so the
/// client can finish sending and read our answer instead of a connection reset.
const DRAIN_CAP: u64 = 64 << 20;
/// ... and for at most this long.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The request body as the guest will read it, or the answer when it is refused (413
/// over `limit`, 400 when it cannot be read).
pub(super) async fn request_body(
    body: Incoming,
    headers: &HeaderMap,
    limit: u64,
) -> Result<HyperIncomingBody, Response<HyperOutgoingBody>> {
    match plan_body(body.size_hint().exact(), limit) {
        BodyPlan::Stream => Ok(body.map_err(Into::into).boxed_unsync()),
        BodyPlan::Reject => {
            discard_body(body, headers).await;
            Err(too_large(limit))
        }
        BodyPlan::Buffer => match buffer_body(body, limit).await {
            Ok(bytes) => Ok(Full::new(bytes).map_err(Into::into).boxed_unsync()),
            Err(BodyError::TooLarge) => Err(too_large(limit)),
            Err(BodyError::Read(err)) => Err(bad_request(format_args!(
                "cannot read the request body: {err}"
            ))),
        },
    }
}

/// How to treat a request body before the guest sees it.
#[derive(Debug, PartialEq, Eq)]
enum BodyPlan {
    /// Known length within the limit: stream it to the guest.
    Stream,
    /// Unknown length (chunked): read it here, up to the limit, then hand it over.
    Buffer,
    /// Known length over the limit: 413 without running the guest.
    Reject,
}

fn plan_body(exact_len: Option<u64>, limit: u64) -> BodyPlan {
    match exact_len {
        Some(len) if len > limit => BodyPlan::Reject,
        Some(_) => BodyPlan::Stream,
        None => BodyPlan::Buffer,
    }
}

#[derive(Debug)]
enum BodyError {
    TooLarge,
    Read(hyper::Error),
}

/// Read a body of unknown length, refusing it past `limit` bytes (trailers are dropped).
async fn buffer_body(mut body: Incoming, limit: u64) -> Result<Bytes, BodyError> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        if let Ok(data) = frame.into_data() {
            if (buf.len() + data.len()) as u64 > limit {
                drain(body).await;
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.into())
}

/// Read and drop a body we refuse, unless the client waits for `100 Continue` (then it
/// has sent nothing) or announced more than [`DRAIN_CAP`].
pub(super) async fn discard_body(body: Incoming, headers: &HeaderMap) {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_long = body.size_hint().lower() > DRAIN_CAP;
    if !(expects_continue || too_long || body.is_end_stream()) {
        drain(body).await;
    }
}

/// Read and drop what is left of a body, up to [`DRAIN_CAP`] and [`DRAIN_TIMEOUT`].
async fn drain(mut body: Incoming) {
    let read = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len() as u64);
            if seen > DRAIN_CAP {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, read).await;
}

/// The guest's response body, which fails instead of ending cleanly when the guest
/// trapped or ran out of time mid-body (the store going away closes the inner body as
/// if it were finished), so the client sees a broken response, not a truncated one.
pub(super) struct GuardedBody {
    inner: HyperOutgoingBody,
    failed: Arc<AtomicBool>,
}

impl GuardedBody {
    /// Guard `inner`; the guest's task sets `failed` before its store goes away.
    pub(super) fn new(inner: HyperOutgoingBody, failed: Arc<AtomicBool>) -> Self {
        GuardedBody { inner, failed }
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) if self.failed.load(Ordering::SeqCst) => {
                Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpResponseIncomplete)))
            }
            other => other,
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_over_the_limit_are_refused_before_the_guest_runs() {
        assert_eq!(plan_body(Some(0), 10), BodyPlan::Stream);
        assert_eq!(plan_body(Some(10), 10), BodyPlan::Stream);
        assert_eq!(plan_body(Some(11), 10), BodyPlan::Reject);
        assert_eq!(plan_body(None, 10), BodyPlan::Buffer);
    }
}
