"""pyedge's `ssl`: importable, but TLS is the host's job.

The WASI runtime has no OpenSSL (`_ssl`). Libraries that import `ssl` at import time
(PyJWT, urllib3, requests) import fine; anything that tries to open a TLS connection
itself gets a clear error. At the edge, HTTPS goes through the host's outbound HTTP:
use `pyedge.http.send` (or `spin_sdk.http.send`) with an `https://` URL.
"""

import enum as _enum

OPENSSL_VERSION = "none (TLS is provided by the host's outbound HTTP)"
OPENSSL_VERSION_INFO = (0, 0, 0, 0, 0)
OPENSSL_VERSION_NUMBER = 0
HAS_SNI = False
HAS_ALPN = False
HAS_NEVER_CHECK_COMMON_NAME = False
HAS_TLSv1_3 = False
CHANNEL_BINDING_TYPES = []

_MESSAGE = (
    "TLS is not available inside a pyedge component: make HTTPS requests through the "
    "host with pyedge.http.send(Request('GET', 'https://...'))"
)


class SSLError(OSError):
    """Raised by every TLS entry point of this module."""


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    pass


CertificateError = SSLCertVerificationError


class VerifyMode(_enum.IntEnum):
    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED = VerifyMode


class VerifyFlags(_enum.IntFlag):
    VERIFY_DEFAULT = 0
    VERIFY_CRL_CHECK_LEAF = 0x4
    VERIFY_CRL_CHECK_CHAIN = 0x8
    VERIFY_X509_STRICT = 0x20
    VERIFY_X509_TRUSTED_FIRST = 0x8000
    VERIFY_X509_PARTIAL_CHAIN = 0x80000


globals().update(VerifyFlags.__members__)


class Options(_enum.IntFlag):
    OP_ALL = 0x80000BFF
    OP_NO_SSLv2 = 0
    OP_NO_SSLv3 = 0x02000000
    OP_NO_TLSv1 = 0x04000000
    OP_NO_TLSv1_1 = 0x10000000
    OP_NO_TLSv1_2 = 0x08000000
    OP_NO_TLSv1_3 = 0x20000000
    OP_NO_COMPRESSION = 0x20000
    OP_NO_TICKET = 0x4000


globals().update(Options.__members__)


class TLSVersion(_enum.IntEnum):
    MINIMUM_SUPPORTED = -2
    MAXIMUM_SUPPORTED = -1
    SSLv3 = 0x0300
    TLSv1 = 0x0301
    TLSv1_1 = 0x0302
    TLSv1_2 = 0x0303
    TLSv1_3 = 0x0304


class _SSLMethod(_enum.IntEnum):
    PROTOCOL_TLS = 2
    PROTOCOL_TLS_CLIENT = 16
    PROTOCOL_TLS_SERVER = 17


PROTOCOL_TLS, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER = _SSLMethod
PROTOCOL_SSLv23 = PROTOCOL_TLS


class Purpose(_enum.Enum):
    SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
    CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"


class SSLContext:
    """Can be created and configured (libraries do so at import time); cannot connect."""

    def __init__(self, protocol=PROTOCOL_TLS_CLIENT, *args, **kwargs):
        self.protocol = protocol
        self.verify_mode = CERT_REQUIRED
        self.check_hostname = protocol == PROTOCOL_TLS_CLIENT
        self.options = Options.OP_ALL
        self.verify_flags = VerifyFlags.VERIFY_DEFAULT
        self.minimum_version = TLSVersion.MINIMUM_SUPPORTED
        self.maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        # None, as CPython's ssl has it when TLS 1.3 post-handshake auth is unsupported:
        # http.client checks it when urllib builds its default HTTPS handler.
        self.post_handshake_auth = None

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        pass

    def set_default_verify_paths(self):
        pass

    def set_ciphers(self, ciphers):
        pass

    def set_alpn_protocols(self, protocols):
        pass

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        raise SSLError(_MESSAGE)

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        raise SSLError(_MESSAGE)

    def wrap_socket(self, *args, **kwargs):
        raise SSLError(_MESSAGE)

    def wrap_bio(self, *args, **kwargs):
        raise SSLError(_MESSAGE)


class SSLSocket:
    def __init__(self, *args, **kwargs):
        raise SSLError(_MESSAGE)


class SSLObject(SSLSocket):
    pass


class MemoryBIO:
    def __init__(self, *args, **kwargs):
        raise SSLError(_MESSAGE)


def create_default_context(purpose=Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
    context = SSLContext(PROTOCOL_TLS_CLIENT if purpose == Purpose.SERVER_AUTH else PROTOCOL_TLS_SERVER)
    if cafile or capath or cadata:
        context.load_verify_locations(cafile, capath, cadata)
    return context


_create_default_https_context = create_default_context
_create_unverified_context = create_default_context


def wrap_socket(*args, **kwargs):
    raise SSLError(_MESSAGE)


def get_default_verify_paths():
    raise SSLError(_MESSAGE)


def get_server_certificate(*args, **kwargs):
    raise SSLError(_MESSAGE)


def match_hostname(cert, hostname):
    raise SSLError(_MESSAGE)


def RAND_bytes(n):
    import os
    return os.urandom(n)


def RAND_status():
    return True
