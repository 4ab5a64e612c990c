"""Cipher algorithm names (for imports); see `ciphers.Cipher`."""

from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm


class AES(BlockCipherAlgorithm):
    name = "AES"
    block_size = 128
    key_sizes = frozenset([128, 192, 256, 512])

    def __init__(self, key):
        self.key = bytes(key)

    @property
    def key_size(self):
        return len(self.key) * 8


class AES128(AES):
    key_sizes = frozenset([128])


class AES256(AES):
    key_sizes = frozenset([256])
