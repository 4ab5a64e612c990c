//! A component as a Wasm OCI artifact: `pyedge package --oci-layout DIR` writes it as an
//! OCI image layout, `pyedge push` sends it to a registry.
//!
//! The format is the CNCF TAG Runtime's "Wasm OCI Artifact" (the one `wkg oci push`
//! writes and Spin, wasmCloud and `wkg oci pull` read): an OCI image manifest whose
//! config has media type `application/vnd.wasm.config.v0+json` and holds the component's
//! imports and exports, and one `application/wasm` layer, the component itself.
//!
//! Why not the `oci-wasm` crate, which builds that config: its 0.6 release pins
//! wit-component/wit-parser 0.253 while pyedge is on 0.254 (a second copy of both), and
//! the config is six documented fields; the imports and exports come from the same
//! wasmparser reading `pyedge inspect` uses. The registry side (auth challenges, chunked
//! upload, manifest PUT) is `oci-client`'s, not ours.
//!
//! Deterministic: the same component and `SOURCE_DATE_EPOCH` give byte-identical
//! config, manifest and digests, whether packaged or pushed.

use crate::inspect::inspect_bytes;
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's media type (an OCI image manifest).
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config's media type in the Wasm OCI artifact format.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The layer's media type: the component's bytes.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// Everything that goes to the registry or the layout, made once so both agree byte for
/// byte.
#[derive(Debug)]
pub struct Artifact {
    /// The component (the one layer).
    pub layer: Vec<u8>,
    /// The config blob (JSON).
    pub config: Vec<u8>,
    /// The manifest (JSON).
    pub manifest: Vec<u8>,
}

/// The config blob, as the Wasm OCI artifact format names its fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig<'a> {
    created: &'a str,
    architecture: &'static str,
    /// `wasip2` for a component (`wasip1` is for core modules, which pyedge never ships).
    os: &'static str,
    layer_digests: Vec<String>,
    component: ComponentInfo<'a>,
}

#[derive(Serialize)]
struct ComponentInfo<'a> {
    exports: &'a [String],
    imports: &'a [String],
    /// The world the component targets, where pyedge knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

/// What `package` and `push` refuse, and what a registry can do wrong.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The file is WebAssembly but not a component.
    #[error("{} is a core module, not a component: only components are packaged (build it with `pyedge build`)", path.display())]
    NotComponent {
        /// The file.
        path: PathBuf,
    },
    /// wasmparser cannot read it.
    #[error("{} is not valid WebAssembly: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// wasmparser's message.
        detail: String,
    },
    /// `SOURCE_DATE_EPOCH` is set but is not a count of seconds.
    #[error("SOURCE_DATE_EPOCH={value:?} is not a number of seconds since 1970-01-01 (unset it to date the artifact at the epoch)")]
    SourceDateEpoch {
        /// What it held.
        value: String,
    },
    /// An `--annotation` that is not `KEY=VALUE`.
    #[error("--annotation {value:?} is not KEY=VALUE")]
    Annotation {
        /// What was given.
        value: String,
    },
    /// The layout directory already holds something.
    #[error("{} is not empty: choose a new directory for the OCI layout, or remove it", path.display())]
    LayoutNotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The reference does not parse.
    #[error("{reference:?} is not an image reference ({detail}); write it as REGISTRY/REPOSITORY[:TAG], e.g. ghcr.io/me/app:1.0")]
    Reference {
        /// What was given.
        reference: String,
        /// The parser's reason.
        detail: String,
    },
    /// Docker's credential store has credentials for the registry but cannot give them.
    #[error("cannot read the credentials for {registry} from the Docker config ({}): {detail}", config.display())]
    Credentials {
        /// The registry.
        registry: String,
        /// The config file looked at.
        config: PathBuf,
        /// Why.
        detail: String,
    },
    /// The registry is unreachable or refused the push.
    #[error("push to {reference} failed: {detail}{hint}")]
    Registry {
        /// The reference pushed to.
        reference: String,
        /// What the registry (or the connection) said.
        detail: String,
        /// What to try.
        hint: String,
    },
}

impl OciError {
    /// The exit code: a registry that cannot take the push is [`Exit::Publish`]; the rest
    /// is bad input (usage).
    ///
    /// [`Exit::Publish`]: crate::error::Exit::Publish
    pub fn exit(&self) -> crate::error::Exit {
        match self {
            OciError::Registry { .. } | OciError::Credentials { .. } => crate::error::Exit::Publish,
            _ => crate::error::Exit::Usage,
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The creation date: `SOURCE_DATE_EPOCH` when set (reproducible builds' convention),
/// else the epoch, never the clock, so the same component gives the same digests.
pub fn created_from_env() -> Result<String, OciError> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| OciError::SourceDateEpoch {
                    value: value.clone(),
                })?
        }
        _ => 0,
    };
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    Ok(humantime::format_rfc3339_seconds(time).to_string())
}

