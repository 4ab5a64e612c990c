"""X.509 far enough for a certificate's public key (PyJWT's x5c and DER-key checks).
Names, extensions, validity and chains are not in pyedge's WASI build."""

import _pyedge_crypto

from cryptography import _der, _keys
from cryptography.exceptions import _Reasons, not_in_pyedge


class Certificate:
    def __init__(self, der):
        self._der = der
        self._key = _pyedge_crypto.cert_public_key(der)

    def public_key(self):
        return _keys.wrap(self._key)

    def public_bytes(self, encoding):
        from cryptography.hazmat.primitives.serialization import Encoding

        if encoding is Encoding.PEM:
            return _der.pem("CERTIFICATE", self._der).encode()
        if encoding is Encoding.DER:
            return self._der
        raise TypeError("encoding must be an item from the Encoding enum")

    def __eq__(self, other):
        return isinstance(other, Certificate) and self._der == other._der

    def __hash__(self):
        return hash(self._der)

    def __getattr__(self, name):
        raise _missing(f"x509.Certificate.{name}")


def load_der_x509_certificate(data, backend=None):
    data = bytes(data)
    try:
        tag, _, end = _der.read_tlv(data)
    except ValueError:
        raise ValueError("error parsing asn1 value") from None
    if tag != 0x30 or end != len(data):
        raise ValueError("error parsing asn1 value")
    return Certificate(data)


def load_pem_x509_certificate(data, backend=None):
    for label, der in _der.pem_blocks(bytes(data)):
        if label in ("CERTIFICATE", "X509 CERTIFICATE") and der is not None:
            return Certificate(der)
    raise ValueError("Unable to load PEM file: no CERTIFICATE block")


def load_pem_x509_certificates(data):
    certs = [Certificate(der) for label, der in _der.pem_blocks(bytes(data)) if label == "CERTIFICATE"]
    if not certs:
        raise ValueError("Unable to load PEM file: no CERTIFICATE block")
    return certs


def _missing(what):
    # An AttributeError (so `hasattr` and `from x509 import Name` behave), saying why.
    return AttributeError(str(not_in_pyedge(what, _Reasons.UNSUPPORTED_X509)))


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise _missing(f"x509.{name}")
