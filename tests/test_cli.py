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


def test_convert_command(tmp_path, capsys):
    torch = __import__("pytest").importorskip("torch")
    from minconvbert import ConvBertConfig, ConvBertForMaskedLM
    from tests.models.parity import TINY, build_reference

    reference = build_reference("masked_lm", dict(TINY))
    (tmp_path / "bin").mkdir()
    torch.save(reference.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    ConvBertConfig(**TINY).save_pretrained(tmp_path / "bin")
    assert main(["convert", str(tmp_path / "bin"), str(tmp_path / "out"), "--quiet"]) == 0
    assert "model.safetensors" in capsys.readouterr().out
    loaded = ConvBertForMaskedLM.from_pretrained(tmp_path / "out", strict=True)
    import numpy as np

    ids = np.array([[1, 2, 3]])
    with torch.no_grad():
        expected = reference(torch.tensor(ids)).logits.numpy()
    np.testing.assert_allclose(loaded(input_ids=ids).logits.data, expected, atol=1e-5)
