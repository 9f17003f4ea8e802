"""ConvBertTokenizerFast: the same results as ConvBertTokenizer, several times faster, in pure Python.

Three ideas make it fast without changing a single id or offset:

1. Find words in the *raw* text with one compiled regular expression. Each character normalizes on
   its own (chars.py), so whether it is white space, removed, isolated (punctuation, CJK) or part of
   a word can be decided before normalizing; chars.char_class_ranges lists the classes and the
   pattern is   [word char][word char or removed char]* | [isolated char]   (C speed, via `re`).
2. Cache per word: the first time a raw word is seen, normalize + WordPiece it (with the readable
   code) and store its ids and its pieces' offsets relative to the word. Real text repeats words,
   so almost every word afterwards is one dictionary look-up, done in C by map().
3. ASCII lines (most lines of real text) are lowercased whole with str.lower(), which is exact for
   ASCII, so "The" and "the" share one cache entry.

The cache is bounded in bytes (word_cache_bytes, an estimate of what its entries hold): it is emptied
when it grows past that, checked before each text, so it never holds more than the budget plus what
one text adds. Texts that may hold a special or added token, a never_split word, or any text once
normalized added tokens exist, go through the general path (special_tokens.py), with the same results.
"""

from __future__ import annotations

import re
import sys
from itertools import accumulate, chain
from operator import itemgetter

from minconvbert.tokenizer.base import TokenizerBase
from minconvbert.tokenizer.chars import WHITESPACE, char_class_ranges
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer, encode_words

__all__ = ["ConvBertTokenizerFast"]

_word_of = itemgetter(1)


def _char_class(ranges) -> str:
    """The inside of a regex character class for a list of (first, last) code points."""
    parts = []
    for lo, hi in ranges:
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
    return "".join(parts)


def _gap_and_word_pattern(classes: dict, limit: int | None = None) -> re.Pattern:
    """(gap)(word): the characters before a word (white space, removed), then the word itself.

    findall() then gives every word, and the running sum of the pieces' lengths gives where each
    word starts and ends, without a Python-level loop. White space (or removed characters) ending the
    text matches as ("", "") at the end, which the caller drops. `limit` keeps only code points below it
    (a small ASCII pattern is much faster than one with thousands of Unicode ranges).
    """
    def cls(name):
        ranges = classes[name]
        if limit is not None:
            ranges = [(lo, min(hi, limit - 1)) for lo, hi in ranges if lo < limit]
        return _char_class(ranges)

    space, removed, isolated = cls("space"), cls("removed"), cls("isolated")
    word = f"[^{space}{removed}{isolated}][^{space}{isolated}]*"
    if isolated:
        word += f"|[{isolated}]"
    if not (space or removed):
        return re.compile(f"()({word})")
    # The second alternative takes a run of gap characters that ends the text (no word follows). Without
    # it, findall would retry the failing (gap)(word) at every position of that run: quadratic time.
    return re.compile(f"([{space}{removed}]*)({word})|[{space}{removed}]+\\Z")


class _WordCache(dict):
    """word -> tuple of ids; a miss computes the word (filling the offsets cache too) and stores it.

    nbytes estimates the memory of the entries in this and the offsets cache: the key, and per piece an
    id, an offsets tuple and the tuples holding them.
    """

    def __init__(self, compute):
        super().__init__()
        self.compute = compute
        self.nbytes = 0

    def __missing__(self, word):
        ids = self.compute(word)
        self[word] = ids
        self.nbytes += sys.getsizeof(word) + 300 + 150 * len(ids)
        return ids


