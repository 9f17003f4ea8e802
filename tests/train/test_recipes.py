"""The recipes' report figures."""

import pytest

from minconvbert.train.recipes import training_seconds


def test_training_seconds_sums_every_step_of_every_run():
    # two runs of a resumed training: 4096 tokens per step at 2048, 4096 and 1024 tokens/s -> 2 + 1 + 4 s
    history = {"tokens_per_s": [2048.0, 4096.0, 1024.0]}
    assert training_seconds(history, 4096) == pytest.approx(7.0)
    assert training_seconds({"tokens_per_s": [0.0]}, 4096) == 0.0  # a step too short to time adds nothing
