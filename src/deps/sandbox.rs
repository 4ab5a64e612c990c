//! Run a module built from the runtime (see [`super::sdist`]) as a WASI command under
//! Wasmtime, with exactly three host directories preopened: the source tree at `/src`,
//! the output directory at `/out` and a scratch directory at `/tmp`. Nothing else of the
//! host is visible: no other files, no host environment (only `env`), no network, and no
//! way to start a process.

use anyhow::{Context, Result};
use wasmtime::{Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// What the backend may print before the rest is dropped.
const OUTPUT_LIMIT: usize = 4 << 20;

/// How a sandboxed run ended.
#[derive(Debug, Clone)]
pub struct SandboxRun {
    /// `exit status N`, or the trap.
    pub ended: String,
    /// Its stdout and stderr, in that order.
    pub output: String,
}

/// Run `module` (a runtime module with an embedded bundle) to the end of `_start`.
pub fn run(
    module: &[u8],
    src: &std::path::Path,
    out: &std::path::Path,
    tmp: &std::path::Path,
    env: &[(String, String)],
) -> Result<SandboxRun> {
    let engine = crate::engine::build_engine()?;
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
    let ctx: WasiP1Ctx = builder.build_p1();
    let mut store = Store::new(&engine, ctx);
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |cx| cx).map_err(anyhow::Error::from)?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(anyhow::Error::from)
        .context("instantiating the sdist build sandbox")?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .map_err(anyhow::Error::from)?;
    let ended = match start.call(&mut store, ()) {
        Ok(()) => "exit status 0".to_string(),
        Err(err) => match err.downcast_ref::<I32Exit>() {
            Some(exit) => format!("exit status {}", exit.0),
            None => format!("trapped: {err:#}"),
        },
    };
    drop(store);
    let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
    Ok(SandboxRun {
        ended,
        output: format!("{}{}", text(&stdout), text(&stderr)),
    })
}
