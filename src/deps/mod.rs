//! Dependencies: from the app's requirements to a set of verified pure-Python wheels.
//!
//! ```text
//! requirements (pyproject.toml / requirements.txt)
//!   → sources (index, --find-links, cache)  → resolve (PubGrub, pure versions preferred)
//!   → classify (tags, Root-Is-Purelib, no compiled code inside)  → report / lock / bundle
//! ```
//!
//! The build uses [`resolve_for_build`] and [`wheel_install_files`]; `pyedge check-deps`
//! and `pyedge lock` use [`check_deps`] and [`lock_deps`] through [`cli`].

pub mod cache;
pub mod classify;
mod error;
pub mod index;
pub mod lock;
pub mod markers;
pub mod report;
pub mod requirements;
pub mod resolve;
#[cfg(feature = "host")]
pub mod sandbox;
#[cfg(feature = "host")]
pub mod sdist;
pub mod sources;
pub mod substitute;
pub mod wheel;

use anyhow::Result;
use cache::WheelCache;
use classify::classify_wheel;
pub use error::DepsError;
use index::{DistFile, Location, DEFAULT_INDEX_URL};
use lock::{LockFile, LockedPackage, LockedSubstitute, LOCK_VERSION};
use pep508_rs::PackageName;
use requirements::{display_path, Declared};
use resolve::{Outcome, Verdict};
use sources::Sources;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How to find and check the app's dependencies.
#[derive(Debug, Clone, Default)]
pub struct DepsOptions {
    /// The app directory (holds `pyproject.toml` or `requirements.txt`, and `pyedge.lock`).
    pub app_dir: PathBuf,
    /// `--index-url`: overrides the requirements file and the default public index.
    pub index_url: Option<String>,
    /// `--find-links` directories, searched before the index.
    pub find_links: Vec<PathBuf>,
    /// `--offline`: use only `--find-links` and the wheel cache.
    pub offline: bool,
    /// `--extra` groups of `[project.optional-dependencies]`.
    pub extras: Vec<String>,
    /// `--locked`: install exactly `pyedge.lock`, failing if it is stale or a hash differs.
    pub locked: bool,
    /// Cache root; `None` means `$PYEDGE_CACHE_DIR`, `$XDG_CACHE_HOME/pyedge` or `~/.cache/pyedge`.
    pub cache_dir: Option<PathBuf>,
    /// The app's `pyproject.toml` as the build already read it (`None`: read it here).
    pub project: Option<std::sync::Arc<crate::config::ProjectFile>>,
}

impl DepsOptions {
    /// Defaults for an app directory: public index, no find-links, online, not locked.
    pub fn new(app_dir: impl Into<PathBuf>) -> Self {
        Self {
            app_dir: app_dir.into(),
            ..Self::default()
        }
    }
}

/// A wheel ready to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackage {
    /// Normalized name (`pyjwt`).
    pub name: String,
    /// Version.
    pub version: String,
    /// The wheel's file name.
    pub filename: String,
    /// The verified wheel on the local disk (cache or `--find-links`).
    pub wheel_path: PathBuf,
    /// sha256 of the wheel, lower-case hex.
    pub sha256: String,
    /// Where it came from: a URL or a path.
    pub source: String,
    /// How it was pulled in: `["app", "pyjwt[crypto]", "cryptography"]`.
    pub chain: Vec<String>,
    /// The sdist the wheel was built pure from (its file name), when pyedge built it.
    pub built_from: Option<String>,
}

/// The pure-Python wheels a build installs, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvedSet {
    /// The packages.
    pub packages: Vec<ResolvedPackage>,
    /// Notes for the user (older versions chosen, and why).
    pub notes: Vec<String>,
    /// Packages pyedge's own build stands in for (nothing to install).
    pub substituted: Vec<SubstitutedPackage>,
}

/// A requirement that resolved to pyedge's own build (see [`substitute`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstitutedPackage {
    /// Normalized name (`cryptography`).
    pub name: String,
    /// The version the sources offered (or the substitute's own).
    pub version: String,
    /// What stands in for it (`pyedge WASI build`).
    pub by: &'static str,
}

impl std::fmt::Display for SubstitutedPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.name, self.version, self.by)
    }
}

/// Everything `check-deps` shows: each package with its verdict.
#[derive(Debug, Clone)]
pub struct DepsReport {
    /// The app's name (first link of every chain).
    pub app: String,
    /// The file the requirements came from, as shown to the user.
    pub requirements_file: String,
    /// Whether the set came from `pyedge.lock`.
    pub locked: bool,
    /// All packages, pure or rejected, sorted by name.
    pub packages: Vec<Outcome>,
    /// Notes (fallbacks to older versions).
    pub notes: Vec<String>,
}

