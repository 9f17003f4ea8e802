"""transformers' tests/models/bert/test_tokenization_bert.py, ported to both minconvbert tokenizers.

Two upstream revisions hold the tests: the one with the Python BasicTokenizer / WordpieceTokenizer tests
(the tiny vocabulary below), and transformers 5's, whose only content is the integration values on
google-bert/bert-base-uncased (here the shipped vocabulary). The common tests (TokenizerTesterMixin)
are in test_tokenization_common.py. Upstream's assertions and expected values, in pytest form.

Not ported, and why:
- the `do_lower_case=False` branch of test_offsets_with_special_characters: it expects cased pieces
  ("Allen", "##NL", "##ï"), which only a cased vocabulary (bert-base-cased) holds; we ship the uncased one.
Changed:
- test_basic_tokenizer_remove_control_chars_true/false: a revision of upstream passes
  `remove_control_chars`, which no released BasicTokenizer takes; ours is `clean_text` (the same switch
  as the fast tokenizer's), so the two tests pass clean_text.
- the transformers 5 integration values were made by a tokenizer that did not lowercase ("This" ->
  [UNK], "falsé" -> [UNK]): they hold with do_lower_case=False, and are checked so. DistilBERT's test
  (the same vocabulary) has the lowercasing values; they are checked with the defaults.
- _is_whitespace / _is_control / _is_punctuation are minconvbert.tokenizer.chars' is_whitespace,
  is_control, is_punctuation.
"""

import shutil

import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import BasicTokenizer, ConvBertTokenizer, ConvBertTokenizerFast, WordpieceTokenizer
from minconvbert.tokenizer.chars import is_control, is_punctuation, is_whitespace

CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]
VOCAB_TOKENS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "want", "##want", "##ed", "wa", "un", "runn", "##ing",
                ",", "low", "lowest"]

INTEGRATION_TEXT = """This is a test 😊
I was born in 92000, and this is falsé.
生活的真谛是
Hi  Hello
Hi   Hello

 
  
 Hello
<s>
hi<s>there
The following string should be properly encoded: Hello.
But ird and ปี   ird   ด
Hey how are you doing"""  # noqa: W293

