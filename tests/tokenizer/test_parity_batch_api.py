"""Calling conventions identical to the reference on a sampled set: pairs, batches, padding,
truncation strategies, stride + overflow, special-token masks, offsets, lengths, arrays, decoding."""

import warnings

import numpy as np
import pytest

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
from tests.tokenizer.helpers import reference_tokenizer

TOKENIZER_CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]

CALLS = [
    {},
    {"padding": True},
    {"padding": "longest", "return_special_tokens_mask": True, "return_length": True},
    {"padding": "max_length", "max_length": 40, "truncation": True},
    {"max_length": 12},  # max_length alone truncates (longest_first)
    {"truncation": "longest_first", "max_length": 16, "padding": True, "pad_to_multiple_of": 8},
    {"truncation": True, "max_length": 9, "return_overflowing_tokens": True, "stride": 3, "padding": True,
     "return_offsets_mapping": True, "return_special_tokens_mask": True},
    {"truncation": True, "max_length": 7, "return_overflowing_tokens": True, "return_length": True},
    {"padding": True, "max_length": 5},  # max_length ignored: padding=True, no truncation
    {"add_special_tokens": False, "return_special_tokens_mask": True, "padding": True},
    {"return_token_type_ids": False, "return_attention_mask": False, "padding": True},
    {"padding": True, "padding_side": "left", "return_offsets_mapping": True},
    {"truncation": True, "max_length": 2},  # room for the special tokens only
]
PAIR_CALLS = [
    {"truncation": "only_first", "max_length": 30, "padding": True},
    {"truncation": "only_second", "max_length": 30, "return_overflowing_tokens": True, "stride": 2},
    {"truncation": "longest_first", "max_length": 20, "return_overflowing_tokens": True, "stride": 1,
     "return_offsets_mapping": True},
    {"truncation": True, "max_length": 3},  # exactly the three special tokens: both sequences emptied
]


def _pair(ref_or_ours, texts, pairs, kwargs):
    try:
        return dict(ref_or_ours(texts, pairs, **kwargs)) if pairs is not None else dict(ref_or_ours(texts, **kwargs))
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the reference raises a bare Exception ("sequence too short") or panics
        return type(error).__name__


def _compare(ref, ours, texts, pairs, kwargs):
    paired = pairs is not None or isinstance(texts[0], tuple)
    n_special = (3 if paired else 2) if kwargs.get("add_special_tokens", True) else 0
    if kwargs.get("truncation") and kwargs.get("max_length", n_special) < n_special:
        # deliberate difference: the reference silently skips truncation; we refuse clearly
        with pytest.raises(ValueError, match=f"smaller than the {n_special} special tokens"):
            _ = ours(texts, pairs, **kwargs) if pairs is not None else ours(texts, **kwargs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _pair(ref, texts, pairs, kwargs)
    got = _pair(ours, texts, pairs, kwargs)
    if isinstance(expected, str):  # the reference refused: we must refuse too, with a clear ValueError
        assert got == "ValueError", (kwargs, expected, got)
        return
    assert isinstance(got, dict), (kwargs, got)
    assert list(got) == list(expected), kwargs
    for key in expected:
        assert got[key] == expected[key], (kwargs, key)


@pytest.fixture(scope="module", params=["bert", "convbert"])
def tokenizers_pair(request, vocab_folders):
    folder = vocab_folders[request.param]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reference_tokenizer(folder), [cls.from_pretrained(folder) for cls in TOKENIZER_CLASSES]


@pytest.mark.parametrize("kwargs", CALLS, ids=range(len(CALLS)))
def test_batch_of_texts(tokenizers_pair, sampled_corpus, kwargs):
    ref, ours_all = tokenizers_pair
    for ours in ours_all:
        for start in range(0, len(sampled_corpus), 150):
            _compare(ref, ours, sampled_corpus[start:start + 150], None, kwargs)


@pytest.mark.parametrize("kwargs", CALLS + PAIR_CALLS, ids=range(len(CALLS + PAIR_CALLS)))
def test_batch_of_pairs(tokenizers_pair, sampled_corpus, kwargs):
    ref, ours_all = tokenizers_pair
    texts, pairs = sampled_corpus[:300:2], sampled_corpus[1:300:2]
    for ours in ours_all:
        _compare(ref, ours, texts, pairs, kwargs)
        # a list of (text, pair) tuples is the same batch
        _compare(ref, ours, list(zip(texts[:20], pairs[:20])), None, kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"return_offsets_mapping": True}, {"truncation": True, "max_length": 6},
                                    {"max_length": 6, "return_overflowing_tokens": True, "stride": 2},
                                    {"padding": "max_length", "max_length": 50, "return_length": True}])
def test_single_text_and_single_pair(tokenizers_pair, sampled_corpus, kwargs):
    ref, ours_all = tokenizers_pair
    for ours in ours_all:
        for text, pair in zip(sampled_corpus[:40], sampled_corpus[40:80]):
            _compare(ref, ours, text, None, kwargs)
            _compare(ref, ours, text, pair, kwargs)


