//! The committed fuzz seeds (fuzz/corpus, written by fuzz/seeds.py) are what they claim
//! to be, so every fuzz run starts from inputs that reach deep into the parsers.

use pyedge::deps::requirements::parse_pyproject;
use pyedge::deps::wheel::{inspect_wheel_archive, install_archive_files, WheelFilename};
use pyedge::inspect::inspect_bytes;
use std::io::Cursor;
use std::path::PathBuf;

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn wasm_seeds_are_a_module_and_a_component() {
    let module = inspect_bytes(&seed("inspect_wasm", "module")).expect("module");
    assert!(!module.component);
    assert_eq!(module.imports, ["env#f"]);
    assert_eq!(module.exports, ["main"]);
    assert_eq!(module.snapshot_memory, 5);
    let component = inspect_bytes(&seed("inspect_wasm", "component")).expect("component");
    assert!(component.component);
    assert_eq!(component.imports, ["f"]);
    assert_eq!(component.exports, ["g"]);
    assert_eq!(component.modules.len(), 1);
}

#[test]
fn wheel_seeds_are_wheels() {
    let name = WheelFilename::parse("demo-1.0-py3-none-any.whl").expect("name");
    for seed_name in ["pure", "stored_data", "no_record"] {
        let bytes = seed("wheel_archive", seed_name);
        let info = inspect_wheel_archive(Cursor::new(&bytes), &name).expect(seed_name);
        assert!(
            info.root_is_purelib && info.native_files.is_empty(),
            "{seed_name}"
        );
        assert_eq!(info.requires_dist, ["attrs", "idna ; extra == 'net'"]);
        install_archive_files(Cursor::new(&bytes)).expect(seed_name);
    }
    let native = seed("wheel_archive", "native");
    let info = inspect_wheel_archive(Cursor::new(&native), &name).expect("native");
    assert_eq!(info.native_files.len(), 1);
    let files =
        install_archive_files(Cursor::new(seed("wheel_archive", "stored_data"))).expect("install");
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"extra.py") && !paths.iter().any(|p| p.contains("run")));
}

#[test]
fn pyproject_seed_declares_dependencies_and_extras() {
    let text = String::from_utf8(seed("pyproject_toml", "full")).expect("utf-8");
    let project = parse_pyproject(&text, "pyproject.toml", &["test".to_string()]).expect("parse");
    assert_eq!(project.name.as_deref(), Some("gate"));
    assert_eq!(project.requirements.len(), 3);
    let tool = pyedge::config::parse_tool_config(&text, "pyproject.toml").expect("tool");
    assert_eq!(tool.budget.as_deref(), Some("20MiB"));
}
