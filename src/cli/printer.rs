//! The one printer every command writes through (cargo's `Shell`, uv's `Printer`): results
//! on stdout (text or one JSON document), notes, warnings and errors on stderr, with the
//! quiet/verbose level and colour decided once. Stages never print; they return values
//! this prints.
//!
//! A closed stdout (`pyedge inspect app.wasm | head -1`) is not a failure: the write
//! returns [`OutputError::Closed`] and the program ends quietly with status 0, as ripgrep
//! does. Any other write error (`> /dev/full`) is reported once, naming stdout, with
//! exit 1. Writes to stderr that fail are dropped: there is nowhere left to say so.

use anstyle::{AnsiColor, Style};
use std::io::{IsTerminal, Write};

/// How much the printer says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only (`-q`).
    Quiet,
    /// Notes, warnings and progress.
    Normal,
    /// Also the details (`-v`): the bundle's file list.
    Verbose,
}

/// When to colour stderr (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Writing to stdout failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away (a closed pipe): the program stops quietly.
    #[error("standard output was closed")]
    Closed,
    /// Any other failure, such as a full disk.
    #[error("cannot write to standard output: {0}")]
    Write(#[source] std::io::Error),
}

impl From<std::io::Error> for OutputError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Write(err)
        }
    }
}

/// The printer of one run.
#[derive(Debug, Clone)]
pub struct Printer {
    verbosity: Verbosity,
    color: bool,
    json: bool,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = Style::new().bold();

impl Printer {
    /// A printer for `verbosity` and `color`; `json` when the command prints one JSON
    /// document on stdout (then progress is never drawn).
    pub fn new(verbosity: Verbosity, color: ColorChoice, json: bool) -> Printer {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        Printer {
            verbosity,
            color,
            json,
        }
    }

    /// Whether the command prints JSON on stdout.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Whether details (`-v`) are wanted.
    pub fn verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// Whether progress may be drawn: not quiet, not JSON, stderr a terminal.
    pub fn shows_progress(&self) -> bool {
        self.verbosity > Verbosity::Quiet && !self.json && std::io::stderr().is_terminal()
    }

    /// Write `text` to stdout as it is.
    pub fn out(&self, text: &str) -> Result<(), OutputError> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        Ok(())
    }

    /// Write `doc` to stdout as one line of JSON.
    pub fn out_json(&self, doc: &serde_json::Value) -> Result<(), OutputError> {
        self.out(&format!("{doc}\n"))
    }

    /// Flush stdout: a full disk often shows only here.
    pub fn flush(&self) -> Result<(), OutputError> {
        std::io::stdout().lock().flush()?;
        Ok(())
    }

    /// A line on stderr (not with `-q`).
    pub fn note(&self, text: &str) {
        if self.verbosity > Verbosity::Quiet {
            self.err_line(None, text);
        }
    }

    /// `warning: …` on stderr (not with `-q`).
    pub fn warn(&self, text: &str) {
        if self.verbosity > Verbosity::Quiet {
            self.err_line(Some(("warning", WARNING)), text);
        }
    }

    /// `error: …` on stderr, always.
    pub fn error(&self, text: &str) {
        self.err_line(Some(("error", ERROR)), text);
    }

    /// A stage's time on stderr (with progress only).
    pub fn stage_done(&self, name: &str, seconds: f64) {
        let line = format!("  {name:<16} {seconds:>6.2}s");
        if self.color {
            self.err_line(None, &format!("{NOTE}{line}{NOTE:#}"));
        } else {
            self.err_line(None, &line);
        }
    }

    fn err_line(&self, label: Option<(&str, Style)>, text: &str) {
        let line = match label {
            Some((label, style)) if self.color => format!("{style}{label}:{style:#} {text}\n"),
            Some((label, _)) => format!("{label}: {text}\n"),
            None => format!("{text}\n"),
        };
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_told_apart_from_other_write_errors() {
        let closed = OutputError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(matches!(closed, OutputError::Closed));
        let full = OutputError::from(std::io::Error::from_raw_os_error(28));
        assert!(matches!(full, OutputError::Write(_)));
        assert!(full
            .to_string()
            .starts_with("cannot write to standard output: "));
    }

    #[test]
    fn quiet_is_below_normal_is_below_verbose() {
        assert!(Verbosity::Quiet < Verbosity::Normal && Verbosity::Normal < Verbosity::Verbose);
        let printer = Printer::new(Verbosity::Verbose, ColorChoice::Never, true);
        assert!(printer.verbose() && printer.json() && !printer.shows_progress());
    }
}
