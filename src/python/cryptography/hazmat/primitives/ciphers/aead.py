"""AEAD ciphers: AES-GCM (mbedTLS in the C core). The others raise UnsupportedAlgorithm."""

import os

import _pyedge_crypto

from cryptography.exceptions import InvalidTag, _Reasons, not_in_pyedge


class AESGCM:
    _MAX_SIZE = 2**31 - 1

    def __init__(self, key):
        key = bytes(key)
        if len(key) not in (16, 24, 32):
            raise ValueError("AESGCM key must be 128, 192, or 256 bits.")
        self._key = key

    @classmethod
    def generate_key(cls, bit_length):
        if not isinstance(bit_length, int):
            raise TypeError("bit_length must be an integer")
        if bit_length not in (128, 192, 256):
            raise ValueError("bit_length must be 128, 192, or 256")
        return os.urandom(bit_length // 8)

    @staticmethod
    def _check(nonce, data, associated_data):
        nonce = bytes(nonce)
        if len(nonce) < 8 or len(nonce) > 128:
            raise ValueError("Nonce must be between 8 and 128 bytes")
        return nonce, bytes(data), b"" if associated_data is None else bytes(associated_data)

    def encrypt(self, nonce, data, associated_data):
        nonce, data, aad = self._check(nonce, data, associated_data)
        return _pyedge_crypto.aes_gcm(True, self._key, nonce, data, aad, 16)

    def decrypt(self, nonce, data, associated_data):
        nonce, data, aad = self._check(nonce, data, associated_data)
        plain = _pyedge_crypto.aes_gcm(False, self._key, nonce, data, aad, 16)
        if plain is None:
            raise InvalidTag()
        return plain


def _unsupported(name):
    class _Unsupported:
        def __init__(self, *args, **kwargs):
            raise not_in_pyedge(name, _Reasons.UNSUPPORTED_CIPHER)

        @classmethod
        def generate_key(cls, *args, **kwargs):
            raise not_in_pyedge(name, _Reasons.UNSUPPORTED_CIPHER)

    _Unsupported.__name__ = _Unsupported.__qualname__ = name
    return _Unsupported


ChaCha20Poly1305 = _unsupported("ChaCha20Poly1305")
AESCCM = _unsupported("AESCCM")
AESSIV = _unsupported("AESSIV")
AESOCB3 = _unsupported("AESOCB3")
AESGCMSIV = _unsupported("AESGCMSIV")
