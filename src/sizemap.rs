//! The size picture: a component's bytes as a tree (runtime code by C module, snapshot
//! memory, the bundle by package and file), read from the `.wasm` alone, and the
//! self-contained HTML page that draws it as a treemap against the budget
//! (`pyedge build --report-html`, `pyedge inspect --html`).
//!
//! The tree is measured on the artifact, not on the build's intermediate state, so the
//! page of a built component and `inspect --html` of it are the same page:
//! - the largest core module is pyedge's runtime; its code section is split by the
//!   runtime's prune table (which functions each optional C module owns, from the
//!   linker's map: see [`crate::prune`]) — a module left out by the build has only
//!   `unreachable` bodies and is listed as left out instead;
//! - its active data segments are the snapshot memory, minus the bundle zip that the
//!   embed descriptor points at ([`crate::manifest::bundle_in_wasm`]);
//! - the bundle is split by root (app, each `name==version`, pyedge, stdlib) and file
//!   ([`Manifest`]);
//! - what is left (the component's type and import sections, the WASI adapter modules,
//!   section headers) is the component wrapper.

use crate::component::World;
use crate::manifest::{bundle_in_wasm, Manifest};
use crate::prune::PruneTable;
use crate::report::{data_segments, gzip_len, human_bytes, subtract};
use anyhow::{Context, Result};
use serde::Serialize;
use std::ops::Range;
use wasmparser::{Parser, Payload};

/// One rectangle of the treemap.
#[derive(Debug, Clone, Serialize)]
pub struct SizeNode {
    /// Its label (`runtime code`, `_decimal`, `flask==3.1.3`, `flask/app.py`).
    pub name: String,
    /// Bytes it takes in the component (the area it gets).
    pub raw: u64,
    /// Its bytes after gzip -6. For the bundle's files, which the zip already holds
    /// deflated, the bytes they take (gzip would not shrink them further).
    pub gzip: u64,
    /// What it is: `code`, `memory`, `bundle`, `root`, `file`, `wrapper`.
    pub kind: &'static str,
    /// Its parts; their sizes add up to at most its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<SizeNode>,
}

/// The whole picture.
#[derive(Debug, Clone, Serialize)]
pub struct SizeMap {
    /// The component's file name, for the page's title.
    pub title: String,
    /// Bytes of the component.
    pub total: u64,
    /// Bytes after gzip -6.
    pub total_gzip: u64,
    /// The size budget.
    pub budget: u64,
    /// The component's parts.
    pub parts: Vec<SizeNode>,
    /// The optional C modules the build left out (nothing imports them).
    pub left_out: Vec<String>,
    /// Notes on what could not be split (a component pyedge did not build, say).
    pub notes: Vec<String>,
}

impl SizeMap {
    /// How many rectangles the page draws: every node with bytes.
    pub fn node_count(&self) -> usize {
        fn count(node: &SizeNode) -> usize {
            1 + node.children.iter().map(count).sum::<usize>()
        }
        self.parts.iter().map(count).sum()
    }
}

/// The core module of `component` with the most bytes, as a range of `component`.
pub(crate) fn largest_module(component: &[u8]) -> Result<Option<Range<usize>>> {
    let mut best: Option<Range<usize>> = None;
    for payload in Parser::new(0).parse_all(component) {
        if let Payload::ModuleSection {
            unchecked_range, ..
        } = payload?
        {
            if best
                .as_ref()
                .is_none_or(|b| b.len() < unchecked_range.len())
            {
                best = Some(unchecked_range);
            }
        }
    }
    Ok(best)
}

/// A core module's imported function count and its function bodies' byte ranges.
pub(crate) fn function_bodies(core: &[u8]) -> Result<(u32, Vec<Range<usize>>)> {
    let mut imported = 0;
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(core) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body.range()),
            _ => {}
        }
    }
    Ok((imported, bodies))
}

