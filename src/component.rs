//! Wrap a core module as a component with the WASI preview1 adapter (bytes → bytes).

use anyhow::{Context, Result};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
};
use wit_component::ComponentEncoder;

/// The component world an app is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// `wasi:cli/command`: `wasmtime run app.wasm ARGS`.
    Cli,
}

impl World {
    /// The name used in reports and the boot configuration.
    pub fn name(self) -> &'static str {
        match self {
            World::Cli => "cli",
        }
    }
}

/// Turn the (pre-initialized) core module into a component for `world`.
pub fn componentize(core: &[u8], world: World) -> Result<Vec<u8>> {
    let adapter = match world {
        World::Cli => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    };
    ComponentEncoder::default()
        .module(core)
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
