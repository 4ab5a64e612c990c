//! The target environment that PEP 508 markers are evaluated against: the embedded
//! CPython 3.13 runtime on wasm32-wasi. This is the one place these values live.
//!
//! Where the values come from (CPython 3.13 on wasi-libc):
//! - `sys.platform` is `"wasi"` and `os.name` is `"posix"`.
//! - wasi-libc's `uname()` fills in fixed placeholders: sysname `"wasi"`, release and
//!   version `"0.0.0"`, machine `"wasm32"`. `platform.system()`, `platform.release()`,
//!   `platform.version()` and `platform.machine()` return those unchanged, so
//!   `platform_system` is `"wasi"` (lower case, unlike `"Linux"` or `"Darwin"`).
//! - The patch version follows the runtime build (`runtime-assets/`); update
//!   [`PYTHON_FULL_VERSION`] when the pinned CPython changes.
//!
//! These were checked by running [`MARKER_PROBE`] inside the built runtime (the recorded
//! output is a unit test below); a build-pipeline test can run it again with
//! [`mismatches`] so a runtime change cannot drift from these constants unnoticed.

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use std::sync::OnceLock;

/// `python_full_version` / `implementation_version` of the embedded runtime.
pub const PYTHON_FULL_VERSION: &str = "3.13.5";
/// `python_version`: major.minor of the embedded runtime.
pub const PYTHON_VERSION: &str = "3.13";
/// `sys_platform` (`sys.platform`).
pub const SYS_PLATFORM: &str = "wasi";
/// `os_name` (`os.name`).
pub const OS_NAME: &str = "posix";
/// `platform_machine` (`platform.machine()`, wasi-libc's `uname().machine`).
pub const PLATFORM_MACHINE: &str = "wasm32";
/// `platform_system` (`platform.system()`, wasi-libc's `uname().sysname`).
pub const PLATFORM_SYSTEM: &str = "wasi";
/// `platform_release` and `platform_version` (wasi-libc's placeholder strings).
pub const PLATFORM_RELEASE: &str = "0.0.0";
/// `platform_version` (wasi-libc's placeholder string).
pub const PLATFORM_VERSION: &str = "0.0.0";
/// `implementation_name` (`sys.implementation.name`).
pub const IMPLEMENTATION_NAME: &str = "cpython";
/// `platform_python_implementation` (`platform.python_implementation()`).
pub const PLATFORM_PYTHON_IMPLEMENTATION: &str = "CPython";

/// The marker environment of the embedded runtime.
pub fn target_environment() -> &'static MarkerEnvironment {
    static ENV: OnceLock<MarkerEnvironment> = OnceLock::new();
    ENV.get_or_init(|| {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: IMPLEMENTATION_NAME,
            implementation_version: PYTHON_FULL_VERSION,
            os_name: OS_NAME,
            platform_machine: PLATFORM_MACHINE,
            platform_python_implementation: PLATFORM_PYTHON_IMPLEMENTATION,
            platform_release: PLATFORM_RELEASE,
            platform_system: PLATFORM_SYSTEM,
            platform_version: PLATFORM_VERSION,
            python_full_version: PYTHON_FULL_VERSION,
            python_version: PYTHON_VERSION,
            sys_platform: SYS_PLATFORM,
        })
        // The inputs are the constants above; a parse failure is a bug in this file.
        .expect("the target marker constants are valid versions")
    })
}

/// The runtime's Python version, for `Requires-Python` checks.
pub fn target_python() -> &'static Version {
    static VERSION: OnceLock<Version> = OnceLock::new();
    VERSION.get_or_init(|| {
        PYTHON_FULL_VERSION
            .parse()
            .expect("PYTHON_FULL_VERSION is a valid version")
    })
}

