//! pyedge: turn a Python web handler or script into one deployable WebAssembly component.
//!
//! Each pipeline stage is a module with one job; the CLI only parses arguments and calls
//! stages (see the README's "How it works").
//!
//! The default `host` feature holds everything that builds, runs or serves components
//! (Wasmtime, the embedded runtime, the CLI); without it only the parsers of the user's
//! inputs are built, for `fuzz/`.

#![warn(missing_docs)]

#[cfg(feature = "host")]
pub mod app_files;
#[cfg(feature = "host")]
pub mod bundle;
#[cfg(feature = "host")]
pub mod cli;
#[cfg(feature = "host")]
pub mod component;
pub mod config;
pub mod deps;
#[cfg(feature = "host")]
pub mod embed;
#[cfg(feature = "host")]
pub mod engine;
pub mod error;
pub mod fnptr;
pub mod imports;
pub mod inspect;
pub mod manifest;
#[cfg(feature = "host")]
pub mod oci;
pub mod output;
#[cfg(feature = "host")]
pub mod pipeline;
#[cfg(feature = "host")]
pub mod progress;
#[cfg(feature = "host")]
pub mod prune;
#[cfg(feature = "host")]
pub mod report;
#[cfg(feature = "host")]
pub mod runtime;
#[cfg(feature = "host")]
pub mod runtime_config;
pub mod secrets;
#[cfg(feature = "host")]
pub mod serve;
#[cfg(feature = "host")]
pub mod sizemap;
#[cfg(feature = "host")]
pub mod snapshot;
#[cfg(feature = "host")]
pub mod spin;
#[cfg(feature = "host")]
pub mod stdlib;
#[cfg(feature = "host")]
pub mod symbols;
