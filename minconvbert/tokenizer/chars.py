"""Character classes and per-character normalization, exactly as the reference BERT tokenizer sees them.

The reference (the `tokenizers` library's BertNormalizer + BertPreTokenizer, which transformers'
BertTokenizer / ConvBertTokenizer use) works character by character:

    normalize(c) = lowercase(strip_accents(pad_chinese(clean(c))))
    clean(c)         -> ""   if c is NUL, U+FFFD or a control/format/private-use character
                        " "  if c is white space (after the control test: \\x0b, \\x0c, \\x85 are removed)
    pad_chinese(c)   -> " c " for CJK ideographs, so each becomes its own word
    strip_accents(c) -> NFD(c) without the nonspacing marks (category Mn)
    lowercase(c)     -> the full lowercase mapping of each character (no final-sigma rule)

and the pre-tokenizer then splits the normalized text on white space and isolates every
punctuation character (ASCII punctuation, or a Unicode category P*).

Parity detail: the reference classifies characters with Unicode 8.0 general categories (its
`unicode_categories` dependency), NFD with slightly older tables, and lowercases with the newest
Unicode. Python's `unicodedata` is newer (14.0 on Python 3.11), so the few characters whose category
changed or that were assigned after 8.0 are listed below as explicit exceptions. With them, every
code point is classified and normalized like the reference (tests/tokenizer/test_chars.py checks all
of them against the live reference). On a Python with a newer `unicodedata`, characters assigned
after Unicode 14.0 may differ.
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = [
    "WHITESPACE",
    "ASCII_PUNCTUATION",
    "is_whitespace",
    "is_control",
    "is_punctuation",
    "is_chinese_char",
    "is_nonspacing_mark",
    "normalize_char",
    "NormalizerConfig",
    "char_class_ranges",
]

# Unicode White_Space: what the reference's pre-tokenizer splits on.
WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# CJK ideograph blocks as the reference writes them. Note 0x2B920 (not 0x2B820): U+2B820..U+2B91F
# (CJK Extension E's start) is *not* padded by the reference, unlike the original BERT code.
_CHINESE_RANGES = (
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B81F), (0x2B920, 0x2CEAF), (0x2F800, 0x2FA1F),
)

# --- Where the reference's Unicode 8.0 tables disagree with unicodedata 14.0 -------------------
# Format characters (Cf) assigned after 8.0: the reference does not remove them.
_FORMAT_NOT_IN_REFERENCE = ((0x0890, 0x0891), (0x08E2, 0x08E2), (0x110CD, 0x110CD), (0x13430, 0x13438))
# Punctuation in 8.0 but not any more (now So / Mn).
_PUNCTUATION_ONLY_IN_REFERENCE = ((0x166D, 0x166D), (0x111C9, 0x111C9))
# Punctuation assigned after 8.0: the reference leaves it inside words.
_PUNCTUATION_NOT_IN_REFERENCE = (
    (0x061D, 0x061D), (0x09FD, 0x09FD), (0x0A76, 0x0A76), (0x0C77, 0x0C77), (0x0C84, 0x0C84),
    (0x1B7D, 0x1B7E), (0x2E43, 0x2E4F), (0x2E52, 0x2E5D), (0x10EAD, 0x10EAD), (0x10F55, 0x10F59),
    (0x10F86, 0x10F89), (0x1144B, 0x1144F), (0x1145A, 0x1145B), (0x1145D, 0x1145D), (0x11660, 0x1166C),
    (0x116B9, 0x116B9), (0x1183B, 0x1183B), (0x11944, 0x11946), (0x119E2, 0x119E2), (0x11A3F, 0x11A46),
    (0x11A9A, 0x11A9C), (0x11A9E, 0x11AA2), (0x11C41, 0x11C45), (0x11C70, 0x11C71), (0x11EF7, 0x11EF8),
    (0x11FFF, 0x11FFF), (0x12FF1, 0x12FF2), (0x16E97, 0x16E9A), (0x16FE2, 0x16FE2), (0x1E95E, 0x1E95F),
)
# A nonspacing mark in 8.0 that is a spacing mark (Mc) now: the reference strips it.
_MARKS_ONLY_IN_REFERENCE = ((0x1734, 0x1734),)
# Nonspacing marks (Mn) assigned or re-categorised after 8.0: the reference keeps them.
_MARKS_NOT_IN_REFERENCE = (
    (0x07FD, 0x07FD), (0x0898, 0x089F), (0x08CA, 0x08E1), (0x09FE, 0x09FE), (0x0AFA, 0x0AFF),
    (0x0B55, 0x0B55), (0x0C04, 0x0C04), (0x0C3C, 0x0C3C), (0x0D00, 0x0D00), (0x0D3B, 0x0D3C),
    (0x0D81, 0x0D81), (0x0EBA, 0x0EBA), (0x180F, 0x180F), (0x1885, 0x1886), (0x1ABF, 0x1ACE),
    (0x1DF6, 0x1DFB), (0xA82C, 0xA82C), (0xA8C5, 0xA8C5), (0xA8FF, 0xA8FF), (0xA9BD, 0xA9BD),
    (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50), (0x10F82, 0x10F85), (0x11070, 0x11070),
    (0x11073, 0x11074), (0x110C2, 0x110C2), (0x111C9, 0x111C9), (0x111CF, 0x111CF), (0x1123E, 0x1123E),
    (0x1133B, 0x1133B), (0x11438, 0x1143F), (0x11442, 0x11444), (0x11446, 0x11446), (0x1145E, 0x1145E),
    (0x1182F, 0x11837), (0x11839, 0x1183A), (0x1193B, 0x1193C), (0x1193E, 0x1193E), (0x11943, 0x11943),
    (0x119D4, 0x119D7), (0x119DA, 0x119DB), (0x119E0, 0x119E0), (0x11A01, 0x11A0A), (0x11A33, 0x11A38),
    (0x11A3B, 0x11A3E), (0x11A47, 0x11A47), (0x11A51, 0x11A56), (0x11A59, 0x11A5B), (0x11A8A, 0x11A96),
    (0x11A98, 0x11A99), (0x11C30, 0x11C36), (0x11C38, 0x11C3D), (0x11C3F, 0x11C3F), (0x11C92, 0x11CA7),
    (0x11CAA, 0x11CB0), (0x11CB2, 0x11CB3), (0x11CB5, 0x11CB6), (0x11D31, 0x11D36), (0x11D3A, 0x11D3A),
    (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D90, 0x11D91), (0x11D95, 0x11D95),
    (0x11D97, 0x11D97), (0x11EF3, 0x11EF4), (0x16F4F, 0x16F4F), (0x16FE4, 0x16FE4), (0x1CF00, 0x1CF2D),
    (0x1CF30, 0x1CF46), (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021), (0x1E023, 0x1E024),
    (0x1E026, 0x1E02A), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF), (0x1E944, 0x1E94A),
)
# A canonical decomposition added after the reference's NFD tables (Dives Akuru vowel sign O).
_NO_DECOMPOSITION_IN_REFERENCE = frozenset("\U00011938")
# Case pairs added in Unicode 15/16 (unassigned in unicodedata 14.0): the reference lowercases them.
_EXTRA_LOWERCASE = {
    0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5,
    0xA7DA: 0xA7DB, 0xA7DC: 0x019B,
    **{cp: cp + 0x20 for cp in range(0x10D50, 0x10D66)},  # Garay
    **{cp: cp + 0x1B for cp in range(0x16EA0, 0x16EB9)},  # Beria Erfe
}


def _in_ranges(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def is_whitespace(ch: str) -> bool:
    """White space for splitting words (Unicode White_Space)."""
    return ch in WHITESPACE


@functools.lru_cache(maxsize=65536)
def is_control(ch: str) -> bool:
    """True for the characters clean_text removes: NUL, U+FFFD, control, format, private use, surrogates.

    Tab, newline and carriage return are white space, not control.
    """
    if ch in "\t\n\r":
        return False
    if ch in "\x00\ufffd":
        return True
    category = unicodedata.category(ch)
    if category == "Cf":
        return not _in_ranges(ord(ch), _FORMAT_NOT_IN_REFERENCE)
    return category in ("Cc", "Co", "Cs")


@functools.lru_cache(maxsize=65536)
def is_punctuation(ch: str) -> bool:
    """ASCII punctuation (which includes $ + < = > ^ ` | ~) or a Unicode punctuation category."""
    if ch in ASCII_PUNCTUATION:
        return True
    cp = ord(ch)
    if _in_ranges(cp, _PUNCTUATION_ONLY_IN_REFERENCE):
        return True
    return unicodedata.category(ch).startswith("P") and not _in_ranges(cp, _PUNCTUATION_NOT_IN_REFERENCE)


def is_chinese_char(ch: str) -> bool:
    """A CJK ideograph (the blocks the reference pads with spaces)."""
    return _in_ranges(ord(ch), _CHINESE_RANGES)


@functools.lru_cache(maxsize=65536)
def is_nonspacing_mark(ch: str) -> bool:
    """Category Mn as the reference sees it: what strip_accents removes after NFD."""
    cp = ord(ch)
    if _in_ranges(cp, _MARKS_ONLY_IN_REFERENCE):
        return True
    return unicodedata.category(ch) == "Mn" and not _in_ranges(cp, _MARKS_NOT_IN_REFERENCE)


def _lower(ch: str) -> str:
    extra = _EXTRA_LOWERCASE.get(ord(ch))
    return chr(extra) if extra is not None else ch.lower()


class NormalizerConfig(tuple):
    """The four switches of the normalizer: (clean_text, handle_chinese_chars, strip_accents, lowercase)."""

    __slots__ = ()

    def __new__(cls, clean_text: bool, handle_chinese_chars: bool, strip_accents: bool, lowercase: bool):
        return super().__new__(cls, (bool(clean_text), bool(handle_chinese_chars), bool(strip_accents),
                                     bool(lowercase)))

    clean_text = property(lambda self: self[0])
    handle_chinese_chars = property(lambda self: self[1])
    strip_accents = property(lambda self: self[2])
    lowercase = property(lambda self: self[3])


@functools.lru_cache(maxsize=262144)
def normalize_char(ch: str, config: NormalizerConfig) -> str:
    """What one input character becomes after the normalizer: "" (removed), or one or more characters.

    >>> normalize_char("É", NormalizerConfig(True, True, True, True))
    'e'
    >>> normalize_char("中", NormalizerConfig(True, True, False, True))
    ' 中 '
    """
    clean_text, handle_chinese_chars, strip_accents, lowercase = config
    if clean_text:
        if is_control(ch):
            return ""
        if ch in WHITESPACE:
            return " "
    out = ch
    if handle_chinese_chars and is_chinese_char(ch):
        out = f" {ch} "
    if strip_accents:
        if out not in _NO_DECOMPOSITION_IN_REFERENCE:
            out = unicodedata.normalize("NFD", out)
        out = "".join(c for c in out if not is_nonspacing_mark(c))
    if lowercase:
        out = "".join(_lower(c) for c in out)
    return out


# --- Whole-alphabet tables for the fast tokenizer's regular expression ----------------------------

# Private use (Co) and surrogates (Cs): whole blocks, classified without a per-character scan.
_BULK_CONTROL_BLOCKS = ((0xD800, 0xDFFF), (0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))


def _scanned_code_points():
    """Code points classified one by one: planes 0-3 and 14 outside the bulk blocks and the CJK
    ideographs (always letters; isolated as whole blocks). Planes 4-13 hold no assigned character,
    and planes 15-16 are private use but for four noncharacters."""
    skipped = sorted(block for block in _BULK_CONTROL_BLOCKS + _CHINESE_RANGES if block[0] < 0x40000)
    cp = 0
    for lo, hi in skipped:
        yield from range(cp, lo)
        cp = max(cp, hi + 1)
    yield from range(cp, 0x40000)
    yield from range(0xE0000, 0xF0000)
    yield from (0xFFFFE, 0xFFFFF, 0x10FFFE, 0x10FFFF)  # noncharacters among the private use planes


@functools.lru_cache(maxsize=16)
def char_class_ranges(config: NormalizerConfig) -> dict:
    """Code-point ranges of each class an input character falls into under `config`.

    Returns {"removed": [...], "space": [...], "isolated": [...]} as sorted lists of (first, last):
      removed  - the character normalizes to nothing (controls with clean_text, marks with strip_accents);
      space    - it normalizes to white space only (splits words);
      isolated - it becomes a word of its own (punctuation, CJK ideographs with handle_chinese_chars).
    Every other character is a word character. Lowercasing never changes a class, and no character
    normalizes to a mix of classes (both checked by tests), so words can be found in the raw text.
    """
    classes = {"removed": [], "space": [], "isolated": []}
    category, decomposition = unicodedata.category, unicodedata.decomposition
    extra = {ord(c) for c in WHITESPACE} | {0xFFFD} | {lo for lo, _ in _PUNCTUATION_ONLY_IN_REFERENCE}
    extra |= {lo for lo, _ in _MARKS_ONLY_IN_REFERENCE}
    for cp in _scanned_code_points():
        # A fast pre-filter (a superset of the characters that are not plain word characters).
        if cp >= 0x80 and cp not in extra:
            cat = category(chr(cp))
            if cat[0] not in "PZ" and cat not in ("Cc", "Cf", "Co", "Cs") and not (
                    config.strip_accents and (cat == "Mn" or decomposition(chr(cp))[:1] not in ("", "<"))):
                continue
        ch = chr(cp)
        out = normalize_char.__wrapped__(ch, config)
        if out == "":
            name = "removed"
        elif all(c in WHITESPACE for c in out):
            name = "space"
        elif len(out) == 1 and is_punctuation.__wrapped__(out):
            name = "isolated"
        else:
            continue
        ranges = classes[name]
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    if config.clean_text:
        classes["removed"].extend([lo, hi] for lo, hi in _BULK_CONTROL_BLOCKS)
    if config.handle_chinese_chars:
        classes["isolated"].extend([lo, hi] for lo, hi in _CHINESE_RANGES)
    return {name: sorted(tuple(r) for r in ranges) for name, ranges in classes.items()}
