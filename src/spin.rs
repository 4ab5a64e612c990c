//! `pyedge build --spin`: a Spin manifest (`spin_manifest_version = 2`) for the built
//! component, written beside it as `spin.toml`.
//!
//! What goes in, from Spin's manifest reference (v2) and its variables provider: one HTTP
//! trigger on the catch-all route `/...`; the component's `source` (the `.wasm`, relative
//! to the manifest); `allowed_outbound_hosts` from `[tool.pyedge] allowed-outbound-hosts`
//! plus the origin's scheme and authority (Spin refuses any other outbound call); with
//! `runtime-config = "wasi-config"` (and `config-store = "spin"`, the only
//! `wasi:config/store` version Spin implements) one application variable per
//! `[tool.pyedge.secrets]` name (`secret = true`; required, or an empty default) and per
//! `[tool.pyedge.config]` setting (its build-time value as the default, so
//! `SPIN_VARIABLE_NAME` overrides it), each exposed to the component under the same name,
//! which is the key `pyedge.config` asks the store for; with `runtime-config = "env"` the
//! settings as the component's static `environment` (Spin cannot put a secret there: it
//! says so in a comment).

use crate::config::{AppConfig, ConfigStore, RuntimeConfig};

/// Why `--spin` cannot describe this build (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SpinError {
    /// A script app: Spin runs HTTP components.
    #[error(
        "--spin writes a Spin manifest for an HTTP app, and {entry} is a script app (cli \
         world): Spin's HTTP trigger runs wasi:http components"
    )]
    Script {
        /// The entry file.
        entry: String,
    },
    /// `wasi-config` with the wasmtime store version, which Spin does not implement.
    #[error(
        "--spin: the component imports wasi:config/store@0.2.0-rc.1 (config-store = \
         \"wasmtime\"), which Spin does not provide; set [tool.pyedge] config-store = \"spin\""
    )]
    ConfigStore,
    /// An `allowed-outbound-hosts` entry Spin would refuse.
    #[error(
        "[tool.pyedge] allowed-outbound-hosts: {entry:?} is not `scheme://host[:port]` \
         (e.g. \"https://api.example.com\", \"https://*.example.com\", \"http://127.0.0.1:8080\")"
    )]
    OutboundHost {
        /// The entry.
        entry: String,
    },
}

/// Check that `--spin` can describe this app, before anything is built.
pub fn check(app: &AppConfig, http: bool) -> Result<(), SpinError> {
    if !http {
        return Err(SpinError::Script {
            entry: app.entry_path.clone(),
        });
    }
    if app.runtime_config == RuntimeConfig::WasiConfig && app.config_store != ConfigStore::Spin {
        return Err(SpinError::ConfigStore);
    }
    for entry in &app.allowed_outbound_hosts {
        check_outbound_host(entry)?;
    }
    Ok(())
}

/// `scheme://host[:port]`, where Spin allows `*` for the scheme, a leading `*.` label and
/// the port.
fn check_outbound_host(entry: &str) -> Result<(), SpinError> {
    let bad = || SpinError::OutboundHost {
        entry: entry.to_string(),
    };
    let (scheme, rest) = entry.split_once("://").ok_or_else(bad)?;
    let scheme_ok = scheme == "*"
        || (!scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| p == "*" || (!p.is_empty() && p.parse::<u16>().is_ok()));
    if scheme_ok && host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The origin's `scheme://authority` (what Spin's allow-list names).
fn origin_host(origin: &str) -> String {
    let (scheme, rest) = origin.split_once("://").unwrap_or(("https", origin));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// A Spin component id: lower-case letters, digits and '-', starting with a letter.
fn component_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').to_string();
    match id.chars().next() {
        Some(c) if c.is_ascii_lowercase() => id,
        Some(_) => format!("app-{id}"),
        None => "app".to_string(),
    }
}

/// A TOML string literal.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The manifest for the component written at `source` (a path relative to the
/// manifest), for the app `name` at `version`.
pub fn manifest(app: &AppConfig, name: &str, version: &str, source: &str) -> String {
    let id = component_id(name);
    let mut out = String::from(
        "# Written by `pyedge build --spin`: run with `spin up` beside the component.\n\
         spin_manifest_version = 2\n\n[application]\n",
    );
    out.push_str(&format!(
        "name = {}\nversion = {}\n",
        quoted(name),
        quoted(version)
    ));
    let variables = app.runtime_config == RuntimeConfig::WasiConfig
        && !(app.secrets.is_empty() && app.settings.is_empty());
    if variables {
        out.push_str("\n[variables]\n");
        for (secret, spec) in &app.secrets {
            if spec.required {
                out.push_str(&format!(
                    "{secret} = {{ required = true, secret = true }}\n"
                ));
            } else {
                out.push_str(&format!(
                    "{secret} = {{ default = \"\", secret = true }}   # optional: empty when unset\n"
                ));
            }
        }
        for (setting, value) in &app.settings {
            out.push_str(&format!("{setting} = {{ default = {} }}\n", quoted(value)));
        }
    }
    out.push_str(&format!(
        "\n[[trigger.http]]\nroute = \"/...\"\ncomponent = {}\n\n[component.{id}]\nsource = {}\n",
        quoted(&id),
        quoted(source)
    ));
    let mut hosts: Vec<String> = app.allowed_outbound_hosts.clone();
    if let Some(origin) = &app.origin {
        let host = origin_host(origin);
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    out.push_str(&format!(
        "allowed_outbound_hosts = [{}]\n",
        hosts
            .iter()
            .map(|h| quoted(h))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if app.runtime_config == RuntimeConfig::Env {
        let pairs: Vec<String> = app
            .settings
            .iter()
            .map(|(k, v)| format!("{} = {}", quoted(k), quoted(v)))
            .collect();
        if !pairs.is_empty() {
            out.push_str(&format!("environment = {{ {} }}\n", pairs.join(", ")));
        }
        if !app.secrets.is_empty() {
            out.push_str(&format!(
                "# Not in `environment`: {} (secrets). Spin's environment is static and part of \
                 this file; for secrets use [tool.pyedge] runtime-config = \"wasi-config\" with \
                 config-store = \"spin\" (Spin variables).\n",
                app.secrets.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if variables {
        out.push_str(&format!("\n[component.{id}.variables]\n"));
        for name in app.secrets.keys().chain(app.settings.keys()) {
            out.push_str(&format!("{name} = \"{{{{ {name} }}}}\"\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_hosts_as_spin_takes_them() {
        for ok in [
            "https://api.example.com",
            "https://*.example.com",
            "http://127.0.0.1:8080",
            "*://example.com:*",
            "https://example.com:443",
        ] {
            assert!(check_outbound_host(ok).is_ok(), "{ok}");
        }
        for bad in [
            "api.example.com",
            "https://",
            "https://example.com/path",
            "https://example.com:99999",
            "https://exa mple.com",
        ] {
            assert!(check_outbound_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn component_ids_and_origin_hosts() {
        assert_eq!(component_id("Edge_App.v2"), "edge-app-v2");
        assert_eq!(component_id("2fast"), "app-2fast");
        assert_eq!(component_id("!!"), "app");
        assert_eq!(
            origin_host("https://origin.example:8443/base/path"),
            "https://origin.example:8443"
        );
    }
}
