//! Write the app's files, its dependencies, pyedge's own Python and the planned standard
//! library ([`StdlibPlan`]) into one zip: the bundle the runtime serves imports and files
//! from (see `src/python/boot.py` and the runtime's in-memory file system).
//!
//! Layout inside the zip (these are also the paths Python sees, with a leading `/`):
//! `app/…` the app, `lib/python3.13/site-packages/…` dependencies, `lib/python3.13/…`
//! the standard library, and `pyedge.cfg` the boot configuration.

use crate::app_files::AppFiles;
use crate::config::AppConfig;
use crate::runtime;
use crate::stdlib::StdlibPlan;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// Root of the app's files inside the bundle.
pub const APP_ROOT: &str = "app";
/// Root of the standard library inside the bundle.
pub const STDLIB_ROOT: &str = "lib/python3.13";
/// Root of pyedge's own Python packages (`pyedge`, `spin_sdk`) inside the bundle.
pub const SDK_ROOT: &str = "lib/pyedge";
/// Root of installed dependencies inside the bundle.
pub const SITE_ROOT: &str = "lib/python3.13/site-packages";

/// One Python distribution to install into site-packages.
#[derive(Debug, Clone)]
pub struct DependencyFiles {
    /// Normalized distribution name.
    pub name: String,
    /// Version installed.
    pub version: String,
    /// (path relative to site-packages, contents)
    pub files: Vec<(String, Vec<u8>)>,
}

/// The bundle's bytes and what each part of it weighs (compressed, in the zip).
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// Bytes of the app's files (compressed, with their zip headers).
    pub app_bytes: u64,
    /// Bytes of the standard library's files (compressed, with their zip headers).
    pub stdlib_bytes: u64,
    /// Compressed bytes per dependency, by `name==version`.
    pub deps_bytes: BTreeMap<String, u64>,
    /// Optional C extension modules nothing in the bundle imports: left out of the build.
    pub left_out: Vec<String>,
}

fn options() -> SimpleFileOptions {
    // Fixed timestamps and permissions keep the bundle byte-for-byte reproducible.
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
}

/// Write the bundle: the app's selected files, `deps` installed into site-packages,
/// pyedge's own Python (`sdk`: see [`sdk_files`]), the planned standard library and the
/// boot configuration.
pub fn collect_bundle(
    app: &AppConfig,
    app_files: &AppFiles,
    deps: &[DependencyFiles],
    sdk: &[(&str, &str)],
    stdlib: &StdlibPlan,
    world: &str,
) -> Result<Bundle> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (rel, data) in &app_files.files {
        check_origin_configured(app, rel, data)?;
        add_file(&mut zip, &format!("{APP_ROOT}/{rel}"), data)?;
    }
    // Which distribution each site-packages entry belongs to, for the size report.
    let mut owners = BTreeMap::new();
    for dep in deps {
        let key = format!("{}=={}", dep.name, dep.version);
        for (rel, data) in &dep.files {
            let name = format!("{SITE_ROOT}/{rel}");
            add_file(&mut zip, &name, data)?;
            owners.insert(name, key.clone());
        }
    }
    for (rel, source) in sdk {
        add_file(&mut zip, &format!("{SDK_ROOT}/{rel}"), source.as_bytes())?;
    }
    copy_stdlib(&mut zip, stdlib)?;
    let numpy = deps.iter().any(|dep| dep.name == "numpy");
    let cfg = boot_config(app, world, &stdlib.left_out, numpy);
    add_file(&mut zip, "pyedge.cfg", cfg.as_bytes())?;
    let zip = zip.finish()?.into_inner();

    let mut bundle = Bundle {
        zip,
        app_bytes: 0,
        stdlib_bytes: 0,
        deps_bytes: BTreeMap::new(),
        left_out: stdlib.left_out.clone(),
    };
    measure_parts(&mut bundle, &owners)?;
    Ok(bundle)
}

/// An app whose code calls `send_to_origin` needs `[tool.pyedge] origin`: say so now
/// rather than with a 500 on the first request.
fn check_origin_configured(app: &AppConfig, rel: &str, data: &[u8]) -> Result<()> {
    if app.origin.is_some() || !rel.ends_with(".py") {
        return Ok(());
    }
    let source = String::from_utf8_lossy(data);
    if let Some(line) = source
        .lines()
        .position(|l| l.contains("send_to_origin(") && !l.trim_start().starts_with('#'))
    {
        return Err(crate::pipeline::BuildError::NoOrigin {
            file: rel.to_string(),
            line: line + 1,
        }
        .into());
    }
    Ok(())
}

/// numpy's Python part from pyedge's WASI build ([`runtime::NUMPY_SITE_ZIP`]), as a
/// dependency installed into site-packages, with the `.dist-info` an installer would
/// write (so `importlib.metadata.version("numpy")` answers).
pub fn numpy_files() -> Result<DependencyFiles> {
    let version = crate::deps::substitute::NUMPY_VERSION;
    let mut zip = ZipArchive::new(Cursor::new(runtime::NUMPY_SITE_ZIP))
        .context("the runtime's numpy-site.zip is corrupt")?;
    let mut files = Vec::with_capacity(zip.len() + 2);
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index)?;
        let mut data = Vec::with_capacity(entry.size() as usize);
        std::io::Read::read_to_end(&mut entry, &mut data)?;
        files.push((entry.name().to_string(), data));
    }
    let info = format!("numpy-{version}.dist-info");
    files.push((
        format!("{info}/METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: numpy\nVersion: {version}\nSummary: numpy, \
             built for wasm32-wasi by pyedge from its sdist\n"
        )
        .into_bytes(),
    ));
    files.push((format!("{info}/INSTALLER"), b"pyedge\n".to_vec()));
    Ok(DependencyFiles {
        name: "numpy".into(),
        version: version.into(),
        files,
    })
}

