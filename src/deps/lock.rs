//! `pyedge.lock`: the exact wheels a build installs (name, version, wheel URL or path,
//! sha256, and the chain of requirements), plus the requirements it was made from so a
//! stale lock is noticed.

use super::requirements::Declared;
use super::DepsError;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The lock file's name, in the app directory.
pub const LOCK_FILE: &str = "pyedge.lock";
/// The format version written and understood.
pub const LOCK_VERSION: u32 = 1;

const HEADER: &str = "# Written by `pyedge lock`: the exact wheels `pyedge build --locked` installs.\n\
                      # Change the requirements and run `pyedge lock` again rather than editing this.\n\n";

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// Format version ([`LOCK_VERSION`]).
    pub version: u32,
    /// The declared requirements it was resolved from (canonical, sorted).
    pub requirements: Vec<String>,
    /// The locked wheels, sorted by name.
    #[serde(default, rename = "package")]
    pub packages: Vec<LockedPackage>,
    /// Requirements pyedge's own build stands in for (no wheel), sorted by name.
    #[serde(default, rename = "substituted", skip_serializing_if = "Vec::is_empty")]
    pub substituted: Vec<LockedSubstitute>,
}

/// A locked requirement that resolved to pyedge's own build (see `deps::substitute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedSubstitute {
    /// Normalized name.
    pub name: String,
    /// The version resolved.
    pub version: String,
    /// How it was pulled in, from the app down.
    pub chain: Vec<String>,
}

/// One locked wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    /// Normalized name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The wheel's file name.
    pub wheel: String,
    /// Where it was downloaded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Or where it lies on disk (relative to the app directory when inside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its sha256, lower-case hex.
    pub sha256: String,
    /// How it was pulled in, from the app down.
    pub chain: Vec<String>,
    /// The sdist pyedge built the wheel pure from (then `url`/`path` are the sdist's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdist: Option<String>,
    /// The sdist's sha256: it is fetched against this one and built again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdist_sha256: Option<String>,
}

/// Read `pyedge.lock` from the app directory; a missing or invalid file exits 5.
pub fn read_lock(app_dir: &Path) -> Result<LockFile> {
    let path = app_dir.join(LOCK_FILE);
    let text = std::fs::read_to_string(&path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => DepsError::LockMissing { path: path.clone() },
        _ => DepsError::LockRead {
            path: path.clone(),
            detail: err.to_string(),
        },
    })?;
    let lock: LockFile = toml::from_str(&text).map_err(|err| DepsError::LockInvalid {
        path: path.clone(),
        detail: err.to_string(),
    })?;
    if lock.version != LOCK_VERSION {
        return Err(DepsError::LockVersion {
            path,
            found: lock.version,
            expected: LOCK_VERSION,
        }
        .into());
    }
    Ok(lock)
}

/// Write `pyedge.lock` atomically (temp file in the same directory, then rename).
pub fn write_lock(app_dir: &Path, lock: &LockFile) -> Result<()> {
    let path = app_dir.join(LOCK_FILE);
    let body = toml::to_string_pretty(lock).context("cannot serialize the lock file")?;
    crate::output::write_atomically(&path, format!("{HEADER}{body}").as_bytes())?;
    Ok(())
}

/// Fail (exit 5) when the lock was made from other requirements than the app declares now.
pub fn check_fresh(lock: &LockFile, declared: &Declared, app_dir: &Path) -> Result<()> {
    let current = declared.fingerprint();
    if lock.requirements == current {
        return Ok(());
    }
    let added: Vec<&String> = current
        .iter()
        .filter(|r| !lock.requirements.contains(r))
        .collect();
    let removed: Vec<&String> = lock
        .requirements
        .iter()
        .filter(|r| !current.contains(r))
        .collect();
    let mut changes = Vec::new();
    if !added.is_empty() {
        changes.push(format!("not in the lock: {}", join_quoted(&added)));
    }
    if !removed.is_empty() {
        changes.push(format!("no longer required: {}", join_quoted(&removed)));
    }
    Err(DepsError::LockStale {
        lock: app_dir.join(LOCK_FILE),
        requirements: declared.file.clone(),
        changes: changes.join("; "),
    }
    .into())
}

fn join_quoted(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = LockFile {
            version: LOCK_VERSION,
            requirements: vec!["pyjwt>=2".into()],
            packages: vec![LockedPackage {
                name: "pyjwt".into(),
                version: "2.10.1".into(),
                wheel: "pyjwt-2.10.1-py3-none-any.whl".into(),
                url: Some("http://127.0.0.1:1/files/pyjwt-2.10.1-py3-none-any.whl".into()),
                path: None,
                sha256: "ab".repeat(32),
                chain: vec!["app".into(), "pyjwt".into()],
                sdist: None,
                sdist_sha256: None,
            }],
            substituted: vec![LockedSubstitute {
                name: "cryptography".into(),
                version: "50.0.2".into(),
                chain: vec!["app".into(), "pyjwt[crypto]".into(), "cryptography".into()],
            }],
        };
        write_lock(dir.path(), &lock).expect("write");
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).expect("read");
        assert!(text.starts_with("# Written by `pyedge lock`"), "{text}");
        assert!(text.contains("[[package]]"), "{text}");
        assert_eq!(read_lock(dir.path()).expect("read"), lock);
    }

    #[test]
    fn missing_lock_exits_5() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_lock(dir.path()).expect_err("missing");
        assert_eq!(crate::error::exit_code_of(&err), Exit::Resolution);
        assert!(err.to_string().contains("run `pyedge lock` first"), "{err}");
    }
}
