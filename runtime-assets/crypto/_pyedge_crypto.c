/* _pyedge_crypto: the C core under pyedge's `cryptography` facade (src/python/cryptography).
 *
 * Thin on purpose: keys in, bytes out. The facade gives the API its shape (classes,
 * padding objects, PEM/PKCS#8 framing, hashing with CPython's own HACL* hashlib).
 *
 * Libraries (pinned Debian sources, built by runtime-assets/build.sh):
 *  - mbedTLS 3.6 LTS for RSA (PKCS#1 v1.5, PSS), ECDSA (P-256/384/521, secp256k1),
 *    AES-GCM/CBC, and PEM/DER key and certificate parsing. Chosen over BearSSL because it
 *    parses and writes SubjectPublicKeyInfo, PKCS#1 and PKCS#8 itself, has PSS with any
 *    salt length and separate MGF1 hash, and is maintained (BearSSL's last release is
 *    2018). Its bignum and ECP code is written to be constant time for secret data.
 *  - libsodium 1.0.18 for Ed25519 only (mbedTLS has no EdDSA): its ref10 Ed25519, SHA-512
 *    and compare code plus utils.c (seven files), constant time, RFC 8032 with
 *    libsodium's stricter verification (canonical S and A, no small-order R or A).
 *
 *  - BearSSL 0.6 for the two verifications a JWT gateway runs per request: P-256 ECDSA
 *    (ES256; its `p256_m31` code, a P-256-specific field on 31-bit limbs) and the RSA
 *    public-key operation under PKCS#1 v1.5 verification (RS256; its `i31` code). Both
 *    constant time. mbedTLS keeps everything else, signing included.
 *
 * Speed (bench/jwt.sh): RSA-2048 verification is cheap, but mbedTLS's P-256 ECDSA
 * verification takes about 2.3 ms in wasm32 (its generic ECP code on 32-bit limbs; 1.3-1.5
 * ms natively), about as slow as the pure-Python `ecdsa` with a precomputed key, not the
 * 10x faster that shared/notes/crypto-wasi.md expected from C. mbedTLS's bundled p256-m
 * is no help (it is tuned for size: slower still). BearSSL's p256_m31 verifies in about a
 * third of mbedTLS's time in the same wasm32 build, so P-256 verification goes there;
 * the signature's DER is still parsed by mbedTLS's ASN.1 code, exactly as
 * mbedtls_ecdsa_read_signature parses it, so what is accepted as a signature does not
 * change (the NIST vectors and the edge cases of tests/it/crypto.rs check both the
 * parse and the verdict). An RSA-2048 PKCS#1 v1.5 verification takes 0.65 ms with
 * mbedTLS's bignum code and about 0.3 ms with BearSSL's i31 public-key operation; the
 * encoded block it yields is then compared with the one mbedTLS would expect, byte for
 * byte, so the verdicts do not change either.
 *
 * Randomness: every random byte (RSA blinding and key generation, PSS salts, ECDSA
 * blinding and key generation) is read from getentropy(), i.e. the host's wasi:random,
 * at the moment it is needed. There is no DRBG and no module state, so the wizer
 * snapshot cannot hold a seed. ECDSA nonces are RFC 6979 (deterministic from key and
 * message; mbedTLS's HMAC_DRBG is only that derivation, seeded per signature).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <unistd.h>

#include "mbedtls/aes.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/gcm.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"
#include "sodium/crypto_sign_ed25519.h"

#include "bearssl_ec.h"
#include "bearssl_rsa.h"
#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"

/* ---- host randomness ---- */

/* mbedTLS's f_rng: the host's random bytes, 256 at a time (getentropy's limit). */
static int host_random(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    while (len) {
        size_t n = len > 256 ? 256 : len;
        if (getentropy(out, n) != 0) {
            return MBEDTLS_ERR_ECP_RANDOM_FAILED;
        }
        out += n;
        len -= n;
    }
    return 0;
}

/* libsodium's randombytes_buf and sodium_misuse, which its utils.c and the Ed25519 key
 * pair code reference; pyedge uses seeds only, but a random byte must never be weak. */
void randombytes_buf(void *const buf, const size_t size)
{
    if (host_random(NULL, buf, size) != 0) {
        abort();
    }
}

void sodium_misuse(void) { abort(); }

/* ---- errors ---- */

static PyObject *fail(const char *what, int ret)
{
    PyErr_Format(PyExc_ValueError, "%s failed (mbedTLS error -0x%04x)", what, (unsigned)-ret);
    return NULL;
}

/* ---- hash names ---- */

static int md_from_name(const char *name, mbedtls_md_type_t *md)
{
    static const struct { const char *name; mbedtls_md_type_t md; } table[] = {
        {"sha1", MBEDTLS_MD_SHA1},     {"sha224", MBEDTLS_MD_SHA224}, {"sha256", MBEDTLS_MD_SHA256},
        {"sha384", MBEDTLS_MD_SHA384}, {"sha512", MBEDTLS_MD_SHA512},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name) == 0) {
            *md = table[i].md;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "hash %s is not in pyedge's WASI build", name);
    return -1;
}

