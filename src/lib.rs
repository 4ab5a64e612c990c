//! pyedge: turn a Python web handler or script into one deployable WebAssembly component.
//!
//! Each pipeline stage is a module with one job; the CLI only parses arguments and calls
//! stages (see the README's "How it works").

pub mod bundle;
pub mod cli;
pub mod component;
pub mod config;
pub mod deps;
pub mod embed;
pub mod engine;
pub mod error;
pub mod imports;
pub mod inspect;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod runtime;
pub mod serve;
pub mod snapshot;
