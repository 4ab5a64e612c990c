//! Packages pyedge replaces with its own WASI build instead of installing a wheel.
//!
//! `cryptography` is native (Rust + OpenSSL through cffi, loaded dynamically), so no wheel
//! of it can run in a wasm32-wasi component. pyedge ships a package of the same name
//! (`src/python/cryptography`, over the `_pyedge_crypto` C module linked into the runtime)
//! that keeps its API for what JWT/JOSE code uses. A requirement on `cryptography` (from
//! the app, or from `pyjwt[crypto]`, `python-jose[cryptography]`, `authlib`...) resolves
//! to whatever version the index offers, reported as *substituted*: nothing is downloaded
//! or installed, and the bundle carries pyedge's package when anything imports it.

/// pyedge's stand-in for a distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Substitute {
    /// What replaces the distribution, as reports show it.
    pub by: &'static str,
    /// What the stand-in implements; anything else raises `UnsupportedAlgorithm`.
    pub covers: &'static str,
    /// The version it reports (`cryptography.__version__`), used when no source lists
    /// the distribution at all.
    pub version: &'static str,
}

const CRYPTOGRAPHY: Substitute = Substitute {
    by: "pyedge WASI build",
    covers: "hashes (SHA-1/2), HMAC, constant_time; RSA PKCS#1 v1.5/PSS, ECDSA \
             P-256/384/521/secp256k1, Ed25519; PEM/DER/OpenSSH keys; AES-GCM, Fernet; \
             an X.509 certificate's public key",
    version: "46.0.0",
};

/// The substitute for a distribution (by normalized name), if pyedge has one.
pub fn substitute_for(name: &str) -> Option<Substitute> {
    (name == "cryptography").then_some(CRYPTOGRAPHY)
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
}
