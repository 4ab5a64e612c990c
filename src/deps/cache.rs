//! The local wheel cache: `<cache>/wheels/<name>/<sha256>/<file>.whl`.
//!
//! The cache root is `$PYEDGE_CACHE_DIR`, else `$XDG_CACHE_HOME/pyedge`, else
//! `~/.cache/pyedge`. A wheel is stored under its own sha256 and re-hashed whenever it
//! is used, so a damaged file is noticed and replaced, never installed.

use super::wheel::sha256_file;
use anyhow::{Context, Result};
use pep508_rs::PackageName;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the cache root (tests use it).
pub const CACHE_ENV: &str = "PYEDGE_CACHE_DIR";

/// A wheel on the local disk, with its verified sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalWheel {
    /// Where the file is.
    pub path: PathBuf,
    /// Its sha256, lower-case hex.
    pub sha256: String,
}

/// A pure wheel pyedge built from an sdist (see `deps::sdist`), verified and cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltWheel {
    /// The wheel's file name (`markupsafe-3.0.4-py3-none-any.whl`).
    pub filename: String,
    /// The wheel in the cache, with its sha256.
    pub wheel: LocalWheel,
    /// The sdist's file name.
    pub sdist: String,
    /// The sdist's sha256.
    pub sdist_sha256: String,
}

/// The wheel cache under a cache root.
#[derive(Debug, Clone)]
pub struct WheelCache {
    wheels: PathBuf,
}

impl WheelCache {
    /// The cache under `root`, or under the default root when `None`.
    pub fn new(root: Option<&Path>) -> Self {
        let root = root.map(Path::to_path_buf).unwrap_or_else(default_root);
        Self {
            wheels: root.join("wheels"),
        }
    }

    /// The cache root (the wheels are in its `wheels/`).
    pub fn root(&self) -> &Path {
        self.wheels.parent().unwrap_or(Path::new("."))
    }

    /// The directory holding the wheels (for messages).
    pub fn dir(&self) -> &Path {
        &self.wheels
    }

    fn slot(&self, name: &PackageName, sha256: &str) -> PathBuf {
        self.wheels.join(name.as_ref()).join(sha256)
    }

