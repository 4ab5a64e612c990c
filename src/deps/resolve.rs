//! The resolver: PubGrub over the sources, where a version is available only if it has a
//! pure-Python wheel.
//!
//! Resolution runs in up to two passes. The strict pass offers only pure versions, so
//! the solver backtracks to older pure versions (of the package or of whatever pulls it
//! in) before giving up. When no all-pure solution exists, a tolerant pass also offers
//! rejected versions (as a last resort, newest first) so the report shows the whole set
//! with every rejected package, its version and the chain that pulled it in.
//!
//! Extras are separate solver packages (`pyjwt[crypto]`) that pin their base package to
//! the same version, the usual PubGrub encoding.

use super::cache::{BuiltWheel, LocalWheel};
use super::classify::{classify_wheel, Rejection};
use super::index::DistFile;
use super::markers::{target_environment, target_python};
use super::requirements::{Declared, Requirement};
use super::sources::Sources;
use super::substitute::{substitute_for, Substitute};
use super::wheel::{header_values, sdist_version, WheelFilename};
use super::DepsError;
use anyhow::Result;
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, VersionOrUrl};
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyConstraints, DependencyProvider,
    PackageResolutionStatistics, PubGrubError, Ranges, Reporter,
};
use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::str::FromStr;

type VersionRange = Ranges<Version>;
/// A solver package's dependencies, each with its allowed versions.
type Constraints = Vec<(Node, VersionRange)>;

/// A solver package: the app, a distribution, or a distribution with one extra.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// The app itself, by name.
    Root(String),
    /// A distribution.
    Base(PackageName),
    /// A distribution's optional feature set.
    Extra(PackageName, ExtraName),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(app) => f.write_str(app),
            Self::Base(name) => write!(f, "{name}"),
            Self::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// The verdict on a resolved package.
#[derive(Debug, Clone)]
// Each variant's doc says what its fields hold.
#[allow(missing_docs)]
pub enum Verdict {
    /// Usable: the wheel chosen and its verified local copy.
    Pure { file: DistFile, wheel: LocalWheel },
    /// Not usable on wasm32-wasi.
    Rejected(Rejection),
    /// Replaced by pyedge's own build (see [`super::substitute`]): nothing installed.
    Substituted(Substitute),
    /// Built pure from the version's sdist (see `super::sdist`): `sdist` is the file it
    /// came from.
    Built { sdist: DistFile, built: BuiltWheel },
}

/// One package of the resolved set.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Normalized name.
    pub name: PackageName,
    /// The version chosen.
    pub version: Version,
    /// How it was pulled in: `["app", "pyjwt[crypto]", "cryptography"]`.
    pub chain: Vec<String>,
    /// Pure or rejected.
    pub verdict: Verdict,
    /// For a rejected package: why each older version looked at was not taken either.
    pub older: Option<String>,
}

/// The resolved set, sorted by name, with notes about fallbacks.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Every package, pure or rejected.
    pub packages: Vec<Outcome>,
    /// Human-readable notes (older versions chosen and why).
    pub notes: Vec<String>,
}

/// Resolve the app's active requirements against the sources.
pub fn resolve(sources: &Sources, declared: &Declared) -> Result<Resolution> {
    let provider = Provider::new(sources, declared)?;
    run_resolution(&provider)
}

/// Resolve an sdist's build requirements (`[build-system] requires`) to pure wheels from
/// the same sources, without building any sdist for them: the files to install into the
/// build sandbox, or why that cannot be done (a rejected requirement, one line).
#[cfg(feature = "host")]
pub fn resolve_build_requirements(
    sources: &Sources,
    what: &str,
    requirements: &[Requirement],
) -> Result<Result<Vec<crate::bundle::DependencyFiles>, String>> {
    use super::requirements::{DeclaredRequirement, SourceOptions};
    let declared = Declared {
        app_name: what.to_string(),
        file: std::path::PathBuf::from("pyproject.toml"),
        requirements: requirements
            .iter()
            .map(|requirement| DeclaredRequirement {
                requirement: requirement.clone(),
                origin: format!("{what} requirements"),
                hashes: Vec::new(),
            })
            .collect(),
        sources: SourceOptions::default(),
    };
    let mut provider = Provider::new(sources, &declared)?;
    provider.build_sdists = false;
    let resolution = match run_resolution(&provider) {
        Ok(resolution) => resolution,
        Err(err) if crate::error::exit_code_of(&err) == crate::error::Exit::Resolution => {
            return Ok(Err(format!("{err:#}").replace('\n', " ")))
        }
        Err(err) => return Err(err),
    };
    let mut deps = Vec::new();
    for outcome in resolution.packages {
        let (name, version) = (outcome.name.to_string(), outcome.version.to_string());
        match outcome.verdict {
            Verdict::Pure { wheel, .. } => {
                let files = super::wheel::install_files(&wheel.path)
                    .map_err(|problem| anyhow::anyhow!("{name} {version}: {problem}"))?;
                deps.push(crate::bundle::DependencyFiles {
                    name,
                    version,
                    files,
                });
            }
            Verdict::Rejected(rejection) => {
                return Ok(Err(format!("{name} {version}: {}", rejection.reason())))
            }
            Verdict::Substituted(_) | Verdict::Built { .. } => {
                return Ok(Err(format!("{name} {version} has no pure wheel")))
            }
        }
    }
    Ok(Ok(deps))
}

