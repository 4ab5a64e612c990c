//! The one way tests run the real `pyedge` binary, after cargo's testsuite:
//! `pyedge().args(["build", dir]).env("K", "v").assert().code(2).stderr_has("...")`, and
//! [`Assert::snapshot`] for every user-facing message, so a wording change is a reviewed
//! diff of `tests/it/snapshots/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A `pyedge` command line being built.
pub struct Pyedge {
    command: Command,
}

/// Start a `pyedge` command line.
pub fn pyedge() -> Pyedge {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pyedge"));
    command.stdin(Stdio::null());
    Pyedge { command }
}

impl Pyedge {
    /// Add one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Unset an environment variable.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Where stdout goes (a closed pipe, `/dev/full`...); captured otherwise.
    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Self {
        self.command.stdout(stdout);
        self
    }

    /// Run in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Run to completion and return what it printed.
    pub fn output(mut self) -> Output {
        self.command.output().expect("run pyedge")
    }

    /// Run to completion, for assertions.
    pub fn assert(self) -> Assert {
        Assert {
            output: self.output(),
        }
    }
}

/// A finished run, with assertions that show the whole run when they fail.
pub struct Assert {
    /// What the run printed and its status.
    pub output: Output,
}

impl Assert {
    /// The exit code is `code`.
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.output.status.code(), Some(code), "{}", self.describe());
        self
    }

    /// The run succeeded.
    pub fn success(self) -> Self {
        self.code(0)
    }

    /// stderr contains `text`.
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr().contains(text),
            "no {text:?} in\n{}",
            self.describe()
        );
        self
    }

    /// stdout contains `text`.
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout().contains(text),
            "no {text:?} in\n{}",
            self.describe()
        );
        self
    }

    /// stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code and stderr, with `replace` pairs (a path → `[APP]`) applied and the
    /// machine-dependent parts (temporary names, addresses, timings) made stable: what a
    /// message snapshot holds.
    pub fn message(&self, replace: &[(&Path, &str)]) -> String {
        let mut text = format!(
            "exit: {}\n{}",
            self.output.status.code().unwrap_or(-1),
            self.stderr()
        );
        let mut pairs: Vec<(String, &str)> = replace
            .iter()
            .map(|(path, name)| (path.display().to_string(), *name))
            .collect();
        pairs.push((fixtures_dir().display().to_string(), "[FIXTURES]"));
        pairs.push((env!("CARGO_TARGET_TMPDIR").to_string(), "[TMP]"));
        // Longest first, so a path is replaced before a prefix of it.
        pairs.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        for (path, name) in pairs {
            text = text.replace(&path, name);
        }
        text
    }

    /// Everything the run printed, for failure messages.
    pub fn describe(&self) -> String {
        crate::common::describe(&self.output)
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/apps")
}
