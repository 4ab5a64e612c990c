//! The integration tests, as one test binary. Every binary under tests/ links all of
//! Wasmtime; one per file meant ten links and ten copies on disk, which filled a CI
//! machine's disk. Run one area with a filter: `cargo test --test it http_serve::`.

mod common;
mod deps_support;

mod app_files;
mod build_cli;
mod cache_faults;
mod crypto;
mod deps_cli;
mod deps_end_to_end;
mod deps_fallback;
mod deps_install;
mod deps_resolve;
mod files;
mod fuzz_seeds;
mod gc_traps;
mod http_serve;
mod init;
mod json_logs;
mod jwt_gateway;
mod messages;
mod numpy_apps;
mod oci;
mod outbound_clients;
mod output;
mod recursion;
mod reproducible;
mod runtime_config;
mod sdist_build;
mod serve_limits;
mod serve_load;
mod size_picture;
mod spin_manifest;
mod streaming;
mod traps;
mod web_apps;
