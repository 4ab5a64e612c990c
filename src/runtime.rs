//! The WASI CPython runtime, built by `runtime-assets/build.sh` and embedded at compile
//! time (see `build.rs`).

/// CPython linked with `runtime-assets/entry/pyedge_entry.c`, for wasi:cli apps.
pub static PYTHON_CLI_WASM: &[u8] =
    include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/python-cli.wasm"));

/// CPython linked with the same entry plus the wasi:http/proxy bindings, for handlers.
pub static PYTHON_HTTP_WASM: &[u8] =
    include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/python-http.wasm"));

/// Which functions and static data of each runtime belong to its optional extension
/// modules (see [`crate::prune`]).
pub static CLI_PRUNE: &str = include_str!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-cli.prune.json"
));
/// The prune table of the HTTP runtime (`python-http.prune.json`).
pub static HTTP_PRUNE: &str = include_str!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-http.prune.json"
));

/// The pure-Python standard library of the same build.
pub static STDLIB_ZIP: &[u8] = include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/stdlib.zip"));

/// Where every runtime input came from (URLs, SHA-256s, toolchain versions).
pub static PROVENANCE: &str = include_str!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/provenance.json"));

/// The boot module run by the C entry before the interpreter's main initialization.
pub static BOOT_PY: &str = include_str!("python/boot.py");

/// pyedge's own Python packages (`pyedge`, the `spin_sdk` shim), bundled into every app
/// under [`crate::bundle::SDK_ROOT`].
pub static SDK_FILES: &[(&str, &str)] = &[
    (
        "pyedge/__init__.py",
        include_str!("python/pyedge/__init__.py"),
    ),
    ("pyedge/http.py", include_str!("python/pyedge/http.py")),
    (
        "spin_sdk/__init__.py",
        include_str!("python/spin_sdk/__init__.py"),
    ),
    ("spin_sdk/http.py", include_str!("python/spin_sdk/http.py")),
    ("ssl.py", include_str!("python/ssl.py")),
];
