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
        }
    }

    /// Whether the reason is about compiled code or packaging, not the Python version.
    pub fn is_about_purity(&self) -> bool {
        !matches!(self, Self::RequiresPython { .. })
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
        }
    }

    /// What the user can do about it, given the chain that pulled the package in.
    pub fn hint(&self, name: &str, version: &str, chain: &[String]) -> String {
        let drop = drop_advice(chain);
        match self {
            Self::SdistOnly { .. } => format!(
                "if {name} is pure Python, build its wheel (`pip wheel --no-deps {name}=={version}`) \
                 and pass that directory with --find-links; otherwise choose a pure-Python \
                 alternative{drop}"
            ),
            Self::RequiresPython { .. } => {
                format!("pin a version of {name} that supports Python 3.13{drop}")
            }
            Self::NativeCode { .. } | Self::NotPurelib { .. } | Self::BadArchive { .. } => {
                format!("pin another version of {name}, or choose a pure-Python alternative{drop}")
            }
            Self::PlatformWheels { .. } | Self::NoPython3Wheel { .. } => {
                format!("choose a pure-Python alternative{drop}")
            }
        }
    }
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

/// `tag cp39-abi3-manylinux_2_28_x86_64 (cryptography-...whl) and 12 more`.
fn offending_tags(files: &[String]) -> String {
    let Some(first) = files.first() else {
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
}