/// Parse `--annotation KEY=VALUE` arguments.
pub fn parse_annotations(args: &[String]) -> Result<BTreeMap<String, String>, OciError> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
            _ => Err(OciError::Annotation { value: arg.clone() }),
        })
        .collect()
}

impl Artifact {
    /// Make the config and manifest for the component `wasm` (read from `path`).
    pub fn new(
        path: &Path,
        wasm: Vec<u8>,
        created: &str,
        mut annotations: BTreeMap<String, String>,
    ) -> Result<Artifact, OciError> {
        let info = inspect_bytes(&wasm).map_err(|err| OciError::Invalid {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })?;
        if !info.component {
            return Err(OciError::NotComponent {
                path: path.to_path_buf(),
            });
        }
        let layer_digest = digest(&wasm);
        let config = serde_json::to_vec(&WasmConfig {
            created,
            architecture: "wasm",
            os: "wasip2",
            layer_digests: vec![layer_digest.clone()],
            component: ComponentInfo {
                exports: &info.exports,
                imports: &info.imports,
                target: target_world(&info.exports),
            },
        })
        .expect("the config serializes");
        annotations
            .entry("org.opencontainers.image.created".to_string())
            .or_insert_with(|| created.to_string());
        let manifest = OciImageManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
            config: descriptor(CONFIG_MEDIA_TYPE, &config),
            layers: vec![descriptor(LAYER_MEDIA_TYPE, &wasm)],
            subject: None,
            artifact_type: None,
            annotations: Some(annotations),
        };
        let manifest = serde_json::to_vec(&manifest).expect("the manifest serializes");
        Ok(Artifact {
            layer: wasm,
            config,
            manifest,
        })
    }

    /// The manifest's digest: what a registry names the pushed artifact by.
    pub fn manifest_digest(&self) -> String {
        digest(&self.manifest)
    }

    /// Write the artifact as an OCI image layout (`oci-layout`, `index.json`,
    /// `blobs/sha256/…`) into `dir`, which must not exist or be empty. The layout is
    /// written beside it and renamed into place: a failure leaves nothing half-written.
    /// `tag` becomes the manifest's `org.opencontainers.image.ref.name`.
    pub fn write_layout(&self, dir: &Path, tag: Option<&str>) -> anyhow::Result<()> {
        use anyhow::Context;
        if dir.exists() {
            let empty = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read {}", dir.display()))?
                .next()
                .is_none();
            if !empty {
                return Err(OciError::LayoutNotEmpty {
                    path: dir.to_path_buf(),
                }
                .into());
            }
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".oci-layout-")
            .tempdir_in(&parent)
            .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
        let blobs = staging.path().join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs)?;
        for blob in [&self.layer, &self.config, &self.manifest] {
            let name = digest(blob);
            let hex = name.trim_start_matches("sha256:");
            std::fs::write(blobs.join(hex), blob)?;
        }
        std::fs::write(
            staging.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        let mut entry = serde_json::json!({
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": self.manifest_digest(),
            "size": self.manifest.len(),
        });
        if let Some(tag) = tag {
            entry["annotations"] = serde_json::json!({ "org.opencontainers.image.ref.name": tag });
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [entry],
        });
        std::fs::write(
            staging.path().join("index.json"),
            serde_json::to_vec(&index).expect("the index serializes"),
        )?;
        if dir.exists() {
            // Empty (checked above): rename cannot replace a directory on every system.
            std::fs::remove_dir(dir)
                .with_context(|| format!("cannot replace {}", dir.display()))?;
        }
        let staged = staging.keep();
        std::fs::rename(&staged, dir).with_context(|| {
            let _ = std::fs::remove_dir_all(&staged);
            format!("cannot move the layout into {}", dir.display())
        })?;
        Ok(())
    }

    /// Push to `reference` (`REGISTRY/REPOSITORY[:TAG|@DIGEST]`) over HTTPS, or plain
    /// HTTP with `insecure`. Credentials come from Docker's config (`$DOCKER_CONFIG` or
    /// `~/.docker/config.json`: `auths`, `credHelpers`, `credsStore`); none there means
    /// anonymous. Returns the reference by digest.
    pub fn push(&self, reference: &str, insecure: bool) -> anyhow::Result<String> {
        let image: oci_client::Reference =
            reference
                .parse()
                .map_err(|err: oci_client::ParseError| OciError::Reference {
                    reference: reference.to_string(),
                    detail: err.to_string(),
                })?;
        // reqwest is built without a default rustls provider (see Cargo.toml): ring's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let registry = image.resolve_registry().to_string();
        let auth = registry_auth(&registry)?;
        let client = oci_client::Client::new(oci_client::client::ClientConfig {
            protocol: if insecure {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            ..Default::default()
        });
        let registry_error = |err: oci_client::errors::OciDistributionError| {
            let detail = error_chain(&err);
            let hint = if !insecure
                && (registry.starts_with("127.") || registry.starts_with("localhost"))
            {
                " (a registry on loopback usually speaks plain HTTP: add --insecure)".to_string()
            } else if detail.contains("401") || detail.to_lowercase().contains("unauthorized") {
                " (log in with `docker login`, or put the registry's credentials in the Docker config.json)".to_string()
            } else {
                String::new()
            };
            OciError::Registry {
                reference: reference.to_string(),
                detail,
                hint,
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            client.store_auth_if_needed(&registry, &auth).await;
            for blob in [&self.layer, &self.config] {
                let blob_digest = digest(blob);
                if !client
                    .blob_exists(&image, &blob_digest)
                    .await
                    .map_err(registry_error)?
                {
                    client
                        .push_blob(&image, blob.clone(), &blob_digest)
                        .await
                        .map_err(registry_error)?;
                }
            }
            client
                .push_manifest_raw(
                    &image,
                    self.manifest.clone(),
                    http::HeaderValue::from_static(MANIFEST_MEDIA_TYPE),
                )
                .await
                .map_err(registry_error)
        })?;
        Ok(format!(
            "{}/{}@{}",
            image.resolve_registry(),
            image.repository(),
            self.manifest_digest()
        ))
    }
}

