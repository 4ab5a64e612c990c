//! Crash-safe, shared caches (issue 19, part 4): damaged wheel and snapshot cache entries
//! are reported once and rebuilt, two builds on one cold cache both succeed, a build
//! killed with SIGKILL at any point leaves nothing a later build trusts, and a full disk
//! is a clear error that keeps the previous output.
//!
//! Each test has its own cache (`PYEDGE_CACHE_DIR`) whose `wasmtime/` (Wasmtime's
//! compilation cache, which verifies its own entries) is the machine's, so the runtime is
//! not compiled again per test.

use crate::common::{built, describe, fixture, scratch};
use crate::deps_support::{sha256_hex, TestIndex};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch dir with `cache/` (sharing the machine's compilation cache) and a copy of
/// the jwt-gate app, whose pyjwt comes from a local index serving the real wheel.
struct Workspace {
    root: PathBuf,
    index: TestIndex,
}

impl Workspace {
    fn new(name: &str) -> Workspace {
        let root = scratch(name);
        let cache = root.join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        let shared = pyedge::engine::cache_dir().join("wasmtime");
        std::fs::create_dir_all(&shared).unwrap();
        std::os::unix::fs::symlink(&shared, cache.join("wasmtime")).unwrap();
        let app = root.join("app");
        std::fs::create_dir_all(&app).unwrap();
        for file in ["app.py", "pyproject.toml"] {
            std::fs::copy(fixture("jwt-gate").join(file), app.join(file)).unwrap();
        }
        let wheels = std::env::var_os("PYEDGE_TEST_WHEELS")
            .map(PathBuf::from)
            .expect("PYEDGE_TEST_WHEELS is not set: run scripts/test.sh");
        let wheel = std::fs::read_dir(&wheels)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("pyjwt-") && name.ends_with(".whl")
            })
            .expect("the pyjwt wheel in PYEDGE_TEST_WHEELS");
        let index = TestIndex::start();
        index.add_file(
            "pyjwt",
            &wheel.file_name().unwrap().to_string_lossy(),
            std::fs::read(&wheel).unwrap(),
        );
        Workspace { root, index }
    }

    fn cache(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// `pyedge build` of the app into `out`, as a command not yet started.
    fn build_command(&self, out: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pyedge"));
        command
            .args(["build", self.root.join("app").to_str().unwrap(), "-o"])
            .arg(out)
            .args(["--index-url", &self.index.url()])
            .env("PYEDGE_CACHE_DIR", self.cache())
            .env_remove("XDG_CACHE_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn build(&self, out: &Path) -> Output {
        let output = self.build_command(out).output().unwrap();
        assert!(output.status.success(), "build: {}", describe(&output));
        output
    }

    /// Every file under `cache/<kind>/` (not following the wasmtime symlink).
    fn entries(&self, kind: &str) -> Vec<PathBuf> {
        walk(&self.cache().join(kind))
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn damaged_cache_entries_are_reported_once_and_rebuilt() {
    let ws = Workspace::new("cache-damaged");
    let first = ws.root.join("first.wasm");
    ws.build(&first);

    // Truncate the snapshot, flip a bit of the cached wheel.
    let snapshots = ws.entries("snapshots");
    let snapshot = snapshots
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .expect("a snapshot cache entry");
    let bytes = std::fs::read(snapshot).unwrap();
    std::fs::write(snapshot, &bytes[..bytes.len() / 2]).unwrap();
    let wheel = ws
        .entries("wheels")
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a cached wheel");
    let mut bytes = std::fs::read(&wheel).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&wheel, &bytes).unwrap();

    let second = ws.root.join("second.wasm");
    let output = ws.build(&second);
    let log = stderr(&output);
    assert_eq!(
        log.matches("the snapshot cache entry").count(),
        1,
        "the damaged snapshot is reported once:\n{log}"
    );
    assert!(log.contains("is damaged"), "{log}");
    assert_eq!(
        log.matches("the cached wheel").count(),
        1,
        "the damaged wheel is reported once:\n{log}"
    );
    // The same component as before, from rebuilt entries that are whole again.
    assert_eq!(
        std::fs::read(&second).unwrap(),
        std::fs::read(&first).unwrap()
    );
    let wheel_now = std::fs::read(&wheel).unwrap();
    assert_ne!(wheel_now, bytes, "the damaged wheel is still there");

    let third = ws.root.join("third.wasm");
    let log = stderr(&ws.build(&third));
    assert!(!log.contains("is damaged"), "reported again:\n{log}");
    assert_eq!(
        std::fs::read(&third).unwrap(),
        std::fs::read(&first).unwrap()
    );
}

#[test]
fn two_builds_on_one_cold_cache_both_succeed() {
    let ws = Workspace::new("cache-parallel");
    // Two different apps at once: the jwt gate (wheel download, snapshot) and geo-router
    // (snapshot), on the same empty cache.
    let gate = ws.root.join("gate.wasm");
    let geo = ws.root.join("geo.wasm");
    let mut gate_build = ws.build_command(&gate).spawn().unwrap();
    let geo_build = Command::new(env!("CARGO_BIN_EXE_pyedge"))
        .args(["build", fixture("geo-router").to_str().unwrap(), "-o"])
        .arg(&geo)
        .env("PYEDGE_CACHE_DIR", ws.cache())
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap();
    let gate_done = {
        let status = gate_build.wait().unwrap();
        let mut err = String::new();
        use std::io::Read;
        gate_build
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    };
    assert!(geo_build.status.success(), "geo: {}", describe(&geo_build));
    assert!(gate_done.0.success(), "gate: {}", gate_done.1);
    // Both are exactly what a build on its own makes (builds are reproducible).
    assert_eq!(
        std::fs::read(&geo).unwrap(),
        std::fs::read(built("geo-router", &[])).unwrap()
    );
    let alone = Workspace::new("cache-parallel-alone");
    let gate_alone = alone.root.join("gate.wasm");
    alone.build(&gate_alone);
    assert_eq!(
        std::fs::read(&gate).unwrap(),
        std::fs::read(&gate_alone).unwrap()
    );
}

#[test]
fn a_build_killed_at_any_point_leaves_nothing_a_later_build_trusts() {
    let reference_ws = Workspace::new("cache-killed-reference");
    let reference = reference_ws.root.join("reference.wasm");
    let started = Instant::now();
    reference_ws.build(&reference);
    let full = started.elapsed();
    let reference = std::fs::read(&reference).unwrap();

    // One cache, builds killed at points spread over a whole build's time.
    let ws = Workspace::new("cache-killed");
    let out = ws.root.join("app.wasm");
    let kills = 6u32;
    for i in 0..kills {
        let at = full * (2 * i + 1) / (2 * kills);
        let mut child = ws.build_command(&out).spawn().unwrap();
        let deadline = Instant::now() + at;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The output is never half-written: absent, or a whole component.
        if let Ok(bytes) = std::fs::read(&out) {
            assert_eq!(bytes, reference, "kill {i} at {at:?} left a partial output");
        }
    }
    let output = ws.build(&out);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        reference,
        "{}",
        stderr(&output)
    );
    // Whatever the kills left in the cache is either whole or ignored: the entries the
    // last build trusted gave the reference bytes; temporary files are not entries.
    for entry in ws.entries("snapshots") {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".bin") || name.ends_with(".tmp") || name.starts_with(".tmp"),
            "unexpected cache file {name}"
        );
    }
    for wheel in ws
        .entries("wheels")
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
    {
        let sha = wheel
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            sha256_hex(&std::fs::read(wheel).unwrap()),
            sha,
            "{}",
            wheel.display()
        );
    }
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// `None` (with the reason on stderr) where this machine cannot mount one.
    fn mount(name: &str, size: &str) -> Option<SmallDisk> {
        let dir = scratch(name).join("disk");
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match status {
            Ok(output) if output.status.success() => Some(SmallDisk { dir }),
            Ok(output) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(err) => {
                eprintln!("SKIPPED: no mount command: {err}");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_previous_output_stays() {
    let Some(disk) = SmallDisk::mount("cache-full-disk", "2m") else {
        return;
    };
    let out = disk.dir.join("app.wasm");
    std::fs::write(&out, b"the previous build").unwrap();
    let output = crate::common::pyedge()
        .args(["build", fixture("geo-router").to_str().unwrap(), "-o"])
        .arg(&out)
        .output();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let log = stderr(&output);
    assert!(
        log.contains(&format!("cannot write {}", out.display())),
        "{log}"
    );
    assert!(log.contains("No space left on device"), "{log}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous build");
    let left: Vec<_> = std::fs::read_dir(&disk.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        1,
        "temporary files left on the full disk: {left:?}"
    );

    // A cache on a full disk costs the cache, not the build: snapshot and compilation
    // entries that cannot be written are skipped.
    let cache_disk = SmallDisk::mount("cache-full-cache", "1m").expect("mounted once already");
    // Compiling the runtime again would only cost time: its cache stays the machine's.
    std::os::unix::fs::symlink(
        pyedge::engine::cache_dir().join("wasmtime"),
        cache_disk.dir.join("wasmtime"),
    )
    .unwrap();
    let elsewhere = scratch("cache-full-out").join("app.wasm");
    let output = crate::common::pyedge()
        .args(["build", fixture("geo-router").to_str().unwrap(), "-o"])
        .arg(&elsewhere)
        .env("PYEDGE_CACHE_DIR", &cache_disk.dir)
        .env_remove("XDG_CACHE_HOME")
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        std::fs::read(built("geo-router", &[])).unwrap()
    );
}
