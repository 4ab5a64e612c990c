//! Pure or rejected: whether a package version can run on wasm32-wasi.
//!
//! A wheel is pure only if its tags are `*-none-any`, its `WHEEL` says
//! `Root-Is-Purelib: true`, and no entry is compiled code — by name (`.so`, `.pyd`,
//! `.dylib`, `.dll`) or by content (ELF, Mach-O, PE headers), because mis-tagged wheels exist.

use super::markers::PYTHON_FULL_VERSION;
use super::wheel::{inspect_wheel, ArchiveProblem, WheelFilename, WheelInfo};
use std::path::Path;

/// Why a package version cannot be used on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
// Each variant's doc says what its fields hold.
#[allow(missing_docs)]
pub enum Rejection {
    /// Only platform-specific wheels (compiled code for other machines).
    PlatformWheels { files: Vec<String> },
    /// No wheel at all, only source distributions.
    SdistOnly { files: Vec<String> },
    /// Pure wheels exist, but none for Python 3.
    NoPython3Wheel { files: Vec<String> },
    /// `Requires-Python` excludes the runtime's Python.
    RequiresPython { specifier: String },
    /// Tagged pure but holds compiled code.
    NativeCode { wheel: String, files: Vec<String> },
    /// `Root-Is-Purelib` is not `true`.
    NotPurelib { wheel: String },
    /// The archive is unsafe or unreadable.
    BadArchive {
        /// The wheel's file name.
        wheel: String,
        /// What is wrong with its archive.
        problem: ArchiveProblem,
    },
    /// An older version chosen as a fallback declares no `Requires-Python` and does not
    /// import on the runtime.
    DoesNotImport {
        /// The wheel's file name.
        wheel: String,
        /// The module whose import failed.
        module: String,
        /// The exception.
        detail: String,
    },
    /// Only native wheels, and no pure wheel could be built from the sdist.
    SdistBuild {
        /// The sdist's file name.
        sdist: String,
        /// The version's platform-specific wheels (none for an sdist-only version).
        wheels: Vec<String>,
        /// Why its build gave no pure wheel.
        failure: SdistFailure,
    },
}

/// Why an sdist did not give a pure wheel (see `deps::sdist`).
#[derive(Debug, Clone, PartialEq, Eq)]
// Each variant's doc says what its fields hold.
#[allow(missing_docs)]
pub enum SdistFailure {
    /// The build tried to compile its C extension and could not do without it.
    ExtensionRequired { detail: String },
    /// A build backend that compiles code (meson-python, maturin, scikit-build).
    Backend { backend: String },
    /// A build requirement has no pure wheel in the sources.
    BuildRequirement { detail: String },
    /// The backend failed for another reason.
    Failed { detail: String },
    /// A public top-level module of the wheel does not import in the runtime.
    Import { module: String, detail: String },
    /// The sdist or the wheel it gave is malformed or unsafe.
    Invalid { detail: String },
}

impl std::fmt::Display for SdistFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ExtensionRequired { detail } => write!(
                f,
                "its C extension is required: the pure build from its sdist in pyedge's WASI \
                 runtime tried to compile it ({detail})"
            ),
            Self::Backend { backend } => write!(
                f,
                "its sdist is built with {backend}, which compiles code and cannot make a pure wheel"
            ),
            Self::BuildRequirement { detail } => write!(
                f,
                "its sdist cannot be built: a build requirement is not available as a pure \
                 wheel ({detail})"
            ),
            Self::Failed { detail } => write!(
                f,
                "the pure build from its sdist in pyedge's WASI runtime failed ({detail})"
            ),
            Self::Import { module, detail } => write!(
                f,
                "the wheel built pure from its sdist does not import in the WASI runtime \
                 (`import {module}`: {detail})"
            ),
            Self::Invalid { detail } => write!(f, "its sdist cannot be built: {detail}"),
        }
    }
}

