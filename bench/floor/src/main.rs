//! `pyedge-bench-floor http|cli CORE.wasm OUT.wasm`: wrap a core module as a component
//! with the WASI preview1 proxy (http) or command (cli) adapter.
use std::process::ExitCode;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [world, core, out] = args.as_slice() else {
        eprintln!("usage: pyedge-bench-floor http|cli CORE.wasm OUT.wasm");
        return ExitCode::from(2);
    };
    let adapter = match world.as_str() {
        "http" => WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
        "cli" => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        other => {
            eprintln!("unknown world {other:?}: expected http or cli");
            return ExitCode::from(2);
        }
    };
    let result = std::fs::read(core)
        .map_err(|e| format!("cannot read {core}: {e}"))
        .and_then(|module| {
            wit_component::ComponentEncoder::default()
                .module(&module)
                .and_then(|enc| enc.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter))
                .and_then(|enc| enc.validate(true).encode())
                .map_err(|e| format!("{core}: {e:#}"))
        })
        .and_then(|component| {
            std::fs::write(out, component).map_err(|e| format!("cannot write {out}: {e}"))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
