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

use crate::config::parse_size;
use crate::engine::{serve_engine, TABLE_ELEMENTS};
use crate::error::{failure, Exit};
use crate::report::human_bytes;
use anyhow::{Context as _, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::{HyperIncomingBody, HyperOutgoingBody};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Default largest request body: 10 MB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 10_000_000;
/// Default wall-clock deadline per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default linear-memory budget per instance: 256 MB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 256_000_000;
/// Default number of requests handled at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// How often the engine's epoch advances; the deadline is checked (and the guest yields to
/// other requests) once per tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// A rejected request body (413, 503) is read and discarded up to this many bytes, so the
/// client can finish sending and read our answer instead of a connection reset.
const DRAIN_CAP: u64 = 64 << 20;
/// ... and for at most this long.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Memory a guest may use past `--memory-limit` once it has been refused, to report the
/// failure (CPython imports and formats a traceback for its `MemoryError`).
const ERROR_RESERVE: usize = 16 << 20;

/// `pyedge serve APP.wasm`: run an HTTP component locally, a fresh instance per request.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// The component to serve (`pyedge build` of an app with a `handle_request` handler).
    #[arg(value_name = "APP.wasm")]
    pub wasm: PathBuf,
    /// Address to listen on; loopback unless you say otherwise (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Largest request body accepted, e.g. 10MB or 1MiB; a larger one gets 413 before the
    /// handler runs.
    #[arg(long, value_name = "SIZE", default_value = "10MB", value_parser = parse_size)]
    pub max_body_size: u64,
    /// Wall-clock deadline per request, e.g. 30s, 500ms or 2m; past it the request gets 504.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Linear memory per instance, e.g. 256MB; allocations beyond it fail (500).
    #[arg(long, value_name = "SIZE", default_value = "256MB", value_parser = parse_size)]
    pub memory_limit: u64,
    /// Requests handled at once; beyond it requests get 503 at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub max_concurrency: usize,
    /// Load a precompiled `APP.cwasm` (`pyedge build --precompile`): native code that is
    /// run as it is, so only pass files you built yourself.
    #[arg(long)]
    pub allow_precompiled: bool,
}

impl ServeArgs {
    /// The server options these flags describe.
    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            wasm: self.wasm.clone(),
            max_body_size: self.max_body_size,
            timeout: self.timeout,
            memory_limit: self.memory_limit,
            max_concurrency: self.max_concurrency,
            allow_precompiled: self.allow_precompiled,
        }
    }
}

/// What `pyedge serve` runs and under which limits.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The `wasi:http/proxy` component.
    pub wasm: PathBuf,
    /// Largest request body in bytes (413 above it).
    pub max_body_size: u64,
    /// Wall-clock deadline per request (504 past it).
    pub timeout: Duration,
    /// Linear memory per instance in bytes, all memories together.
    pub memory_limit: u64,
    /// Requests in flight at once (503 beyond it).
    pub max_concurrency: usize,
    /// Accept a precompiled component (native code for this pyedge's Wasmtime).
    pub allow_precompiled: bool,
}

