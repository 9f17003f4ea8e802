"""Arbitrary Unicode: the tokenizers never raise, every id is a real token, offsets point into the
text, and the fast tokenizer gives exactly what the readable one gives."""

import functools
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
from tests.tokenizer.helpers import bert_vocab_path

CONFIGS = [dict(), dict(do_lower_case=False), dict(strip_accents=False), dict(do_lower_case=False, strip_accents=True),
           dict(tokenize_chinese_chars=False), dict(clean_text=False), dict(do_basic_tokenize=False),
           dict(never_split=["[foo]", "Keep.Me"])]

# every code point, surrogates included (hypothesis leaves them out unless asked)
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None, exclude_categories=())
FRAGMENTS = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", "[foo]", "Keep.Me", " ", "\t", "\r\n", "\u3000",
             "\x00", "\u200b", "\ufffd", "e\u0301", "\u0130", "\u03a3", "\u4e2d", "\ud55c", "\U0001f600", "\u0898",
             "a" * 101, "\u00e9" * 60, "unaffable", "Hello", ",", "'", "##", "\u2e43"]
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=4)), max_size=20).map("".join),
)


@functools.lru_cache(maxsize=None)
def _pair(index):
    path = bert_vocab_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ConvBertTokenizer(path, **CONFIGS[index]), ConvBertTokenizerFast(path, **CONFIGS[index])


@settings(max_examples=150)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), index=st.integers(0, len(CONFIGS) - 1))
def test_never_raises_ids_in_range_and_slow_equals_fast(texts, index):
    slow, fast = _pair(index)
    expected = slow(texts, return_offsets_mapping=True, add_special_tokens=False)
    got = fast(texts, return_offsets_mapping=True, add_special_tokens=False)
    assert got == expected
    for text, ids, offsets in zip(texts, got["input_ids"], got["offset_mapping"]):
        assert len(ids) == len(offsets)
        assert all(0 <= i < len(fast.ids_to_tokens) and fast.ids_to_tokens[i] is not None for i in ids)
        assert all(0 <= start <= end <= len(text) for start, end in offsets)
        assert all(a[0] <= b[0] for a, b in zip(offsets, offsets[1:]))  # pieces come in text order
    # the other entry points agree too
    assert fast.tokenize(texts[0]) == slow.tokenize(texts[0])
    assert fast.decode(got["input_ids"][0]) == slow.decode(expected["input_ids"][0])


@settings(max_examples=100)
@given(text=st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=40),
       lower=st.booleans(), strip=st.sampled_from([None, True, False]))
def test_arbitrary_unicode_matches_the_reference(text, lower, strip):
    """Beyond the corpus: random code points (no surrogates: the reference cannot take them)."""
    tokenizers = pytest.importorskip("tokenizers")
    path = bert_vocab_path()
    ref = _reference(str(path), lower, strip)
    fast = _fast(str(path), lower, strip)
    encoding = ref.encode(text, add_special_tokens=False)
    got = fast(text, add_special_tokens=False, return_offsets_mapping=True)
    assert got["input_ids"] == encoding.ids
    assert got["offset_mapping"] == encoding.offsets


@functools.lru_cache(maxsize=None)
def _reference(path, lower, strip):
    import tokenizers

    return tokenizers.BertWordPieceTokenizer(path, lowercase=lower, strip_accents=strip)


@functools.lru_cache(maxsize=None)
def _fast(path, lower, strip):
    return ConvBertTokenizerFast(path, do_lower_case=lower, strip_accents=strip)
