"""Elliptic-curve keys: ECDSA on P-256, P-384, P-521 and secp256k1 (other curves exist
as names only; ECDH is not in pyedge's WASI build)."""

import abc

import _pyedge_crypto

from cryptography import _keys
from cryptography.exceptions import InvalidSignature, _Reasons, not_in_pyedge
from cryptography.hazmat.primitives.asymmetric import utils as _utils


class EllipticCurveOID:
    SECP192R1 = "1.2.840.10045.3.1.1"
    SECP224R1 = "1.3.132.0.33"
    SECP256K1 = "1.3.132.0.10"
    SECP256R1 = "1.2.840.10045.3.1.7"
    SECP384R1 = "1.3.132.0.34"
    SECP521R1 = "1.3.132.0.35"


class EllipticCurve(metaclass=abc.ABCMeta):
    name = None
    key_size = None
    group_order = None


class EllipticCurveSignatureAlgorithm(metaclass=abc.ABCMeta):
    pass


def _curve(name, key_size, group_order=None):
    cls = type(name.upper(), (EllipticCurve,), {"name": name, "key_size": key_size, "group_order": group_order})
    return cls


SECP256R1 = _curve("secp256r1", 256, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551)
SECP384R1 = _curve(
    "secp384r1",
    384,
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
)
SECP521R1 = _curve(
    "secp521r1",
    521,
    0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
)
SECP256K1 = _curve("secp256k1", 256, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141)
SECP224R1 = _curve("secp224r1", 224)
SECP192R1 = _curve("secp192r1", 192)
SECT163K1 = _curve("sect163k1", 163)
SECT233K1 = _curve("sect233k1", 233)
SECT283K1 = _curve("sect283k1", 283)
SECT409K1 = _curve("sect409k1", 409)
SECT571K1 = _curve("sect571k1", 571)
SECT163R2 = _curve("sect163r2", 163)
SECT233R1 = _curve("sect233r1", 233)
SECT283R1 = _curve("sect283r1", 283)
SECT409R1 = _curve("sect409r1", 409)
SECT571R1 = _curve("sect571r1", 571)
BrainpoolP256R1 = _curve("brainpoolP256r1", 256)
BrainpoolP384R1 = _curve("brainpoolP384r1", 384)
BrainpoolP512R1 = _curve("brainpoolP512r1", 512)
for _cls, _name in ((BrainpoolP256R1, "BrainpoolP256R1"), (BrainpoolP384R1, "BrainpoolP384R1"),
                    (BrainpoolP512R1, "BrainpoolP512R1")):
    _cls.__name__ = _cls.__qualname__ = _name

_CURVE_TYPES = {
    c.name: c
    for c in (SECP256R1, SECP384R1, SECP521R1, SECP256K1, SECP224R1, SECP192R1, SECT163K1, SECT233K1,
              SECT283K1, SECT409K1, SECT571K1, SECT163R2, SECT233R1, SECT283R1, SECT409R1, SECT571R1,
              BrainpoolP256R1, BrainpoolP384R1, BrainpoolP512R1)
}
_SUPPORTED = ("secp256r1", "secp384r1", "secp521r1", "secp256k1")
_OID_TO_CURVE = {
    EllipticCurveOID.SECP192R1: SECP192R1, EllipticCurveOID.SECP224R1: SECP224R1,
    EllipticCurveOID.SECP256K1: SECP256K1, EllipticCurveOID.SECP256R1: SECP256R1,
    EllipticCurveOID.SECP384R1: SECP384R1, EllipticCurveOID.SECP521R1: SECP521R1,
}


def get_curve_for_oid(oid):
    try:
        return _OID_TO_CURVE[getattr(oid, "dotted_string", oid)]
    except KeyError:
        raise LookupError("The provided object identifier has no matching elliptic curve class") from None


def _check_curve(curve):
    if not isinstance(curve, EllipticCurve):
        raise TypeError("curve must be an EllipticCurve instance")
    if curve.name not in _SUPPORTED:
        raise not_in_pyedge(f"curve {curve.name}", _Reasons.UNSUPPORTED_ELLIPTIC_CURVE)
    return curve.name


class ECDSA(EllipticCurveSignatureAlgorithm):
    def __init__(self, algorithm, deterministic_signing=False):
        self._algorithm = algorithm
        self._deterministic_signing = deterministic_signing

    @property
    def algorithm(self):
        return self._algorithm

    @property
    def deterministic_signing(self):
        return self._deterministic_signing


class ECDH:
    pass


class EllipticCurvePublicKey(metaclass=abc.ABCMeta):
    @classmethod
    def from_encoded_point(cls, curve, data):
        name = _check_curve(curve)
        if not data or data[0] not in (2, 3, 4):
            raise ValueError("Unsupported elliptic curve point type")
        return _ECPublicKey(_pyedge_crypto.ec_from_numbers(name, bytes(data), b""))


class EllipticCurvePrivateKey(metaclass=abc.ABCMeta):
    pass


EllipticCurvePublicKeyWithSerialization = EllipticCurvePublicKey
EllipticCurvePrivateKeyWithSerialization = EllipticCurvePrivateKey


def _curve_of(key):
    return _CURVE_TYPES[key.curve]()


def _check_algorithm(signature_algorithm):
    if not isinstance(signature_algorithm, ECDSA):
        raise not_in_pyedge("this EC signature algorithm", _Reasons.UNSUPPORTED_PUBLIC_KEY_ALGORITHM)


