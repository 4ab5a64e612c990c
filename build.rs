//! Build script: make sure the WASI CPython runtime exists, so `pyedge` can embed it.
//!
//! The runtime is built by `runtime-assets/build.sh` (minutes, network for pinned
//! sources) and cached outside git, keyed by a hash of everything under
//! `runtime-assets/`. A fresh clone builds it on the first `cargo build`; later builds
//! reuse the cache. `PYEDGE_RUNTIME_DIR` points at a prebuilt runtime instead. Without
//! the `host` feature (the parsers only, as `fuzz/` builds them) no runtime is needed.

use sha2::{Digest, Sha256};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const REQUIRED: &[&str] = &[
    "python-cli.wasm",
    "python-http.wasm",
    "stdlib.zip",
    "provenance.json",
    "python-cli.prune.json",
    "python-http.prune.json",
    "python-cli-numpy.wasm",
    "python-http-numpy.wasm",
    "python-cli-numpy.prune.json",
    "python-http-numpy.prune.json",
    "numpy-site.zip",
];

fn main() {
    println!("cargo:rerun-if-changed=runtime-assets");
    println!("cargo:rerun-if-env-changed=PYEDGE_RUNTIME_DIR");
    println!("cargo:rerun-if-env-changed=PYEDGE_CACHE_DIR");
    if env::var_os("CARGO_FEATURE_HOST").is_none() {
        return;
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dir = match env::var_os("PYEDGE_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => cached_runtime(&manifest),
    };
    for file in REQUIRED {
        let path = dir.join(file);
        if !path.is_file() {
            panic!("runtime file missing: {}", path.display());
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=PYEDGE_RUNTIME_DIR={}", dir.display());
    // Part of the snapshot cache's key: a change of Wasmtime or wizer invalidates it.
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read(manifest.join("Cargo.lock")).unwrap_or_default();
    println!(
        "cargo:rustc-env=PYEDGE_LOCK_SHA256={:x}",
        Sha256::digest(&lock)
    );
}

/// The runtime for the current `runtime-assets/`, built into the cache if missing.
fn cached_runtime(manifest: &Path) -> PathBuf {
    let assets = manifest.join("runtime-assets");
    let key = inputs_key(&assets);
    let base = cache_base().join("runtime");
    let dir = base.join(&key[..16]);
    if REQUIRED.iter().all(|f| dir.join(f).is_file()) {
        match damaged_output(&dir) {
            None => return dir,
            Some(why) => println!(
                "cargo:warning=the cached runtime {} is damaged ({why}); building it again",
                dir.display()
            ),
        }
    }
    println!(
        "cargo:warning=building the WASI CPython runtime into {} (first build only, about 5 min on 2 cores)",
        dir.display()
    );
    let staging = base.join(format!("{}.partial", &key[..16]));
    let _ = fs::remove_dir_all(&staging);
    let status = Command::new("bash")
        .arg(assets.join("build.sh"))
        .arg("--out")
        .arg(&staging)
        .arg("--work")
        .arg(base.join("work"))
        .status()
        .expect("cannot run bash runtime-assets/build.sh");
    if !status.success() {
        panic!("runtime-assets/build.sh failed ({status}); see its output above");
    }
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&staging, &dir).expect("cannot move the built runtime into the cache");
    dir
}

/// Why a cached runtime cannot be trusted: an output whose SHA-256 differs from the one
/// its provenance record lists, or no readable record.
fn damaged_output(dir: &Path) -> Option<String> {
    let Ok(text) = fs::read_to_string(dir.join("provenance.json")) else {
        return Some("no provenance.json".into());
    };
    let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Some("provenance.json is not JSON".into());
    };
    for file in REQUIRED.iter().filter(|f| **f != "provenance.json") {
        let expected = record["outputs"][*file]["sha256"].as_str();
        let actual = fs::read(dir.join(file)).map(|bytes| format!("{:x}", Sha256::digest(bytes)));
        match (expected, actual) {
            (Some(expected), Ok(actual)) if expected == actual => {}
            (None, _) => return Some(format!("provenance.json lists no sha256 for {file}")),
            _ => return Some(format!("{file} differs from its recorded sha256")),
        }
    }
    None
}

/// `PYEDGE_CACHE_DIR`, else `$XDG_CACHE_HOME/pyedge`, else `~/.cache/pyedge`.
fn cache_base() -> PathBuf {
    if let Some(dir) = env::var_os("PYEDGE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("pyedge");
    }
    let home = env::var_os("HOME").expect("HOME is not set; set PYEDGE_CACHE_DIR");
    PathBuf::from(home).join(".cache").join("pyedge")
}

/// SHA-256 over every file under `runtime-assets/` (path and contents), sorted.
fn inputs_key(assets: &Path) -> String {
    let mut files = Vec::new();
    collect_files(assets, &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let rel = file.strip_prefix(assets).expect("under assets");
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(fs::read(&file).expect("read runtime input"));
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read runtime-assets") {
        let path = entry.expect("read runtime-assets entry").path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".md"))
        {
            out.push(path);
        }
    }
}
