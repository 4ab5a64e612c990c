//! `pyedge inspect APP.wasm`: what a component holds, read with wasmparser
//! ([`inspect_bytes`]) and, with `--files`, the bundle's file list ([`Manifest`]).

use super::Printer;
use crate::inspect::{inspect_bytes, WasmInfo};
use crate::manifest::{bundle_from_wasm, Manifest};
use crate::report::human_bytes;
use anyhow::Result;
use std::path::{Path, PathBuf};

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
    /// Write a self-contained HTML page with a treemap of the component's bytes (runtime
    /// code by C module, snapshot memory, the bundle by package and file).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The budget line drawn on that page.
    #[arg(long, value_name = "SIZE", default_value = "50MB")]
    pub budget: String,
}

/// Run `pyedge inspect`.
pub fn run(args: &InspectArgs, printer: &Printer) -> Result<()> {
    let bytes = read_wasm(&args.wasm)?;
    let info = inspect_bytes(&bytes).map_err(|err| InspectError::Invalid {
        path: args.wasm.clone(),
        detail: err.to_string(),
    })?;
    if let Some(path) = &args.html {
        let budget =
            crate::config::parse_size(&args.budget).map_err(|detail| InspectError::Budget {
                value: args.budget.clone(),
                detail,
            })?;
        let title = args
            .wasm
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let map = crate::sizemap::size_map(&title, &bytes, budget)?;
        crate::output::write_atomically(path, crate::sizemap::to_html(&map).as_bytes())?;
        printer.note(&format!(
            "size picture: {} ({} rectangles)",
            path.display(),
            map.node_count()
        ));
    }
    let files = if args.files {
        let zip = bundle_from_wasm(&bytes).map_err(|err| InspectError::NoBundle {
            path: args.wasm.clone(),
            detail: err.to_string(),
        })?;
        Some(Manifest::from_zip(&zip)?)
    } else {
        None
    };
    if printer.json() {
        let mut doc = serde_json::to_value(&info)?;
        if let Some(files) = &files {
            doc["files"] = serde_json::to_value(files)?;
        }
        printer.out_json(&doc)?;
    } else if let Some(files) = &files {
        printer.out(&files.to_text())?;
    } else {
        printer.out(&describe(&args.wasm, &info))?;
    }
    Ok(())
}

/// The file's bytes; like `pyedge serve`, a file that is not WebAssembly is a usage
/// error (exit 2).
pub(crate) fn read_wasm(path: &Path) -> Result<Vec<u8>, InspectError> {
    let bytes = std::fs::read(path).map_err(|source| InspectError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    let hint = if bytes.starts_with(b"\x7fELF") {
        " but native code (a .cwasm from `pyedge build --precompile` or `wasmtime \
         compile`?); inspect the .wasm it was compiled from"
    } else {
        " (no \\0asm header)"
    };
    Err(InspectError::NotWasm {
        path: path.to_path_buf(),
        hint,
    })
}

/// What `pyedge inspect` refuses (all exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (printed after the message, as the next link of the chain).
        source: std::io::Error,
    },
    /// The file does not start like WebAssembly.
    #[error("{} is not a WebAssembly file{hint}", path.display())]
    NotWasm {
        /// The file.
        path: PathBuf,
        /// What it seems to be instead.
        hint: &'static str,
    },
    /// wasmparser cannot read it.
    #[error("{} is not valid WebAssembly: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// wasmparser's message.
        detail: String,
    },
    /// `--budget` that is not a size.
    #[error("--budget {value:?}: {detail}")]
    Budget {
        /// What was given.
        value: String,
        /// Why it is not a size.
        detail: String,
    },
    /// `--files` on a module that carries no pyedge bundle.
    #[error("{}: {detail}", path.display())]
    NoBundle {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        detail: String,
    },
}

/// The text report: kind and size, snapshot memory, modules, imports and exports.
fn describe(path: &Path, info: &WasmInfo) -> String {
    let kind = if info.component {
        "component"
    } else {
        "core module"
    };
    let mut out = format!("{}: {kind}, {}\n", path.display(), human_bytes(info.size));
    out.push_str(&format!(
        "snapshot memory (data segments): {}\n",
        human_bytes(info.snapshot_memory)
    ));
    for (i, m) in info.modules.iter().enumerate() {
        out.push_str(&format!(
            "  module {i}: {} (code {}, data {} in {} segments, custom {}, initial memory {})\n",
            human_bytes(m.size),
            human_bytes(m.code_bytes),
            human_bytes(m.data_bytes),
            m.data_segments,
            human_bytes(m.custom_bytes),
            human_bytes(m.initial_memory)
        ));
    }
    out.push_str(&format!("imports ({}):\n", info.imports.len()));
    for name in &info.imports {
        out.push_str(&format!("  {name}\n"));
    }
    if !info.runtime_config.is_empty() {
        out.push_str(&format!(
            "run-time config from the host: {}\n",
            info.runtime_config.join(", ")
        ));
    }
    out.push_str(&format!("exports ({}):\n", info.exports.len()));
    for name in &info.exports {
        out.push_str(&format!("  {name}\n"));
    }
    out
}
