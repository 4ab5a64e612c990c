//! `pyedge build --spin` (issue 22, part 4): a `spin.toml` beside the component that
//! Spin's manifest v2 reader would take, from `[tool.pyedge]`. Spin itself is not
//! installable here (no Debian, PyPI or npm package); the manifest is parsed and its keys
//! checked, and the component it names is served under `pyedge serve` with Spin's
//! `wasi:config/store` version, answering from the variables the manifest declares.

use crate::common::cli::pyedge;
use crate::common::serve::{request, text};
use crate::common::{fixture, scratch};
use crate::web_apps::Host;
use std::path::{Path, PathBuf};

/// The runtime-config fixture app with `pyproject`, built with `--spin` into `out/`.
fn build_spin(name: &str, pyproject: &str) -> (PathBuf, toml::Table) {
    let dir = scratch(&format!("spin-{name}"));
    let app = dir.join("edge-gate");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::copy(fixture("runtime-config").join("app.py"), app.join("app.py")).unwrap();
    std::fs::write(app.join("pyproject.toml"), pyproject).unwrap();
    let wasm = dir.join("out/gate.wasm");
    pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .arg("--spin")
        .assert()
        .success()
        .stdout_has("Spin manifest: ");
    let manifest = std::fs::read_to_string(dir.join("out/spin.toml")).expect("spin.toml");
    (wasm, toml::from_str(&manifest).expect("spin.toml parses"))
}

fn table<'a>(value: &'a toml::Value, key: &str) -> &'a toml::Table {
    value
        .get(key)
        .and_then(|v| v.as_table())
        .unwrap_or_else(|| panic!("no table {key} in {value}"))
}

#[test]
fn spin_manifest_with_variables_outbound_hosts_and_the_component() {
    let (wasm, doc) = build_spin(
        "variables",
        "[project]\nname = \"Edge_Gate\"\nversion = \"1.2.3\"\n\n\
         [tool.pyedge]\nruntime-config = \"wasi-config\"\nconfig-store = \"spin\"\n\
         origin = \"https://origin.example:8443/base\"\n\
         allowed-outbound-hosts = [\"https://api.example.com\", \"https://*.cdn.example\"]\n\n\
         [tool.pyedge.config]\ngreeting = \"from the build\"\n\n\
         [tool.pyedge.secrets]\napi_token = { required = true }\nbackup_token = {}\n",
    );
    let doc = toml::Value::Table(doc);
    assert_eq!(doc["spin_manifest_version"].as_integer(), Some(2));
    let application = table(&doc, "application");
    assert_eq!(application["name"].as_str(), Some("Edge_Gate"));
    assert_eq!(application["version"].as_str(), Some("1.2.3"));

    let variables = table(&doc, "variables");
    assert_eq!(variables["api_token"]["required"].as_bool(), Some(true));
    assert_eq!(variables["api_token"]["secret"].as_bool(), Some(true));
    assert_eq!(variables["backup_token"]["default"].as_str(), Some(""));
    assert_eq!(variables["backup_token"]["secret"].as_bool(), Some(true));
    assert_eq!(
        variables["greeting"]["default"].as_str(),
        Some("from the build")
    );

    let triggers = doc["trigger"]["http"].as_array().expect("[[trigger.http]]");
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0]["route"].as_str(), Some("/..."));
    assert_eq!(triggers[0]["component"].as_str(), Some("edge-gate"));

    let component = &table(&doc, "component")["edge-gate"];
    assert_eq!(component["source"].as_str(), Some("gate.wasm"));
    let hosts: Vec<&str> = component["allowed_outbound_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "https://api.example.com",
            "https://*.cdn.example",
            "https://origin.example:8443"
        ]
    );
    let exposed = table(component, "variables");
    for name in ["api_token", "backup_token", "greeting"] {
        assert_eq!(
            exposed[name].as_str(),
            Some(format!("{{{{ {name} }}}}").as_str())
        );
    }
    // The manifest's source is the component, beside it.
    assert!(Path::new(&wasm).is_file());

    // The component reads those names from Spin's store version (pyedge serve provides it).
    let host = Host::pyedge_with(&wasm, &["--config", "api_token=abc"]);
    let reply = request("GET", &host.url("/"), &[], None);
    assert_eq!(reply.status, 200, "{}", host.stderr());
    let seen: serde_json::Value = serde_json::from_str(&text(&reply)).unwrap();
    assert_eq!(seen["api_token"], "abc");
    assert_eq!(seen["greeting"], "from the build");
}

#[test]
fn spin_manifest_with_the_environment() {
    let (_, doc) = build_spin(
        "env",
        "[tool.pyedge]\nruntime-config = \"env\"\norigin = \"http://127.0.0.1:9/x\"\n\n\
         [tool.pyedge.config]\ngreeting = \"hi\"\n\n\
         [tool.pyedge.secrets]\napi_token = { required = true }\n",
    );
    let doc = toml::Value::Table(doc);
    assert!(doc.get("variables").is_none(), "{doc}");
    assert_eq!(doc["application"]["name"].as_str(), Some("edge-gate"));
    let component = &doc["component"]["edge-gate"];
    assert_eq!(component["environment"]["greeting"].as_str(), Some("hi"));
    assert!(component["environment"].get("api_token").is_none());
    assert_eq!(
        component["allowed_outbound_hosts"].as_array().unwrap(),
        &vec![toml::Value::from("http://127.0.0.1:9")]
    );
}

#[test]
fn spin_refuses_what_spin_cannot_run_before_building() {
    let cases = [
        (
            "script",
            "print('hi')\n",
            "",
            "--spin writes a Spin manifest for an HTTP app",
        ),
        (
            "wasmtime-store",
            "",
            "[tool.pyedge]\nruntime-config = \"wasi-config\"\n",
            "set [tool.pyedge] config-store = \"spin\"",
        ),
        (
            "bad-host",
            "",
            "[tool.pyedge]\nallowed-outbound-hosts = [\"api.example.com/v1\"]\n",
            "\"api.example.com/v1\" is not `scheme://host[:port]`",
        ),
    ];
    for (name, script, pyproject, message) in cases {
        let dir = scratch(&format!("spin-bad-{name}"));
        if script.is_empty() {
            std::fs::copy(fixture("runtime-config").join("app.py"), dir.join("app.py")).unwrap();
        } else {
            std::fs::write(dir.join("app.py"), script).unwrap();
        }
        std::fs::write(dir.join("pyproject.toml"), pyproject).unwrap();
        let out = dir.join("out.wasm");
        pyedge()
            .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .arg("--spin")
            .assert()
            .code(2)
            .stderr_has(message);
        assert!(!out.exists() && !dir.join("spin.toml").exists(), "{name}");
    }
}
