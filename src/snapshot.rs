//! Pre-initialize the runtime module with wizer: boot CPython, import the app, and keep
//! the resulting memory as the module's initial state.

use crate::embed::MemoryWrites;
use crate::engine;
use anyhow::Result;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};
use wasmtime::{Engine, Linker, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, I32Exit, WasiCtxBuilder};

/// The runtime's pre-initialization export (runtime-assets/entry/pyedge_entry.c).
pub const INIT_FUNC: &str = "pyedge_init";

/// What init printed, kept to show when it fails.
const OUTPUT_LIMIT: usize = 1 << 20;

/// A clock frozen at 2000-01-01, so nothing in the snapshot depends on the build time.
struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::from_secs(946_684_800)
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// What a cache entry holds; change it whenever the processing after wizer changes.
const CACHE_FORMAT: &str = "wizer snapshot v1";

/// How many pre-initialized modules the cache keeps (most recently used first).
const CACHE_KEEP: usize = 8;

/// Pre-initialize `wasm`, reusing the result of an earlier build of the same module.
///
/// Init sees no host state (see [`snapshot_module`]), so its result is a function of the
/// module's bytes and the writes: the cache key is their hash, with this pyedge's version
/// and its dependency lock (Wasmtime, wizer). Returns the module and whether it came from
/// the cache. A cache that cannot be read or written only costs the time of a real
/// pre-initialization.
pub fn snapshot_module_cached(wasm: &[u8], writes: &MemoryWrites) -> Result<(Vec<u8>, bool)> {
    let dir = engine::cache_dir().join("snapshots");
    let mut key = Sha256::new();
    key.update(CACHE_FORMAT);
    key.update([0]);
    key.update(env!("CARGO_PKG_VERSION"));
    key.update([0]);
    key.update(env!("PYEDGE_LOCK_SHA256"));
    key.update([0]);
    key.update(wasm);
    key.update(writes.min_bytes.to_le_bytes());
    for (addr, bytes) in &writes.writes {
        key.update(addr.to_le_bytes());
        key.update((bytes.len() as u64).to_le_bytes());
        key.update(bytes);
    }
    let path = dir.join(format!("{}.bin", hex::encode(key.finalize())));
    if let Some(bytes) = read_cached(&path) {
        return Ok((bytes, true));
    }
    let engine = engine::build_engine()?;
    let bytes = snapshot_module(&engine, wasm, writes)?;
    store_cached(&dir, &path, &bytes);
    Ok((bytes, false))
}

/// A cache entry is the SHA-256 of the module followed by the module; a damaged entry is
/// ignored (and replaced by the next build).
fn read_cached(path: &Path) -> Option<Vec<u8>> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.len() < 32 || Sha256::digest(&bytes[32..])[..] != bytes[..32] {
        return None;
    }
    // Mark it used, for pruning.
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        file.set_modified(SystemTime::now()).ok();
    }
    bytes.drain(..32);
    Some(bytes)
}

fn store_cached(dir: &Path, path: &Path, bytes: &[u8]) {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().suffix(".tmp").tempfile_in(dir)?;
        tmp.write_all(&Sha256::digest(bytes))?;
        tmp.write_all(bytes)?;
        tmp.persist(path).map_err(|err| err.error)?;
        Ok(())
    };
    if write().is_ok() {
        prune_cache(dir);
    }
}

/// Keep the [`CACHE_KEEP`] most recently used entries.
fn prune_cache(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<(SystemTime, std::path::PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "bin"))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    for (_, stale) in found.into_iter().skip(CACHE_KEEP) {
        std::fs::remove_file(stale).ok();
    }
}

/// Run the module's init function under wizer and return the pre-initialized module.
///
/// Init sees no environment, no arguments, no files, a fixed clock and seeded
/// randomness, so the same inputs always give the same snapshot.
pub fn snapshot_module(engine: &Engine, wasm: &[u8], writes: &MemoryWrites) -> Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(snapshot_async(engine, wasm, writes))
}

async fn snapshot_async(engine: &Engine, wasm: &[u8], writes: &MemoryWrites) -> Result<Vec<u8>> {
    let stdout = MemoryOutputPipe::new(OUTPUT_LIMIT);
    let stderr = MemoryOutputPipe::new(OUTPUT_LIMIT);
    let ctx: WasiP1Ctx = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .secure_random(rand::rngs::StdRng::seed_from_u64(0x7079_6564_6765))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(0x7079_6564_6766))
        .insecure_random_seed(0x7079_6564_6765)
        .wall_clock(FixedClock)
        .monotonic_clock(FixedClock)
        .build_p1();
    let mut store = Store::new(engine, ctx);
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func(INIT_FUNC);
    let result = wizer
        .run(&mut store, wasm, async |store, module| {
            let mut linker = Linker::new(store.engine());
            wasmtime_wasi::p1::add_to_linker_async(&mut linker, |cx| cx)?;
            // The HTTP runtime imports wasi:http functions that init never calls.
            linker.define_unknown_imports_as_traps(module)?;
            let instance = linker.instantiate_async(&mut *store, module).await?;
            // Put the app into memory before init runs (see embed::memory_writes).
            let memory = instance
                .get_memory(&mut *store, "memory")
                .ok_or_else(|| wasmtime::format_err!("the runtime exports no `memory`"))?;
            let pages = writes.min_bytes.div_ceil(memory.page_size(&*store));
            let have = memory.size(&*store);
            if pages > have {
                memory.grow(&mut *store, pages - have)?;
            }
            for (addr, bytes) in &writes.writes {
                memory.write(&mut *store, *addr as usize, bytes)?;
            }
            Ok(instance)
        })
        .await;
    match result {
        Ok(bytes) => Ok(bytes),
        Err(err) => Err(init_failure(err, &stdout, &stderr)),
    }
}

/// Explain a failed pre-initialization with what the app printed (its traceback).
fn init_failure(
    err: wasmtime::Error,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> anyhow::Error {
    let printed = |pipe: &MemoryOutputPipe| {
        String::from_utf8_lossy(&pipe.contents())
            .trim_end()
            .to_string()
    };
    let (out, errs) = (printed(stdout), printed(stderr));
    let exit = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<I32Exit>())
        .map(|e| e.0);
    let mut message = match exit {
        Some(1) => "importing the app failed at build time".to_string(),
        Some(code) => format!("the runtime exited with status {code} during pre-initialization"),
        None => format!("pre-initialization trapped: {err:#}"),
    };
    for text in [out, errs] {
        if !text.is_empty() {
            message.push_str("\n\n");
            message.push_str(&text);
        }
    }
    InitError(message).into()
}

/// Pre-initialization failed (exit 1): the app's traceback, or how the runtime ended.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InitError(pub String);
