//! The bundle's file list, by root (the app, each package, pyedge's own modules, the
//! standard library), read back from the bundle zip itself: what `pyedge build -v` and
//! `pyedge inspect --files` show, so a user can audit what an artifact carries.
//!
//! A built component holds the bundle in its snapshot memory: [`bundle_from_wasm`] finds
//! it through the runtime's bundle descriptor (magic `PYED`, see `src/embed.rs`) in the
//! data segments, so the list is of the bytes that ship, not of what the build meant to put in.

use anyhow::{bail, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use wasmparser::{DataKind, Operator, Parser, Payload};

/// Prefix of the app's files in the bundle.
const APP_PREFIX: &str = "app/";
/// Prefix of installed packages in the bundle.
const SITE_PREFIX: &str = "lib/python3.13/site-packages/";
/// Prefix of the standard library in the bundle.
const STDLIB_PREFIX: &str = "lib/python3.13/";
/// Prefix of pyedge's own Python packages (`pyedge`, `spin_sdk`) in the bundle.
const SDK_PREFIX: &str = "lib/pyedge/";

/// One file of the bundle.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BundleFile {
    /// Path inside its root (for the app: relative to the app directory).
    pub path: String,
    /// Uncompressed size.
    pub size: u64,
    /// Bytes it takes in the bundle (compressed data plus its zip header), the unit of the
    /// size report's bundle lines.
    pub stored: u64,
}

/// The files of one root.
#[derive(Debug, Clone, Serialize)]
pub struct BundleRoot {
    /// `app`, `name==version` for a package, `pyedge` (pyedge's own modules and boot
    /// configuration) or `stdlib`.
    pub root: String,
    /// Uncompressed bytes of its files.
    pub size: u64,
    /// Bytes its files take in the bundle.
    pub stored: u64,
    /// Its files, by path.
    pub files: Vec<BundleFile>,
}

/// Every file in a bundle, grouped by root: app first, then packages, pyedge, stdlib.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// The roots, in order.
    pub roots: Vec<BundleRoot>,
}

impl Manifest {
    /// Read the list from the bundle zip's bytes.
    pub fn from_zip(zip: &[u8]) -> Result<Manifest> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip))?;
        let mut entries = Vec::new();
        let mut records = Vec::new();
        for index in 0..archive.len() {
            let file = archive.by_index_raw(index)?;
            if file.is_dir() {
                continue;
            }
            let name = file.name().to_string();
            let stored = file.compressed_size() + 30 + file.name_raw().len() as u64;
            entries.push((name.clone(), file.size(), stored));
            if let Some(site) = name.strip_prefix(SITE_PREFIX) {
                if let Some(dist) = site
                    .strip_suffix("/RECORD")
                    .filter(|d| d.ends_with(".dist-info") && !d.contains('/'))
                {
                    drop(file);
                    let mut text = String::new();
                    archive
                        .by_index(index)?
                        .read_to_string(&mut text)
                        .unwrap_or_default();
                    records.push((dist.to_string(), text));
                }
            }
        }
        let owners = package_owners(&records);
        let mut roots: BTreeMap<(u8, String), Vec<BundleFile>> = BTreeMap::new();
        for (name, size, stored) in entries {
            let (order, root, path) = if let Some(rel) = name.strip_prefix(APP_PREFIX) {
                (0, "app".to_string(), rel.to_string())
            } else if let Some(rel) = name.strip_prefix(SITE_PREFIX) {
                let owner = owners
                    .get(rel)
                    .cloned()
                    .or_else(|| owner_by_top_level(rel, &owners))
                    .unwrap_or_else(|| "site-packages".to_string());
                (1, owner, rel.to_string())
            } else if let Some(rel) = name.strip_prefix(STDLIB_PREFIX) {
                (3, "stdlib".to_string(), rel.to_string())
            } else if let Some(rel) = name.strip_prefix(SDK_PREFIX) {
                (2, "pyedge".to_string(), rel.to_string())
            } else {
                (2, "pyedge".to_string(), name.clone())
            };
            roots
                .entry((order, root))
                .or_default()
                .push(BundleFile { path, size, stored });
        }
        Ok(Manifest {
            roots: roots
                .into_iter()
                .map(|((_, root), mut files)| {
                    files.sort_by(|a, b| a.path.cmp(&b.path));
                    BundleRoot {
                        root,
                        size: files.iter().map(|f| f.size).sum(),
                        stored: files.iter().map(|f| f.stored).sum(),
                        files,
                    }
                })
                .collect(),
        })
    }

    /// The files of root `name`, if the bundle has it.
    pub fn root(&self, name: &str) -> Option<&BundleRoot> {
        self.roots.iter().find(|r| r.root == name)
    }

    /// The list as text: a line per root with its totals, then a line per file.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for root in &self.roots {
            out.push_str(&format!(
                "{} ({} files, {} bytes, {} bytes stored)\n",
                root.root,
                root.files.len(),
                root.size,
                root.stored
            ));
            for file in &root.files {
                out.push_str(&format!(
                    "  {:>10} {:>10}  {}\n",
                    file.size, file.stored, file.path
                ));
            }
        }
        out
    }
}

