//! Collect the app's files, its dependencies and the standard library into one zip: the
//! bundle the runtime serves imports from (see `src/boot.py`).
//!
//! Layout inside the zip (these are also the paths Python sees, with a leading `/`):
//! `app/…` the app, `lib/python3.13/site-packages/…` dependencies, `lib/python3.13/…`
//! the standard library, and `pyedge.cfg` the boot configuration.

use crate::config::{AppConfig, StdlibSelection};
use crate::imports::{scan_codec_names, scan_imports, scan_imports_split};
use crate::prune::modules_to_leave_out;
use crate::runtime;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};
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

/// Standard-library parts that have no use in an edge app (tests, GUIs, installers).
const STDLIB_EXCLUDED: &[&str] = &[
    "test/",
    "idlelib/",
    "tkinter/",
    "turtledemo/",
    "ensurepip/",
    "lib2to3/",
    "venv/",
    "pydoc_data/",
    "turtle.py",
    "site-packages/",
];

/// One Python distribution to install into site-packages.
#[derive(Debug, Clone)]
pub struct DependencyFiles {
    pub name: String,
    pub version: String,
    /// (path relative to site-packages, contents)
    pub files: Vec<(String, Vec<u8>)>,
}

/// The bundle's bytes and what each part of it weighs (compressed, in the zip).
#[derive(Debug, Clone)]
pub struct Bundle {
    pub zip: Vec<u8>,
    pub app_bytes: u64,
    pub stdlib_bytes: u64,
    /// Compressed bytes per dependency, by `name==version`.
    pub deps_bytes: BTreeMap<String, u64>,
    /// Optional C extension modules nothing in the bundle imports: left out of the build.
    pub left_out: Vec<String>,
    /// App files left out because they look like credentials (file, why).
    pub skipped_secrets: Vec<(String, String)>,
}

/// What goes into the boot configuration besides the entry.
#[derive(Debug, Clone)]
pub struct BootSettings {
    pub world: &'static str,
    /// The runtime's optional C extension modules, each with the optional modules its C
    /// code imports (see [`crate::prune`]); those the app cannot reach are left out.
    pub optional_modules: Vec<(String, Vec<String>)>,
}

fn options() -> SimpleFileOptions {
    // Fixed timestamps and permissions keep the bundle byte-for-byte reproducible.
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644)
}

