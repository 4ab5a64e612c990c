//! Packages pyedge replaces with its own WASI build instead of installing a wheel.
//!
//! `cryptography` is native (Rust + OpenSSL through cffi, loaded dynamically), so no wheel
//! of it can run in a wasm32-wasi component. pyedge ships a package of the same name
//! (`src/python/cryptography`, over the `_pyedge_crypto` C module linked into the runtime)
//! that keeps its API for what JWT/JOSE code uses. A requirement on `cryptography` (from
//! the app, or from `pyjwt[crypto]`, `python-jose[cryptography]`, `authlib`...) resolves
//! to whatever version the index offers, reported as *substituted*: nothing is downloaded
//! or installed, and the bundle carries pyedge's package when anything imports it.
//!
//! `numpy` is native too (C and C++ extension modules). pyedge compiles numpy itself from
//! its sdist for wasm32-wasi (`runtime-assets/numpy/build.sh`) and links it into runtime
//! variants; its Python part ships beside them (`numpy-site.zip`). That is one numpy
//! release, so unlike `cryptography` the substitute has exactly one version: a requirement
//! it satisfies resolves to it (and pure packages that depend on numpy resolve against
//! it); one it does not is unresolvable, and the report names the version pyedge has.

/// pyedge's stand-in for a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Substitute {
    /// What replaces the distribution, as reports show it.
    pub by: &'static str,
    /// What the stand-in implements, and what happens beyond that (a clause that follows
    /// "it covers").
    pub covers: &'static str,
    /// The version it reports (`cryptography.__version__`), used when no source lists
    /// the distribution at all.
    pub version: &'static str,
    /// Whether [`Substitute::version`] is the only version there is (pyedge's build of
    /// the real package), rather than a stand-in for whatever version is asked for.
    pub only_version: bool,
}

const CRYPTOGRAPHY: Substitute = Substitute {
    by: "pyedge WASI build",
    covers: "hashes (SHA-1/2), HMAC, constant_time; RSA PKCS#1 v1.5/PSS, ECDSA \
             P-256/384/521/secp256k1, Ed25519; PEM/DER/OpenSSH keys; AES-GCM, Fernet; \
             an X.509 certificate's public key; anything else raises UnsupportedAlgorithm",
    version: "46.0.0",
    only_version: false,
};

/// The numpy release `runtime-assets/numpy/pins.env` builds (checked by a test).
pub const NUMPY_VERSION: &str = "2.5.5";

const NUMPY: Substitute = Substitute {
    by: "pyedge WASI build",
    covers: "all of numpy, built from its sdist for wasm32-wasi, except what WASI lacks: \
             no threads, no BLAS (numpy's bundled lapack_lite does linalg), no floating-point \
             error warnings, no np.memmap, np.ctypeslib or f2py",
    version: NUMPY_VERSION,
    only_version: true,
};

/// The substitute for a distribution (by normalized name), if pyedge has one.
pub fn substitute_for(name: &str) -> Option<Substitute> {
    match name {
        "cryptography" => Some(CRYPTOGRAPHY),
        "numpy" => Some(NUMPY),
        _ => None,
    }
}

/// A note for an unresolvable report that involves a single-version substitute: which
/// version pyedge has, and why no other can be used.
pub fn only_version_note(report: &str) -> Option<String> {
    ["numpy"]
        .into_iter()
        .filter(|name| report.contains(name))
        .filter_map(|name| substitute_for(name).map(|s| (name, s)))
        .find(|(_, s)| s.only_version)
        .map(|(name, s)| {
            format!(
                "note: pyedge has {name} {} only, its own {} ({name} is native: no wheel from \
                 the index runs in a component); a requirement that excludes {} cannot be met",
                s.version, s.by, s.version
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_substitute_reports_the_version_its_package_says() {
        let init = include_str!("../python/cryptography/__init__.py");
        let version = substitute_for("cryptography").unwrap().version;
        assert!(
            init.contains(&format!("__version__ = \"{version}\"")),
            "{init}"
        );
        assert!(substitute_for("pyjwt").is_none());
    }

    #[test]
    fn the_numpy_substitute_is_the_version_the_runtime_builds() {
        let pins = include_str!("../../runtime-assets/numpy/pins.env");
        assert!(
            pins.lines()
                .any(|l| l == format!("NUMPY_VERSION={NUMPY_VERSION}")),
            "runtime-assets/numpy/pins.env does not build numpy {NUMPY_VERSION}"
        );
        let numpy = substitute_for("numpy").unwrap();
        assert!(numpy.only_version && numpy.version == NUMPY_VERSION);
        let note = only_version_note("Because there is no version of numpy in <2").unwrap();
        assert!(note.contains("numpy 2.5.5 only"), "{note}");
        assert!(only_version_note("no version of flask in <1").is_none());
    }
}
