//! `pyedge check-deps` and `pyedge lock`: arguments → [`DepsOptions`] →
//! [`check_deps`]/[`lock_deps`] → the table or JSON.

use super::Printer;
use crate::deps::{check_deps, lock, lock_deps, report, DepsOptions, DepsReport};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

/// Where dependencies come from; shared by `check-deps`, `lock` and `build`.
#[derive(Args, Debug, Clone, Default)]
pub struct DepsSourceArgs {
    /// Simple index (PEP 503/691) to use instead of the public Python package index
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Directory of wheels searched before the index (repeatable)
    #[arg(long, value_name = "DIR")]
    pub find_links: Vec<PathBuf>,
    /// Use only --find-links and the local wheel cache; never the network
    #[arg(long)]
    pub offline: bool,
    /// Include an optional-dependency group from pyproject.toml (repeatable)
    #[arg(long, value_name = "NAME")]
    pub extra: Vec<String>,
}

impl DepsSourceArgs {
    /// The options for an app directory.
    pub fn options(&self, app_dir: &Path, locked: bool) -> DepsOptions {
        DepsOptions {
            app_dir: app_dir.to_path_buf(),
            index_url: self.index_url.clone(),
            find_links: self.find_links.clone(),
            offline: self.offline,
            extras: self.extra.clone(),
            locked,
            cache_dir: None,
            project: None,
        }
    }
}

/// `pyedge check-deps [APP_DIR]`: resolve and classify without building.
#[derive(Args, Debug, Clone)]
pub struct CheckDepsArgs {
    /// The app directory
    #[arg(value_name = "APP_DIR", default_value = ".")]
    pub app_dir: PathBuf,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Check pyedge.lock instead of resolving (fails if it is stale or a hash differs)
    #[arg(long)]
    pub locked: bool,
    #[command(flatten)]
    pub sources: DepsSourceArgs,
}

/// `pyedge lock [APP_DIR]`: resolve and write `pyedge.lock`.
#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// The app directory
    #[arg(value_name = "APP_DIR", default_value = ".")]
    pub app_dir: PathBuf,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub sources: DepsSourceArgs,
}

/// Run `check-deps`: table (or JSON) on stdout; exit 4 with the rejections, 5 when the
/// dependencies cannot be resolved or fetched.
pub fn run_check_deps(args: &CheckDepsArgs, printer: &Printer) -> Result<()> {
    check_app_dir(&args.app_dir)?;
    let opts = args.sources.options(&args.app_dir, args.locked);
    let outcome = check_deps(&opts);
    present(printer, outcome, &args.app_dir, None)
}

/// Run `lock`: write `pyedge.lock` when every dependency is pure; otherwise exit 4 and
/// write nothing.
pub fn run_lock(args: &LockArgs, printer: &Printer) -> Result<()> {
    check_app_dir(&args.app_dir)?;
    let opts = args.sources.options(&args.app_dir, false);
    let outcome = lock_deps(&opts);
    let lock_path = args.app_dir.join(lock::LOCK_FILE);
    present(printer, outcome, &args.app_dir, Some(&lock_path))
}

fn check_app_dir(app_dir: &Path) -> Result<()> {
    if app_dir.is_dir() {
        return Ok(());
    }
    Err(crate::deps::DepsError::AppDirMissing {
        dir: app_dir.to_path_buf(),
    }
    .into())
}

/// Print the outcome and turn rejections into the error that carries exit 4.
fn present(
    printer: &Printer,
    outcome: Result<Option<DepsReport>>,
    app_dir: &Path,
    lock_path: Option<&Path>,
) -> Result<()> {
    let json = printer.json();
    let report = match outcome {
        Ok(report) => report,
        Err(err) => {
            if json {
                // The error itself still reaches stderr, whatever stdout does.
                let _ = printer.out_json(&report::error_json(&err));
            }
            return Err(err);
        }
    };
    let Some(report) = report else {
        if json {
            printer.out_json(&report::empty_json(&app_dir.display().to_string()))?;
        } else {
            printer.out(&format!(
                "{} declares no dependencies (no [project].dependencies, no requirements.txt).\n",
                app_dir.display()
            ))?;
        }
        return Ok(());
    };
    let error = report.rejection_error();
    let wrote_lock = lock_path.filter(|_| error.is_none());
    if json {
        let mut doc = report::report_json(&report);
        if let (Some(path), Some(object)) = (wrote_lock, doc.as_object_mut()) {
            object.insert("lock_file".into(), path.display().to_string().into());
        }
        printer.out_json(&doc)?;
    } else {
        printer.out(&report::render_table(&report))?;
        if let Some(path) = wrote_lock {
            printer.out(&format!("Wrote {}.\n", path.display()))?;
        }
    }
    error.map_or(Ok(()), Err)
}