impl ServeOptions {
    /// Serve `wasm` with the default limits.
    pub fn new(wasm: impl Into<PathBuf>) -> Self {
        ServeOptions {
            wasm: wasm.into(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            timeout: DEFAULT_TIMEOUT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            allow_precompiled: false,
        }
    }
}

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
        let server = Server::load(args.options()).await?;
        let listener = TcpListener::bind(args.addr).await.map_err(|err| {
            failure(
                Exit::Usage,
                format!(
                    "cannot listen on {}: {err} (choose another with --addr)",
                    args.addr
                ),
            )
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
    permits: Arc<Semaphore>,
}

impl Server {
    /// Compile (or map, when precompiled) the component, check it is an HTTP component that
    /// fits the limits (one trial instantiation) and prepare per-request instantiation.
    pub async fn load(opts: ServeOptions) -> Result<Server> {
        let source = read_component(&opts.wasm, opts.allow_precompiled)?;
        let engine = serve_engine(
            opts.max_concurrency,
            matches!(source, ComponentSource::Wasm(_)),
        )?;
        let component = match source {
            ComponentSource::Wasm(bytes) => tokio::task::spawn_blocking({
                let engine = engine.clone();
                move || Component::new(&engine, &bytes)
            })
            .await
            .context("compiling the component")?
            .map_err(|err| {
                failure(
                    Exit::Usage,
                    format!("{} is not a valid component: {err:#}", opts.wasm.display()),
                )
            })?,
            ComponentSource::Precompiled => load_precompiled(&engine, &opts.wasm)?,
        };
        let pre = proxy_pre(&engine, &component, &opts.wasm)?;
        let ticker = EpochTicker::start(engine);
        trial_instantiate(&pre, &opts).await?;
        let permits = Arc::new(Semaphore::new(opts.max_concurrency));
        Ok(Server {
            shared: Arc::new(Shared { pre, opts, permits }),
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
        // Handlers still running after their response was sent hold a permit each.
        let all = u32::try_from(self.shared.opts.max_concurrency).unwrap_or(u32::MAX);
        let _ = self.shared.permits.acquire_many(all).await;
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

/// What `pyedge serve` was given: a component to compile, or one precompiled.
#[derive(Debug)]
enum ComponentSource {
    Wasm(Vec<u8>),
    /// A `.cwasm` from `pyedge build --precompile`, mapped from its file when loaded.
    Precompiled,
}

/// Read the file and make sure it is a component (or, when allowed, a precompiled one)
/// before compiling it.
fn read_component(path: &Path, allow_precompiled: bool) -> Result<ComponentSource> {
    let unreadable = |err: std::io::Error| {
        failure(
            Exit::Usage,
            format!("cannot read {}: {err}", path.display()),
        )
    };
    // One read of the first four bytes tells a precompiled file (which Wasmtime maps
    // itself, so it is not read here) from WebAssembly, which is read whole.
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(4)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes == b"\x7fELF" {
        // Checked when it is loaded (`load_precompiled`): Wasmtime reads the header then.
        if allow_precompiled {
            return Ok(ComponentSource::Precompiled);
        }
        return Err(failure(
            Exit::Usage,
            format!(
                "{} is native code (a precompiled component?); pass --allow-precompiled to \
                 run it, only if you built it yourself",
                path.display()
            ),
        ));
    }
    file.read_to_end(&mut bytes).map_err(unreadable)?;
    if wasmparser::Parser::is_component(&bytes) {
        return Ok(ComponentSource::Wasm(bytes));
    }
    let what = if wasmparser::Parser::is_core_wasm(&bytes) {
        "a core WebAssembly module, not a component"
    } else {
        "not a WebAssembly component"
    };
    Err(failure(
        Exit::Usage,
        format!(
            "{} is {what}; build one with `pyedge build`",
            path.display()
        ),
    ))
}

/// Map a `.cwasm` that `pyedge build --precompile` wrote; when Wasmtime refuses it, say
/// what the file is instead.
fn load_precompiled(engine: &Engine, path: &Path) -> Result<Component> {
    // SAFETY: only reached with `--allow-precompiled`, by which the user vouches that the
    // file is one `pyedge build --precompile` wrote; Wasmtime checks that it was compiled
    // as a component by this Wasmtime version with this engine's settings.
    let err = match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => return Ok(component),
        Err(err) => err,
    };
    let message = match Engine::detect_precompiled_file(path) {
        Ok(Some(wasmtime::Precompiled::Component)) => format!(
            "cannot load {}: {err:#}; a .cwasm only runs on the pyedge that built it: \
             rebuild it with `pyedge build --precompile`",
            path.display()
        ),
        Ok(Some(wasmtime::Precompiled::Module)) => format!(
            "{} is a precompiled core module, not a component; build one with \
             `pyedge build --precompile`",
            path.display()
        ),
        Ok(None) | Err(_) => format!(
            "{} is a native executable file, not a precompiled component",
            path.display()
        ),
    };
    Err(failure(Exit::Usage, message))
}

/// Link the component against `wasi:http/proxy` only (what edge hosts give it) and
/// pre-instantiate it.
fn proxy_pre(engine: &Engine, component: &Component, path: &Path) -> Result<ProxyPre<Host>> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    if !exports
        .iter()
        .any(|name| name.starts_with("wasi:http/incoming-handler@"))
    {
        let hint = if exports.iter().any(|name| name.starts_with("wasi:cli/run@")) {
            " (it is a command: run it with `wasmtime run`, or build the app with a \
             `handle_request` handler or `--world http`)"
        } else {
            ""
        };
        return Err(failure(
            Exit::Usage,
            format!(
                "{} does not export wasi:http/incoming-handler, so it cannot serve HTTP{hint}",
                path.display()
            ),
        ));
    }
    let mut linker = Linker::new(engine);
    wasmtime_wasi_http::p2::add_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("setting up wasi:http")?;
    let pre = linker.instantiate_pre(component).map_err(|err| {
        failure(
            Exit::Usage,
            format!(
                "{} needs imports outside the wasi:http/proxy world: {err:#}",
                path.display()
            ),
        )
    })?;
    ProxyPre::new(pre).map_err(|err| {
        failure(
            Exit::Usage,
            format!(
                "{} is not a wasi:http/proxy component: {err:#}",
                path.display()
            ),
        )
    })
}

/// Instantiate once before listening, so a component that cannot start (memory limit too
/// small, failing start function) is reported now rather than on every request.
async fn trial_instantiate(pre: &ProxyPre<Host>, opts: &ServeOptions) -> Result<()> {
    let mut store = new_store(pre.engine(), opts, Instant::now() + opts.timeout);
    let result = pre.instantiate_async(&mut store).await;
    if let Some(requested) = store.data().memory.denied {
        return Err(failure(
            Exit::Usage,
            format!(
                "{} needs {} of memory to start, more than --memory-limit {}",
                opts.wasm.display(),
                human_bytes(requested as u64),
                human_bytes(opts.memory_limit)
            ),
        ));
    }
    result.map(drop).map_err(|err| {
        anyhow::Error::from(err).context(format!("instantiating {}", opts.wasm.display()))
    })
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("pyedge-epoch".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })
            .ok();
        EpochTicker { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The per-request store's data.
struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    memory: MemoryBudget,
    deadline: Instant,
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

/// A fresh store for one request: guest output to our stderr, the memory budget, and an
/// epoch callback that interrupts the guest at `deadline` and otherwise lets other
/// requests run once per tick.
fn new_store(engine: &Engine, opts: &ServeOptions, deadline: Instant) -> Store<Host> {
    let wasi = WasiCtxBuilder::new()
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .build();
    let limit = usize::try_from(opts.memory_limit).unwrap_or(usize::MAX);
    let host = Host {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        memory: MemoryBudget::new(limit),
        deadline,
    };
    let mut store = Store::new(engine, host);
    store.limiter(|host| &mut host.memory);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|store| {
        if Instant::now() >= store.data().deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store
}

/// Caps the linear memory of one instance, all its memories together, and remembers the
/// first request over the cap. Growth past the cap fails inside the guest (CPython raises
/// `MemoryError`) rather than trapping; after that first refusal the guest may use
/// [`ERROR_RESERVE`] more, so the handler can still format and print its traceback.
#[derive(Debug)]
struct MemoryBudget {
    limit: usize,
    used: usize,
    last_grant: usize,
    /// Total bytes the first refused growth asked for.
    denied: Option<usize>,
}

impl MemoryBudget {
    fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: 0,
            last_grant: 0,
            denied: None,
        }
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grant = desired.saturating_sub(current);
        let total = self.used.saturating_add(grant);
        let cap = match self.denied {
            None => self.limit,
            Some(_) => self.limit.saturating_add(ERROR_RESERVE),
        };
        if total > cap {
            self.denied.get_or_insert(total);
            return Ok(false);
        }
        self.used = total;
        self.last_grant = grant;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_grant);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
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
        let response = self.respond(req).await;
        eprintln!(
            "{}",
            log_line(&method, &path, response.status(), start.elapsed())
        );
        response
    }

    async fn respond(&self, req: Request<Incoming>) -> Response<HyperOutgoingBody> {
        let (parts, body) = req.into_parts();
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            discard_body(body, &parts.headers).await;
            return busy(self.opts.max_concurrency);
        };
        let limit = self.opts.max_body_size;
        let body = match plan_body(body.size_hint().exact(), limit) {
            BodyPlan::Stream => body.map_err(Into::into).boxed_unsync(),
            BodyPlan::Reject => {
                discard_body(body, &parts.headers).await;
                return too_large(limit);
            }
            BodyPlan::Buffer => match buffer_body(body, limit).await {
                Ok(bytes) => Full::new(bytes).map_err(Into::into).boxed_unsync(),
                Err(BodyError::TooLarge) => return too_large(limit),
                Err(BodyError::Read(err)) => {
                    return text_response(
                        StatusCode::BAD_REQUEST,
                        format!("Bad Request: cannot read the request body: {err}\n"),
                    )
                }
            },
        };
        self.run_guest(Request::from_parts(parts, body), permit)
            .await
    }

    /// Run the handler on a fresh instance. The guest runs in its own task, which may go
    /// on streaming the body after the response head is sent; it holds the concurrency
    /// permit until its instance is gone.
    async fn run_guest(
        &self,
        req: Request<HyperIncomingBody>,
        permit: OwnedSemaphorePermit,
    ) -> Response<HyperOutgoingBody> {
        let label = format!("{} {}", req.method(), req.uri().path());
        let deadline = Instant::now() + self.opts.timeout;
        let mut store = new_store(self.pre.engine(), &self.opts, deadline);
        let (sender, receiver) = oneshot::channel();
        // Fails only for a request without a Host header.
        let request = match store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
        {
            Ok(request) => request,
            Err(err) => {
                return text_response(StatusCode::BAD_REQUEST, format!("Bad Request: {err}\n"))
            }
        };
        let outparam = match store.data_mut().http().new_response_outparam(sender) {
            Ok(outparam) => outparam,
            Err(err) => {
                eprintln!("{label}: {err:#}");
                return internal_error();
            }
        };
        let pre = self.pre.clone();
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
        let (limits, timeout) = (self.opts.memory_limit, self.opts.timeout);
        match receiver.await {
            Ok(Ok(response)) => {
                tokio::spawn(async move {
                    if let Ok(report) = task.await {
                        report.explain(&label, limits, timeout, true);
                    }
                });
                response.map(|inner| {
                    GuardedBody {
                        inner,
                        failed: body_failed,
                    }
                    .boxed_unsync()
                })
            }
            Ok(Err(code)) => {
                eprintln!("{label}: the handler answered with error {code:?}");
                internal_error()
            }
            Err(_) => match task.await {
                Ok(report) => {
                    report.explain(&label, limits, timeout, false);
                    report.response(timeout)
                }
                Err(err) => {
                    eprintln!("{label}: the handler task failed: {err}");
                    internal_error()
                }
            },
        }
    }
}

/// The guest's response body, which fails instead of ending cleanly when the guest
/// trapped or ran out of time mid-body (the store going away closes the inner body as
/// if it were finished), so the client sees a broken response, not a truncated one.
struct GuardedBody {
    inner: HyperOutgoingBody,
    failed: Arc<AtomicBool>,
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
    /// Details for the server's stderr (never for the client).
    fn explain(&self, label: &str, memory_limit: u64, timeout: Duration, responded: bool) {
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
            GuestOutcome::Failed(err) => eprintln!("{label}: the handler failed{after}: {err:#}"),
        }
    }

    /// The answer when the guest never set a response.
    fn response(&self, timeout: Duration) -> Response<HyperOutgoingBody> {
        match self.outcome {
            GuestOutcome::Deadline => text_response(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "Gateway Timeout: the handler did not answer within {}\n",
                    format_duration(timeout)
                ),
            ),
            _ => internal_error(),
        }
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
async fn discard_body(body: Incoming, headers: &HeaderMap) {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_long = body.size_hint().lower() > DRAIN_CAP;
    if !(expects_continue || too_long || body.is_end_stream()) {
        drain(body).await;
    }
}

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

fn internal_error() -> Response<HyperOutgoingBody> {
    text_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error: the handler failed (details in the server log)\n",
    )
}

fn too_large(limit: u64) -> Response<HyperOutgoingBody> {
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

fn busy(max_concurrency: usize) -> Response<HyperOutgoingBody> {
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

/// The per-request log line: `METHOD PATH STATUS LATENCYms`.
fn log_line(method: &Method, path: &str, status: StatusCode, elapsed: Duration) -> String {
    format!(
        "{method} {path} {} {:.1}ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1e3
    )
}

/// Parse a duration like `30s`, `500ms`, `2m`, `1h` or `1.5` (seconds); it must be
/// more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s or 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1e3,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown duration unit {other:?} in {text:?}")),
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(format!("{text:?} must be more than zero")),
    }
}

fn format_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// Parse `--addr`: `IP:PORT`, or a bare port on loopback.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is not an address like 127.0.0.1:8080"))
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to 100000")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flag_defaults_match_the_documented_options() {
        let cli = Cli::try_parse_from(["serve", "app.wasm"]).unwrap();
        let opts = cli.serve.options();
        let defaults = ServeOptions::new("app.wasm");
        assert_eq!(cli.serve.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(opts.max_body_size, defaults.max_body_size);
        assert_eq!(opts.timeout, defaults.timeout);
        assert_eq!(opts.memory_limit, defaults.memory_limit);
        assert_eq!(opts.max_concurrency, defaults.max_concurrency);
    }

