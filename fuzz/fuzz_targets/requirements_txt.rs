//! A requirements file and the files it may include with `-r`, from arbitrary bytes.
//!
//! The input is split at NUL bytes into up to five files held in memory: the first is
//! `requirements.txt`, the others `base.txt`, `dev/more.txt`, `../up.txt` and
//! `/abs.txt`, so `-r` chains, fan-outs and loops are reachable. Nothing touches the
//! disk: the files are read through `parse_requirements_with`, the code path
//! `parse_requirements_file` uses with a reader of real files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyedge::config::MAX_PROJECT_FILE_BYTES;
use pyedge::deps::requirements::{parse_requirements_with, Declared, MAX_REQUIREMENTS};
use std::collections::HashMap;
use std::io::{Error, ErrorKind};
use std::path::{Path, PathBuf};

const NAMES: [&str; 5] = [
    "requirements.txt",
    "base.txt",
    "dev/more.txt",
    "../up.txt",
    "/abs.txt",
];

fuzz_target!(|data: &[u8]| {
    // A directory that does not exist, so canonicalize never finds a real file.
    let app_dir = Path::new("/nonexistent-pyedge-fuzz/app");
    let files: HashMap<PathBuf, &[u8]> = data
        .split(|&b| b == 0)
        .zip(NAMES)
        .map(|(bytes, name)| (app_dir.join(name), bytes))
        .collect();
    let mut read = |path: &Path| match files.get(path) {
        Some(bytes) if bytes.len() as u64 > MAX_PROJECT_FILE_BYTES => {
            Err(Error::new(ErrorKind::InvalidData, "over the limit"))
        }
        Some(bytes) => {
            String::from_utf8(bytes.to_vec()).map_err(|err| Error::new(ErrorKind::InvalidData, err))
        }
        None => Err(Error::new(ErrorKind::NotFound, "no such file")),
    };
    let main = app_dir.join(NAMES[0]);
    let Ok((requirements, sources)) = parse_requirements_with(&main, app_dir, &mut read) else {
        return;
    };
    assert!(requirements.len() <= MAX_REQUIREMENTS);
    for requirement in &requirements {
        assert!(!requirement.origin.is_empty());
        for hash in &requirement.hashes {
            assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    // What the resolver and the lock file do next: evaluate markers, print requirements.
    let declared = Declared {
        app_name: "app".to_string(),
        file: main,
        requirements,
        sources,
    };
    let _ = declared.active().count();
    let _ = declared.fingerprint();
});