    /// The cached wheel with this name and sha256, verified; a damaged copy is removed.
    pub fn get(
        &self,
        name: &PackageName,
        filename: &str,
        sha256: &str,
    ) -> Result<Option<LocalWheel>> {
        let path = self.slot(name, sha256).join(filename);
        if !path.is_file() {
            return Ok(None);
        }
        let actual =
            sha256_file(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if actual != sha256 {
            // Damaged on disk: drop it so the caller fetches a good copy.
            eprintln!(
                "warning: the cached wheel {} is damaged (sha256 {actual}, expected {sha256}); \
                 removed, fetching it again",
                path.display()
            );
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some(LocalWheel {
            path,
            sha256: actual,
        }))
    }

    /// Store a wheel's bytes atomically (temp file + rename) under their sha256, with the
    /// URL it came from (so `--offline` runs and lock files can still name it).
    pub fn put(
        &self,
        name: &PackageName,
        filename: &str,
        bytes: &[u8],
        origin: &str,
    ) -> Result<LocalWheel> {
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        let dir = self.slot(name, &sha256);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the wheel cache {}", dir.display()))?;
        let path = dir.join(filename);
        let mut temp = tempfile::NamedTempFile::new_in(&dir)
            .with_context(|| format!("cannot write to the wheel cache {}", dir.display()))?;
        temp.write_all(bytes)
            .and_then(|_| temp.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        temp.persist(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // Best effort: without it the wheel is still usable, just named by its cache path.
        let _ = std::fs::write(dir.join(format!("{filename}.origin")), origin);
        Ok(LocalWheel { path, sha256 })
    }

    /// A cached PEP 658 metadata file for the wheel with this sha256.
    pub fn get_metadata(&self, name: &PackageName, wheel_sha256: &str) -> Option<String> {
        std::fs::read_to_string(self.slot(name, wheel_sha256).join("METADATA")).ok()
    }

    /// Keep a wheel's metadata file (best effort: it can always be fetched again).
    pub fn put_metadata(&self, name: &PackageName, wheel_sha256: &str, text: &str) {
        let dir = self.slot(name, wheel_sha256);
        let Ok(mut temp) =
            std::fs::create_dir_all(&dir).and_then(|_| tempfile::NamedTempFile::new_in(&dir))
        else {
            return;
        };
        if temp.write_all(text.as_bytes()).is_ok() {
            let _ = temp.persist(dir.join("METADATA"));
        }
    }

    /// Every cached wheel (and sdist) of a package.
    pub fn list(&self, name: &PackageName) -> Vec<CachedWheel> {
        let mut out = Vec::new();
        let Ok(slots) = std::fs::read_dir(self.wheels.join(name.as_ref())) else {
            return out;
        };
        for slot in slots.flatten() {
            let sha256 = slot.file_name().to_string_lossy().into_owned();
            let Ok(files) = std::fs::read_dir(slot.path()) else {
                continue;
            };
            for file in files.flatten() {
                let filename = file.file_name().to_string_lossy().into_owned();
                // Sdists too: an offline run builds (or finds the build of) them again.
                if [".whl", ".tar.gz", ".zip"]
                    .iter()
                    .any(|ext| filename.ends_with(ext))
                {
                    let origin =
                        std::fs::read_to_string(slot.path().join(format!("{filename}.origin")))
                            .ok();
                    out.push(CachedWheel {
                        filename,
                        path: file.path(),
                        sha256: sha256.clone(),
                        origin: origin
                            .map(|o| o.trim().to_string())
                            .filter(|o| !o.is_empty()),
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.filename, &a.sha256).cmp(&(&b.filename, &b.sha256)));
        out
    }
}

/// A wheel found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedWheel {
    /// The wheel's file name.
    pub filename: String,
    /// Where it is in the cache.
    pub path: PathBuf,
    /// The sha256 it is stored under (checked again when used).
    pub sha256: String,
    /// The URL it was downloaded from, when recorded.
    pub origin: Option<String>,
}

/// `$PYEDGE_CACHE_DIR`, else `$XDG_CACHE_HOME/pyedge`, else `~/.cache/pyedge`.
pub fn default_root() -> PathBuf {
    let non_empty = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = non_empty(CACHE_ENV) {
        return dir;
    }
    if let Some(xdg) = non_empty("XDG_CACHE_HOME") {
        return xdg.join("pyedge");
    }
    match non_empty("HOME") {
        Some(home) => home.join(".cache").join("pyedge"),
        // No home directory at all (some CI sandboxes): keep the cache next to the work.
        None => PathBuf::from(".pyedge-cache"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn put_get_list_and_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = WheelCache::new(Some(dir.path()));
        let name = PackageName::from_str("Foo_Bar").expect("name");
        let stored = cache
            .put(
                &name,
                "foo_bar-1.0-py3-none-any.whl",
                b"wheel",
                "http://127.0.0.1:1/f.whl",
            )
            .expect("put");
        assert!(stored.path.starts_with(dir.path().join("wheels/foo-bar")));
        let got = cache
            .get(&name, "foo_bar-1.0-py3-none-any.whl", &stored.sha256)
            .expect("get");
        assert_eq!(got, Some(stored.clone()));
        let listed = cache.list(&name);
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].origin.as_deref(),
            Some("http://127.0.0.1:1/f.whl")
        );

        std::fs::write(&stored.path, b"tampered").expect("tamper");
        let got = cache
            .get(&name, "foo_bar-1.0-py3-none-any.whl", &stored.sha256)
            .expect("get");
        assert_eq!(got, None);
        assert!(!stored.path.exists());
    }
}
