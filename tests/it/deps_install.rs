//! What a pure wheel installs into the bundle's site-packages.

use crate::deps_support::*;
use pyedge::deps::wheel_install_files;
use pyedge::error::{exit_code_of, Exit};

#[test]
fn installs_code_and_dist_info_and_maps_data_schemes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = WheelSpec::pure("PyJWT", "2.10.1")
        .file("jwt/api_jwt.py", b"def decode(): pass\n")
        .file("pyjwt-2.10.1.data/purelib/jwt_extra.py", b"x = 1\n")
        .file("pyjwt-2.10.1.data/platlib/jwt_plat/__init__.py", b"")
        .file("pyjwt-2.10.1.data/scripts/jwt-cli", b"#!python\n")
        .file("pyjwt-2.10.1.data/headers/jwt.h", b"/* */\n")
        .write_to(dir.path());

    let files = wheel_install_files(&wheel).expect("install files");
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "jwt/api_jwt.py",
            "jwt_extra.py",
            "jwt_plat/__init__.py",
            "pyjwt-2.10.1.dist-info/METADATA",
            "pyjwt-2.10.1.dist-info/RECORD",
            "pyjwt-2.10.1.dist-info/WHEEL",
            "pyjwt/__init__.py",
        ]
    );
    let metadata = files
        .iter()
        .find(|(p, _)| p.ends_with("dist-info/METADATA"))
        .expect("METADATA");
    assert!(String::from_utf8_lossy(&metadata.1).contains("Version: 2.10.1"));
}

#[test]
fn refuses_zip_slip_naming_the_wheel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (name, bytes) = zip_slip_wheel("slippery", "1.0");
    let path = dir.path().join(&name);
    std::fs::write(&path, bytes).expect("write");
    let err = wheel_install_files(&path).expect_err("zip-slip");
    assert_eq!(exit_code_of(&err), Exit::DependencyRejected);
    assert!(
        err.to_string()
            .contains("slippery-1.0-py3-none-any.whl: entry `../../evil.py`"),
        "{err}"
    );
}

#[test]
fn refuses_absolute_paths_and_corrupt_archives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let absolute = dir.path().join("abs-1.0-py3-none-any.whl");
    std::fs::write(
        &absolute,
        zip_bytes(&[("/etc/cron.d/x".to_string(), b"x".to_vec())]),
    )
    .expect("write");
    let err = wheel_install_files(&absolute).expect_err("absolute");
    assert!(
        err.to_string()
            .contains("abs-1.0-py3-none-any.whl: entry `/etc/cron.d/x` escapes"),
        "{err}"
    );

    let corrupt = dir.path().join("bad-1.0-py3-none-any.whl");
    // Incompressible content, so the middle of the archive is this entry's data.
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut bytes = WheelSpec::pure("bad", "1.0")
        .file("bad/noise.bin", &noise)
        .build();
    let middle = bytes.len() / 3;
    bytes[middle..middle + 16].copy_from_slice(&[0xff; 16]);
    std::fs::write(&corrupt, bytes).expect("write");
    let err = wheel_install_files(&corrupt).expect_err("corrupt");
    assert!(
        err.to_string().starts_with("bad-1.0-py3-none-any.whl: "),
        "{err}"
    );
}