impl Rejection {
    /// A short machine-readable name for the reason (used in `--json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PlatformWheels { .. } => "platform-wheels-only",
            Self::SdistOnly { .. } => "sdist-only",
            Self::NoPython3Wheel { .. } => "no-python3-wheel",
            Self::RequiresPython { .. } => "requires-python",
            Self::NativeCode { .. } => "native-code-inside",
            Self::NotPurelib { .. } => "not-purelib",
            Self::BadArchive { .. } => "bad-archive",
            Self::DoesNotImport { .. } => "does-not-import",
            Self::SdistBuild { failure, .. } => match failure {
                SdistFailure::ExtensionRequired { .. } => "extension-required",
                SdistFailure::Backend { .. } => "unsupported-build-backend",
                SdistFailure::BuildRequirement { .. } => "build-requirement-not-pure",
                SdistFailure::Failed { .. } => "sdist-build-failed",
                SdistFailure::Import { .. } => "built-wheel-does-not-import",
                SdistFailure::Invalid { .. } => "bad-sdist",
            },
        }
    }

    /// Whether the reason is about compiled code or packaging, not the Python version.
    pub fn is_about_purity(&self) -> bool {
        !matches!(
            self,
            Self::RequiresPython { .. } | Self::DoesNotImport { .. }
        )
    }

    /// One sentence saying why.
    pub fn reason(&self) -> String {
        match self {
            Self::PlatformWheels { .. } => "only platform-specific wheels (compiled code); \
                 wasm32-wasi runs only pure-Python code"
                .to_string(),
            Self::SdistOnly { .. } => "no wheel, only a source distribution (sdist-only); \
                 pyedge installs wheels and cannot compile code for wasm32-wasi"
                .to_string(),
            Self::NoPython3Wheel { .. } => "its only pure wheels are for Python 2".to_string(),
            Self::RequiresPython { specifier } => format!(
                "it requires Python {specifier}; the runtime is Python {PYTHON_FULL_VERSION}"
            ),
            Self::NativeCode { wheel, .. } => {
                format!("{wheel} is tagged pure but contains compiled code")
            }
            Self::NotPurelib { wheel } => format!(
                "{wheel} says Root-Is-Purelib: false (it installs as platform-specific code)"
            ),
            Self::BadArchive { wheel, problem } => format!("{wheel}: {problem}"),
            Self::DoesNotImport {
                wheel,
                module,
                detail,
            } => format!(
                "{wheel} declares no Requires-Python and `import {module}` fails on the \
                 runtime's Python {PYTHON_FULL_VERSION} ({detail})"
            ),
            Self::SdistBuild {
                wheels, failure, ..
            } if wheels.is_empty() => {
                format!("no wheel, only a source distribution (sdist-only), and {failure}")
            }
            Self::SdistBuild { failure, .. } => {
                format!("only platform-specific wheels (compiled code), and {failure}")
            }
        }
    }

    /// The offending tag or file.
    pub fn offending(&self) -> String {
        match self {
            Self::PlatformWheels { files } | Self::NoPython3Wheel { files } => {
                offending_tags(files)
            }
            Self::SdistOnly { files } => format!("file {}", list_some(files)),
            Self::RequiresPython { specifier } => format!("Requires-Python: {specifier}"),
            Self::NativeCode { files, .. } => format!("file {}", list_some(files)),
            Self::NotPurelib { wheel } => format!("{wheel}: WHEEL has Root-Is-Purelib: false"),
            Self::BadArchive { wheel, .. } => format!("file {wheel}"),
            Self::SdistBuild { sdist, wheels, .. } if wheels.is_empty() => format!("file {sdist}"),
            Self::SdistBuild { sdist, wheels, .. } => {
                format!("{}; file {sdist}", offending_tags(wheels))
            }
            Self::DoesNotImport { module, .. } => format!("import {module} fails"),
        }
    }

    /// What the user can do about it, given the chain that pulled the package in.
    pub fn hint(&self, name: &str, version: &str, chain: &[String]) -> String {
        let drop = drop_advice(chain);
        let sdist_only = || {
            format!(
                "if {name} is pure Python, build its wheel (`pip wheel --no-deps {name}=={version}`) \
                 and pass that directory with --find-links; otherwise choose a pure-Python \
                 alternative{drop}"
            )
        };
        if let Some(advice) = known_alternative(name) {
            return format!("{advice}{drop}");
        }
        match self {
            Self::SdistOnly { .. } => sdist_only(),
            Self::SdistBuild { wheels, .. } if wheels.is_empty() => sdist_only(),
            Self::RequiresPython { .. } | Self::DoesNotImport { .. } => {
                format!("pin a version of {name} that supports Python 3.13{drop}")
            }
            Self::NativeCode { .. } | Self::NotPurelib { .. } | Self::BadArchive { .. } => {
                format!("pin another version of {name}, or choose a pure-Python alternative{drop}")
            }
            Self::PlatformWheels { .. } | Self::NoPython3Wheel { .. } | Self::SdistBuild { .. } => {
                format!("choose a pure-Python alternative{drop}")
            }
        }
    }
}

/// What to use instead of a compiled package that people commonly pull in without
/// knowing, where a pure way exists (the hint then says it before the generic advice).
fn known_alternative(name: &str) -> Option<&'static str> {
    Some(match name {
        "pydantic-core" => {
            "pydantic v2's compiled core has no WASI build; pydantic v1 is pure Python: \
             require `pydantic>=1.10,<2` (FastAPI 0.125.0 is the newest that accepts it)"
        }
        "orjson" | "ujson" => "use the standard library's `json` module",
        "uvloop" => "leave it out: pyedge runs asyncio on its own loop",
        _ => return None,
    })
}

/// ", or drop the extra `pyjwt[crypto]`" / ", or drop `x`, which pulls it in" / "".
fn drop_advice(chain: &[String]) -> String {
    // chain[0] is the app and the last element is the package itself.
    let between = chain.get(1..chain.len().saturating_sub(1)).unwrap_or(&[]);
    if let Some(extra) = between.iter().find(|link| link.contains('[')) {
        return format!(" or drop the extra that pulls it in (`{extra}`)");
    }
    match between.first() {
        Some(direct) => format!(" or drop `{direct}`, which pulls it in"),
        None if chain.len() >= 2 => " or drop it from the requirements".to_string(),
        None => String::new(),
    }
}

