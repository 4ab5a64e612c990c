"""RSA keys: PKCS#1 v1.5 and PSS signatures (encryption is not in pyedge's WASI build)."""

import abc
import math

import _pyedge_crypto

from cryptography import _keys
from cryptography.exceptions import InvalidSignature, _Reasons, not_in_pyedge
from cryptography.hazmat.primitives.asymmetric import padding as _padding
from cryptography.hazmat.primitives.asymmetric import utils as _utils


class RSAPublicKey(metaclass=abc.ABCMeta):
    pass


class RSAPrivateKey(metaclass=abc.ABCMeta):
    pass


RSAPublicKeyWithSerialization = RSAPublicKey
RSAPrivateKeyWithSerialization = RSAPrivateKey


def _b(value):
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def _i(data):
    return int.from_bytes(data, "big")


def _scheme(pad, key_size, algorithm):
    """(scheme, salt length, MGF1 hash name) for the C core; salt -1 means any."""
    if isinstance(pad, _padding.PKCS1v15):
        return 0, -1, ""
    if isinstance(pad, _padding.PSS):
        if not isinstance(pad._mgf, _padding.MGF1):
            raise not_in_pyedge("this MGF", _Reasons.UNSUPPORTED_MGF)
        mgf = _utils._c_hash_name(pad._mgf._algorithm)
        salt = pad._salt_length
        digest_size = algorithm.digest_size
        max_salt = (key_size + 6) // 8 - digest_size - 2
        if isinstance(salt, _padding._MaxLength):
            salt = max_salt
        elif isinstance(salt, _padding._DigestLength):
            salt = digest_size
        elif isinstance(salt, _padding._Auto):
            salt = -1
        return 1, salt, mgf
    raise not_in_pyedge(f"RSA padding {getattr(pad, 'name', pad)}", _Reasons.UNSUPPORTED_PADDING)


class _RSAPublicKey(RSAPublicKey):
    def __init__(self, key):
        self._key = key

    @property
    def key_size(self):
        return self._key.bits

    def verify(self, signature, data, padding, algorithm):
        hash_name, digest = _utils._digest(data, algorithm)
        scheme, salt, mgf = _scheme(padding, self.key_size, algorithm)
        if isinstance(padding, _padding.PSS) and isinstance(padding._salt_length, _padding._MaxLength):
            salt = -1  # cryptography verifies MAX_LENGTH as "any salt length"
        if not self._key.verify(hash_name, digest, bytes(signature), scheme, salt, mgf):
            raise InvalidSignature()

    def encrypt(self, plaintext, padding):
        raise not_in_pyedge("RSA encryption", _Reasons.UNSUPPORTED_PADDING)

    def recover_data_from_signature(self, signature, padding, algorithm):
        raise not_in_pyedge("RSA signature recovery", _Reasons.UNSUPPORTED_PADDING)

    def public_numbers(self):
        n, e = self._key.numbers()[:2]
        return RSAPublicNumbers(_i(e), _i(n))

    def public_bytes(self, encoding, format):
        return _keys.public_bytes(self._key, encoding, format)

    def __eq__(self, other):
        return isinstance(other, _RSAPublicKey) and self._key.public_der() == other._key.public_der()

    def __hash__(self):
        return hash(self._key.public_der())

    def __copy__(self):
        return self


class _RSAPrivateKey(RSAPrivateKey):
    def __init__(self, key):
        self._key = key

    @property
    def key_size(self):
        return self._key.bits

    def public_key(self):
        return _RSAPublicKey(self._key.public_key())

    def sign(self, data, padding, algorithm):
        hash_name, digest = _utils._digest(data, algorithm)
        scheme, salt, mgf = _scheme(padding, self.key_size, algorithm)
        if salt == -1 and scheme == 1:  # AUTO when signing means the maximum
            salt = (self.key_size + 6) // 8 - len(digest) - 2
        return self._key.sign(hash_name, digest, scheme, salt, mgf)

    def decrypt(self, ciphertext, padding):
        raise not_in_pyedge("RSA decryption", _Reasons.UNSUPPORTED_PADDING)

    def private_numbers(self):
        n, e, p, q, d, dmp1, dmq1, iqmp = (_i(x) for x in self._key.numbers())
        return RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, RSAPublicNumbers(e, n))

    def private_bytes(self, encoding, format, encryption_algorithm):
        return _keys.private_bytes(self._key, encoding, format, encryption_algorithm)

    def __copy__(self):
        return self