static const struct { const char *name; mbedtls_ecp_group_id id; } CURVES[] = {
    {"secp256r1", MBEDTLS_ECP_DP_SECP256R1}, {"secp384r1", MBEDTLS_ECP_DP_SECP384R1},
    {"secp521r1", MBEDTLS_ECP_DP_SECP521R1}, {"secp256k1", MBEDTLS_ECP_DP_SECP256K1},
};

static int curve_from_name(const char *name, mbedtls_ecp_group_id *id)
{
    for (size_t i = 0; i < sizeof CURVES / sizeof CURVES[0]; i++) {
        if (strcmp(name, CURVES[i].name) == 0) {
            *id = CURVES[i].id;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "curve %s is not in pyedge's WASI build", name);
    return -1;
}

static const char *curve_name(mbedtls_ecp_group_id id)
{
    for (size_t i = 0; i < sizeof CURVES / sizeof CURVES[0]; i++) {
        if (CURVES[i].id == id) {
            return CURVES[i].name;
        }
    }
    return NULL;
}

/* ---- Key: an RSA or EC key (public or private) in an mbedtls_pk_context ---- */

typedef struct {
    PyObject_HEAD
    mbedtls_pk_context pk;
    int private;
} KeyObject;

static PyTypeObject KeyType;

static KeyObject *key_new(void)
{
    KeyObject *k = PyObject_New(KeyObject, &KeyType);
    if (k) {
        mbedtls_pk_init(&k->pk);
        k->private = 0;
    }
    return k;
}

static void key_dealloc(KeyObject *k)
{
    mbedtls_pk_free(&k->pk);
    PyObject_Free(k);
}

/* The key's type, after checking it is RSA or EC (what the parsers may return). */
static PyObject *key_checked(KeyObject *k, int private)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&k->pk);
    if (t != MBEDTLS_PK_RSA && t != MBEDTLS_PK_ECKEY) {
        Py_DECREF(k);
        PyErr_SetString(PyExc_ValueError, "key type is not in pyedge's WASI build");
        return NULL;
    }
    if (t == MBEDTLS_PK_ECKEY && !curve_name(mbedtls_pk_ec(k->pk)->MBEDTLS_PRIVATE(grp).id)) {
        Py_DECREF(k);
        PyErr_SetString(PyExc_ValueError, "curve is not in pyedge's WASI build");
        return NULL;
    }
    k->private = private;
    return (PyObject *)k;
}

static int is_pem(const char *data, Py_ssize_t len)
{
    return len > 10 && memmem(data, (size_t)len, "-----BEGIN", 10) != NULL;
}

/* load_private(data, password or None) -> Key; PEM or DER, PKCS#1/SEC1/PKCS#8. */
static PyObject *load_private(PyObject *self, PyObject *args)
{
    Py_buffer data, pw = {0};
    if (!PyArg_ParseTuple(args, "y*|z*", &data, &pw)) {
        return NULL;
    }
    /* mbedTLS wants PEM NUL-terminated, with the NUL counted. */
    PyObject *copy = PyBytes_FromStringAndSize(data.buf, data.len);
    size_t len = (size_t)data.len + (is_pem(data.buf, data.len) ? 1 : 0);
    KeyObject *k = copy ? key_new() : NULL;
    int ret = 0;
    if (k) {
        ret = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)PyBytes_AS_STRING(copy), len,
                                   pw.buf, pw.buf ? (size_t)pw.len : 0, host_random, NULL);
    }
    Py_XDECREF(copy);
    PyBuffer_Release(&data);
    if (pw.buf) {
        PyBuffer_Release(&pw);
    }
    if (!k) {
        return NULL;
    }
    if (ret != 0) {
        Py_DECREF(k);
        return fail("parsing the private key", ret);
    }
    return key_checked(k, 1);
}

/* load_public(data) -> Key; PEM or DER, SubjectPublicKeyInfo or PKCS#1. */
static PyObject *load_public(PyObject *self, PyObject *args)
{
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) {
        return NULL;
    }
    PyObject *copy = PyBytes_FromStringAndSize(data.buf, data.len);
    size_t len = (size_t)data.len + (is_pem(data.buf, data.len) ? 1 : 0);
    PyBuffer_Release(&data);
    KeyObject *k = copy ? key_new() : NULL;
    if (!k) {
        Py_XDECREF(copy);
        return NULL;
    }
    int ret = mbedtls_pk_parse_public_key(&k->pk, (const unsigned char *)PyBytes_AS_STRING(copy), len);
    Py_DECREF(copy);
    if (ret != 0) {
        Py_DECREF(k);
        return fail("parsing the public key", ret);
    }
    return key_checked(k, 0);
}

