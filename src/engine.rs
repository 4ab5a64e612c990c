//! Wasmtime configuration, shared by build and serve: the engine that pre-initializes
//! modules, the engine `pyedge serve` runs components on, and `precompile`, which compiles
//! a component ahead of time with exactly the server's settings. Compilation goes through
//! Wasmtime's on-disk cache, shared by every build on this machine.

use anyhow::Result;
use std::path::PathBuf;
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig,
};

/// Pool slots per app instance: a component built by pyedge has a handful of core
/// instances (module, adapter, shims), one or two memories and a few tables.
const CORE_INSTANCES_PER_APP: u32 = 16;
const MEMORIES_PER_APP: u32 = 4;
const TABLES_PER_APP: u32 = 8;
/// Largest function table an app may have (CPython's fits with room to spare).
pub const TABLE_ELEMENTS: usize = 100_000;
/// Linear memory a pool slot keeps mapped between requests, when the kernel can say which
/// pages a request touched (the `PAGEMAP_SCAN` ioctl, Linux 6.7+). Wasmtime then resets
/// only those pages from the snapshot instead of unmapping the memory, so the next request
/// finds the snapshot already mapped rather than taking a page fault on every page it
/// touches (geo router: 86 faults per request → 1, p50 roughly halved). Without the ioctl
/// Wasmtime would reset the whole size with `memset`, which costs more than the faults it
/// saves: then nothing is kept resident.
const MEMORY_KEEP_RESIDENT: usize = 32 << 20;
/// The same for tables: CPython's function table, reset like the memory.
const TABLE_KEEP_RESIDENT: usize = TABLE_ELEMENTS * 8;

/// pyedge's cache directory ([`crate::deps::cache::default_root`], the same rule as
/// `build.rs`), made absolute: Wasmtime's cache refuses a relative directory, which
/// silently turned compilation caching off.
pub fn cache_dir() -> PathBuf {
    let dir = crate::deps::cache::default_root();
    std::path::absolute(&dir).unwrap_or(dir)
}

/// The engine that pre-initializes modules at build time, with compilation caching;
/// without a usable cache dir it still works.
pub fn build_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    enable_compilation_cache(&mut config);
    Ok(Engine::new(&config)?)
}

/// Use Wasmtime's on-disk compilation cache in pyedge's cache dir, when it is writable.
pub fn enable_compilation_cache(config: &mut Config) {
    let dir = cache_dir().join("wasmtime");
    if std::fs::create_dir_all(&dir).is_ok() {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        if let Ok(cache) = Cache::new(cache) {
            config.cache(Some(cache));
        }
    }
}

/// An engine for `pyedge serve`: epoch interruption for deadlines, the compilation cache
/// when it `compiles` (a precompiled component needs none), and the pooling allocator
/// sized for `max_concurrency` instances (on-demand allocation if the pool's address
/// space cannot be reserved).
pub fn serve_engine(max_concurrency: usize, compiles: bool) -> Result<Engine> {
    let mut config = serve_config(compiles);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(
        max_concurrency,
    )));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            eprintln!("note: pooling allocator unavailable ({err:#}); allocating on demand");
            Engine::new(&serve_config(compiles))
                .map_err(|err| anyhow::Error::from(err).context("creating the engine"))
        }
    }
}

/// Compile `component` ahead of time for `pyedge serve --allow-precompiled`: the engine
/// settings are the server's (a precompiled file only loads into an engine configured
/// the same way, which Wasmtime checks), so the server maps the code instead of compiling
/// or decompressing it from the cache when it starts.
pub fn precompile(component: &[u8]) -> Result<Vec<u8>> {
    let engine = Engine::new(&serve_config(false))
        .map_err(|err| anyhow::Error::from(err).context("creating the engine"))?;
    engine
        .precompile_component(component)
        .map_err(|err| anyhow::Error::from(err).context("precompiling the component"))
}

/// The settings a component is compiled with for serving; a precompiled one must have
/// been compiled with the same (neither the cache nor the allocator is one of them).
pub(crate) fn serve_config(cache: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
    if cache {
        // The same cache directory as `pyedge build`.
        enable_compilation_cache(&mut config);
    }
    config
}

/// Pool slots for `max_concurrency` instances, plus room for the trial instance.
fn pool_config(max_concurrency: usize) -> PoolingAllocationConfig {
    let instances = u32::try_from(max_concurrency)
        .unwrap_or(u32::MAX)
        .saturating_add(2);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_APP))
        .total_memories(instances.saturating_mul(MEMORIES_PER_APP))
        .total_tables(instances.saturating_mul(TABLES_PER_APP))
        .total_stacks(instances)
        .table_elements(TABLE_ELEMENTS);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT);
    }
    pool
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::component::Component;

    #[test]
    fn precompiled_components_load_into_the_serving_engine() {
        let empty_component = wasm_encoder::Component::new().finish();
        let code = precompile(&empty_component).unwrap();
        for compiles in [false, true] {
            let engine = serve_engine(2, compiles).unwrap();
            // SAFETY: the bytes were just written by `precompile` above.
            unsafe { Component::deserialize(&engine, &code) }.unwrap();
        }
    }
}