fn run_resolution(provider: &Provider<'_>) -> Result<Resolution> {
    let mut strict = provider.direct_requirements_have_pure_candidates()?;
    loop {
        let solution = provider.solve(&mut strict)?;
        // Wheels chosen on the strength of their metadata alone are checked now; a
        // rejected one changes the picture, so solve again without it. So does an older
        // fallback version that declares no Requires-Python and does not import.
        if provider.verify(&solution)? && provider.check_fallback_imports(&solution)? {
            return provider.outcome(solution);
        }
    }
}

fn root_version() -> Version {
    Version::new([0u64])
}

/// The files of one version.
type Listing = BTreeMap<Version, Vec<DistFile>>;

/// What a version turned out to be.
enum Status {
    /// A pure-tagged wheel; `wheel` is `None` while only its metadata (PEP 658) has been
    /// read, and is filled in once the whole wheel has been downloaded and classified.
    Pure {
        file: DistFile,
        wheel: Option<LocalWheel>,
        requires: Vec<Requirement>,
        extras: Vec<ExtraName>,
        /// Whether its metadata declares `Requires-Python` (an older version that does
        /// not must import in the runtime before it is used as a fallback).
        declares_python: bool,
    },
    Rejected(Rejection),
    /// pyedge's own build stands in for every version (no wheel is looked at).
    Substituted(Substitute),
    /// Only native wheels, but a pure wheel was built from the sdist.
    Built {
        sdist: DistFile,
        built: BuiltWheel,
        requires: Vec<Requirement>,
        extras: Vec<ExtraName>,
    },
}

impl Status {
    /// Whether a usable version defines `extra` (by `Provides-Extra`, or by a requirement
    /// it activates); a rejected or substituted one is not asked.
    fn defines_extra(&self, extra: &ExtraName) -> bool {
        match self {
            Status::Pure {
                requires, extras, ..
            }
            | Status::Built {
                requires, extras, ..
            } => extras.contains(extra) || requires.iter().any(|r| activated(r, Some(extra))),
            Status::Rejected(_) | Status::Substituted(_) => true,
        }
    }
}

/// The PubGrub provider: lists versions, classifies wheels, reads their dependencies.
struct Provider<'a> {
    sources: &'a Sources,
    root: Node,
    root_deps: Constraints,
    /// `--hash` digests from the requirements, with where they were written.
    hashes: HashMap<PackageName, (Vec<String>, String)>,
    /// Pre-releases allowed (`--pre`, or a requirement that names one).
    pre_everywhere: bool,
    pre_names: HashSet<PackageName>,
    listings: RefCell<HashMap<PackageName, Rc<Listing>>>,
    statuses: RefCell<HashMap<(PackageName, Version), Rc<Status>>>,
    /// Dependencies handed to the solver, for chains and notes.
    edges: RefCell<HashMap<(Node, Version), Constraints>>,
    /// Second pass: rejected versions are offered as a last resort.
    tolerant: Cell<bool>,
    /// Whether a version with only native wheels may be built pure from its sdist (not
    /// while resolving an sdist's own build requirements).
    build_sdists: bool,
    /// Fallback versions already imported in the runtime (see `check_fallback_imports`).
    import_checked: RefCell<HashSet<(PackageName, Version)>>,
    /// The extras asked of each package (for the notes on versions without them).
    requested_extras: RefCell<HashMap<PackageName, std::collections::BTreeSet<ExtraName>>>,
    /// Packages whose sdist was already tried: one build per package and resolution, for
    /// the newest version looked at (older ones would mostly fail the same way).
    sdist_tried: RefCell<HashSet<PackageName>>,
}

/// Lets `anyhow` errors (with their exit codes) cross PubGrub.
#[derive(Debug)]
struct ProviderError(anyhow::Error);

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for ProviderError {}

impl<'a> Provider<'a> {
    fn new(sources: &'a Sources, declared: &Declared) -> Result<Self> {
        let mut root_deps = Vec::new();
        let mut hashes: HashMap<PackageName, (Vec<String>, String)> = HashMap::new();
        let mut pre_names = HashSet::new();
        for declared in declared.active() {
            let requirement = &declared.requirement;
            add_requirement(&mut root_deps, requirement).map_err(|what| {
                DepsError::UnsupportedRequirement {
                    at: declared.origin.clone(),
                    what,
                }
            })?;
            if !declared.hashes.is_empty() {
                let entry = hashes
                    .entry(requirement.name.clone())
                    .or_insert_with(|| (Vec::new(), declared.origin.clone()));
                entry.0.extend(declared.hashes.iter().cloned());
            }
            if let Some(VersionOrUrl::VersionSpecifier(specs)) = &requirement.version_or_url {
                if specs.iter().any(|s| s.any_prerelease()) {
                    pre_names.insert(requirement.name.clone());
                }
            }
        }
        Ok(Self {
            sources,
            root: Node::Root(declared.app_name.clone()),
            root_deps,
            hashes,
            pre_everywhere: declared.sources.pre,
            pre_names,
            listings: RefCell::default(),
            statuses: RefCell::default(),
            edges: RefCell::default(),
            tolerant: Cell::new(false),
            build_sdists: true,
            requested_extras: RefCell::default(),
            import_checked: RefCell::default(),
            sdist_tried: RefCell::default(),
        })
    }