/// The prune table of the runtime `core` was made from, and the shift from its function
/// indices to `core`'s (the build may turn imported functions into defined ones). The
/// four runtimes have different function counts, which is what tells them apart.
fn runtime_table(core_imported: u32, core_defined: usize) -> Option<(PruneTable, i64)> {
    let runtimes = [World::Http, World::Cli]
        .into_iter()
        .flat_map(|world| [(world, false), (world, true)]);
    runtimes.into_iter().find_map(|(world, numpy)| {
        let (imported, bodies) = function_bodies(world.runtime(numpy)).ok()?;
        // `runtime-config = "none"` moves the config imports to the end as defined
        // functions (src/runtime_config.rs): the total stays, the defined ones shift down.
        let same_total = imported as usize + bodies.len() == core_imported as usize + core_defined;
        (same_total && core_imported <= imported).then_some(())?;
        let table = world.prune_table(numpy).ok()?;
        Some((table, core_imported as i64 - imported as i64))
    })
}

/// Measure `component` (a file `pyedge build` made, or any component: what cannot be
/// split is one rectangle, with a note).
pub fn size_map(title: &str, component: &[u8], budget: u64) -> Result<SizeMap> {
    let total = component.len() as u64;
    let mut notes = Vec::new();
    let mut left_out = Vec::new();
    let mut parts = Vec::new();
    let total_gzip = gzip_len(component);
    let core_range = largest_module(component)?.unwrap_or(0..0);
    let core = &component[core_range.clone()];
    let mut accounted = 0u64;
    let mut accounted_gzip = 0u64;

    if !core.is_empty() {
        // Code: the runtime's own, then each optional C module that is still there.
        let (imported, bodies) = function_bodies(core).context("reading the core module")?;
        let mut owned = vec![false; bodies.len()];
        // A left-out module's `unreachable` bodies stay in the code: counted with the rest.
        let mut stubs = Vec::new();
        let mut code_children = Vec::new();
        match runtime_table(imported, bodies.len()) {
            Some((table, shift)) => {
                for group in &table.groups {
                    let mut bytes = Vec::new();
                    let mut all_unreachable = true;
                    for &(start, end) in &group.functions {
                        for index in start..end {
                            let Some(defined) = (index as i64 + shift)
                                .checked_sub(imported as i64)
                                .and_then(|i| usize::try_from(i).ok())
                                .filter(|&i| i < bodies.len())
                            else {
                                continue;
                            };
                            owned[defined] = true;
                            let body = &core[bodies[defined].clone()];
                            // `unreachable` alone: no locals, 0x00, end.
                            all_unreachable &= body.len() <= 3;
                            bytes.extend_from_slice(body);
                        }
                    }
                    if all_unreachable {
                        left_out.push(group.module.clone());
                        stubs.extend_from_slice(&bytes);
                    } else {
                        code_children.push(SizeNode {
                            name: group.module.clone(),
                            raw: bytes.len() as u64,
                            gzip: gzip_len(&bytes),
                            kind: "code",
                            children: Vec::new(),
                        });
                    }
                }
            }
            None => notes.push(
                "the core module is not one of this pyedge's runtimes: its code is not split \
                 by C module"
                    .to_string(),
            ),
        }
        let mut rest = stubs;
        for (body, owned) in bodies.iter().zip(&owned) {
            if !owned {
                rest.extend_from_slice(&core[body.clone()]);
            }
        }
        code_children.sort_by_key(|c| std::cmp::Reverse(c.raw));
        code_children.insert(
            0,
            SizeNode {
                name: "interpreter, libc, pyedge entry".into(),
                raw: rest.len() as u64,
                gzip: gzip_len(&rest),
                kind: "code",
                children: Vec::new(),
            },
        );
        let code_raw = code_children.iter().map(|c| c.raw).sum();
        let code_gzip = code_children.iter().map(|c| c.gzip).sum();
        parts.push(SizeNode {
            name: "runtime code".into(),
            raw: code_raw,
            gzip: code_gzip,
            kind: "code",
            children: code_children,
        });
        accounted += code_raw;
        accounted_gzip += code_gzip;

        // Data: the snapshot memory and, inside it, the bundle.
        let segments = data_segments(core)?;
        let bundle = bundle_in_wasm(core).ok();
        let bundle_range = bundle
            .as_ref()
            .map(|(addr, zip)| *addr..*addr + zip.len() as u64)
            .unwrap_or(0..0);
        let mut memory = Vec::new();
        let mut bundle_bytes = 0u64;
        for (offset, bytes) in &segments {
            let seg = *offset..*offset + bytes.len() as u64;
            let kept = subtract(&seg, &bundle_range);
            for piece in &kept {
                memory.extend_from_slice(
                    &bytes[(piece.start - offset) as usize..(piece.end - offset) as usize],
                );
            }
            bundle_bytes += seg.end - seg.start - kept.iter().map(|p| p.end - p.start).sum::<u64>();
        }
        let memory_gzip = gzip_len(&memory);
        parts.push(SizeNode {
            name: "snapshot memory".into(),
            raw: memory.len() as u64,
            gzip: memory_gzip,
            kind: "memory",
            children: Vec::new(),
        });
        accounted += memory.len() as u64;
        accounted_gzip += memory_gzip;
        match bundle {
            Some((_, zip)) => {
                let node = bundle_node(&zip, bundle_bytes)?;
                accounted += node.raw;
                accounted_gzip += node.gzip;
                parts.push(node);
            }
            None => notes.push("no pyedge bundle found in the snapshot memory".to_string()),
        }
    } else {
        notes.push("no core module: nothing to split".to_string());
    }
    let wrapper = total.saturating_sub(accounted);
    parts.push(SizeNode {
        name: "component wrapper".into(),
        raw: wrapper,
        gzip: total_gzip.saturating_sub(accounted_gzip).min(wrapper),
        kind: "wrapper",
        children: Vec::new(),
    });
    parts.retain(|p| p.raw > 0);
    left_out.sort();
    Ok(SizeMap {
        title: title.to_string(),
        total,
        total_gzip,
        budget,
        parts,
        left_out,
        notes,
    })
}

