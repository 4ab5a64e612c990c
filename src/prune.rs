//! Leave out the optional C extension modules an app cannot import.
//!
//! The runtime links every extension module CPython builds for WASI, and some are large
//! for what an edge handler uses: `unicodedata`'s tables (665 kB), the CJK codecs (650
//! kB of mapping tables), `_decimal` with libmpdec (230 kB of code), `pyexpat` with
//! expat (150 kB). `runtime-assets/build.sh` records, from the linker's map, which
//! functions and static data belong to each of them (`python-*.prune.json`). When the
//! stdlib plan finds that nothing imports one of them (see
//! [`crate::stdlib`]), the build replaces its functions with `unreachable` and drops its
//! static data from the module's data segments, and the boot module makes importing it
//! fail with `ModuleNotFoundError` and the `stdlib-include` hint before the interpreter
//! could reach its code.
//!
//! A left-out module's code is reachable only through its init function (called by the
//! import the boot module refuses) and the objects that init creates; the test
//! `only_its_own_module_calls_a_prunable_function` checks the direct calls.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, Function, Instruction, Module,
    RawSection,
};
use wasmparser::{DataKind, Operator, Parser, Payload};

/// The prunable modules of one runtime module, as `pack.py prune-table` wrote them.
#[derive(Debug, Clone, Deserialize)]
pub struct PruneTable {
    /// SHA-256 of the runtime module the table describes.
    pub module_sha256: String,
    /// Address ranges of the frozen modules' marshalled code (`importlib._bootstrap`,
    /// `os`, `codecs`...). The interpreter reads them only while it starts and imports
    /// those modules; after a pre-initialization they are dead weight in the snapshot.
    /// The boot module takes the frozen importer off `sys.meta_path` at the end of it, so
    /// a frozen module the snapshot did not import (`runpy`) loads from the bundle.
    pub frozen_code: Vec<(u32, u32)>,
    /// The optional modules.
    pub groups: Vec<PruneGroup>,
}

/// One optional extension module: its functions and static data.
#[derive(Debug, Clone, Deserialize)]
pub struct PruneGroup {
    /// The module's import name (`unicodedata`, `_decimal`, ...).
    pub module: String,
    /// Other optional modules its C code imports.
    pub requires: Vec<String>,
    /// Bytes of its functions' code.
    pub code_bytes: u64,
    /// Bytes of its static data.
    pub data_bytes: u64,
    /// Function index ranges, half-open.
    pub functions: Vec<(u32, u32)>,
    /// Linear-memory address ranges of its static data, half-open.
    pub data: Vec<(u32, u32)>,
}

impl PruneTable {
    /// Parse a table and check that it describes `runtime`.
    pub fn parse(json: &str, runtime: &[u8]) -> Result<PruneTable> {
        let table: PruneTable =
            serde_json::from_str(json).context("the runtime's prune table is corrupt")?;
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(runtime));
        if table.module_sha256 != digest {
            bail!(
                "the runtime's prune table describes another module (sha256 {}, not {digest})",
                table.module_sha256
            );
        }
        Ok(table)
    }

    /// The optional module names, for the stdlib plan ([`crate::stdlib`]).
    pub fn modules(&self) -> Vec<(String, Vec<String>)> {
        self.groups
            .iter()
            .map(|g| (g.module.clone(), g.requires.clone()))
            .collect()
    }

    /// The groups of the named modules.
    pub fn groups_of<'a>(&'a self, modules: &[String]) -> Vec<&'a PruneGroup> {
        self.groups
            .iter()
            .filter(|g| modules.contains(&g.module))
            .collect()
    }
}

