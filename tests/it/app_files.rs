//! Which app files ship: `.gitignore`/`.pyedgeignore`, no dotfiles, no build output or
//! previous artifacts, and the secret guard. Each test runs in a git checkout and in a
//! plain directory, with the real binary, and reads the file list back out of the built
//! component (`pyedge inspect --files --json`).

use crate::common::{describe, pyedge, scratch};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const RSA_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
-----END RSA PRIVATE KEY-----\n";
const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBszCCAVmgAwIBAgIUFakeButWellFormedEnoughForAGuard0wCgYIKoZIzj0E\n\
-----END CERTIFICATE-----\n";

fn write(dir: &Path, rel: &str, data: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// `len` bytes that do not compress (a SHA-256 chain).
fn noise(len: usize, seed: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = Sha256::digest(seed.as_bytes());
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

/// Files that must never ship, by default, with what each holds.
fn never_shipped() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (".env", b"API_TOKEN=sk_live_123\n".to_vec()),
        (".env.production", b"DB_PASSWORD=hunter2\n".to_vec()),
        (
            ".aws/credentials",
            b"[default]\naws_secret_access_key=x\n".to_vec(),
        ),
        ("id_rsa", RSA_KEY.as_bytes().to_vec()),
        ("keys/server.pem", RSA_KEY.as_bytes().to_vec()),
        ("secrets/token.txt", b"gitignored\n".to_vec()),
        (
            "sub/local.cfg",
            b"ignored by a nested .gitignore\n".to_vec(),
        ),
        ("notes/todo.txt", b"ignored by .pyedgeignore\n".to_vec()),
        ("dist/app-1.0.tar.gz", b"a previous sdist\n".to_vec()),
        ("build/lib/app.py", b"x = 1\n".to_vec()),
        ("node_modules/x/index.js", b"module.exports = 1\n".to_vec()),
        ("htmlcov/index.html", b"<html>coverage</html>\n".to_vec()),
        ("app.wasm", b"\0asm a previous build\n".to_vec()),
        // Earlier builds' function names and size picture, written into the app dir.
        (
            "old.symbols",
            b"# pyedge symbols v1 component-sha256 00\n44 0x1 0x2 pyedge_start\n".to_vec(),
        ),
        (
            "reports/size.html",
            b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
              <meta name=\"generator\" content=\"pyedge size picture\">\n"
                .to_vec(),
        ),
        ("pyedge.lock", b"version = 1\n".to_vec()),
    ]
}

/// An app directory with code, templates, a certificate, and everything that must not
/// ship; a git checkout when `git` (with `.git/info/exclude` in use too).
fn app_dir(name: &str, git: bool) -> std::path::PathBuf {
    let dir = scratch(name).join("app");
    write(
        &dir,
        "app.py",
        b"import helper\n\ndef main():\n    print(helper.GREETING)\n",
    );
    write(&dir, "helper.py", b"GREETING = 'ok'\n");
    write(&dir, "templates/index.html", b"<h1>{{ title }}</h1>\n");
    write(&dir, "certs/ca.pem", CERTIFICATE.as_bytes());
    write(&dir, "sub/mod.py", b"VALUE = 1\n");
    write(&dir, ".gitignore", b"secrets/\n");
    write(&dir, "sub/.gitignore", b"local.cfg\n");
    write(&dir, ".pyedgeignore", b"notes/\n");
    for (rel, data) in never_shipped() {
        write(&dir, rel, &data);
    }
    if git {
        let status = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&dir)
            .status()
            .expect("run git");
        assert!(status.success());
        write(&dir, ".git/info/exclude", b"scratch.txt\n");
        write(&dir, "scratch.txt", b"excluded through .git/info/exclude\n");
    }
    dir
}

