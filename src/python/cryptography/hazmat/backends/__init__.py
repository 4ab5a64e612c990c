"""Backends: one, pyedge's C core; kept for code that still passes `backend=`."""


class _PyedgeBackend:
    name = "pyedge-wasi"


_BACKEND = _PyedgeBackend()


def default_backend():
    return _BACKEND