impl DepsReport {
    /// The packages that cannot run on wasm32-wasi.
    pub fn rejected(&self) -> impl Iterator<Item = &Outcome> {
        self.packages
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Rejected(_)))
    }

    /// The error for a report with rejections (exit 4), naming each one.
    pub fn rejection_error(&self) -> Option<anyhow::Error> {
        let message = report::rejection_message(self)?;
        let packages = self.rejected().map(|p| p.name.to_string()).collect();
        Some(DepsError::Rejected { packages, message }.into())
    }

    /// The installable set; an error (exit 4) when anything was rejected.
    pub fn into_resolved_set(self) -> Result<ResolvedSet> {
        if let Some(err) = self.rejection_error() {
            return Err(err);
        }
        let substituted = self
            .packages
            .iter()
            .filter_map(|o| match o.verdict {
                Verdict::Substituted(s) => Some(SubstitutedPackage {
                    name: o.name.to_string(),
                    version: o.version.to_string(),
                    by: s.by,
                }),
                _ => None,
            })
            .collect();
        let packages: Vec<ResolvedPackage> = self
            .packages
            .into_iter()
            .filter_map(|outcome| match outcome.verdict {
                Verdict::Pure { file, wheel } => Some(ResolvedPackage {
                    name: outcome.name.to_string(),
                    version: outcome.version.to_string(),
                    filename: file.filename,
                    wheel_path: wheel.path,
                    sha256: wheel.sha256,
                    source: file.location.to_string(),
                    chain: outcome.chain,
                    built_from: None,
                }),
                Verdict::Built { sdist, built } => Some(ResolvedPackage {
                    name: outcome.name.to_string(),
                    version: outcome.version.to_string(),
                    filename: built.filename,
                    wheel_path: built.wheel.path,
                    sha256: built.wheel.sha256,
                    source: sdist.location.to_string(),
                    chain: outcome.chain,
                    built_from: Some(sdist.filename),
                }),
                // pyedge's own package is bundled when imported (see bundle.rs).
                Verdict::Rejected(_) | Verdict::Substituted(_) => None,
            })
            .collect();
        let mut notes = self.notes;
        notes.extend(packages.iter().filter_map(|p: &ResolvedPackage| {
            let sdist = p.built_from.as_ref()?;
            Some(report::built_note(&p.name, &p.version, sdist))
        }));
        Ok(ResolvedSet {
            packages,
            notes,
            substituted,
        })
    }
}

/// Resolve (or read `pyedge.lock` when `opts.locked`) for a build: `None` when the app
/// declares no dependencies; exit 4 on a rejected package, exit 5 on resolution, network,
/// stale-lock or hash failures.
pub fn resolve_for_build(opts: &DepsOptions) -> Result<Option<ResolvedSet>> {
    match check_deps(opts)? {
        Some(report) => report.into_resolved_set().map(Some),
        None => Ok(None),
    }
}

/// The files a pure wheel installs, as (path relative to `site-packages`, content), sorted:
/// package code and `.dist-info/` (so `importlib.metadata` works), `.data/purelib` and
/// `.data/platlib` mapped to the top, `.data/scripts`/`headers`/`data` skipped. Unsafe
/// archives (zip-slip, absolute paths, symlinks, corrupt data, zip bombs) are refused.
pub fn wheel_install_files(wheel_path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    wheel::install_files(wheel_path).map_err(|problem| {
        let name = wheel_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        DepsError::BadWheel {
            wheel: name,
            problem: problem.to_string(),
        }
        .into()
    })
}

/// Resolve and classify the app's dependencies (from `pyedge.lock` when `opts.locked`);
/// `None` when it declares none. Rejections are in the report, not an error.
pub fn check_deps(opts: &DepsOptions) -> Result<Option<DepsReport>> {
    let Some(declared) =
        requirements::read_declared(&opts.app_dir, &opts.extras, opts.project.as_deref())?
    else {
        return Ok(None);
    };
    let sources = build_sources(opts, &declared);
    let (packages, notes) = if opts.locked {
        (locked_outcomes(opts, &declared, &sources)?, Vec::new())
    } else {
        let resolution = resolve::resolve(&sources, &declared)?;
        (resolution.packages, resolution.notes)
    };
    Ok(Some(DepsReport {
        app: declared.app_name.clone(),
        requirements_file: display_path(&declared.file, &opts.app_dir),
        locked: opts.locked,
        packages,
        notes,
    }))
}

