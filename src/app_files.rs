//! Which of the app directory's files go into the bundle: the files git would track
//! (`.gitignore` at every level, `.git/info/exclude`, the global excludes, and a
//! `.pyedgeignore` in the same syntax, whether or not the directory is a checkout),
//! without dotfiles, build output, caches and virtualenvs, narrowed by
//! `[tool.pyedge] include`/`exclude`, and then checked by the secret guard
//! ([`crate::secrets`]): the artifact is copied to every edge node, so a credential in it
//! is leaked for good.

use crate::config::AppConfig;
use crate::secrets::{find_secret, SecretFinding};
use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::Path;

/// Directory names never walked: VCS data, caches, virtualenvs, build and coverage
/// output, editor settings. (Any other dot-directory is skipped too, unless an include
/// pattern names dot paths.)
const SKIPPED_DIRS: &[&str] = &[
    "__pycache__",
    "venv",
    "node_modules",
    "target",
    "build",
    "dist",
    "htmlcov",
    "__pypackages__",
];

/// Version-control directories: never walked, whatever the include patterns say.
const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".bzr", ".jj"];

/// File suffixes never bundled: compiled Python and pyedge's own outputs.
const SKIPPED_SUFFIXES: &[&str] = &[".pyc", ".pyo", ".wasm", ".cwasm", ".wasm.tmp"];

/// Files at the app's top level that are pyedge's own build state, not app code.
const SKIPPED_TOP_FILES: &[&str] = &["pyedge.lock"];

/// Custom ignore file, in `.gitignore` syntax, read at every level like `.gitignore`
/// and taking precedence over it (so its `!pattern` lines can bring back an ignored file).
pub const IGNORE_FILE: &str = ".pyedgeignore";

/// The app's files chosen for the bundle.
#[derive(Debug, Clone, Default)]
pub struct AppFiles {
    /// (path relative to the app dir, `/`-separated; contents), sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
    /// Files the default selection would have taken but left out because they look like
    /// credentials (the build says so; `allow-secrets` brings one back).
    pub skipped_secrets: Vec<(String, SecretFinding)>,
}

/// The app's files to bundle.
///
/// A file that looks like a credential is left out of the default selection (and listed
/// in [`AppFiles::skipped_secrets`]); one that an include pattern or the entry names
/// explicitly fails the build with exit 2, every such file listed, unless
/// `[tool.pyedge] allow-secrets` names it.
pub fn select_app_files(app: &AppConfig) -> Result<AppFiles> {
    let include = glob_set(&app.include)?;
    let exclude = glob_set(&app.exclude)?;
    // Patterns that name dot paths (`.well-known/**`): only these select dotfiles; a
    // catch-all like `**/*` does not, so it never picks up `.env` by accident.
    let naming: Vec<String> = app
        .include
        .iter()
        .filter(|p| {
            p.split('/')
                .any(|part| part.starts_with('.') && part != "." && part != "..")
        })
        .cloned()
        .collect();
    let naming_dots = glob_set(&naming)?;
    let walk_dot_dirs = !naming.is_empty();
    let outputs = app.skip_files.clone();

    let mut walker = ignore::WalkBuilder::new(&app.app_dir);
    walker
        .standard_filters(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .parents(true)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| entry.depth() == 0 || !is_skipped_dir(entry, walk_dot_dirs));
    let mut files = Vec::new();
    for entry in walker.build() {
        let entry = entry.with_context(|| format!("cannot walk {}", app.app_dir.display()))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = relative_name(&app.app_dir, entry.path());
        if rel.is_empty()
            || SKIPPED_SUFFIXES.iter().any(|s| rel.ends_with(s))
            || SKIPPED_TOP_FILES.contains(&rel.as_str())
            || outputs.contains(&rel)
            || is_pyedge_output(entry.path(), &rel)
        {
            continue;
        }
        let dotted = rel.split('/').any(|part| part.starts_with('.'));
        if dotted && !naming_dots.is_match(&rel) {
            continue;
        }
        let included = app.include.is_empty() || include.is_match(&rel);
        if included && !exclude.is_match(&rel) {
            files.push(rel);
        }
    }
    // The entry is the app: it ships even when an ignore file or the patterns miss it.
    if !files.contains(&app.entry_path) {
        files.push(app.entry_path.clone());
        files.sort();
    }
    guard_secrets(app, files)
}

