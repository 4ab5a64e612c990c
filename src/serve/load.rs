//! Loading the component to serve: read the file (a component, or with
//! `--allow-precompiled` a `.cwasm` to map), compile it on the serving engine, check that
//! it exports `wasi:http/incoming-handler` and imports nothing beyond `wasi:http/proxy` and
//! the run-time configuration (`wasi:cli/environment`, `wasi:config/store`),
//! pre-instantiate it, and start one trial instance within the limits.

use super::guest::{new_store, Host};
use super::ServeError;
use super::ServeOptions;
use crate::engine::serve_engine;
use crate::report::human_bytes;
use anyhow::{Context as _, Result};
use std::io::Read as _;
use std::path::Path;
use std::time::Instant;
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Compile (or map, when precompiled) `opts.wasm` on an engine for `opts`, check it is an
/// HTTP component and prepare per-request instantiation.
pub(super) async fn load_proxy(opts: &ServeOptions) -> Result<ProxyPre<Host>> {
    let source = read_component(&opts.wasm, opts.allow_precompiled)?;
    let compiles = matches!(source, ComponentSource::Wasm(_));
    let engine = serve_engine(opts.max_concurrency, compiles)?;
    let component = match source {
        ComponentSource::Wasm(bytes) => tokio::task::spawn_blocking({
            let engine = engine.clone();
            move || Component::new(&engine, &bytes)
        })
        .await
        .context("compiling the component")?
        .map_err(|err| ServeError::Invalid {
            path: opts.wasm.clone(),
            detail: format!("{err:#}"),
        })?,
        ComponentSource::Precompiled => load_precompiled(&engine, &opts.wasm)?,
    };
    proxy_pre(&engine, &component, &opts.wasm)
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
    let unreadable = |err: std::io::Error| ServeError::Read {
        path: path.to_path_buf(),
        detail: err.to_string(),
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
        return Err(ServeError::NativeCode {
            path: path.to_path_buf(),
        }
        .into());
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
    Err(ServeError::NotComponent {
        path: path.to_path_buf(),
        what,
    }
    .into())
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
    Err(ServeError::Precompiled {
        path: path.to_path_buf(),
        detail: message,
    }
    .into())
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
        return Err(ServeError::NotHttp {
            path: path.to_path_buf(),
            hint,
        }
        .into());
    }
    let mut linker = Linker::new(engine);
    wasmtime_wasi_http::p2::add_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("setting up wasi:http")?;
    add_runtime_config(&mut linker).context("setting up the run-time configuration")?;
    let pre = linker
        .instantiate_pre(component)
        .map_err(|err| ServeError::World {
            path: path.to_path_buf(),
            what: "needs imports outside the wasi:http/proxy world",
            detail: format!("{err:#}"),
        })?;
    ProxyPre::new(pre).map_err(|err| {
        ServeError::World {
            path: path.to_path_buf(),
            what: "is not a wasi:http/proxy component",
            detail: format!("{err:#}"),
        }
        .into()
    })
}

/// What `wasi:config/store#get-all` returns.
type ConfigEntries = Result<Vec<(String, String)>, ConfigStoreError>;

/// `wasi:config/store`'s error: `variant error { upstream(string), io(string) }`.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(variant)]
enum ConfigStoreError {
    #[component(name = "upstream")]
    #[allow(dead_code)] // never built: `--config` values cannot fail to read
    Upstream(String),
    #[component(name = "io")]
    #[allow(dead_code)]
    Io(String),
}

/// What a component built with `runtime-config = "env"` or `"wasi-config"` imports beyond
/// wasi:http/proxy: `wasi:cli/environment` (the `--env` values) and `wasi:config/store`
/// (the `--config` values). A component that imports neither is not affected.
///
/// The config store is defined here, in both versions pyedge builds for (Wasmtime's
/// `0.2.0-rc.1` and Spin's `0.2.0-draft-2024-09-27`, the same two functions), rather than
/// with the `wasmtime-wasi-config` crate, which binds only the first: one map answers
/// under both names, so `pyedge serve` runs a component built for Spin too.
fn add_runtime_config(linker: &mut Linker<Host>) -> Result<()> {
    wasmtime_wasi::p2::bindings::cli::environment::add_to_linker::<
        Host,
        wasmtime_wasi::cli::WasiCli,
    >(linker, <Host as wasmtime_wasi::cli::WasiCliView>::cli)?;
    for version in [
        crate::config::ConfigStore::Wasmtime.wasi_config_version(),
        crate::config::ConfigStore::Spin.wasi_config_version(),
    ] {
        let mut store = linker.instance(&format!("wasi:config/store@{version}"))?;
        store.func_wrap(
            "get",
            |cx: wasmtime::StoreContextMut<'_, Host>,
             (key,): (String,)|
             -> wasmtime::Result<(Result<Option<String>, ConfigStoreError>,)> {
                let value = cx
                    .data()
                    .config
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, value)| value.clone());
                Ok((Ok(value),))
            },
        )?;
        store.func_wrap(
            "get-all",
            |cx: wasmtime::StoreContextMut<'_, Host>,
             (): ()|
             -> wasmtime::Result<(ConfigEntries,)> {
                Ok((Ok(cx.data().config.clone()),))
            },
        )?;
    }
    Ok(())
}

/// Instantiate once before listening, so a component that cannot start (memory limit too
/// small, failing start function) is reported now rather than on every request.
pub(super) async fn trial_instantiate(pre: &ProxyPre<Host>, opts: &ServeOptions) -> Result<()> {
    let mut store = new_store(pre.engine(), opts, Instant::now() + opts.timeout);
    let result = pre.instantiate_async(&mut store).await;
    if let Some(requested) = store.data().memory.denied {
        return Err(ServeError::MemoryLimit {
            path: opts.wasm.clone(),
            requested: human_bytes(requested as u64),
            limit: human_bytes(opts.memory_limit),
        }
        .into());
    }
    result.map(drop).map_err(|err| {
        anyhow::Error::from(err).context(format!("instantiating {}", opts.wasm.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

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