def test_numpy_arrays_match(tokenizers_pair, sampled_corpus):
    ref, ours_all = tokenizers_pair
    kwargs = dict(padding=True, return_tensors="np", return_special_tokens_mask=True, return_offsets_mapping=True,
                  return_length=True)
    expected = ref(sampled_corpus[:64], **kwargs)
    for ours in ours_all:
        got = ours(sampled_corpus[:64], **kwargs)
        assert list(got) == list(expected)
        for key in expected:
            assert isinstance(got[key], np.ndarray) and got[key].dtype == np.int64
            np.testing.assert_array_equal(got[key], expected[key])
        single = ours(sampled_corpus[0], return_tensors="np")
        np.testing.assert_array_equal(single["input_ids"], ref(sampled_corpus[0], return_tensors="np")["input_ids"])
        assert single.input_ids.shape[0] == 1  # a batch of one, ready for the model


def test_decode_matches(tokenizers_pair, sampled_corpus):
    ref, ours_all = tokenizers_pair
    rows = ref(sampled_corpus[:200])["input_ids"]
    for ours in ours_all:
        for skip in (False, True):
            for clean in (None, True, False):
                expected = [ref.decode(r, skip_special_tokens=skip, clean_up_tokenization_spaces=clean) for r in rows]
                assert ours.batch_decode(rows, skip_special_tokens=skip, clean_up_tokenization_spaces=clean) == expected
        padded = ref(sampled_corpus[:8], padding=True, return_tensors="np")["input_ids"]
        assert ours.batch_decode(padded, skip_special_tokens=True) == ref.batch_decode(padded, skip_special_tokens=True)
        assert ours.decode(rows[0][1]) == ref.decode(rows[0][1])  # a single id
        for r in rows[:50]:
            assert ours.convert_ids_to_tokens(r) == ref.convert_ids_to_tokens(r)
            assert ours.get_special_tokens_mask(r, already_has_special_tokens=True) == \
                ref.get_special_tokens_mask(r, already_has_special_tokens=True)
        assert ours.tokenize(sampled_corpus[0]) == ref.tokenize(sampled_corpus[0])
        assert ours.tokenize("a", "b", add_special_tokens=True) == ref.tokenize("a", "b", add_special_tokens=True)
        assert ours.encode(sampled_corpus[1], sampled_corpus[2]) == ref.encode(sampled_corpus[1], sampled_corpus[2])
        assert ours.all_special_tokens == ref.all_special_tokens and ours.all_special_ids == ref.all_special_ids


def test_methods_missing_from_transformers5_match_the_legacy_tokenizer(vocab_folders, sampled_corpus):
    """build_inputs_with_special_tokens & co. are gone from transformers 5: compare with its legacy BERT tokenizer."""
    legacy_module = pytest.importorskip("transformers.models.bert.tokenization_bert_legacy")
    legacy = legacy_module.BertTokenizerLegacy(str(vocab_folders["bert"] / "vocab.txt"))
    for ours in [cls.from_pretrained(vocab_folders["bert"]) for cls in TOKENIZER_CLASSES]:
        a, b = ours.encode("hello world", add_special_tokens=False), ours.encode("again", add_special_tokens=False)
        for second in (None, b):
            assert ours.build_inputs_with_special_tokens(a, second) == \
                legacy.build_inputs_with_special_tokens(a, second)
            assert ours.get_special_tokens_mask(a, second) == legacy.get_special_tokens_mask(a, second)
            assert ours.create_token_type_ids_from_sequences(a, second) == \
                legacy.create_token_type_ids_from_sequences(a, second)
        tokens = ours.tokenize(sampled_corpus[3])
        assert ours.convert_tokens_to_string(tokens) == legacy.convert_tokens_to_string(tokens)
        assert ours.convert_tokens_to_ids(tokens) == legacy.convert_tokens_to_ids(tokens)


def test_never_split_and_do_basic_tokenize_match_the_legacy_tokenizer(vocab_folders):
    """transformers 5 dropped never_split / do_basic_tokenize=False: its legacy BERT tokenizer defines them."""
    legacy_module = pytest.importorskip("transformers.models.bert.tokenization_bert_legacy")
    vocab = str(vocab_folders["bert"] / "vocab.txt")
    words = ["Keep.Me", "[foo]", "hello"]
    texts = ["a Keep.Me b", "aKeep.Me b", "\tKeep.Me\n", "x [foo] y[foo]", "Hello hello HELLO", "Keep.Me.",
             "the [MASK] Keep.Me[MASK]", "Hello world, héllo [SEP]x"]
    for kwargs in (dict(never_split=words), dict(do_basic_tokenize=False)):
        legacy = legacy_module.BertTokenizerLegacy(vocab, **kwargs)
        for cls in TOKENIZER_CLASSES:
            ours = cls(vocab, **kwargs)
            for text in texts:
                assert ours.encode(text) == legacy.encode(text), (kwargs, text)
