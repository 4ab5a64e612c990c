//! Exit codes, and the one place where an error becomes one ([`exit_code_of`]).
//!
//! Each stage has its own error type (thiserror) carrying the file, line, package, URL
//! or limit: [`crate::config::ProjectError`], [`crate::deps::DepsError`],
//! `app_files::AppFilesError`, `pipeline::BuildError`, `snapshot::InitError`,
//! `serve::ServeError`, `spin::SpinError`, `oci::OciError`, `cli::inspect::InspectError`,
//! `cli::InitError`, `cli::SymbolizeError`. The CLI prints the chain with `{:#}` and asks [`exit_code_of`] for
//! the status; an error of no such type (an I/O error with its context) is a build error.

/// The process exit codes pyedge promises (see the README's "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The build failed (Python error at pre-init, I/O, invalid module...).
    Build = 1,
    /// Bad command line, missing entry file, bad configuration.
    Usage = 2,
    /// The component is larger than the size budget.
    OverBudget = 3,
    /// A dependency is not pure Python.
    DependencyRejected = 4,
    /// Dependencies could not be resolved or fetched.
    Resolution = 5,
    /// The registry could not be reached or refused the artifact (`pyedge push`).
    Publish = 6,
}

impl Exit {
    /// Every failure code, in order.
    pub const ALL: [Exit; 6] = [
        Exit::Build,
        Exit::Usage,
        Exit::OverBudget,
        Exit::DependencyRejected,
        Exit::Resolution,
        Exit::Publish,
    ];

    /// What the code means, as the README's table says it.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Build => {
                "build error (a Python error while importing the app at build time shows its \
                 traceback; an output that cannot be written, such as stdout on a full disk)"
            }
            Exit::Usage => {
                "usage or configuration error (missing entry file, invalid `pyproject.toml`, \
                 a file the secret guard refuses, a file that is not a component)"
            }
            Exit::OverBudget => "the component is over the size budget (nothing written)",
            Exit::DependencyRejected => {
                "a dependency is not pure Python (named, with the chain that pulled it in)"
            }
            Exit::Resolution => {
                "dependencies cannot be resolved or fetched: index unreachable, no matching \
                 version, hash mismatch, stale `pyedge.lock`"
            }
            Exit::Publish => {
                "the registry could not be reached, refused the credentials or the artifact \
                 (`pyedge push`)"
            }
        }
    }
}

/// The README's exit-code table (Markdown), made from [`Exit`]: a test checks the README
/// holds exactly this.
pub fn exit_code_table() -> String {
    let mut table = String::from("| code | meaning |\n| ---- | ------- |\n| 0 | success |\n");
    for exit in Exit::ALL {
        table.push_str(&format!("| {} | {} |\n", exit as u8, exit.meaning()));
    }
    table
}

/// The exit code for an error, decided here for every stage's error type: the first
/// typed error in its chain, else [`Exit::Build`].
pub fn exit_code_of(err: &anyhow::Error) -> Exit {
    err.chain().find_map(exit_of).unwrap_or(Exit::Build)
}

/// The exit code of one error in a chain, if it is one of the typed errors.
fn exit_of(cause: &(dyn std::error::Error + 'static)) -> Option<Exit> {
    if let Some(deps) = cause.downcast_ref::<crate::deps::DepsError>() {
        return Some(deps.exit());
    }
    if cause.is::<crate::config::ProjectError>() {
        return Some(Exit::Usage);
    }
    #[cfg(feature = "host")]
    {
        if cause.is::<crate::app_files::AppFilesError>()
            || cause.is::<crate::cli::inspect::InspectError>()
            || cause.is::<crate::cli::InitError>()
            || cause.is::<crate::cli::SymbolizeError>()
            || cause.is::<crate::spin::SpinError>()
        {
            return Some(Exit::Usage);
        }
        if let Some(build) = cause.downcast_ref::<crate::pipeline::BuildError>() {
            return Some(build.exit());
        }
        if cause.is::<crate::serve::ServeError>() {
            return Some(Exit::Usage);
        }
        if let Some(oci) = cause.downcast_ref::<crate::oci::OciError>() {
            return Some(oci.exit());
        }
        if cause.is::<crate::snapshot::InitError>() {
            return Some(Exit::Build);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_exit_code_table_is_the_one_made_here() {
        let readme = include_str!("../README.md");
        let table = exit_code_table();
        assert!(
            readme.contains(&table),
            "README.md's exit-code table differs; it should read:\n{table}"
        );
    }
}