/// Resolve and, when every package is pure, write `pyedge.lock`. Returns the report (with
/// rejections, and then nothing written) or `None` when the app declares no dependencies.
pub fn lock_deps(opts: &DepsOptions) -> Result<Option<DepsReport>> {
    let unlocked = DepsOptions {
        locked: false,
        ..opts.clone()
    };
    let Some(report) = check_deps(&unlocked)? else {
        return Ok(None);
    };
    if report.rejected().next().is_some() {
        return Ok(Some(report));
    }
    let Some(declared) =
        requirements::read_declared(&opts.app_dir, &opts.extras, opts.project.as_deref())?
    else {
        return Ok(None);
    };
    let lock = LockFile {
        version: LOCK_VERSION,
        requirements: declared.fingerprint(),
        packages: report
            .packages
            .iter()
            .filter_map(|o| locked_package(o, &opts.app_dir))
            .collect(),
        substituted: report
            .packages
            .iter()
            .filter(|o| matches!(o.verdict, Verdict::Substituted(_)))
            .map(|o| LockedSubstitute {
                name: o.name.to_string(),
                version: o.version.to_string(),
                chain: o.chain.clone(),
            })
            .collect(),
    };
    lock::write_lock(&opts.app_dir, &lock)?;
    Ok(Some(report))
}

fn locked_package(outcome: &Outcome, app_dir: &Path) -> Option<LockedPackage> {
    let (file, wheel_name, sha256, sdist) = match &outcome.verdict {
        Verdict::Pure { file, wheel } => (file, &file.filename, &wheel.sha256, None),
        Verdict::Built { sdist, built } => (
            sdist,
            &built.filename,
            &built.wheel.sha256,
            Some((sdist.filename.clone(), built.sdist_sha256.clone())),
        ),
        Verdict::Rejected(_) | Verdict::Substituted(_) => return None,
    };
    let (url, path) = match &file.location {
        Location::Url(url) => (Some(url.clone()), None),
        Location::Path(path) => (None, Some(portable_path(path, app_dir))),
    };
    Some(LockedPackage {
        name: outcome.name.to_string(),
        version: outcome.version.to_string(),
        wheel: wheel_name.clone(),
        url,
        path,
        sha256: sha256.clone(),
        chain: outcome.chain.clone(),
        sdist: sdist.as_ref().map(|(name, _)| name.clone()),
        sdist_sha256: sdist.map(|(_, sha)| sha),
    })
}

/// A path relative to the app directory with `/` separators when inside it.
fn portable_path(path: &Path, app_dir: &Path) -> String {
    let absolute = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (path, app_dir) = (absolute(path), absolute(app_dir));
    match path.strip_prefix(&app_dir) {
        Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
        Err(_) => path.display().to_string(),
    }
}

/// The index order: `--index-url`, else the requirements file's, else the public index;
/// `--no-index` in the file drops all indexes unless `--index-url` is given.
fn build_sources(opts: &DepsOptions, declared: &Declared) -> Sources {
    let from_file = &declared.sources;
    let mut indexes = Vec::new();
    if let Some(url) = &opts.index_url {
        indexes.push(url.clone());
    } else if !from_file.no_index {
        indexes.push(
            from_file
                .index_url
                .clone()
                .unwrap_or_else(|| DEFAULT_INDEX_URL.to_string()),
        );
        indexes.extend(from_file.extra_index_urls.iter().cloned());
    }
    // Command-line directories are relative to where pyedge runs, like pip's.
    let mut find_links = opts.find_links.clone();
    find_links.extend(from_file.find_links.iter().cloned());
    let cache = WheelCache::new(opts.cache_dir.as_deref());
    Sources::new(indexes, find_links, opts.offline, cache)
}

/// The packages of `pyedge.lock`, each fetched, hash-checked and classified again.
fn locked_outcomes(
    opts: &DepsOptions,
    declared: &Declared,
    sources: &Sources,
) -> Result<Vec<Outcome>> {
    let lock = lock::read_lock(&opts.app_dir)?;
    lock::check_fresh(&lock, declared, &opts.app_dir)?;
    let mut outcomes = Vec::new();
    for locked in &lock.packages {
        outcomes.push(locked_outcome(locked, opts, sources)?);
    }
    for locked in &lock.substituted {
        outcomes.push(locked_substitute(locked)?);
    }
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(outcomes)
}

