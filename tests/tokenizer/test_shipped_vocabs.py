"""The two vocabularies shipped as package data are the real files, byte for byte."""

import hashlib

import pytest

from minconvbert import ConvBertTokenizer, ConvBertTokenizerFast
from minconvbert.data import vocab_file


def test_bert_uncased_is_the_published_file():
    data = vocab_file("bert-base-uncased").read_bytes()
    assert hashlib.md5(data).hexdigest() == "64800d5d8528ce344256daf115d4965e"
    assert data.count(b"\n") == 30522 and b"\r" not in data


def test_convbert_original_keeps_its_defects():
    data = vocab_file("convbert-original").read_bytes()
    assert data.count(b"\r\n") == 30522  # CRLF line endings, as released
    lines = data.decode("utf-8").split("\r\n")[:-1]
    assert len(lines) == 30522 and len(set(lines)) == 29514  # duplicated tokens
    assert sum("\ufffd" in line for line in lines) > 1000  # text mangled by an encoding mix-up


@pytest.mark.parametrize("cls", [ConvBertTokenizer, ConvBertTokenizerFast], ids=lambda c: c.__name__)
def test_the_shipped_vocabularies_load_as_the_reference_loads_them(cls):
    # figures measured with transformers 5.24 (../shared/data/README.md)
    convbert = cls(vocab_file("convbert-original"))
    assert convbert.vocab_size == 29514
    assert convbert("Hello world")["input_ids"] == [101, 7592, 2088, 102]
    bert = cls(vocab_file("bert-base-uncased"))
    assert bert.vocab_size == 30522
    assert bert("Hello world")["input_ids"] == [101, 7592, 2088, 102]


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown vocabulary 'bert-large'"):
        vocab_file("bert-large")