/// pyedge's own Python for this app: `pyedge`, `spin_sdk` and `ssl` always, and the
/// `cryptography` substitute only when the app or a dependency imports it, so that
/// `_pyedge_crypto` stays prunable for every other app.
pub fn sdk_files(wants_cryptography: bool, wants_async: bool) -> Vec<(&'static str, &'static str)> {
    let pick = |wanted: bool, files: &'static [(&'static str, &'static str)]| {
        if wanted {
            files
        } else {
            &[]
        }
    };
    runtime::SDK_FILES
        .iter()
        .chain(pick(wants_cryptography, runtime::CRYPTOGRAPHY_FILES))
        .chain(pick(wants_async, runtime::ASYNC_FILES))
        .copied()
        .collect()
}

/// Sum each part's compressed bytes (data plus local header) from the finished zip.
fn measure_parts(bundle: &mut Bundle, owners: &BTreeMap<String, String>) -> Result<()> {
    let mut archive = ZipArchive::new(Cursor::new(&bundle.zip[..]))?;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index)?;
        let bytes = file.compressed_size() + 30 + file.name_raw().len() as u64;
        let name = file.name();
        if name.starts_with(&format!("{APP_ROOT}/")) {
            bundle.app_bytes += bytes;
        } else if let Some(owner) = owners.get(name) {
            *bundle.deps_bytes.entry(owner.clone()).or_default() += bytes;
        } else if name.starts_with(&format!("{STDLIB_ROOT}/")) {
            bundle.stdlib_bytes += bytes;
        }
    }
    Ok(())
}

/// `key=value` lines read by the boot module.
fn boot_config(app: &AppConfig, world: &str, left_out: &[String], numpy: bool) -> String {
    let mut cfg = format!(
        "entry={}\nentry_path={APP_ROOT}/{}\nworld={}\nroots={APP_ROOT}:{SITE_ROOT}:{SDK_ROOT}:{STDLIB_ROOT}\nleft_out={}\n",
        app.entry_module,
        app.entry_path,
        world,
        left_out.join(",")
    );
    if let Some(attr) = &app.entry_attr {
        cfg.push_str(&format!("attr={attr}\n"));
    }
    cfg.push_str(&format!(
        "interface={}\nlifespan={}\n",
        app.interface.name(),
        app.lifespan.name()
    ));
    if app.log_format == crate::config::LogFormat::Json {
        cfg.push_str("log_format=json\n");
    }
    if numpy {
        // The boot module reseeds numpy's generators seeded at build time (boot.py).
        cfg.push_str("numpy=1\n");
    }
    if let Some(origin) = &app.origin {
        cfg.push_str(&format!("origin={origin}\n"));
    }
    for (key, value) in &app.settings {
        cfg.push_str(&format!("setting.{key}={}\n", value.replace('\n', " ")));
    }
    if app.runtime_config != crate::config::RuntimeConfig::None {
        cfg.push_str(&format!(
            "runtime_config={}\nconfig_store={}\n",
            app.runtime_config.name(),
            app.config_store.name()
        ));
    }
    if !app.lazy_bytecode {
        cfg.push_str("lazy_bytecode=0\n");
    }
    if !app.preimport_names.is_empty() {
        cfg.push_str(&format!("preimport={}\n", app.preimport_names.join(",")));
    }
    // Names only: a secret's value never comes near the build.
    for (name, spec) in &app.secrets {
        let need = if spec.required {
            "required"
        } else {
            "optional"
        };
        cfg.push_str(&format!("secret.{name}={need}\n"));
    }
    cfg
}

fn add_file(zip: &mut ZipWriter<Cursor<Vec<u8>>>, name: &str, data: &[u8]) -> Result<()> {
    zip.start_file(name, options())?;
    zip.write_all(data)?;
    Ok(())
}

/// Copy the planned entries of the runtime's standard library, without recompressing.
fn copy_stdlib(zip: &mut ZipWriter<Cursor<Vec<u8>>>, plan: &StdlibPlan) -> Result<()> {
    let mut stdlib = ZipArchive::new(Cursor::new(runtime::STDLIB_ZIP))
        .context("the embedded stdlib.zip is corrupt")?;
    for name in &plan.entries {
        let index = stdlib
            .index_for_name(name)
            .with_context(|| format!("the embedded stdlib.zip has no {name}"))?;
        let file = stdlib.by_index_raw(index)?;
        zip.raw_copy_file_rename(file, format!("{STDLIB_ROOT}/{name}"))?;
    }
    if !plan.omitted.is_empty() {
        add_file(zip, "pyedge.omitted", plan.omitted.join("\n").as_bytes())?;
    }
    Ok(())
}