/// Build the bundle for `app`, with `deps` installed into site-packages.
pub fn collect_bundle(
    app: &AppConfig,
    deps: &[DependencyFiles],
    boot: &BootSettings,
) -> Result<Bundle> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));

    // Every module name the bundled Python imports: where the stdlib walk starts.
    let mut imported = scan_imports(runtime::BOOT_PY, "");
    // Codec names passed to encode/decode/lookup: their `encodings.*` modules are kept.
    let mut codecs = BTreeSet::new();
    // Whether the app's own code imports `cryptography` (see CRYPTOGRAPHY_FILES).
    let wants_cryptography = std::cell::Cell::new(false);
    let mut add_python =
        |zip: &mut ZipWriter<Cursor<Vec<u8>>>, name: &str, rel: &str, data: &[u8]| {
            if rel.ends_with(".py") {
                let source = String::from_utf8_lossy(data);
                let found = scan_imports(&source, &package_of(rel));
                if name.starts_with(&format!("{APP_ROOT}/"))
                    && found
                        .iter()
                        .any(|m| m == "cryptography" || m.starts_with("cryptography."))
                {
                    wants_cryptography.set(true);
                }
                imported.extend(found);
                codecs.extend(scan_codec_names(&source));
            }
            add_file(zip, name, data)
        };
    let app_files = crate::app_files::select_app_files(app)?;
    for rel in &app_files.files {
        let path = app.app_dir.join(rel);
        let data =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        check_origin_configured(app, rel, &data)?;
        add_python(&mut zip, &format!("{APP_ROOT}/{rel}"), rel, &data)?;
    }
    // Which distribution each site-packages entry belongs to, for the size report.
    let mut owners = BTreeMap::new();
    for dep in deps {
        let key = format!("{}=={}", dep.name, dep.version);
        for (rel, data) in &dep.files {
            let name = format!("{SITE_ROOT}/{rel}");
            add_python(&mut zip, &name, rel, data)?;
            owners.insert(name, key.clone());
        }
    }
    // pyedge's `cryptography` only where the app imports it or requires it (the resolver
    // substituted it: a dependency with no files), as pip would install it: PyJWT without
    // its `crypto` extra tries `import cryptography` but must not pull it in. Every other
    // app leaves `_pyedge_crypto` out.
    let required = deps.iter().any(|d| d.name == "cryptography");
    let on_demand = if wants_cryptography.get() || required {
        runtime::CRYPTOGRAPHY_FILES
    } else {
        &[]
    };
    for (rel, source) in runtime::SDK_FILES.iter().chain(on_demand) {
        add_python(
            &mut zip,
            &format!("{SDK_ROOT}/{rel}"),
            rel,
            source.as_bytes(),
        )?;
    }
    let left_out = copy_stdlib(
        &mut zip,
        &app.stdlib,
        imported,
        codecs,
        &boot.optional_modules,
    )?;
    let cfg = boot_config(app, boot, &left_out);
    zip.start_file("pyedge.cfg", options())?;
    zip.write_all(cfg.as_bytes())?;
    let zip = zip.finish()?.into_inner();

    let mut bundle = Bundle {
        zip,
        app_bytes: 0,
        stdlib_bytes: 0,
        deps_bytes: BTreeMap::new(),
        left_out,
        skipped_secrets: app_files
            .skipped_secrets
            .into_iter()
            .map(|(rel, finding)| (rel, finding.to_string()))
            .collect(),
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
        return Err(crate::error::failure(
            crate::error::Exit::Usage,
            format!(
                "{rel}:{}: send_to_origin() forwards to the app's origin, but none is set: \
                 add `origin = \"https://...\"` under [tool.pyedge] in pyproject.toml",
                line + 1
            ),
        ));
    }
    Ok(())
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
fn boot_config(app: &AppConfig, boot: &BootSettings, left_out: &[String]) -> String {
    let mut cfg = format!(
        "entry={}\nentry_path={APP_ROOT}/{}\nworld={}\nroots={APP_ROOT}:{SITE_ROOT}:{SDK_ROOT}:{STDLIB_ROOT}\nleft_out={}\n",
        app.entry_module,
        app.entry_path,
        boot.world,
        left_out.join(",")
    );
    if let Some(origin) = &app.origin {
        cfg.push_str(&format!("origin={origin}\n"));
    }
    for (key, value) in &app.settings {
        cfg.push_str(&format!("setting.{key}={}\n", value.replace('\n', " ")));
    }
    cfg
}

fn add_file(zip: &mut ZipWriter<Cursor<Vec<u8>>>, name: &str, data: &[u8]) -> Result<()> {
    zip.start_file(name, options())?;
    zip.write_all(data)?;
    Ok(())
}

/// Copy the runtime's standard library without recompressing, minus the excluded parts.
fn copy_stdlib(
    zip: &mut ZipWriter<Cursor<Vec<u8>>>,
    selection: &StdlibSelection,
    imported: BTreeSet<String>,
    codecs: BTreeSet<String>,
    optional_modules: &[(String, Vec<String>)],
) -> Result<Vec<String>> {
    let mut stdlib = ZipArchive::new(Cursor::new(runtime::STDLIB_ZIP))
        .context("the embedded stdlib.zip is corrupt")?;
    let (keep, left_out) = match selection {
        StdlibSelection::All => (None, Vec::new()),
        StdlibSelection::Reachable(extra) => {
            let reach = reachable_stdlib(&mut stdlib, imported, codecs, extra)?;
            let left_out = modules_to_leave_out(optional_modules, &reach.named_eagerly);
            (Some(reach.keep), left_out)
        }
    };
    // Modules left out, for the hint boot.py prints when an import of one fails.
    let mut omitted = left_out.clone();
    for index in 0..stdlib.len() {
        let file = stdlib.by_index_raw(index)?;
        let name = file.name().to_string();
        if file.is_dir()
            || STDLIB_EXCLUDED
                .iter()
                .any(|ex| name.starts_with(ex) || name.contains(&format!("/{ex}")))
        {
            continue;
        }
        if let Some(keep) = &keep {
            let frozen = STDLIB_FROZEN_AT_START
                .iter()
                .any(|m| name == format!("{}.py", m.replace('.', "/")));
            if frozen {
                continue;
            }
            if !keep_stdlib_entry(&name, keep) {
                if let Some(stem) = name
                    .strip_suffix("/__init__.py")
                    .or_else(|| name.strip_suffix(".py"))
                {
                    omitted.push(stem.replace('/', "."));
                }
                continue;
            }
        }
        zip.raw_copy_file_rename(file, format!("{STDLIB_ROOT}/{name}"))?;
    }
    if !omitted.is_empty() {
        omitted.sort();
        add_file(zip, "pyedge.omitted", omitted.join("\n").as_bytes())?;
    }
    Ok(left_out)
}

