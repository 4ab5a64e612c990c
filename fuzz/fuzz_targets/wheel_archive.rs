//! A wheel from arbitrary bytes, read from memory through the same code as a wheel file:
//! zip handling, the `.dist-info` `WHEEL`/`METADATA`/`RECORD` files, the native-code
//! checks and the files it would install.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyedge::deps::wheel::{
    inspect_wheel_archive, install_archive_files, WheelFilename, MAX_ENTRIES, MAX_EXPANDED_BYTES,
};
use std::io::Cursor;
use std::path::{Component, Path};
use std::sync::OnceLock;

fn filename() -> &'static WheelFilename {
    static NAME: OnceLock<WheelFilename> = OnceLock::new();
    NAME.get_or_init(|| WheelFilename::parse("demo-1.0-py3-none-any.whl").expect("wheel name"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = inspect_wheel_archive(Cursor::new(data), filename()) {
        assert!(info.entries.len() <= MAX_ENTRIES);
        let total: u64 = info.entries.iter().map(|(_, size)| size).sum();
        assert!(total <= MAX_EXPANDED_BYTES);
    }
    if let Ok(files) = install_archive_files(Cursor::new(data)) {
        // Nothing may land outside site-packages: only plain relative components.
        for (path, _) in &files {
            assert!(
                Path::new(path)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
                "{path:?} escapes the install directory"
            );
        }
    }
});
