"""Ed25519 keys (libsodium's constant-time ref10 code in the C core)."""

import abc
import os

import _pyedge_crypto

from cryptography import _der
from cryptography.exceptions import InvalidSignature, _Reasons, not_in_pyedge

_ALG = _der.seq(_der.OID_ED25519)


class Ed25519PublicKey(metaclass=abc.ABCMeta):
    @classmethod
    def from_public_bytes(cls, data):
        data = bytes(data)
        if len(data) != 32:
            raise ValueError("An Ed25519 public key is 32 bytes long")
        return _Ed25519PublicKey(data)


class Ed25519PrivateKey(metaclass=abc.ABCMeta):
    @classmethod
    def generate(cls):
        # The host's random bytes, drawn now (never a seed kept from the snapshot).
        return _Ed25519PrivateKey(os.urandom(32))

    @classmethod
    def from_private_bytes(cls, data):
        data = bytes(data)
        if len(data) != 32:
            raise ValueError("An Ed25519 private key is 32 bytes long")
        return _Ed25519PrivateKey(data)


def _raw_or_der(encoding, format, raw_format, der_format, der, label, raw):
    from cryptography.hazmat.primitives.serialization import Encoding

    if encoding is Encoding.Raw or format is raw_format:
        if encoding is not Encoding.Raw or format is not raw_format:
            raise ValueError("When using Raw both encoding and format must be Raw")
        return raw
    if format is not der_format:
        raise not_in_pyedge(f"Ed25519 key format {format}", _Reasons.UNSUPPORTED_SERIALIZATION)
    if encoding is Encoding.PEM:
        return _der.pem(label, der).encode()
    if encoding is Encoding.DER:
        return der
    raise ValueError(f"{encoding} is not valid for {format}")


class _Ed25519PublicKey(Ed25519PublicKey):
    def __init__(self, raw):
        self._raw = raw

    def public_bytes(self, encoding, format):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if format is PublicFormat.OpenSSH:
            if encoding is not Encoding.OpenSSH:
                raise ValueError("OpenSSH format must be used with OpenSSH encoding")
            import base64

            blob = _der.ssh_string(b"ssh-ed25519") + _der.ssh_string(self._raw)
            return b"ssh-ed25519 " + base64.b64encode(blob)
        der = _der.spki(_ALG, self._raw)
        return _raw_or_der(encoding, format, PublicFormat.Raw, PublicFormat.SubjectPublicKeyInfo,
                           der, "PUBLIC KEY", self._raw)

    def public_bytes_raw(self):
        return self._raw

    def verify(self, signature, data):
        if not _pyedge_crypto.ed25519_verify(self._raw, bytes(data), bytes(signature)):
            raise InvalidSignature()

    def __eq__(self, other):
        return isinstance(other, _Ed25519PublicKey) and self._raw == other._raw

    def __hash__(self):
        return hash(self._raw)

    def __copy__(self):
        return self


class _Ed25519PrivateKey(Ed25519PrivateKey):
    def __init__(self, seed):
        self._seed = seed
        self._public = _pyedge_crypto.ed25519_public(seed)

    def public_key(self):
        return _Ed25519PublicKey(self._public)

    def sign(self, data):
        return _pyedge_crypto.ed25519_sign(self._seed, bytes(data))

    def private_bytes(self, encoding, format, encryption_algorithm):
        from cryptography import _keys
        from cryptography.hazmat.primitives.serialization import PrivateFormat

        _keys.check_encryption(encryption_algorithm)
        der = _der.pkcs8(_ALG, _der.tlv(0x04, self._seed))
        return _raw_or_der(encoding, format, PrivateFormat.Raw, PrivateFormat.PKCS8,
                           der, "PRIVATE KEY", self._seed)

    def private_bytes_raw(self):
        return self._seed

    def __copy__(self):
        return self
