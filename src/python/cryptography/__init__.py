"""pyedge's WASI build of `cryptography`: the subset JWT/JOSE code uses.

The real `cryptography` needs OpenSSL, cffi and dynamic loading, none of which exist in
a wasm32-wasi component. This package keeps its API for hashes, HMAC, RSA (PKCS#1 v1.5,
PSS), ECDSA (P-256/384/521, secp256k1), Ed25519, PEM/DER/OpenSSH key loading and
dumping, AES-GCM, Fernet and a certificate's public key, over the C module
`_pyedge_crypto` (mbedTLS and libsodium's Ed25519, linked into pyedge's runtime).
Anything else raises `UnsupportedAlgorithm` (or ImportError) saying so.
"""

__version__ = "46.0.0"
__pyedge__ = "pyedge WASI build"
__all__ = ["__version__"]
