//! Function names kept beside the component, not in it: `pyedge build` writes
//! `app.symbols` next to `app.wasm` (the runtime's name section is ~200 kB that every
//! deployment would carry for nothing), and a trap's wasm backtrace is named from it —
//! by `pyedge serve` in its log, and by `pyedge symbolize` for a backtrace another host
//! printed (`wasmtime run`, `wasmtime serve`).
//!
//! The file is text: a header with the component's SHA-256, then one line per function of
//! the component's main core module (the runtime): `index start end name`, where
//! `start..end` is its body's byte range in the component file — what Wasmtime prints as
//! the frame's offset. A frame is named only when both its index and its offset agree
//! with a line, so an adapter module's function (its own index space) or a file from
//! another build never gets a wrong name.

use crate::sizemap::{function_bodies, largest_module};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmparser::{KnownCustom, Name, Parser, Payload};

/// The first words of the file's header.
pub const HEADER: &str = "# pyedge symbols v1";

/// One named function.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Function {
    index: u32,
    start: u32,
    end: u32,
    name: String,
}

/// The names of one component's runtime functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbols {
    /// SHA-256 (hex) of the component the names belong to.
    pub component_sha256: String,
    functions: Vec<Function>,
}

/// The names a module's name section gives its defined functions, by position among the
/// defined functions (imports first in the index space), and the imported count.
pub struct DefinedNames {
    imported: u32,
    names: Vec<Option<String>>,
}

