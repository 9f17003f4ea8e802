"""The command line entry points run and report success."""

import subprocess
import sys

import pytest

from minconvbert.__main__ import main


def test_demo_prints_a_passing_gradient_check_summary(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "forward + backward" in text and "gradient checks" in text
    assert "FAILED" not in text and text.count(" ok") >= 6


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "minconvbert", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout


def test_unknown_command_fails_cleanly():
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
