"""Type aliases of the key types."""

import typing

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

PublicKeyTypes = typing.Union[
    rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey
]
PrivateKeyTypes = typing.Union[
    rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey
]
CertificatePublicKeyTypes = PublicKeyTypes
CertificateIssuerPublicKeyTypes = PublicKeyTypes
CertificateIssuerPrivateKeyTypes = PrivateKeyTypes
PUBLIC_KEY_TYPES = PublicKeyTypes
PRIVATE_KEY_TYPES = PrivateKeyTypes