/// `core` without the `groups`' code and static data, and without the `more_data`
/// address ranges: the groups' function bodies become `unreachable` and the address
/// ranges are cut out of the active data segments.
pub fn prune_module(
    core: &[u8],
    groups: &[&PruneGroup],
    more_data: &[(u32, u32)],
) -> Result<Vec<u8>> {
    if groups.is_empty() && more_data.is_empty() {
        return Ok(core.to_vec());
    }
    let dead_functions = merged(groups.iter().flat_map(|g| g.functions.iter().copied()));
    let dead_data = merged(
        groups
            .iter()
            .flat_map(|g| g.data.iter().copied())
            .chain(more_data.iter().copied()),
    );
    let data = pruned_data(core, &dead_data)?;

    let mut out = Module::new();
    let mut imported_functions = 0u32;
    let mut code: Option<(CodeSection, u32, u32)> = None; // (section, entries, seen)
    for payload in Parser::new(0).parse_all(core) {
        let payload = payload.context("the module to prune is not valid wasm")?;
        match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Func(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                code = Some((CodeSection::new(), *count, 0));
                continue;
            }
            Payload::CodeSectionEntry(body) => {
                let (section, count, seen) =
                    code.as_mut().context("code entry outside a code section")?;
                let index = imported_functions + *seen;
                if in_ranges(&dead_functions, index) {
                    let mut stub = Function::new([]);
                    stub.instruction(&Instruction::Unreachable);
                    stub.instruction(&Instruction::End);
                    section.function(&stub);
                } else {
                    section.raw(&core[body.range()]);
                }
                *seen += 1;
                if *seen == *count {
                    out.section(&*section);
                }
                continue;
            }
            Payload::DataCountSection { .. } => {
                out.section(&DataCountSection { count: data.len() });
                continue;
            }
            Payload::DataSection(_) => {
                out.section(&data);
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.section(&RawSection {
                id,
                data: &core[range],
            });
        }
    }
    Ok(out.finish())
}

/// The data section of `core` with `dead` address ranges cut out of active segments.
fn pruned_data(core: &[u8], dead: &[(u32, u32)]) -> Result<DataSection> {
    let mut section = DataSection::new();
    for payload in Parser::new(0).parse_all(core) {
        let Payload::DataSection(reader) = payload? else {
            continue;
        };
        for segment in reader {
            let segment = segment?;
            let DataKind::Active {
                memory_index,
                offset_expr,
            } = &segment.kind
            else {
                RoundtripReencoder.parse_data(&mut section, segment)?;
                continue;
            };
            let mut ops = offset_expr.get_operators_reader();
            let start = match ops.read()? {
                Operator::I32Const { value } => value as u32,
                _ => {
                    RoundtripReencoder.parse_data(&mut section, segment)?;
                    continue;
                }
            };
            let end = start + segment.data.len() as u32;
            for (from, to) in live_pieces(start, end, dead) {
                section.active(
                    *memory_index,
                    &ConstExpr::i32_const(from as i32),
                    segment.data[(from - start) as usize..(to - start) as usize]
                        .iter()
                        .copied(),
                );
            }
        }
    }
    Ok(section)
}

/// The parts of `[start, end)` outside the sorted, disjoint `dead` ranges.
fn live_pieces(start: u32, end: u32, dead: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut pieces = Vec::new();
    let mut at = start;
    let first = dead.partition_point(|&(_, to)| to <= start);
    for &(from, to) in &dead[first..] {
        if from >= end {
            break;
        }
        if from > at {
            pieces.push((at, from));
        }
        at = at.max(to);
    }
    if at < end {
        pieces.push((at, end));
    }
    pieces
}

