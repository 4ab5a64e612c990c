"""Hash algorithms and `Hash`, over CPython's hashlib (HACL*, built into the runtime)."""

import abc
import hashlib

from cryptography.exceptions import AlreadyFinalized, _Reasons, not_in_pyedge


class HashAlgorithm(metaclass=abc.ABCMeta):
    name = None
    digest_size = None
    block_size = None


class ExtendableOutputFunction(metaclass=abc.ABCMeta):
    pass


class HashContext(metaclass=abc.ABCMeta):
    pass


def _algorithm(name, digest_size, block_size):
    return type(
        name.upper().replace("-", "_").replace("/", "_"),
        (HashAlgorithm,),
        {"name": name, "digest_size": digest_size, "block_size": block_size},
    )


SHA1 = _algorithm("sha1", 20, 64)
SHA224 = _algorithm("sha224", 28, 64)
SHA256 = _algorithm("sha256", 32, 64)
SHA384 = _algorithm("sha384", 48, 128)
SHA512 = _algorithm("sha512", 64, 128)
SHA512_224 = _algorithm("sha512_224", 28, 128)
SHA512_256 = _algorithm("sha512_256", 32, 128)
SHA3_224 = _algorithm("sha3-224", 28, 144)
SHA3_256 = _algorithm("sha3-256", 32, 136)
SHA3_384 = _algorithm("sha3-384", 48, 104)
SHA3_512 = _algorithm("sha3-512", 64, 72)
MD5 = _algorithm("md5", 16, 64)
SM3 = _algorithm("sm3", 32, 64)
SHA1.__name__, SHA3_224.__name__, SHA3_256.__name__ = "SHA1", "SHA3_224", "SHA3_256"
SHA3_384.__name__, SHA3_512.__name__ = "SHA3_384", "SHA3_512"

_HASHLIB_NAMES = {
    "sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384",
    "sha512": "sha512", "sha3-224": "sha3_224", "sha3-256": "sha3_256",
    "sha3-384": "sha3_384", "sha3-512": "sha3_512", "md5": "md5",
}


class BLAKE2b(HashAlgorithm):
    name = "blake2b"
    block_size = 128

    def __init__(self, digest_size):
        if digest_size != 64:
            raise ValueError("Digest size must be 64")
        self.digest_size = digest_size


class BLAKE2s(HashAlgorithm):
    name = "blake2s"
    block_size = 64

    def __init__(self, digest_size):
        if digest_size != 32:
            raise ValueError("Digest size must be 32")
        self.digest_size = digest_size


_HASHLIB_NAMES.update(blake2b="blake2b", blake2s="blake2s")


def _new(algorithm):
    """A hashlib object for `algorithm`, or UnsupportedAlgorithm."""
    if not isinstance(algorithm, HashAlgorithm):
        raise TypeError("Expected instance of hashes.HashAlgorithm.")
    name = _HASHLIB_NAMES.get(algorithm.name)
    if name is None:
        raise not_in_pyedge(f"hash {algorithm.name}", _Reasons.UNSUPPORTED_HASH)
    return hashlib.new(name)


def _digest(algorithm, data):
    h = _new(algorithm)
    h.update(data)
    return h.digest()


class Hash(HashContext):
    def __init__(self, algorithm, backend=None, ctx=None):
        self._algorithm = algorithm
        self._ctx = ctx if ctx is not None else _new(algorithm)

    @property
    def algorithm(self):
        return self._algorithm

    def update(self, data):
        if self._ctx is None:
            raise AlreadyFinalized("Context was already finalized.")
        self._ctx.update(memoryview(data))

    def copy(self):
        if self._ctx is None:
            raise AlreadyFinalized("Context was already finalized.")
        return Hash(self._algorithm, ctx=self._ctx.copy())

    def finalize(self):
        if self._ctx is None:
            raise AlreadyFinalized("Context was already finalized.")
        digest, self._ctx = self._ctx.digest(), None
        return digest

    @classmethod
    def hash(cls, algorithm, data):
        return _digest(algorithm, data)
