//! `pyedge symbolize APP.wasm [FILE]`: name the frames of a wasm backtrace that another
//! host printed (`wasmtime run`, `wasmtime serve`), from the `app.symbols` file `pyedge
//! build` wrote beside the component ([`crate::symbols`]).

use super::Printer;
use crate::symbols::{symbols_path, Symbols};
use anyhow::{Context, Result};
use std::io::Read;
use std::path::PathBuf;

/// `pyedge symbolize` arguments.
#[derive(clap::Args, Debug)]
pub struct SymbolizeArgs {
    /// The component (its `.symbols` file beside it is read) or the `.symbols` file.
    pub wasm: PathBuf,
    /// The text holding the backtrace (default: standard input).
    pub file: Option<PathBuf>,
}

/// What `pyedge symbolize` refuses (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SymbolizeError {
    /// No symbols file, or one that does not parse.
    #[error("{detail}")]
    Symbols {
        /// What is wrong, with the path.
        detail: String,
    },
}

/// Run `pyedge symbolize`.
pub fn run(args: &SymbolizeArgs, printer: &Printer) -> Result<()> {
    let path = if args.wasm.extension().is_some_and(|e| e == "symbols") {
        args.wasm.clone()
    } else {
        symbols_path(&args.wasm)
    };
    let text = std::fs::read_to_string(&path).map_err(|err| SymbolizeError::Symbols {
        detail: format!(
            "cannot read {}: {err} (pyedge build writes it beside the component, unless \
             --keep-names put the names inside)",
            path.display()
        ),
    })?;
    let symbols = Symbols::parse(&text, &path).map_err(|err| SymbolizeError::Symbols {
        detail: format!("{err:#}"),
    })?;
    // Given the component itself (not its .symbols file): say if the names are another
    // build's.
    if path != args.wasm {
        if let Ok(bytes) = std::fs::read(&args.wasm) {
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            if sha != symbols.component_sha256 {
                printer.warn(&format!(
                    "{} belongs to another build of {}: frames are named only where the \
                     function and its offset both match",
                    path.display(),
                    args.wasm.display()
                ));
            }
        }
    }
    let mut input = String::new();
    match &args.file {
        Some(file) => {
            input = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read standard input")?;
        }
    }
    printer.out(&symbols.symbolize_text(&input))?;
    Ok(())
}