/// Stdlib modules kept in every bundle: `encodings` (codecs are looked up by computed
/// names) and modules the interpreter imports from C on demand (`time.strptime`,
/// error display).
const STDLIB_ALWAYS: &[&str] = &[
    "encodings",
    "encodings.aliases",
    "_strptime",
    "traceback",
    "linecache",
    "tokenize",
    "_colorize",
    // sysconfig imports its data module by a computed name.
    "_sysconfigdata__wasi_wasm32-wasi",
];

/// Codecs kept in every bundle: the Unicode encodings, ASCII and Latin-1 (which the
/// interpreter, `io`, `json`, `email` and HTTP use under their many aliases), Windows'
/// Latin-1 superset, and the bytes-to-bytes codecs. Any other codec (the legacy 8-bit
/// code pages, the CJK codecs with their large C tables, `idna`) is kept when a literal
/// name reaches it (see [`scan_codec_names`]) or through `stdlib-include`.
const DEFAULT_CODECS: &[&str] = &[
    "ascii",
    "latin_1",
    "utf_8",
    "utf_8_sig",
    "utf_16",
    "utf_16_le",
    "utf_16_be",
    "utf_32",
    "utf_32_le",
    "utf_32_be",
    "unicode_escape",
    "raw_unicode_escape",
    "charmap",
    "cp1252",
    "base64_codec",
    "hex_codec",
];

/// Stdlib modules the interpreter imports from its frozen code while it starts, before
/// the app: every instance has them in `sys.modules` (the snapshot holds them), and their
/// code objects name `<frozen os>`, not a file, so no traceback reads their source. The
/// bundle leaves their source out. (The walk still follows their imports.)
pub const STDLIB_FROZEN_AT_START: &[&str] = &[
    "_collections_abc",
    "abc",
    "codecs",
    "genericpath",
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "io",
    "os",
    "posixpath",
    "stat",
    "zipimport",
];

/// Keep a `.py` file when its module is reachable, and a data file when its package is.
fn keep_stdlib_entry(name: &str, keep: &BTreeSet<String>) -> bool {
    let module = match name
        .strip_suffix("/__init__.py")
        .or_else(|| name.strip_suffix(".py"))
    {
        Some(stem) => stem.replace('/', "."),
        None => name
            .rsplit_once('/')
            .map(|(dir, _)| dir.replace('/', "."))
            .unwrap_or_default(),
    };
    keep.contains(&module)
}

/// Codec alias → codec module name, from the stdlib's `encodings/aliases.py` (a dict
/// literal, one `'alias': 'module',` per line).
fn codec_aliases(stdlib: &mut ZipArchive<Cursor<&[u8]>>) -> BTreeMap<String, String> {
    let mut source = String::new();
    if let Ok(mut file) = stdlib.by_name("encodings/aliases.py") {
        file.read_to_string(&mut source).ok();
    }
    source
        .lines()
        .filter_map(|line| {
            let mut quoted = line.split('\'').skip(1).step_by(2);
            let alias = quoted.next()?;
            let module = quoted.next()?;
            line.contains(':')
                .then(|| (alias.to_string(), module.to_string()))
        })
        .collect()
}

