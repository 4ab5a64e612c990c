//! `[tool.pyedge] runtime-config`: settings and secrets that only the host has, read at
//! run time through `wasi:cli/environment` or `wasi:config/store`, under the upstream
//! `wasmtime serve` (`-Scli --env`, `-Sconfig -Sconfig-var`) and `pyedge serve` (`--env`,
//! `--env-file`, `--config`); the imports each mode adds, and the build errors.

use crate::common::cli::pyedge;
use crate::common::serve::{request, text};
use crate::common::upstream::{self, response};
use crate::common::{fixture, run_component, scratch};
use crate::web_apps::Host;
use std::path::{Path, PathBuf};

/// A value set only on the host: the tests check it reaches the handler and that its
/// bytes are in no artifact.
const HOST_SECRET: &str = "host-only-7c1e9d0b2a";

/// The fixture app with `pyproject` as its pyproject.toml, built; returns the component.
fn build(name: &str, pyproject: &str) -> PathBuf {
    let dir = scratch(&format!("runtime-config-{name}"));
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::copy(fixture("runtime-config").join("app.py"), app.join("app.py")).unwrap();
    std::fs::write(app.join("pyproject.toml"), pyproject).unwrap();
    let wasm = dir.join("app.wasm");
    pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .assert()
        .success();
    let bytes = std::fs::read(&wasm).unwrap();
    assert!(
        !bytes
            .windows(HOST_SECRET.len())
            .any(|w| w == HOST_SECRET.as_bytes()),
        "the host's secret is in the artifact"
    );
    wasm
}

fn pyproject(mode: &str, store: Option<&str>) -> String {
    let store = store.map_or(String::new(), |s| format!("config-store = \"{s}\"\n"));
    format!(
        "[tool.pyedge]\nruntime-config = \"{mode}\"\n{store}origin = \"http://127.0.0.1:9\"\n\n\
         [tool.pyedge.config]\ngreeting = \"from the build\"\n\n\
         [tool.pyedge.secrets]\napi_token = {{ required = true }}\n"
    )
}

