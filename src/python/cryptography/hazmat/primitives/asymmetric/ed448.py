"""Ed448: the classes exist (PyJWT imports them); keys are not in pyedge's WASI build."""

import abc

from cryptography.exceptions import _Reasons, not_in_pyedge


class Ed448PublicKey(metaclass=abc.ABCMeta):
    @classmethod
    def from_public_bytes(cls, data):
        raise not_in_pyedge("Ed448", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)


class Ed448PrivateKey(metaclass=abc.ABCMeta):
    @classmethod
    def generate(cls):
        raise not_in_pyedge("Ed448", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)

    @classmethod
    def from_private_bytes(cls, data):
        raise not_in_pyedge("Ed448", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)