/// The `encodings` submodule `codec` names, as `encodings.search_function` finds it:
/// normalized (lower case, punctuation runs to `_`), then through the alias table.
fn codec_module(codec: &str, aliases: &BTreeMap<String, String>) -> String {
    let mut normal = String::new();
    let mut gap = false;
    for c in codec.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            if gap && !normal.is_empty() {
                normal.push('_');
            }
            normal.push(c.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    let module = aliases
        .get(&normal)
        .or_else(|| aliases.get(&normal.replace('.', "_")))
        .unwrap_or(&normal);
    format!("encodings.{module}")
}

/// Module name → zip entry for every stdlib module.
fn stdlib_index(stdlib: &mut ZipArchive<Cursor<&[u8]>>) -> BTreeMap<String, String> {
    let mut index = BTreeMap::new();
    for name in stdlib.file_names() {
        if let Some(stem) = name
            .strip_suffix("/__init__.py")
            .or_else(|| name.strip_suffix(".py"))
        {
            index.insert(stem.replace('/', "."), name.to_string());
        }
    }
    index
}

/// What the stdlib walk found.
struct Reach {
    /// The stdlib modules to bundle.
    keep: BTreeSet<String>,
    /// Every module name (stdlib or not, C modules too) that an import of the app, its
    /// dependencies, pyedge's own code, `stdlib-include` or the always-kept modules
    /// reaches through the stdlib's eager imports: the imports a module runs when it is
    /// imported, not those inside its functions. An optional C module outside this set
    /// is left out of the build; a stdlib function that imports it lazily (`re` for
    /// `\N{...}` escapes, `urllib.parse` for a non-ASCII host) then fails with the hint.
    named_eagerly: BTreeSet<String>,
}

/// Every stdlib module reachable from the `imported` names through import statements,
/// transitively, plus `extra`, [`STDLIB_ALWAYS`], the [`DEFAULT_CODECS`] and the codec
/// modules of the `codecs` names (and of codec names the reached modules pass to
/// encode/decode), and what they reach.
fn reachable_stdlib(
    stdlib: &mut ZipArchive<Cursor<&[u8]>>,
    imported: BTreeSet<String>,
    codecs: BTreeSet<String>,
    extra: &[String],
) -> Result<Reach> {
    let index = stdlib_index(stdlib);
    let aliases = codec_aliases(stdlib);
    let mut pending: Vec<String> = imported.into_iter().chain(extra.iter().cloned()).collect();
    pending.extend(STDLIB_ALWAYS.iter().map(|m| m.to_string()));
    pending.extend(DEFAULT_CODECS.iter().map(|c| format!("encodings.{c}")));
    pending.extend(codecs.iter().map(|c| codec_module(c, &aliases)));
    let roots = pending.clone();
    // Each walked module's eager imports, for `named_eagerly`.
    let mut eager_imports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut keep = BTreeSet::new();
    while let Some(module) = pending.pop() {
        let Some(entry) = index.get(&module) else {
            // A C module: the Python modules it imports itself.
            if let Some((_, imports)) = C_MODULE_IMPORTS.iter().find(|(c, _)| *c == module) {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    eager_imports.entry(module)
                {
                    let imports = slot.insert(imports.iter().map(|m| m.to_string()).collect());
                    pending.extend(imports.iter().cloned());
                }
            }
            continue;
        };
        if !keep.insert(module.clone()) {
            continue;
        }
        // A module's parent packages run first on import.
        let mut parent = module.as_str();
        while let Some((up, _)) = parent.rsplit_once('.') {
            pending.push(up.to_string());
            parent = up;
        }
        let mut source = String::new();
        stdlib.by_name(entry)?.read_to_string(&mut source).ok();
        let package = if entry.ends_with("/__init__.py") {
            module.clone()
        } else {
            module
                .rsplit_once('.')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default()
        };
        // Lazy imports inside stdlib functions count too (importlib.metadata, email, ...
        // import helpers on first use): bundling them is cheaper than a run-time
        // ImportError. Except where the walk would only collect dead weight: see
        // STDLIB_NOT_FOLLOWED and STDLIB_FALLBACKS. A stdlib module never runs as a
        // script here, so its `if __name__ == "__main__":` block is skipped.
        let found = scan_imports_split(&source, &package);
        let eager: Vec<String> = found
            .eager
            .into_iter()
            .filter(|m| !names_any(m, STDLIB_FALLBACKS))
            .collect();
        let lazy = found
            .lazy
            .into_iter()
            .filter(|m| !names_any(m, STDLIB_FALLBACKS) && !not_followed(m, &module));
        pending.extend(eager.iter().cloned().chain(lazy));
        eager_imports.insert(module, eager);
        pending.extend(
            scan_codec_names(&source)
                .iter()
                .map(|c| codec_module(c, &aliases)),
        );
    }

    let mut named_eagerly = BTreeSet::new();
    let mut pending = roots;
    while let Some(module) = pending.pop() {
        if !named_eagerly.insert(module.clone()) {
            continue;
        }
        let mut parent = module.as_str();
        while let Some((up, _)) = parent.rsplit_once('.') {
            pending.push(up.to_string());
            parent = up;
        }
        if let Some(eager) = eager_imports.get(&module) {
            pending.extend(eager.iter().cloned());
        }
    }
    Ok(Reach {
        keep,
        named_eagerly,
    })
}

/// Tools with nothing to do in an edge app, which stdlib functions import on demand
/// (`breakpoint()` → pdb, `help()` → pydoc, `os.popen` → subprocess, ...): debuggers,
/// REPLs, documentation, test runners, profilers, terminals, processes, and modules whose
/// C part the WASI runtime lacks. The walk does not follow such a lazy import, so a
/// handler that imports `email` does not carry a debugger. They are bundled when the
/// app or a dependency imports them, or through `stdlib-include`.
const STDLIB_NOT_FOLLOWED: &[&str] = &[
    "_pyrepl",
    "bdb",
    "bz2",
    "cProfile",
    "code",
    "codeop",
    "concurrent.futures.process",
    "ctypes",
    "curses",
    "doctest",
    "getpass",
    // importlib's path finder imports it to serve importlib.metadata itself: kept when
    // the app or a dependency imports importlib.metadata.
    "importlib.metadata",
    // Imported by importlib's FileLoader, which never loads a module here (the bundle's
    // loader does): it would bring importlib.resources, zipfile, tempfile, shutil...
    "importlib.readers",
    "lzma",
    "multiprocessing",
    "pdb",
    "profile",
    "pstats",
    "pty",
    "pydoc",
    "readline",
    "rlcompleter",
    "sqlite3",
    "subprocess",
    "timeit",
    "trace",
    "tracemalloc",
    "tty",
    "unittest",
    "webbrowser",
];

/// Whether the walk skips `module`, imported inside a function of `importer`: it is in
/// [`STDLIB_NOT_FOLLOWED`] and the importer is not part of the same package (once
/// `importlib.metadata` is bundled, its own lazy imports of its helpers are followed).
fn not_followed(module: &str, importer: &str) -> bool {
    STDLIB_NOT_FOLLOWED
        .iter()
        .any(|n| names_any(module, &[n]) && !names_any(importer, &[n]))
}

/// The Python modules that C modules of the runtime import themselves, when they are
/// initialized or on first use: the imports the walk cannot read from a source file.
/// Found with `grep -E 'PyImport_ImportModule|_PyImport_GetModuleAttrString'` over
/// CPython 3.13's `Modules/`, for the modules the runtime links in.
const C_MODULE_IMPORTS: &[(&str, &[&str])] = &[
    ("_asyncio", &["asyncio"]),
    ("_datetime", &["time", "_strptime"]),
    ("_decimal", &["collections", "collections.abc", "numbers"]),
    (
        "_elementtree",
        &["xml.etree.ElementPath", "copy", "pyexpat"],
    ),
    ("_operator", &["functools"]),
    (
        "_pickle",
        &["_compat_pickle", "copyreg", "codecs", "functools"],
    ),
    (
        "_zoneinfo",
        &[
            "zoneinfo._common",
            "zoneinfo._tzpath",
            "io",
            "pickle",
            "weakref",
        ],
    ),
    ("time", &["_strptime"]),
];

/// Pure-Python copies of modules the runtime has in C (`_decimal`, `_datetime`, `_io`):
/// stdlib imports them only if the C module is missing, which it is not here.
const STDLIB_FALLBACKS: &[&str] = &["_pydecimal", "_pydatetime", "_pyio"];

/// Whether `module` is one of `names` or inside one of them.
fn names_any(module: &str, names: &[&str]) -> bool {
    names.iter().any(|n| {
        module == *n
            || module
                .strip_prefix(n)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The package a file at `rel` (relative to a search root) belongs to.
fn package_of(rel: &str) -> String {
    rel.rsplit_once('/')
        .map(|(dir, _)| dir.replace('/', "."))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_followed_packages_follow_their_own_lazy_imports() {
        assert!(not_followed("importlib.metadata", "importlib"));
        assert!(not_followed(
            "importlib.metadata._adapters",
            "email.message"
        ));
        assert!(!not_followed(
            "importlib.metadata._adapters",
            "importlib.metadata"
        ));
        assert!(!not_followed(
            "importlib.metadata._meta",
            "importlib.metadata._adapters"
        ));
        assert!(not_followed("pdb", "builtins"));
        assert!(!not_followed("json", "importlib.metadata"));
    }
}