/// The bundle by root and file; `in_memory` is the bytes of it the data segments hold.
fn bundle_node(zip: &[u8], in_memory: u64) -> Result<SizeNode> {
    let manifest = Manifest::from_zip(zip)?;
    let mut roots: Vec<SizeNode> = manifest
        .roots
        .iter()
        .map(|root| {
            let mut files: Vec<SizeNode> = root
                .files
                .iter()
                .filter(|f| f.stored > 0)
                .map(|f| SizeNode {
                    name: f.path.clone(),
                    raw: f.stored,
                    gzip: f.stored,
                    kind: "file",
                    children: Vec::new(),
                })
                .collect();
            files.sort_by(|a, b| b.raw.cmp(&a.raw).then(a.name.cmp(&b.name)));
            SizeNode {
                name: root.root.clone(),
                raw: root.stored,
                gzip: root.stored,
                kind: "root",
                children: files,
            }
        })
        .collect();
    let listed: u64 = roots.iter().map(|r| r.raw).sum();
    // The zip's central directory (and any bytes of the zip a trailing zero-fill left
    // out of the segments: counted as not in the component).
    let directory = in_memory.saturating_sub(listed);
    if directory > 0 {
        roots.push(SizeNode {
            name: "zip directory".into(),
            raw: directory,
            gzip: directory,
            kind: "file",
            children: Vec::new(),
        });
    }
    roots.retain(|r| r.raw > 0);
    let raw = roots.iter().map(|r| r.raw).sum();
    Ok(SizeNode {
        name: "bundle".into(),
        raw,
        gzip: raw,
        kind: "bundle",
        children: roots,
    })
}

