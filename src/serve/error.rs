//! What `pyedge serve` refuses before it serves (all exit 2), typed: each names the file,
//! line or address it is about.

use std::path::PathBuf;

/// A `pyedge serve` start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The component file cannot be read.
    #[error("cannot read {}: {detail}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// Native code without `--allow-precompiled`.
    #[error(
        "{} is native code (a precompiled component?); pass --allow-precompiled to run it, \
         only if you built it yourself",
        path.display()
    )]
    NativeCode {
        /// The file.
        path: PathBuf,
    },
    /// A file that is not a component.
    #[error("{} is {what}; build one with `pyedge build`", path.display())]
    NotComponent {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Wasmtime does not accept the component.
    #[error("{} is not a valid component: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Wasmtime's reason.
        detail: String,
    },
    /// A precompiled file Wasmtime refuses; `detail` says what it is instead.
    #[error("{detail}")]
    Precompiled {
        /// The file.
        path: PathBuf,
        /// What it is and what to do.
        detail: String,
    },
    /// A component that is not an HTTP handler.
    #[error(
        "{} does not export wasi:http/incoming-handler, so it cannot serve HTTP{hint}",
        path.display()
    )]
    NotHttp {
        /// The file.
        path: PathBuf,
        /// What to do instead, when it is a command.
        hint: &'static str,
    },
    /// A component that imports more than `wasi:http/proxy` and the run-time
    /// configuration, or does not fit the proxy world.
    #[error("{} {what}: {detail}", path.display())]
    World {
        /// The file.
        path: PathBuf,
        /// `needs imports outside the wasi:http/proxy world`.
        what: &'static str,
        /// Wasmtime's reason.
        detail: String,
    },
    /// The component needs more memory to start than `--memory-limit`.
    #[error("{} needs {requested} of memory to start, more than --memory-limit {limit}", path.display())]
    MemoryLimit {
        /// The file.
        path: PathBuf,
        /// What it asked for (human units).
        requested: String,
        /// The limit (human units).
        limit: String,
    },
    /// The listening address cannot be bound.
    #[error("cannot listen on {addr}: {detail} (choose another with --addr)")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        detail: String,
    },
    /// An `--env-file` that cannot be read.
    #[error("cannot read --env-file {}: {detail}", path.display())]
    EnvFileRead {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// A line of an `--env-file` that is not `NAME=VALUE`.
    #[error("{}:{line}: {why}", path.display())]
    EnvFileLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
}