/// Build `dir` into `dir/app.wasm`; the outcome JSON.
fn build(dir: &Path) -> serde_json::Value {
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

/// The files of root `root` in the built component, and the bytes they take.
fn shipped(wasm: &Path, root: &str) -> (Vec<String>, u64) {
    let output = pyedge()
        .args(["inspect", wasm.to_str().unwrap(), "--files", "--json"])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let roots = doc["files"]["roots"].as_array().expect("roots");
    let root = roots
        .iter()
        .find(|r| r["root"] == root)
        .unwrap_or_else(|| panic!("no root {root} in {doc}"));
    let files = root["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    (files, root["stored"].as_u64().unwrap())
}

fn app_part(outcome: &serde_json::Value) -> u64 {
    outcome["size"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "  app")
        .expect("app part")["raw"]
        .as_u64()
        .unwrap()
}

fn default_selection_ships_only_app_files(git: bool) {
    let dir = app_dir(&format!("app-files-default-{git}"), git);
    let outcome = build(&dir);
    let wasm = dir.join("app.wasm");
    let (files, stored) = shipped(&wasm, "app");
    assert_eq!(
        files,
        [
            "app.py",
            "certs/ca.pem",
            "helper.py",
            "sub/mod.py",
            "templates/index.html"
        ],
        "git checkout: {git}"
    );
    // The size report's app part is exactly the listed files.
    assert_eq!(app_part(&outcome), stored);
    let skipped: Vec<&str> = outcome["skipped_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["id_rsa", "keys/server.pem"]);

    // Independently of the list: a large incompressible tail on every file that must not
    // ship leaves the app part as it was, byte for byte.
    let mut extra = never_shipped();
    if git {
        extra.push(("scratch.txt", Vec::new()));
    }
    for (rel, data) in extra {
        let mut grown = data.clone();
        grown.extend_from_slice(&noise(200_000, rel));
        write(&dir, rel, &grown);
    }
    let again = build(&dir);
    assert_eq!(app_part(&again), app_part(&outcome), "git checkout: {git}");
    assert_eq!(shipped(&wasm, "app").0, files);

    // The verbose build lists the same files, and warns about the skipped keys.
    let out = dir.join("app.wasm");
    let output = pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-v",
        ])
        .output();
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("templates/index.html"), "{stdout}");
    assert!(!stdout.contains(".env"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: left out id_rsa: it looks like a credential"),
        "{stderr}"
    );
}

#[test]
fn default_selection_ships_only_app_files_in_a_git_checkout() {
    default_selection_ships_only_app_files(true);
}

#[test]
fn default_selection_ships_only_app_files_outside_git() {
    default_selection_ships_only_app_files(false);
}

fn include_naming_a_secret_fails_until_allowed(git: bool) {
    let dir = app_dir(&format!("app-files-include-{git}"), git);
    let out = dir.join("out/app.wasm");
    let build = |dir: &Path| {
        pyedge()
            .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .output()
    };
    write(
        &dir,
        "pyproject.toml",
        b"[tool.pyedge]\ninclude = [\"*.py\", \"templates/**\", \"keys/*\", \".well-known/**\"]\n",
    );
    write(
        &dir,
        ".well-known/security.txt",
        b"Contact: mailto:sec@example.com\n",
    );
    let output = build(&dir);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("keys/server.pem: holds a private key (-----BEGIN RSA PRIVATE KEY-----)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allow-secrets = [\"keys/server.pem\"]"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written when the guard refuses");

    write(
        &dir,
        "pyproject.toml",
        b"[tool.pyedge]\ninclude = [\"*.py\", \"templates/**\", \"keys/*\", \".well-known/**\"]\n\
          allow-secrets = [\"keys/server.pem\"]\n",
    );
    let output = build(&dir);
    assert!(output.status.success(), "{}", describe(&output));
    let (files, _) = shipped(&out, "app");
    assert_eq!(
        files,
        [
            ".well-known/security.txt",
            "app.py",
            "helper.py",
            "keys/server.pem",
            "sub/mod.py",
            "templates/index.html"
        ]
    );
}

#[test]
fn include_naming_a_secret_fails_until_allowed_in_a_git_checkout() {
    include_naming_a_secret_fails_until_allowed(true);
}

#[test]
fn include_naming_a_secret_fails_until_allowed_outside_git() {
    include_naming_a_secret_fails_until_allowed(false);
}

#[test]
fn inspect_files_refuses_a_module_without_a_bundle() {
    let dir = scratch("inspect-files-no-bundle");
    let wasm = dir.join("empty.wasm");
    std::fs::write(&wasm, b"\0asm\x01\0\0\0").unwrap();
    let output = pyedge()
        .args(["inspect", wasm.to_str().unwrap(), "--files"])
        .output();
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no pyedge bundle found"),
        "{}",
        describe(&output)
    );
}
