"""pyedge's `ssl` imports like the real one and refuses TLS with a clear message."""

import importlib.util

import pytest

from conftest import PYTHON_DIR


@pytest.fixture(scope="module")
def ssl():
    # Loaded under another name: the host's own `ssl` stays untouched for pytest.
    spec = importlib.util.spec_from_file_location("pyedge_ssl", PYTHON_DIR / "ssl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_names_libraries_import_at_import_time_exist(ssl):
    for name in ["SSLContext", "SSLError", "PROTOCOL_TLS_CLIENT", "CERT_REQUIRED", "create_default_context"]:
        assert hasattr(ssl, name), name
    assert issubclass(ssl.SSLError, OSError)


def test_opening_tls_raises_ssl_error_pointing_at_the_host(ssl):
    with pytest.raises(ssl.SSLError, match="pyedge.http.send"):
        ssl.create_default_context().wrap_socket(None)


def test_contexts_configure_as_http_client_configures_them(ssl):
    # http.client._create_https_context, which urllib's default HTTPS handler calls.
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    assert context.post_handshake_auth is None
