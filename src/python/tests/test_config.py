"""`pyedge.config`: the host's value first at run time, the build-time default else;
secrets never read at build time."""

import pytest

import _pyedge_boot
import pyedge


@pytest.fixture
def host(monkeypatch):
    values = {}
    monkeypatch.setattr(_pyedge_boot, "SETTINGS", {"greeting": "built", "origin": "https://b"})
    monkeypatch.setattr(_pyedge_boot, "SECRETS", {"api_token": True})
    monkeypatch.setattr(_pyedge_boot, "RUNTIME_CONFIG", "env")
    monkeypatch.setattr(_pyedge_boot, "host_config", values.get)
    monkeypatch.setattr(_pyedge_boot, "RUN_TIME", True)
    return values


def test_the_hosts_value_wins_over_the_build_time_default(host):
    host["greeting"] = "hosted"
    assert pyedge.config["greeting"] == "hosted"
    assert pyedge.config.get("api_token") is None
    host["api_token"] = "t0k"
    assert pyedge.config["api_token"] == "t0k"
    assert "api_token" in pyedge.config


def test_build_time_defaults_fill_in_and_missing_names_say_where_they_were_looked_for(host):
    assert pyedge.config["origin"] == "https://b"
    assert pyedge.config.get("nope", "d") == "d"
    with pytest.raises(KeyError, match="not in the host's environment and not in"):
        pyedge.config["nope"]
    assert "nope" not in pyedge.config


def test_iteration_lists_declared_names_and_repr_hides_secret_values(host):
    host["api_token"] = "t0k"
    assert list(pyedge.config) == ["api_token", "greeting", "origin"]
    assert len(pyedge.config) == 3
    assert "t0k" not in repr(pyedge.config)
    assert "<secret>" in repr(pyedge.config)


def test_at_build_time_the_host_is_not_asked_and_a_secret_is_an_error(host, monkeypatch):
    monkeypatch.setattr(_pyedge_boot, "RUN_TIME", False)
    host["greeting"] = "hosted"
    assert pyedge.config["greeting"] == "built"
    with pytest.raises(RuntimeError, match="read it inside the handler"):
        pyedge.config.get("api_token")