class _ECPublicKey(EllipticCurvePublicKey):
    def __init__(self, key):
        self._key = key

    @property
    def curve(self):
        return _curve_of(self._key)

    @property
    def key_size(self):
        return self.curve.key_size

    def verify(self, signature, data, signature_algorithm):
        _check_algorithm(signature_algorithm)
        hash_name, digest = _utils._digest(data, signature_algorithm.algorithm)
        if not self._key.verify(hash_name, digest, bytes(signature), 2):
            raise InvalidSignature()

    def public_numbers(self):
        point = self._key.numbers()[0]
        size = (len(point) - 1) // 2
        x, y = int.from_bytes(point[1:1 + size], "big"), int.from_bytes(point[1 + size:], "big")
        return EllipticCurvePublicNumbers(x, y, self.curve)

    def public_bytes(self, encoding, format):
        return _keys.public_bytes(self._key, encoding, format)

    def __eq__(self, other):
        return isinstance(other, _ECPublicKey) and self._key.public_der() == other._key.public_der()

    def __hash__(self):
        return hash(self._key.public_der())

    def __copy__(self):
        return self


class _ECPrivateKey(EllipticCurvePrivateKey):
    def __init__(self, key):
        self._key = key

    @property
    def curve(self):
        return _curve_of(self._key)

    @property
    def key_size(self):
        return self.curve.key_size

    def public_key(self):
        return _ECPublicKey(self._key.public_key())

    def sign(self, data, signature_algorithm):
        _check_algorithm(signature_algorithm)
        hash_name, digest = _utils._digest(data, signature_algorithm.algorithm)
        return self._key.sign(hash_name, digest, 2)

    def exchange(self, algorithm, peer_public_key):
        raise not_in_pyedge("ECDH", _Reasons.UNSUPPORTED_EXCHANGE_ALGORITHM)

    def private_numbers(self):
        d = int.from_bytes(self._key.numbers()[1], "big")
        return EllipticCurvePrivateNumbers(d, self.public_key().public_numbers())

    def private_bytes(self, encoding, format, encryption_algorithm):
        return _keys.private_bytes(self._key, encoding, format, encryption_algorithm)

    def __copy__(self):
        return self


def _size(curve):
    return (curve.key_size + 7) // 8


class EllipticCurvePublicNumbers:
    def __init__(self, x, y, curve):
        if not isinstance(x, int) or not isinstance(y, int):
            raise TypeError("x and y must be integers.")
        if not isinstance(curve, EllipticCurve):
            raise TypeError("curve must provide the EllipticCurve interface.")
        self._x, self._y, self._curve = x, y, curve

    x = property(lambda self: self._x)
    y = property(lambda self: self._y)
    curve = property(lambda self: self._curve)

    def _point(self):
        size = _size(self._curve)
        if self._x < 0 or self._y < 0 or self._x.bit_length() > size * 8 or self._y.bit_length() > size * 8:
            raise ValueError("Invalid EC key.")
        return b"\x04" + self._x.to_bytes(size, "big") + self._y.to_bytes(size, "big")

    def public_key(self, backend=None):
        name = _check_curve(self._curve)
        return _ECPublicKey(_pyedge_crypto.ec_from_numbers(name, self._point(), b""))

    def __eq__(self, other):
        return (
            isinstance(other, EllipticCurvePublicNumbers)
            and (self.x, self.y, self.curve.name, self.curve.key_size)
            == (other.x, other.y, other.curve.name, other.curve.key_size)
        )

    def __hash__(self):
        return hash((self.x, self.y, self.curve.name, self.curve.key_size))

    def __repr__(self):
        return f"<EllipticCurvePublicNumbers(curve={self.curve.name}, x={self.x}, y={self.y}>"


class EllipticCurvePrivateNumbers:
    def __init__(self, private_value, public_numbers):
        if not isinstance(private_value, int):
            raise TypeError("private_value must be an integer.")
        if not isinstance(public_numbers, EllipticCurvePublicNumbers):
            raise TypeError("public_numbers must be an EllipticCurvePublicNumbers instance.")
        self._private_value, self._public_numbers = private_value, public_numbers

    private_value = property(lambda self: self._private_value)
    public_numbers = property(lambda self: self._public_numbers)

    def private_key(self, backend=None):
        curve = self._public_numbers.curve
        name = _check_curve(curve)
        if self._private_value <= 0 or self._private_value.bit_length() > _size(curve) * 8:
            raise ValueError("Invalid EC key.")
        d = self._private_value.to_bytes(_size(curve), "big")
        return _ECPrivateKey(_pyedge_crypto.ec_from_numbers(name, self._public_numbers._point(), d))

    def __eq__(self, other):
        return (
            isinstance(other, EllipticCurvePrivateNumbers)
            and self.private_value == other.private_value
            and self.public_numbers == other.public_numbers
        )

    def __hash__(self):
        return hash((self.private_value, self.public_numbers))


def generate_private_key(curve, backend=None):
    return _ECPrivateKey(_pyedge_crypto.ec_generate(_check_curve(curve)))


def derive_private_key(private_value, curve, backend=None):
    if not isinstance(private_value, int):
        raise TypeError("private_value must be an integer type.")
    if private_value <= 0:
        raise ValueError("private_value must be a positive integer.")
    name = _check_curve(curve)
    d = private_value.to_bytes(_size(curve), "big")
    return _ECPrivateKey(_pyedge_crypto.ec_from_numbers(name, b"", d))
