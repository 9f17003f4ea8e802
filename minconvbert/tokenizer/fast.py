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
"""

from __future__ import annotations

import re
from itertools import accumulate, chain
from operator import itemgetter

from minconvbert.tokenizer.base import TokenizerBase
from minconvbert.tokenizer.chars import WHITESPACE, char_class_ranges
from minconvbert.tokenizer.slow import encode_words
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

__all__ = ["ConvBertTokenizerFast"]

_CACHE_LIMIT = 500_000  # distinct words kept before the cache is emptied
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
    """word -> tuple of ids; a miss computes the word (filling the offsets cache too) and stores it."""

    def __init__(self, compute):
        super().__init__()
        self.compute = compute

    def __missing__(self, word):
        ids = self.compute(word)
        self[word] = ids
        return ids


class ConvBertTokenizerFast(TokenizerBase):
    """Fast WordPiece tokenizer for ConvBERT: ConvBertTokenizer's arguments and results, a per-word cache.

    Parameters are those of ConvBertTokenizer (vocab_file, do_lower_case, strip_accents, ...), with
    clean_text (remove control characters) and wordpieces_prefix ("##") as in the reference's fast tokenizer.
    """

    def _setup(self) -> None:
        self._basic = self._make_basic_tokenizer()
        if self.do_basic_tokenize:
            classes = char_class_ranges(self._basic.config)
        else:
            classes = {"removed": [], "space": sorted((ord(c), ord(c)) for c in WHITESPACE), "isolated": []}
        self._wordpiece = WordpieceTokenizer(self.vocab, self.unk_token_id, self.wordpieces_prefix,
                                             self.max_input_chars_per_word)
        self._ascii_re = _gap_and_word_pattern(classes, limit=0x80)
        self._unicode_re = _gap_and_word_pattern(classes)
        self._lower_ascii = self._basic.config.lowercase
        self._offsets_cache: dict[str, tuple] = {}
        self._whole_word = set()  # words that are one piece covering the whole raw word
        self._ids_cache = _WordCache(self._compute_word)
        self._special_first_chars = "".join(sorted({t[0] for t in self._special_ids} |
                                                   {t[0] for t in (self.never_split or [])}))

    def _compute_word(self, raw: str) -> tuple:
        """Ids of one raw word (a cache miss), storing its pieces' offsets relative to the word."""
        ids, offsets = [], []
        encode_words(self._basic, self._wordpiece, raw, 0, ids, offsets)
        self._offsets_cache[raw] = tuple(offsets)
        if offsets == [(0, len(raw))]:
            self._whole_word.add(raw)
        return tuple(ids)

    def _clear_cache_if_full(self) -> None:
        if len(self._ids_cache) > _CACHE_LIMIT:
            self._ids_cache.clear()
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

    def _encode_plain(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        pieces = self._words(text)
        words = list(map(_word_of, pieces))
        ids.extend(chain.from_iterable(map(self._ids_cache.__getitem__, words)))
        if offsets is not None:
            bounds = list(accumulate(map(len, chain.from_iterable(pieces)), initial=base))
            relative = map(self._offsets_cache.__getitem__, words)
            offsets.extend([(s + a, s + b) for s, rel in zip(bounds[1::2], relative) for a, b in rel])

    def _encode_many(self, texts: list[str], with_offsets: bool):
        """(ids, offsets) per text: the hot loop, with the special-token search only where one may occur."""
        self._clear_cache_if_full()
        ascii_findall, unicode_findall = self._ascii_re.findall, self._unicode_re.findall
        lookup, relative_of = self._ids_cache.__getitem__, self._offsets_cache.__getitem__
        whole = self._whole_word.__contains__
        lower = self._lower_ascii
        firsts = self._special_first_chars
        out = []
        for text in texts:
            if firsts and any(c in text for c in firsts):
                out.append(self._encode_text(text, with_offsets))
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
