//! Put the bundle into the runtime module: bytes → bytes.
//!
//! The bundle and the boot module's source are appended after the runtime's initial
//! linear memory (the memory's minimum grows to cover them) with active data segments,
//! and a third segment fills the runtime's `pyedge_bundle_desc` with their addresses.
//! That region lies past `__heap_end`, so the allocator never hands it out (the C entry
//! checks), and `memory.grow` starts above it. With a wizer snapshot the same bytes go to
//! the same addresses by [`memory_writes`] instead, written into the instance before init
//! runs, so they become part of the snapshot memory while the module Wasmtime compiles
//! for wizer stays the unchanged runtime.

use anyhow::{anyhow, bail, Context, Result};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, DataCountSection, DataSection, MemorySection, Module, RawSection};
use wasmparser::{ExternalKind, Operator, Parser, Payload};

const PAGE: u64 = 65536;
const DESC_EXPORT: &str = "pyedge_bundle_desc";
const DESC_MAGIC: u32 = 0x4445_5950; // "PYED"
const DESC_VERSION: u32 = 1;

/// What to embed.
pub struct EmbedInputs<'a> {
    /// The bundle zip.
    pub bundle: &'a [u8],
    /// Python source of the boot module (a NUL is appended here).
    pub boot_source: &'a str,
    /// CPython's string-hash seed (0 disables hash randomization).
    pub hash_seed: u32,
}

/// Where the embedded parts ended up in linear memory.
#[derive(Debug, Clone, Copy)]
pub struct EmbedLayout {
    /// Address of the bundle zip in linear memory.
    pub bundle_addr: u32,
    /// Length of the bundle zip.
    pub bundle_len: u32,
}

/// Return a copy of `runtime` that carries `inputs` in its initial memory.
pub fn embed_bundle(runtime: &[u8], inputs: &EmbedInputs) -> Result<(Vec<u8>, EmbedLayout)> {
    let plan = plan(runtime, inputs)?;
    let mut out = Module::new();
    let mut segments_added = 0;
    for payload in Parser::new(0).parse_all(runtime) {
        let payload = payload.context("the runtime module is not valid wasm")?;
        match &payload {
            Payload::MemorySection(reader) => {
                let mut memories = MemorySection::new();
                for (i, memory) in reader.clone().into_iter().enumerate() {
                    let mut ty = RoundtripReencoder.memory_type(memory?)?;
                    if i == 0 {
                        ty.minimum = plan.writes.min_bytes.div_ceil(PAGE);
                    }
                    memories.memory(ty);
                }
                out.section(&memories);
            }
            Payload::DataCountSection { count, .. } => {
                let count = count + plan.writes.writes.len() as u32;
                out.section(&DataCountSection { count });
            }
            Payload::DataSection(reader) => {
                let mut data = DataSection::new();
                for segment in reader.clone() {
                    RoundtripReencoder.parse_data(&mut data, segment?)?;
                }
                for (addr, bytes) in &plan.writes.writes {
                    data.active(
                        0,
                        &ConstExpr::i32_const(*addr as i32),
                        bytes.iter().copied(),
                    );
                }
                segments_added = plan.writes.writes.len();
                out.section(&data);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    out.section(&RawSection {
                        id,
                        data: &runtime[range],
                    });
                }
            }
        }
    }
    if segments_added == 0 {
        bail!("the runtime module has no data section");
    }
    let bytes = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("embedding produced an invalid module")?;
    Ok((bytes, plan.layout))
}

/// What to write into a fresh instance of the runtime so that it carries the inputs: the
/// same bytes at the same addresses as [`embed_bundle`]'s data segments.
#[derive(Debug, Clone)]
pub struct MemoryWrites {
    /// The linear memory must be at least this many bytes.
    pub min_bytes: u64,
    /// (address, bytes), in order.
    pub writes: Vec<(u32, Vec<u8>)>,
}

/// The inputs as memory writes, for pre-initialization. The module wizer compiles is then
/// the runtime itself, byte for byte the same for every app, so Wasmtime's compilation
/// cache always has it: editing the app does not recompile CPython.
pub fn memory_writes(runtime: &[u8], inputs: &EmbedInputs) -> Result<(MemoryWrites, EmbedLayout)> {
    let plan = plan(runtime, inputs)?;
    Ok((plan.writes, plan.layout))
}

