//! `pyedge build`: config → bundle → embed → pre-init → componentize → report → write.

use crate::bundle::{collect_bundle, BootSettings, Bundle, DependencyFiles};
use crate::component::{componentize, detect_world, strip_custom_sections, World};
use crate::config::{resolve_app_config, AppConfig};
use crate::deps::{resolve_for_build, wheel_install_files, DepsOptions};
use crate::embed::{embed_bundle, memory_writes, EmbedInputs};
use crate::error::{failure, Exit};
use crate::output::write_atomically;
use crate::progress::{Reporter, StageObserver, StageTime};
use crate::prune::prune_module;
use crate::report::{size_report, SizeReport};
use crate::{runtime, snapshot};
use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Options of one build, as given on the command line.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub app_dir: PathBuf,
    pub output: PathBuf,
    pub entry: Option<String>,
    pub budget: Option<String>,
    pub snapshot: bool,
    /// Force a world instead of detecting it from the entry module.
    pub world: Option<World>,
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
    pub output: PathBuf,
    pub world: &'static str,
    pub entry: String,
    pub snapshot: bool,
    /// The pre-initialized module came from the cache (same module built before).
    pub snapshot_cached: bool,
    /// Optional C extension modules left out because nothing imports them.
    pub left_out: Vec<String>,
    /// Dependencies pyedge's own build stands in for (see `deps::substitute`).
    pub substituted: Vec<String>,
    /// App files left out because they look like credentials: (file, why).
    pub skipped_secrets: Vec<(String, String)>,
    pub sha256: String,
    /// The precompiled component (`--precompile`), written beside the output.
    pub precompiled: Option<PathBuf>,
    pub size: SizeReport,
    /// Every file in the bundle, by root (with `-v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<crate::manifest::Manifest>,
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
    let mut app = resolve_app_config(&opts.app_dir, opts.entry.as_deref(), opts.budget.as_deref())?;
    // This build's own outputs never ship, even when written inside the app directory.
    app.skip_files = [Some(opts.output.clone()), precompiled_to.clone()]
        .into_iter()
        .flatten()
        .filter_map(|out| inside_dir(&app.app_dir, &out))
        .collect();
    let world = match opts.world {
        Some(world) => world,
        None => detect_world(&read_entry(&app)?),
    };
    if precompiled_to.is_some() && world != World::Http {
        return Err(failure(
            Exit::Usage,
            format!(
                "--precompile is for `pyedge serve`, which runs HTTP handlers, and {} is a \
                 script app (cli world); for `wasmtime run`, precompile with `wasmtime compile`",
                app.entry_path
            ),
        ));
    }
    let (deps, substituted) =
        reporter.stage("dependencies", || install_dependencies(&opts.deps))?;
    let prune_table = world.prune_table()?;
    let bundle = reporter.stage("bundle", || {
        collect_bundle(
            &app,
            &deps,
            &BootSettings {
                world: world.name(),
                optional_modules: prune_table.modules(),
            },
        )
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
    let (core, layout, snapshot_cached) = if opts.snapshot {
        let (writes, layout) =
            reporter.stage("embed", || memory_writes(world.runtime(), &inputs))?;
        let (core, cached) = reporter.stage("pre-initialize", || {
            snapshot::snapshot_module_cached(world.runtime(), &writes)
        })?;
        (core, layout, cached)
    } else {
        let (core, layout) = reporter.stage("embed", || embed_bundle(world.runtime(), &inputs))?;
        (core, layout, false)
    };
    // The optional C modules nothing imports: their code and static data go; so do the
    // frozen modules' bytes once the snapshot holds the modules.
    let left_out = prune_table.groups_of(&bundle.left_out);
    let frozen_code: &[(u32, u32)] = if opts.snapshot {
        &prune_table.frozen_code
    } else {
        &[]
    };
    let core = reporter.stage("leave out", || prune_module(&core, &left_out, frozen_code))?;
    let core = if opts.keep_names {
        core
    } else {
        strip_custom_sections(&core)?
    };
    let component = reporter.stage("componentize", || componentize(&core, world))?;
    let size = reporter.stage("report", || {
        size_report(&component, &core, &bundle, layout.bundle_addr, app.budget)
    })?;
    if size.over_budget {
        return Err(over_budget(&app, &size));
    }
    // Compiled before anything is written, so a failure leaves neither file.
    let precompiled = match precompiled_to {
        Some(path) => {
            let code = reporter.stage("precompile", || crate::serve::precompile(&component))?;
            Some((path, code))
        }
        None => None,
    };
    reporter.stage("write", || {
        write_atomically(&opts.output, &component)?;
        match &precompiled {
            Some((path, code)) => write_atomically(path, code),
            None => Ok(()),
        }
    })?;
    Ok(BuildOutcome {
        output: opts.output.clone(),
        world: world.name(),
        entry: app.entry_module.clone(),
        snapshot: opts.snapshot,
        snapshot_cached,
        left_out: bundle.left_out.clone(),
        substituted,
        skipped_secrets: bundle.skipped_secrets.clone(),
        sha256: hex::encode(Sha256::digest(&component)),
        precompiled: precompiled.map(|(path, _)| path),
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
/// for the summary.
fn install_dependencies(opts: &DepsOptions) -> Result<(Vec<DependencyFiles>, Vec<String>)> {
    let Some(resolved) = resolve_for_build(opts)? else {
        return Ok((Vec::new(), Vec::new()));
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
    Ok((files.into_iter().chain(stand_ins).collect(), substituted))
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

fn over_budget(app: &AppConfig, size: &SizeReport) -> anyhow::Error {
    failure(
        Exit::OverBudget,
        format!(
            "{} is {} bytes ({} gzip), over the budget of {} bytes by {} bytes; nothing was written\n\n{}",
            app.entry_path,
            size.total,
            size.total_gzip,
            size.budget,
            size.total - size.budget,
            size.to_table()
        ),
    )
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

/// Where `--precompile` writes: the output with the extension `.cwasm`.
fn precompiled_path(output: &Path) -> Result<PathBuf> {
    let path = output.with_extension("cwasm");
    if path == output {
        return Err(failure(
            Exit::Usage,
            format!(
                "-o {} names the precompiled file; with --precompile, -o names the component \
                 (app.wasm) and the precompiled one is written beside it as .cwasm",
                output.display()
            ),
        ));
    }
    Ok(path)
}
