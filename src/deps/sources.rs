//! Where distribution files come from: simple indexes, `--find-links` directories and the
//! local wheel cache (the only source besides `--find-links` under `--offline`).

use super::cache::{LocalWheel, WheelCache};
use super::index::{DistFile, HttpClient, Location};
use super::wheel::{sdist_version, sha256_file, WheelFilename};
use super::DepsError;
use anyhow::{Context, Result};
use pep508_rs::PackageName;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The configured sources.
pub struct Sources {
    /// Simple-index URLs, in order; empty with `--no-index`.
    pub indexes: Vec<String>,
    /// Local directories of wheels.
    pub find_links: Vec<PathBuf>,
    /// Never touch the network.
    pub offline: bool,
    /// The wheel cache.
    pub cache: WheelCache,
    /// Builds pure wheels from sdists when a version has only native wheels; `None`
    /// leaves such versions rejected.
    #[cfg(feature = "host")]
    pub sdist_builder: Option<super::sdist::SdistBuilder>,
    http: HttpClient,
}

impl Sources {
    /// Sources over the given indexes, directories and cache.
    pub fn new(
        indexes: Vec<String>,
        find_links: Vec<PathBuf>,
        offline: bool,
        cache: WheelCache,
    ) -> Self {
        Self {
            indexes,
            find_links,
            offline,
            #[cfg(feature = "host")]
            sdist_builder: Some(super::sdist::SdistBuilder::new(cache.root())),
            cache,
            http: HttpClient::new(),
        }
    }

    /// Every file offered for `name`; a package found nowhere is an error (exit 5).
    pub fn files(&self, name: &PackageName) -> Result<Vec<DistFile>> {
        let mut files = Vec::new();
        for dir in &self.find_links {
            files.extend(find_links_files(dir, name)?);
        }
        if self.offline {
            files.extend(self.cached_files(name));
        } else {
            for index in &self.indexes {
                files.extend(self.http.project_files(index, name)?.unwrap_or_default());
            }
        }
        // The first source to offer a file name wins.
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(f.filename.clone()));
        if files.is_empty() {
            return Err(DepsError::NotFound {
                package: name.to_string(),
                detail: self.not_found(name),
            }
            .into());
        }
        Ok(files)
    }

    fn not_found(&self, name: &PackageName) -> String {
        let mut places: Vec<String> = self
            .find_links
            .iter()
            .map(|d| format!("--find-links {}", d.display()))
            .collect();
        if self.offline {
            places.push(format!("the wheel cache {}", self.cache.dir().display()));
            format!(
                "no files for `{name}` in {}; --offline forbids the index (run once without --offline to fill the cache)",
                places.join(", ")
            )
        } else {
            places.extend(self.indexes.iter().map(|i| format!("the index {i}")));
            if places.is_empty() {
                places.push("no source (--no-index without --find-links)".to_string());
            }
            format!("no package named `{name}` in {}", places.join(", "))
        }
    }

    fn cached_files(&self, name: &PackageName) -> Vec<DistFile> {
        self.cache
            .list(name)
            .into_iter()
            .map(|cached| DistFile {
                filename: cached.filename,
                // The original URL keeps lock files portable; `fetch` finds it in the cache.
                location: cached
                    .origin
                    .map(Location::Url)
                    .unwrap_or(Location::Path(cached.path)),
                sha256: Some(cached.sha256),
                requires_python: None,
                yanked: false,
                core_metadata: None,
            })
            .collect()
    }

    /// The wheel's METADATA from the index's PEP 658 file (cached on disk by the wheel's
    /// sha256); `None` when there is none, when offline, or when it fails its hash, in
    /// which case the caller reads the wheel itself.
    pub fn fetch_metadata(&self, name: &PackageName, file: &DistFile) -> Result<Option<String>> {
        let (Some(metadata), Location::Url(url)) = (&file.core_metadata, &file.location) else {
            return Ok(None);
        };
        if let Some(text) = file
            .sha256
            .as_deref()
            .and_then(|sha| self.cache.get_metadata(name, sha))
        {
            return Ok(Some(text));
        }
        if self.offline || !url.starts_with("http") {
            return Ok(None);
        }
        let Some(bytes) = self.http.download_optional(&format!("{url}.metadata"))? else {
            return Ok(None);
        };
        let actual = hex::encode(sha2::Sha256::digest(&bytes));
        if metadata
            .sha256
            .as_deref()
            .is_some_and(|expected| expected != actual)
        {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(sha) = &file.sha256 {
            self.cache.put_metadata(name, sha, &text);
        }
        Ok(Some(text))
    }

    /// A local, sha256-verified copy of `file`: from disk, the cache, or a download that
    /// is then cached. A digest that differs from the promised one is an error (exit 5).
    pub fn fetch(&self, name: &PackageName, file: &DistFile) -> Result<LocalWheel> {
        self.fetch_promised(name, file, "the index")
    }

    /// [`Sources::fetch`], naming who promised `file.sha256` in a mismatch error.
    pub fn fetch_promised(
        &self,
        name: &PackageName,
        file: &DistFile,
        promised_by: &str,
    ) -> Result<LocalWheel> {
        let url = match &file.location {
            Location::Path(path) => return local_file(path, file, promised_by),
            Location::Url(url) => url,
        };
        if let Some(path) = url::Url::parse(url)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
        {
            return local_file(&path, file, promised_by);
        }
        if let Some(expected) = &file.sha256 {
            if let Some(hit) = self.cache.get(name, &file.filename, expected)? {
                return Ok(hit);
            }
        }
        if self.offline {
            return Err(DepsError::NotCached {
                filename: file.filename.clone(),
                cache: self.cache.dir().to_path_buf(),
                url: url.to_string(),
            }
            .into());
        }
        let bytes = self.http.download(url)?;
        let actual = hex::encode(sha2::Sha256::digest(&bytes));
        if let Some(expected) = file.sha256.as_deref().filter(|e| *e != actual) {
            return Err(hash_mismatch(
                &file.filename,
                url,
                promised_by,
                expected,
                &actual,
            ));
        }
        self.cache.put(name, &file.filename, &bytes, url)
    }
}

