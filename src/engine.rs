//! The Wasmtime engine pyedge uses to pre-initialize modules, with the on-disk
//! compilation cache shared by every build on this machine.

use anyhow::Result;
use std::path::PathBuf;
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// pyedge's cache directory: `PYEDGE_CACHE_DIR`, else `$XDG_CACHE_HOME/pyedge`, else
/// `~/.cache/pyedge` (the same rule as `build.rs`). Always absolute: Wasmtime's cache
/// refuses a relative directory, which silently turned compilation caching off.
pub fn cache_dir() -> PathBuf {
    let dir = if let Some(dir) = std::env::var_os("PYEDGE_CACHE_DIR") {
        PathBuf::from(dir)
    } else if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        PathBuf::from(dir).join("pyedge")
    } else {
        match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache").join("pyedge"),
            None => std::env::temp_dir().join("pyedge-cache"),
        }
    };
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