class ConvBertTokenizerFast(TokenizerBase):
    """Fast WordPiece tokenizer for ConvBERT: ConvBertTokenizer's arguments and results, a per-word cache.

    Parameters are those of ConvBertTokenizer (vocab_file, do_lower_case, strip_accents, ...), with
    clean_text (remove control characters) and wordpieces_prefix ("##") as in the reference's fast tokenizer.
    """

    is_fast = True
    word_cache_bytes = 64 << 20  # the word cache is emptied when its entries pass this estimate

    def _setup(self) -> None:
        self.basic_tokenizer = self._make_basic_tokenizer()
        if self.do_basic_tokenize:
            classes = char_class_ranges(self.basic_tokenizer.config)
        else:
            classes = {"removed": [], "space": sorted((ord(c), ord(c)) for c in WHITESPACE), "isolated": []}
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, self.unk_token, self.max_input_chars_per_word,
                                                      self.wordpieces_prefix, unk_id=self.unk_token_id)
        self._ascii_re = _gap_and_word_pattern(classes, limit=0x80)
        self._unicode_re = _gap_and_word_pattern(classes)
        self._lower_ascii = self.basic_tokenizer.config.lowercase
        self._offsets_cache: dict[str, tuple] = {}
        self._whole_word = set()  # words that are one piece covering the whole raw word
        self._ids_cache = _WordCache(self._compute_word)
        # a text holding none of these characters holds no special or added token and no never_split word
        self._special_first_chars = "".join(sorted({t[0] for t in self._raw_ids} |
                                                   {t[0] for t in (self.never_split or [])}))

    def _compute_word(self, raw: str) -> tuple:
        """Ids of one raw word (a cache miss), storing its pieces' offsets relative to the word."""
        ids, offsets = [], []
        encode_words(self.basic_tokenizer, self.wordpiece_tokenizer, raw, 0, ids, offsets)
        self._offsets_cache[raw] = tuple(offsets)
        if offsets == [(0, len(raw))]:
            self._whole_word.add(raw)
        return tuple(ids)

    def _clear_cache_if_full(self) -> None:
        if self._ids_cache.nbytes > self.word_cache_bytes:
            self._ids_cache.clear()
            self._ids_cache.nbytes = 0
            self._offsets_cache.clear()
            self._whole_word.clear()

    def _words(self, text: str):
        """(gap, word) pieces of a text with no special token (ASCII text lowercased first)."""
        if text.isascii():
            pieces = self._ascii_re.findall(text.lower() if self._lower_ascii else text)
        else:
            pieces = self._unicode_re.findall(text)
        if pieces and not pieces[-1][1]:
            pieces.pop()  # the trailing gap (no word): ("", "")
        return pieces

    def _encode_plain(self, text: str, base: int, ids: list, offsets, words, word: int) -> int:
        pieces = self._words(text)
        raw_words = list(map(_word_of, pieces))
        found = list(map(self._ids_cache.__getitem__, raw_words))
        ids.extend(chain.from_iterable(found))
        if offsets is not None:
            bounds = list(accumulate(map(len, chain.from_iterable(pieces)), initial=base))
            relative = map(self._offsets_cache.__getitem__, raw_words)
            offsets.extend([(s + a, s + b) for s, rel in zip(bounds[1::2], relative) for a, b in rel])
        if words is not None:  # one raw word is one basic-tokenizer word
            for index, word_ids in enumerate(found, start=word):
                words += [index] * len(word_ids)
        return word + len(raw_words)

    def _encode_many(self, texts: list[str], with_offsets: bool):
        """(ids, offsets) per text: the hot loop, with the special-token search only where one may occur."""
        self._clear_cache_if_full()
        ascii_findall, unicode_findall = self._ascii_re.findall, self._unicode_re.findall
        lookup, relative_of = self._ids_cache.__getitem__, self._offsets_cache.__getitem__
        whole = self._whole_word.__contains__
        lower = self._lower_ascii
        firsts = self._special_first_chars
        general = self._normalized_added_re is not None
        cache, budget = self._ids_cache, self.word_cache_bytes
        out = []
        for text in texts:
            if cache.nbytes > budget:
                self._clear_cache_if_full()
            if general or (firsts and any(c in text for c in firsts)):
                out.append(self._encode_text(text, with_offsets)[:2])
                continue
            if text.isascii():
                pieces = ascii_findall(text.lower() if lower else text)
            else:
                pieces = unicode_findall(text)
            if pieces and not pieces[-1][1]:
                pieces.pop()  # the trailing gap (no word): ("", "")
            words = list(map(_word_of, pieces))
            ids = list(chain.from_iterable(map(lookup, words)))
            if not with_offsets:
                out.append((ids, None))
                continue
            # bounds[2i + 1], bounds[2i + 2]: where word i starts and ends
            bounds = list(accumulate(map(len, chain.from_iterable(pieces)), initial=0))
            if all(map(whole, words)):  # every word is one piece: its offsets are the word's bounds
                offsets = list(zip(bounds[1::2], bounds[2::2]))
            else:
                offsets = [(s + a, s + b) for s, rel in zip(bounds[1::2], map(relative_of, words)) for a, b in rel]
            out.append((ids, offsets))
        return out
