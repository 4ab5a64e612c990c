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
const CACHE_FORMAT: &str = "wizer snapshot v3";

/// How the boot module tells the build what it found while importing the app: lines on
/// init's stdout that start with this (boot.py `_tell_build`).
const FACT_PREFIX: &str = "pyedge-init: ";

/// What pre-initialization learned about the app, besides the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitFacts {
    /// How requests reach the app (`handler`, `wsgi`, `asgi`), when it is an HTTP app.
    pub interface: Option<String>,
    /// Modules left lazy by `preimport = "reachable"`: (module, why).
    pub lazy: Vec<(String, String)>,
    /// Bundle modules not in the snapshot whose bytecode it holds (`lazy-bytecode`):
    /// how many, and their bytes (deflated).
    pub bytecode: Option<(u64, u64)>,
}

impl InitFacts {
    /// The facts in init's stdout (other lines are the app's own output).
    fn parse(stdout: &str) -> InitFacts {
        let mut facts = InitFacts::default();
        for line in stdout.lines() {
            let Some((key, value)) = line
                .strip_prefix(FACT_PREFIX)
                .and_then(|fact| fact.split_once('='))
            else {
                continue;
            };
            match key {
                "interface" => facts.interface = Some(value.to_string()),
                "lazy" => {
                    let (module, why) = value.split_once(": ").unwrap_or((value, ""));
                    facts.lazy.push((module.to_string(), why.to_string()));
                }
                "bytecode" => {
                    facts.bytecode = value.split_once(' ').and_then(|(modules, bytes)| {
                        Some((modules.parse().ok()?, bytes.parse().ok()?))
                    });
                }
                _ => {}
            }
        }
        facts
    }

    /// One line per fact, as stored in the cache (the same shape init prints).
    fn to_lines(&self) -> String {
        let mut out = self
            .interface
            .as_ref()
            .map(|i| format!("{FACT_PREFIX}interface={i}\n"))
            .unwrap_or_default();
        for (module, why) in &self.lazy {
            out.push_str(&format!("{FACT_PREFIX}lazy={module}: {why}\n"));
        }
        if let Some((modules, bytes)) = self.bytecode {
            out.push_str(&format!("{FACT_PREFIX}bytecode={modules} {bytes}\n"));
        }
        out
    }
}

/// How many pre-initialized modules the cache keeps (most recently used first).
const CACHE_KEEP: usize = 8;

/// Pre-initialize `wasm`, reusing the result of an earlier build of the same module.
///
/// Init sees no host state (see [`snapshot_module`]), so its result is a function of the
/// module's bytes and the writes: the cache key is their hash, with this pyedge's version
/// and its dependency lock (Wasmtime, wizer). Returns the module and whether it came from
/// the cache. A cache that cannot be read or written only costs the time of a real
/// pre-initialization.
pub fn snapshot_module_cached(
    wasm: &[u8],
    writes: &MemoryWrites,
) -> Result<(Vec<u8>, InitFacts, bool)> {
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
    if let Some((bytes, facts)) = read_cached(&path) {
        return Ok((bytes, facts, true));
    }
    let engine = engine::build_engine()?;
    let (bytes, facts) = snapshot_module_with_facts(&engine, wasm, writes)?;
    store_cached(&dir, &path, &facts, &bytes);
    Ok((bytes, facts, false))
}

/// A cache entry is the SHA-256 of the rest, the facts' length (u32 LE) and text, then
/// the module; a damaged entry (truncated, bit-flipped) is reported once, removed, and
/// rebuilt by this build.
fn read_cached(path: &Path) -> Option<(Vec<u8>, InitFacts)> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.len() < 36 || Sha256::digest(&bytes[32..])[..] != bytes[..32] {
        eprintln!(
            "warning: the snapshot cache entry {} is damaged (its SHA-256 does not match); \
             removed, pre-initializing again",
            path.display()
        );
        let _ = std::fs::remove_file(path);
        return None;
    }
    let len = u32::from_le_bytes(bytes[32..36].try_into().ok()?) as usize;
    let facts = std::str::from_utf8(bytes.get(36..36 + len)?).ok()?;
    let facts = InitFacts::parse(facts);
    // Mark it used, for pruning.
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        file.set_modified(SystemTime::now()).ok();
    }
    bytes.drain(..36 + len);
    Some((bytes, facts))
}

fn store_cached(dir: &Path, path: &Path, facts: &InitFacts, bytes: &[u8]) {
    let facts = facts.to_lines();
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().suffix(".tmp").tempfile_in(dir)?;
        let mut hash = Sha256::new();
        hash.update((facts.len() as u32).to_le_bytes());
        hash.update(facts.as_bytes());
        hash.update(bytes);
        tmp.write_all(&hash.finalize())?;
        tmp.write_all(&(facts.len() as u32).to_le_bytes())?;
        tmp.write_all(facts.as_bytes())?;
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
    snapshot_module_with_facts(engine, wasm, writes).map(|(bytes, _)| bytes)
}

/// [`snapshot_module`], with what init told about the app.
pub fn snapshot_module_with_facts(
    engine: &Engine,
    wasm: &[u8],
    writes: &MemoryWrites,
) -> Result<(Vec<u8>, InitFacts)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(snapshot_async(engine, wasm, writes))
}

async fn snapshot_async(
    engine: &Engine,
    wasm: &[u8],
    writes: &MemoryWrites,
) -> Result<(Vec<u8>, InitFacts)> {
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
        Ok(bytes) => Ok((
            bytes,
            InitFacts::parse(&String::from_utf8_lossy(&stdout.contents())),
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_prefixed_lines_only() {
        let out = "app printing\npyedge-init: interface=wsgi\npyedge-init: unknown=1\nnoise=2\n";
        assert_eq!(InitFacts::parse(out).interface.as_deref(), Some("wsgi"));
        assert_eq!(InitFacts::parse("interface=asgi\n").interface, None);
        let lazy = InitFacts::parse("pyedge-init: lazy=envy: reads os.environ (A, B)\n").lazy;
        assert_eq!(
            lazy,
            [("envy".to_string(), "reads os.environ (A, B)".to_string())]
        );
        let bytecode = |line: &str| InitFacts::parse(line).bytecode;
        assert_eq!(bytecode("pyedge-init: bytecode=3 4096\n"), Some((3, 4096)));
        assert_eq!(bytecode("pyedge-init: bytecode=3\n"), None);
    }

    #[test]
    fn cache_entries_round_trip_and_reject_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.bin");
        let facts = InitFacts {
            interface: Some("asgi".into()),
            lazy: vec![("clocky".into(), "reads the clock: at import".into())],
            bytecode: Some((12, 34_567)),
        };
        store_cached(dir.path(), &path, &facts, b"\0asm module");
        let (bytes, read) = read_cached(&path).expect("cached");
        assert_eq!((bytes.as_slice(), read), (&b"\0asm module"[..], facts));
        let mut damaged = std::fs::read(&path).unwrap();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        std::fs::write(&path, damaged).unwrap();
        assert!(read_cached(&path).is_none());
        // Removed, so it is reported once and the next build stores a good one.
        assert!(!path.exists());
    }
}
