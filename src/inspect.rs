//! `pyedge inspect`: what is inside any component or core module — size by part,
//! imports, exports and the initial (snapshot) memory — read with wasmparser only.

use anyhow::Result;
use serde::Serialize;
use std::path::PathBuf;
use wasmparser::{Parser, Payload};

/// `pyedge inspect` arguments.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// A component or core module (.wasm).
    pub wasm: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// List every file in the bundle, by root (app, each package, pyedge, stdlib).
    #[arg(long)]
    pub files: bool,
}

/// One core module inside the file.
#[derive(Debug, Default, Serialize)]
pub struct ModuleInfo {
    pub size: u64,
    pub code_bytes: u64,
    pub data_bytes: u64,
    pub data_segments: u64,
    pub custom_bytes: u64,
    /// Initial linear memory (pages × 64 KiB) of the first memory.
    pub initial_memory: u64,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// The whole file.
#[derive(Debug, Default, Serialize)]
pub struct WasmInfo {
    pub size: u64,
    pub component: bool,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    pub modules: Vec<ModuleInfo>,
    /// Bytes of the largest module's data segments: the snapshot memory for pyedge apps.
    pub snapshot_memory: u64,
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

/// Run `pyedge inspect`.
#[cfg(feature = "host")]
pub fn run_inspect(args: &InspectArgs) -> Result<()> {
    use crate::error::{failure, Exit};
    use crate::report::human_bytes;

    let bytes = std::fs::read(&args.wasm).map_err(|err| {
        failure(
            Exit::Usage,
            format!("cannot read {}: {err}", args.wasm.display()),
        )
    })?;
    // Like `pyedge serve`, a file that is not WebAssembly is a usage error (exit 2).
    if !bytes.starts_with(b"\0asm") {
        let hint = if bytes.starts_with(b"\x7fELF") {
            " but native code (a .cwasm from `pyedge build --precompile` or `wasmtime \
             compile`?); inspect the .wasm it was compiled from"
        } else {
            " (no \\0asm header)"
        };
        return Err(failure(
            Exit::Usage,
            format!("{} is not a WebAssembly file{hint}", args.wasm.display()),
        ));
    }
    let info = inspect_bytes(&bytes).map_err(|err| {
        failure(
            Exit::Usage,
            format!("{} is not valid WebAssembly: {err}", args.wasm.display()),
        )
    })?;
    let files = if args.files {
        let zip = crate::manifest::bundle_from_wasm(&bytes)
            .map_err(|err| failure(Exit::Usage, format!("{}: {err}", args.wasm.display())))?;
        Some(crate::manifest::Manifest::from_zip(&zip)?)
    } else {
        None
    };
    if args.json {
        let mut doc = serde_json::to_value(&info)?;
        if let Some(files) = &files {
            doc["files"] = serde_json::to_value(files)?;
        }
        println!("{doc}");
        return Ok(());
    }
    if let Some(files) = &files {
        print!("{}", files.to_text());
        return Ok(());
    }
    let kind = if info.component {
        "component"
    } else {
        "core module"
    };
    println!(
        "{}: {kind}, {}",
        args.wasm.display(),
        human_bytes(info.size)
    );
    println!(
        "snapshot memory (data segments): {}",
        human_bytes(info.snapshot_memory)
    );
    for (i, m) in info.modules.iter().enumerate() {
        println!(
            "  module {i}: {} (code {}, data {} in {} segments, custom {}, initial memory {})",
            human_bytes(m.size),
            human_bytes(m.code_bytes),
            human_bytes(m.data_bytes),
            m.data_segments,
            human_bytes(m.custom_bytes),
            human_bytes(m.initial_memory)
        );
    }
    println!("imports ({}):", info.imports.len());
    for name in &info.imports {
        println!("  {name}");
    }
    println!("exports ({}):", info.exports.len());
    for name in &info.exports {
        println!("  {name}");
    }
    Ok(())
}
