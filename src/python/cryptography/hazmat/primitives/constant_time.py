"""`constant_time.bytes_eq`, over the stdlib's constant-time compare."""

import hmac as _hmac


def bytes_eq(a, b):
    if not isinstance(a, bytes) or not isinstance(b, bytes):
        raise TypeError("a and b must be bytes.")
    return _hmac.compare_digest(a, b)