/// A substituted requirement from the lock: still substituted, by the same build.
fn locked_substitute(locked: &LockedSubstitute) -> Result<Outcome> {
    let invalid = || DepsError::LockSubstitute {
        lock: lock::LOCK_FILE,
        package: locked.name.clone(),
    };
    let substitute = substitute::substitute_for(&locked.name).ok_or_else(invalid)?;
    if substitute.only_version && locked.version != substitute.version {
        return Err(DepsError::LockedOtherBuild {
            lock: lock::LOCK_FILE,
            package: locked.name.clone(),
            locked: locked.version.clone(),
            have: substitute.version,
        }
        .into());
    }
    Ok(Outcome {
        name: PackageName::from_str(&locked.name).map_err(|_| invalid())?,
        version: pep440_rs::Version::from_str(&locked.version).map_err(|_| invalid())?,
        chain: locked.chain.clone(),
        verdict: Verdict::Substituted(substitute),
        older: None,
    })
}

fn locked_outcome(
    locked: &LockedPackage,
    opts: &DepsOptions,
    sources: &Sources,
) -> Result<Outcome> {
    let invalid = |what: &str| DepsError::LockEntry {
        lock: lock::LOCK_FILE,
        package: locked.name.clone(),
        what: what.to_string(),
    };
    let name = PackageName::from_str(&locked.name).map_err(|_| invalid("invalid name"))?;
    let version =
        pep440_rs::Version::from_str(&locked.version).map_err(|_| invalid("invalid version"))?;
    let location = match (&locked.url, &locked.path) {
        (Some(url), _) => Location::Url(url.clone()),
        (None, Some(path)) => Location::Path(opts.app_dir.join(path)),
        (None, None) => return Err(invalid("no url or path").into()),
    };
    if let (Some(sdist), Some(sdist_sha256)) = (&locked.sdist, &locked.sdist_sha256) {
        let file = DistFile {
            filename: sdist.clone(),
            location,
            sha256: Some(sdist_sha256.to_ascii_lowercase()),
            requires_python: None,
            yanked: false,
            core_metadata: None,
        };
        let verdict = locked_build(locked, &name, &version, file, sources)?;
        return Ok(Outcome {
            name,
            version,
            chain: locked.chain.clone(),
            verdict,
            older: None,
        });
    }
    let file = DistFile {
        filename: locked.wheel.clone(),
        location,
        sha256: Some(locked.sha256.to_ascii_lowercase()),
        requires_python: None,
        yanked: false,
        core_metadata: None,
    };
    let wheel = sources.fetch_promised(&name, &file, lock::LOCK_FILE)?;
    let verdict = match classify_wheel(&wheel.path, &file.filename) {
        Ok(_) => Verdict::Pure { file, wheel },
        Err(rejection) => Verdict::Rejected(rejection),
    };
    Ok(Outcome {
        name,
        version,
        chain: locked.chain.clone(),
        verdict,
        older: None,
    })
}

/// A locked wheel built from an sdist: the sdist is fetched against its locked sha256 and
/// built again (or taken from the build cache); the wheel must be the locked bytes.
#[cfg(feature = "host")]
fn locked_build(
    locked: &LockedPackage,
    name: &PackageName,
    version: &pep440_rs::Version,
    file: DistFile,
    sources: &Sources,
) -> Result<Verdict> {
    let sdist = sources.fetch_promised(name, &file, lock::LOCK_FILE)?;
    let Some(builder) = &sources.sdist_builder else {
        anyhow::bail!(
            "{}: no sdist builder for `{}`",
            lock::LOCK_FILE,
            locked.name
        );
    };
    let built = match builder.build(name, version, &file, &sdist, sources)? {
        Ok(built) => built,
        Err(failure) => {
            return Ok(Verdict::Rejected(classify::Rejection::SdistBuild {
                sdist: file.filename.clone(),
                wheels: Vec::new(),
                failure,
            }))
        }
    };
    if built.wheel.sha256 != locked.sha256.to_ascii_lowercase() {
        return Err(DepsError::LockBuiltHash {
            lock: lock::LOCK_FILE,
            sdist: file.filename.clone(),
            actual: built.wheel.sha256.clone(),
            expected: locked.sha256.clone(),
        }
        .into());
    }
    Ok(Verdict::Built { sdist: file, built })
}

#[cfg(not(feature = "host"))]
fn locked_build(
    locked: &LockedPackage,
    _: &PackageName,
    _: &pep440_rs::Version,
    _: DistFile,
    _: &Sources,
) -> Result<Verdict> {
    anyhow::bail!(
        "{}: `{}` is built from an sdist, which needs the host feature",
        lock::LOCK_FILE,
        locked.name
    )
}
