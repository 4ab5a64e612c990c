"""`HMAC`, over the stdlib's hmac module."""

import hmac as _hmac

from cryptography.exceptions import AlreadyFinalized, InvalidSignature
from cryptography.hazmat.primitives import hashes


class HMAC(hashes.HashContext):
    def __init__(self, key, algorithm, backend=None, ctx=None):
        self._algorithm = algorithm
        if ctx is None:
            hashes._new(algorithm)  # the hash is in the subset, or UnsupportedAlgorithm
            ctx = _hmac.new(bytes(key), digestmod=hashes._HASHLIB_NAMES[algorithm.name])
        self._ctx = ctx

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
        return HMAC(b"", self._algorithm, ctx=self._ctx.copy())

    def finalize(self):
        if self._ctx is None:
            raise AlreadyFinalized("Context was already finalized.")
        digest, self._ctx = self._ctx.digest(), None
        return digest

    def verify(self, signature):
        if not _hmac.compare_digest(self.finalize(), bytes(signature)):
            raise InvalidSignature("Signature did not match digest.")
