//! `pyedge build`: config → bundle → embed → pre-init → componentize → report → write.

use crate::app_files::select_app_files;
use crate::bundle::{collect_bundle, sdk_files, Bundle, DependencyFiles};
use crate::component::{componentize, detect_world, strip_custom_sections, World};
use crate::config::{resolve_app_config, AppConfig, Interface};
use crate::deps::{resolve_for_build, wheel_install_files, DepsOptions};
use crate::embed::{embed_bundle, memory_writes, EmbedInputs};
use crate::error::Exit;
use crate::output::write_atomically;
use crate::progress::{Reporter, StageObserver, StageTime};
use crate::prune::prune_module;
use crate::report::{size_report, SizeReport};
use crate::stdlib::{plan_stdlib, ImportRoots, StdlibPlan};
use crate::{runtime, snapshot};
use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Options of one build, as given on the command line.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The app directory.
    pub app_dir: PathBuf,
    /// Where to write the component.
    pub output: PathBuf,
    /// Entry module, over `[tool.pyedge] entry`.
    pub entry: Option<String>,
    /// Size budget (`50MB`), over `[tool.pyedge] budget`.
    pub budget: Option<String>,
    /// Pre-initialize with a wizer snapshot.
    pub snapshot: bool,
    /// Force a world instead of detecting it from the entry module.
    pub world: Option<World>,
    /// How the entry is called, over `[tool.pyedge] interface`.
    pub interface: Option<Interface>,
    /// Where dependencies come from (index, find-links, lock, offline).
    pub deps: DepsOptions,
    /// Keep the runtime's function names (for profiling and readable wasm backtraces).
    pub keep_names: bool,
    /// CPython's string-hash seed; `None` derives it from the build inputs.
    pub hash_seed: Option<HashSeed>,
    /// Also write the component precompiled for `pyedge serve` (`OUT` with the
    /// extension `.cwasm`).
    pub precompile: bool,
    /// Put the bundle's file list in the outcome (`-v`).
    pub list_files: bool,
    /// Also write a Spin manifest beside the output (`spin.toml`).
    pub spin: bool,
    /// Also write the size picture (HTML treemap) here; written even when the component
    /// is over budget, which is when it is wanted most.
    pub report_html: Option<PathBuf>,
}

/// How the interpreter's string-hash seed is chosen (it is fixed in the snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashSeed {
    /// A fresh random seed for this build (builds are no longer reproducible).
    Random,
    /// This seed (0 disables hash randomization, like PYTHONHASHSEED=0).
    Fixed(u32),
}

impl std::str::FromStr for HashSeed {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "random" => Ok(HashSeed::Random),
            n => n.parse().map(HashSeed::Fixed).map_err(|_| {
                format!(
                    "expected `random` or a number up to {}, not {n:?}",
                    u32::MAX
                )
            }),
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone, Serialize)]
pub struct BuildOutcome {
    /// The component written.
    pub output: PathBuf,
    /// Its world (`http` or `cli`).
    pub world: &'static str,
    /// The entry module.
    pub entry: String,
    /// How requests reach the app (`handler`, `wsgi`, `asgi`; detected while importing
    /// it unless set), or none for a script.
    pub interface: Option<String>,
    /// Whether it is pre-initialized.
    pub snapshot: bool,
    /// The pre-initialized module came from the cache (same module built before).
    pub snapshot_cached: bool,
    /// Optional C extension modules left out because nothing imports them.
    pub left_out: Vec<String>,
    /// Dependencies pyedge's own build stands in for (see `deps::substitute`).
    pub substituted: Vec<String>,
    /// What the dependency resolution wants the user to know: older versions chosen and
    /// why, wheels built pure from sdists.
    pub notes: Vec<String>,
    /// App files left out because they look like credentials: (file, why).
    pub skipped_secrets: Vec<(String, String)>,
    /// `[tool.pyedge.config]` keys that look like secrets (they ship in the artifact).
    pub secret_like_settings: Vec<String>,
    /// What the component imports to read configuration from the host at run time
    /// (`[tool.pyedge] runtime-config`), as `pyedge inspect` lists it.
    pub runtime_config: Vec<String>,
    /// `[tool.pyedge.secrets]` names: only the host provides them.
    pub secrets: Vec<String>,
    /// How many modules the build chose to import into the snapshot (what the app's
    /// import statements name, and the stdlib modules its dependencies' name): each is
    /// there unless listed in `lazy_imports` (`preimport = "reachable"`; 0 with
    /// `"top-level"` and without a snapshot).
    pub preimport_candidates: usize,
    /// Those left lazy, with why: (module, reason).
    pub lazy_imports: Vec<(String, String)>,
    /// How many bundle modules not in the snapshot have their bytecode in it
    /// (`[tool.pyedge] lazy-bytecode`; 0 without a snapshot or with it off).
    pub lazy_bytecode_modules: u64,
    /// SHA-256 of the component.
    pub sha256: String,
    /// The precompiled component (`--precompile`), written beside the output.
    pub precompiled: Option<PathBuf>,
    /// The Spin manifest (`--spin`), written beside the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spin_manifest: Option<PathBuf>,
    /// The HTML size picture (`--report-html`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_html: Option<PathBuf>,
    /// The function names of the runtime, beside the component (`app.symbols`), for
    /// naming a trap's backtrace; none with `--keep-names` (the names are inside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbols: Option<PathBuf>,
    /// Its size, by part, against the budget.
    pub size: SizeReport,
    /// Every file in the bundle, by root (with `-v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<crate::manifest::Manifest>,
    /// How long each stage took.
    pub stages: Vec<StageTime>,
}

