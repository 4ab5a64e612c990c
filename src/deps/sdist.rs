//! Pure wheels built from source distributions, inside pyedge's own WASI CPython.
//!
//! When the only wheels of a version are native, its sdist may still make a pure wheel:
//! many packages ship their C part as an optional accelerator (MarkupSafe, PyYAML,
//! msgpack...). The sdist is unpacked (safely) into a temporary directory, its PEP 517
//! backend's requirements are resolved as pure wheels from the same sources as every
//! other dependency, and the backend's `build_wheel` runs in the runtime pyedge embeds,
//! under Wasmtime, with only the source tree, an output directory and a scratch directory
//! preopened and the packages' documented pure-build switches ([`PURE_SWITCHES`]) in its
//! environment. No host Python and no compiler are involved: the sandbox cannot start a
//! process, so a compile attempt fails, and the build with it unless the package falls
//! back to pure Python on its own.
//!
//! The wheel is accepted only if it holds no compiled file and its public top-level
//! modules import in the runtime; it is then rewritten to be reproducible (tag
//! `py3-none-any`, entries sorted, fixed times, a fresh RECORD) and cached under the
//! sdist's sha256 (`<cache>/sdist-builds/`).

use super::cache::{BuiltWheel, LocalWheel};
use super::classify::SdistFailure;
use super::index::DistFile;
use super::requirements::Requirement;
use super::resolve::resolve_build_requirements;
use super::sources::Sources;
use super::wheel::{
    inspect_wheel_archive, record_digest, safe_entry_name, sha256_file, ArchiveProblem,
    WheelFilename, MAX_ENTRIES, MAX_EXPANDED_BYTES,
};
use crate::bundle::{collect_bundle, DependencyFiles};
use crate::config::{AppConfig, StdlibSelection};
use crate::embed::{embed_bundle, EmbedInputs};
use crate::stdlib::{plan_stdlib, ImportRoots};
use anyhow::{Context, Result};
use pep440_rs::Version;
use pep508_rs::PackageName;
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The documented switches that make packages build without their C extensions; all are
/// set for every build (each is read by its own package only).
pub const PURE_SWITCHES: &[(&str, &str)] = &[
    ("AIOHTTP_NO_EXTENSIONS", "1"),
    ("BUILD_EXTENSION", "no"),
    ("DISABLE_SPEEDUPS", "1"),
    ("FROZENLIST_NO_EXTENSIONS", "1"),
    ("MSGPACK_PUREPYTHON", "1"),
    ("MULTIDICT_NO_EXTENSIONS", "1"),
    ("PROPCACHE_NO_EXTENSIONS", "1"),
    ("PYYAML_FORCE_LIBYAML", "0"),
    ("WRAPT_INSTALL_EXTENSIONS", "false"),
    ("YARL_NO_EXTENSIONS", "1"),
];

/// `SOURCE_DATE_EPOCH` for the backend (1980-01-01, the earliest time a zip can hold).
pub const SOURCE_DATE_EPOCH: &str = "315532800";

/// Build backends (and build requirements) that compile code and never make a pure
/// wheel: (module or distribution name, what to call it).
const REFUSED_BACKENDS: &[(&str, &str)] = &[
    ("mesonpy", "meson-python"),
    ("meson-python", "meson-python"),
    ("maturin", "maturin"),
    ("scikit_build_core", "scikit-build-core"),
    ("scikit-build-core", "scikit-build-core"),
    ("skbuild", "scikit-build"),
    ("scikit-build", "scikit-build"),
];

/// The driver the runtime runs (its `main()` calls the backend).
const DRIVER: &str = include_str!("sdist_build.py");
const DRIVER_MODULE: &str = "_pyedge_sdist_build";

/// Bumped whenever the bytes a build produces could change for the same sdist.
const CACHE_FORMAT: &str = "v1";

/// Most bytes an sdist may expand to, and most entries.
const MAX_SDIST_BYTES: u64 = MAX_EXPANDED_BYTES;

