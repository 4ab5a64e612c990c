//! `pyedge serve`: a local development server for `wasi:http/proxy` components.
//!
//! The component is compiled once (through Wasmtime's on-disk cache), or mapped from the
//! `.cwasm` that `pyedge build --precompile` wrote (`--allow-precompiled`), and
//! pre-instantiated; every request then gets a fresh store and instance from the pooling
//! allocator, so no state leaks from one request to the next. Where the kernel allows, a
//! pool slot keeps the snapshot's pages mapped between requests and only the pages a
//! request wrote are reset (the engine's settings are in [`crate::engine`]). Each request
//! runs under limits: a wall-clock deadline (epoch interruption, 504), a memory budget per
//! instance (500), a request body size limit (413, checked before the guest reads
//! anything) and a bound on requests in flight (503). The guest's stdout and stderr go to
//! the server's stderr, one log line per request follows them:
//! `METHOD PATH STATUS LATENCYms`.
//!
//! The parts: `args.rs` (flags and options), `load.rs` (the component, checked and
//! pre-instantiated), `limits.rs` (memory, deadline, concurrency), `guest.rs` (one
//! request's instance and what became of it), `body.rs` (request and response bodies),
//! `response.rs` (the server's own answers) and `log.rs` (the access log).

mod args;
mod body;
mod error;
mod guest;
mod limits;
mod load;
mod log;
mod response;

pub use args::{
    parse_duration, ServeArgs, ServeLogFormat, ServeOptions, DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT,
};

use anyhow::{Context as _, Result};
use body::{discard_body, request_body};
pub use error::ServeError;
use guest::{run_guest, Host};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use limits::{Concurrency, EpochTicker};
use load::{load_proxy, trial_instantiate};
use log::{json_log_line, log_line};
use response::busy;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Run `pyedge serve` until Ctrl-C (or SIGTERM): stop accepting, finish what is in
/// flight, return. A second Ctrl-C quits at once.
pub fn run_serve(args: &ServeArgs) -> Result<()> {
    // Errors that Wasmtime and its HTTP stack create and drop while answering requests
    // capture a backtrace when RUST_BACKTRACE is set (a developer's shell often has it),
    // which costs about 10% of a request; pyedge never prints those. Panics keep theirs.
    // Set before any thread starts; an explicit RUST_LIB_BACKTRACE is left alone.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let server = Server::load(args.options()?).await?;
        let listener = TcpListener::bind(args.addr)
            .await
            .map_err(|err| ServeError::Listen {
                addr: args.addr,
                detail: err.to_string(),
            })?;
        server.serve(listener, shutdown_requested()).await
    })
}

/// Load `opts.wasm` and serve it on `listener` until `shutdown` completes, then finish
/// the requests in flight. For tests: bind `127.0.0.1:0` and read the port off the listener.
pub async fn serve_on(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    Server::load(opts).await?.serve(listener, shutdown).await
}

/// A loaded component, ready to answer requests.
pub struct Server {
    shared: Arc<Shared>,
    _ticker: EpochTicker,
}

/// What every request handler needs.
struct Shared {
    pre: ProxyPre<Host>,
    opts: ServeOptions,
    concurrency: Concurrency,
}

impl Server {
    /// Compile (or map, when precompiled) the component, check it is an HTTP component that
    /// fits the limits (one trial instantiation) and prepare per-request instantiation.
    pub async fn load(mut opts: ServeOptions) -> Result<Server> {
        let pre = load_proxy(&opts).await?;
        // Names for trap backtraces (see `load_beside` for why they are not hash-checked).
        if opts.symbols.is_none() {
            let (symbols, note) = crate::symbols::load_beside(&opts.wasm);
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            opts.symbols = symbols.map(Arc::new);
        }
        let ticker = EpochTicker::start(pre.engine().clone());
        trial_instantiate(&pre, &opts).await?;
        let concurrency = Concurrency::new(opts.max_concurrency);
        Ok(Server {
            shared: Arc::new(Shared {
                pre,
                opts,
                concurrency,
            }),
            _ticker: ticker,
        })
    }

    /// Answer HTTP/1.1 requests on `listener` until `shutdown` completes; then stop
    /// accepting, let the requests in flight finish and return.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let addr = listener
            .local_addr()
            .context("reading the listening address")?;
        eprintln!("listening on http://{addr}");
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve_connection(stream, self.shared.clone(), stop_rx.clone()));
                    }
                    // Out of file descriptors and the like: wait and keep serving.
                    Err(err) => {
                        eprintln!("accepting a connection failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        let _ = stop_tx.send(true);
        while connections.join_next().await.is_some() {}
        // Handlers may still be running after their response was sent.
        self.shared.concurrency.idle().await;
        Ok(())
    }
}

/// Completes on the first Ctrl-C or SIGTERM; a second Ctrl-C ends the process at once.
async fn shutdown_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("stopping: finishing requests in flight (Ctrl-C again to quit now)");
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
}

/// Serve one client connection; on shutdown finish its request in flight and close.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(shared.handle(req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = async { drop(stop.wait_for(|stop| *stop).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(err) = result {
        if !(err.is_incomplete_message() || err.is_closed() || err.is_canceled()) {
            eprintln!("connection error: {err}");
        }
    }
}

impl Shared {
    /// Answer one request and log it.
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<HyperOutgoingBody> {
        let start = Instant::now();
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let headers = (self.opts.log_format == ServeLogFormat::Json).then(|| req.headers().clone());
        let response = self.respond(req).await;
        let line = match &headers {
            Some(headers) => json_log_line(
                &method,
                &path,
                response.status(),
                start.elapsed(),
                headers,
                std::time::SystemTime::now(),
            ),
            None => log_line(&method, &path, response.status(), start.elapsed()),
        };
        eprintln!("{line}");
        response
    }

    /// Admit the request and its body within the limits, then run the handler.
    async fn respond(&self, req: Request<Incoming>) -> Response<HyperOutgoingBody> {
        let (parts, body) = req.into_parts();
        let Some(permit) = self.concurrency.admit() else {
            discard_body(body, &parts.headers).await;
            return busy(self.opts.max_concurrency);
        };
        let body = match request_body(body, &parts.headers, self.opts.max_body_size).await {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let req = Request::from_parts(parts, body);
        run_guest(&self.pre, &self.opts, req, permit).await
    }
}