# transformers 5's BertTokenizationTest (a tokenizer that did not lowercase)
CASED_TOKENS = ['[UNK]', 'is', 'a', 'test', '[UNK]', '[UNK]', 'was', 'born', 'in', '92', '##00', '##0', ',', 'and', 'this', 'is', '[UNK]', '.', '生', '[UNK]', '的', '真', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '<', 's', '>', 'hi', '<', 's', '>', 'there', '[UNK]', 'following', 'string', 'should', 'be', 'properly', 'encoded', ':', '[UNK]', '.', '[UNK]', 'ir', '##d', 'and', '[UNK]', 'ir', '##d', '[UNK]', '[UNK]', 'how', 'are', 'you', 'doing']  # noqa: E501
CASED_IDS = [100, 2003, 1037, 3231, 100, 100, 2001, 2141, 1999, 6227, 8889, 2692, 1010, 1998, 2023, 2003, 100, 1012, 1910, 100, 1916, 1921, 100, 100, 100, 100, 100, 100, 100, 1026, 1055, 1028, 7632, 1026, 1055, 1028, 2045, 100, 2206, 5164, 2323, 2022, 7919, 12359, 1024, 100, 1012, 100, 20868, 2094, 1998, 100, 20868, 2094, 100, 100, 2129, 2024, 2017, 2725]  # noqa: E501
CASED_DECODED = "[UNK] is a test [UNK] [UNK] was born in 92000, and this is [UNK]. 生 [UNK] 的 真 [UNK] [UNK] [UNK] [UNK] [UNK] [UNK] [UNK] < s > hi < s > there [UNK] following string should be properly encoded : [UNK]. [UNK] ird and [UNK] ird [UNK] [UNK] how are you doing"  # noqa: E501
# transformers 5's DistilBertTokenizationTest (the bert-base-uncased vocabulary, lowercasing)
UNCASED_TOKENS = ['this', 'is', 'a', 'test', '[UNK]', 'i', 'was', 'born', 'in', '92', '##00', '##0', ',', 'and', 'this', 'is', 'false', '.', '生', '[UNK]', '的', '真', '[UNK]', '[UNK]', 'hi', 'hello', 'hi', 'hello', 'hello', '<', 's', '>', 'hi', '<', 's', '>', 'there', 'the', 'following', 'string', 'should', 'be', 'properly', 'encoded', ':', 'hello', '.', 'but', 'ir', '##d', 'and', '[UNK]', 'ir', '##d', '[UNK]', 'hey', 'how', 'are', 'you', 'doing']  # noqa: E501
UNCASED_IDS = [2023, 2003, 1037, 3231, 100, 1045, 2001, 2141, 1999, 6227, 8889, 2692, 1010, 1998, 2023, 2003, 6270, 1012, 1910, 100, 1916, 1921, 100, 100, 7632, 7592, 7632, 7592, 7592, 1026, 1055, 1028, 7632, 1026, 1055, 1028, 2045, 1996, 2206, 5164, 2323, 2022, 7919, 12359, 1024, 7592, 1012, 2021, 20868, 2094, 1998, 100, 20868, 2094, 100, 4931, 2129, 2024, 2017, 2725]  # noqa: E501
UNCASED_DECODED = "this is a test [UNK] i was born in 92000, and this is false. 生 [UNK] 的 真 [UNK] [UNK] hi hello hi hello hello < s > hi < s > there the following string should be properly encoded : hello. but ird and [UNK] ird [UNK] hey how are you doing"  # noqa: E501


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "vocab.txt").write_text("".join(t + "\n" for t in VOCAB_TOKENS), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def uncased_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert-base-uncased")
    shutil.copyfile(vocab_file("bert-base-uncased"), folder / "vocab.txt")
    return folder


@pytest.mark.parametrize("cls", CLASSES)
def test_full_tokenizer(cls, tiny_folder):
    tokenizer = cls(tiny_folder / "vocab.txt")
    tokens = tokenizer.tokenize("UNwant\u00e9d,running")
    assert tokens == ["un", "##want", "##ed", ",", "runn", "##ing"]
    assert tokenizer.convert_tokens_to_ids(tokens) == [9, 6, 7, 12, 10, 11]


@pytest.mark.parametrize("kwargs", [{}, {"do_lower_case": True}])
def test_rust_and_python_full_tokenizers(tiny_folder, kwargs):
    tokenizer, rust_tokenizer = (cls.from_pretrained(tiny_folder, **kwargs) for cls in CLASSES)
    sequence = "UNwant\u00e9d,running"
    assert tokenizer.tokenize(sequence) == rust_tokenizer.tokenize(sequence)
    assert tokenizer.encode(sequence, add_special_tokens=False) == rust_tokenizer.encode(sequence,
                                                                                         add_special_tokens=False)
    assert tokenizer.encode(sequence) == rust_tokenizer.encode(sequence)


def test_chinese():
    assert BasicTokenizer().tokenize("ah\u535a\u63a8zz") == ["ah", "\u535a", "\u63a8", "zz"]


@pytest.mark.parametrize("kwargs, expected, hello", [
    ({"do_lower_case": True}, ["hello", "!", "how", "are", "you", "?"], ["hello"]),
    ({"do_lower_case": False}, ["HeLLo", "!", "how", "Are", "yoU", "?"], None),
])
def test_basic_tokenizer_lower_and_no_lower(kwargs, expected, hello):
    tokenizer = BasicTokenizer(**kwargs)
    assert tokenizer.tokenize(" \tHeLLo!how  \n Are yoU?  ") == expected
    if hello is not None:
        assert tokenizer.tokenize("H\u00e9llo") == hello


@pytest.mark.parametrize("kwargs, expected, hello", [
    ({"do_lower_case": True, "strip_accents": False}, ["hällo", "!", "how", "are", "you", "?"], ["h\u00e9llo"]),
    ({"do_lower_case": True, "strip_accents": True}, ["hallo", "!", "how", "are", "you", "?"], ["hello"]),
    ({"do_lower_case": True}, ["hallo", "!", "how", "are", "you", "?"], ["hello"]),
    ({"do_lower_case": False, "strip_accents": False}, ["HäLLo", "!", "how", "Are", "yoU", "?"], None),
    ({"do_lower_case": False, "strip_accents": True}, ["HaLLo", "!", "how", "Are", "yoU", "?"], None),
])
def test_basic_tokenizer_strip_accents(kwargs, expected, hello):
    tokenizer = BasicTokenizer(**kwargs)
    assert tokenizer.tokenize(" \tHäLLo!how  \n Are yoU?  ") == expected
    if hello is not None:
        assert tokenizer.tokenize("H\u00e9llo") == hello


def test_basic_tokenizer_respects_never_split_tokens():
    tokenizer = BasicTokenizer(do_lower_case=False, never_split=["[UNK]"])
    assert tokenizer.tokenize(" \tHeLLo!how  \n Are yoU? [UNK]") == ["HeLLo", "!", "how", "Are", "yoU", "?", "[UNK]"]


def test_basic_tokenizer_splits_on_punctuation():
    expected = ["a", "'", "ll", "!", "!", "to", "?", "'", "d", "of", ",", "can", "'", "t", "."]
    assert BasicTokenizer().tokenize("a\n'll !!to?'d of, can't.") == expected


def test_basic_tokenizer_remove_control_chars():
    text = "\u200e\u200f"  # left-to-right and right-to-left marks
    assert BasicTokenizer(clean_text=True).tokenize(text) == []
    assert BasicTokenizer(clean_text=False).tokenize(text) == ["\u200e\u200f"]


def test_wordpiece_tokenizer():
    vocab = {token: i for i, token in enumerate(["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un",
                                                 "runn", "##ing"])}
    tokenizer = WordpieceTokenizer(vocab=vocab, unk_token="[UNK]")
    assert tokenizer.tokenize("") == []
    assert tokenizer.tokenize("unwanted running") == ["un", "##want", "##ed", "runn", "##ing"]
    assert tokenizer.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"]


def test_is_whitespace_control_punctuation():
    assert all(is_whitespace(c) for c in (" ", "\t", "\r", "\n", "\u00a0"))
    assert not is_whitespace("A") and not is_whitespace("-")
    assert is_control("\u0005")
    assert not any(is_control(c) for c in ("A", " ", "\t", "\r"))
    assert all(is_punctuation(c) for c in ("-", "$", "`", "."))
    assert not is_punctuation("A") and not is_punctuation(" ")


@pytest.mark.parametrize("cls", CLASSES)
def test_clean_text(cls, tiny_folder):
    tokenizer = cls.from_pretrained(tiny_folder)
    # the example of https://github.com/huggingface/tokenizers/issues/340
    assert [tokenizer.tokenize(t) for t in ["Test", "\xad", "test"]] == [["[UNK]"], [], ["[UNK]"]]


@pytest.mark.parametrize("cls", CLASSES)
def test_sequence_builders(cls, uncased_folder):
    tokenizer = cls.from_pretrained(uncased_folder)
    text = tokenizer.encode("sequence builders", add_special_tokens=False)
    text_2 = tokenizer.encode("multi-sequence build", add_special_tokens=False)
    assert tokenizer.build_inputs_with_special_tokens(text) == [101] + text + [102]
    assert tokenizer.build_inputs_with_special_tokens(text, text_2) == [101] + text + [102] + text_2 + [102]


@pytest.mark.parametrize("cls", CLASSES)
def test_offsets_with_special_characters(cls, uncased_folder):
    tokenizer_r = cls.from_pretrained(uncased_folder)
    sentence = f"A, naïve {tokenizer_r.mask_token} AllenNLP sentence."
    tokens = tokenizer_r.encode_plus(sentence, return_attention_mask=False, return_token_type_ids=False,
                                     return_offsets_mapping=True, add_special_tokens=True)
    assert tokenizer_r.do_lower_case
    expected = [((0, 0), tokenizer_r.cls_token), ((0, 1), "a"), ((1, 2), ","), ((3, 8), "naive"),
                ((9, 15), tokenizer_r.mask_token), ((16, 21), "allen"), ((21, 23), "##nl"), ((23, 24), "##p"),
                ((25, 33), "sentence"), ((33, 34), "."), ((0, 0), tokenizer_r.sep_token)]
    assert [e[1] for e in expected] == tokenizer_r.convert_ids_to_tokens(tokens["input_ids"])
    assert [e[0] for e in expected] == tokens["offset_mapping"]


def test_change_tokenize_chinese_chars(uncased_folder):
    chars = ["的", "人", "有"]
    text = "".join(chars)
    for tokenize_chinese_chars, expected in ((True, chars), (False, ["的", "##人", "##有"])):
        for cls in CLASSES:
            tokenizer = cls.from_pretrained(uncased_folder, tokenize_chinese_chars=tokenize_chinese_chars)
            ids = tokenizer.encode(text, add_special_tokens=False)
            assert tokenizer.convert_ids_to_tokens(ids) == expected


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("kwargs, tokens, ids, decoded", [
    ({"do_lower_case": False}, CASED_TOKENS, CASED_IDS, CASED_DECODED),
    ({}, UNCASED_TOKENS, UNCASED_IDS, UNCASED_DECODED),
], ids=["transformers5-bert", "transformers5-distilbert"])
def test_integration(cls, uncased_folder, kwargs, tokens, ids, decoded):
    """TokenizerTesterMixin._run_integration_checks with the values of the two upstream test files."""
    tokenizer = cls.from_pretrained(uncased_folder, **kwargs)
    assert tokenizer.tokenize(INTEGRATION_TEXT) == tokens
    assert tokenizer.encode(INTEGRATION_TEXT, add_special_tokens=False) == ids
    assert tokenizer.convert_ids_to_tokens(ids) == tokens  # expected_tokens_from_ids
    assert tokenizer.decode(ids, clean_up_tokenization_spaces=False) == decoded