/// site-packages path → `name==version`, from each distribution's RECORD.
fn package_owners(records: &[(String, String)]) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for (dist, record) in records {
        let owner = dist_label(dist);
        owners.insert(format!("{dist}/RECORD"), owner.clone());
        for line in record.lines() {
            // RECORD is CSV: path,hash,size; a path with a comma is quoted.
            let path = match line.strip_prefix('"') {
                Some(rest) => rest.split('"').next().unwrap_or_default(),
                None => line.split(',').next().unwrap_or_default(),
            };
            // Files a wheel puts under `NAME.data/purelib/` are installed at the top.
            let path = match path.split_once('/') {
                Some((top, rest)) if top.ends_with(".data") => rest
                    .strip_prefix("purelib/")
                    .or_else(|| rest.strip_prefix("platlib/"))
                    .unwrap_or(path),
                _ => path,
            };
            if !path.is_empty() {
                owners.insert(path.to_string(), owner.clone());
            }
        }
    }
    owners
}

/// A file no RECORD lists: owned by the package whose files share its top-level name.
fn owner_by_top_level(rel: &str, owners: &BTreeMap<String, String>) -> Option<String> {
    let top = rel.split('/').next()?;
    let prefix = format!("{top}/");
    owners
        .range(prefix.clone()..)
        .take_while(|(path, _)| path.starts_with(&prefix))
        .map(|(_, owner)| owner.clone())
        .next()
}

/// `PyJWT-2.10.1.dist-info` → `pyjwt==2.10.1` (the name normalized as in PEP 503).
fn dist_label(dist: &str) -> String {
    let stem = dist.strip_suffix(".dist-info").unwrap_or(dist);
    let (name, version) = stem.split_once('-').unwrap_or((stem, ""));
    let mut normal = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normal.ends_with('-') {
                normal.push('-');
            }
        } else {
            normal.push(c.to_ascii_lowercase());
        }
    }
    format!("{normal}=={version}")
}

/// The descriptor's first two words: magic `PYED` and version 1 (`src/embed.rs`).
const DESCRIPTOR_HEAD: [u8; 8] = [0x50, 0x59, 0x45, 0x44, 1, 0, 0, 0];

/// The bundle zip carried by a component or core module that `pyedge build` made.
pub fn bundle_from_wasm(wasm: &[u8]) -> Result<Vec<u8>> {
    bundle_in_wasm(wasm).map(|(_, bytes)| bytes)
}

