//! Test support: run the real `pyedge` binary on fixture apps and run the components it
//! produces in an embedded Wasmtime (wasmtime + wasmtime-wasi), like a host would;
//! [`serve`] runs HTTP components under the real `pyedge serve`.
#![allow(dead_code)]

pub mod cli;
pub mod serve;
pub mod upstream;

pub use cli::pyedge;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The repository's fixture app `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(name)
}

/// A scratch directory under target/ that survives for inspection after a failure.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Text of a process's stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Build fixture `name` (once per test process and argument list) and return the .wasm.
pub fn built(name: &str, extra: &[&str]) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>> = OnceLock::new();
    let key = format!("{name} {}", extra.join(" "));
    let cell = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key.clone())
        .or_default()
        .clone();
    cell.get_or_init(|| {
        let dir = scratch(&format!("built-{}", key.replace([' ', '/', '-'], "_")));
        let out = dir.join("app.wasm");
        let app = fixture(name);
        let mut args = vec!["build", app.to_str().unwrap(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let output = pyedge().args(&args).output();
        assert!(
            output.status.success(),
            "pyedge build {name} failed: {}",
            describe(&output)
        );
        out
    })
    .clone()
}

/// What a component run printed and how it ended.
#[derive(Debug)]
pub struct RunOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

struct State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// One engine per test process, with Wasmtime's compilation cache under target/.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasmtime-cache");
        std::fs::create_dir_all(&dir).unwrap();
        let mut cache = wasmtime::CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(wasmtime::Cache::new(cache).unwrap()));
        Engine::new(&config).expect("engine")
    })
}

/// Instantiate the wasi:cli component at `wasm` with `args` and `env`, no files, and run it.
pub fn run_component(wasm: &Path, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
    run_component_with(wasm, args, env, None, b"")
}

/// [`run_component`] with `stdin` as the component's standard input.
pub fn run_component_with_stdin(wasm: &Path, args: &[&str], stdin: &[u8]) -> RunOutput {
    run_component_with(wasm, args, &[], None, stdin)
}

/// [`run_component`] with the host directory `dir` preopened as `guest` (read-write), as
/// `wasmtime run --dir DIR::GUEST` does.
pub fn run_component_with_dir(wasm: &Path, args: &[&str], dir: &Path, guest: &str) -> RunOutput {
    run_component_with(wasm, args, &[], Some((dir, guest)), b"")
}

fn run_component_with(
    wasm: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    preopen: Option<(&Path, &str)>,
    stdin: &[u8],
) -> RunOutput {
    let engine = engine();
    let component = Component::from_file(engine, wasm).expect("load component");
    let mut linker = Linker::<State>::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link wasi");
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let mut argv = vec!["app.wasm"];
    argv.extend_from_slice(args);
    let mut ctx = WasiCtxBuilder::new();
    ctx.args(&argv)
        .envs(env)
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    if !stdin.is_empty() {
        ctx.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
            stdin.to_vec(),
        ));
    }
    if let Some((dir, guest)) = preopen {
        ctx.preopened_dir(dir, guest, FsPerms::ReadWrite)
            .expect("preopen");
    }
    let ctx = ctx.build();
    let mut store = Store::new(
        engine,
        State {
            ctx,
            table: ResourceTable::new(),
        },
    );
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
            .expect("instantiate component");
    let code = match command.wasi_cli_run().call_run(&mut store) {
        Ok(Ok(())) => 0,
        Ok(Err(())) => 1,
        Err(err) => match err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => panic!(
                "component trapped: {err:?}\nstderr: {}",
                String::from_utf8_lossy(&stderr.contents())
            ),
        },
    };
    drop(store);
    RunOutput {
        code,
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
    }
}
