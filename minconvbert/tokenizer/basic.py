"""The basic tokenizer: normalize the text, then cut it into words (before WordPiece).

    "Héllo, WORLD!" -> normalize -> "hello, world!" -> words -> "hello" "," "world" "!"

Each character of the input is normalized on its own (see chars.normalize_char: removed, turned into
a space, padded if it is a CJK ideograph, accents stripped, lowercased), so every normalized
character remembers which input character it came from. Words are then runs of characters between
white space, with each punctuation character a word of its own. A word carries, for each of its
characters, the index of the input character it came from: that is how offsets into the original
text are found (a piece covering normalized characters i..j spans input[origin[i]:origin[j] + 1]).
"""

from __future__ import annotations

import re

from minconvbert.tokenizer.chars import WHITESPACE, NormalizerConfig, is_punctuation, normalize_char

__all__ = ["BasicTokenizer", "Word", "check_never_split", "never_split_pattern", "split_never_split"]


class Word(tuple):
    """A normalized word and, per character, the index of the input character it came from."""

    __slots__ = ()

    def __new__(cls, text: str, origin: list[int]):
        return super().__new__(cls, (text, origin))

    text = property(lambda self: self[0])
    origin = property(lambda self: self[1])


class BasicTokenizer:
    """Normalization and word splitting, as the reference's BertNormalizer + BertPreTokenizer.

    The arguments are transformers' BasicTokenizer's, in its order (clean_text is ours: the reference
    always cleans).

    Parameters
    ----------
    do_lower_case : bool           lowercase every character
    never_split : iterable of str  words (between white space) kept whole: not normalized, not split
    tokenize_chinese_chars : bool  make each CJK ideograph a word of its own
    strip_accents : bool | None    remove nonspacing marks after NFD; None follows do_lower_case
    do_split_on_punc : bool        make each punctuation character a word of its own
    clean_text : bool              remove control characters, turn every white space into " "
    """

    def __init__(self, do_lower_case: bool = True, never_split=None, tokenize_chinese_chars: bool = True,
                 strip_accents: bool | None = None, do_split_on_punc: bool = True, clean_text: bool = True):
        self.do_lower_case = do_lower_case
        self.never_split = set(check_never_split(never_split) or ())
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.do_split_on_punc = do_split_on_punc
        self.clean_text = clean_text
        self.config = NormalizerConfig(clean_text, tokenize_chinese_chars,
                                       do_lower_case if strip_accents is None else strip_accents, do_lower_case)

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """The normalized text and, per normalized character, the index of its input character."""
        pieces = []
        origin = []
        for index, ch in enumerate(text):
            out = normalize_char(ch, self.config)
            pieces.append(out)
            origin.extend([index] * len(out))
        return "".join(pieces), origin

    def split(self, normalized: str, origin: list[int]) -> list[Word]:
        """Cut normalized text into words: split on white space, isolate punctuation."""
        words = []
        start = None  # where the current word began, or None between words
        for i, ch in enumerate(normalized):
            if ch in WHITESPACE:
                if start is not None:
                    words.append(Word(normalized[start:i], origin[start:i]))
                    start = None
            elif self.do_split_on_punc and is_punctuation(ch):
                if start is not None:
                    words.append(Word(normalized[start:i], origin[start:i]))
                    start = None
                words.append(Word(ch, origin[i:i + 1]))
            elif start is None:
                start = i
        if start is not None:
            words.append(Word(normalized[start:], origin[start:]))
        return words

    def words(self, text: str) -> list[Word]:
        """Normalize `text` and cut it into words (each with its origin indices)."""
        return self.split(*self.normalize(text))

    def tokenize(self, text: str, never_split=None) -> list[str]:
        """The words of `text` as strings: "Hello, world!" -> ["hello", ",", "world", "!"].

        never_split: more words to keep whole for this call (added to the constructor's).
        """
        keep = self.never_split | set(check_never_split(never_split) or ())
        out = []
        for start, end, kept in split_never_split(text, never_split_pattern(keep)):
            out += [text[start:end]] if kept else [word.text for word in self.words(text[start:end])]
        return out


def check_never_split(never_split):
    """never_split as a list of non-empty str (or None); TypeError otherwise."""
    if never_split is None:
        return None
    if isinstance(never_split, str) or not all(isinstance(t, str) and t for t in never_split):
        raise TypeError("never_split: expected a list of non-empty str")
    return list(never_split)


def never_split_pattern(words) -> re.Pattern | None:
    """A regex finding any of `words` with white space (or the text's ends) on both sides, longest first."""
    if not words:
        return None
    space = "".join(re.escape(c) for c in sorted(WHITESPACE))
    alternatives = "|".join(re.escape(t) for t in sorted(set(words), key=len, reverse=True))
    return re.compile(f"(?<![^{space}])(?:{alternatives})(?![^{space}])")


def split_never_split(text: str, pattern: re.Pattern | None):
    """[(start, end, kept)]: the spans of `text`, a never_split word (found by `pattern`, see
    never_split_pattern) being a span of its own (kept=True)."""
    spans, position = [], 0
    for match in (pattern.finditer(text) if pattern is not None else ()):
        if match.start() > position:
            spans.append((position, match.start(), False))
        spans.append((match.start(), match.end(), True))
        position = match.end()
    if position < len(text):
        spans.append((position, len(text), False))
    return spans