/// What `[build-system]` says (PEP 517/518, with their defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    /// `requires`.
    pub requires: Vec<String>,
    /// `build-backend`, `module:object`.
    pub backend: String,
    /// `backend-path` (in-tree backends), relative to the source root.
    pub backend_path: Vec<String>,
}

impl BuildSystem {
    /// Read `pyproject.toml` in `root` (the setuptools legacy default without one).
    pub fn read(root: &Path) -> Result<BuildSystem, SdistFailure> {
        let legacy = || BuildSystem {
            requires: vec!["setuptools>=40.8.0".to_string()],
            backend: "setuptools.build_meta:__legacy__".to_string(),
            backend_path: Vec::new(),
        };
        let path = root.join("pyproject.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(legacy());
        };
        let invalid = |detail: String| SdistFailure::Invalid {
            detail: format!("pyproject.toml: {detail}"),
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let Some(system) = table.get("build-system") else {
            return Ok(legacy());
        };
        let strings = |key: &str| -> Result<Vec<String>, SdistFailure> {
            match system.get(key) {
                None => Ok(Vec::new()),
                Some(toml::Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_string).ok_or_else(|| {
                            invalid(format!("[build-system] {key} must hold strings"))
                        })
                    })
                    .collect(),
                Some(_) => Err(invalid(format!("[build-system] {key} must be a list"))),
            }
        };
        let requires = strings("requires")?;
        let backend_path = strings("backend-path")?;
        match system.get("build-backend").and_then(|v| v.as_str()) {
            Some(backend) => Ok(BuildSystem {
                requires,
                backend: backend.to_string(),
                backend_path,
            }),
            None => Ok(BuildSystem {
                requires,
                ..legacy()
            }),
        }
    }

    /// The backend or build requirement that cannot make a pure wheel, by name.
    pub fn refused_backend(&self) -> Option<&'static str> {
        let module = self.backend.split([':', '.']).next().unwrap_or("").trim();
        let requirement_names = self.requires.iter().filter_map(|r| {
            Requirement::from_str(r)
                .ok()
                .map(|r| r.name.as_ref().to_string())
        });
        std::iter::once(module.to_string())
            .chain(requirement_names)
            .find_map(|name| {
                REFUSED_BACKENDS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, shown)| *shown)
            })
    }
}

/// Builds pure wheels from sdists in the WASI runtime, caching them by sdist sha256.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    cache: PathBuf,
}

impl SdistBuilder {
    /// A builder caching under `<cache root>/sdist-builds`.
    pub fn new(cache_root: &Path) -> Self {
        Self {
            cache: cache_root.join("sdist-builds").join(CACHE_FORMAT),
        }
    }