/* cert_public_key(data) -> Key: the public key of an X.509 certificate (PEM or DER). */
static PyObject *cert_public_key(PyObject *self, PyObject *args)
{
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data)) {
        return NULL;
    }
    PyObject *copy = PyBytes_FromStringAndSize(data.buf, data.len);
    size_t len = (size_t)data.len + (is_pem(data.buf, data.len) ? 1 : 0);
    PyBuffer_Release(&data);
    if (!copy) {
        return NULL;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ret = mbedtls_x509_crt_parse(&crt, (const unsigned char *)PyBytes_AS_STRING(copy), len);
    Py_DECREF(copy);
    unsigned char buf[2600];
    int n = ret == 0 ? mbedtls_pk_write_pubkey_der(&crt.pk, buf, sizeof buf) : ret;
    mbedtls_x509_crt_free(&crt);
    if (ret != 0) {
        return fail("parsing the certificate", ret);
    }
    if (n < 0) {
        return fail("writing the certificate's public key", n);
    }
    KeyObject *k = key_new();
    if (!k) {
        return NULL;
    }
    ret = mbedtls_pk_parse_public_key(&k->pk, buf + sizeof buf - n, (size_t)n);
    if (ret != 0) {
        Py_DECREF(k);
        return fail("reading the certificate's public key", ret);
    }
    return key_checked(k, 0);
}

/* rsa_from_numbers(n, e, p, q, d) -> Key; big-endian bytes, p/q/d empty for a public key. */
static PyObject *rsa_from_numbers(PyObject *self, PyObject *args)
{
    Py_buffer n, e, p, q, d;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &n, &e, &p, &q, &d)) {
        return NULL;
    }
    int private = d.len > 0;
    KeyObject *k = key_new();
    int ret = -1;
    if (k && (ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA))) == 0) {
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
        ret = mbedtls_rsa_import_raw(rsa, n.buf, n.len, private ? p.buf : NULL, p.len,
                                     private ? q.buf : NULL, q.len, private ? d.buf : NULL, d.len,
                                     e.buf, e.len);
        if (ret == 0) {
            ret = mbedtls_rsa_complete(rsa);
        }
        if (ret == 0) {
            ret = private ? mbedtls_rsa_check_privkey(rsa) : mbedtls_rsa_check_pubkey(rsa);
        }
    }
    PyBuffer_Release(&n);
    PyBuffer_Release(&e);
    PyBuffer_Release(&p);
    PyBuffer_Release(&q);
    PyBuffer_Release(&d);
    if (!k) {
        return NULL;
    }
    if (ret != 0) {
        Py_DECREF(k);
        return fail("loading the RSA numbers", ret);
    }
    return key_checked(k, private);
}

/* ec_from_numbers(curve, point, d) -> Key; point is an X9.62 encoding (04 || x || y,
 * or compressed), d big-endian bytes or empty. With d, the point (if not empty) must be
 * d's. */
static PyObject *ec_from_numbers(PyObject *self, PyObject *args)
{
    const char *curve;
    Py_buffer pt, d;
    if (!PyArg_ParseTuple(args, "sy*y*", &curve, &pt, &d)) {
        return NULL;
    }
    mbedtls_ecp_group_id id;
    KeyObject *k = curve_from_name(curve, &id) == 0 ? key_new() : NULL;
    int ret = -1, private = d.len > 0;
    mbedtls_ecp_group grp;
    mbedtls_ecp_point Q;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&Q);
    if (k && (ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) == 0) {
        mbedtls_ecp_keypair *kp = mbedtls_pk_ec(k->pk);
        ret = mbedtls_ecp_group_load(&grp, id);
        if (ret == 0 && (pt.len > 0 || !private)) {
            ret = mbedtls_ecp_point_read_binary(&grp, &Q, pt.buf, pt.len);
            if (ret == 0) {
                ret = mbedtls_ecp_check_pubkey(&grp, &Q);
            }
        }
        if (ret == 0 && private) {
            ret = mbedtls_ecp_read_key(id, kp, d.buf, d.len);
            if (ret == 0) {
                ret = mbedtls_ecp_keypair_calc_public(kp, host_random, NULL);
            }
            if (ret == 0 && pt.len > 0 && mbedtls_ecp_point_cmp(&kp->MBEDTLS_PRIVATE(Q), &Q) != 0) {
                ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
            }
        } else if (ret == 0) {
            ret = mbedtls_ecp_set_public_key(id, kp, &Q);
        }
    }
    mbedtls_ecp_point_free(&Q);
    mbedtls_ecp_group_free(&grp);
    PyBuffer_Release(&pt);
    PyBuffer_Release(&d);
    if (!k) {
        return NULL;
    }
    if (ret != 0) {
        Py_DECREF(k);
        return fail("loading the EC numbers (is the point on the curve and the key's?)", ret);
    }
    return key_checked(k, private);
}

/* rsa_generate(bits, e) -> Key. */
static PyObject *rsa_generate(PyObject *self, PyObject *args)
{
    unsigned int bits;
    int e;
    if (!PyArg_ParseTuple(args, "Ii", &bits, &e)) {
        return NULL;
    }
    KeyObject *k = key_new();
    if (!k) {
        return NULL;
    }
    int ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0) {
        Py_BEGIN_ALLOW_THREADS
        ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), host_random, NULL, bits, e);
        Py_END_ALLOW_THREADS
    }
    if (ret != 0) {
        Py_DECREF(k);
        return fail("generating an RSA key", ret);
    }
    return key_checked(k, 1);
}

