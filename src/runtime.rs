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

/// The CLI runtime with numpy's extension modules built in (issue 21): for apps that
/// import numpy. Every other app gets [`PYTHON_CLI_WASM`], which has none of numpy.
pub static PYTHON_CLI_NUMPY_WASM: &[u8] = include_bytes!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-cli-numpy.wasm"
));

/// The HTTP runtime with numpy's extension modules built in.
pub static PYTHON_HTTP_NUMPY_WASM: &[u8] = include_bytes!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-http-numpy.wasm"
));

/// The prune table of [`PYTHON_CLI_NUMPY_WASM`].
pub static CLI_NUMPY_PRUNE: &str = include_str!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-cli-numpy.prune.json"
));

/// The prune table of [`PYTHON_HTTP_NUMPY_WASM`].
pub static HTTP_NUMPY_PRUNE: &str = include_str!(concat!(
    env!("PYEDGE_RUNTIME_DIR"),
    "/python-http-numpy.prune.json"
));

/// numpy's Python part, as the numpy build installed it (without its tests, stubs and
/// f2py): bundled into apps that import numpy, under site-packages.
pub static NUMPY_SITE_ZIP: &[u8] =
    include_bytes!(concat!(env!("PYEDGE_RUNTIME_DIR"), "/numpy-site.zip"));

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
    ("pyedge/wsgi.py", include_str!("python/pyedge/wsgi.py")),
    (
        "spin_sdk/__init__.py",
        include_str!("python/spin_sdk/__init__.py"),
    ),
    ("spin_sdk/http.py", include_str!("python/spin_sdk/http.py")),
    ("ssl.py", include_str!("python/ssl.py")),
];

/// pyedge's asyncio event loop and ASGI server, bundled like [`SDK_FILES`] but only into
/// apps that can run a coroutine (an ASGI app, an `async def`, an import of asyncio):
/// they import asyncio, which the others do not carry.
pub static ASYNC_FILES: &[(&str, &str)] = &[
    ("pyedge/loop.py", include_str!("python/pyedge/loop.py")),
    ("pyedge/asgi.py", include_str!("python/pyedge/asgi.py")),
];

/// pyedge's transport for `urllib.request` over the host (`pyedge._urllib_host`), bundled
/// when the standard library the app carries has `urllib.request`.
pub static URLLIB_HOST_FILE: (&str, &str) = (
    "pyedge/_urllib_host.py",
    include_str!("python/pyedge/_urllib_host.py"),
);

/// pyedge's connection classes for urllib3 (and `requests`) over the host, bundled
/// beside urllib3.
pub static URLLIB3_HOST_FILE: (&str, &str) = (
    "pyedge/_urllib3_host.py",
    include_str!("python/pyedge/_urllib3_host.py"),
);

/// pyedge's support for numpy apps (`pyedge._numpy`: build-time generators reseeded per
/// instance), bundled only into apps built with pyedge's WASI numpy.
pub static NUMPY_SUPPORT_FILE: (&str, &str) =
    ("pyedge/_numpy.py", include_str!("python/pyedge/_numpy.py"));

/// pyedge's JSON log lines (`pyedge.logs`), bundled with `log-format = "json"`.
pub static LOGS_FILE: (&str, &str) = ("pyedge/logs.py", include_str!("python/pyedge/logs.py"));

/// The boot module's stand-in when pyedge's Python runs on the host (an app's tests):
/// laid out by `pyedge sdk-path`, never bundled.
pub static HOST_BOOT_FILE: (&str, &str) =
    ("pyedge/_host.py", include_str!("python/pyedge/_host.py"));

/// pyedge's transports for httpx over the host, bundled beside httpx.
pub static HTTPX_HOST_FILE: (&str, &str) = (
    "pyedge/_httpx_host.py",
    include_str!("python/pyedge/_httpx_host.py"),
);

/// pyedge's WASI build of `cryptography` (over the `_pyedge_crypto` C module), bundled
/// like [`SDK_FILES`] but only into apps whose code or dependencies import it, so the
/// others keep leaving the C module out.
pub static CRYPTOGRAPHY_FILES: &[(&str, &str)] = &[
    (
        "cryptography/__init__.py",
        include_str!("python/cryptography/__init__.py"),
    ),
    (
        "cryptography/_der.py",
        include_str!("python/cryptography/_der.py"),
    ),
    (
        "cryptography/_keys.py",
        include_str!("python/cryptography/_keys.py"),
    ),
    (
        "cryptography/exceptions.py",
        include_str!("python/cryptography/exceptions.py"),
    ),
    (
        "cryptography/fernet.py",
        include_str!("python/cryptography/fernet.py"),
    ),
    (
        "cryptography/hazmat/__init__.py",
        include_str!("python/cryptography/hazmat/__init__.py"),
    ),
    (
        "cryptography/hazmat/backends/__init__.py",
        include_str!("python/cryptography/hazmat/backends/__init__.py"),
    ),
    (
        "cryptography/hazmat/primitives/__init__.py",
        include_str!("python/cryptography/hazmat/primitives/__init__.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/__init__.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/__init__.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/ec.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/ec.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/ed25519.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/ed25519.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/ed448.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/ed448.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/padding.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/padding.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/rsa.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/rsa.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/types.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/types.py"),
    ),
    (
        "cryptography/hazmat/primitives/asymmetric/utils.py",
        include_str!("python/cryptography/hazmat/primitives/asymmetric/utils.py"),
    ),
    (
        "cryptography/hazmat/primitives/ciphers/__init__.py",
        include_str!("python/cryptography/hazmat/primitives/ciphers/__init__.py"),
    ),
    (
        "cryptography/hazmat/primitives/ciphers/aead.py",
        include_str!("python/cryptography/hazmat/primitives/ciphers/aead.py"),
    ),
    (
        "cryptography/hazmat/primitives/ciphers/algorithms.py",
        include_str!("python/cryptography/hazmat/primitives/ciphers/algorithms.py"),
    ),
    (
        "cryptography/hazmat/primitives/ciphers/modes.py",
        include_str!("python/cryptography/hazmat/primitives/ciphers/modes.py"),
    ),
    (
        "cryptography/hazmat/primitives/constant_time.py",
        include_str!("python/cryptography/hazmat/primitives/constant_time.py"),
    ),
    (
        "cryptography/hazmat/primitives/hashes.py",
        include_str!("python/cryptography/hazmat/primitives/hashes.py"),
    ),
    (
        "cryptography/hazmat/primitives/hmac.py",
        include_str!("python/cryptography/hazmat/primitives/hmac.py"),
    ),
    (
        "cryptography/hazmat/primitives/serialization/__init__.py",
        include_str!("python/cryptography/hazmat/primitives/serialization/__init__.py"),
    ),
    (
        "cryptography/x509/__init__.py",
        include_str!("python/cryptography/x509/__init__.py"),
    ),
];
