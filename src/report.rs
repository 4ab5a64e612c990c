//! The size report: where the bytes of a component go, raw and gzip, against the budget.

use crate::bundle::Bundle;
use anyhow::Result;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use std::io::Write;
use std::ops::Range;

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct SizePart {
    /// The part (`runtime code`, `  app`, `  pyjwt==2.15.1`...).
    pub name: String,
    /// Its bytes.
    pub raw: u64,
    /// Its bytes after gzip (for bundle lines: the compressed bytes in the zip).
    pub gzip: u64,
}

/// The component's size, by part.
#[derive(Debug, Clone, Serialize)]
pub struct SizeReport {
    /// Bytes of the component.
    pub total: u64,
    /// Bytes of the component after gzip -6.
    pub total_gzip: u64,
    /// The budget in bytes.
    pub budget: u64,
    /// Whether the component is larger than the budget.
    pub over_budget: bool,
    /// runtime code, snapshot memory (with its lazy bytecode line, when there is one),
    /// bundle (with its app / stdlib / deps lines).
    pub parts: Vec<SizePart>,
}

/// gzip size of `data` (level 6, like `gzip` and most edge platforms' accounting).
pub fn gzip_len(data: &[u8]) -> u64 {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory").len() as u64
}

/// Measure `component`, whose core module is `core` and embeds `bundle` at `bundle_addr`;
/// `lazy_bytecode` is the part of its snapshot memory that holds the bytecode of modules
/// the snapshot does not hold (deflated, so one figure for raw and gzip).
pub fn size_report(
    component: &[u8],
    core: &[u8],
    bundle: &Bundle,
    bundle_addr: u32,
    lazy_bytecode: Option<u64>,
    budget: u64,
) -> Result<SizeReport> {
    let bundle_range = bundle_addr as u64..bundle_addr as u64 + bundle.zip.len() as u64;
    let mut memory = Vec::new();
    let mut data_total = 0u64;
    for (offset, bytes) in data_segments(core)? {
        data_total += bytes.len() as u64;
        let seg = offset..offset + bytes.len() as u64;
        // Keep the parts of the segment that are not the bundle.
        for piece in subtract(&seg, &bundle_range) {
            memory.extend_from_slice(
                &bytes[(piece.start - offset) as usize..(piece.end - offset) as usize],
            );
        }
    }
    let total = component.len() as u64;
    let bundle_raw = data_total - memory.len() as u64;
    let code_raw = total.saturating_sub(data_total);
    // Compressing is most of the report's time: the whole component on one core, the
    // two data parts on the other.
    let (total_gzip, (memory_gzip, bundle_gzip)) = std::thread::scope(|scope| {
        let whole = scope.spawn(|| gzip_len(component));
        let parts = (gzip_len(&memory), gzip_len(&bundle.zip));
        let whole = whole
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (whole, parts)
    });
    let mut parts = vec![
        SizePart {
            name: "runtime code".into(),
            raw: code_raw,
            gzip: 0,
        },
        SizePart {
            name: "snapshot memory".into(),
            raw: memory.len() as u64,
            gzip: memory_gzip,
        },
        SizePart {
            name: "  lazy bytecode".into(),
            raw: lazy_bytecode.unwrap_or(0),
            gzip: lazy_bytecode.unwrap_or(0),
        },
        SizePart {
            name: "bundle".into(),
            raw: bundle_raw,
            gzip: bundle_gzip,
        },
        SizePart {
            name: "  app".into(),
            raw: bundle.app_bytes,
            gzip: bundle.app_bytes,
        },
        SizePart {
            name: "  stdlib".into(),
            raw: bundle.stdlib_bytes,
            gzip: bundle.stdlib_bytes,
        },
    ];
    for (dep, bytes) in &bundle.deps_bytes {
        parts.push(SizePart {
            name: format!("  {dep}"),
            raw: *bytes,
            gzip: *bytes,
        });
    }
    // Code's gzip share is what the whole compresses to minus the data parts.
    parts[0].gzip = total_gzip.saturating_sub(memory_gzip + bundle_gzip);
    if lazy_bytecode.is_none() {
        parts.remove(2); // no snapshot, or `lazy-bytecode = false`
    }
    Ok(SizeReport {
        total,
        total_gzip,
        budget,
        over_budget: total > budget,
        parts,
    })
}

pub(crate) fn subtract(a: &Range<u64>, b: &Range<u64>) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    if a.start < b.start {
        out.push(a.start..a.end.min(b.start));
    }
    if a.end > b.end {
        out.push(a.start.max(b.end)..a.end);
    }
    out
}

/// Active data segments of memory 0 as (address, bytes).
pub(crate) fn data_segments(core: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        if let wasmparser::Payload::DataSection(reader) = payload? {
            for segment in reader {
                let segment = segment?;
                if let wasmparser::DataKind::Active { offset_expr, .. } = segment.kind {
                    if let wasmparser::Operator::I32Const { value } =
                        offset_expr.get_operators_reader().read()?
                    {
                        out.push((value as u32 as u64, segment.data));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Human-readable byte count (decimal units, like the budget).
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.2} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

impl SizeReport {
    /// The table printed after a build.
    pub fn to_table(&self) -> String {
        let mut out = format!("{:<22} {:>12} {:>12}\n", "part", "raw", "gzip");
        for part in &self.parts {
            out.push_str(&format!(
                "{:<22} {:>12} {:>12}\n",
                part.name,
                human_bytes(part.raw),
                human_bytes(part.gzip)
            ));
        }
        out.push_str(&format!(
            "{:<22} {:>12} {:>12}\n",
            "total",
            human_bytes(self.total),
            human_bytes(self.total_gzip)
        ));
        let share = self.total as f64 * 100.0 / self.budget.max(1) as f64;
        out.push_str(&format!(
            "budget {} — {:.1}% used{}\n",
            human_bytes(self.budget),
            share,
            if self.over_budget {
                " — OVER BUDGET"
            } else {
                ""
            }
        ));
        out
    }
}