/* ec_generate(curve) -> Key. */
static PyObject *ec_generate(PyObject *self, PyObject *args)
{
    const char *curve;
    mbedtls_ecp_group_id id;
    if (!PyArg_ParseTuple(args, "s", &curve) || curve_from_name(curve, &id) < 0) {
        return NULL;
    }
    KeyObject *k = key_new();
    if (!k) {
        return NULL;
    }
    int ret = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0) {
        ret = mbedtls_ecp_gen_key(id, mbedtls_pk_ec(k->pk), host_random, NULL);
    }
    if (ret != 0) {
        Py_DECREF(k);
        return fail("generating an EC key", ret);
    }
    return key_checked(k, 1);
}

static PyObject *mpi_bytes(const mbedtls_mpi *x)
{
    size_t n = mbedtls_mpi_size(x);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (out && mbedtls_mpi_write_binary(x, (unsigned char *)PyBytes_AS_STRING(out), n) != 0) {
        Py_CLEAR(out);
        PyErr_SetString(PyExc_ValueError, "cannot write a number");
    }
    return out;
}

/* key.numbers(): RSA (n, e) or (n, e, p, q, d, dp, dq, qp); EC (point, d or b""),
 * the point uncompressed. Big-endian bytes. */
static PyObject *key_numbers(KeyObject *k, PyObject *unused)
{
    if (mbedtls_pk_get_type(&k->pk) == MBEDTLS_PK_RSA) {
        const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
        mbedtls_mpi v[8];
        for (int i = 0; i < 8; i++) {
            mbedtls_mpi_init(&v[i]);
        }
        int ret = k->private
            ? mbedtls_rsa_export(rsa, &v[0], &v[2], &v[3], &v[4], &v[1])
            : mbedtls_rsa_export(rsa, &v[0], NULL, NULL, NULL, &v[1]);
        if (ret == 0 && k->private) {
            ret = mbedtls_rsa_export_crt(rsa, &v[5], &v[6], &v[7]);
        }
        PyObject *out = NULL;
        int count = k->private ? 8 : 2;
        if (ret == 0 && (out = PyTuple_New(count))) {
            for (int i = 0; i < count; i++) {
                PyObject *b = mpi_bytes(&v[i]);
                if (!b) {
                    Py_CLEAR(out);
                    break;
                }
                PyTuple_SET_ITEM(out, i, b);
            }
        }
        for (int i = 0; i < 8; i++) {
            mbedtls_mpi_free(&v[i]);
        }
        return ret == 0 ? out : fail("exporting the RSA numbers", ret);
    }
    const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(k->pk);
    unsigned char pt[1 + 2 * 66], d[66];
    size_t plen = 0, dlen = 0;
    int ret = mbedtls_ecp_write_public_key(kp, MBEDTLS_ECP_PF_UNCOMPRESSED, &plen, pt, sizeof pt);
    if (ret == 0 && k->private) {
        ret = mbedtls_ecp_write_key_ext(kp, &dlen, d, sizeof d);
    }
    PyObject *out = ret == 0 ? Py_BuildValue("(y#y#)", pt, (Py_ssize_t)plen, d, (Py_ssize_t)dlen) : NULL;
    mbedtls_platform_zeroize(d, sizeof d);
    return ret == 0 ? out : fail("exporting the EC numbers", ret);
}

static PyObject *key_get_kind(KeyObject *k, void *unused)
{
    return PyUnicode_FromString(mbedtls_pk_get_type(&k->pk) == MBEDTLS_PK_RSA ? "rsa" : "ec");
}

static PyObject *key_get_bits(KeyObject *k, void *unused)
{
    return PyLong_FromSize_t(mbedtls_pk_get_bitlen(&k->pk));
}

static PyObject *key_get_private(KeyObject *k, void *unused) { return PyBool_FromLong(k->private); }

static PyObject *key_get_curve(KeyObject *k, void *unused)
{
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromString(curve_name(mbedtls_pk_ec(k->pk)->MBEDTLS_PRIVATE(grp).id));
}

/* key.public_der() -> SubjectPublicKeyInfo DER. */
static PyObject *key_public_der(KeyObject *k, PyObject *unused)
{
    unsigned char buf[2600];
    int n = mbedtls_pk_write_pubkey_der(&k->pk, buf, sizeof buf);
    if (n < 0) {
        return fail("writing the public key", n);
    }
    return PyBytes_FromStringAndSize((const char *)buf + sizeof buf - n, n);
}

/* key.private_der() -> the traditional DER of a private key: PKCS#1 (RSA) or SEC1 (EC).
 * The facade wraps it into PKCS#8 when asked. */