/// Build the app, telling `progress` about each stage; the output file is written only
/// when everything succeeded.
pub fn build(opts: &BuildOptions, progress: Option<&dyn StageObserver>) -> Result<BuildOutcome> {
    let mut reporter = Reporter::new(progress);
    let precompiled_to = opts
        .precompile
        .then(|| precompiled_path(&opts.output))
        .transpose()?;
    // pyproject.toml is read and parsed once: the configuration and the dependency stage
    // both take it from here.
    let project = crate::config::read_project(&opts.app_dir)?.map(std::sync::Arc::new);
    let mut app = resolve_app_config(
        &opts.app_dir,
        project.as_deref(),
        opts.entry.as_deref(),
        opts.interface,
        opts.budget.as_deref(),
    )?;
    let spin_to = opts.spin.then(|| spin_manifest_path(&opts.output));
    // This build's own outputs never ship, even when written inside the app directory.
    app.skip_files = [
        Some(opts.output.clone()),
        precompiled_to.clone(),
        spin_to.clone(),
        opts.report_html.clone(),
        Some(crate::symbols::symbols_path(&opts.output)),
    ]
    .into_iter()
    .flatten()
    .filter_map(|out| inside_dir(&app.app_dir, &out))
    .collect();
    // A web app object (`app:app`, or an interface named wsgi/asgi) is served over
    // wasi:http; so is a module with a handler. Anything else is a script.
    let web_app =
        app.entry_attr.is_some() || matches!(app.interface, Interface::Wsgi | Interface::Asgi);
    let entry_source = read_entry(&app)?;
    let world = match opts.world {
        Some(world) => world,
        None if web_app => World::Http,
        None => detect_world(&entry_source),
    };
    if world == World::Cli && (web_app || app.interface == Interface::Handler) {
        let what = match &app.entry_attr {
            Some(attr) => format!("the app object `{}:{attr}`", app.entry_module),
            None => format!("an app with interface = \"{}\"", app.interface.name()),
        };
        return Err(BuildError::InterfaceWorld { what }.into());
    }
    if world == World::Cli && app.runtime_config == crate::config::RuntimeConfig::WasiConfig {
        return Err(BuildError::ConfigStoreScript {
            entry: app.entry_path.clone(),
        }
        .into());
    }
    if spin_to.is_some() {
        crate::spin::check(&app, world == World::Http)?;
    }
    if precompiled_to.is_some() && world != World::Http {
        return Err(BuildError::PrecompileScript {
            entry: app.entry_path.clone(),
        }
        .into());
    }
    let app_files = reporter.stage("select files", || select_app_files(&app))?;
    let (mut deps, substituted, notes) = reporter.stage("dependencies", || {
        install_dependencies(&DepsOptions {
            project: project.clone(),
            ..opts.deps.clone()
        })
    })?;
    if let Some((package, why)) = NEEDS_SOCKETS
        .iter()
        .find(|(name, _)| deps.iter().any(|dep| dep.name == *name))
    {
        return Err(BuildError::NeedsSockets {
            package: (*package).to_string(),
            why,
        }
        .into());
    }
    let (sdk, stdlib, named, numpy, prune_table) = reporter.stage("plan stdlib", || {
        let mut roots = ImportRoots::new();
        let mut named = ImportsNamed::default();
        for (rel, data) in &app_files.files {
            roots.scan_into(rel, data, &mut named.by_app);
        }
        // pyedge's WASI numpy goes in where the app imports numpy or requires it (the
        // resolver substituted it, so it has no files yet): its Python part as a
        // dependency, and the runtime variant with its extension modules. numpy's C code
        // imports `datetime` (PyDateTime_IMPORT) and `pickle`, which no Python import of
        // numpy's shows, so they are roots too. Every other app gets the runtime without
        // numpy, as before it existed.
        let numpy = roots.imports_package("numpy") || deps.iter().any(|dep| dep.name == "numpy");
        if numpy {
            deps.retain(|dep| dep.name != "numpy");
            deps.push(crate::bundle::numpy_files()?);
            roots.scan(
                "numpy/<C extension modules>.py",
                b"import datetime\nimport pickle\n",
            );
        }
        let prune_table = world.prune_table(numpy)?;
        // pyedge's `cryptography` goes in where the app's own code imports it or the
        // resolver substituted it (a dependency with no files), as pip would install it:
        // PyJWT without its `crypto` extra tries `import cryptography` in a try block and
        // must not pull it in. Every other app leaves `_pyedge_crypto` out.
        let required = deps.iter().any(|dep| dep.name == "cryptography");
        let wants_cryptography = roots.imports_package("cryptography") || required;
        for dep in &deps {
            for (rel, data) in &dep.files {
                roots.scan_into(rel, data, &mut named.by_deps);
            }
        }
        // pyedge's event loop and ASGI server go in where asyncio can run: an ASGI
        // app, an `async def` in the entry, or code that imports asyncio.
        let wants_async = app.interface == Interface::Asgi
            || entry_source.contains("async def")
            || roots.imports_package("asyncio");
        let mut sdk = sdk_files(wants_cryptography, wants_async);
        if app.log_format == crate::config::LogFormat::Json {
            sdk.push(runtime::LOGS_FILE);
        }
        if numpy {
            sdk.push(runtime::NUMPY_SUPPORT_FILE);
        }
        for (rel, source) in &sdk {
            roots.scan(rel, source.as_bytes());
        }
        let plan = plan_stdlib(&app.stdlib, roots, &prune_table.modules())?;
        // The host transports go in beside the client library they serve; they import
        // nothing their library does not, so the plan stands.
        if plan.entries.iter().any(|e| e == "urllib/request.py") {
            sdk.push(runtime::URLLIB_HOST_FILE);
        }
        let has_file = |file: &str| {
            deps.iter()
                .any(|dep| dep.files.iter().any(|(rel, _)| rel == file))
        };
        if has_file("urllib3/connectionpool.py") {
            sdk.push(runtime::URLLIB3_HOST_FILE);
        }
        if has_file("httpx/_transports/default.py") {
            sdk.push(runtime::HTTPX_HOST_FILE);
        }
        // pyedge's own modules import some of the standard library inside functions
        // (`Request.json()` imports json): those are preimported like a dependency's, or
        // every request that calls one would compile them (json with re and enum: about
        // 200 ms a request). Only the function-level ones: a module's top-level imports
        // come with it, and pyedge.wsgi's (urllib.parse) are for WSGI apps only. HTTP
        // apps only: a script does not import pyedge's request API, and json would add
        // 0.5 MB to its snapshot for nothing.
        if world == World::Http {
            for (rel, source) in &sdk {
                let package = crate::stdlib::package_of(rel);
                named
                    .by_deps
                    .extend(crate::imports::scan_imports_split(source, &package).lazy);
            }
        }
        anyhow::Ok((sdk, plan, named, numpy, prune_table))
    })?;
    // Without a snapshot there is nothing to import ahead: each start would pay for every
    // module instead of the ones the app reaches (and print the build's lines).
    if opts.snapshot && app.preimport == crate::config::Preimport::Reachable {
        app.preimport_names = preimport_names(&named, &app_files.files, &deps, &sdk, &stdlib);
        if numpy {
            app.preimport_names
                .extend(numpy_subpackages_used(&app_files.files));
            app.preimport_names.sort();
            app.preimport_names.dedup();
        }
    }
    let bundle = reporter.stage("bundle", || {
        collect_bundle(&app, &app_files, &deps, &sdk, &stdlib, world.name())
    })?;
    let inputs = EmbedInputs {
        bundle: &bundle.zip,
        boot_source: runtime::BOOT_PY,
        hash_seed: match opts.hash_seed {
            None => hash_seed(&bundle),
            Some(HashSeed::Fixed(seed)) => seed,
            Some(HashSeed::Random) => random_seed(),
        },
    };
    // With a snapshot, the inputs are written into the instance wizer runs (the module it
    // compiles stays the runtime, always in Wasmtime's cache); without, they are data
    // segments of the module.
    let (core, layout, snapshot_cached, facts) = if opts.snapshot {
        let (writes, layout) =
            reporter.stage("embed", || memory_writes(world.runtime(numpy), &inputs))?;
        let (core, facts, cached) = reporter.stage("pre-initialize", || {
            snapshot::snapshot_module_cached(world.runtime(numpy), &writes)
        })?;
        (core, layout, cached, facts)
    } else {
        let (core, layout) =
            reporter.stage("embed", || embed_bundle(world.runtime(numpy), &inputs))?;
        (core, layout, false, snapshot::InitFacts::default())
    };
    // Without a snapshot the app is imported at run time only: say what was asked for.
    let interface = (world == World::Http).then(|| {
        facts
            .interface
            .clone()
            .unwrap_or_else(|| app.interface.name().to_string())
    });
    // The optional C modules nothing imports: their code and static data go; so do the
    // frozen modules' bytes once the snapshot holds the modules.
    let left_out = prune_table.groups_of(&bundle.left_out);
    let frozen_code: &[(u32, u32)] = if opts.snapshot {
        &prune_table.frozen_code
    } else {
        &[]
    };
    let core = reporter.stage("leave out", || prune_module(&core, &left_out, frozen_code))?;
    // Names go in a side file (`app.symbols`), not in the artifact: read them before
    // they are stripped.
    let (core, names) = if opts.keep_names {
        (core, None)
    } else {
        let names = crate::symbols::defined_names(&core)?;
        (strip_custom_sections(&core)?, Some(names))
    };
    let host = crate::runtime_config::HostConfig {
        mode: app.runtime_config,
        store: app.config_store,
    };
    let component = reporter.stage("componentize", || componentize(&core, world, host))?;
    let symbols = match &names {
        Some(names) if !names.is_empty() => Some((
            crate::symbols::symbols_path(&opts.output),
            crate::symbols::Symbols::new(names, &component)?.to_text(),
        )),
        _ => None,
    };
    let size = reporter.stage("report", || {
        size_report(
            &component,
            &core,
            &bundle,
            layout.bundle_addr,
            facts.bytecode.map(|(_, bytes)| bytes),
            app.budget,
        )
    })?;
    if let Some(path) = &opts.report_html {
        reporter.stage("size picture", || {
            let title = opts
                .output
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "app.wasm".into());
            let map = crate::sizemap::size_map(&title, &component, app.budget)?;
            write_atomically(path, crate::sizemap::to_html(&map).as_bytes())
        })?;
    }
    if size.over_budget {
        return Err(over_budget(&app, &size, opts.report_html.clone()));
    }
    // Compiled before anything is written, so a failure leaves neither file.
    let precompiled = match precompiled_to {
        Some(path) => {
            let code = reporter.stage("precompile", || crate::engine::precompile(&component))?;
            Some((path, code))
        }
        None => None,
    };
    let spin_manifest = spin_to.map(|path| {
        let (name, version) = project_name_version(&app, project.as_deref());
        let source = opts
            .output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app.wasm".into());
        let text = crate::spin::manifest(&app, &name, &version, &source);
        (path, text)
    });
    reporter.stage("write", || {
        write_atomically(&opts.output, &component)?;
        if let Some((path, code)) = &precompiled {
            write_atomically(path, code)?;
        }
        if let Some((path, text)) = &symbols {
            write_atomically(path, text.as_bytes())?;
        }
        match &spin_manifest {
            Some((path, text)) => write_atomically(path, text.as_bytes()),
            None => Ok(()),
        }
    })?;
    Ok(BuildOutcome {
        output: opts.output.clone(),
        world: world.name(),
        entry: match &app.entry_attr {
            Some(attr) => format!("{}:{attr}", app.entry_module),
            None => app.entry_module.clone(),
        },
        snapshot: opts.snapshot,
        snapshot_cached,
        interface,
        left_out: bundle.left_out.clone(),
        substituted,
        notes,
        secret_like_settings: app
            .settings
            .keys()
            .filter(|key| looks_secret(key))
            .cloned()
            .collect(),
        skipped_secrets: app_files
            .skipped_secrets
            .iter()
            .map(|(rel, finding)| (rel.clone(), finding.to_string()))
            .collect(),
        runtime_config: crate::inspect::inspect_bytes(&component)?.runtime_config,
        secrets: app.secrets.keys().cloned().collect(),
        preimport_candidates: app.preimport_names.len(),
        lazy_imports: facts.lazy.clone(),
        lazy_bytecode_modules: facts.bytecode.map_or(0, |(modules, _)| modules),
        sha256: hex::encode(Sha256::digest(&component)),
        precompiled: precompiled.map(|(path, _)| path),
        spin_manifest: spin_manifest.map(|(path, _)| path),
        report_html: opts.report_html.clone(),
        symbols: symbols.map(|(path, _)| path),
        size,
        files: opts
            .list_files
            .then(|| crate::manifest::Manifest::from_zip(&bundle.zip))
            .transpose()?,
        stages: reporter.times().to_vec(),
    })
}

