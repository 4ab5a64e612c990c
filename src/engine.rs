//! The Wasmtime engine pyedge uses to pre-initialize modules, with the on-disk
//! compilation cache shared by every build on this machine.

use anyhow::Result;
use std::path::PathBuf;
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// pyedge's cache directory ([`crate::deps::cache::default_root`], the same rule as
/// `build.rs`), made absolute: Wasmtime's cache refuses a relative directory, which
/// silently turned compilation caching off.
pub fn cache_dir() -> PathBuf {
    let dir = crate::deps::cache::default_root();
    std::path::absolute(&dir).unwrap_or(dir)
}

/// An engine with compilation caching; without a usable cache dir it still works.
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