static PyObject *key_private_der(KeyObject *k, PyObject *unused)
{
    if (!k->private) {
        PyErr_SetString(PyExc_ValueError, "not a private key");
        return NULL;
    }
    unsigned char *buf = PyMem_Malloc(8192);
    if (!buf) {
        return PyErr_NoMemory();
    }
    int n = mbedtls_pk_write_key_der(&k->pk, buf, 8192);
    PyObject *out = n < 0 ? fail("writing the private key", n)
                          : PyBytes_FromStringAndSize((const char *)buf + 8192 - n, n);
    mbedtls_platform_zeroize(buf, 8192);
    PyMem_Free(buf);
    return out;
}

/* key.public_key() -> Key with only the public half. */
static PyObject *key_public_key(KeyObject *k, PyObject *unused)
{
    PyObject *der = key_public_der(k, NULL);
    if (!der) {
        return NULL;
    }
    KeyObject *pub = key_new();
    int ret = pub ? mbedtls_pk_parse_public_key(&pub->pk, (const unsigned char *)PyBytes_AS_STRING(der),
                                                (size_t)PyBytes_GET_SIZE(der))
                  : 0;
    Py_DECREF(der);
    if (!pub) {
        return NULL;
    }
    if (ret != 0) {
        Py_DECREF(pub);
        return fail("copying the public key", ret);
    }
    return (PyObject *)pub;
}

enum { SCHEME_PKCS1V15 = 0, SCHEME_PSS = 1, SCHEME_ECDSA = 2 };

/* Check the scheme fits the key; for PSS, set the MGF1 hash. */
static int scheme_for_key(KeyObject *k, int scheme, const char *mgf, mbedtls_md_type_t md)
{
    int rsa = mbedtls_pk_get_type(&k->pk) == MBEDTLS_PK_RSA;
    if (rsa != (scheme != SCHEME_ECDSA) || scheme < 0 || scheme > SCHEME_ECDSA) {
        PyErr_SetString(PyExc_ValueError, "signature scheme does not fit the key");
        return -1;
    }
    if (!rsa) {
        return 0;
    }
    mbedtls_md_type_t mgf_md = md;
    if (mgf && *mgf && md_from_name(mgf, &mgf_md) < 0) {
        return -1;
    }
    mbedtls_rsa_set_padding(mbedtls_pk_rsa(k->pk),
                            scheme == SCHEME_PSS ? MBEDTLS_RSA_PKCS_V21 : MBEDTLS_RSA_PKCS_V15,
                            scheme == SCHEME_PSS ? mgf_md : MBEDTLS_MD_NONE);
    return 0;
}

/* key.sign(hash, digest, scheme, salt_len, mgf_hash) -> signature; ECDSA's is DER. */
static PyObject *key_sign(KeyObject *k, PyObject *args)
{
    const char *hash, *mgf = "";
    Py_buffer dg;
    int scheme, salt = -1;
    if (!PyArg_ParseTuple(args, "sy*i|is", &hash, &dg, &scheme, &salt, &mgf)) {
        return NULL;
    }
    mbedtls_md_type_t md;
    PyObject *out = NULL;
    if (!k->private) {
        PyErr_SetString(PyExc_ValueError, "not a private key");
    } else if (md_from_name(hash, &md) == 0 && scheme_for_key(k, scheme, mgf, md) == 0) {
        unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
        size_t slen = 0;
        int ret;
        if (scheme == SCHEME_ECDSA) {
            ret = mbedtls_ecdsa_write_signature(mbedtls_pk_ec(k->pk), md, dg.buf, dg.len, sig, sizeof sig,
                                                &slen, host_random, NULL);
        } else {
            mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
            slen = mbedtls_rsa_get_len(rsa);
            ret = scheme == SCHEME_PSS
                ? mbedtls_rsa_rsassa_pss_sign_ext(rsa, host_random, NULL, md, dg.len, dg.buf, salt, sig)
                : mbedtls_rsa_pkcs1_sign(rsa, host_random, NULL, md, dg.len, dg.buf, sig);
        }
        out = ret == 0 ? PyBytes_FromStringAndSize((const char *)sig, (Py_ssize_t)slen) : fail("signing", ret);
    }
    PyBuffer_Release(&dg);
    return out;
}

/* A P-256 ECDSA signature (DER) over a digest, verified by BearSSL's p256_m31: 0 when
 * valid. The DER is taken apart as mbedtls_ecdsa_read_signature does (a SEQUENCE filling
 * the whole input, two INTEGERs and nothing after them, read as unsigned); r and s then go
 * to BearSSL as 32-byte big-endian numbers, and one that does not fit is invalid (it is not
 * below the group order either, which is what mbedTLS's check would say). */
