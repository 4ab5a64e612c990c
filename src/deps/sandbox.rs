//! Run a module built from the runtime (see [`super::sdist`]) as a WASI command under
//! Wasmtime, with exactly three host directories preopened: the source tree at `/src`,
//! the output directory at `/out` and a scratch directory at `/tmp`. Nothing else of the
//! host is visible: no other files, no host environment (only `env`), no network, and no
//! way to start a process. A run is stopped after its time limit and may use at most
//! [`MEMORY_LIMIT`] of linear memory.

use anyhow::{Context, Result};
use std::sync::mpsc;
use std::time::Duration;
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// What the backend may print before the rest is dropped.
const OUTPUT_LIMIT: usize = 4 << 20;

/// How long one build may run by default (a pure build takes seconds; this only stops a
/// hang); `PYEDGE_SDIST_TIME_LIMIT` (seconds) overrides it.
pub const TIME_LIMIT: Duration = Duration::from_secs(600);

/// The environment variable that sets the time limit in seconds.
pub const TIME_LIMIT_ENV: &str = "PYEDGE_SDIST_TIME_LIMIT";

/// The time limit: `PYEDGE_SDIST_TIME_LIMIT` seconds when set to a number, else
/// [`TIME_LIMIT`].
pub fn time_limit() -> Duration {
    std::env::var(TIME_LIMIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(TIME_LIMIT, Duration::from_secs)
}

/// Most linear memory the interpreter may grow to.
pub const MEMORY_LIMIT: usize = 1 << 30;

struct Sandbox {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// How a sandboxed run ended.
#[derive(Debug, Clone)]
pub struct SandboxRun {
    /// `exit status N`, or the trap.
    pub ended: String,
    /// Its stdout and stderr, in that order.
    pub output: String,
}

/// Run `module` (a runtime module with an embedded bundle) to the end of `_start`, or
/// until the time limit.
pub fn run(
    module: &[u8],
    src: &std::path::Path,
    out: &std::path::Path,
    tmp: &std::path::Path,
    env: &[(String, String)],
) -> Result<SandboxRun> {
    let limit = time_limit();
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    crate::engine::enable_compilation_cache(&mut config);
    let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
    let module = Module::new(&engine, module)
        .map_err(anyhow::Error::from)
        .context("compiling the sdist build sandbox")?;
    let stdout = MemoryOutputPipe::new(OUTPUT_LIMIT);
    let stderr = MemoryOutputPipe::new(OUTPUT_LIMIT);
    let mut builder = WasiCtxBuilder::new();
    builder
        .args(&["python"])
        .envs(env)
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    for (host, guest) in [(src, "/src"), (out, "/out"), (tmp, "/tmp")] {
        builder
            .preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot preopen {}", host.display()))?;
    }
    let sandbox = Sandbox {
        wasi: builder.build_p1(),
        limits: StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build(),
    };
    let mut store = Store::new(&engine, sandbox);
    store.limiter(|sandbox| &mut sandbox.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_trap();
    let mut linker: Linker<Sandbox> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |sandbox| &mut sandbox.wasi)
        .map_err(anyhow::Error::from)?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(anyhow::Error::from)
        .context("instantiating the sdist build sandbox")?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .map_err(anyhow::Error::from)?;
    // The watchdog ends the run at the time limit unless the run ends first.
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                engine.increment_epoch();
            }
        })
    };
    let result = start.call(&mut store, ());
    drop(done);
    let _ = watchdog.join();
    let ended = match result {
        Ok(()) => "exit status 0".to_string(),
        Err(err) => match (err.downcast_ref::<I32Exit>(), err.downcast_ref::<Trap>()) {
            (Some(exit), _) => format!("exit status {}", exit.0),
            (None, Some(Trap::Interrupt)) => {
                format!(
                    "stopped after the time limit of {} s ({TIME_LIMIT_ENV})",
                    limit.as_secs()
                )
            }
            (None, _) => format!("trapped: {err:#}"),
        },
    };
    drop(store);
    let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
    Ok(SandboxRun {
        ended,
        output: format!("{}{}", text(&stdout), text(&stderr)),
    })
}
