"""Run the app on the host: the app's directory and pyedge's Python SDK (`spin_sdk`,
`pyedge`, which the build bundles into the component) on sys.path."""

import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
_pyedge = shutil.which("pyedge")
if _pyedge is None:
    raise RuntimeError("pyedge is not on PATH (pip install pyedge): the tests need its SDK")
sys.path.insert(0, subprocess.run(
    [_pyedge, "sdk-path"], check=True, capture_output=True, text=True
).stdout.strip())