    /// A cheap look at the file names: if a direct requirement has no pure-tagged wheel in
    /// range at all, the strict pass cannot succeed and is skipped.
    fn direct_requirements_have_pure_candidates(&self) -> Result<bool> {
        for (node, range) in &self.root_deps {
            let Node::Base(name) = node else { continue };
            if substitute_for(name.as_ref()).is_some() {
                continue;
            }
            let listing = self.listing(name)?;
            let any_pure = self
                .candidates(name, &listing, range)
                .iter()
                .any(|version| {
                    listing[version]
                        .iter()
                        .any(|f| match WheelFilename::parse(&f.filename) {
                            Some(w) => w.is_pure_tagged() && w.supports_target_python(),
                            None => self.can_build_sdists(),
                        })
                });
            if !any_pure {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn listing(&self, name: &PackageName) -> Result<Rc<Listing>> {
        if let Some(listing) = self.listings.borrow().get(name) {
            return Ok(listing.clone());
        }
        let mut listing = Listing::new();
        let substitute = substitute_for(name.as_ref());
        let files = match substitute {
            // pyedge's own build is the one version there is: the index has nothing to add.
            Some(s) if s.only_version => Vec::new(),
            _ => match self.sources.files(name) {
                // A substitute is never downloaded: a source that does not list it is fine.
                Err(_) if substitute.is_some() => Vec::new(),
                files => files?,
            },
        };
        for file in files {
            let version = match WheelFilename::parse(&file.filename) {
                Some(wheel) if wheel.name == *name => Some(wheel.version),
                Some(_) => None,
                None => sdist_version(&file.filename, name),
            };
            if let Some(version) = version {
                listing.entry(version).or_default().push(file);
            }
        }
        if let (true, Some(substitute)) = (listing.is_empty(), substitute) {
            // No source lists it (offline, --find-links only, a private index), or it is
            // pyedge's build of the package: the version that build reports. It has no
            // files to look at.
            let version = Version::from_str(substitute.version).expect("a valid version");
            listing.insert(version, Vec::new());
        }
        let listing = Rc::new(listing);
        self.listings
            .borrow_mut()
            .insert(name.clone(), listing.clone());
        Ok(listing)
    }

    /// Versions in range, newest first, without yanked versions (unless pinned exactly)
    /// and without pre-releases (unless allowed or nothing else is in range).
    fn candidates(
        &self,
        name: &PackageName,
        listing: &Listing,
        range: &VersionRange,
    ) -> Vec<Version> {
        let pinned = range.as_singleton();
        let in_range: Vec<&Version> = listing
            .iter()
            .rev()
            .filter(|(v, files)| {
                range.contains(*v)
                    && (pinned == Some(*v) || files.is_empty() || files.iter().any(|f| !f.yanked))
            })
            .map(|(v, _)| v)
            .collect();
        let pre_ok = self.pre_everywhere || self.pre_names.contains(name);
        let finals: Vec<Version> = in_range
            .iter()
            .filter(|v| pre_ok || !v.any_prerelease())
            .map(|v| (*v).clone())
            .collect();
        if finals.is_empty() {
            in_range.into_iter().cloned().collect()
        } else {
            finals
        }
    }

    fn status(&self, name: &PackageName, version: &Version) -> Result<Rc<Status>> {
        let key = (name.clone(), version.clone());
        if let Some(status) = self.statuses.borrow().get(&key) {
            return Ok(status.clone());
        }
        let listing = self.listing(name)?;
        let files = listing.get(version).map(Vec::as_slice).unwrap_or(&[]);
        let status = Rc::new(self.evaluate(name, version, files)?);
        self.statuses.borrow_mut().insert(key, status.clone());
        Ok(status)
    }

    /// Decide whether a version is usable: by its file names, then by its pure wheel's
    /// metadata or contents.
    fn evaluate(
        &self,
        name: &PackageName,
        version: &Version,
        files: &[DistFile],
    ) -> Result<Status> {
        if let Some(substitute) = substitute_for(name.as_ref()) {
            return Ok(Status::Substituted(substitute));
        }
        let unyanked: Vec<&DistFile> = files.iter().filter(|f| !f.yanked).collect();
        let files: Vec<&DistFile> = if unyanked.is_empty() {
            files.iter().collect()
        } else {
            unyanked
        };
        let pure: Vec<&DistFile> = files
            .iter()
            .copied()
            .filter(|f| {
                WheelFilename::parse(&f.filename)
                    .is_some_and(|w| w.is_pure_tagged() && w.supports_target_python())
            })
            .collect();
        if pure.is_empty() {
            let rejection = no_pure_wheel(&files);
            return match self.build_from_sdist(name, version, &files)? {
                Some(built) => Ok(built),
                None => Ok(Status::Rejected(rejection)),
            };
        }
        let mut rejection = None;
        for file in pure {
            if let Some(spec) = file
                .requires_python
                .as_deref()
                .filter(|s| !python_supported(s))
            {
                rejection.get_or_insert(Rejection::RequiresPython {
                    specifier: spec.to_string(),
                });
                continue;
            }
            match self.inspect(name, file)? {
                Ok(status) => return Ok(status),
                Err(rejected) => {
                    rejection.get_or_insert(rejected);
                }
            }
        }
        Ok(Status::Rejected(
            rejection.unwrap_or_else(|| no_pure_wheel(&files)),
        ))
    }

    /// Whether versions with only native wheels may be built from their sdists.
    fn can_build_sdists(&self) -> bool {
        #[cfg(feature = "host")]
        {
            self.build_sdists && self.sources.sdist_builder.is_some()
        }
        #[cfg(not(feature = "host"))]
        {
            false
        }
    }

    /// Build a pure wheel from the version's sdist, the first time a version of this
    /// package has no pure wheel; `None` when there is no sdist or it is not tried.
    fn build_from_sdist(
        &self,
        name: &PackageName,
        version: &Version,
        files: &[&DistFile],
    ) -> Result<Option<Status>> {
        let Some(sdist) = files
            .iter()
            .find(|f| WheelFilename::parse(&f.filename).is_none())
        else {
            return Ok(None);
        };
        if !self.can_build_sdists() || !self.sdist_tried.borrow_mut().insert(name.clone()) {
            return Ok(None);
        }
        if let Some(spec) = sdist
            .requires_python
            .as_deref()
            .filter(|s| !python_supported(s))
        {
            return Ok(Some(Status::Rejected(Rejection::RequiresPython {
                specifier: spec.to_string(),
            })));
        }
        self.check_declared_hash(name, &sdist.filename, sdist.sha256.as_deref())?;
        let local = self.sources.fetch(name, sdist)?;
        self.check_declared_hash(name, &sdist.filename, Some(&local.sha256))?;
        #[cfg(feature = "host")]
        {
            let builder = self.sources.sdist_builder.as_ref().expect("checked above");
            let built = match builder.build(name, version, sdist, &local, self.sources)? {
                Ok(built) => built,
                Err(failure) => {
                    let mut wheels: Vec<String> = files
                        .iter()
                        .filter(|f| WheelFilename::parse(&f.filename).is_some())
                        .map(|f| f.filename.clone())
                        .collect();
                    wheels.sort();
                    return Ok(Some(Status::Rejected(Rejection::SdistBuild {
                        sdist: sdist.filename.clone(),
                        wheels,
                        failure,
                    })));
                }
            };
            let parsed = WheelFilename::parse(&built.filename).expect("a wheel name");
            let info = match super::wheel::inspect_wheel(&built.wheel.path, &parsed) {
                Ok(info) => info,
                Err(problem) => {
                    return Ok(Some(Status::Rejected(Rejection::BadArchive {
                        wheel: built.filename.clone(),
                        problem,
                    })))
                }
            };
            let pure = pure_status(
                sdist,
                None,
                info.requires_python.as_deref(),
                &info.requires_dist,
                &info.provides_extra,
            )?;
            Ok(Some(match pure {
                Ok(Status::Pure {
                    requires, extras, ..
                }) => Status::Built {
                    sdist: (*sdist).clone(),
                    built,
                    requires,
                    extras,
                },
                Ok(other) => other,
                Err(rejection) => Status::Rejected(rejection),
            }))
        }
        #[cfg(not(feature = "host"))]
        {
            let _ = (version, local);
            Ok(None)
        }
    }

    /// Look at one pure-tagged wheel: through its metadata file (PEP 658) when the index
    /// has one, which is enough to resolve; else by downloading and classifying it.
    fn inspect(&self, name: &PackageName, file: &DistFile) -> Result<Result<Status, Rejection>> {
        self.check_declared_hash(name, &file.filename, file.sha256.as_deref())?;
        match self.sources.fetch_metadata(name, file)? {
            Some(metadata) => {
                let requires_python = header_values(&metadata, "Requires-Python")
                    .into_iter()
                    .next();
                let requires_dist = header_values(&metadata, "Requires-Dist");
                let provides_extra = header_values(&metadata, "Provides-Extra");
                pure_status(
                    file,
                    None,
                    requires_python.as_deref(),
                    &requires_dist,
                    &provides_extra,
                )
            }
            None => self.inspect_wheel(name, file),
        }
    }

    /// Download (or find in the cache) and classify one pure-tagged wheel.
    fn inspect_wheel(
        &self,
        name: &PackageName,
        file: &DistFile,
    ) -> Result<Result<Status, Rejection>> {
        let wheel = self.sources.fetch(name, file)?;
        self.check_declared_hash(name, &file.filename, Some(&wheel.sha256))?;
        let classified = match classify_wheel(&wheel.path, &file.filename) {
            // A build requirement only runs inside the build sandbox, which can neither
            // load nor start compiled code: setuptools' Windows launchers (`cli-64.exe`)
            // are harmless there. Its tags and Root-Is-Purelib still have to say pure.
            Err(Rejection::NativeCode { .. }) if !self.build_sdists => {
                let parsed = WheelFilename::parse(&file.filename).expect("classified as a wheel");
                super::wheel::inspect_wheel(&wheel.path, &parsed).map_err(|problem| {
                    Rejection::BadArchive {
                        wheel: file.filename.clone(),
                        problem,
                    }
                })
            }
            classified => classified,
        };
        match classified {
            Ok(info) => pure_status(
                file,
                Some(wheel),
                info.requires_python.as_deref(),
                &info.requires_dist,
                &info.provides_extra,
            ),
            Err(rejection) => Ok(Err(rejection)),
        }
    }

    /// Classify the chosen versions that were only seen through their metadata; `false`
    /// when one of them turned out different (rejected, or other dependencies).
    fn verify(&self, solution: &HashMap<Node, Version>) -> Result<bool> {
        let mut unchanged = true;
        let mut chosen: Vec<(&PackageName, &Version)> = solution
            .iter()
            .filter_map(|(node, version)| match node {
                Node::Base(name) => Some((name, version)),
                _ => None,
            })
            .collect();
        chosen.sort();
        for (name, version) in chosen {
            let status = self.status(name, version)?;
            let Status::Pure {
                file,
                wheel: None,
                requires,
                ..
            } = &*status
            else {
                continue;
            };
            let checked = match self.inspect_wheel(name, file)? {
                Ok(checked) => checked,
                Err(rejection) => Status::Rejected(rejection),
            };
            unchanged &= matches!(&checked, Status::Pure { requires: now, .. } if same_requirements(now, requires));
            self.statuses
                .borrow_mut()
                .insert((name.clone(), version.clone()), Rc::new(checked));
        }
        Ok(unchanged)
    }

    /// Import each chosen fallback version (older than one looked at) that declares no
    /// `Requires-Python` in the runtime, beside the other chosen wheels; `false` when one
    /// failed (it is then rejected, and the set must be solved again).
    fn check_fallback_imports(&self, solution: &HashMap<Node, Version>) -> Result<bool> {
        #[cfg(feature = "host")]
        {
            let Some(builder) = self
                .sources
                .sdist_builder
                .as_ref()
                .filter(|_| self.build_sdists)
            else {
                return Ok(true);
            };
            let mut chosen: Vec<(&PackageName, &Version)> = solution
                .iter()
                .filter_map(|(node, version)| match node {
                    Node::Base(name) => Some((name, version)),
                    _ => None,
                })
                .collect();
            chosen.sort();
            let mut wheels = Vec::new();
            for (name, version) in &chosen {
                match &*self.status(name, version)? {
                    Status::Pure {
                        wheel: Some(wheel), ..
                    } => wheels.push(wheel.path.clone()),
                    Status::Built { built, .. } => wheels.push(built.wheel.path.clone()),
                    _ => {}
                }
            }
            let mut unchanged = true;
            for (name, version) in chosen {
                let status = self.status(name, version)?;
                let Status::Pure {
                    file,
                    wheel: Some(wheel),
                    declares_python: false,
                    ..
                } = &*status
                else {
                    continue;
                };
                if !self
                    .import_checked
                    .borrow_mut()
                    .insert((name.clone(), version.clone()))
                    || self.fallback_note(name, version).is_none()
                {
                    continue;
                }
                let others: Vec<&std::path::Path> = wheels
                    .iter()
                    .filter(|p| **p != wheel.path)
                    .map(|p| p.as_path())
                    .collect();
                if let Err((module, detail)) = builder.import_check(&wheel.path, &others)? {
                    let rejected = Status::Rejected(Rejection::DoesNotImport {
                        wheel: file.filename.clone(),
                        module,
                        detail,
                    });
                    self.statuses
                        .borrow_mut()
                        .insert((name.clone(), version.clone()), Rc::new(rejected));
                    unchanged = false;
                }
            }
            Ok(unchanged)
        }
        #[cfg(not(feature = "host"))]
        {
            let _ = solution;
            Ok(true)
        }
    }

    /// Run the solver: strictly (pure versions only) while that can still succeed, else
    /// tolerantly; `strict` is cleared once the strict pass has failed.
    fn solve(&self, strict: &mut bool) -> Result<HashMap<Node, Version>> {
        if *strict {
            self.tolerant.set(false);
            match pubgrub::resolve(self, self.root.clone(), root_version()) {
                Ok(solution) => return Ok(solution.into_iter().collect()),
                Err(PubGrubError::NoSolution(_)) => *strict = false,
                Err(err) => return Err(self.solver_error(err)),
            }
        }
        self.tolerant.set(true);
        pubgrub::resolve(self, self.root.clone(), root_version())
            .map(|solution| solution.into_iter().collect())
            .map_err(|err| self.solver_error(err))
    }

    /// `--hash` in the requirements: the file must have one of the listed digests.
    fn check_declared_hash(
        &self,
        name: &PackageName,
        filename: &str,
        sha256: Option<&str>,
    ) -> Result<()> {
        let (Some((allowed, origin)), Some(sha256)) = (self.hashes.get(name), sha256) else {
            return Ok(());
        };
        if allowed.iter().any(|h| h == sha256) {
            return Ok(());
        }
        Err(DepsError::DeclaredHash {
            filename: filename.to_string(),
            origin: origin.clone(),
            allowed: allowed.join(" or "),
            actual: sha256.to_string(),
        }
        .into())
    }

    /// The newest usable version in range; for an extra, only versions that define it
    /// (a version without the extra would drop it silently).
    fn choose(
        &self,
        name: &PackageName,
        extra: Option<&ExtraName>,
        range: &VersionRange,
    ) -> Result<Option<Version>> {
        let listing = self.listing(name)?;
        if let Some(extra) = extra {
            self.requested_extras
                .borrow_mut()
                .entry(name.clone())
                .or_default()
                .insert(extra.clone());
        }
        let mut fallback: Option<(Version, bool)> = None;
        for version in self.candidates(name, &listing, range) {
            let status = self.status(name, &version)?;
            if extra.is_some_and(|extra| !status.defines_extra(extra)) {
                continue;
            }
            match &*status {
                Status::Pure { .. } | Status::Substituted(_) | Status::Built { .. } => {
                    return Ok(Some(version))
                }
                Status::Rejected(rejection) => {
                    // Last resort: the newest version rejected for purity, else the newest.
                    let better = match &fallback {
                        None => true,
                        Some((_, purity)) => !purity && rejection.is_about_purity(),
                    };
                    if better {
                        fallback = Some((version, rejection.is_about_purity()));
                    }
                }
            }
        }
        Ok(fallback
            .filter(|_| self.tolerant.get())
            .map(|(version, _)| version))
    }

    fn dependencies(&self, node: &Node, version: &Version) -> Result<Result<Constraints, String>> {
        let (name, extra) = match node {
            Node::Root(_) => return Ok(Ok(self.root_deps.clone())),
            Node::Base(name) => (name, None),
            Node::Extra(name, extra) => (name, Some(extra)),
        };
        let mut deps = Vec::new();
        if extra.is_some() {
            deps.push((Node::Base(name.clone()), Ranges::singleton(version.clone())));
        }
        // A rejected version is a leaf: its own dependencies do not matter any more.
        if let Status::Pure { requires, .. } | Status::Built { requires, .. } =
            &*self.status(name, version)?
        {
            for requirement in requires.iter().filter(|r| activated(r, extra)) {
                if requirement.name == *name && requirement.extras.is_empty() {
                    continue;
                }
                if let Err(err) = add_requirement(&mut deps, requirement) {
                    return Ok(Err(format!("{node} {version}: {err}")));
                }
            }
        }
        Ok(Ok(deps))
    }

    /// Build the report from a solution.
    fn outcome(&self, solution: HashMap<Node, Version>) -> Result<Resolution> {
        let chains = self.chains(&solution);
        let mut packages = Vec::new();
        let mut notes = Vec::new();
        for (node, version) in &solution {
            let Node::Base(name) = node else { continue };
            let verdict = match &*self.status(name, version)? {
                Status::Pure {
                    file,
                    wheel: Some(wheel),
                    ..
                } => Verdict::Pure {
                    file: file.clone(),
                    wheel: wheel.clone(),
                },
                Status::Pure { wheel: None, .. } => {
                    anyhow::bail!("{name} {version} was chosen but never verified")
                }
                Status::Rejected(rejection) => Verdict::Rejected(rejection.clone()),
                Status::Substituted(substitute) => Verdict::Substituted(*substitute),
                Status::Built { sdist, built, .. } => Verdict::Built {
                    sdist: sdist.clone(),
                    built: built.clone(),
                },
            };
            if matches!(verdict, Verdict::Pure { .. } | Verdict::Built { .. }) {
                notes.extend(self.fallback_note(name, version));
            }
            let older = match verdict {
                Verdict::Rejected(_) => self.older_versions(name, version),
                _ => None,
            };
            let chain = chains
                .get(node)
                .cloned()
                .unwrap_or_else(|| vec![self.root.to_string(), node.to_string()]);
            packages.push(Outcome {
                name: name.clone(),
                version: version.clone(),
                chain,
                verdict,
                older,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        notes.sort();
        Ok(Resolution { packages, notes })
    }

    /// The shortest chain from the app to each chosen node (breadth first, by name).
    fn chains(&self, solution: &HashMap<Node, Version>) -> HashMap<Node, Vec<String>> {
        let edges = self.edges.borrow();
        let mut chains = HashMap::new();
        chains.insert(self.root.clone(), vec![self.root.to_string()]);
        let mut queue = VecDeque::from([self.root.clone()]);
        while let Some(node) = queue.pop_front() {
            let Some(version) = solution.get(&node) else {
                continue;
            };
            let mut next: Vec<&Node> = edges
                .get(&(node.clone(), version.clone()))
                .map(|deps| {
                    deps.iter()
                        .map(|(n, _)| n)
                        .filter(|n| solution.contains_key(*n))
                        .collect()
                })
                .unwrap_or_default();
            next.sort_by_key(|n| n.to_string());
            for child in next {
                if chains.contains_key(child) {
                    continue;
                }
                let mut chain = chains[&node].clone();
                chain.push(child.to_string());
                chains.insert(child.clone(), chain);
                queue.push_back(child.clone());
            }
        }
        chains
    }

    /// Say so when the chosen version is not the newest one looked at, and why the newer
    /// ones were skipped (runs of versions skipped for the same reason are grouped).
    fn fallback_note(&self, name: &PackageName, chosen: &Version) -> Option<String> {
        let parts = self.skipped(name, |v| v > chosen);
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "{name}: using {chosen}, not the newest version: {}",
            parts.join("; ")
        ))
    }

    /// For a rejected package (its newest version): why each older version looked at was
    /// not taken either, in one line; `None` when no older version was looked at.
    fn older_versions(&self, name: &PackageName, rejected: &Version) -> Option<String> {
        let parts = self.skipped(name, |v| v < rejected);
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The versions of `name` looked at that `which` selects, newest first, grouped by why
    /// they were skipped (at most three groups).
    fn skipped(&self, name: &PackageName, which: impl Fn(&Version) -> bool) -> Vec<String> {
        let statuses = self.statuses.borrow();
        let mut versions: Vec<(&Version, &Status)> = statuses
            .iter()
            .filter(|((n, v), _)| n == name && which(v))
            .map(|((_, v), s)| (v, &**s))
            .collect();
        versions.sort_by_key(|(v, _)| Reverse(*v));
        let mut groups: Vec<(String, Vec<&Version>)> = Vec::new();
        for (version, status) in versions {
            let reason = self.skip_reason(name, version, status);
            match groups.last_mut() {
                Some((last, versions)) if *last == reason => versions.push(version),
                _ => groups.push((reason, vec![version])),
            }
        }
        let mut parts: Vec<String> = groups
            .iter()
            .take(3)
            .map(|(r, vs)| skipped_group(r, vs))
            .collect();
        if groups.len() > 3 {
            parts.push("and older ones for other reasons".to_string());
        }
        parts
    }

    /// Why a newer version was not used, without the version (so runs can be grouped).
    fn skip_reason(&self, name: &PackageName, version: &Version, status: &Status) -> String {
        match status {
            Status::Rejected(rejection @ Rejection::SdistBuild { .. }) => rejection.reason(),
            Status::Rejected(Rejection::PlatformWheels { files }) => {
                super::classify::example_tag(files)
            }
            Status::Rejected(rejection) => rejection.offending(),
            Status::Substituted(substitute) => format!("substituted by the {}", substitute.by),
            Status::Pure { .. } | Status::Built { .. } => {
                let missing: Vec<String> = self
                    .requested_extras
                    .borrow()
                    .get(name)
                    .into_iter()
                    .flatten()
                    .filter(|extra| !status.defines_extra(extra))
                    .map(|extra| format!("[{extra}]"))
                    .collect();
                if !missing.is_empty() {
                    return format!("does not define the extra {}", missing.join(", "));
                }
                self.pure_skip_reason(name, version)
            }
        }
    }

    /// Why a newer usable version was not chosen: a dependency, or a conflict.
    fn pure_skip_reason(&self, name: &PackageName, version: &Version) -> String {
        match self.blockers(name, version) {
            blockers if blockers.is_empty() => "conflicts with the other requirements".to_string(),
            blockers => format!("depends on {}, not pure Python", blockers.join(", ")),
        }
    }

    /// Dependencies of a version that have no pure version in the range it asks for.
    fn blockers(&self, name: &PackageName, version: &Version) -> Vec<String> {
        let edges = self.edges.borrow();
        // The version's own dependencies and those of its extras that were asked for.
        let deps = edges.iter().filter(|((node, v), _)| {
            v == version && matches!(node, Node::Base(n) | Node::Extra(n, _) if n == name)
        });
        let statuses = self.statuses.borrow();
        let mut blockers: Vec<String> = deps
            .flat_map(|(_, deps)| deps.iter())
            .filter_map(|(node, range)| match node {
                Node::Base(dep) if dep != name => Some((dep, range)),
                _ => None,
            })
            .filter(|(dep, range)| {
                let known: Vec<&Status> = statuses
                    .iter()
                    .filter(|((n, v), _)| n == *dep && range.contains(v))
                    .map(|(_, s)| &**s)
                    .collect();
                !known.is_empty() && known.iter().all(|s| matches!(s, Status::Rejected(_)))
            })
            .map(|(dep, _)| dep.to_string())
            .collect();
        blockers.sort();
        blockers.dedup();
        blockers
    }

    fn solver_error(&self, err: PubGrubError<Self>) -> anyhow::Error {
        match err {
            PubGrubError::NoSolution(mut tree) => {
                tree.collapse_no_versions();
                let mut report = DefaultStringReporter::report(&tree);
                if let Some(note) = super::substitute::only_version_note(&report) {
                    report = format!("{report}\n{note}");
                }
                DepsError::Unresolvable {
                    root: self.root.to_string(),
                    report,
                }
                .into()
            }
            PubGrubError::ErrorChoosingVersion { source, .. }
            | PubGrubError::ErrorRetrievingDependencies { source, .. }
            | PubGrubError::ErrorInShouldCancel(source) => source.0,
        }
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Node;
    type V = Version;
    type VS = VersionRange;
    type M = String;
    type Err = ProviderError;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Node,
        range: &VersionRange,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Packages in conflict first, then those with few versions left (PubGrub's advice).
        let count = match package {
            Node::Root(_) => 1,
            Node::Base(name) | Node::Extra(name, _) => self
                .listings
                .borrow()
                .get(name)
                .map(|l| l.keys().filter(|v| range.contains(*v)).count())
                .unwrap_or(usize::MAX),
        };
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Node,
        range: &VersionRange,
    ) -> Result<Option<Version>, ProviderError> {
        match package {
            Node::Root(_) => Ok(Some(root_version()).filter(|v| range.contains(v))),
            Node::Base(name) => self.choose(name, None, range).map_err(ProviderError),
            Node::Extra(name, extra) => {
                self.choose(name, Some(extra), range).map_err(ProviderError)
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, VersionRange, String>, ProviderError> {
        match self.dependencies(package, version).map_err(ProviderError)? {
            Ok(deps) => {
                self.edges
                    .borrow_mut()
                    .insert((package.clone(), version.clone()), deps.clone());
                Ok(Dependencies::Available(DependencyConstraints::from_iter(
                    deps,
                )))
            }
            Err(reason) => Ok(Dependencies::Unavailable(reason)),
        }
    }
}

/// `2.0: tag ...` or `2.14.3 … 2.0.0 (65 versions): depends on ...`.
fn skipped_group(reason: &str, versions: &[&Version]) -> String {
    match versions {
        [one] => format!("{one}: {reason}"),
        [first, .., last] => format!("{first} … {last} ({} versions): {reason}", versions.len()),
        [] => reason.to_string(),
    }
}

/// The status of a pure-tagged wheel from its `Requires-Python` and `Requires-Dist`.
fn pure_status(
    file: &DistFile,
    wheel: Option<LocalWheel>,
    requires_python: Option<&str>,
    requires_dist: &[String],
    provides_extra: &[String],
) -> Result<Result<Status, Rejection>> {
    if let Some(spec) = requires_python.filter(|s| !python_supported(s)) {
        return Ok(Err(Rejection::RequiresPython {
            specifier: spec.to_string(),
        }));
    }
    let requires = requires_dist
        .iter()
        .map(|line| {
            Requirement::from_str(line).map_err(|err| {
                DepsError::RequiresDist {
                    filename: file.filename.clone(),
                    line: line.clone(),
                    detail: err.to_string(),
                }
                .into()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let extras = provides_extra
        .iter()
        .filter_map(|e| ExtraName::from_str(e).ok())
        .collect();
    Ok(Ok(Status::Pure {
        file: file.clone(),
        wheel,
        requires,
        extras,
        declares_python: requires_python.is_some(),
    }))
}

fn same_requirements(a: &[Requirement], b: &[Requirement]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_string() == y.to_string())
}

/// Whether a dependency applies on the target: for a base package with no extra, for an
/// extra node only the requirements that the extra adds.
fn activated(requirement: &Requirement, extra: Option<&ExtraName>) -> bool {
    let env = target_environment();
    let base = requirement.evaluate_markers(env, &[]);
    match extra {
        None => base,
        Some(extra) => !base && requirement.evaluate_markers(env, std::slice::from_ref(extra)),
    }
}

/// Add a requirement's solver packages (base, and one per extra), merging ranges.
fn add_requirement(deps: &mut Constraints, requirement: &Requirement) -> Result<(), String> {
    let range = match &requirement.version_or_url {
        None => Ranges::full(),
        Some(VersionOrUrl::VersionSpecifier(specs)) => Ranges::from(specs.clone()),
        Some(VersionOrUrl::Url(url)) => {
            return Err(format!("`{requirement}` is a direct URL requirement ({url}), which pyedge does not support"));
        }
    };
    let name = &requirement.name;
    let nodes = std::iter::once(Node::Base(name.clone())).chain(
        requirement
            .extras
            .iter()
            .map(|e| Node::Extra(name.clone(), e.clone())),
    );
    for node in nodes {
        match deps.iter_mut().find(|(n, _)| *n == node) {
            Some((_, existing)) => *existing = existing.intersection(&range),
            None => deps.push((node, range.clone())),
        }
    }
    Ok(())
}

/// Whether a `Requires-Python` specifier admits the runtime (an unparsable one does, as
/// pip treats it).
fn python_supported(specifier: &str) -> bool {
    VersionSpecifiers::from_str(specifier).map_or(true, |specs| specs.contains(target_python()))
}

/// The rejection for a version with no pure wheel at all.
fn no_pure_wheel(files: &[&DistFile]) -> Rejection {
    let names = |keep: &dyn Fn(Option<WheelFilename>) -> bool| -> Vec<String> {
        let mut names: Vec<String> = files
            .iter()
            .filter(|f| keep(WheelFilename::parse(&f.filename)))
            .map(|f| f.filename.clone())
            .collect();
        names.sort();
        names
    };
    let platform = names(&|w| w.is_some_and(|w| !w.is_pure_tagged()));
    if !platform.is_empty() {
        return Rejection::PlatformWheels { files: platform };
    }
    let wheels = names(&|w| w.is_some());
    if !wheels.is_empty() {
        return Rejection::NoPython3Wheel { files: wheels };
    }
    Rejection::SdistOnly {
        files: names(&|w| w.is_none()),
    }
}
