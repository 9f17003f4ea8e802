"""Issue 16, weak spots: the vocab.txt, tokenizer_config.json and special_tokens_map.json readers refuse
hostile files with one exception type each (VocabFileError, TokenizerConfigError; both ValueErrors),
naming the file and the field, before any large allocation; raw UnicodeEncodeErrors do not escape."""

import json
import shutil
import tracemalloc

import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import (
    AddedToken, ConvBertTokenizer, ConvBertTokenizerFast, TokenizerConfigError, VocabFileError,
)
from minconvbert.tokenizer import files as tokenizer_files
from minconvbert.tokenizer import vocab as tokenizer_vocab


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "tok"
    path.mkdir()
    shutil.copyfile(vocab_file("bert-base-uncased"), path / "vocab.txt")
    return path


@pytest.mark.parametrize("content, message", [
    (b"[PAD]\n\x00\x01\x02binary\n", "holds a NUL byte at offset 6: a binary file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)), "line 1 is not valid UTF-8"),
    (b"ok\n\xff\xfe\n", "line 2 is not valid UTF-8"),
    (b"", "holds no token"),
])
def test_vocab_reader_refuses_broken_files(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(VocabFileError, match=message):
        ConvBertTokenizer(path)


def test_vocab_reader_refuses_huge_files_before_reading_them_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(tokenizer_vocab, "MAX_VOCAB_BYTES", 1 << 20)
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"a\n" * (3 << 20))  # 6 MiB
    tracemalloc.start()
    with pytest.raises(VocabFileError, match="larger than 1,048,576 bytes"):
        ConvBertTokenizer(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20  # read at most the limit + 1 byte, not the file
    monkeypatch.setattr(tokenizer_vocab, "MAX_VOCAB_LINES", 1000)
    path.write_bytes(b"\n" * 1001)
    with pytest.raises(VocabFileError, match="1,001 lines, more than the 1,000"):
        ConvBertTokenizer(path)


def _write(folder, name, content):
    (folder / name).write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())


@pytest.mark.parametrize("name", ["tokenizer_config.json", "special_tokens_map.json"])
@pytest.mark.parametrize("content, message", [
    (b"{not json", "not a readable JSON file"),
    (b"\xff\xfe{\x00}", "not UTF-8 text"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    ([1, 2, 3], "expected a JSON object, got list"),
    ({"do_lower_case": "yes"}, "do_lower_case: expected True or False, got 'yes'"),
    ({"model_max_length": "512"}, "model_max_length: expected a non-negative int or None, got '512'"),
    ({"model_max_length": float("nan")}, "model_max_length: expected a non-negative int or None, got nan"),
    ({"model_max_length": -1}, "model_max_length: expected a non-negative int"),
    ({"padding_side": 3}, "padding_side: expected 'right' or 'left', got 3"),
    ({"mask_token": 103}, "mask_token: expected a token"),
    ({"mask_token": {"content": 7}}, "mask_token: expected a token"),
    ({"never_split": "abc"}, "never_split: expected a list of non-empty str"),
    ({"added_tokens_decoder": {"x": {"content": "a"}}}, r"added_tokens_decoder: expected a dict \{id: token\}"),
    ({"added_tokens_decoder": []}, r"added_tokens_decoder: expected a dict"),
    ({"extra_special_tokens": [None]}, "extra_special_tokens: expected a list of tokens"),
    ({"max_input_chars_per_word": 0}, "max_input_chars_per_word: expected a positive int"),
    ({"vocab_file_check": {"sha256": "zz", "lines": 3}}, "vocab_file_check: expected"),
])
def test_json_readers_refuse_hostile_files(folder, name, content, message):
    _write(folder, name, content)
    for cls in (ConvBertTokenizer, ConvBertTokenizerFast):
        with pytest.raises(TokenizerConfigError, match=message) as caught:
            cls.from_pretrained(folder)
        assert name in str(caught.value)


def test_json_reader_refuses_huge_files(folder, monkeypatch):
    monkeypatch.setattr(tokenizer_files, "MAX_CONFIG_BYTES", 1 << 16)
    _write(folder, "tokenizer_config.json", b'{"a": "' + b"x" * (1 << 17) + b'"}')
    with pytest.raises(TokenizerConfigError, match="larger than 65,536 bytes"):
        ConvBertTokenizer.from_pretrained(folder)


def test_an_added_token_id_that_contradicts_the_vocabulary_is_refused(folder):
    _write(folder, "tokenizer_config.json", {"added_tokens_decoder": {"7592": {"content": "bim"}}})
    with pytest.raises(ValueError, match="added_tokens_decoder: id 7592 is 'hello' in the vocabulary, not 'bim'"):
        ConvBertTokenizer.from_pretrained(folder)


def test_lone_surrogates_give_clear_errors_not_unicode_errors(tmp_path):
    with pytest.raises(ValueError, match="AddedToken: content .* lone surrogate"):
        AddedToken("\ud800x")
    tok = ConvBertTokenizer(vocab_file("bert-base-uncased"))
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.add_tokens(["ok", "\udfff"])
    with pytest.raises(ValueError, match=r"vocab: the token '\\ud83d' .* lone surrogate"):
        ConvBertTokenizer(vocab={"[UNK]": 0, "\ud83d": 1})
    # and text holding them tokenizes (the reference cannot take them at all)
    assert tok("a\ud800b", add_special_tokens=False)["input_ids"] == tok("ab", add_special_tokens=False)["input_ids"]
