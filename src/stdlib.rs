//! The [`StdlibPlan`]: which parts of the runtime's standard library a bundle carries,
//! and which optional C extension modules the build leaves out, computed once from what
//! the bundled Python imports. [`crate::bundle`] only copies the planned entries;
//! [`crate::prune`] only rewrites the module for the left-out C modules.
//!
//! With `stdlib = "reachable"` (the default) the plan keeps the modules that the app,
//! its dependencies, pyedge's own Python and `stdlib-include` reach through import
//! statements, transitively (lazy imports inside stdlib functions count too, except the
//! tools listed in [`STDLIB_NOT_FOLLOWED`]); an optional C module is left out unless an
//! eager import reaches it.

use crate::config::StdlibSelection;
use crate::imports::{scan_codec_names, scan_imports, scan_imports_split};
use crate::runtime;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// The plan for one bundle's standard library.
#[derive(Debug, Clone, Default)]
pub struct StdlibPlan {
    /// Entry names of the runtime's `stdlib.zip` to copy, in the zip's order.
    pub entries: Vec<String>,
    /// Modules not bundled (stdlib modules no import reaches, and the left-out C
    /// modules), sorted: the boot module names the fix when an import of one fails.
    pub omitted: Vec<String>,
    /// Optional C extension modules nothing imports: left out of the build.
    pub left_out: Vec<String>,
}

/// Where the stdlib walk starts: the module names the bundled Python imports and the
/// codec names it passes to encode/decode/lookup.
#[derive(Debug, Clone, Default)]
pub struct ImportRoots {
    modules: BTreeSet<String>,
    codecs: BTreeSet<String>,
}

impl ImportRoots {
    /// Roots holding the boot module's own imports.
    pub fn new() -> ImportRoots {
        ImportRoots {
            modules: scan_imports(runtime::BOOT_PY, ""),
            codecs: BTreeSet::new(),
        }
    }

    /// Whether an import names `package` or a module inside it.
    pub fn imports_package(&self, package: &str) -> bool {
        self.modules
            .iter()
            .any(|m| m == package || m.strip_prefix(package).is_some_and(|r| r.starts_with('.')))
    }

    /// Add what the file at `rel` (relative to its search root) imports, if it is Python;
    /// the modules it names go into `named` too (the build's preimport list uses them).
    pub fn scan_into(&mut self, rel: &str, data: &[u8], named: &mut BTreeSet<String>) {
        if rel.ends_with(".py") {
            let source = String::from_utf8_lossy(data);
            let modules = scan_imports(&source, &package_of(rel));
            named.extend(modules.iter().cloned());
            self.modules.extend(modules);
            self.codecs.extend(scan_codec_names(&source));
        }
    }

    /// Add what the file at `rel` (relative to its search root) imports, if it is Python.
    pub fn scan(&mut self, rel: &str, data: &[u8]) {
        self.scan_into(rel, data, &mut BTreeSet::new());
    }
}

/// Plan the standard library for `selection`, starting from `roots`; `optional_modules`
/// are the runtime's optional C modules with the optional modules each one's C code
/// imports (from the prune table).
pub fn plan_stdlib(
    selection: &StdlibSelection,
    roots: ImportRoots,
    optional_modules: &[(String, Vec<String>)],
) -> Result<StdlibPlan> {
    let mut stdlib = ZipArchive::new(Cursor::new(runtime::STDLIB_ZIP))
        .context("the embedded stdlib.zip is corrupt")?;
    let (keep, left_out) = match selection {
        StdlibSelection::All => (None, Vec::new()),
        StdlibSelection::Reachable(extra) => {
            let reach = reachable_stdlib(&mut stdlib, roots.modules, roots.codecs, extra)?;
            let left_out = modules_to_leave_out(optional_modules, &reach.named_eagerly);
            (Some(reach.keep), left_out)
        }
    };
    let mut plan = StdlibPlan {
        omitted: left_out.clone(),
        left_out,
        entries: Vec::new(),
    };
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
                    plan.omitted.push(stem.replace('/', "."));
                }
                continue;
            }
        }
        plan.entries.push(name);
    }
    plan.omitted.sort();
    Ok(plan)
}

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

/// The optional modules to leave out: those not in `wanted`, after every wanted module's
/// `requires` (transitively) joined it.
pub fn modules_to_leave_out(
    modules: &[(String, Vec<String>)],
    wanted: &BTreeSet<String>,
) -> Vec<String> {
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    let mut pending: Vec<&str> = modules
        .iter()
        .map(|(m, _)| m.as_str())
        .filter(|m| wanted.contains(*m))
        .collect();
    while let Some(module) = pending.pop() {
        if keep.insert(module) {
            if let Some((_, requires)) = modules.iter().find(|(m, _)| m == module) {
                pending.extend(requires.iter().map(String::as_str));
            }
        }
    }
    modules
        .iter()
        .map(|(m, _)| m.clone())
        .filter(|m| !keep.contains(m.as_str()))
        .collect()
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
pub(crate) fn package_of(rel: &str) -> String {
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

    #[test]
    fn a_kept_module_keeps_what_it_requires() {
        let modules = vec![
            (
                "_codecs_iso2022".to_string(),
                vec!["_codecs_jp".to_string()],
            ),
            (
                "_codecs_jp".to_string(),
                vec!["_multibytecodec".to_string()],
            ),
            ("_multibytecodec".to_string(), vec![]),
            ("unicodedata".to_string(), vec![]),
        ];
        let wanted: BTreeSet<String> = ["_codecs_iso2022", "json"].map(String::from).into();
        assert_eq!(modules_to_leave_out(&modules, &wanted), ["unicodedata"]);
        assert_eq!(
            modules_to_leave_out(&modules, &BTreeSet::new()).len(),
            modules.len()
        );
    }
}
