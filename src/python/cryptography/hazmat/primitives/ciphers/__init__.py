"""Block ciphers: only the AEAD API (`ciphers.aead.AESGCM`) and Fernet are in pyedge's
WASI build; `Cipher` itself raises UnsupportedAlgorithm."""

import abc

from cryptography.exceptions import _Reasons, not_in_pyedge


class CipherAlgorithm(metaclass=abc.ABCMeta):
    pass


class BlockCipherAlgorithm(CipherAlgorithm):
    pass


class CipherContext(metaclass=abc.ABCMeta):
    pass


class AEADCipherContext(CipherContext):
    pass


class AEADDecryptionContext(AEADCipherContext):
    pass


class AEADEncryptionContext(AEADCipherContext):
    pass


class Cipher:
    def __init__(self, algorithm, mode, backend=None):
        raise not_in_pyedge("the Cipher API (use ciphers.aead.AESGCM or Fernet)", _Reasons.UNSUPPORTED_CIPHER)
