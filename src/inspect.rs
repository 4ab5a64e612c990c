//! `pyedge inspect`: what is inside any component or core module — size by part,
//! imports, exports and the initial (snapshot) memory — read with wasmparser only.

use anyhow::Result;
use serde::Serialize;
use wasmparser::{Parser, Payload};

/// One core module inside the file.
#[derive(Debug, Default, Serialize)]
pub struct ModuleInfo {
    /// Bytes of the module, header included.
    pub size: u64,
    /// Bytes of its code section.
    pub code_bytes: u64,
    /// Bytes of its data segments.
    pub data_bytes: u64,
    /// How many data segments it has.
    pub data_segments: u64,
    /// Bytes of its custom sections (names, producers...).
    pub custom_bytes: u64,
    /// Initial linear memory (pages × 64 KiB) of the first memory.
    pub initial_memory: u64,
    /// Its imports, `module#name`.
    pub imports: Vec<String>,
    /// Its exports.
    pub exports: Vec<String>,
}

/// The whole file.
#[derive(Debug, Default, Serialize)]
pub struct WasmInfo {
    /// Bytes of the file.
    pub size: u64,
    /// Whether the file is a component (else a core module).
    pub component: bool,
    /// The file's imports (a component's, or its only module's).
    pub imports: Vec<String>,
    /// The file's exports.
    pub exports: Vec<String>,
    /// Every core module in it.
    pub modules: Vec<ModuleInfo>,
    /// Bytes of the largest module's data segments: the snapshot memory for pyedge apps.
    pub snapshot_memory: u64,
    /// The imports through which the app reads run-time configuration from the host
    /// (`[tool.pyedge] runtime-config`): `wasi:cli/environment@…` in an HTTP component,
    /// `wasi:config/store@…`. Empty for `runtime-config = "none"`; a script's environment
    /// comes with wasi:cli and is not listed.
    pub runtime_config: Vec<String>,
}

/// Describe `bytes`; errors (never panics) on anything that is not valid wasm.
pub fn inspect_bytes(bytes: &[u8]) -> Result<WasmInfo> {
    let mut info = WasmInfo {
        size: bytes.len() as u64,
        ..Default::default()
    };
    let mut stack: Vec<ModuleInfo> = Vec::new();
    let mut depth = 0usize;
    // A nested module's size is known from its section header, before its payloads.
    let mut next_module_size = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        match &payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 {
                    info.component = *encoding == wasmparser::Encoding::Component;
                }
                if *encoding == wasmparser::Encoding::Module {
                    let size = next_module_size.take().unwrap_or(bytes.len() as u64);
                    stack.push(ModuleInfo {
                        size,
                        ..Default::default()
                    });
                }
                depth += 1;
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => next_module_size = Some(unchecked_range.len() as u64),
            Payload::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some(module) = stack.pop() {
                    info.modules.push(module);
                }
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader.clone() {
                    info.imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader.clone() {
                    info.exports.push(export?.name.name.to_string());
                }
            }
            _ => {
                if let Some(module) = stack.last_mut() {
                    record_module_payload(module, &payload)?;
                }
            }
        }
    }
    info.snapshot_memory = info.modules.iter().map(|m| m.data_bytes).max().unwrap_or(0);
    let http = info
        .exports
        .iter()
        .any(|name| name.starts_with("wasi:http/incoming-handler@"));
    info.runtime_config = info
        .imports
        .iter()
        .filter(|name| {
            name.starts_with("wasi:config/store@")
                || (http && name.starts_with("wasi:cli/environment@"))
        })
        .cloned()
        .collect();
    if !info.component {
        if let Some(module) = info.modules.first() {
            info.imports = module.imports.clone();
            info.exports = module.exports.clone();
        }
    }
    Ok(info)
}

fn record_module_payload(module: &mut ModuleInfo, payload: &Payload) -> Result<()> {
    match payload {
        Payload::CodeSectionStart { size, .. } => module.code_bytes += *size as u64,
        Payload::DataSection(reader) => {
            for segment in reader.clone() {
                module.data_bytes += segment?.data.len() as u64;
                module.data_segments += 1;
            }
        }
        Payload::CustomSection(reader) => module.custom_bytes += reader.data().len() as u64,
        Payload::MemorySection(reader) => {
            if let Some(memory) = reader.clone().into_iter().next() {
                module.initial_memory = memory?.initial.saturating_mul(65536);
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.clone().into_imports() {
                let import = import?;
                module
                    .imports
                    .push(format!("{}#{}", import.module, import.name));
            }
        }
        Payload::ExportSection(reader) => {
            for export in reader.clone() {
                module.exports.push(export?.name.to_string());
            }
        }
        _ => {}
    }
    Ok(())
}