/// The bundle zip and its address in the linear memory the data segments fill.
pub fn bundle_in_wasm(wasm: &[u8]) -> Result<(u64, Vec<u8>)> {
    // Active data segments of each core module, as (address, bytes).
    let mut modules: Vec<Vec<(u64, &[u8])>> = vec![Vec::new()];
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ModuleSection { .. } => modules.push(Vec::new()),
            Payload::DataSection(reader) => {
                let segments = modules.last_mut().expect("one list per module");
                for segment in reader {
                    let segment = segment?;
                    if let DataKind::Active { offset_expr, .. } = segment.kind {
                        if let Ok(Operator::I32Const { value }) =
                            offset_expr.get_operators_reader().read()
                        {
                            segments.push((value as u32 as u64, segment.data));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for segments in &modules {
        for (_, data) in segments {
            let mut from = 0;
            while let Some(at) = find(&data[from..], &DESCRIPTOR_HEAD) {
                let desc = &data[from + at..];
                from += at + 1;
                if desc.len() < 16 {
                    continue;
                }
                let word = |i: usize| u32::from_le_bytes(desc[i..i + 4].try_into().unwrap());
                let (start, len) = (word(8) as u64, word(12) as u64);
                let Some(bytes) = read_memory(segments, start, len) else {
                    continue;
                };
                if bytes.starts_with(b"PK\x03\x04")
                    && zip::ZipArchive::new(Cursor::new(&bytes[..])).is_ok()
                {
                    return Ok((start, bytes));
                }
            }
        }
    }
    bail!("no pyedge bundle found (was this file built by `pyedge build`?)")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Bytes `start..start+len` of the initial memory the segments describe (gaps are zero).
fn read_memory(segments: &[(u64, &[u8])], start: u64, len: u64) -> Option<Vec<u8>> {
    const LIMIT: u64 = 4 << 30;
    if len == 0 || start.checked_add(len)? > LIMIT {
        return None;
    }
    let end = start + len;
    let mut out = vec![0u8; len as usize];
    let mut covered = false;
    for (addr, data) in segments {
        let seg_end = addr + data.len() as u64;
        let (lo, hi) = (start.max(*addr), end.min(seg_end));
        if lo < hi {
            out[(lo - start) as usize..(hi - start) as usize]
                .copy_from_slice(&data[(lo - addr) as usize..(hi - addr) as usize]);
            covered = true;
        }
    }
    covered.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn files_are_grouped_by_root_and_package() {
        let record = b"jwt/__init__.py,sha256=x,3\njwt/api.py,,\nPyJWT-2.10.1.dist-info/RECORD,,\n";
        let zip = zip_of(&[
            ("app/app.py", b"print(1)"),
            ("app/templates/index.html", b"<p>"),
            ("lib/python3.13/site-packages/jwt/__init__.py", b"x=1"),
            ("lib/python3.13/site-packages/jwt/api.py", b""),
            (
                "lib/python3.13/site-packages/PyJWT-2.10.1.dist-info/RECORD",
                record,
            ),
            ("lib/python3.13/json/__init__.py", b""),
            ("lib/pyedge/pyedge/http.py", b""),
            ("pyedge.cfg", b"entry=app\n"),
        ]);
        let manifest = Manifest::from_zip(&zip).unwrap();
        let names: Vec<&str> = manifest.roots.iter().map(|r| r.root.as_str()).collect();
        assert_eq!(names, ["app", "pyjwt==2.10.1", "pyedge", "stdlib"]);
        let app = manifest.root("app").unwrap();
        assert_eq!(app.files.len(), 2);
        assert_eq!(app.files[0].path, "app.py");
        assert_eq!(app.size, 11);
        assert_eq!(manifest.root("pyjwt==2.10.1").unwrap().files.len(), 3);
        assert!(manifest.to_text().contains("app.py"));
    }

    #[cfg(feature = "host")]
    #[test]
    fn the_bundle_is_found_through_the_descriptor_in_data_segments() {
        let zip = zip_of(&[("app/app.py", b"print(1)")]);
        let mut desc = DESCRIPTOR_HEAD.to_vec();
        desc.extend_from_slice(&0x2_0000u32.to_le_bytes());
        desc.extend_from_slice(&(zip.len() as u32).to_le_bytes());
        let mut module = wasm_encoder::Module::new();
        let mut memories = wasm_encoder::MemorySection::new();
        memories.memory(wasm_encoder::MemoryType {
            minimum: 4,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        let mut data = wasm_encoder::DataSection::new();
        data.active(0, &wasm_encoder::ConstExpr::i32_const(1024), desc);
        data.active(
            0,
            &wasm_encoder::ConstExpr::i32_const(0x2_0000),
            zip.clone(),
        );
        module.section(&data);
        assert_eq!(bundle_from_wasm(&module.finish()).unwrap(), zip);
        assert!(bundle_from_wasm(&wasm_encoder::Module::new().finish()).is_err());
    }
}