/// `pyedge inspect --json`: the component's imports and its run-time-config imports.
fn imports(wasm: &Path) -> (Vec<String>, Vec<String>) {
    let out = pyedge()
        .args(["inspect", wasm.to_str().unwrap(), "--json"])
        .assert()
        .success()
        .stdout();
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    let list = |key: &str| -> Vec<String> {
        info[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    (list("imports"), list("runtime_config"))
}

/// Every import is of the wasi:http/proxy world, except those in `extra`.
fn assert_proxy_imports_plus(all: &[String], extra: &[String]) {
    let proxy = [
        "wasi:io/",
        "wasi:clocks/",
        "wasi:random/random@",
        "wasi:http/",
        "wasi:cli/stdout@",
        "wasi:cli/stderr@",
        "wasi:cli/stdin@",
    ];
    for name in all {
        assert!(
            proxy.iter().any(|p| name.starts_with(p)) || extra.contains(name),
            "unexpected import {name} in {all:?}"
        );
    }
    for name in extra {
        assert!(all.contains(name), "{name} not imported: {all:?}");
    }
}

/// The handler's answer to GET / on `host`, as JSON.
fn config_seen(host: &Host) -> serde_json::Value {
    let reply = request("GET", &host.url("/"), &[], None);
    assert_eq!(reply.status, 200, "{}\n{}", text(&reply), host.stderr());
    serde_json::from_slice(&reply.body).unwrap()
}

/// An upstream that says which path it was asked for: the origin the host names.
fn origin() -> String {
    upstream::serve(|incoming| {
        let body = format!("origin saw {}", incoming.target);
        response("200 OK", "content-type: text/plain\r\n", body.as_bytes())
    })
}

#[test]
fn env_comes_from_the_hosts_environment_under_wasmtime_and_pyedge_serve() {
    let wasm = build("env", &pyproject("env", None));
    let (all, from_host) = imports(&wasm);
    assert_eq!(from_host.len(), 1, "{from_host:?}");
    assert!(from_host[0].starts_with("wasi:cli/environment@0.2."));
    assert_proxy_imports_plus(&all, &from_host);

    let origin = origin();
    let token = format!("api_token={HOST_SECRET}");
    let at_origin = format!("origin={origin}");
    let wasmtime = Host::wasmtime_with(&wasm, &["-Scli", "--env", &token, "--env", &at_origin]);
    let env_file = scratch("runtime-config-env-file").join("app.env");
    std::fs::write(
        &env_file,
        format!("# the app's environment\nexport greeting='from the file'\n{at_origin}\napi_token=overridden\n"),
    )
    .unwrap();
    let served = Host::pyedge_with(
        &wasm,
        &["--env-file", env_file.to_str().unwrap(), "--env", &token],
    );
    for (host, greeting) in [(&wasmtime, "from the build"), (&served, "from the file")] {
        let seen = config_seen(host);
        assert_eq!(seen["api_token"], HOST_SECRET, "{seen}");
        assert_eq!(seen["environ_api_token"], HOST_SECRET, "{seen}");
        assert_eq!(seen["greeting"], greeting, "{seen}");
        // Read at import time, in the snapshot: the build-time default, never the host's.
        assert_eq!(seen["greeting_at_import"], "from the build", "{seen}");
        assert_eq!(
            seen["declared"],
            serde_json::json!(["api_token", "greeting"])
        );
        assert!(
            !seen["repr"].as_str().unwrap().contains(HOST_SECRET),
            "{seen}"
        );
        // `origin` for send_to_origin comes from the host the same way.
        let reply = request("GET", &host.url("/origin/x?q=1"), &[], None);
        assert_eq!(
            text(&reply),
            "origin saw /origin/x?q=1",
            "{}",
            host.stderr()
        );
        // A name neither the host nor the build has: a KeyError naming both, a 500.
        let reply = request("GET", &host.url("/missing"), &[], None);
        assert_eq!(reply.status, 500);
        assert!(host
            .stderr()
            .contains("'not_declared': not in the host's environment"));
    }

    // No host value for the required secret: a 500 naming it, no trap.
    for host in [
        Host::wasmtime_with(&wasm, &["-Scli"]),
        Host::pyedge_with(&wasm, &[]),
    ] {
        let reply = request("GET", &host.url("/"), &[], None);
        assert_eq!(reply.status, 500);
        assert!(text(&reply).contains("required secret not set on the host: api_token"));
        let log = host.stderr();
        assert!(log.contains("api_token"), "{log}");
        assert!(
            !log.contains("wasm trap") && !log.contains("unreachable"),
            "{log}"
        );
    }
}

#[test]
fn wasi_config_comes_from_the_hosts_config_store_in_the_version_of_its_host() {
    let wasm = build("wasi-config", &pyproject("wasi-config", None));
    let (all, from_host) = imports(&wasm);
    assert_eq!(from_host, ["wasi:config/store@0.2.0-rc.1"]);
    assert_proxy_imports_plus(&all, &from_host);

    let origin = origin();
    let token = format!("api_token={HOST_SECRET}");
    let at_origin = format!("origin={origin}");
    let wasmtime = Host::wasmtime_with(
        &wasm,
        &[
            "-Sconfig",
            &format!("-Sconfig-var={token}"),
            &format!("-Sconfig-var={at_origin}"),
            "-Sconfig-var=greeting=from the host",
        ],
    );
    let served = Host::pyedge_with(
        &wasm,
        &[
            "--config",
            &token,
            "--config",
            &at_origin,
            "--config",
            "greeting=from the host",
        ],
    );
    for host in [&wasmtime, &served] {
        let seen = config_seen(host);
        assert_eq!(seen["api_token"], HOST_SECRET, "{seen}");
        assert_eq!(seen["greeting"], "from the host", "{seen}");
        assert_eq!(seen["greeting_at_import"], "from the build", "{seen}");
        // The config store is not the environment.
        assert_eq!(seen["environ_api_token"], serde_json::Value::Null, "{seen}");
        let reply = request("GET", &host.url("/origin/y"), &[], None);
        assert_eq!(text(&reply), "origin saw /origin/y", "{}", host.stderr());
    }
    let missing = Host::wasmtime_with(&wasm, &["-Sconfig"]);
    let reply = request("GET", &missing.url("/"), &[], None);
    assert_eq!(reply.status, 500);
    assert!(text(&reply).contains("api_token"));

    // Spin's version of the interface: the same functions under another version, which
    // `pyedge serve` also provides (Spin itself cannot be installed here).
    let spin = build("spin", &pyproject("wasi-config", Some("spin")));
    let (all, from_host) = imports(&spin);
    assert_eq!(from_host, ["wasi:config/store@0.2.0-draft-2024-09-27"]);
    assert_proxy_imports_plus(&all, &from_host);
    let served = Host::pyedge_with(&spin, &["--config", &token]);
    assert_eq!(config_seen(&served)["api_token"], HOST_SECRET);
}

#[test]
fn runtime_config_none_imports_nothing_beyond_the_proxy_world() {
    let wasm = build(
        "none",
        "[tool.pyedge]\norigin = \"http://127.0.0.1:9\"\n[tool.pyedge.config]\ngreeting = \"from the build\"\napi_token = \"baked\"\n",
    );
    let (all, from_host) = imports(&wasm);
    assert!(from_host.is_empty(), "{from_host:?}");
    assert_proxy_imports_plus(&all, &[]);
    // Plain `wasmtime serve`, no -S flags; and with -Scli, the host's environment is not
    // the app's configuration.
    for host in [
        Host::wasmtime(&wasm),
        Host::wasmtime_with(&wasm, &["-Scli", "--env", "greeting=ignored"]),
    ] {
        let seen = config_seen(&host);
        assert_eq!(seen["greeting"], "from the build");
        assert_eq!(seen["api_token"], "baked");
        assert_eq!(seen["environ_api_token"], serde_json::Value::Null);
    }
}

#[test]
fn a_script_reads_its_secrets_from_the_environment() {
    let dir = scratch("runtime-config-script");
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("app.py"),
        "import pyedge\n\ndef main():\n    print('token', pyedge.config['api_token'])\n",
    )
    .unwrap();
    std::fs::write(
        app.join("pyproject.toml"),
        "[tool.pyedge]\nruntime-config = \"env\"\n[tool.pyedge.secrets]\napi_token = { required = true }\n",
    )
    .unwrap();
    let wasm = dir.join("app.wasm");
    pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .assert()
        .success();
    let run = run_component(&wasm, &[], &[("api_token", HOST_SECRET)]);
    assert_eq!(run.stdout, format!("token {HOST_SECRET}\n"), "{run:?}");
    let run = run_component(&wasm, &[], &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("required secret not set in the host's environment: api_token"),
        "{run:?}"
    );
}

#[test]
fn a_secret_read_at_import_time_fails_the_build_naming_it() {
    let dir = scratch("runtime-config-import-time");
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("app.py"),
        "import pyedge\nfrom pyedge.http import Response\n\nTOKEN = pyedge.config['api_token']\n\n\
         def handle_request(request):\n    return Response(200, {}, TOKEN)\n",
    )
    .unwrap();
    std::fs::write(
        app.join("pyproject.toml"),
        "[tool.pyedge]\nruntime-config = \"env\"\n[tool.pyedge.secrets]\napi_token = {}\n",
    )
    .unwrap();
    let out = dir.join("app.wasm");
    pyedge()
        .args(["build", app.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr_has("pyedge.config['api_token'] is a secret ([tool.pyedge.secrets]) and was read while the app is imported at build time");
    assert!(!out.exists());
}

#[test]
fn inconsistent_runtime_config_is_refused_before_building() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "secrets-without-host",
            "[tool.pyedge.secrets]\napi_token = { required = true }\n",
            "[tool.pyedge.secrets] declares api_token but runtime-config is \"none\"",
        ),
        (
            "secret-with-default",
            "[tool.pyedge]\nruntime-config = \"env\"\n[tool.pyedge.config]\napi_token = \"x\"\n[tool.pyedge.secrets]\napi_token = {}\n",
            "api_token is both in [tool.pyedge.secrets] and in [tool.pyedge.config]",
        ),
        (
            "store-without-wasi-config",
            "[tool.pyedge]\nruntime-config = \"env\"\nconfig-store = \"spin\"\n",
            "config-store chooses the wasi:config/store version",
        ),
        (
            "spin-name",
            "[tool.pyedge]\nruntime-config = \"wasi-config\"\nconfig-store = \"spin\"\n[tool.pyedge.secrets]\nAPI_TOKEN = {}\n",
            "\"API_TOKEN\" cannot be a Spin variable",
        ),
        (
            "unknown-mode",
            "[tool.pyedge]\nruntime-config = \"vault\"\n",
            "unknown variant `vault`, expected one of `none`, `env`, `wasi-config`",
        ),
        (
            "unknown-secret-key",
            "[tool.pyedge]\nruntime-config = \"env\"\n[tool.pyedge.secrets]\napi_token = { requird = true }\n",
            "unknown field `requird`",
        ),
    ];
    for (name, toml, message) in cases {
        let dir = scratch(&format!("runtime-config-bad-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(fixture("runtime-config").join("app.py"), dir.join("app.py")).unwrap();
        std::fs::write(dir.join("pyproject.toml"), toml).unwrap();
        let out = dir.join("app.wasm");
        pyedge()
            .args(["build", dir.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr_has(message)
            .stderr_has("pyproject.toml");
        assert!(!out.exists(), "{name}");
    }
    // wasi:config/store is for HTTP apps; a script gets the environment.
    let dir = scratch("runtime-config-bad-script");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.py"), "print('hi')\n").unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[tool.pyedge]\nruntime-config = \"wasi-config\"\n",
    )
    .unwrap();
    pyedge()
        .args([
            "build",
            dir.to_str().unwrap(),
            "-o",
            dir.join("a.wasm").to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr_has("runtime-config = \"wasi-config\" is for HTTP apps");
}

#[test]
fn serve_refuses_a_broken_env_file_naming_its_line() {
    let wasm = build("env-file", &pyproject("env", None));
    let file = scratch("runtime-config-bad-env-file").join("bad.env");
    std::fs::write(&file, "GOOD=1\nnot a pair\n").unwrap();
    pyedge()
        .args(["serve", wasm.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .args(["--env-file", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr_has(&format!("{}:2: expected NAME=VALUE", file.display()));
    pyedge()
        .args(["serve", wasm.to_str().unwrap(), "--env", "novalue"])
        .assert()
        .code(2)
        .stderr_has("expected NAME=VALUE");
}
