//! Wheel and sdist file names and tags, archive entry names, and `WHEEL`/`METADATA`
//! headers, from arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyedge::deps::wheel::{
    has_native_magic, header_values, install_path, is_native_name, safe_entry_name, sdist_version,
    WheelFilename,
};
use std::path::{Component, Path};

fn stays_inside(path: &str) -> bool {
    Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fuzz_target!(|data: &[u8]| {
    let _ = has_native_magic(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(wheel) = WheelFilename::parse(text) {
        let _ = (
            wheel.tag(),
            wheel.is_pure_tagged(),
            wheel.supports_target_python(),
        );
        let _ = sdist_version(text, &wheel.name);
    }
    let name = pep508_name(text);
    if let Some(name) = &name {
        let _ = sdist_version(text, name);
    }
    if let Ok(entry) = safe_entry_name(text) {
        // An accepted name, and where it installs, stay inside the install directory.
        assert!(stays_inside(&entry), "{entry:?}");
        if let Some(target) = install_path(&entry) {
            assert!(stays_inside(&target), "{target:?}");
        }
        let _ = is_native_name(&entry);
    }
    for key in ["Requires-Dist", "Root-Is-Purelib", "Requires-Python"] {
        for value in header_values(text, key) {
            assert!(!value.contains('\n'));
        }
    }
});

/// The first line as a distribution name, if it is one (for `sdist_version`).
fn pep508_name(text: &str) -> Option<pep508_rs::PackageName> {
    text.lines().next()?.parse().ok()
}
