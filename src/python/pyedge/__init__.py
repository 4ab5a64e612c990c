"""pyedge's Python API, bundled into every app.

`pyedge.config` is the app's configuration: the host's value first (with `[tool.pyedge]
runtime-config = "env"` its environment, with `"wasi-config"` its config store), else the
build-time default from `[tool.pyedge.config]`. Names in `[tool.pyedge.secrets]` have no
build-time value: only the host provides them.
"""

from collections.abc import Mapping

try:
    import _pyedge_boot
except ModuleNotFoundError:  # on the host, outside a component: an app's own tests
    from pyedge import _host as _pyedge_boot

_MISSING = object()


class Config(Mapping):
    """The app's configuration, read when asked: `config["NAME"]`, `config.get("NAME")`.

    At run time the host's value wins over the build-time default; while the app is
    imported at build time (the snapshot) only the build-time defaults exist, and reading
    a secret then is an error, so that no value read at build time is mistaken for the
    host's. Iterating gives the declared names: `[tool.pyedge.config]` and
    `[tool.pyedge.secrets]`."""

    def get(self, name, default=None):
        if _pyedge_boot.RUN_TIME:
            value = _pyedge_boot.host_config(name)
            if value is not None:
                return value
        elif name in _pyedge_boot.SECRETS:
            raise RuntimeError(
                f"pyedge.config[{name!r}] is a secret ([tool.pyedge.secrets]) and was read while "
                "the app is imported at build time, when only the host can provide it: read it "
                "inside the handler (each request runs on a fresh instance, so this costs "
                "nothing extra)"
            )
        return _pyedge_boot.SETTINGS.get(name, default)

    def __getitem__(self, name):
        value = self.get(name, _MISSING)
        if value is _MISSING:
            where = {
                "env": "the host's environment",
                "wasi-config": "the host's config store",
            }.get(_pyedge_boot.RUNTIME_CONFIG)
            hint = f"not in {where} and not" if where else "not"
            raise KeyError(f"{name!r}: {hint} in [tool.pyedge.config]")
        return value

    def __contains__(self, name):
        return self.get(name, _MISSING) is not _MISSING

    def __iter__(self):
        return iter(sorted(set(_pyedge_boot.SETTINGS) | set(_pyedge_boot.SECRETS)))

    def __len__(self):
        return len(set(_pyedge_boot.SETTINGS) | set(_pyedge_boot.SECRETS))

    def __repr__(self):
        # Secrets by name only: a repr ends up in logs.
        shown = dict(_pyedge_boot.SETTINGS)
        shown.update({name: "<secret>" for name in _pyedge_boot.SECRETS})
        return f"pyedge.config({shown!r}, runtime_config={_pyedge_boot.RUNTIME_CONFIG!r})"


config = Config()

__all__ = ["config", "Config"]