class RSAPublicNumbers:
    def __init__(self, e, n):
        if not isinstance(e, int) or not isinstance(n, int):
            raise TypeError("RSAPublicNumbers arguments must be integers.")
        self._e, self._n = e, n

    e = property(lambda self: self._e)
    n = property(lambda self: self._n)

    def public_key(self, backend=None):
        if self._n < 3 or self._e < 3 or self._e >= self._n or not self._e & 1 or not self._n & 1:
            raise ValueError("Invalid RSA public numbers")
        return _RSAPublicKey(_pyedge_crypto.rsa_from_numbers(_b(self._n), _b(self._e), b"", b"", b""))

    def __eq__(self, other):
        return isinstance(other, RSAPublicNumbers) and (self.e, self.n) == (other.e, other.n)

    def __hash__(self):
        return hash((self.e, self.n))

    def __repr__(self):
        return f"<RSAPublicNumbers(e={self.e}, n={self.n})>"


class RSAPrivateNumbers:
    def __init__(self, p, q, d, dmp1, dmq1, iqmp, public_numbers):
        for value in (p, q, d, dmp1, dmq1, iqmp):
            if not isinstance(value, int):
                raise TypeError("RSAPrivateNumbers p, q, d, dmp1, dmq1, iqmp arguments must all be an integers.")
        if not isinstance(public_numbers, RSAPublicNumbers):
            raise TypeError("RSAPrivateNumbers public_numbers must be an RSAPublicNumbers instance.")
        self._p, self._q, self._d = p, q, d
        self._dmp1, self._dmq1, self._iqmp = dmp1, dmq1, iqmp
        self._public_numbers = public_numbers

    p = property(lambda self: self._p)
    q = property(lambda self: self._q)
    d = property(lambda self: self._d)
    dmp1 = property(lambda self: self._dmp1)
    dmq1 = property(lambda self: self._dmq1)
    iqmp = property(lambda self: self._iqmp)
    public_numbers = property(lambda self: self._public_numbers)

    def private_key(self, backend=None, *, unsafe_skip_rsa_key_validation=False):
        n, e = self._public_numbers.n, self._public_numbers.e
        if self._p * self._q != n:
            raise ValueError("p*q != modulus")
        if (self._dmp1, self._dmq1, self._iqmp) != (
            rsa_crt_dmp1(self._d, self._p),
            rsa_crt_dmp1(self._d, self._q),
            rsa_crt_iqmp(self._p, self._q),
        ):
            raise ValueError("Invalid RSA CRT parameters")
        key = _pyedge_crypto.rsa_from_numbers(_b(n), _b(e), _b(self._p), _b(self._q), _b(self._d))
        return _RSAPrivateKey(key)

    def __eq__(self, other):
        return isinstance(other, RSAPrivateNumbers) and (
            self.p, self.q, self.d, self.dmp1, self.dmq1, self.iqmp, self.public_numbers
        ) == (other.p, other.q, other.d, other.dmp1, other.dmq1, other.iqmp, other.public_numbers)

    def __hash__(self):
        return hash((self.p, self.q, self.d, self.dmp1, self.dmq1, self.iqmp, self.public_numbers))


def generate_private_key(public_exponent, key_size, backend=None):
    if public_exponent not in (3, 65537):
        raise ValueError("public_exponent must be either 3 (for legacy compatibility) or 65537.")
    if key_size < 1024:
        raise ValueError("key_size must be at least 1024-bits.")
    return _RSAPrivateKey(_pyedge_crypto.rsa_generate(key_size, public_exponent))


def rsa_crt_iqmp(p, q):
    return pow(q, -1, p)


def rsa_crt_dmp1(private_exponent, p):
    return private_exponent % (p - 1)


def rsa_crt_dmq1(private_exponent, q):
    return private_exponent % (q - 1)


def rsa_recover_private_exponent(e, p, q):
    lambda_n = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    return pow(e, -1, lambda_n)


def rsa_recover_prime_factors(n, e, d):
    """(p, q) from the modulus and both exponents (the probabilistic method of
    NIST SP 800-56B Appendix C, with small primes as the bases), p > q."""
    ktot = d * e - 1
    t = ktot
    while t % 2 == 0:
        t //= 2
    spotted = False
    for a in range(2, 1000, 2):
        k = t
        while k < ktot:
            cand = pow(a, k, n)
            if cand != 1 and cand != n - 1 and pow(cand, 2, n) == 1:
                p = math.gcd(cand + 1, n)
                spotted = True
                break
            k *= 2
        if spotted:
            break
    if not spotted:
        raise ValueError("Unable to compute factors p and q from exponent d.")
    q, r = divmod(n, p)
    assert r == 0
    p, q = sorted((p, q), reverse=True)
    return p, q