/// Whether a file is an output of an earlier build written into the app directory: the
/// function names beside a component (`app.symbols`) or a size picture (`--report-html`),
/// told by their first bytes so an app's own `.html` files still ship.
fn is_pyedge_output(path: &std::path::Path, rel: &str) -> bool {
    let marker: &[u8] = if rel.ends_with(".symbols") {
        crate::symbols::HEADER.as_bytes()
    } else if rel.ends_with(".html") {
        crate::sizemap::GENERATOR.as_bytes()
    } else {
        return false;
    };
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
        .unwrap_or(0);
    head[..read].windows(marker.len()).any(|w| w == marker)
}

/// The secret guard over the selected files; `allow-secrets` names exceptions exactly.
fn guard_secrets(app: &AppConfig, files: Vec<String>) -> Result<AppFiles> {
    let mut selected = AppFiles::default();
    let mut found: Vec<(String, SecretFinding)> = Vec::new();
    for rel in files {
        let path = app.app_dir.join(&rel);
        let data =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let allowed = app.allow_secrets.contains(&rel);
        match find_secret(&rel, &data).filter(|_| !allowed) {
            None => selected.files.push((rel, data)),
            Some(finding) if app.include.is_empty() && rel != app.entry_path => {
                selected.skipped_secrets.push((rel, finding))
            }
            Some(finding) => found.push((rel, finding)),
        }
    }
    if found.is_empty() {
        return Ok(selected);
    }
    Err(AppFilesError::Secrets {
        app_dir: app.app_dir.clone(),
        found,
    }
    .into())
}

/// What can stop the app's files from being selected (all exit 2).
#[derive(Debug, thiserror::Error)]
pub enum AppFilesError {
    /// An include or exclude pattern is not a glob.
    #[error("invalid pattern {pattern:?} in [tool.pyedge]: {detail}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// The glob reader's message.
        detail: String,
    },
    /// Files named by `include` or the entry look like credentials.
    #[error("{}", secrets_message(app_dir, found))]
    Secrets {
        /// The app directory.
        app_dir: std::path::PathBuf,
        /// Each file and the rule it matched.
        found: Vec<(String, SecretFinding)>,
    },
}

fn secrets_message(app_dir: &Path, found: &[(String, SecretFinding)]) -> String {
    let mut message = format!(
        "{} file{} in {} look{} like a credential and would ship in the artifact \
         (named by [tool.pyedge] include or the entry):\n",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        app_dir.display(),
        if found.len() == 1 { "s" } else { "" },
    );
    for (rel, finding) in found {
        message.push_str(&format!("  {rel}: {finding}\n"));
    }
    message.push_str(
        "nothing was written. Keep secrets out of the app directory (or out of \
         [tool.pyedge] include, or list them in .pyedgeignore); if a file is meant to ship, \
         name it in [tool.pyedge] allow-secrets, e.g. allow-secrets = [",
    );
    message.push_str(
        &found
            .iter()
            .map(|(rel, _)| format!("{rel:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    message.push(']');
    message
}

fn is_skipped_dir(entry: &ignore::DirEntry, walk_dot_dirs: bool) -> bool {
    if !entry.file_type().is_some_and(|t| t.is_dir()) {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    if VCS_DIRS.contains(&name.as_ref()) {
        return true;
    }
    (name.starts_with('.') && !walk_dot_dirs)
        || SKIPPED_DIRS.contains(&name.as_ref())
        || name.ends_with(".egg-info")
        || entry.path().join("pyvenv.cfg").is_file()
}

/// `path` relative to `base`, with `/` separators.
pub fn relative_name(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn glob_set(patterns: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|err| AppFilesError::Pattern {
            pattern: pattern.clone(),
            detail: err.to_string(),
        })?;
        builder.add(glob);
    }
    Ok(builder.build()?)
}
