"""Host-side tests of the Python that ships in every component (`src/python/`), run by
pytest on the host CPython in the test command. The runtime's C modules (`_pyedge`,
`_pyedge_http`) do not exist on the host; tests that need them give stand-ins whose
behaviour they check, and the end-to-end tests in `tests/it/` run the real ones."""

import sys
import types
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PYTHON_DIR))

# `pyedge/__init__.py` reads the build-time settings from the boot module.
_boot = types.ModuleType("_pyedge_boot")
_boot.SETTINGS = {"origin": "https://origin.example"}
_boot.SECRETS = {}
_boot.RUNTIME_CONFIG = "none"
_boot.RUN_TIME = False
_boot.CONFIG = {}
_boot.host_config = lambda name: None
sys.modules.setdefault("_pyedge_boot", _boot)
