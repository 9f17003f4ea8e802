"""The recipes' report figures."""

import pytest

from minconvbert.train.recipes import training_seconds


def test_training_seconds_sums_every_step_of_every_run():
    # two runs of a resumed training: 4096 tokens per step at 2048, 4096 and 1024 tokens/s -> 2 + 1 + 4 s
    history = {"tokens_per_s": [2048.0, 4096.0, 1024.0]}
    assert training_seconds(history, 4096) == pytest.approx(7.0)
    assert training_seconds({"tokens_per_s": [0.0]}, 4096) == 0.0  # a step too short to time adds nothing


def test_encoding_a_corpus_of_long_lines_does_not_warn_about_the_model_length(recwarn):
    from minconvbert import ConvBertTokenizerFast
    from minconvbert.train.data import encode_lines

    tokenizer = ConvBertTokenizerFast.from_pretrained("minconvbert/nano")
    ids = encode_lines(tokenizer, ["the list " * 200])  # 400 tokens, more than the 128 positions
    assert len(ids[0]) == 400
    assert not [w for w in recwarn if "sequence length" in str(w.message)]
