"""Turning `_pyedge_crypto.Key` objects into the facade's key classes, and keys into
bytes (PEM/DER, PKCS#1/PKCS#8/SubjectPublicKeyInfo, OpenSSH, raw points)."""

import _pyedge_crypto

from cryptography import _der
from cryptography.exceptions import _Reasons, not_in_pyedge


def wrap(key):
    """The facade's key object for a C key."""
    if key.kind == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa

        return rsa._RSAPrivateKey(key) if key.private else rsa._RSAPublicKey(key)
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec._ECPrivateKey(key) if key.private else ec._ECPublicKey(key)


def check_encryption(encryption_algorithm):
    from cryptography.hazmat.primitives import serialization

    if not isinstance(encryption_algorithm, serialization.KeySerializationEncryption):
        raise TypeError("Encryption algorithm must be a KeySerializationEncryption instance")
    if not isinstance(encryption_algorithm, serialization.NoEncryption):
        raise not_in_pyedge("encrypted private key serialization", _Reasons.UNSUPPORTED_SERIALIZATION)


def private_bytes(key, encoding, format, encryption_algorithm):
    """Private key bytes for an RSA or EC C key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat

    check_encryption(encryption_algorithm)
    traditional = key.private_der()
    if format is PrivateFormat.TraditionalOpenSSL:
        der, label = traditional, ("RSA PRIVATE KEY" if key.kind == "rsa" else "EC PRIVATE KEY")
    elif format is PrivateFormat.PKCS8:
        der, label = _der.pkcs8(algorithm_identifier(key), traditional), "PRIVATE KEY"
    else:
        raise not_in_pyedge(f"private format {format}", _Reasons.UNSUPPORTED_SERIALIZATION)
    if encoding is Encoding.PEM:
        return _der.pem(label, der).encode()
    if encoding is Encoding.DER:
        return der
    raise ValueError(f"{encoding} is not valid for this private key format")


def algorithm_identifier(key):
    if key.kind == "rsa":
        return _der.seq(_der.OID_RSA, b"\x05\x00")
    return _der.seq(_der.OID_EC, _der.CURVE_OIDS[key.curve])


def public_bytes(key, encoding, format):
    """Public key bytes for an RSA or EC C key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if format is PublicFormat.SubjectPublicKeyInfo:
        der, label = key.public_der(), "PUBLIC KEY"
    elif format is PublicFormat.PKCS1 and key.kind == "rsa":
        n, e = (int.from_bytes(b, "big") for b in key.numbers()[:2])
        der, label = _der.seq(_der.integer(n), _der.integer(e)), "RSA PUBLIC KEY"
    elif format is PublicFormat.OpenSSH:
        if encoding is not Encoding.OpenSSH:
            raise ValueError("OpenSSH format must be used with OpenSSH encoding")
        return openssh_public(key)
    elif format in (PublicFormat.UncompressedPoint, PublicFormat.CompressedPoint) and key.kind == "ec":
        if encoding is not Encoding.X962:
            raise ValueError("X962 encoding must be used with CompressedPoint or UncompressedPoint format")
        point = key.numbers()[0]
        if format is PublicFormat.UncompressedPoint:
            return point
        size = (len(point) - 1) // 2
        return bytes([2 + (point[-1] & 1)]) + point[1:1 + size]
    else:
        raise ValueError(f"{format} is not valid for this key")
    if encoding is Encoding.PEM:
        return _der.pem(label, der).encode()
    if encoding is Encoding.DER:
        return der
    raise ValueError(f"{encoding} is not valid for {format}")


_SSH_CURVES = {"secp256r1": b"nistp256", "secp384r1": b"nistp384", "secp521r1": b"nistp521"}


def openssh_public(key):
    import base64

    if key.kind == "rsa":
        n, e = (int.from_bytes(b, "big") for b in key.numbers()[:2])
        name = b"ssh-rsa"
        blob = _der.ssh_string(name) + _der.ssh_mpint(e) + _der.ssh_mpint(n)
    else:
        ident = _SSH_CURVES.get(key.curve)
        if ident is None:
            raise ValueError(f"{key.curve} has no OpenSSH encoding")
        name = b"ecdsa-sha2-" + ident
        blob = _der.ssh_string(name) + _der.ssh_string(ident) + _der.ssh_string(key.numbers()[0])
    return name + b" " + base64.b64encode(blob)


def load_private_der(der, password):
    """A private key object from DER (PKCS#1, SEC1 or PKCS#8)."""
    ed = _der.ed_key_from_pkcs8(der)
    if ed is not None:
        return _ed_private(*ed)
    return wrap(_pyedge_crypto.load_private(der, password))


def load_public_der(der):
    ed = _der.ed_key_from_spki(der)
    if ed is not None:
        return _ed_public(*ed)
    return wrap(_pyedge_crypto.load_public(der))


def _ed_private(oid, raw):
    if oid != _der.OID_ED25519:
        raise not_in_pyedge("Ed448", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(raw)


def _ed_public(oid, raw):
    if oid != _der.OID_ED25519:
        raise not_in_pyedge("Ed448", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(raw)