static int p256_verify(const mbedtls_ecp_keypair *ec, const unsigned char *digest, size_t dlen,
                       const unsigned char *sig, size_t slen)
{
    unsigned char *p = (unsigned char *)sig;
    const unsigned char *end = sig + slen;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + len != end) {
        return -1;
    }
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    unsigned char raw[64], point[65];
    size_t plen = 0;
    int ret = -1;
    if (mbedtls_asn1_get_mpi(&p, end, &r) == 0 && mbedtls_asn1_get_mpi(&p, end, &s) == 0 &&
        p == end && mbedtls_mpi_write_binary(&r, raw, 32) == 0 &&
        mbedtls_mpi_write_binary(&s, raw + 32, 32) == 0 &&
        mbedtls_ecp_write_public_key(ec, MBEDTLS_ECP_PF_UNCOMPRESSED, &plen, point, sizeof point) == 0 &&
        plen == sizeof point) {
        br_ec_public_key pk = {BR_EC_secp256r1, point, sizeof point};
        ret = br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, digest, dlen, &pk, raw, sizeof raw) == 1 ? 0 : -1;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ret;
}

/* An RSA PKCS#1 v1.5 signature over a digest: 0 when valid. BearSSL's i31 code does the
 * public-key operation (moduli up to its BR_MAX_RSA_SIZE, 4096 bits; larger ones go to
 * mbedtls_rsa_pkcs1_verify), and the block it gives must equal the encoding that
 * mbedtls_rsa_pkcs1_verify builds and compares against (RFC 8017 EMSA-PKCS1-v1_5, the
 * DigestInfo with NULL parameters and one-byte lengths): 00 01 FF..FF 00 30 L1 30 L2 06 L3
 * OID 05 00 04 L4 HASH. */
static int rsa_pkcs1_verify(mbedtls_rsa_context *rsa, mbedtls_md_type_t md, const unsigned char *digest,
                            size_t dlen, const unsigned char *sig, size_t slen)
{
    size_t k = mbedtls_rsa_get_len(rsa);
    const char *oid;
    size_t olen;
    if (k * 8 > 4096 || mbedtls_oid_get_oid_by_md(md, &oid, &olen) != 0) {
        return mbedtls_rsa_pkcs1_verify(rsa, md, dlen, digest, sig);
    }
    if (slen != k || dlen != mbedtls_md_get_size_from_type(md) || 8 + dlen + olen >= 0x80 ||
        k < 10 + dlen + olen + 3 + 8) {
        return -1;
    }
    unsigned char n[512], e[8], em[512], want[512];
    mbedtls_mpi E;
    mbedtls_mpi_init(&E);
    int ret = -1;
    size_t elen = 0;
    if (mbedtls_rsa_export_raw(rsa, n, k, NULL, 0, NULL, 0, NULL, 0, NULL, 0) == 0 &&
        mbedtls_rsa_export(rsa, NULL, NULL, NULL, NULL, &E) == 0 &&
        (elen = mbedtls_mpi_size(&E)) <= sizeof e && mbedtls_mpi_write_binary(&E, e, elen) == 0) {
        br_rsa_public_key pk = {n, k, e, elen};
        memcpy(em, sig, k);
        if (br_rsa_i31_public(em, k, &pk) == 1) {
            unsigned char *p = want;
            size_t pad = k - (10 + dlen + olen) - 3;
            *p++ = 0x00;
            *p++ = 0x01;
            memset(p, 0xFF, pad);
            p += pad;
            *p++ = 0x00;
            *p++ = MBEDTLS_ASN1_SEQUENCE | MBEDTLS_ASN1_CONSTRUCTED;
            *p++ = (unsigned char)(8 + olen + dlen);
            *p++ = MBEDTLS_ASN1_SEQUENCE | MBEDTLS_ASN1_CONSTRUCTED;
            *p++ = (unsigned char)(4 + olen);
            *p++ = MBEDTLS_ASN1_OID;
            *p++ = (unsigned char)olen;
            memcpy(p, oid, olen);
            p += olen;
            *p++ = MBEDTLS_ASN1_NULL;
            *p++ = 0x00;
            *p++ = MBEDTLS_ASN1_OCTET_STRING;
            *p++ = (unsigned char)dlen;
            memcpy(p, digest, dlen);
            ret = memcmp(em, want, k) == 0 ? 0 : -1;
        }
    }
    mbedtls_mpi_free(&E);
    return ret;
}

/* key.verify(hash, digest, signature, scheme, salt_len, mgf_hash) -> bool.
 * salt_len -1 accepts any PSS salt length. */