/// The page: one HTML file, no network (a Content-Security-Policy forbids any fetch),
/// the data as JSON and a small script that lays out a squarified treemap.
pub fn to_html(map: &SizeMap) -> String {
    let data = serde_json::to_string(map).expect("the size map serializes");
    // `</` inside a script element would end it: JSON escapes it as `<\/`.
    let data = data.replace("</", "<\\/");
    let share = map.total as f64 * 100.0 / map.budget.max(1) as f64;
    let mut rows = String::new();
    for part in &map.parts {
        rows.push_str(&table_row(part, 0));
        for child in part.children.iter().filter(|c| c.kind != "file") {
            rows.push_str(&table_row(child, 1));
        }
    }
    let escaped_title = escape(&map.title);
    let left_out = if map.left_out.is_empty() {
        String::new()
    } else {
        format!(
            "<p id=\"left-out\">Left out (nothing imports them): {}</p>",
            escape(&map.left_out.join(", "))
        )
    };
    let notes: String = map
        .notes
        .iter()
        .map(|n| format!("<p class=\"note\">{}</p>", escape(n)))
        .collect();
    PAGE.replace("{{TITLE}}", &escaped_title)
        .replace("{{TOTAL}}", &human_bytes(map.total))
        .replace("{{TOTAL_GZIP}}", &human_bytes(map.total_gzip))
        .replace("{{BUDGET}}", &human_bytes(map.budget))
        .replace("{{SHARE}}", &format!("{share:.1}"))
        .replace(
            "{{OVER}}",
            if map.total > map.budget {
                " — <strong>over budget</strong>"
            } else {
                ""
            },
        )
        .replace("{{LEFT_OUT}}", &left_out)
        .replace("{{NOTES}}", &notes)
        .replace("{{ROWS}}", &rows)
        .replace("{{DATA}}", &data)
}

fn table_row(node: &SizeNode, depth: usize) -> String {
    format!(
        "<tr class=\"depth-{depth}\"><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(&node.name),
        human_bytes(node.raw),
        human_bytes(node.gzip)
    )
}

/// HTML-escape text for element content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's generator tag: how a later build tells the page from the app's own HTML
/// (src/app_files.rs leaves it out of the bundle).
pub const GENERATOR: &str = r#"<meta name="generator" content="pyedge size picture">"#;

/// The page template (placeholders in `{{…}}`); the script draws `#map` from `#data`.
const PAGE: &str = include_str!("sizemap.html");

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, raw: u64) -> SizeNode {
        SizeNode {
            name: name.into(),
            raw,
            gzip: raw / 2,
            kind: "file",
            children: Vec::new(),
        }
    }

    #[test]
    fn the_page_carries_the_data_and_escapes_names() {
        let map = SizeMap {
            title: "a<b>.wasm".into(),
            total: 3000,
            total_gzip: 1000,
            budget: 2000,
            parts: vec![SizeNode {
                name: "bundle".into(),
                raw: 3000,
                gzip: 1000,
                kind: "bundle",
                children: vec![leaf("x</script><script>alert(1)</script>", 3000)],
            }],
            left_out: vec!["_decimal".into()],
            notes: vec![],
        };
        assert_eq!(map.node_count(), 2);
        let page = to_html(&map);
        assert!(page.contains("a&lt;b&gt;.wasm"));
        assert!(!page.contains("</script><script>alert"));
        assert!(page.contains("over budget"));
        assert!(page.contains("_decimal"));
        assert!(!page.contains("{{"), "a placeholder is left");
        assert!(page[..512].contains(GENERATOR));
        // Nothing is fetched: no URL in the page.
        assert!(!page.contains("http://") && !page.contains("https://"));
    }

    #[test]
    fn a_core_module_alone_is_one_wrapper_rectangle() {
        let module = b"\0asm\x01\0\0\0";
        let map = size_map("m.wasm", module, 100).unwrap();
        assert_eq!(map.total, 8);
        assert_eq!(map.parts.len(), 1);
        assert_eq!(map.parts[0].name, "component wrapper");
        assert!(!map.notes.is_empty());
    }
}