/// `tag cp313-cp313-manylinux_2_17_x86_64`: the tag of [`example_wheel`], alone (the
/// same text for every version with such wheels, so versions can be grouped by it).
pub fn example_tag(files: &[String]) -> String {
    match example_wheel(files) {
        Some(file) => format!(
            "tag {}",
            WheelFilename::parse(file).map_or_else(|| file.clone(), |w| w.tag())
        ),
        None => "no files".to_string(),
    }
}

/// The wheel to show for a set of platform wheels: one for the runtime's own Python
/// (cp313) when there is one, else the first.
fn example_wheel(files: &[String]) -> Option<&String> {
    let for_runtime = |file: &&String| {
        WheelFilename::parse(file).is_some_and(|w| {
            w.python.iter().any(|t| t == "cp313") && w.abi.iter().any(|a| a == "cp313")
        })
    };
    files.iter().find(for_runtime).or(files.first())
}

/// `tag cp313-cp313-manylinux_2_17_x86_64 (markupsafe-...whl) and 12 more`: the example
/// is a wheel for the runtime's own Python (cp313) when there is one, else the first.
fn offending_tags(files: &[String]) -> String {
    let Some(first) = example_wheel(files) else {
        return "no files".to_string();
    };
    let tag = WheelFilename::parse(first)
        .map(|w| w.tag())
        .unwrap_or_else(|| first.clone());
    let more = match files.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    format!("tag {tag} ({first}){more}")
}

fn list_some(files: &[String]) -> String {
    match files {
        [] => "(none)".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    }
}

/// Classify a downloaded wheel: `Ok` with its metadata when pure, else the rejection.
pub fn classify_wheel(path: &Path, filename: &str) -> Result<WheelInfo, Rejection> {
    let bad = |problem| Rejection::BadArchive {
        wheel: filename.to_string(),
        problem,
    };
    let parsed = WheelFilename::parse(filename).ok_or_else(|| {
        bad(ArchiveProblem::Corrupt {
            detail: "not a wheel file name".to_string(),
        })
    })?;
    if !parsed.is_pure_tagged() {
        return Err(Rejection::PlatformWheels {
            files: vec![filename.to_string()],
        });
    }
    let info = inspect_wheel(path, &parsed).map_err(bad)?;
    if !info.root_is_purelib {
        return Err(Rejection::NotPurelib {
            wheel: filename.to_string(),
        });
    }
    if !info.native_files.is_empty() {
        return Err(Rejection::NativeCode {
            wheel: filename.to_string(),
            files: info.native_files.clone(),
        });
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(links: &[&str]) -> Vec<String> {
        links.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hints_name_the_extra_or_the_parent() {
        let r = Rejection::PlatformWheels {
            files: vec!["cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl".into()],
        };
        let hint = r.hint(
            "cryptography",
            "44.0.0",
            &chain(&["app", "pyjwt[crypto]", "cryptography"]),
        );
        assert!(
            hint.contains("drop the extra that pulls it in (`pyjwt[crypto]`)"),
            "{hint}"
        );
        let hint = r.hint("numpy", "2.0", &chain(&["app", "pandas", "numpy"]));
        assert!(hint.contains("drop `pandas`"), "{hint}");
        let hint = r.hint("numpy", "2.0", &chain(&["app", "numpy"]));
        assert!(hint.contains("drop it from the requirements"), "{hint}");
        assert_eq!(
            r.offending(),
            "tag cp39-abi3-manylinux_2_28_x86_64 (cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl)"
        );
    }

    #[test]
    fn the_example_tag_is_for_cp313_when_there_is_one() {
        let r = Rejection::PlatformWheels {
            files: vec![
                "markupsafe-3.0.4-cp310-cp310-macosx_10_9_x86_64.whl".into(),
                "markupsafe-3.0.4-cp313-cp313t-musllinux_1_2_x86_64.whl".into(),
                "markupsafe-3.0.4-cp313-cp313-manylinux_2_17_x86_64.whl".into(),
                "markupsafe-3.0.4-cp314-cp314-win_amd64.whl".into(),
            ],
        };
        assert_eq!(
            r.offending(),
            "tag cp313-cp313-manylinux_2_17_x86_64 \
             (markupsafe-3.0.4-cp313-cp313-manylinux_2_17_x86_64.whl) and 3 more"
        );
        let r = Rejection::PlatformWheels {
            files: vec!["orjson-3.0-cp39-abi3-win_amd64.whl".into()],
        };
        assert_eq!(
            r.offending(),
            "tag cp39-abi3-win_amd64 (orjson-3.0-cp39-abi3-win_amd64.whl)"
        );
    }
}
