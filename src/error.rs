//! Exit codes and the error type that carries one.
//!
//! Stages return `anyhow::Result`; a failure that must reach the user with a specific exit
//! code is a [`Failure`] somewhere in the error chain.

use std::fmt;

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
}

/// An error with the exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Build an `anyhow::Error` that exits with `exit`.
pub fn failure(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        exit,
        message: message.into(),
    })
}

/// The exit code for an error: the first [`Failure`] in its chain, else [`Exit::Build`].
pub fn exit_code_of(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Failure>())
        .map(|f| f.exit)
        .unwrap_or(Exit::Build)
}