fn local_file(path: &Path, file: &DistFile, promised_by: &str) -> Result<LocalWheel> {
    let actual = sha256_file(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(expected) = file.sha256.as_deref().filter(|e| *e != actual) {
        let shown = path.display().to_string();
        return Err(hash_mismatch(
            &file.filename,
            &shown,
            promised_by,
            expected,
            &actual,
        ));
    }
    Ok(LocalWheel {
        path: path.to_path_buf(),
        sha256: actual,
    })
}

/// The error for content that does not match a promised sha256 (exit 5).
pub fn hash_mismatch(
    filename: &str,
    from: &str,
    promised_by: &str,
    expected: &str,
    actual: &str,
) -> anyhow::Error {
    DepsError::HashMismatch {
        filename: filename.to_string(),
        from: from.to_string(),
        promised_by: promised_by.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
    .into()
}

/// Wheels and sdists of `name` in a `--find-links` directory (not recursive).
pub fn find_links_files(dir: &Path, name: &PackageName) -> Result<Vec<DistFile>> {
    let entries = std::fs::read_dir(dir).map_err(|err| DepsError::FindLinks {
        dir: dir.to_path_buf(),
        detail: err.to_string(),
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let filename = entry.file_name().to_string_lossy().into_owned();
        let matches = match WheelFilename::parse(&filename) {
            Some(wheel) => wheel.name == *name,
            None => sdist_version(&filename, name).is_some(),
        };
        if matches {
            files.push(DistFile {
                filename,
                location: Location::Path(entry.path()),
                sha256: None,
                requires_python: None,
                yanked: false,
                core_metadata: None,
            });
        }
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}