/// Resolve (or read the lock) and unpack every pure wheel; none when the app declares
/// no dependencies. A substituted package comes with no files (pyedge bundles its own
/// build when it is a dependency); its name, version and substitute are also returned
/// for the summary, with the resolution's notes.
/// Whether a `[tool.pyedge.config]` key names a secret (`api_token`, `DB_PASSWORD`...):
/// its value is baked into the component, and every copy of the artifact carries it.
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["token", "secret", "password", "passwd", "key", "credential"]
        .iter()
        .any(|word| key.contains(word))
}

/// Packages that resolve but cannot work in a component, with the reason and what to use.
const NEEDS_SOCKETS: &[(&str, &str)] = &[(
    "aiohttp",
    "its ClientSession opens TCP connections itself and its server listens on a socket, and \
     a component has no sockets (wasi:http/proxy gives it the host's HTTP instead): for \
     outbound calls use httpx.AsyncClient, requests or urllib, which pyedge sends through \
     the host; to serve, an ASGI app (Starlette, FastAPI)",
)];

fn install_dependencies(
    opts: &DepsOptions,
) -> Result<(Vec<DependencyFiles>, Vec<String>, Vec<String>)> {
    let Some(resolved) = resolve_for_build(opts)? else {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    };
    let files = resolved
        .packages
        .iter()
        .map(|package| {
            Ok(DependencyFiles {
                name: package.name.clone(),
                version: package.version.clone(),
                files: wheel_install_files(&package.wheel_path)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let substituted = resolved.substituted.iter().map(|s| s.to_string()).collect();
    let stand_ins = resolved.substituted.into_iter().map(|s| DependencyFiles {
        name: s.name,
        version: s.version,
        files: Vec::new(),
    });
    Ok((
        files.into_iter().chain(stand_ins).collect(),
        substituted,
        resolved.notes,
    ))
}

/// The modules the import statements of the app and of its dependencies name, inside
/// functions too: collected by the stdlib walk's one scan of their files.
#[derive(Default)]
struct ImportsNamed {
    by_app: BTreeSet<String>,
    by_deps: BTreeSet<String>,
}

/// The modules to import into the snapshot at build time (`preimport = "reachable"`):
/// every module an import statement of the app names, and the standard-library modules
/// its dependencies' import statements name — each when the bundle holds it. A
/// dependency's imports of its own modules inside functions are plugins loaded on demand
/// (SQLAlchemy's dialects: 12.5 MB of snapshot if all were imported; Werkzeug's
/// debugger), so they stay lazy.
fn preimport_names(
    named: &ImportsNamed,
    app_files: &[(String, Vec<u8>)],
    deps: &[DependencyFiles],
    sdk: &[(&str, &str)],
    stdlib: &StdlibPlan,
) -> Vec<String> {
    let bundled: BTreeSet<&str> = app_files
        .iter()
        .chain(deps.iter().flat_map(|dep| dep.files.iter()))
        .map(|(rel, _)| rel.as_str())
        .chain(sdk.iter().map(|(rel, _)| *rel))
        .collect();
    let in_stdlib: BTreeSet<&str> = stdlib.entries.iter().map(String::as_str).collect();
    let holds = |set: &BTreeSet<&str>, name: &str| {
        let path = name.replace('.', "/");
        set.contains(format!("{path}.py").as_str())
            || set.contains(format!("{path}/__init__.py").as_str())
    };
    let by_app = named
        .by_app
        .iter()
        .filter(|name| holds(&bundled, name) || holds(&in_stdlib, name));
    let by_deps = named.by_deps.iter().filter(|name| holds(&in_stdlib, name));
    by_app
        .chain(by_deps)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// numpy's subpackages that `import numpy` leaves to its module `__getattr__` (imported on
/// first use) and that the app uses as attributes (`np.random.default_rng()`,
/// `numpy.fft.rfft`): they go into the snapshot too, so no request imports them. An
/// import statement naming one (`import numpy.fft`) is preimported like any other.
fn numpy_subpackages_used(app_files: &[(String, Vec<u8>)]) -> Vec<String> {
    const LAZY: &[&str] = &["random", "fft", "linalg", "polynomial", "ma"];
    let mut used = BTreeSet::new();
    for (_, data) in app_files.iter().filter(|(rel, _)| rel.ends_with(".py")) {
        let source = String::from_utf8_lossy(data);
        let mut aliases = vec!["numpy".to_string()];
        for line in source.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["import", "numpy", "as", alias, ..] = words.as_slice() {
                aliases.push(alias.trim_end_matches([';', ',']).to_string());
            }
        }
        for alias in &aliases {
            for sub in LAZY {
                let needle = format!("{alias}.{sub}");
                let found = source.match_indices(&needle).any(|(at, _)| {
                    let before = source[..at].chars().next_back();
                    let after = source[at + needle.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found {
                    used.insert(format!("numpy.{sub}"));
                }
            }
        }
    }
    used.into_iter().collect()
}

fn read_entry(app: &AppConfig) -> Result<String> {
    let path = app.app_dir.join(&app.entry_path);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn random_seed() -> u32 {
    // std's RandomState is keyed from OS entropy: a fresh key per build, no extra crate.
    let state = std::collections::hash_map::RandomState::new();
    std::hash::BuildHasher::hash_one(&state, std::time::SystemTime::now()) as u32
}

/// CPython's string-hash seed, derived from the bundle so builds stay reproducible.
fn hash_seed(bundle: &Bundle) -> u32 {
    let digest = Sha256::digest(&bundle.zip);
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]) | 1
}

fn over_budget(app: &AppConfig, size: &SizeReport, picture: Option<PathBuf>) -> anyhow::Error {
    BuildError::OverBudget {
        entry: app.entry_path.clone(),
        size: Box::new(size.clone()),
        picture,
    }
    .into()
}

/// What stops a build after its configuration was read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The component is larger than the budget (exit 3); nothing was written but the size
    /// picture, when asked for.
    #[error(
        "{entry} is {} bytes ({} gzip), over the budget of {} bytes by {} bytes; {}\n\n{}",
        size.total, size.total_gzip, size.budget, size.total - size.budget,
        match picture {
            Some(path) => format!("only the size picture was written: {}", path.display()),
            None => "nothing was written".to_string(),
        },
        size.to_table()
    )]
    OverBudget {
        /// The entry file.
        entry: String,
        /// The component's size report.
        size: Box<SizeReport>,
        /// The HTML size picture written (`--report-html`).
        picture: Option<PathBuf>,
    },
    /// `--precompile` for a script app (exit 2).
    #[error(
        "--precompile is for `pyedge serve`, which runs HTTP handlers, and {entry} is a script \
         app (cli world); for `wasmtime run`, precompile with `wasmtime compile`"
    )]
    PrecompileScript {
        /// The entry file.
        entry: String,
    },
    /// `runtime-config = "wasi-config"` for a script (exit 2).
    #[error(
        "{entry} is a script app (cli world), and runtime-config = \"wasi-config\" is for HTTP \
         apps (wasi:config/store comes with wasi:http hosts); a script reads the host's \
         environment: runtime-config = \"env\" with `wasmtime run --env NAME=VALUE`"
    )]
    ConfigStoreScript {
        /// The entry file.
        entry: String,
    },
    /// The app calls `send_to_origin` and no origin is configured (exit 2).
    #[error(
        "{file}:{line}: send_to_origin() forwards to the app's origin, but none is set: \
         add `origin = \"https://...\"` under [tool.pyedge] in pyproject.toml"
    )]
    NoOrigin {
        /// The app file that calls it.
        file: String,
        /// The 1-based line.
        line: usize,
    },
    /// An app object, or a handler, WSGI or ASGI interface, in the cli world (exit 2).
    #[error(
        "--world cli runs a script's main() or its body, and {what} is served over HTTP: \
         leave --world out, or use --world http"
    )]
    InterfaceWorld {
        /// What asks for HTTP: the app object or the interface.
        what: String,
    },
    /// A dependency that resolves but cannot work without sockets (exit 4).
    #[error("{package} cannot run in a component: {why}")]
    NeedsSockets {
        /// The package.
        package: String,
        /// Why, and what to use instead.
        why: &'static str,
    },
    /// `-o` names the `.cwasm` that `--precompile` writes (exit 2).
    #[error(
        "-o {} names the precompiled file; with --precompile, -o names the component \
         (app.wasm) and the precompiled one is written beside it as .cwasm",
        output.display()
    )]
    PrecompileOutput {
        /// The `-o` path.
        output: PathBuf,
    },
}

