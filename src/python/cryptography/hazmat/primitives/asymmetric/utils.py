"""DSS (ECDSA) signature encoding and `Prehashed`."""

from cryptography import _der
from cryptography.hazmat.primitives import hashes


def decode_dss_signature(signature):
    tag, body, end = _der.read_tlv(bytes(signature))
    if tag != 0x30 or end != len(signature):
        raise ValueError("Invalid DSS signature")
    r, pos = _der.read_integer(body)
    s, pos = _der.read_integer(body, pos)
    if pos != len(body):
        raise ValueError("Invalid DSS signature")
    return r, s


def encode_dss_signature(r, s):
    return _der.seq(_der.integer(r), _der.integer(s))


class Prehashed:
    def __init__(self, algorithm):
        if not isinstance(algorithm, hashes.HashAlgorithm):
            raise TypeError("Expected instance of HashAlgorithm.")
        self._algorithm = algorithm
        self._digest_size = algorithm.digest_size

    @property
    def digest_size(self):
        return self._digest_size


def _digest(data, algorithm):
    """(hash name for the C core, digest) of `data` under `algorithm` or `Prehashed`."""
    if isinstance(algorithm, Prehashed):
        if len(data) != algorithm.digest_size:
            raise ValueError("The provided data must be the same length as the hash algorithm's digest size.")
        return _c_hash_name(algorithm._algorithm), bytes(data)
    name = _c_hash_name(algorithm)
    return name, hashes._digest(algorithm, data)


def _c_hash_name(algorithm):
    from cryptography.exceptions import _Reasons, not_in_pyedge

    if not isinstance(algorithm, hashes.HashAlgorithm):
        raise TypeError("Expected instance of hashes.HashAlgorithm.")
    if algorithm.name not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        raise not_in_pyedge(f"signing with {algorithm.name}", _Reasons.UNSUPPORTED_HASH)
    return algorithm.name
