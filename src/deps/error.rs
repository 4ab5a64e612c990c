//! What the dependency stage refuses or cannot do, typed: each carries the file and line,
//! the package, the URL or the limit it is about; [`DepsError::exit`] says which exit code
//! (2 for a bad requirement, 4 for a rejected package, 5 for resolution and fetching).

use crate::error::Exit;
use std::path::PathBuf;

/// A dependency-stage failure.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// A requirement (in requirements.txt or pyproject.toml) or a requirements-file option
    /// is invalid, at `at` (`file:line`, or the file).
    #[error("{at}: {what}")]
    Requirement {
        /// Where: `requirements.txt:3`, `pyproject.toml:7`.
        at: String,
        /// What is wrong with it.
        what: String,
    },
    /// A declared requirement the resolver cannot take (a direct URL), at `file:line`.
    #[error("{at}: {what}")]
    UnsupportedRequirement {
        /// Where it is declared.
        at: String,
        /// Why.
        what: String,
    },
    /// A requirements file that cannot be read as `-r` asks (a cycle, too deep, too
    /// many or too large files, unreadable), after the including line `at`.
    #[error("{at}{what}")]
    Include {
        /// The including line with its separator (`requirements.txt:2: `), or empty for
        /// the app's own requirements file.
        at: String,
        /// What is wrong.
        what: String,
    },
    /// A requirements file or pyproject.toml cannot be read.
    #[error("{at}cannot read {}: {detail}", path.display())]
    ReadRequirements {
        /// The `-r` line that names it (`requirements.txt:2: `), or empty.
        at: String,
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// `--extra` for an app whose requirements are in requirements.txt.
    #[error("--extra needs [project.optional-dependencies] in {}; {txt} has no extras", pyproject.display())]
    ExtraWithoutGroups {
        /// The app's pyproject.toml.
        pyproject: PathBuf,
        /// The requirements file.
        txt: &'static str,
    },
    /// `--extra NAME` names no group.
    #[error("--extra {extra}: {file} has no [project.optional-dependencies] group `{extra}` (known: {known})")]
    UnknownExtra {
        /// pyproject.toml, as shown.
        file: String,
        /// The extra asked for.
        extra: String,
        /// The groups there are.
        known: String,
    },
    /// The package index cannot be reached.
    #[error("cannot reach the package index at {page}: {detail}")]
    IndexUnreachable {
        /// The project page.
        page: String,
        /// Why.
        detail: String,
    },
    /// The package index answered with an error status.
    #[error("the package index answered HTTP {status} for {page}")]
    IndexStatus {
        /// The project page.
        page: String,
        /// The HTTP status.
        status: u16,
    },
    /// A project page whose URL does not parse.
    #[error("invalid index URL {page}: {detail}")]
    IndexUrl {
        /// The project page.
        page: String,
        /// Why.
        detail: String,
    },
    /// A project page that cannot be read.
    #[error("{page}: {detail}")]
    IndexPage {
        /// The project page.
        page: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A file cannot be downloaded.
    #[error("cannot download {url}: {detail}")]
    Download {
        /// The file's URL.
        url: String,
        /// Why (`HTTP 404`, a connection error).
        detail: String,
    },
    /// `--offline` and a file not in the wheel cache.
    #[error("{filename} is not in the wheel cache {} and --offline forbids downloading it from {url}", cache.display())]
    NotCached {
        /// The file.
        filename: String,
        /// The cache directory.
        cache: PathBuf,
        /// Where it would come from.
        url: String,
    },
    /// No source offers any file of a package; `detail` names the sources looked at.
    #[error("{detail}")]
    NotFound {
        /// The package.
        package: String,
        /// `no package named `x` in the index ...`.
        detail: String,
    },
    /// A `--find-links` directory that cannot be read.
    #[error("cannot read --find-links directory {}: {detail}", dir.display())]
    FindLinks {
        /// The directory.
        dir: PathBuf,
        /// Why.
        detail: String,
    },
    /// Downloaded or local content that does not match a promised sha256.
    #[error(
        "hash mismatch for {filename} ({from}): {promised_by} promises sha256 {expected}, \
         the file has sha256 {actual}"
    )]
    HashMismatch {
        /// The file.
        filename: String,
        /// Where it came from (URL or path).
        from: String,
        /// Who promised the hash (the index, the lock).
        promised_by: String,
        /// The promised digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// A file whose digest is not among a requirement's `--hash` values.
    #[error("hash mismatch for {filename}: {origin} allows sha256 {allowed}, the file has sha256 {actual}")]
    DeclaredHash {
        /// The file.
        filename: String,
        /// The requirement's `file:line`.
        origin: String,
        /// The allowed digests (`a or b`).
        allowed: String,
        /// The file's digest.
        actual: String,
    },
    /// A package's METADATA has a Requires-Dist line that does not parse.
    #[error("{filename}: invalid Requires-Dist `{line}` in METADATA: {detail}")]
    RequiresDist {
        /// The wheel or sdist.
        filename: String,
        /// The line.
        line: String,
        /// Why it does not parse.
        detail: String,
    },
    /// No set of versions satisfies the requirements (pubgrub's explanation).
    #[error("the requirements of {root} cannot be resolved:\n{report}")]
    Unresolvable {
        /// The app.
        root: String,
        /// Why, derivation by derivation.
        report: String,
    },
    /// `pyedge.lock` is missing.
    #[error("{} not found: run `pyedge lock` first", path.display())]
    LockMissing {
        /// Where it should be.
        path: PathBuf,
    },
    /// `pyedge.lock` cannot be read.
    #[error("cannot read {}: {detail}", path.display())]
    LockRead {
        /// The lock file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// `pyedge.lock` does not parse.
    #[error("{}: invalid lock file: {detail}", path.display())]
    LockInvalid {
        /// The lock file.
        path: PathBuf,
        /// The TOML error.
        detail: String,
    },
    /// `pyedge.lock` of another format version.
    #[error("{}: lock format version {found} is not supported (expected {expected}); run `pyedge lock` again", path.display())]
    LockVersion {
        /// The lock file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// This pyedge's.
        expected: u32,
    },
    /// The app's requirements changed since `pyedge lock`.
    #[error("{} is stale: the requirements in {} changed ({changes}); run `pyedge lock` again", lock.display(), requirements.display())]
    LockStale {
        /// The lock file.
        lock: PathBuf,
        /// The requirements file.
        requirements: PathBuf,
        /// What changed.
        changes: String,
    },
    /// An entry of `pyedge.lock` that this pyedge cannot use.
    #[error("{lock}: {what} for `{package}` in the lock; run `pyedge lock` again")]
    LockEntry {
        /// The lock file's name.
        lock: &'static str,
        /// The package.
        package: String,
        /// What is wrong (`invalid version`).
        what: String,
    },
    /// A package locked as substituted that this pyedge has no substitute for.
    #[error(
        "{lock}: `{package}` is locked as substituted but pyedge has no substitute for it; \
         run `pyedge lock` again"
    )]
    LockSubstitute {
        /// The lock file's name.
        lock: &'static str,
        /// The package.
        package: String,
    },
    /// A package locked as pyedge's own build at a version this pyedge does not build.
    #[error(
        "{lock}: `{package}` is locked at {locked}, but this pyedge builds {package} {have}; \
         run `pyedge lock` again"
    )]
    LockedOtherBuild {
        /// The lock file's name.
        lock: &'static str,
        /// The package.
        package: String,
        /// The version in the lock.
        locked: String,
        /// The version pyedge has.
        have: &'static str,
    },
    /// An sdist built again to another wheel than the lock recorded.
    #[error(
        "{lock}: the wheel built pure from {sdist} has sha256 {actual}, the lock says {expected}; \
         run `pyedge lock` again"
    )]
    LockBuiltHash {
        /// The lock file's name.
        lock: &'static str,
        /// The sdist.
        sdist: String,
        /// The digest built now.
        actual: String,
        /// The locked digest.
        expected: String,
    },
    /// Packages that cannot run on wasm32-wasi, each named with its chain and what to do.
    #[error("{message}")]
    Rejected {
        /// The rejected packages.
        packages: Vec<String>,
        /// The report (one paragraph per package).
        message: String,
    },
    /// A wheel pyedge refuses to install (unsafe or corrupt archive).
    #[error("{wheel}: {problem}")]
    BadWheel {
        /// The wheel's file name.
        wheel: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `check-deps`/`lock` on a directory that does not exist.
    #[error("app directory not found: {}", dir.display())]
    AppDirMissing {
        /// The directory.
        dir: PathBuf,
    },
}

impl DepsError {
    /// The exit code this failure ends the process with.
    pub fn exit(&self) -> Exit {
        match self {
            DepsError::Requirement { .. }
            | DepsError::ReadRequirements { .. }
            | DepsError::ExtraWithoutGroups { .. }
            | DepsError::UnknownExtra { .. }
            | DepsError::Include { .. }
            | DepsError::AppDirMissing { .. } => Exit::Usage,
            DepsError::Rejected { .. } | DepsError::BadWheel { .. } => Exit::DependencyRejected,
            _ => Exit::Resolution,
        }
    }
}
