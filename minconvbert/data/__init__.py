"""Data for training and for the notebooks: the offline corpus (Python's own docstrings), MLM masking,
the classification task, and the two real WordPiece vocabularies shipped in `vocabs/`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["VOCABULARIES", "vocab_file"]

_VOCABS = Path(__file__).resolve().parent / "vocabs"
VOCABULARIES = {
    "bert-base-uncased": _VOCABS / "bert-base-uncased.txt",  # Google's BERT-Base Uncased (Apache 2.0)
    "convbert-original": _VOCABS / "convbert-original.txt",  # the original ConvBERT release, defects kept
}


def vocab_file(name: str) -> Path:
    """Path of a shipped vocabulary: "bert-base-uncased" or "convbert-original" (see vocabs/README.md)."""
    if name not in VOCABULARIES:
        raise ValueError(f"vocab_file: unknown vocabulary {name!r}; choose one of {sorted(VOCABULARIES)}")
    return VOCABULARIES[name]
