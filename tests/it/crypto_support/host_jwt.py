"""The host side of tests/it/crypto.rs's interop test: real PyJWT + real `cryptography`.

`sign`: print the JWT_INTEROP JSON (tokens signed here). `verify`: read the component's
RESULT JSON on stdin and verify each token; exit 1 on failure.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

import cryptography
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

assert not hasattr(cryptography, "__pyedge__"), "the host must use the real cryptography"
PUBLIC = dict(encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign():
    keys = {
        "RS256": rsa.generate_private_key(65537, 2048),
        "PS256": rsa.generate_private_key(65537, 2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }
    now = int(time.time())
    out = {"algorithms": {}}
    for alg, key in keys.items():
        token = jwt.encode({"sub": "host-user", "exp": now + 600}, key, algorithm=alg)
        head, body, sig = token.split(".")
        raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
        raw[len(raw) // 2] ^= 0x01
        out["algorithms"][alg] = {
            "token": token,
            "expired": jwt.encode({"sub": "host-user", "exp": now - 600}, key, algorithm=alg),
            "forged": f"{head}.{body}.{b64(bytes(raw))}",
            "public": key.public_key().public_bytes(**PUBLIC).decode(),
        }
    # Algorithm confusion: an HS256 token whose secret is the RS256 public key PEM
    # (made by hand: PyJWT refuses to use a PEM as an HMAC secret).
    secret = out["algorithms"]["RS256"]["public"].encode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = header + "." + b64(json.dumps({"sub": "attacker"}).encode())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    out["hs256_with_public_key"] = f"{signing_input}.{b64(mac)}"
    print(json.dumps(out))


def verify():
    signed = json.loads(sys.stdin.read())
    for alg, case in sorted(signed.items()):
        claims = jwt.decode(case["token"], case["public"], algorithms=[alg])
        assert claims["sub"] == "component-user", claims
        print(f"host verified the component's {alg} token")


{"sign": sign, "verify": verify}[sys.argv[1]]()
