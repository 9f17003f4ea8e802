"""The readable pieces on their own: WordPiece, the basic tokenizer, the vocabulary reader."""

import warnings

import pytest

from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.vocab import VocabularyWarning, load_vocab
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

TINY = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4, "##b": 5, "##bc": 6, "abc": 7, "##x": 8}


def test_wordpiece_greedy_longest_match_first():
    wp = WordpieceTokenizer(TINY)
    assert wp.pieces("unaffable") == [(1, 0, 2), (2, 2, 5), (3, 5, 9)]
    assert wp.pieces("abc") == [(7, 0, 3)]          # the whole word beats a + ##bc
    assert wp.pieces("abcx") == [(7, 0, 3), (8, 3, 4)]


def test_wordpiece_unknown_word_is_one_unk_covering_it():
    wp = WordpieceTokenizer(TINY)
    assert wp.pieces("abz") == [(0, 0, 3)]          # "z" / "##z" missing: the whole word is unknown
    assert wp.pieces("b") == [(0, 0, 1)]            # "##b" exists, but not "b" at a word start


def test_wordpiece_long_words_are_unknown():
    wp = WordpieceTokenizer({"[UNK]": 0, "a": 1, "##a": 2}, max_input_chars_per_word=5)
    assert wp.pieces("aaaaa") == [(1, 0, 1)] + [(2, i, i + 1) for i in range(1, 5)]
    assert wp.pieces("aaaaaa") == [(0, 0, 6)]


def test_basic_tokenizer_splits_and_normalizes():
    basic = BasicTokenizer(do_lower_case=True)
    assert basic.tokenize("Héllo, WORLD!") == ["hello", ",", "world", "!"]
    assert basic.tokenize("a\u4e2d\u6587b") == ["a", "\u4e2d", "\u6587", "b"]
    assert basic.tokenize("x\x00y \u200bz") == ["xy", "z"]            # controls removed, words glued
    assert basic.tokenize("1+1=2 $5") == ["1", "+", "1", "=", "2", "$", "5"]  # ASCII symbols are punctuation
    assert BasicTokenizer(do_lower_case=False).tokenize("Héllo") == ["Héllo"]
    assert BasicTokenizer(do_lower_case=True, strip_accents=False).tokenize("Héllo") == ["héllo"]


def test_basic_tokenizer_origin_points_into_the_input():
    basic = BasicTokenizer(do_lower_case=True)
    text = "e\u0301t\u00e9 \u0130x"
    words = basic.words(text)
    assert [w.text for w in words] == ["ete", "ix"]
    assert words[0].origin == [0, 2, 3]   # the combining accent (index 1) is gone
    assert words[1].origin == [5, 6]      # U+0130 -> "i" (its dot above stripped)


def test_greek_final_sigma_is_lowercased_character_by_character():
    # the reference lowercases each character on its own: no final-sigma rule (str.lower() has one)
    assert BasicTokenizer(do_lower_case=True).tokenize("ΟΔΟΣ") == ["οδοσ"]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_vocab_reader_crlf_duplicates_and_trailing_space(tmp_path):
    path = _write(tmp_path / "vocab.txt", b"[PAD]\r\na \r\nb\r\na\r\n\r\nlast")
    with pytest.warns(VocabularyWarning, match="1 tokens appear on more than one line"):
        vocab = load_vocab(path)
    assert vocab.lines == ["[PAD]", "a", "b", "a", "", "last"]
    assert vocab.token_to_id == {"[PAD]": 0, "a": 3, "b": 2, "": 4, "last": 5}
    assert vocab.id_to_token == ["[PAD]", None, "b", "a", "", "last"]
    assert len(vocab) == 5


def test_vocab_reader_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no vocabulary file"):
        load_vocab(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="holds no vocab.txt"):
        load_vocab(tmp_path)
    with pytest.raises(ValueError, match="line 2 is not valid UTF-8"):
        load_vocab(_write(tmp_path / "bad.txt", b"ok\n\xff\xfe\n"))
    with pytest.raises(ValueError, match="holds no token"):
        load_vocab(_write(tmp_path / "empty.txt", b""))
    with pytest.raises(TypeError, match="vocab_file"):
        load_vocab(123)


def test_vocab_save_keeps_ids_of_a_defective_file(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VocabularyWarning)
        vocab = load_vocab(_write(tmp_path / "v.txt", b"x\r\ny\r\nx\r\nz\r\n"))
        again = load_vocab(vocab.save(str(tmp_path / "saved.txt")))
    assert again.token_to_id == vocab.token_to_id == {"x": 2, "y": 1, "z": 3}
