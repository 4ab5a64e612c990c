"""Stands in for the boot module when pyedge's Python runs on the host, outside a
component: an app's own tests under pytest (the generated `tests/conftest.py` puts the
directory `pyedge sdk-path` prints on `sys.path`). Never bundled into a component.

The settings are the nearest `pyproject.toml`'s (from the working directory up), as the
build reads them: `[tool.pyedge.config]` (strings), `[tool.pyedge.secrets]`, `origin`.
The host's environment is the run-time source whatever `runtime-config` says, so a test
sets a secret with `monkeypatch.setenv`. Outbound calls (`send`, `send_to_origin`) need
the component's host and raise here.
"""

import os
import pathlib
import tomllib


def _tool_table():
    here = pathlib.Path.cwd()
    for directory in (here, *here.parents):
        path = directory / "pyproject.toml"
        if path.is_file():
            with path.open("rb") as file:
                return tomllib.load(file).get("tool", {}).get("pyedge", {})
    return {}


_TOOL = _tool_table()
SETTINGS = {str(k): str(v) for k, v in _TOOL.get("config", {}).items()}
SECRETS = {
    str(name): bool(spec.get("required", False)) if isinstance(spec, dict) else False
    for name, spec in _TOOL.get("secrets", {}).items()
}
RUNTIME_CONFIG = _TOOL.get("runtime-config", "none")
CONFIG = {"origin": _TOOL["origin"]} if "origin" in _TOOL else {}
RUN_TIME = True


def host_config(name):
    """The host's environment variable `name`, or None."""
    return os.environ.get(name)
