"""Key serialization: PEM and DER (PKCS#1, SEC1, PKCS#8, SubjectPublicKeyInfo) and
OpenSSH public keys. Encrypted private keys are not in pyedge's WASI build."""

import abc
import base64
import enum

import _pyedge_crypto

from cryptography import _der, _keys
from cryptography.exceptions import UnsupportedAlgorithm, _Reasons, not_in_pyedge


class Encoding(enum.Enum):
    PEM = "PEM"
    DER = "DER"
    OpenSSH = "OpenSSH"
    Raw = "Raw"
    X962 = "ANSI X9.62"
    SMIME = "S/MIME"


class PrivateFormat(enum.Enum):
    PKCS8 = "PKCS8"
    TraditionalOpenSSL = "TraditionalOpenSSL"
    Raw = "Raw"
    OpenSSH = "OpenSSH"
    PKCS12 = "PKCS12"

    def encryption_builder(self):
        raise not_in_pyedge("encrypted private key serialization", _Reasons.UNSUPPORTED_SERIALIZATION)


class PublicFormat(enum.Enum):
    SubjectPublicKeyInfo = "X.509 subjectPublicKeyInfo with PKCS#1"
    PKCS1 = "Raw PKCS#1"
    OpenSSH = "OpenSSH"
    Raw = "Raw"
    CompressedPoint = "X9.62 Compressed Point"
    UncompressedPoint = "X9.62 Uncompressed Point"


class ParameterFormat(enum.Enum):
    PKCS3 = "PKCS3"


class KeySerializationEncryption(metaclass=abc.ABCMeta):
    pass


class NoEncryption(KeySerializationEncryption):
    pass


class BestAvailableEncryption(KeySerializationEncryption):
    def __init__(self, password):
        if not isinstance(password, bytes) or len(password) == 0:
            raise ValueError("Password must be 1 or more bytes.")
        self.password = password


def _check_password(password, encrypted):
    if password is not None and not isinstance(password, (bytes, bytearray, memoryview)):
        raise TypeError("Password must be bytes")
    if encrypted:
        raise not_in_pyedge("an encrypted private key", _Reasons.UNSUPPORTED_SERIALIZATION)
    if password is not None:
        raise TypeError("Password was given but private key is not encrypted.")


def load_pem_private_key(data, password, backend=None, *, unsafe_skip_rsa_key_validation=False):
    data = bytes(data)
    blocks = _der.pem_blocks(data)
    if not blocks:
        raise ValueError("Could not deserialize key data. The data may be in an incorrect format.")
    label, der = blocks[0]
    _check_password(password, der is None or label == "ENCRYPTED PRIVATE KEY")
    if label not in ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"):
        raise ValueError(f"Could not deserialize key data: a PEM {label} is not a private key.")
    return _keys.load_private_der(der, None)


def load_der_private_key(data, password, backend=None, *, unsafe_skip_rsa_key_validation=False):
    data = bytes(data)
    _check_password(password, False)
    return _keys.load_private_der(data, None)


def load_pem_public_key(data, backend=None):
    blocks = _der.pem_blocks(bytes(data))
    if not blocks:
        raise ValueError("Could not deserialize key data. The data may be in an incorrect format.")
    label, der = blocks[0]
    if label == "CERTIFICATE":
        raise ValueError("Could not deserialize key data: this is a certificate, use x509.")
    if label not in ("PUBLIC KEY", "RSA PUBLIC KEY") or der is None:
        raise ValueError(f"Could not deserialize key data: a PEM {label} is not a public key.")
    return _keys.load_public_der(der)


def load_der_public_key(data, backend=None):
    return _keys.load_public_der(bytes(data))


_SSH_CURVES = {b"nistp256": "secp256r1", b"nistp384": "secp384r1", b"nistp521": "secp521r1"}


def load_ssh_public_key(data, backend=None):
    parts = bytes(data).strip().split(None, 2)
    if len(parts) < 2:
        raise ValueError("Key is not in the proper format.")
    name = parts[0]
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise ValueError("Key is not in the proper format.") from None
    fields = _der.ssh_fields(blob)
    if not fields or fields[0] != name:
        raise ValueError("Key header and key body contain different key type values.")
    if name == b"ssh-rsa" and len(fields) == 3:
        from cryptography.hazmat.primitives.asymmetric import rsa

        e, n = (int.from_bytes(f, "big") for f in fields[1:])
        return rsa.RSAPublicNumbers(e, n).public_key()
    if name.startswith(b"ecdsa-sha2-") and len(fields) == 3:
        curve = _SSH_CURVES.get(fields[1])
        if curve is None or name[11:] != fields[1]:
            raise ValueError("Curve name mismatch")
        return _keys.wrap(_pyedge_crypto.ec_from_numbers(curve, fields[2], b""))
    if name == b"ssh-ed25519" and len(fields) == 2:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PublicKey.from_public_bytes(fields[1])
    raise UnsupportedAlgorithm(f"Key type {name!r} is not in pyedge's WASI build of cryptography",
                               _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)


def load_ssh_private_key(data, password, backend=None):
    raise not_in_pyedge("OpenSSH private keys", _Reasons.UNSUPPORTED_SERIALIZATION)


def load_pem_parameters(data, backend=None):
    raise not_in_pyedge("DH parameters", _Reasons.UNSUPPORTED_SERIALIZATION)


load_der_parameters = load_pem_parameters
