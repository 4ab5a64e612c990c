"""pyedge's Python API, bundled into every app.

`pyedge.config` holds the build-time settings from `[tool.pyedge.config]`.
"""

import _pyedge_boot

config = dict(_pyedge_boot.SETTINGS)

__all__ = ["config"]
