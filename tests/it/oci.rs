//! `pyedge package --oci-layout` and `pyedge push` (issue 22, part 5): the Wasm OCI
//! artifact, pushed to a real registry (Debian's `docker-registry`, the CNCF
//! distribution registry, started here on 127.0.0.1 with filesystem storage), read back
//! byte for byte over the distribution API and with `skopeo inspect --raw`.
//! scripts/test.sh installs both Debian packages.

use crate::common::cli::pyedge;
use crate::common::{built, describe, scratch};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry serve` on a free loopback port, killed when dropped.
struct Registry {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Registry {
    /// Start one; `htpasswd` (user, password) turns on basic auth.
    fn start(name: &str, htpasswd: Option<(&str, &str)>) -> Registry {
        let binary = std::env::var_os("PYEDGE_DOCKER_REGISTRY")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/docker-registry"));
        assert!(
            binary.is_file(),
            "{} is missing: install Debian's docker-registry (scripts/test.sh does)",
            binary.display()
        );
        let dir = scratch(&format!("oci-registry-{name}"));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.join("data").display()
        );
        if let Some((user, password)) = htpasswd {
            let hash = bcrypt::hash(password, 4).unwrap();
            std::fs::write(dir.join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: pyedge-test\n    path: {}\n",
                dir.join("htpasswd").display()
            ));
        }
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new(&binary)
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start: {}",
                std::fs::read_to_string(registry.dir.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// GET `/v2/{path}` with `accept`, optionally with basic auth; the body's bytes.
    fn get(&self, path: &str, accept: &str, auth: Option<(&str, &str)>) -> Vec<u8> {
        let url = format!("http://{}/v2/{path}", self.host());
        let mut request = ureq::get(&url).header("accept", accept);
        if let Some((user, password)) = auth {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header("authorization", &format!("Basic {token}"));
        }
        let mut response = request
            .call()
            .unwrap_or_else(|err| panic!("GET {url}: {err}"));
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .unwrap();
        body
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap_or_else(|err| panic!("blob {digest} in {}: {err}", layout.display()))
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON")
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let output = Command::new("skopeo")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run skopeo (Debian's skopeo; scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        describe(&output)
    );
    output.stdout
}

#[test]
fn push_and_package_give_the_same_artifact_read_back_byte_identical() {
    let wasm = built("geo-router", &[]);
    let component = std::fs::read(&wasm).unwrap();
    let dir = scratch("oci-push");
    let layout = dir.join("layout");

    // The layout first: oci-layout, index.json, the three blobs.
    let packaged = pyedge()
        .args(["package", wasm.to_str().unwrap(), "--oci-layout"])
        .arg(&layout)
        .args([
            "--tag",
            "1.0",
            "--annotation",
            "org.opencontainers.image.title=geo",
        ])
        .args(["--json"])
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success();
    let packaged = json(packaged.stdout().as_bytes());
    let manifest_digest = packaged["manifest_digest"].as_str().unwrap().to_string();
    assert_eq!(
        json(&std::fs::read(layout.join("oci-layout")).unwrap())["imageLayoutVersion"],
        "1.0.0"
    );
    let index = json(&std::fs::read(layout.join("index.json")).unwrap());
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["manifests"][0]["digest"], manifest_digest.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "1.0"
    );
    let manifest_bytes = blob(&layout, &manifest_digest);
    assert_eq!(sha256(&manifest_bytes), manifest_digest);
    let manifest = json(&manifest_bytes);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["layers"][0]["digest"], sha256(&component).as_str());
    assert_eq!(manifest["layers"][0]["size"], component.len());
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "geo"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.created"],
        "1970-01-01T00:00:00Z"
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let config_bytes = blob(&layout, &config_digest);
    let config = json(&config_bytes);
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    assert_eq!(config["layerDigests"][0], sha256(&component).as_str());
    let exports = config["component"]["exports"].as_array().unwrap();
    assert!(
        exports.iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("wasi:http/incoming-handler@")),
        "{config}"
    );
    assert!(config["component"]["target"]
        .as_str()
        .unwrap()
        .starts_with("wasi:http/proxy@"));
    assert!(config["component"]["imports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i.as_str().unwrap().starts_with("wasi:http/types@")));
    assert_eq!(blob(&layout, &sha256(&component)), component);

    // The push: the registry holds the same three blobs.
    let registry = Registry::start("anonymous", None);
    let reference = format!("{}/edge/geo:1.0", registry.host());
    let pushed = pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            &reference,
            "--insecure",
            "--json",
        ])
        .args(["--annotation", "org.opencontainers.image.title=geo"])
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .assert()
        .success();
    let pushed = json(pushed.stdout().as_bytes());
    assert_eq!(pushed["manifest_digest"], manifest_digest.as_str());
    assert_eq!(
        pushed["pinned"],
        format!("{}/edge/geo@{manifest_digest}", registry.host()).as_str()
    );
    let accept = "application/vnd.oci.image.manifest.v1+json";
    assert_eq!(
        registry.get("edge/geo/manifests/1.0", accept, None),
        manifest_bytes
    );
    assert_eq!(
        registry.get(
            &format!("edge/geo/manifests/{manifest_digest}"),
            accept,
            None
        ),
        manifest_bytes
    );
    assert_eq!(
        registry.get(&format!("edge/geo/blobs/{config_digest}"), "*/*", None),
        config_bytes
    );
    assert!(
        registry.get(
            &format!("edge/geo/blobs/{}", sha256(&component)),
            "*/*",
            None
        ) == component,
        "the layer read back differs from the component"
    );

    // skopeo, a client we did not write, agrees (it reads artifacts raw only).
    let docker_ref = format!("docker://{reference}");
    assert_eq!(
        skopeo(&["inspect", "--raw", "--tls-verify=false", &docker_ref]),
        manifest_bytes
    );
    assert_eq!(
        skopeo(&[
            "inspect",
            "--config",
            "--raw",
            "--tls-verify=false",
            &docker_ref
        ]),
        config_bytes
    );
    let layout_ref = format!("oci:{}:1.0", layout.display());
    assert_eq!(skopeo(&["inspect", "--raw", &layout_ref]), manifest_bytes);

    // Pushed again, it is the same artifact; dated by SOURCE_DATE_EPOCH, a new config.
    let again = pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            &reference,
            "--insecure",
            "--json",
        ])
        .args(["--annotation", "org.opencontainers.image.title=geo"])
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success();
    assert_eq!(
        json(again.stdout().as_bytes())["manifest_digest"],
        manifest_digest.as_str()
    );
    let dated = pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            &format!("{}/edge/geo:dated", registry.host()),
        ])
        .args(["--insecure", "--json"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .assert()
        .success();
    let dated_digest = json(dated.stdout().as_bytes())["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(dated_digest, manifest_digest);
    let dated_manifest = json(&registry.get("edge/geo/manifests/dated", accept, None));
    let dated_config = json(&registry.get(
        &format!(
            "edge/geo/blobs/{}",
            dated_manifest["config"]["digest"].as_str().unwrap()
        ),
        "*/*",
        None,
    ));
    assert_eq!(dated_config["created"], "2023-11-14T22:13:20Z");
}

#[test]
fn push_takes_credentials_from_the_docker_config() {
    let wasm = built("hello", &[]);
    let registry = Registry::start("auth", Some(("ada", "s3cret-pw")));
    let dir = scratch("oci-auth");
    let reference = format!("{}/private/hello:latest", registry.host());

    // No credentials: the registry says 401, pyedge says so and exits 6.
    let anonymous = pyedge()
        .args(["push", wasm.to_str().unwrap(), &reference, "--insecure"])
        .env("DOCKER_CONFIG", dir.join("empty"))
        .assert()
        .code(6);
    let message = anonymous.stderr();
    assert!(
        message.contains(&format!("push to {reference} failed")),
        "{message}"
    );
    assert!(message.contains("docker login"), "{message}");

    // Docker's config.json, as `docker login` writes it.
    let config_dir = dir.join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("ada:s3cret-pw");
    std::fs::write(
        config_dir.join("config.json"),
        serde_json::json!({ "auths": { registry.host(): { "auth": auth } } }).to_string(),
    )
    .unwrap();
    let pushed = pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            &reference,
            "--insecure",
            "--json",
        ])
        .env("DOCKER_CONFIG", &config_dir)
        .assert()
        .success();
    let digest = json(pushed.stdout().as_bytes())["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = registry.get(
        "private/hello/manifests/latest",
        "application/vnd.oci.image.manifest.v1+json",
        Some(("ada", "s3cret-pw")),
    );
    assert_eq!(sha256(&manifest), digest);
    // A script's component targets wasi:cli.
    let config = json(&registry.get(
        &format!(
            "private/hello/blobs/{}",
            json(&manifest)["config"]["digest"].as_str().unwrap()
        ),
        "*/*",
        Some(("ada", "s3cret-pw")),
    ));
    assert!(config["component"]["target"]
        .as_str()
        .unwrap()
        .starts_with("wasi:cli/command@"));

    // A config.json that is not JSON is named.
    std::fs::write(config_dir.join("config.json"), "{ not json").unwrap();
    let broken = pyedge()
        .args(["push", wasm.to_str().unwrap(), &reference, "--insecure"])
        .env("DOCKER_CONFIG", &config_dir)
        .assert()
        .code(6);
    assert!(
        broken.stderr().contains("config.json"),
        "{}",
        broken.stderr()
    );
}

#[test]
fn bad_input_to_package_and_push_is_named_and_writes_nothing() {
    let dir = scratch("oci-refusals");
    let wasm = built("hello", &[]);

    // A layout directory that is not empty is left alone.
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    pyedge()
        .args(["package", wasm.to_str().unwrap(), "--oci-layout"])
        .arg(&full)
        .assert()
        .code(2)
        .stderr_has("is not empty");
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);
    // No staging directory is left beside it either.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".oci-layout-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A core module is not an artifact pyedge ships.
    let module = dir.join("module.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    pyedge()
        .args(["package", module.to_str().unwrap(), "--oci-layout"])
        .arg(dir.join("m"))
        .assert()
        .code(2)
        .stderr_has("is a core module, not a component");
    assert!(!dir.join("m").exists());

    // A bad reference, annotation or SOURCE_DATE_EPOCH: exit 2, nothing sent.
    pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            "Not A Reference!",
            "--insecure",
        ])
        .assert()
        .code(2)
        .stderr_has("is not an image reference");
    pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            "127.0.0.1:1/x:1",
            "--annotation",
            "nokey",
        ])
        .assert()
        .code(2)
        .stderr_has("--annotation \"nokey\" is not KEY=VALUE");
    pyedge()
        .args(["package", wasm.to_str().unwrap(), "--oci-layout"])
        .arg(dir.join("dated"))
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .assert()
        .code(2)
        .stderr_has("SOURCE_DATE_EPOCH=\"yesterday\"");
    assert!(!dir.join("dated").exists());

    // A registry that is not there: exit 6, the reference named.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reference = format!("127.0.0.1:{port}/edge/hello:1");
    pyedge()
        .args(["push", wasm.to_str().unwrap(), &reference, "--insecure"])
        .env("DOCKER_CONFIG", dir.join("none"))
        .assert()
        .code(6)
        .stderr_has(&format!("push to {reference} failed"));
    // Over HTTPS to a loopback registry that speaks HTTP: the hint says --insecure.
    let registry = Registry::start("plain-http", None);
    pyedge()
        .args([
            "push",
            wasm.to_str().unwrap(),
            &format!("{}/edge/hello:1", registry.host()),
        ])
        .env("DOCKER_CONFIG", dir.join("none"))
        .assert()
        .code(6)
        .stderr_has("add --insecure");
}
