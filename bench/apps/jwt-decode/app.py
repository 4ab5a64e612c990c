"""bench/jwt.sh: p50 of `jwt.decode` inside the component, RS256 and ES256, with the
gateway fixtures' public keys and tokens (env JWT_BENCH, JSON), the PEM parsed per call
(as the gateway does) and a key object reused; and of a bare P-256 verify."""

import json
import os
import time

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def p50(fn, runs=300):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000


def main():
    given = json.loads(os.environ["JWT_BENCH"])
    for alg, case in sorted(given.items()):
        token, pem = case["token"], case["public_key"]
        key = serialization.load_pem_public_key(pem.encode())
        per_call = p50(lambda: jwt.decode(token, pem, algorithms=[alg]))
        reused = p50(lambda: jwt.decode(token, key, algorithms=[alg]))
        print(f"{alg} jwt.decode p50  {per_call:6.3f} ms (PEM per call)  {reused:6.3f} ms (key object)")
    private = ec.generate_private_key(ec.SECP256R1())
    signature = private.sign(b"m", ec.ECDSA(hashes.SHA256()))
    public = private.public_key()
    print(f"P-256 ECDSA verify p50  {p50(lambda: public.verify(signature, b'm', ec.ECDSA(hashes.SHA256()))):6.3f} ms")
