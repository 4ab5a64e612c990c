"""The exceptions of `cryptography.exceptions`."""

import enum


class _Reasons(enum.Enum):
    BACKEND_MISSING_INTERFACE = 0
    UNSUPPORTED_HASH = 1
    UNSUPPORTED_CIPHER = 2
    UNSUPPORTED_PADDING = 3
    UNSUPPORTED_MGF = 4
    UNSUPPORTED_PUBLIC_KEY_ALGORITHM = 5
    UNSUPPORTED_ELLIPTIC_CURVE = 6
    UNSUPPORTED_SERIALIZATION = 7
    UNSUPPORTED_X509 = 8
    UNSUPPORTED_EXCHANGE_ALGORITHM = 9
    UNSUPPORTED_DIFFIE_HELLMAN = 10
    UNSUPPORTED_MAC = 11


class UnsupportedAlgorithm(Exception):
    def __init__(self, message, reason=None):
        super().__init__(message)
        self._reason = reason


class AlreadyFinalized(Exception):
    pass


class AlreadyUpdated(Exception):
    pass


class NotYetFinalized(Exception):
    pass


class InvalidTag(Exception):
    pass


class InvalidSignature(Exception):
    pass


class InternalError(Exception):
    pass


class InvalidKey(Exception):
    pass


def not_in_pyedge(what, reason=None):
    """The error for anything outside the subset pyedge's WASI build implements."""
    return UnsupportedAlgorithm(
        f"{what} is not in pyedge's WASI build of cryptography (supported: SHA-1/2 hashes, "
        "HMAC, RSA PKCS#1 v1.5/PSS, ECDSA P-256/384/521/secp256k1, Ed25519, PEM/DER/"
        "OpenSSH keys, AES-GCM, Fernet, a certificate's public key)",
        reason,
    )
