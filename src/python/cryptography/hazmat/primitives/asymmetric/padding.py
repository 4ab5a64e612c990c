"""Signature paddings for RSA: PKCS#1 v1.5 and PSS with MGF1."""

import abc

from cryptography.hazmat.primitives import hashes


class AsymmetricPadding(metaclass=abc.ABCMeta):
    name = None


class PKCS1v15(AsymmetricPadding):
    name = "EMSA-PKCS1-v1_5"


class _MaxLength:
    "Sentinel value for `MAX_LENGTH`."


class _Auto:
    "Sentinel value for `AUTO`."


class _DigestLength:
    "Sentinel value for `DIGEST_LENGTH`."


class MGF(metaclass=abc.ABCMeta):
    _algorithm = None


class MGF1(MGF):
    MAX_LENGTH = _MaxLength()

    def __init__(self, algorithm):
        if not isinstance(algorithm, hashes.HashAlgorithm):
            raise TypeError("Expected instance of hashes.HashAlgorithm.")
        self._algorithm = algorithm


class PSS(AsymmetricPadding):
    MAX_LENGTH = _MaxLength()
    AUTO = _Auto()
    DIGEST_LENGTH = _DigestLength()
    name = "EMSA-PSS"

    def __init__(self, mgf, salt_length):
        self._mgf = mgf
        if not isinstance(salt_length, (int, _MaxLength, _Auto, _DigestLength)):
            raise TypeError("salt_length must be an integer, MAX_LENGTH, DIGEST_LENGTH, or AUTO")
        if isinstance(salt_length, int) and salt_length < 0:
            raise ValueError("salt_length must be zero or greater.")
        self._salt_length = salt_length

    @property
    def mgf(self):
        return self._mgf


class OAEP(AsymmetricPadding):
    """Kept for imports; RSA encryption is not in pyedge's WASI build."""

    name = "EME-OAEP"

    def __init__(self, mgf, algorithm, label):
        self._mgf = mgf
        self._algorithm = algorithm
        self._label = label

    @property
    def algorithm(self):
        return self._algorithm

    @property
    def mgf(self):
        return self._mgf


def calculate_max_pss_salt_length(key, hash_algorithm):
    em_length = (key.key_size + 6) // 8
    salt_length = em_length - hash_algorithm.digest_size - 2
    if salt_length < 0:
        raise ValueError("the key is too small for this hash")
    return salt_length