/// Read `core`'s function names before they are stripped.
pub fn defined_names(core: &[u8]) -> Result<DefinedNames> {
    let (imported, bodies) = function_bodies(core)?;
    let mut names = vec![None; bodies.len()];
    for payload in Parser::new(0).parse_all(core) {
        if let Payload::CustomSection(section) = payload? {
            if let KnownCustom::Name(reader) = section.as_known() {
                for name in reader {
                    if let Ok(Name::Function(map)) = name {
                        for naming in map.into_iter().flatten() {
                            if let Some(slot) = naming
                                .index
                                .checked_sub(imported)
                                .and_then(|i| names.get_mut(i as usize))
                            {
                                *slot = Some(naming.name.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(DefinedNames { imported, names })
}

impl DefinedNames {
    /// Whether the module had any names.
    pub fn is_empty(&self) -> bool {
        self.names.iter().all(Option::is_none)
    }
}

impl Symbols {
    /// The symbols of `component`, whose main core module was made from the module
    /// `names` were read from. The build may have turned imported functions into defined
    /// ones appended at the end (`runtime-config = "none"`): the defined functions keep
    /// their order, so the names follow them by position.
    pub fn new(names: &DefinedNames, component: &[u8]) -> Result<Symbols> {
        let range = largest_module(component)?.context("the component has no core module")?;
        let (imported, bodies) = function_bodies(&component[range.clone()])?;
        // Wasmtime reports a frame's offset in the component's file, not in the module.
        let base = range.start as u32;
        if bodies.len() < names.names.len() || imported > names.imported {
            bail!(
                "the component's core module ({imported} imported, {} defined functions) was \
                 not made from the named one ({} imported, {} defined)",
                bodies.len(),
                names.imported,
                names.names.len()
            );
        }
        let functions = names
            .names
            .iter()
            .zip(&bodies)
            .enumerate()
            .filter_map(|(k, (name, body))| {
                Some(Function {
                    index: imported + k as u32,
                    start: base + body.start as u32,
                    end: base + body.end as u32,
                    name: name.clone()?,
                })
            })
            .collect();
        Ok(Symbols {
            component_sha256: hex::encode(Sha256::digest(component)),
            functions,
        })
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{HEADER} component-sha256 {}\n# function-index body-start body-end name (offsets in the component file)\n",
            self.component_sha256
        );
        for f in &self.functions {
            out.push_str(&format!(
                "{} {:#x} {:#x} {}\n",
                f.index, f.start, f.end, f.name
            ));
        }
        out
    }

    /// Parse a file's text; `source` names it in errors.
    pub fn parse(text: &str, source: &Path) -> Result<Symbols> {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let Some(sha) = header
            .strip_prefix(HEADER)
            .and_then(|rest| rest.trim().strip_prefix("component-sha256 "))
        else {
            bail!(
                "{} is not a pyedge symbols file (no `{HEADER}` header)",
                source.display()
            );
        };
        let mut functions = Vec::new();
        for (number, line) in lines.enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut fields = line.splitn(4, ' ');
            let mut parse = || -> Option<Function> {
                let index = fields.next()?.parse().ok()?;
                let hex = |f: &str| u32::from_str_radix(f.strip_prefix("0x")?, 16).ok();
                let start = hex(fields.next()?)?;
                let end = hex(fields.next()?)?;
                let name = fields.next()?.to_string();
                Some(Function {
                    index,
                    start,
                    end,
                    name,
                })
            };
            match parse() {
                Some(f) => functions.push(f),
                None => bail!(
                    "{}:{}: not `index start end name`",
                    source.display(),
                    number + 2
                ),
            }
        }
        functions.sort_by_key(|f| f.index);
        Ok(Symbols {
            component_sha256: sha.trim().to_string(),
            functions,
        })
    }

    /// The name of function `index` whose body holds module offset `offset`.
    pub fn lookup(&self, index: u32, offset: Option<usize>) -> Option<&str> {
        let at = self
            .functions
            .binary_search_by_key(&index, |f| f.index)
            .ok()?;
        let f = &self.functions[at];
        match offset {
            Some(offset) if !(f.start as usize..f.end as usize).contains(&offset) => None,
            _ => Some(&f.name),
        }
    }

    /// Name the frames of a backtrace Wasmtime printed: `0x2b9aa8 - <unknown>!<wasm
    /// function 8588>` becomes `0x2b9aa8 - <unknown>!abort`. Lines that do not match a
    /// function (index and offset) are left as they are.
    pub fn symbolize_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            out.push_str(
                &self
                    .symbolize_line(line)
                    .unwrap_or_else(|| line.to_string()),
            );
        }
        out
    }

    fn symbolize_line(&self, line: &str) -> Option<String> {
        const MARK: &str = "<wasm function ";
        let at = line.find(MARK)?;
        let rest = &line[at + MARK.len()..];
        let close = rest.find('>')?;
        let index: u32 = rest[..close].parse().ok()?;
        // The frame's module offset: the hex number before ` - `.
        let offset = line[..at]
            .rsplit(" - ")
            .nth(1)
            .and_then(|head| head.split_whitespace().last())
            .and_then(|hex| usize::from_str_radix(hex.strip_prefix("0x")?, 16).ok());
        let name = self.lookup(index, offset)?;
        Some(format!("{}{name}{}", &line[..at], &rest[close + 1..]))
    }
}

/// Where the symbols of the component at `wasm` are (or go): `app.wasm` and `app.cwasm`
/// both have `app.symbols`.
pub fn symbols_path(wasm: &Path) -> PathBuf {
    wasm.with_extension("symbols")
}

/// The symbols beside `wasm`, if there is a file. Not checked against the component's
/// hash: a frame is named only where its function index and offset match a line, and
/// builds with the same runtime have the same code at the same offsets (a `.cwasm` has no
/// wasm bytes to hash anyway). A file that does not parse is a note, never a failure.
pub fn load_beside(wasm: &Path) -> (Option<Symbols>, Option<String>) {
    let path = symbols_path(wasm);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (None, None);
    };
    match Symbols::parse(&text, &path) {
        Ok(symbols) => (Some(symbols), None),
        Err(err) => (None, Some(format!("{err:#}; traps will not be named"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Symbols {
        Symbols {
            component_sha256: "ab".repeat(32),
            functions: vec![
                Function {
                    index: 44,
                    start: 0x6400,
                    end: 0x6500,
                    name: "pyedge_start".into(),
                },
                Function {
                    index: 8588,
                    start: 0x2b9a00,
                    end: 0x2b9ab0,
                    name: "abort".into(),
                },
            ],
        }
    }

    #[test]
    fn the_text_round_trips() {
        let symbols = sample();
        let parsed = Symbols::parse(&symbols.to_text(), Path::new("app.symbols")).unwrap();
        assert_eq!(parsed, symbols);
    }

    #[test]
    fn frames_are_named_only_when_index_and_offset_agree() {
        let symbols = sample();
        let trace = "    0: 0x2b9aa8 - <unknown>!<wasm function 8588>\n   \
                     11:   0x6465 - <unknown>!<wasm function 44>\n   \
                     12:   0x9999 - <unknown>!<wasm function 44>\n   \
                     13: 0x5be37a - <unknown>!wasi:cli/run@0.2.12#run\n";
        let named = symbols.symbolize_text(trace);
        assert!(named.contains("0x2b9aa8 - <unknown>!abort\n"), "{named}");
        assert!(
            named.contains("0x6465 - <unknown>!pyedge_start\n"),
            "{named}"
        );
        // Offset outside the body: another module's function 44.
        assert!(
            named.contains("0x9999 - <unknown>!<wasm function 44>\n"),
            "{named}"
        );
        assert!(named.ends_with("#run\n"));
        assert_eq!(symbols.lookup(8588, None), Some("abort"));
        assert_eq!(symbols.lookup(7, None), None);
    }

    #[test]
    fn a_file_that_is_not_symbols_is_refused_with_its_line() {
        assert!(Symbols::parse("hello\n", Path::new("x.symbols")).is_err());
        let bad = format!("{HEADER} component-sha256 00\n1 0x1 nope\n");
        let err = Symbols::parse(&bad, Path::new("x.symbols")).unwrap_err();
        assert!(format!("{err}").contains("x.symbols:2"), "{err}");
    }
}