/// Where the inputs go in the runtime's memory and what is written there, the one layout
/// both [`embed_bundle`] (as data segments) and [`memory_writes`] (into an instance) use.
struct Plan {
    writes: MemoryWrites,
    layout: EmbedLayout,
}

fn plan(runtime: &[u8], inputs: &EmbedInputs) -> Result<Plan> {
    let desc_addr = descriptor_address(runtime)?;
    let memory = first_memory(runtime)?;
    let mut boot = inputs.boot_source.as_bytes().to_vec();
    boot.push(0);
    let placed = place(memory.initial * PAGE, inputs.bundle.len(), boot.len())?;
    if memory
        .maximum
        .is_some_and(|max| max < placed.end.div_ceil(PAGE))
    {
        bail!(
            "the bundle ({} bytes) does not fit the runtime's maximum memory",
            inputs.bundle.len()
        );
    }
    Ok(Plan {
        writes: MemoryWrites {
            min_bytes: placed.end,
            writes: vec![
                (placed.bundle as u32, inputs.bundle.to_vec()),
                (placed.boot as u32, boot),
                (desc_addr, descriptor(&placed, inputs)),
            ],
        },
        layout: EmbedLayout {
            bundle_addr: placed.bundle as u32,
            bundle_len: inputs.bundle.len() as u32,
        },
    })
}

/// The runtime's linear memory (its first).
fn first_memory(runtime: &[u8]) -> Result<wasmparser::MemoryType> {
    for payload in Parser::new(0).parse_all(runtime) {
        if let Payload::MemorySection(reader) =
            payload.context("the runtime module is not valid wasm")?
        {
            if let Some(memory) = reader.into_iter().next() {
                return Ok(memory?);
            }
        }
    }
    bail!("runtime module has no memory section")
}

#[derive(Debug, Clone, Copy)]
struct Placement {
    bundle: u64,
    boot: u64,
    end: u64,
}

fn place(base: u64, bundle_len: usize, boot_len: usize) -> Result<Placement> {
    let bundle = base;
    let boot = (bundle + bundle_len as u64).next_multiple_of(8);
    let end = boot + boot_len as u64;
    if end > u32::MAX as u64 {
        bail!("the bundle ({bundle_len} bytes) does not fit a 32-bit memory");
    }
    Ok(Placement { bundle, boot, end })
}

/// The bytes of `struct pyedge_desc` (see runtime-assets/entry/pyedge_entry.c).
fn descriptor(placed: &Placement, inputs: &EmbedInputs) -> Vec<u8> {
    let boot_len = inputs.boot_source.len() as u32;
    [
        DESC_MAGIC,
        DESC_VERSION,
        placed.bundle as u32,
        inputs.bundle.len() as u32,
        placed.boot as u32,
        boot_len,
        inputs.hash_seed,
        0,
    ]
    .iter()
    .flat_map(|word| word.to_le_bytes())
    .collect()
}

/// The address held by the exported `pyedge_bundle_desc` global.
fn descriptor_address(runtime: &[u8]) -> Result<u32> {
    let mut global_index = None;
    let mut globals = Vec::new();
    let mut imported_globals = 0;
    for payload in Parser::new(0).parse_all(runtime) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    globals.push(global?.init_expr);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.name == DESC_EXPORT && export.kind == ExternalKind::Global {
                        global_index = Some(export.index);
                    }
                }
            }
            _ => {}
        }
    }
    let index =
        global_index.ok_or_else(|| anyhow!("the runtime does not export `{DESC_EXPORT}`"))?;
    let expr = globals
        .get((index - imported_globals) as usize)
        .ok_or_else(|| anyhow!("`{DESC_EXPORT}` is an imported global"))?;
    match expr.get_operators_reader().read()? {
        Operator::I32Const { value } => Ok(value as u32),
        other => bail!("`{DESC_EXPORT}` is not a constant address: {other:?}"),
    }
}
