"""google-research/bert's tokenization_test.py, ported: its assertions and expected values on minconvbert.

Upstream's FullTokenizer is ConvBertTokenizer / ConvBertTokenizerFast (both run each test that uses it),
its BasicTokenizer / WordpieceTokenizer are ours (same arguments), `tokenization.convert_tokens_to_ids(vocab,
tokens)` is the tokenizer's convert_tokens_to_ids, and `_is_whitespace` / `_is_control` / `_is_punctuation`
are minconvbert.tokenizer.chars' is_whitespace / is_control / is_punctuation. Upstream's vocabularies
have no [PAD] and no [MASK]: that they load is part of what is tested. Nothing is dropped.
"""

import pytest

from minconvbert.tokenizer import BasicTokenizer, ConvBertTokenizer, ConvBertTokenizerFast, WordpieceTokenizer
from minconvbert.tokenizer.chars import is_control, is_punctuation, is_whitespace

CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]
WORDPIECE_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing"]


@pytest.mark.parametrize("cls", CLASSES)
def test_full_tokenizer(cls, tmp_path):
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_bytes("".join(x + "\n" for x in WORDPIECE_VOCAB + [","]).encode("utf-8"))
    tokenizer = cls(vocab_file)
    vocab_file.unlink()
    tokens = tokenizer.tokenize("UNwant\u00e9d,running")
    assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing"]
    assert tokenizer.convert_tokens_to_ids(tokens) == [7, 4, 5, 10, 8, 9]


def test_chinese():
    assert BasicTokenizer().tokenize("ah\u535a\u63a8zz") == ["ah", "\u535a", "\u63a8", "zz"]


def test_basic_tokenizer_lower():
    tokenizer = BasicTokenizer(do_lower_case=True)
    assert tokenizer.tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]
    assert tokenizer.tokenize("H\u00e9llo") == ["hello"]


def test_basic_tokenizer_no_lower():
    tokenizer = BasicTokenizer(do_lower_case=False)
    assert tokenizer.tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["HeLLo", "!", "how", "Are", "yoU", "?"]


def test_wordpiece_tokenizer():
    vocab = {token: i for i, token in enumerate(WORDPIECE_VOCAB)}
    tokenizer = WordpieceTokenizer(vocab=vocab)
    assert tokenizer.tokenize("") == []
    assert tokenizer.tokenize("unwanted running") == ["un", "##want", "##ed", "runn", "##ing"]
    assert tokenizer.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"]


@pytest.mark.parametrize("cls", CLASSES)
def test_convert_tokens_to_ids(cls):
    vocab = {token: i for i, token in enumerate(WORDPIECE_VOCAB)}
    tokenizer = cls(vocab=vocab)
    assert tokenizer.convert_tokens_to_ids(["un", "##want", "##ed", "runn", "##ing"]) == [7, 4, 5, 8, 9]


def test_is_whitespace():
    for ch in (" ", "\t", "\r", "\n", "\u00a0"):
        assert is_whitespace(ch)
    assert not is_whitespace("A")
    assert not is_whitespace("-")


def test_is_control():
    assert is_control("\u0005")
    for ch in ("A", " ", "\t", "\r", "\U0001f4a9"):
        assert not is_control(ch)


def test_is_punctuation():
    for ch in ("-", "$", "`", "."):
        assert is_punctuation(ch)
    assert not is_punctuation("A")
    assert not is_punctuation(" ")
