"""The WordPiece trainer: a vocabulary learned from text that the tokenizers load and use well."""

import pytest

from minconvbert import ConvBertTokenizerFast
from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.train.wordpiece_trainer import SPECIAL_TOKENS, train_wordpiece

TEXTS = [
    "The tokenizer splits words into pieces.",
    "Pieces of words are tokens; tokenizers learn pieces from text.",
    "A word that is frequent becomes one token, a rare word becomes several pieces.",
    "Frequent words: the, a, of, pieces, tokens, words.",
] * 20


def test_vocabulary_shape_and_determinism():
    vocab = train_wordpiece(TEXTS, 120, BasicTokenizer())
    assert vocab[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    assert len(vocab) == len(set(vocab)) <= 120
    characters = {c for text in TEXTS for c in text.lower() if not c.isspace()}
    assert characters <= set(vocab)  # every character can be spelled
    assert {"pieces", "words", "the", "##s"} <= set(vocab)  # frequent words and suffixes are merged
    assert train_wordpiece(TEXTS, 120, BasicTokenizer()) == vocab


def test_trained_vocabulary_loads_and_encodes(tmp_path):
    vocab = train_wordpiece(TEXTS, 150, BasicTokenizer())
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = ConvBertTokenizerFast(str(tmp_path / "vocab.txt"))
    assert tok.pad_token_id == 0 and tok.mask_token_id == 4 and tok.vocab_size == len(vocab)
    assert tok.tokenize("Tokenizers learn pieces") == ["tokenizers", "learn", "pieces"]
    assert tok.unk_token_id not in tok("frequent words become tokens")["input_ids"]
    assert len(tok.tokenize("piecewords")) >= 2  # an unseen word is spelled with pieces


def test_min_frequency_and_errors():
    small = train_wordpiece(TEXTS[:4], 1000, BasicTokenizer(), min_frequency=1000)
    assert all(len(t.replace("##", "")) == 1 for t in small[len(SPECIAL_TOKENS):])  # nothing merged
    with pytest.raises(ValueError, match="no room"):
        train_wordpiece(TEXTS, 3, BasicTokenizer())