    /// The cached build of the sdist with this sha256, verified, if there is one.
    pub fn cached(&self, sdist_sha256: &str, sdist: &str) -> Option<BuiltWheel> {
        let dir = self.cache.join(sdist_sha256);
        let entries = std::fs::read_dir(&dir).ok()?;
        for entry in entries.flatten() {
            let filename = entry.file_name().to_string_lossy().into_owned();
            if !filename.ends_with(".whl") {
                continue;
            }
            let recorded = std::fs::read_to_string(dir.join(format!("{filename}.sha256"))).ok()?;
            let path = entry.path();
            let actual = sha256_file(&path).ok()?;
            if actual != recorded.trim() {
                eprintln!(
                    "warning: the wheel built from {sdist}, cached as {}, is damaged (its \
                     sha256 differs from the one recorded); removed, building it again",
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                return None;
            }
            return Some(BuiltWheel {
                filename,
                wheel: LocalWheel {
                    path,
                    sha256: actual,
                },
                sdist: sdist.to_string(),
                sdist_sha256: sdist_sha256.to_string(),
            });
        }
        None
    }

    /// Build (or take from the cache) a pure wheel of `name` `version` from `sdist`, a
    /// verified local copy of `file`. `Ok(Err(..))` says why no pure wheel can be made.
    pub fn build(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
        sdist: &LocalWheel,
        sources: &Sources,
    ) -> Result<Result<BuiltWheel, SdistFailure>> {
        if let Some(hit) = self.cached(&sdist.sha256, &file.filename) {
            return Ok(Ok(hit));
        }
        let reject = |failure: SdistFailure| -> Result<Result<BuiltWheel, SdistFailure>> {
            Ok(Err(failure))
        };
        let work = tempfile::tempdir().context("cannot create a temporary directory")?;
        let (src, out, tmp) = (
            work.path().join("src"),
            work.path().join("out"),
            work.path().join("tmp"),
        );
        for dir in [&src, &out, &tmp] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let root = match unpack_sdist(&sdist.path, &file.filename, &src) {
            Ok(root) => root,
            Err(failure) => return reject(failure),
        };
        let system = match BuildSystem::read(&root) {
            Ok(system) => system,
            Err(failure) => return reject(failure),
        };
        if let Some(backend) = system.refused_backend() {
            return reject(SdistFailure::Backend {
                backend: backend.to_string(),
            });
        }
        let requirements = match parse_build_requirements(&system.requires) {
            Ok(requirements) => requirements,
            Err(failure) => return reject(failure),
        };
        let what = format!("{name} {version} build");
        let build_deps = match resolve_build_requirements(sources, &what, &requirements)? {
            Ok(deps) => deps,
            Err(detail) => return reject(SdistFailure::BuildRequirement { detail }),
        };
        let module = build_module(&build_deps)?;
        let spec = serde_json::json!({
            "backend": system.backend,
            "backend_path": system.backend_path,
            "switches": PURE_SWITCHES.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        });
        let mut env: Vec<(String, String)> = PURE_SWITCHES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend([
            (
                "SOURCE_DATE_EPOCH".to_string(),
                SOURCE_DATE_EPOCH.to_string(),
            ),
            ("PYEDGE_BUILD_SPEC".to_string(), spec.to_string()),
            ("TMPDIR".to_string(), "/tmp".to_string()),
            ("HOME".to_string(), "/tmp".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ]);
        let run = super::sandbox::run(&module, &root, &out, &tmp, &env)?;
        let result = match read_result(&out) {
            Some(result) => result,
            None => {
                return reject(SdistFailure::Failed {
                    detail: format!(
                        "the build ended without a result ({}){}",
                        run.ended,
                        last_lines(&run.output, 6)
                    ),
                })
            }
        };
        if !result.ok {
            return reject(build_failure(&result, &run.output, &root));
        }
        let Some(raw_name) = result.wheel.as_deref() else {
            return reject(SdistFailure::Failed {
                detail: "the backend returned no wheel name".to_string(),
            });
        };
        let raw = std::fs::read(out.join(raw_name))
            .with_context(|| format!("cannot read the built {raw_name}"))?;
        let (filename, bytes) = match normalize_wheel(&raw, raw_name, name, version) {
            Ok(normalized) => normalized,
            Err(failure) => return reject(failure),
        };
        let parsed = WheelFilename::parse(&filename).expect("normalize_wheel names a wheel");
        let info = match inspect_wheel_archive(Cursor::new(&bytes), &parsed) {
            Ok(info) => info,
            Err(problem) => {
                return reject(SdistFailure::Invalid {
                    detail: format!("{raw_name}: {problem}"),
                })
            }
        };
        if !info.native_files.is_empty() {
            return reject(SdistFailure::ExtensionRequired {
                detail: format!(
                    "the wheel holds compiled code: {}",
                    info.native_files.join(", ")
                ),
            });
        }
        if let Some((module, error)) = result.import_errors.iter().next() {
            return reject(SdistFailure::Import {
                module: module.clone(),
                detail: error.clone(),
            });
        }
        if result.imported.is_empty() {
            return reject(SdistFailure::Invalid {
                detail: format!("{raw_name} has no public top-level module to import"),
            });
        }
        let wheel = self.store(&sdist.sha256, &filename, &bytes)?;
        Ok(Ok(BuiltWheel {
            filename,
            wheel,
            sdist: file.filename.clone(),
            sdist_sha256: sdist.sha256.clone(),
        }))
    }

    /// Import the public top-level modules of the wheel `check` in the runtime, with the
    /// wheels `others` installed beside it: `Ok(Err((module, error)))` for the first
    /// import that fails.
    pub fn import_check(
        &self,
        check: &Path,
        others: &[&Path],
    ) -> Result<Result<(), (String, String)>> {
        let work = tempfile::tempdir().context("cannot create a temporary directory")?;
        let (src, out, tmp) = (
            work.path().join("src"),
            work.path().join("out"),
            work.path().join("tmp"),
        );
        for dir in [&src, &out, &tmp] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut names = Vec::new();
        for (i, wheel) in std::iter::once(&check).chain(others).enumerate() {
            let name = format!("{i}.whl");
            std::fs::copy(wheel, src.join(&name))
                .with_context(|| format!("cannot copy {}", wheel.display()))?;
            names.push(name);
        }
        let spec = serde_json::json!({"mode": "import", "wheels": names});
        let env = [("PYEDGE_BUILD_SPEC".to_string(), spec.to_string())];
        let run = super::sandbox::run(&build_module(&[])?, &src, &out, &tmp, &env)?;
        let Some(result) = read_result(&out) else {
            anyhow::bail!(
                "the import check of {} ended without a result ({}){}",
                check.display(),
                run.ended,
                last_lines(&run.output, 6)
            );
        };
        Ok(match result.import_errors.into_iter().next() {
            Some(failed) => Err(failed),
            None => Ok(()),
        })
    }

    /// Keep a built wheel (temp file + rename) beside a record of its sha256.
    fn store(&self, sdist_sha256: &str, filename: &str, bytes: &[u8]) -> Result<LocalWheel> {
        let dir = self.cache.join(sdist_sha256);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the build cache {}", dir.display()))?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        let path = dir.join(filename);
        for (target, content) in [
            (dir.join(format!("{filename}.sha256")), sha256.as_bytes()),
            (path.clone(), bytes),
        ] {
            let mut temp = tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| format!("cannot write to {}", dir.display()))?;
            temp.write_all(content)
                .and_then(|_| temp.flush())
                .with_context(|| format!("cannot write {}", target.display()))?;
            temp.persist(&target)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        Ok(LocalWheel { path, sha256 })
    }
}

/// What the driver wrote to `/out/.pyedge-build.json`.
#[derive(Debug, Default, serde::Deserialize)]
struct DriverResult {
    ok: bool,
    wheel: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    traceback: Option<String>,
    #[serde(default)]
    imported: Vec<String>,
    #[serde(default)]
    import_errors: BTreeMap<String, String>,
}

fn read_result(out: &Path) -> Option<DriverResult> {
    let text = std::fs::read_to_string(out.join(".pyedge-build.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Why a build failed: a compile attempt (the C extension is required), or anything else.
fn build_failure(result: &DriverResult, output: &str, root: &Path) -> SdistFailure {
    let error = result.error.clone().unwrap_or_default();
    let traceback = result.traceback.as_deref().unwrap_or("");
    let text = format!("{output}\n{traceback}");
    let compiled = ["build_ext", "CompileError", "CCompilerError", "compiler"]
        .iter()
        .any(|word| text.contains(word));
    if compiled && has_compiled_sources(root) {
        return SdistFailure::ExtensionRequired {
            detail: one_line(&error),
        };
    }
    SdistFailure::Failed {
        detail: one_line(&error),
    }
}

fn one_line(text: &str) -> String {
    let line = text.lines().last().unwrap_or("").trim();
    let mut line: String = line.chars().take(300).collect();
    if line.is_empty() {
        line = "no error message".to_string();
    }
    line
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match lines.len() {
        0 => String::new(),
        len => format!(":\n{}", lines[len.saturating_sub(n)..].join("\n")),
    }
}

/// Whether the source tree holds C, C++, Cython or Rust sources.
fn has_compiled_sources(root: &Path) -> bool {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .any(|e| {
            let name = e.file_name().to_string_lossy().to_ascii_lowercase();
            [".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
}

fn parse_build_requirements(requires: &[String]) -> Result<Vec<Requirement>, SdistFailure> {
    requires
        .iter()
        .map(|line| {
            Requirement::from_str(line).map_err(|err| SdistFailure::Invalid {
                detail: format!("pyproject.toml: invalid build requirement `{line}`: {err}"),
            })
        })
        .collect()
}

/// The runtime with a bundle of the whole stdlib, the build requirements and the driver.
fn build_module(deps: &[DependencyFiles]) -> Result<Vec<u8>> {
    let app = AppConfig {
        app_dir: PathBuf::new(),
        entry_module: DRIVER_MODULE.to_string(),
        entry_path: format!("{DRIVER_MODULE}.py"),
        entry_attr: None,
        interface: crate::config::Interface::Auto,
        lifespan: crate::config::Lifespan::Auto,
        log_format: crate::config::LogFormat::Text,
        include: Vec::new(),
        exclude: Vec::new(),
        allow_secrets: Vec::new(),
        skip_files: Vec::new(),
        budget: u64::MAX,
        settings: BTreeMap::new(),
        stdlib: StdlibSelection::All,
        origin: None,
        runtime_config: crate::config::RuntimeConfig::None,
        config_store: crate::config::ConfigStore::Wasmtime,
        secrets: BTreeMap::new(),
        preimport: crate::config::Preimport::TopLevel,
        preimport_names: Vec::new(),
        lazy_bytecode: false, // no snapshot: nothing would hold it
        allowed_outbound_hosts: Vec::new(),
    };
    let files = crate::app_files::AppFiles {
        files: vec![(app.entry_path.clone(), DRIVER.as_bytes().to_vec())],
        skipped_secrets: Vec::new(),
    };
    let plan = plan_stdlib(&StdlibSelection::All, ImportRoots::new(), &[])?;
    let bundle = collect_bundle(&app, &files, deps, &[], &plan, "cli")?;
    let inputs = EmbedInputs {
        bundle: &bundle.zip,
        boot_source: crate::runtime::BOOT_PY,
        // No hash randomization: the same sdist builds the same way.
        hash_seed: 0,
    };
    Ok(embed_bundle(crate::runtime::PYTHON_CLI_WASM, &inputs)?.0)
}

/// Unpack a `.tar.gz` or `.zip` sdist into `dest` and return its project root (the one
/// top-level directory). Links, devices, absolute and `..` paths are refused.
pub fn unpack_sdist(path: &Path, filename: &str, dest: &Path) -> Result<PathBuf, SdistFailure> {
    let invalid = |detail: String| SdistFailure::Invalid {
        detail: format!("{filename}: {detail}"),
    };
    let file = std::fs::File::open(path).map_err(|e| invalid(format!("cannot open: {e}")))?;
    let mut budget = Budget::default();
    if filename.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid(e.to_string()))?;
        for index in 0..zip.len() {
            let mut entry = zip.by_index(index).map_err(|e| invalid(e.to_string()))?;
            let name = safe_entry_name(entry.name()).map_err(|p| invalid(p.to_string()))?;
            if entry.is_symlink() {
                return Err(invalid(ArchiveProblem::Symlink { entry: name }.to_string()));
            }
            if entry.is_dir() {
                continue;
            }
            write_entry(dest, &name, &mut entry, &mut budget).map_err(invalid)?;
        }
    } else if filename.ends_with(".tar.gz") {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive.entries().map_err(|e| invalid(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
            let raw = entry.path().map_err(|e| invalid(e.to_string()))?;
            let name =
                safe_entry_name(&raw.to_string_lossy()).map_err(|p| invalid(p.to_string()))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                continue;
            }
            if !kind.is_file() {
                // Links and devices never belong in a source tree pyedge builds.
                return Err(invalid(format!("entry `{name}` is not a regular file")));
            }
            write_entry(dest, &name, &mut entry, &mut budget).map_err(invalid)?;
        }
    } else {
        return Err(invalid(
            "not a .tar.gz or .zip source distribution".to_string(),
        ));
    }
    let tops: Vec<PathBuf> = std::fs::read_dir(dest)
        .map_err(|e| invalid(e.to_string()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    match tops.as_slice() {
        [root] if root.is_dir() => Ok(root.clone()),
        _ => Err(invalid(
            "expected one top-level directory holding the project".to_string(),
        )),
    }
}

#[derive(Default)]
struct Budget {
    bytes: u64,
    entries: usize,
}

fn write_entry(
    dest: &Path,
    name: &str,
    reader: &mut dyn Read,
    budget: &mut Budget,
) -> Result<(), String> {
    let name = name.trim_start_matches("./");
    if name.is_empty() {
        return Ok(());
    }
    budget.entries += 1;
    if budget.entries > MAX_ENTRIES {
        return Err(format!("more than {MAX_ENTRIES} entries"));
    }
    let target = dest.join(name);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{name}: {e}"))?;
    }
    let remaining = MAX_SDIST_BYTES - budget.bytes;
    let mut out = std::fs::File::create(&target).map_err(|e| format!("{name}: {e}"))?;
    let copied = std::io::copy(&mut reader.take(remaining + 1), &mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    budget.bytes += copied;
    if budget.bytes > MAX_SDIST_BYTES {
        return Err(format!("expands past {MAX_SDIST_BYTES} bytes"));
    }
    Ok(())
}

/// Rewrite a wheel the backend built so the same sdist always gives the same bytes:
/// tagged `py3-none-any` with `Root-Is-Purelib: true` (a pure payload the backend tagged
/// for the platform is retagged), entries sorted, times fixed at 1980-01-01, permissions
/// 0644, and RECORD written again. The name and version must be the sdist's.
pub fn normalize_wheel(
    raw: &[u8],
    raw_name: &str,
    name: &PackageName,
    version: &Version,
) -> Result<(String, Vec<u8>), SdistFailure> {
    let invalid = |detail: String| SdistFailure::Invalid {
        detail: format!("{raw_name}: {detail}"),
    };
    let parsed = WheelFilename::parse(raw_name)
        .ok_or_else(|| invalid("the backend's wheel has no valid wheel name".to_string()))?;
    if parsed.name != *name || parsed.version != *version {
        return Err(invalid(format!(
            "the backend built {} {}, not {name} {version}",
            parsed.name, parsed.version
        )));
    }
    let distribution = raw_name.split('-').next().unwrap_or_default();
    let version_part = raw_name.split('-').nth(1).unwrap_or_default();
    let filename = format!("{distribution}-{version_part}-py3-none-any.whl");
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    super::wheel::visit_archive(Cursor::new(raw), |entry, bytes| {
        files.insert(entry.to_string(), bytes.to_vec());
        Ok(())
    })
    .map_err(|p| invalid(p.to_string()))?;
    // The backend's spelling of the `.dist-info` directory (`PyYAML-6.0.4.dist-info`).
    let dist_info = files
        .keys()
        .filter_map(|entry| entry.split_once('/').map(|(dir, _)| dir))
        .filter(|dir| dir.ends_with(".dist-info"))
        .find(|dir| {
            dir.trim_end_matches(".dist-info")
                .rsplit_once('-')
                .and_then(|(n, _)| PackageName::from_str(n).ok())
                .is_some_and(|n| n == *name)
        })
        .map(str::to_string)
        .ok_or_else(|| {
            invalid(format!(
                "no {distribution}-{version_part}.dist-info directory"
            ))
        })?;
    let wheel_file = format!("{dist_info}/WHEEL");
    let record_file = format!("{dist_info}/RECORD");
    let wheel_text = files
        .get(&wheel_file)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or_else(|| invalid(format!("missing {wheel_file}")))?;
    files.insert(wheel_file, pure_wheel_metadata(&wheel_text).into_bytes());
    files.remove(&record_file);
    let mut record = String::new();
    for (entry, bytes) in &files {
        record.push_str(&format!(
            "{entry},{},{}\n",
            record_digest(bytes),
            bytes.len()
        ));
    }
    record.push_str(&format!("{record_file},,\n"));
    files.insert(record_file, record.into_bytes());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // RECORD last, as the wheel spec recommends; the rest in name order.
    let (record, rest): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(entry, _)| entry.ends_with(".dist-info/RECORD"));
    for (entry, bytes) in rest.into_iter().chain(record) {
        zip.start_file(entry.as_str(), options)
            .and_then(|_| zip.write_all(bytes).map_err(Into::into))
            .map_err(|e| invalid(e.to_string()))?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| invalid(e.to_string()))?
        .into_inner();
    Ok((filename, bytes))
}

/// `WHEEL` with `Root-Is-Purelib: true` and the one tag `py3-none-any`.
fn pure_wheel_metadata(text: &str) -> String {
    let mut out = String::new();
    let mut tagged = false;
    for line in text.lines() {
        let key = line.split(':').next().unwrap_or("").trim();
        if key.eq_ignore_ascii_case("Root-Is-Purelib") {
            out.push_str("Root-Is-Purelib: true\n");
        } else if key.eq_ignore_ascii_case("Tag") {
            if !tagged {
                out.push_str("Tag: py3-none-any\n");
                tagged = true;
            }
        } else if !line.trim().is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !tagged {
        out.push_str("Tag: py3-none-any\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    const WHEEL: &[u8] =
        b"Wheel-Version: 1.0\nGenerator: setuptools\nRoot-Is-Purelib: false\nTag: cp313-cp313-wasi_0_0_0_wasm32\n";

    #[test]
    fn normalize_retags_sorts_and_is_stable() {
        let raw = wheel_bytes(&[
            ("yaml/__init__.py", b"x = 1\n"),
            ("PyYAML-6.0.4.dist-info/WHEEL", WHEEL),
            (
                "PyYAML-6.0.4.dist-info/METADATA",
                b"Name: PyYAML\nVersion: 6.0.4\n",
            ),
            ("PyYAML-6.0.4.dist-info/RECORD", b"stale\n"),
            ("_yaml/__init__.py", b""),
        ]);
        let name = PackageName::from_str("pyyaml").unwrap();
        let version = Version::from_str("6.0.4").unwrap();
        let raw_name = "pyyaml-6.0.4-cp313-cp313-wasi_0_0_0_wasm32.whl";
        let (filename, bytes) = normalize_wheel(&raw, raw_name, &name, &version).unwrap();
        assert_eq!(filename, "pyyaml-6.0.4-py3-none-any.whl");
        let (_, again) = normalize_wheel(&raw, raw_name, &name, &version).unwrap();
        assert_eq!(bytes, again);
        let parsed = WheelFilename::parse(&filename).unwrap();
        // RECORD is consistent (inspect checks every digest) and the payload is pure.
        let info = inspect_wheel_archive(Cursor::new(&bytes), &parsed).unwrap();
        assert!(info.root_is_purelib);
        assert!(info.native_files.is_empty());
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        assert_eq!(names.last().unwrap(), "PyYAML-6.0.4.dist-info/RECORD");
        let mut wheel = String::new();
        zip.by_name("PyYAML-6.0.4.dist-info/WHEEL")
            .unwrap()
            .read_to_string(&mut wheel)
            .unwrap();
        assert!(wheel.contains("Tag: py3-none-any\n"), "{wheel}");
        assert!(wheel.contains("Root-Is-Purelib: true\n"), "{wheel}");
        assert!(!wheel.contains("wasi"), "{wheel}");
    }

    #[test]
    fn wheel_metadata_gets_one_pure_tag() {
        let text = "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\n\
                    Tag: cp313-cp313-manylinux_2_17_x86_64\nTag: cp313-cp313-manylinux2014_x86_64\n";
        assert_eq!(
            pure_wheel_metadata(text),
            "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        );
        assert_eq!(
            pure_wheel_metadata("Wheel-Version: 1.0\n"),
            "Wheel-Version: 1.0\nTag: py3-none-any\n"
        );
    }

    #[test]
    fn a_failed_build_is_about_the_extension_only_with_compiled_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/__init__.py"), "").unwrap();
        let result = DriverResult {
            error: Some("SystemExit: error: [Errno 58] wasi does not support processes.".into()),
            traceback: Some("  File \"build_ext.py\", line 1\n".into()),
            ..DriverResult::default()
        };
        assert!(matches!(
            build_failure(&result, "", dir.path()),
            SdistFailure::Failed { .. }
        ));
        std::fs::write(dir.path().join("pkg/_speedups.c"), "").unwrap();
        match build_failure(&result, "", dir.path()) {
            SdistFailure::ExtensionRequired { detail } => {
                assert_eq!(
                    detail,
                    "SystemExit: error: [Errno 58] wasi does not support processes."
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn normalize_refuses_another_project() {
        let raw = wheel_bytes(&[("a/__init__.py", b"")]);
        let name = PackageName::from_str("markupsafe").unwrap();
        let version = Version::from_str("3.0.4").unwrap();
        let err = normalize_wheel(&raw, "other-1.0-py3-none-any.whl", &name, &version)
            .expect_err("another project");
        assert!(format!("{err}").contains("not markupsafe 3.0.4"), "{err}");
    }

    #[test]
    fn build_system_defaults_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = BuildSystem::read(dir.path()).unwrap();
        assert_eq!(legacy.backend, "setuptools.build_meta:__legacy__");
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[build-system]\nrequires = [\"meson-python\", \"numpy\"]\nbuild-backend = \"mesonpy\"\n",
        )
        .unwrap();
        assert_eq!(
            BuildSystem::read(dir.path()).unwrap().refused_backend(),
            Some("meson-python")
        );
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[build-system]\nrequires = [\"maturin>=1\"]\nbuild-backend = \"x.y\"\n",
        )
        .unwrap();
        assert_eq!(
            BuildSystem::read(dir.path()).unwrap().refused_backend(),
            Some("maturin")
        );
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[build-system]\nrequires = [\"setuptools\", \"Cython>=3.0; python_version >= '3.13'\"]\nbackend-path = [\"packaging\"]\nbuild-backend = \"_pyyaml_pep517\"\n",
        )
        .unwrap();
        let pyyaml = BuildSystem::read(dir.path()).unwrap();
        assert_eq!(pyyaml.refused_backend(), None);
        assert_eq!(pyyaml.backend_path, vec!["packaging".to_string()]);
        assert_eq!(pyyaml.requires.len(), 2);
    }

    #[test]
    fn unpack_refuses_escapes_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let tarball = |entries: &[(&str, tar::EntryType)]| {
            let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::default(),
            ));
            for (name, kind) in entries {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(*kind);
                header.set_size(if kind.is_file() { 2 } else { 0 });
                header.set_mode(0o644);
                // set_path refuses `..`; write the raw name as a hostile archive would.
                let raw = &mut header.as_old_mut().name;
                raw[..name.len()].copy_from_slice(name.as_bytes());
                if *kind == tar::EntryType::Symlink {
                    header.set_link_name("/etc/passwd").unwrap();
                }
                header.set_cksum();
                let data: &[u8] = if kind.is_file() { b"x\n" } else { b"" };
                builder.append(&header, data).unwrap();
            }
            let path = dir.path().join("p-1.0.tar.gz");
            std::fs::write(&path, builder.into_inner().unwrap().finish().unwrap()).unwrap();
            path
        };
        let good = tarball(&[
            ("p-1.0/setup.py", tar::EntryType::Regular),
            ("p-1.0/p/__init__.py", tar::EntryType::Regular),
        ]);
        let out = tempfile::tempdir().unwrap();
        let root = unpack_sdist(&good, "p-1.0.tar.gz", out.path()).unwrap();
        assert!(root.join("p/__init__.py").is_file());
        for hostile in [
            tarball(&[("p-1.0/../../evil.py", tar::EntryType::Regular)]),
            tarball(&[("p-1.0/link", tar::EntryType::Symlink)]),
        ] {
            let out = tempfile::tempdir().unwrap();
            let err = unpack_sdist(&hostile, "p-1.0.tar.gz", out.path()).expect_err("refused");
            assert!(matches!(err, SdistFailure::Invalid { .. }), "{err:?}");
            assert!(!dir.path().join("evil.py").exists());
        }
    }
}
