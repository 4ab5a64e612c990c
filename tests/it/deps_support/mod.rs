//! Test support for the dependency tests: wheels built with the `zip` crate and a PEP 503
//! / PEP 691 simple index served on 127.0.0.1 by a small thread.
//!
//! Included by `tests/deps_*.rs` with `#[path = "deps_support/mod.rs"] mod deps_support;`.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use zip::write::SimpleFileOptions;

/// PEP 503 name normalization.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if matches!(c, '-' | '_' | '.') {
            '-'
        } else {
            c.to_ascii_lowercase()
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A wheel to build: pure by default, with one module named after the package.
#[derive(Clone, Debug)]
pub struct WheelSpec {
    pub name: String,
    pub version: String,
    pub tag: String,
    pub purelib: bool,
    pub requires: Vec<String>,
    pub requires_python: Option<String>,
    pub files: Vec<(String, Vec<u8>)>,
    pub record: bool,
}

impl WheelSpec {
    /// `name-version-py3-none-any.whl` with `name/__init__.py` holding `__version__`.
    pub fn pure(name: &str, version: &str) -> Self {
        let module = name.replace('-', "_").to_lowercase();
        Self {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".to_string(),
            purelib: true,
            requires: Vec::new(),
            requires_python: None,
            files: vec![(
                format!("{module}/__init__.py"),
                format!("__version__ = \"{version}\"\n").into_bytes(),
            )],
            record: true,
        }
    }

    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = tag.to_string();
        self
    }

    pub fn requires(mut self, requirement: &str) -> Self {
        self.requires.push(requirement.to_string());
        self
    }

    pub fn requires_python(mut self, specifier: &str) -> Self {
        self.requires_python = Some(specifier.to_string());
        self
    }

    pub fn not_purelib(mut self) -> Self {
        self.purelib = false;
        self
    }

    pub fn file(mut self, path: &str, bytes: &[u8]) -> Self {
        self.files.push((path.to_string(), bytes.to_vec()));
        self
    }

    pub fn without_record(mut self) -> Self {
        self.record = false;
        self
    }

    fn escaped_name(&self) -> String {
        normalize(&self.name).replace('-', "_")
    }

    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.escaped_name(), self.version)
    }

    pub fn filename(&self) -> String {
        format!("{}-{}-{}.whl", self.escaped_name(), self.version, self.tag)
    }

    fn metadata(&self) -> String {
        let mut text = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        if let Some(spec) = &self.requires_python {
            text.push_str(&format!("Requires-Python: {spec}\n"));
        }
        for requirement in &self.requires {
            text.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        text.push_str("\nA test package.\nRequires-Dist: not-a-header\n");
        text
    }

    fn wheel_file(&self) -> String {
        format!(
            "Wheel-Version: 1.0\nGenerator: pyedge-tests\nRoot-Is-Purelib: {}\nTag: {}\n",
            self.purelib, self.tag
        )
    }

    /// The wheel's bytes: files, then METADATA, WHEEL and RECORD as pip expects.
    pub fn build(&self) -> Vec<u8> {
        let dist_info = self.dist_info();
        let mut entries = self.files.clone();
        entries.push((
            format!("{dist_info}/METADATA"),
            self.metadata().into_bytes(),
        ));
        entries.push((format!("{dist_info}/WHEEL"), self.wheel_file().into_bytes()));
        if self.record {
            let mut record = String::new();
            for (path, bytes) in &entries {
                let digest = base64_urlsafe(&Sha256::digest(bytes));
                record.push_str(&format!("{path},sha256={digest},{}\n", bytes.len()));
            }
            record.push_str(&format!("{dist_info}/RECORD,,\n"));
            entries.push((format!("{dist_info}/RECORD"), record.into_bytes()));
        }
        zip_bytes(&entries)
    }

    /// Build into `dir` and return the path.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        let path = dir.join(self.filename());
        std::fs::write(&path, self.build()).expect("write wheel");
        path
    }
}

