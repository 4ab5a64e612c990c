//! Wrap a core module as a component with the WASI preview1 adapter (bytes → bytes).

use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
};
use wit_component::ComponentEncoder;

/// The component world an app is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum World {
    /// `wasi:cli/command`: `wasmtime run app.wasm ARGS`.
    Cli,
    /// `wasi:http/proxy`: `wasmtime serve app.wasm`, Spin, any wasi:http host.
    Http,
}

impl World {
    /// The name used in reports and the boot configuration.
    pub fn name(self) -> &'static str {
        match self {
            World::Cli => "cli",
            World::Http => "http",
        }
    }

    /// Which functions and data of [`World::runtime`] belong to its optional modules.
    pub fn prune_table(self, numpy: bool) -> anyhow::Result<crate::prune::PruneTable> {
        use crate::runtime::{CLI_NUMPY_PRUNE, CLI_PRUNE, HTTP_NUMPY_PRUNE, HTTP_PRUNE};
        let json = match (self, numpy) {
            (World::Cli, false) => CLI_PRUNE,
            (World::Http, false) => HTTP_PRUNE,
            (World::Cli, true) => CLI_NUMPY_PRUNE,
            (World::Http, true) => HTTP_NUMPY_PRUNE,
        };
        crate::prune::PruneTable::parse(json, self.runtime(numpy))
    }

    /// The runtime module linked for this world: with numpy's extension modules built in
    /// when `numpy` (an app that imports numpy), else the one without.
    pub fn runtime(self, numpy: bool) -> &'static [u8] {
        use crate::runtime::{
            PYTHON_CLI_NUMPY_WASM, PYTHON_CLI_WASM, PYTHON_HTTP_NUMPY_WASM, PYTHON_HTTP_WASM,
        };
        match (self, numpy) {
            (World::Cli, false) => PYTHON_CLI_WASM,
            (World::Http, false) => PYTHON_HTTP_WASM,
            (World::Cli, true) => PYTHON_CLI_NUMPY_WASM,
            (World::Http, true) => PYTHON_HTTP_NUMPY_WASM,
        }
    }
}

/// Pick the world from the entry module's source: a top-level `handle_request`
/// function or `IncomingHandler` class means an HTTP handler, anything else a script.
pub fn detect_world(entry_source: &str) -> World {
    let http = entry_source.lines().any(|line| {
        line.starts_with("def handle_request(")
            || line.starts_with("async def handle_request(")
            || line.starts_with("class IncomingHandler(")
            || line.starts_with("class IncomingHandler:")
            || line.starts_with("handle_request =")
    });
    if http {
        World::Http
    } else {
        World::Cli
    }
}

/// Turn the (pre-initialized) core module into a component for `world`, importing from
/// the host's run-time configuration what `host` says (see [`crate::runtime_config`]).
pub fn componentize(
    core: &[u8],
    world: World,
    host: crate::runtime_config::HostConfig,
) -> Result<Vec<u8>> {
    let core = crate::runtime_config::bind_imports(core, host)?;
    let adapter = match world {
        World::Cli => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        // The proxy adapter imports only what wasi:http/proxy provides, so the
        // component runs under a plain `wasmtime serve` and on Spin.
        World::Http => WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
    };
    ComponentEncoder::default()
        .module(&core)
        .context("the core module cannot be made a component")?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
        .context("loading the WASI preview1 adapter")?
        .validate(true)
        .encode()
        .context("encoding the component")
}

/// Remove custom sections that only help debugging (names, producers) from a core module.
pub fn strip_custom_sections(core: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        let payload = payload?;
        if let wasmparser::Payload::CustomSection(reader) = &payload {
            // component-type sections carry the world for wit-component: keep them.
            if !reader.name().starts_with("component-type") {
                continue;
            }
        }
        if let Some((id, range)) = payload.as_section() {
            out.section(&wasm_encoder::RawSection {
                id,
                data: &core[range],
            });
        }
    }
    Ok(out.finish())
}
