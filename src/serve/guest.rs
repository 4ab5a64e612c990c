//! One request's run of the component: a fresh store and instance ([`Host`]), the handler
//! called under the request's limits, and what became of it — the response, or the 504 or
//! 500 the server answers instead, with the details for the server's log.

use super::body::GuardedBody;
use super::limits::{stop_at, MemoryBudget};
use super::log::format_duration;
use super::response::{bad_request, gateway_timeout, internal_error};
use super::ServeOptions;
use crate::report::human_bytes;
use http_body_util::BodyExt;
use hyper::{Request, Response};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, OwnedSemaphorePermit};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::{HyperIncomingBody, HyperOutgoingBody};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The per-request store's data.
pub(super) struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// The instance's memory budget, which remembers a refused growth.
    pub(super) memory: MemoryBudget,
    /// `--config` entries: the app's `wasi:config/store`.
    pub(super) config: Vec<(String, String)>,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// A fresh store for one request: guest output to our stderr, the memory budget, and the
/// guest interrupted at `deadline`.
pub(super) fn new_store(engine: &Engine, opts: &ServeOptions, deadline: Instant) -> Store<Host> {
    let wasi = WasiCtxBuilder::new()
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .envs(&opts.env)
        .build();
    let limit = usize::try_from(opts.memory_limit).unwrap_or(usize::MAX);
    let host = Host {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        memory: MemoryBudget::new(limit),
        config: opts.config.clone(),
    };
    let mut store = Store::new(engine, host);
    store.limiter(|host| &mut host.memory);
    stop_at(&mut store, deadline);
    store
}

/// Run the handler of `pre` on a fresh instance. The guest runs in its own task, which
/// may go on streaming the body after the response head is sent; it holds the
/// concurrency permit until its instance is gone.
pub(super) async fn run_guest(
    pre: &ProxyPre<Host>,
    opts: &ServeOptions,
    req: Request<HyperIncomingBody>,
    permit: OwnedSemaphorePermit,
) -> Response<HyperOutgoingBody> {
    let label = format!("{} {}", req.method(), req.uri().path());
    let deadline = Instant::now() + opts.timeout;
    let mut store = new_store(pre.engine(), opts, deadline);
    let (sender, receiver) = oneshot::channel();
    // Fails only for a request without a Host header.
    let request = match store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)
    {
        Ok(request) => request,
        Err(err) => return bad_request(err),
    };
    let outparam = match store.data_mut().http().new_response_outparam(sender) {
        Ok(outparam) => outparam,
        Err(err) => {
            eprintln!("{label}: {err:#}");
            return internal_error();
        }
    };
    let pre = pre.clone();
    let failed = Arc::new(AtomicBool::new(false));
    let body_failed = failed.clone();
    let task = tokio::spawn(async move {
        let run = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
        };
        let result = tokio::time::timeout_at(deadline.into(), run).await;
        let report = GuestReport {
            outcome: GuestOutcome::of(result.ok()),
            memory_denied: store.data().memory.denied,
        };
        // Before the store (and the body's sender with it) goes away.
        if !matches!(report.outcome, GuestOutcome::Returned) {
            failed.store(true, Ordering::SeqCst);
        }
        // Free the pool slot before the permit lets another request in.
        drop(store);
        drop(permit);
        report
    });
    let (limits, timeout) = (opts.memory_limit, opts.timeout);
    let symbols = opts.symbols.clone();
    match receiver.await {
        Ok(Ok(response)) => {
            tokio::spawn(async move {
                if let Ok(report) = task.await {
                    report.explain(&label, limits, timeout, true, symbols.as_deref());
                }
            });
            response.map(|inner| GuardedBody::new(inner, body_failed).boxed_unsync())
        }
        Ok(Err(code)) => {
            eprintln!("{label}: the handler answered with error {code:?}");
            internal_error()
        }
        Err(_) => match task.await {
            Ok(report) => {
                report.explain(&label, limits, timeout, false, symbols.as_deref());
                report.response(timeout)
            }
            Err(err) => {
                eprintln!("{label}: the handler task failed: {err}");
                internal_error()
            }
        },
    }
}

/// How a guest's run ended.
#[derive(Debug)]
enum GuestOutcome {
    /// `handle` returned.
    Returned,
    /// The deadline passed (epoch interrupt, or waiting on I/O past it).
    Deadline,
    /// Instantiation failed or the guest trapped.
    Failed(wasmtime::Error),
}

impl GuestOutcome {
    /// Classify a run; `None` means the deadline timer fired first.
    fn of(result: Option<wasmtime::Result<()>>) -> Self {
        match result {
            None => GuestOutcome::Deadline,
            Some(Ok(())) => GuestOutcome::Returned,
            Some(Err(err)) if matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) => {
                GuestOutcome::Deadline
            }
            Some(Err(err)) => GuestOutcome::Failed(err),
        }
    }
}

/// What the guest task hands back.
#[derive(Debug)]
struct GuestReport {
    outcome: GuestOutcome,
    memory_denied: Option<usize>,
}

impl GuestReport {
    /// Details for the server's stderr (never for the client). A trap's wasm backtrace is
    /// named from `symbols` where the component's own names were stripped.
    fn explain(
        &self,
        label: &str,
        memory_limit: u64,
        timeout: Duration,
        responded: bool,
        symbols: Option<&crate::symbols::Symbols>,
    ) {
        if let Some(requested) = self.memory_denied {
            eprintln!(
                "{label}: memory limit reached: the instance asked for {} in all, \
                 --memory-limit is {}",
                human_bytes(requested as u64),
                human_bytes(memory_limit)
            );
        }
        let after = if responded {
            " after sending the response head"
        } else {
            ""
        };
        match &self.outcome {
            GuestOutcome::Returned if !responded => {
                eprintln!("{label}: the handler returned without setting a response")
            }
            GuestOutcome::Returned => {}
            GuestOutcome::Deadline => eprintln!(
                "{label}: the handler was stopped at the {} deadline{after} (--timeout)",
                format_duration(timeout)
            ),
            GuestOutcome::Failed(err) => {
                let what = if err.downcast_ref::<Trap>().is_some() {
                    "trapped"
                } else {
                    "failed"
                };
                let text = format!("{err:#}");
                let text = match symbols {
                    Some(symbols) => symbols.symbolize_text(&text),
                    None => text,
                };
                eprintln!("{label}: the handler {what}{after}: {text}")
            }
        }
    }

    /// The answer when the guest never set a response.
    fn response(&self, timeout: Duration) -> Response<HyperOutgoingBody> {
        match self.outcome {
            GuestOutcome::Deadline => gateway_timeout(timeout),
            _ => internal_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::StatusCode;

    #[test]
    fn deadline_interrupts_become_504s_and_other_traps_500s() {
        let interrupt = GuestOutcome::of(Some(Err(wasmtime::Error::new(Trap::Interrupt))));
        assert!(matches!(interrupt, GuestOutcome::Deadline));
        assert!(matches!(GuestOutcome::of(None), GuestOutcome::Deadline));
        let trap = GuestOutcome::of(Some(Err(wasmtime::Error::new(
            Trap::UnreachableCodeReached,
        ))));
        assert!(matches!(trap, GuestOutcome::Failed(_)));
        let report = |outcome| GuestReport {
            outcome,
            memory_denied: None,
        };
        let timeout = Duration::from_secs(1);
        assert_eq!(
            report(GuestOutcome::Deadline).response(timeout).status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            report(trap).response(timeout).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            report(GuestOutcome::Returned).response(timeout).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