/// Sorted, disjoint, merged half-open ranges.
fn merged(ranges: impl Iterator<Item = (u32, u32)>) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = ranges.filter(|(a, b)| a < b).collect();
    all.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(all.len());
    for (from, to) in all {
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

fn in_ranges(ranges: &[(u32, u32)], value: u32) -> bool {
    let i = ranges.partition_point(|&(_, to)| to <= value);
    ranges.get(i).is_some_and(|&(from, _)| from <= value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_dead_ranges_out_of_a_segment() {
        let dead = merged([(20, 30), (5, 8), (28, 40), (90, 120)].into_iter());
        assert_eq!(dead, [(5, 8), (20, 40), (90, 120)]);
        assert_eq!(live_pieces(0, 100, &dead), [(0, 5), (8, 20), (40, 90)]);
        assert_eq!(live_pieces(21, 39, &dead), []);
        assert_eq!(live_pieces(30, 50, &dead), [(40, 50)]);
        assert_eq!(live_pieces(200, 210, &dead), [(200, 210)]);
        assert!(in_ranges(&dead, 5) && in_ranges(&dead, 39) && !in_ranges(&dead, 40));
        assert!(!in_ranges(&dead, 4) && in_ranges(&dead, 119) && !in_ranges(&dead, 120));
    }

    /// No function outside an optional module calls into it directly (only through the
    /// module's init, which the boot module refuses to run), except a module it requires;
    /// and no code outside it names an address inside its static data.
    #[test]
    fn only_its_own_module_calls_a_prunable_function() {
        use crate::component::World;
        // Functions whose i32 constants fall in a module's data range without being
        // addresses, each read in the disassembly (the numpy variants' layout puts the
        // CJK codecs' tables where these numbers land).
        const NOT_ADDRESSES: &[(&str, &str)] = &[
            (
                "__floatscan",
                "wasi-libc's long double parsing (-lc-printscan-long-double, numpy only): \
                 10384593 is LD_B1B_MAX, compared with a decimal digit group",
            ),
            (
                "__Pyx_CreateCodeObjects",
                "Cython 3.1 packs each code object's argument counts, flags and first line \
                 into one integer constant",
            ),
        ];
        for (world, numpy) in [World::Cli, World::Http]
            .into_iter()
            .flat_map(|world| [(world, false), (world, true)])
        {
            let runtime = world.runtime(numpy);
            let table = world.prune_table(numpy).unwrap();
            let owner = |index: u32| {
                table
                    .groups
                    .iter()
                    .position(|g| in_ranges(&g.functions, index))
            };
            let may_use = |caller: Option<usize>, group: usize| {
                caller.is_some_and(|c| {
                    c == group
                        || table.groups[c]
                            .requires
                            .contains(&table.groups[group].module)
                })
            };
            let names = function_names(runtime);
            let not_address = |index: u32| {
                names
                    .get(&index)
                    .is_some_and(|name| NOT_ADDRESSES.iter().any(|(n, _)| n == name))
            };
            let mut imported = 0u32;
            let mut index = 0u32;
            let mut found = Vec::new();
            for payload in Parser::new(0).parse_all(runtime) {
                match payload.unwrap() {
                    Payload::ImportSection(reader) => {
                        for import in reader.into_imports() {
                            if matches!(import.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                                imported += 1;
                            }
                        }
                        index = imported;
                    }
                    Payload::CodeSectionEntry(body) => {
                        let caller = owner(index);
                        let mut ops = body.get_operators_reader().unwrap();
                        while !ops.eof() {
                            match ops.read().unwrap() {
                                Operator::Call { function_index }
                                | Operator::ReturnCall { function_index }
                                | Operator::RefFunc { function_index } => {
                                    if let Some(g) = owner(function_index) {
                                        if !may_use(caller, g) {
                                            found.push(format!(
                                                "function {index} calls {} function {function_index}",
                                                table.groups[g].module
                                            ));
                                        }
                                    }
                                }
                                // Round decimal constants (10_000_000 ns in a second's
                                // hundredth...) fall in the data's address range too.
                                Operator::I32Const { value }
                                    if value % 1_000_000 != 0 && !not_address(index) =>
                                {
                                    let at = value as u32;
                                    if let Some(g) =
                                        table.groups.iter().position(|g| in_ranges(&g.data, at))
                                    {
                                        if !may_use(caller, g) {
                                            found.push(format!(
                                                "function {index} names {} data at {at:#x}",
                                                table.groups[g].module
                                            ));
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                        index += 1;
                    }
                    _ => {}
                }
            }
            assert!(found.is_empty(), "{}", found.join("\n"));
        }
    }

    /// Function names from the name section, by function index.
    fn function_names(module: &[u8]) -> std::collections::HashMap<u32, String> {
        let mut names = std::collections::HashMap::new();
        for payload in Parser::new(0).parse_all(module) {
            if let Payload::CustomSection(section) = payload.unwrap() {
                if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Ok(wasmparser::Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
        }
        names
    }
}
