//! Test support for HTTP components: the real `pyedge serve` on 127.0.0.1 (ephemeral
//! port) and a small client that sends it real requests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A running `pyedge serve` whose stderr is collected; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, from the `listening on` line.
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Serve the wasi:http component at `wasm`.
    pub fn start(wasm: &Path) -> Server {
        Self::start_with_env(wasm, &[])
    }

    /// Serve `wasm` with extra environment variables for `pyedge serve` itself.
    pub fn start_with_env(wasm: &Path, env: &[(&str, &Path)]) -> Server {
        Self::start_with(wasm, env, &[])
    }

    /// Serve `wasm` with extra `pyedge serve` flags.
    pub fn start_with_args(wasm: &Path, args: &[&str]) -> Server {
        Self::start_with(wasm, &[], args)
    }

    fn start_with(wasm: &Path, env: &[(&str, &Path)], args: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pyedge"));
        command
            .args(["serve", wasm.to_str().unwrap(), "--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start pyedge serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let reader = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().trim_end_matches('/').to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("pyedge serve did not start: {}", stderr.lock().unwrap()));
        Server {
            child,
            base,
            stderr,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Ctrl-C, then the exit code.
    pub fn interrupt(&mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
        self.child.wait().expect("wait for pyedge serve").code()
    }

    /// The server's resident memory in kB (Linux `VmRSS`).
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        // Log lines arrive on another thread; give them a moment.
        std::thread::sleep(Duration::from_millis(200));
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A response as the client saw it.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Send one request and read the whole response (any status).
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let agent = agent();
    let mut response = match body {
        Some(body) => agent.run(builder.body(body.to_vec()).unwrap()),
        None => agent.run(builder.body(()).unwrap()),
    }
    .unwrap_or_else(|err| panic!("{method} {url}: {err}"));
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .unwrap();
    Reply {
        status: response.status().as_u16(),
        content_type,
        headers: response.headers().clone(),
        body,
    }
}

/// The body as text.
pub fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}