/// A deflated zip of the given entries, in order.
pub fn zip_bytes(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in entries {
        writer
            .start_file(path.as_str(), options)
            .expect("start zip entry");
        writer.write_all(bytes).expect("write zip entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

fn base64_urlsafe(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A zip whose one entry (10 MiB of zeros) compresses about 1000:1.
pub fn zip_bomb_wheel(name: &str, version: &str) -> (String, Vec<u8>) {
    let spec = WheelSpec::pure(name, version).without_record();
    let mut entries = spec.files.clone();
    entries.push((
        format!("{}/zeros.bin", normalize(name).replace('-', "_")),
        vec![0u8; 10 * 1024 * 1024],
    ));
    let dist_info = spec.dist_info();
    entries.push((
        format!("{dist_info}/METADATA"),
        spec.metadata().into_bytes(),
    ));
    entries.push((format!("{dist_info}/WHEEL"), spec.wheel_file().into_bytes()));
    (spec.filename(), zip_bytes(&entries))
}

/// A wheel whose extra entry escapes the install directory.
pub fn zip_slip_wheel(name: &str, version: &str) -> (String, Vec<u8>) {
    let spec = WheelSpec::pure(name, version)
        .without_record()
        .file("../../evil.py", b"print('owned')\n");
    (spec.filename(), spec.build())
}

/// One file on the index.
#[derive(Clone, Debug)]
pub struct Dist {
    pub filename: String,
    pub bytes: Vec<u8>,
    /// The sha256 the page lists (defaults to the real one).
    pub listed_sha256: Option<String>,
    pub requires_python: Option<String>,
    pub yanked: bool,
    /// The wheel's METADATA, served at `<file>.metadata` (PEP 658).
    pub metadata: Option<Vec<u8>>,
}

impl Dist {
    pub fn new(filename: &str, bytes: Vec<u8>) -> Self {
        Self {
            filename: filename.to_string(),
            listed_sha256: Some(sha256_hex(&bytes)),
            bytes,
            requires_python: None,
            yanked: false,
            metadata: None,
        }
    }
}

#[derive(Default)]
struct IndexState {
    projects: BTreeMap<String, Vec<Dist>>,
    json: bool,
    /// Do not offer PEP 658 metadata files (like a plain file server).
    no_core_metadata: bool,
    requests: Vec<String>,
    /// Bytes served instead of the listed file (to provoke hash mismatches).
    tampered: BTreeMap<String, Vec<u8>>,
}

/// A simple index on 127.0.0.1 (ephemeral port), stopped on drop.
pub struct TestIndex {
    port: u16,
    state: Arc<Mutex<IndexState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestIndex {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(IndexState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, state, stop))
        };
        Self {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The index URL to pass as `--index-url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/simple", self.port)
    }

    pub fn file_url(&self, filename: &str) -> String {
        format!("http://127.0.0.1:{}/files/{filename}", self.port)
    }

    pub fn add(&self, project: &str, dist: Dist) {
        let mut state = self.state.lock().expect("index state");
        state
            .projects
            .entry(normalize(project))
            .or_default()
            .push(dist);
    }

    pub fn add_wheel(&self, spec: &WheelSpec) {
        let mut dist = Dist::new(&spec.filename(), spec.build());
        dist.requires_python = spec.requires_python.clone();
        dist.metadata = Some(spec.metadata().into_bytes());
        self.add(&spec.name, dist);
    }

    pub fn add_file(&self, project: &str, filename: &str, bytes: Vec<u8>) {
        self.add(project, Dist::new(filename, bytes));
    }

    /// Serve the JSON API (PEP 691) to clients that accept it.
    pub fn set_json(&self, json: bool) {
        self.state.lock().expect("index state").json = json;
    }

    /// Offer (default) or withhold PEP 658 `.metadata` files.
    pub fn set_core_metadata(&self, offered: bool) {
        self.state.lock().expect("index state").no_core_metadata = !offered;
    }

    /// Serve other bytes for `filename` than the page lists.
    pub fn tamper(&self, filename: &str, bytes: Vec<u8>) {
        self.state
            .lock()
            .expect("index state")
            .tampered
            .insert(filename.to_string(), bytes);
    }

    /// Request lines seen so far (`GET /simple/x/`).
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("index state").requests.clone()
    }
}

impl Drop for TestIndex {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: TcpListener, state: Arc<Mutex<IndexState>>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let state = state.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &state);
        });
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<IndexState>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let head = read_head(&mut stream)?;
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_string();
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (status, content_type, body) = {
        let mut state = state.lock().expect("index state");
        state.requests.push(format!("GET {path}"));
        route(&state, &path, &accept)
    };
    let reason = if status == 200 { "OK" } else { "Not Found" };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn route(state: &IndexState, path: &str, accept: &str) -> (u16, &'static str, Vec<u8>) {
    let not_found = (404, "text/plain", b"not found".to_vec());
    if let Some(filename) = path.strip_prefix("/files/") {
        if let Some(wheel) = filename.strip_suffix(".metadata") {
            let dist = state
                .projects
                .values()
                .flatten()
                .find(|d| d.filename == wheel);
            return match dist.and_then(|d| d.metadata.clone()) {
                Some(bytes) if !state.no_core_metadata => (200, "text/plain", bytes),
                _ => not_found,
            };
        }
        if let Some(bytes) = state.tampered.get(filename) {
            return (200, "application/octet-stream", bytes.clone());
        }
        let dist = state
            .projects
            .values()
            .flatten()
            .find(|d| d.filename == filename);
        return match dist {
            Some(dist) => (200, "application/octet-stream", dist.bytes.clone()),
            None => not_found,
        };
    }
    let Some(project) = path
        .strip_prefix("/simple/")
        .map(|p| p.trim_end_matches('/'))
    else {
        return not_found;
    };
    let Some(dists) = state.projects.get(&normalize(project)) else {
        return not_found;
    };
    if state.json && accept.contains("application/vnd.pypi.simple.v1+json") {
        (
            200,
            "application/vnd.pypi.simple.v1+json",
            json_page(project, dists, state.no_core_metadata).into_bytes(),
        )
    } else {
        (
            200,
            "text/html; charset=utf-8",
            html_page(project, dists, state.no_core_metadata).into_bytes(),
        )
    }
}

fn html_page(project: &str, dists: &[Dist], no_core_metadata: bool) -> String {
    let mut page = format!("<!DOCTYPE html>\n<html><body><h1>Links for {project}</h1>\n");
    for dist in dists {
        let fragment = dist
            .listed_sha256
            .as_ref()
            .map(|s| format!("#sha256={s}"))
            .unwrap_or_default();
        let requires_python = dist
            .requires_python
            .as_ref()
            .map(|r| {
                format!(
                    " data-requires-python=\"{}\"",
                    r.replace('<', "&lt;").replace('>', "&gt;")
                )
            })
            .unwrap_or_default();
        let yanked = if dist.yanked { " data-yanked=\"\"" } else { "" };
        let metadata = match (&dist.metadata, no_core_metadata) {
            (Some(bytes), false) => format!(" data-core-metadata=\"sha256={}\"", sha256_hex(bytes)),
            _ => String::new(),
        };
        page.push_str(&format!(
            "<a href=\"../../files/{0}{fragment}\"{requires_python}{yanked}{metadata}>{0}</a><br/>\n",
            dist.filename
        ));
    }
    page.push_str("</body></html>\n");
    page
}

fn json_page(project: &str, dists: &[Dist], no_core_metadata: bool) -> String {
    let files: Vec<serde_json::Value> = dists
        .iter()
        .map(|d| {
            let hashes = match &d.listed_sha256 {
                Some(sha) => serde_json::json!({ "sha256": sha }),
                None => serde_json::json!({}),
            };
            serde_json::json!({
                "filename": d.filename,
                "url": format!("/files/{}", d.filename),
                "hashes": hashes,
                "requires-python": d.requires_python,
                "yanked": d.yanked,
                "core-metadata": match (&d.metadata, no_core_metadata) {
                    (Some(bytes), false) => serde_json::json!({ "sha256": sha256_hex(bytes) }),
                    _ => serde_json::json!(false),
                },
            })
        })
        .collect();
    serde_json::json!({ "meta": { "api-version": "1.1" }, "name": normalize(project), "files": files }).to_string()
}

/// A URL where nothing listens (a port bound and released).
pub fn unreachable_index_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/simple")
}

/// An app directory with the given files.
pub fn app_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write app file");
    }
    dir
}