static PyObject *key_verify(KeyObject *k, PyObject *args)
{
    const char *hash, *mgf = "";
    Py_buffer dg, sig;
    int scheme, salt = -1;
    if (!PyArg_ParseTuple(args, "sy*y*i|is", &hash, &dg, &sig, &scheme, &salt, &mgf)) {
        return NULL;
    }
    mbedtls_md_type_t md;
    PyObject *out = NULL;
    if (md_from_name(hash, &md) == 0 && scheme_for_key(k, scheme, mgf, md) == 0) {
        int ret;
        if (scheme == SCHEME_ECDSA) {
            mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
            ret = mbedtls_ecp_keypair_get_group_id(ec) == MBEDTLS_ECP_DP_SECP256R1
                      ? p256_verify(ec, dg.buf, dg.len, sig.buf, sig.len)
                      : mbedtls_ecdsa_read_signature(ec, dg.buf, dg.len, sig.buf, sig.len);
        } else {
            mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
            mbedtls_md_type_t mgf_md = md;
            if (*mgf) {
                md_from_name(mgf, &mgf_md);
            }
            if ((size_t)sig.len != mbedtls_rsa_get_len(rsa)) {
                ret = MBEDTLS_ERR_RSA_VERIFY_FAILED;
            } else if (scheme == SCHEME_PSS) {
                ret = mbedtls_rsa_rsassa_pss_verify_ext(rsa, md, dg.len, dg.buf, mgf_md,
                                                        salt < 0 ? MBEDTLS_RSA_SALT_LEN_ANY : salt, sig.buf);
            } else {
                ret = rsa_pkcs1_verify(rsa, md, dg.buf, dg.len, sig.buf, sig.len);
            }
        }
        out = PyBool_FromLong(ret == 0);
    }
    PyBuffer_Release(&dg);
    PyBuffer_Release(&sig);
    return out;
}

static PyMethodDef key_methods[] = {
    {"numbers", (PyCFunction)key_numbers, METH_NOARGS, "The key's numbers as big-endian bytes."},
    {"public_der", (PyCFunction)key_public_der, METH_NOARGS, "SubjectPublicKeyInfo DER."},
    {"private_der", (PyCFunction)key_private_der, METH_NOARGS, "PKCS#1 or SEC1 DER."},
    {"public_key", (PyCFunction)key_public_key, METH_NOARGS, "The public half."},
    {"sign", (PyCFunction)key_sign, METH_VARARGS, "Sign a digest."},
    {"verify", (PyCFunction)key_verify, METH_VARARGS, "Verify a signature over a digest."},
    {NULL},
};

static PyGetSetDef key_getset[] = {
    {"kind", (getter)key_get_kind, NULL, "'rsa' or 'ec'", NULL},
    {"bits", (getter)key_get_bits, NULL, "key size in bits", NULL},
    {"private", (getter)key_get_private, NULL, "whether the key is private", NULL},
    {"curve", (getter)key_get_curve, NULL, "curve name or None", NULL},
    {NULL},
};

static PyTypeObject KeyType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_pyedge_crypto.Key",
    .tp_basicsize = sizeof(KeyObject),
    .tp_dealloc = (destructor)key_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An RSA or EC key held by mbedTLS.",
    .tp_methods = key_methods,
    .tp_getset = key_getset,
};

/* ---- Ed25519 (libsodium) ---- */

/* ed25519_public(seed) -> public key bytes. */
static PyObject *ed25519_public(PyObject *self, PyObject *args)
{
    Py_buffer seed;
    if (!PyArg_ParseTuple(args, "y*", &seed)) {
        return NULL;
    }
    unsigned char pk[32], sk[64];
    int ok = seed.len == 32 && crypto_sign_ed25519_seed_keypair(pk, sk, seed.buf) == 0;
    PyBuffer_Release(&seed);
    mbedtls_platform_zeroize(sk, sizeof sk);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "an Ed25519 private key is 32 bytes");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)pk, 32);
}

/* ed25519_sign(seed, message) -> signature. */
static PyObject *ed25519_sign(PyObject *self, PyObject *args)
{
    Py_buffer seed, msg;
    if (!PyArg_ParseTuple(args, "y*y*", &seed, &msg)) {
        return NULL;
    }
    unsigned char pk[32], sk[64], sig[64];
    int ok = seed.len == 32 && crypto_sign_ed25519_seed_keypair(pk, sk, seed.buf) == 0 &&
             crypto_sign_ed25519_detached(sig, NULL, msg.buf, (unsigned long long)msg.len, sk) == 0;
    PyBuffer_Release(&seed);
    PyBuffer_Release(&msg);
    mbedtls_platform_zeroize(sk, sizeof sk);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "Ed25519 signing failed");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)sig, 64);
}

/* ed25519_verify(public, message, signature) -> bool. */
static PyObject *ed25519_verify(PyObject *self, PyObject *args)
{
    Py_buffer pk, msg, sig;
    if (!PyArg_ParseTuple(args, "y*y*y*", &pk, &msg, &sig)) {
        return NULL;
    }
    int ok = pk.len == 32 && sig.len == 64 &&
             crypto_sign_ed25519_verify_detached(sig.buf, msg.buf, (unsigned long long)msg.len, pk.buf) == 0;
    PyBuffer_Release(&pk);
    PyBuffer_Release(&msg);
    PyBuffer_Release(&sig);
    return PyBool_FromLong(ok);
}

/* ---- AES ---- */

/* aes_gcm(encrypt, key, nonce, data, aad, tag_len) -> ciphertext || tag, or the
 * plaintext; None when decryption fails authentication. */