    #[test]
    fn flags_parse_sizes_durations_and_addresses() {
        let cli = Cli::try_parse_from([
            "serve",
            "app.wasm",
            "--addr",
            "0",
            "--max-body-size",
            "1MiB",
            "--timeout",
            "500ms",
            "--memory-limit",
            "64MB",
            "--max-concurrency",
            "2",
        ])
        .unwrap();
        let opts = cli.serve.options();
        assert_eq!(cli.serve.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(opts.max_body_size, 1 << 20);
        assert_eq!(opts.timeout, Duration::from_millis(500));
        assert_eq!(opts.memory_limit, 64_000_000);
        assert_eq!(opts.max_concurrency, 2);
        for bad in [
            ["--timeout", "0s"],
            ["--timeout", "soon"],
            ["--max-concurrency", "0"],
            ["--addr", "localhost"],
        ] {
            assert!(Cli::try_parse_from(["serve", "app.wasm", bad[0], bad[1]]).is_err());
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5 fortnights").is_err());
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn bodies_over_the_limit_are_refused_before_the_guest_runs() {
        assert_eq!(plan_body(Some(0), 10), BodyPlan::Stream);
        assert_eq!(plan_body(Some(10), 10), BodyPlan::Stream);
        assert_eq!(plan_body(Some(11), 10), BodyPlan::Reject);
        assert_eq!(plan_body(None, 10), BodyPlan::Buffer);
    }

    #[test]
    fn memory_budget_counts_all_memories_and_remembers_a_refusal() {
        const MIB: usize = 1 << 20;
        let mut budget = MemoryBudget::new(100 * MIB);
        assert!(budget.memory_growing(0, 60 * MIB, None).unwrap());
        assert!(budget.memory_growing(0, 30 * MIB, None).unwrap());
        // 60 + 30 + 20 MiB > 100 MiB: refused (the guest sees a failed allocation).
        assert!(!budget.memory_growing(30 * MIB, 50 * MIB, None).unwrap());
        assert_eq!(budget.denied, Some(110 * MIB));
        assert!(budget.memory_growing(60 * MIB, 70 * MIB, None).unwrap());
        assert_eq!(budget.used, 100 * MIB);
        // After a refusal the guest gets a small reserve to report the error.
        let reserve_top = 70 * MIB + ERROR_RESERVE;
        assert!(budget.memory_growing(70 * MIB, reserve_top, None).unwrap());
        // A growth that was allowed but then failed is given back.
        budget
            .memory_grow_failed(wasmtime::format_err!("mmap failed"))
            .unwrap();
        assert_eq!(budget.used, 100 * MIB);
        // Past the reserve: refused again.
        assert!(!budget
            .memory_growing(70 * MIB, reserve_top + 1, None)
            .unwrap());
        assert_eq!(budget.denied, Some(110 * MIB));
    }

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

    #[test]
    fn unreadable_or_non_component_files_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wasm");
        let err = read_component(&missing, false).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), Exit::Usage);
        assert!(err.to_string().contains("missing.wasm"), "{err}");

        let core = dir.path().join("core.wasm");
        std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
        let err = read_component(&core, false).unwrap_err();
        assert!(err.to_string().contains("core WebAssembly module"), "{err}");

        let text = dir.path().join("app.py");
        std::fs::write(&text, "print('hi')").unwrap();
        let err = read_component(&text, false).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), Exit::Usage);
    }

    #[test]
    fn precompiled_files_need_the_flag_and_must_be_components() {
        let dir = tempfile::tempdir().unwrap();
        let cwasm = dir.path().join("app.cwasm");
        let empty_component = wasm_encoder::Component::new().finish();
        std::fs::write(&cwasm, crate::engine::precompile(&empty_component).unwrap()).unwrap();
        let err = read_component(&cwasm, false).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), Exit::Usage);
        assert!(err.to_string().contains("--allow-precompiled"), "{err}");
        assert!(matches!(
            read_component(&cwasm, true),
            Ok(ComponentSource::Precompiled)
        ));
        let engine = Engine::new(&crate::engine::serve_config(false)).unwrap();
        load_precompiled(&engine, &cwasm).unwrap();

        let module = dir.path().join("module.cwasm");
        let empty_module = wasm_encoder::Module::new().finish();
        std::fs::write(&module, engine.precompile_module(&empty_module).unwrap()).unwrap();
        let err = load_precompiled(&engine, &module).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), Exit::Usage);
        assert!(err.to_string().contains("precompiled core module"), "{err}");

        // An ELF file Wasmtime did not write: this test's own executable.
        let exe = std::env::current_exe().unwrap();
        let err = load_precompiled(&engine, &exe).unwrap_err();
        assert!(err.to_string().contains("native executable"), "{err}");
    }
}
