"""The TensorFlow reference fixtures (tests/fixtures/tf/, written by scripts/make_tf_fixtures.py).

Each case is a directory: h5_<task>/ (tf_model.h5.gz, config.json, reference.npz) or tf1_<case>/
(model.ckpt-0.index, model.ckpt-0.data-00000-of-00001.gz, checkpoint, config.json,
generator_config.json, reference.npz). `unpacked` copies one to a temporary directory and unzips
its .gz files; `reference` gives the inputs and outputs the reference computed.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tf"
H5_TASKS = ("model", "masked_lm", "seq", "seq_regression", "multiple_choice", "token", "qa")
TF_CLASS = {"model": "TFConvBertModel", "masked_lm": "TFConvBertForMaskedLM",
            "seq": "TFConvBertForSequenceClassification", "seq_regression": "TFConvBertForSequenceClassification",
            "multiple_choice": "TFConvBertForMultipleChoice", "token": "TFConvBertForTokenClassification",
            "qa": "TFConvBertForQuestionAnswering"}
TF1_CASES = ("tf1_grouped", "tf1_dense")


def unpacked(case: str, tmp_path: Path) -> Path:
    """A copy of the fixture directory `case` under tmp_path, with every .gz file unpacked."""
    directory = tmp_path / case
    shutil.copytree(FIXTURES / case, directory)
    for packed in directory.glob("*.gz"):
        with gzip.open(packed) as src, open(packed.with_suffix(""), "wb") as dst:
            shutil.copyfileobj(src, dst)
        packed.unlink()
    return directory


def reference(case: str) -> tuple[dict, dict]:
    """(inputs, outputs) of a case: {"input_ids": ..., "labels": ...}, {"logits": ..., "hidden_states.0": ...}."""
    with np.load(FIXTURES / case / "reference.npz", allow_pickle=False) as data:
        record = {k: data[k] for k in data.files}
    inputs = {k[len("inputs."):]: v for k, v in record.items() if k.startswith("inputs.")}
    outputs = {k[len("outputs."):]: v for k, v in record.items() if k.startswith("outputs.")}
    return inputs, outputs or {k: v for k, v in record.items() if not k.startswith("inputs.")}


def field(outputs, key: str) -> np.ndarray:
    """outputs.hidden_states[2] for key "hidden_states.2", as an array."""
    name, *indices = key.split(".")
    value = getattr(outputs, name)
    for i in indices:
        value = value[int(i)]
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def assert_matches(outputs, expected: dict, atol=1e-5, rtol=1e-5) -> float:
    """Every reference output equals ours (shape and values); returns the largest absolute difference."""
    worst = 0.0
    for key, want in expected.items():
        got = field(outputs, key)
        assert got.shape == want.shape, f"{key}: shape {got.shape}, reference {want.shape}"
        np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=key)
        worst = max(worst, float(np.abs(got - want).max(initial=0)))
    return worst