static PyObject *aes_gcm(PyObject *self, PyObject *args)
{
    int encrypt, tag_len;
    Py_buffer key, nonce, data, aad;
    if (!PyArg_ParseTuple(args, "py*y*y*y*i", &encrypt, &key, &nonce, &data, &aad, &tag_len)) {
        return NULL;
    }
    PyObject *out = NULL;
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key.buf, (unsigned)key.len * 8);
    if (ret != 0 || tag_len < 4 || tag_len > 16 || nonce.len < 1) {
        PyErr_SetString(PyExc_ValueError, "bad AES-GCM key, nonce or tag length");
    } else if (encrypt) {
        out = PyBytes_FromStringAndSize(NULL, data.len + tag_len);
        if (out) {
            unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
            ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, data.len, nonce.buf, nonce.len, aad.buf,
                                            aad.len, data.buf, o, tag_len, o + data.len);
            if (ret != 0) {
                Py_CLEAR(out);
                fail("AES-GCM encryption", ret);
            }
        }
    } else if (data.len < tag_len) {
        out = Py_NewRef(Py_None);
    } else {
        Py_ssize_t n = data.len - tag_len;
        out = PyBytes_FromStringAndSize(NULL, n);
        if (out) {
            const unsigned char *in = data.buf;
            ret = mbedtls_gcm_auth_decrypt(&gcm, n, nonce.buf, nonce.len, aad.buf, aad.len, in + n, tag_len, in,
                                           (unsigned char *)PyBytes_AS_STRING(out));
            if (ret != 0) {
                Py_SETREF(out, Py_NewRef(Py_None));
            }
        }
    }
    mbedtls_gcm_free(&gcm);
    PyBuffer_Release(&key);
    PyBuffer_Release(&nonce);
    PyBuffer_Release(&data);
    PyBuffer_Release(&aad);
    return out;
}

/* aes_cbc(encrypt, key, iv, data) -> bytes; data a multiple of 16 (padding is the
 * caller's). */
static PyObject *aes_cbc(PyObject *self, PyObject *args)
{
    int encrypt;
    Py_buffer key, iv, data;
    if (!PyArg_ParseTuple(args, "py*y*y*", &encrypt, &key, &iv, &data)) {
        return NULL;
    }
    PyObject *out = NULL;
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    unsigned char ivc[16];
    int ret = encrypt ? mbedtls_aes_setkey_enc(&aes, key.buf, (unsigned)key.len * 8)
                      : mbedtls_aes_setkey_dec(&aes, key.buf, (unsigned)key.len * 8);
    if (ret != 0 || iv.len != 16 || data.len % 16 != 0) {
        PyErr_SetString(PyExc_ValueError, "bad AES-CBC key, IV or data length");
    } else if ((out = PyBytes_FromStringAndSize(NULL, data.len))) {
        memcpy(ivc, iv.buf, 16);
        ret = mbedtls_aes_crypt_cbc(&aes, encrypt ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT, data.len, ivc,
                                    data.buf, (unsigned char *)PyBytes_AS_STRING(out));
        if (ret != 0) {
            Py_CLEAR(out);
            fail("AES-CBC", ret);
        }
    }
    mbedtls_aes_free(&aes);
    PyBuffer_Release(&key);
    PyBuffer_Release(&iv);
    PyBuffer_Release(&data);
    return out;
}

static PyMethodDef crypto_methods[] = {
    {"load_private", load_private, METH_VARARGS, "Parse a PEM or DER private key."},
    {"load_public", load_public, METH_VARARGS, "Parse a PEM or DER public key."},
    {"cert_public_key", cert_public_key, METH_VARARGS, "An X.509 certificate's public key."},
    {"rsa_from_numbers", rsa_from_numbers, METH_VARARGS, "An RSA key from its numbers."},
    {"ec_from_numbers", ec_from_numbers, METH_VARARGS, "An EC key from its numbers."},
    {"rsa_generate", rsa_generate, METH_VARARGS, "Generate an RSA key."},
    {"ec_generate", ec_generate, METH_VARARGS, "Generate an EC key."},
    {"ed25519_public", ed25519_public, METH_VARARGS, "Ed25519 public key of a seed."},
    {"ed25519_sign", ed25519_sign, METH_VARARGS, "Ed25519 signature."},
    {"ed25519_verify", ed25519_verify, METH_VARARGS, "Ed25519 verification."},
    {"aes_gcm", aes_gcm, METH_VARARGS, "AES-GCM encryption or decryption."},
    {"aes_cbc", aes_cbc, METH_VARARGS, "AES-CBC without padding."},
    {NULL},
};

static struct PyModuleDef crypto_module = {
    PyModuleDef_HEAD_INIT, "_pyedge_crypto",
    "pyedge's WASI crypto core (mbedTLS, libsodium's Ed25519)", -1, crypto_methods,
};

PyMODINIT_FUNC PyInit__pyedge_crypto(void)
{
    if (PyType_Ready(&KeyType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&crypto_module);
    if (m && PyModule_AddObjectRef(m, "Key", (PyObject *)&KeyType) < 0) {
        Py_CLEAR(m);
    }
    return m;
}
