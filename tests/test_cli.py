"""The command line entry points run and report success."""

import subprocess
import sys

import pytest

from minconvbert.__main__ import main


def _tiny_checkpoint(path):
    """A random tiny ConvBertForMaskedLM with a trained tokenizer, saved like the nano checkpoint."""
    from minconvbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertTokenizerFast
    from minconvbert.demo import SENTENCES
    from minconvbert.tokenizer.basic import BasicTokenizer
    from minconvbert.train.wordpiece_trainer import train_wordpiece

    vocab = train_wordpiece(list(SENTENCES) * 3, 200, BasicTokenizer())
    path.mkdir()
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    ConvBertTokenizerFast(str(path / "vocab.txt")).save_pretrained(path)
    config = ConvBertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, embedding_size=16, max_position_embeddings=64, pad_token_id=0)
    ConvBertForMaskedLM(config, rng=0).save_pretrained(path)
    return path


def test_demo_fills_masks_draws_heads_and_checks_gradients(tmp_path, capsys):
    model = _tiny_checkpoint(tmp_path / "model")
    assert main(["demo", "--model", str(model), "--figure", str(tmp_path / "heads.png")]) == 0
    text = capsys.readouterr().out
    assert text.count("->") == 5 and "drawn to" in text
    assert "gradient checks" in text and "FAILED" not in text and text.count(" ok") >= 6
    assert (tmp_path / "heads.png").stat().st_size > 10_000


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
