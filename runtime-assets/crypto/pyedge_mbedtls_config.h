/* mbedTLS configuration for pyedge's `_pyedge_crypto` (runtime-assets/crypto/).
 *
 * Only what the `cryptography` facade (src/python/cryptography) needs: RSA PKCS#1 v1.5
 * and PSS, ECDSA on P-256/384/521 and secp256k1, SHA-1/2 inside the signature code,
 * AES-GCM and AES-CBC, PK parsing/writing of PEM and DER keys, X.509 certificate parsing
 * (for a certificate's public key). No TLS, no sockets, no file system, no clock, no
 * entropy source and no DRBG: every random byte the library asks for comes from the
 * caller's f_rng, which _pyedge_crypto.c wires to getentropy() (the host's wasi:random)
 * at call time, so no random state can be captured by the wizer snapshot.
 * Legacy (non-PSA) API only: PSA's key store and global RNG would be module state. */
#ifndef PYEDGE_MBEDTLS_CONFIG_H_
#define PYEDGE_MBEDTLS_CONFIG_H_

/* Platform: wasm32-wasi has calloc/free and nothing else we want. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_DEPRECATED_REMOVED

/* Bignum, ASN.1, OIDs, PEM. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* Hashes (used inside RSA/ECDSA; the facade hashes with CPython's HACL* hashlib). */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HMAC_DRBG_C /* only as RFC 6979's nonce derivation, seeded per signature */

/* RSA. */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21

/* Elliptic curves: constant-time scalar multiplication (comb with blinding). */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_SECP521R1_ENABLED
#define MBEDTLS_ECP_DP_SECP256K1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_PK_PARSE_EC_COMPRESSED

/* Keys and certificates. */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* Symmetric: AES-GCM (AESGCM) and AES-CBC (Fernet). Tables in ROM: no lazy table
 * generation at first use, so nothing is computed while the snapshot is taken. */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_GCM_C

#endif