impl BuildError {
    /// The exit code this error ends the run with.
    pub fn exit(&self) -> Exit {
        match self {
            BuildError::OverBudget { .. } => Exit::OverBudget,
            BuildError::NeedsSockets { .. } => Exit::DependencyRejected,
            BuildError::PrecompileScript { .. }
            | BuildError::ConfigStoreScript { .. }
            | BuildError::NoOrigin { .. }
            | BuildError::PrecompileOutput { .. }
            | BuildError::InterfaceWorld { .. } => Exit::Usage,
        }
    }
}

/// `file` relative to `dir` (`/`-separated) when it lies inside it.
fn inside_dir(dir: &Path, file: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?.canonicalize().ok()?,
    };
    let full = parent.join(file.file_name()?);
    let rel = full.strip_prefix(&dir).ok()?;
    Some(crate::app_files::relative_name(Path::new(""), rel))
}

/// Where `--spin` writes: `spin.toml` beside the output (its `source` is the output's
/// file name).
fn spin_manifest_path(output: &Path) -> PathBuf {
    match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("spin.toml"),
        _ => PathBuf::from("spin.toml"),
    }
}

/// `[project] name` and `version` from pyproject.toml, else the app directory's name and
/// 0.1.0 (for the Spin manifest's `[application]`).
fn project_name_version(
    app: &AppConfig,
    project: Option<&crate::config::ProjectFile>,
) -> (String, String) {
    let dir_name = || {
        std::path::absolute(&app.app_dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into())
    };
    let name = project
        .and_then(|p| p.name())
        .map(str::to_string)
        .unwrap_or_else(dir_name);
    let version = project.and_then(|p| p.version()).unwrap_or("0.1.0");
    (name, version.to_string())
}

/// Where `--precompile` writes: the output with the extension `.cwasm`.
fn precompiled_path(output: &Path) -> Result<PathBuf> {
    let path = output.with_extension("cwasm");
    if path == output {
        return Err(BuildError::PrecompileOutput {
            output: output.to_path_buf(),
        }
        .into());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::numpy_subpackages_used;

    #[test]
    fn numpy_subpackages_used_as_attributes_are_found_by_alias() {
        let app = |source: &str| vec![("app.py".to_string(), source.as_bytes().to_vec())];
        let found = numpy_subpackages_used(&app(
            "import numpy as np\nrng = np.random.default_rng()\nx = np.fft.rfft(v)\n",
        ));
        assert_eq!(found, ["numpy.fft", "numpy.random"]);
        // The full name works too; a longer name or another object's attribute does not.
        let found = numpy_subpackages_used(&app(
            "import numpy\nimport numpy as np\nnumpy.linalg.solve(a, b)\nnp.randomize()\nself.np.ma.x\n",
        ));
        assert_eq!(found, ["numpy.linalg"]);
        assert!(numpy_subpackages_used(&app("import numpy as np\nnp.array([1])\n")).is_empty());
    }
}
