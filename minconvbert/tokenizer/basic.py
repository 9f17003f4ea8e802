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

from minconvbert.tokenizer.chars import NormalizerConfig, is_punctuation, normalize_char, WHITESPACE

__all__ = ["BasicTokenizer", "Word"]


class Word(tuple):
    """A normalized word and, per character, the index of the input character it came from."""

    __slots__ = ()

    def __new__(cls, text: str, origin: list[int]):
        return super().__new__(cls, (text, origin))

    text = property(lambda self: self[0])
    origin = property(lambda self: self[1])


class BasicTokenizer:
    """Normalization and word splitting, as the reference's BertNormalizer + BertPreTokenizer.

    Parameters
    ----------
    do_lower_case : bool           lowercase every character
    strip_accents : bool | None    remove nonspacing marks after NFD; None follows do_lower_case
    tokenize_chinese_chars : bool  make each CJK ideograph a word of its own
    clean_text : bool              remove control characters, turn every white space into " "
    split_on_punctuation : bool    make each punctuation character a word of its own
    """

    def __init__(self, do_lower_case: bool = True, strip_accents: bool | None = None,
                 tokenize_chinese_chars: bool = True, clean_text: bool = True, split_on_punctuation: bool = True):
        if strip_accents is None:
            strip_accents = do_lower_case
        self.config = NormalizerConfig(clean_text, tokenize_chinese_chars, strip_accents, do_lower_case)
        self.split_on_punctuation = split_on_punctuation

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
            elif self.split_on_punctuation and is_punctuation(ch):
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

    def tokenize(self, text: str) -> list[str]:
        """The words of `text` as strings: "Hello, world!" -> ["hello", ",", "world", "!"]."""
        return [word.text for word in self.words(text)]