/// A descriptor of `bytes` with `media_type`.
fn descriptor(media_type: &str, bytes: &[u8]) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.to_string(),
        digest: digest(bytes),
        size: bytes.len() as i64,
        urls: None,
        annotations: None,
        artifact_type: None,
    }
}

/// The world a pyedge component targets, from what it exports.
fn target_world(exports: &[String]) -> Option<String> {
    exports.iter().find_map(|export| {
        let (name, version) = export.split_once('@')?;
        match name {
            "wasi:http/incoming-handler" => Some(format!("wasi:http/proxy@{version}")),
            "wasi:cli/run" => Some(format!("wasi:cli/command@{version}")),
            _ => None,
        }
    })
}

/// An error and its causes on one line (reqwest's Display alone says "error sending
/// request" without the reason).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The credentials Docker has for `registry`; anonymous when there is no config or it
/// has none for the registry.
fn registry_auth(registry: &str) -> Result<oci_client::secrets::RegistryAuth, OciError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    use oci_client::secrets::RegistryAuth;
    // Docker keys Docker Hub's credentials by its v1 URL.
    let server = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    // The crate reports a missing file as a read error; no file means no credentials.
    if !docker_config_path().is_file() {
        return Ok(RegistryAuth::Anonymous);
    }
    match docker_credential::get_credential(server) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            Ok(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(token)) => Ok(RegistryAuth::Bearer(token)),
        Err(E::ConfigNotFound | E::NoCredentialConfigured) => Ok(RegistryAuth::Anonymous),
        Err(err) => Err(OciError::Credentials {
            registry: registry.to_string(),
            config: docker_config_path(),
            detail: err.to_string(),
        }),
    }
}

/// Where Docker's config is read from (for messages).
fn docker_config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".docker").join("config.json"))
            .unwrap_or_else(|| PathBuf::from("~/.docker/config.json")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_world_follows_the_export() {
        assert_eq!(
            target_world(&["wasi:http/incoming-handler@0.2.12".into()]).as_deref(),
            Some("wasi:http/proxy@0.2.12")
        );
        assert_eq!(
            target_world(&["wasi:cli/run@0.2.6".into()]).as_deref(),
            Some("wasi:cli/command@0.2.6")
        );
        assert_eq!(target_world(&["my:pkg/thing".into()]), None);
    }

    #[test]
    fn annotations_are_key_value() {
        let parsed = parse_annotations(&["a=b".into(), "c=d=e".into()]).unwrap();
        assert_eq!(parsed["c"], "d=e");
        assert!(matches!(
            parse_annotations(&["=x".into()]),
            Err(OciError::Annotation { .. })
        ));
        assert!(parse_annotations(&["novalue".into()]).is_err());
    }

    #[test]
    fn a_core_module_is_refused() {
        let module = b"\0asm\x01\0\0\0".to_vec();
        let err = Artifact::new(
            Path::new("m.wasm"),
            module,
            "1970-01-01T00:00:00Z",
            BTreeMap::new(),
        )
        .unwrap_err();
        assert!(matches!(err, OciError::NotComponent { .. }), "{err}");
    }

    #[test]
    fn the_same_component_gives_the_same_digests() {
        // The smallest component: its header only.
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        let a = Artifact::new(
            Path::new("c.wasm"),
            component.clone(),
            "1970-01-01T00:00:00Z",
            BTreeMap::new(),
        )
        .unwrap();
        let b = Artifact::new(
            Path::new("c.wasm"),
            component,
            "1970-01-01T00:00:00Z",
            BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(a.manifest, b.manifest);
        let config: serde_json::Value = serde_json::from_slice(&a.config).unwrap();
        assert_eq!(config["os"], "wasip2");
        assert_eq!(config["layerDigests"][0], digest(&a.layer));
        let manifest: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(manifest["config"]["digest"], digest(&a.config));
        assert_eq!(manifest["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.created"],
            "1970-01-01T00:00:00Z"
        );
    }
}