/// Python that prints the runtime's real marker values as one JSON object; run it inside
/// the built runtime and pass its output to [`mismatches`] to check the constants above.
pub const MARKER_PROBE: &str = r#"import json, os, platform, sys
impl = sys.implementation
print(json.dumps({
    "implementation_name": impl.name,
    "implementation_version": "{0.major}.{0.minor}.{0.micro}".format(impl.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"#;

/// The marker values this module assumes, by PEP 508 name.
pub fn assumed_values() -> [(&'static str, &'static str); 11] {
    [
        ("implementation_name", IMPLEMENTATION_NAME),
        ("implementation_version", PYTHON_FULL_VERSION),
        ("os_name", OS_NAME),
        ("platform_machine", PLATFORM_MACHINE),
        (
            "platform_python_implementation",
            PLATFORM_PYTHON_IMPLEMENTATION,
        ),
        ("platform_release", PLATFORM_RELEASE),
        ("platform_system", PLATFORM_SYSTEM),
        ("platform_version", PLATFORM_VERSION),
        ("python_full_version", PYTHON_FULL_VERSION),
        ("python_version", PYTHON_VERSION),
        ("sys_platform", SYS_PLATFORM),
    ]
}

/// Differences between [`MARKER_PROBE`]'s output and the constants, one line each
/// (`platform_system: runtime says "X", pyedge assumes "wasi"`); empty when they agree.
pub fn mismatches(probe_output: &str) -> Vec<String> {
    let real: serde_json::Value = match serde_json::from_str(probe_output.trim()) {
        Ok(value) => value,
        Err(err) => return vec![format!("probe output is not JSON: {err}")],
    };
    assumed_values()
        .iter()
        .filter_map(|(key, assumed)| {
            let actual = real
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or("<missing>");
            (actual != *assumed)
                .then(|| format!("{key}: runtime says {actual:?}, pyedge assumes {assumed:?}"))
        })
        .collect()
}

/// A one-line description of the target, for reports.
pub fn target_description() -> String {
    format!("CPython {PYTHON_FULL_VERSION} on {PLATFORM_MACHINE}-{SYS_PLATFORM} (pure-Python wheels only)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::{MarkerTree, Requirement};
    use std::str::FromStr;

    fn applies(marker: &str) -> bool {
        let tree = MarkerTree::from_str(marker).expect("valid marker");
        tree.evaluate(target_environment(), &[])
    }

    #[test]
    fn wasi_markers_evaluate_like_the_runtime() {
        assert!(applies(r#"sys_platform == "wasi""#));
        assert!(!applies(r#"sys_platform != "wasi""#));
        assert!(!applies(r#"sys_platform == "linux""#));
        assert!(applies(r#"os_name == "posix""#));
        assert!(applies(r#"platform_machine == "wasm32""#));
        assert!(!applies(r#"platform_machine == "x86_64""#));
        assert!(applies(r#"platform_system != "Windows""#));
        assert!(applies(r#"implementation_name == "cpython""#));
        assert!(applies(r#"platform_python_implementation == "CPython""#));
        assert!(applies(r#"python_version >= "3.8""#));
        assert!(!applies(r#"python_version < "3.13""#));
        assert!(applies(r#"python_full_version >= "3.13.0""#));
    }

    #[test]
    fn requirement_markers_use_the_target() {
        let req = Requirement::<pep508_rs::VerbatimUrl>::from_str(
            r#"uvloop>=0.17; sys_platform != "win32" and sys_platform != "wasi""#,
        )
        .expect("valid requirement");
        assert!(!req.evaluate_markers(target_environment(), &[]));
    }

    /// [`MARKER_PROBE`]'s output from the runtime built by `runtime-assets/` (CPython 3.13.5
    /// for wasm32-wasi, run under Wasmtime).
    const RECORDED_FROM_RUNTIME: &str = r#"{"implementation_name": "cpython", "implementation_version": "3.13.5", "os_name": "posix", "platform_machine": "wasm32", "platform_python_implementation": "CPython", "platform_release": "0.0.0", "platform_system": "wasi", "platform_version": "0.0.0", "python_full_version": "3.13.5", "python_version": "3.13", "sys_platform": "wasi"}"#;

    #[test]
    fn constants_match_the_built_runtime() {
        assert_eq!(mismatches(RECORDED_FROM_RUNTIME), Vec::<String>::new());
    }

    #[test]
    fn probe_output_is_compared_key_by_key() {
        let mut agreeing = serde_json::Map::new();
        for (key, value) in assumed_values() {
            agreeing.insert(key.to_string(), value.into());
        }
        let json = serde_json::Value::Object(agreeing.clone()).to_string();
        assert!(mismatches(&json).is_empty());
        agreeing.insert("platform_system".into(), "WASI".into());
        let json = serde_json::Value::Object(agreeing).to_string();
        assert_eq!(
            mismatches(&json),
            ["platform_system: runtime says \"WASI\", pyedge assumes \"wasi\""]
        );
    }

    #[test]
    fn target_python_is_313() {
        assert_eq!(target_python().release()[..2], [3, 13]);
    }
}
