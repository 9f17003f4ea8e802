"""Importing minconvbert.viz prints nothing and leaves pyplot alone (no global figure state, no show())."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_is_silent_and_pyplot_free():
    code = "import sys, minconvbert.viz; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert result.stdout == "False\n"
    assert result.stderr == ""
