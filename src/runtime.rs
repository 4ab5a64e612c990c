//! The WASI CPython runtime, built by `runtime-assets/build.sh` and embedded at compile
//! time (see `build.rs`).

/// CPython linked with `runtime-assets/entry/pyedge_entry.c`, for wasi:cli apps.
pub static PYTHON_CLI_WASM: &[u8] =
    include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/python-cli.wasm"));

/// The pure-Python standard library of the same build.
pub static STDLIB_ZIP: &[u8] = include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/stdlib.zip"));

/// Where every runtime input came from (URLs, SHA-256s, toolchain versions).
pub static PROVENANCE: &str = include_str!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/provenance.json"));

/// The boot module run by the C entry before the interpreter's main initialization.
pub static BOOT_PY: &str = include_str!("boot.py");
