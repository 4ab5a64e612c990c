//! The size picture (issue 22, part 3): `pyedge build --report-html` and `pyedge inspect
//! --html` write one self-contained page, opened here in headless Chromium (Debian's
//! `chromium`, installed by scripts/test.sh): the DOM after its script ran is read back
//! and a screenshot is written under target/.

use crate::common::cli::pyedge;
use crate::common::{fixture, scratch};
use crate::web_apps::{copy_tree, required_env};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Flask fixture (with its dependencies from the test wheels), built into `dir`.
fn flask_app(dir: &Path) -> (PathBuf, PathBuf) {
    let app = dir.join("app");
    copy_tree(&fixture("web-flask"), &app);
    (app, required_env("PYEDGE_TEST_WHEELS"))
}

/// Chromium, headless, with what this machine's closed network needs (no background
/// networking, no component updates) and a fresh profile; `args` then the page.
fn chromium(profile: &Path, args: &[&str], page: &Path) -> std::process::Output {
    let binary = std::env::var_os("PYEDGE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        binary.is_file(),
        "{} is missing: install Debian's chromium (scripts/test.sh does)",
        binary.display()
    );
    let output = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        crate::common::describe(&output)
    );
    output
}

/// The page's data, as its script reads it.
fn page_data(html: &str) -> serde_json::Value {
    let start = html
        .find(r#"<script id="data" type="application/json">"#)
        .expect("the data element");
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(&body.replace("<\\/", "</")).expect("the data is JSON")
}

fn count_nodes(nodes: &serde_json::Value) -> usize {
    nodes
        .as_array()
        .map(|nodes| nodes.iter().map(|n| 1 + count_nodes(&n["children"])).sum())
        .unwrap_or(0)
}

/// Every `data-name="…"` of a drawn cell in the DOM, unescaped.
fn cell_names(dom: &str) -> Vec<String> {
    dom.split(r#"<div class="cell "#)
        .skip(1)
        .filter_map(|cell| {
            let at = cell.find(r#"data-name=""#)? + r#"data-name=""#.len();
            let end = cell[at..].find('"')?;
            Some(
                cell[at..at + end]
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// (width, height) of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn the_size_picture_draws_every_part_in_chromium() {
    let dir = scratch("size-picture");
    let (app, wheels) = flask_app(&dir);
    let wasm = dir.join("flask.wasm");
    let page = dir.join("size.html");
    let built = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--find-links", wheels.to_str().unwrap(), "--offline"])
        .arg("--report-html")
        .arg(&page)
        .assert()
        .success()
        .stdout_has("size picture: ");
    // The text table has the packages' lines too.
    for line in ["  flask==3.1.3", "  werkzeug==3.1.9", "  jinja2==3.1.6"] {
        assert!(built.stdout().contains(line), "{}", built.stdout());
    }
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: nothing to fetch, and a policy that forbids fetching.
    assert!(html.contains("Content-Security-Policy"));
    for external in ["http://", "https://", " src=", "<link", "@import", "url("] {
        assert!(!html.contains(external), "the page refers to {external:?}");
    }

    // `inspect --html` of the component draws the same page.
    let inspected = dir.join("inspected.html");
    pyedge()
        .args(["inspect", wasm.to_str().unwrap(), "--html"])
        .arg(&inspected)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&inspected).unwrap(), html);

    // The data adds up: the parts are the component's bytes, to the byte.
    let data = page_data(&html);
    let total = data["total"].as_u64().unwrap();
    assert_eq!(total, std::fs::metadata(&wasm).unwrap().len());
    let parts = data["parts"].as_array().unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|p| p["raw"].as_u64().unwrap())
            .sum::<u64>(),
        total
    );
    let part = |name: &str| {
        parts
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no part {name}: {data}"))
    };
    let code = part("runtime code");
    let code_names: Vec<&str> = code["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // _json stays (Flask imports json); pyexpat is left out (nothing imports it).
    assert!(code_names.contains(&"_json"), "{code_names:?}");
    assert!(!code_names.contains(&"pyexpat"), "{code_names:?}");
    assert!(data["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m == "pyexpat"));
    let bundle = part("bundle");
    let flask = bundle["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "flask==3.1.3")
        .expect("flask's root");
    assert!(flask["children"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "flask/app.py"));
    part("snapshot memory");

    // In Chromium: the script ran and drew one cell per node, with the labels.
    let profile = dir.join("chromium-profile");
    let dom = chromium(&profile, &["--dump-dom"], &page);
    let dom = String::from_utf8(dom.stdout).unwrap();
    let names = cell_names(&dom);
    let nodes = count_nodes(&data["parts"]);
    assert!(nodes > 100, "only {nodes} nodes");
    assert_eq!(names.len(), nodes, "cells drawn vs nodes in the data");
    assert!(dom.contains(&format!(r#"data-cells="{nodes}""#)));
    for label in [
        "runtime code",
        "interpreter, libc, pyedge entry",
        "_json",
        "snapshot memory",
        "bundle",
        "app",
        "stdlib",
        "flask==3.1.3",
        "werkzeug==3.1.9",
        "flask/app.py",
        "component wrapper",
    ] {
        assert!(names.iter().any(|n| n == label), "no cell {label:?}");
    }
    // The budget line is drawn.
    assert!(dom.contains("budget 50.00 MB"), "no budget line");

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("size-picture.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        &profile,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,1100",
        ],
        &page,
    );
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert_eq!(png_size(&png), (1280, 1100));
    assert!(
        png.len() > 20_000,
        "a blank screenshot? {} bytes",
        png.len()
    );
}

#[test]
fn over_budget_the_picture_is_written_and_nothing_else() {
    let dir = scratch("size-picture-over");
    let (app, wheels) = flask_app(&dir);
    let wasm = dir.join("flask.wasm");
    let page = dir.join("size.html");
    let failed = pyedge()
        .args(["build", app.to_str().unwrap(), "-o", wasm.to_str().unwrap()])
        .args(["--find-links", wheels.to_str().unwrap(), "--offline"])
        .args(["--budget", "10MB", "--report-html"])
        .arg(&page)
        .assert()
        .code(3);
    assert!(
        failed.stderr().contains(&format!(
            "only the size picture was written: {}",
            page.display()
        )),
        "{}",
        failed.stderr()
    );
    assert!(!wasm.exists(), "an over-budget component was written");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("over budget"));
    let data = page_data(&html);
    assert_eq!(data["budget"], 10_000_000);
    assert!(data["total"].as_u64().unwrap() > 10_000_000);

    // A bad --budget for inspect, and a file that is not wasm: exit 2, no page.
    let other = dir.join("other.html");
    let hello = crate::common::built("hello", &[]);
    pyedge()
        .args([
            "inspect",
            hello.to_str().unwrap(),
            "--budget",
            "lots",
            "--html",
        ])
        .arg(&other)
        .assert()
        .code(2)
        .stderr_has("--budget \"lots\"");
    assert!(!other.exists());
    pyedge()
        .args(["inspect", page.to_str().unwrap(), "--html"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr_has("is not a WebAssembly file");
    assert!(!other.exists());
}
