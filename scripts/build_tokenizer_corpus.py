"""Build the tokenizer test corpus: real text from any Python install, plus multilingual stress lines.

    python scripts/build_tokenizer_corpus.py corpus.jsonl            # 10,000 + 2,000 lines
    python scripts/build_tokenizer_corpus.py corpus.jsonl --doc-lines 20000 --stress-lines 5000

1. Real text: the docstrings of Python's standard library (module, class and function docstrings,
   read with `ast`, never imported), one line per docstring line, stripped, deduplicated, in sorted
   file order: deterministic for a given Python version.
2. Stress lines (seeded): short phrases in many scripts, accented and decomposed Latin, Greek capitals
   (final sigma), Turkish dotted I, CJK ideographs (every block the reference pads, and the ones it does
   not), Hangul, emoji with joiners and skin tones, control, format and private-use characters,
   unusual white space, special tokens inside words, and very long words (around the 100-character
   WordPiece limit), mixed with words from part 1.
The output is JSON Lines (one JSON string per line) so that control characters and line separators
inside a line survive.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from minconvbert.data.corpus import docstrings, stdlib_files  # noqa: E402

__all__ = ["docstring_lines", "stress_lines", "build_corpus"]

PHRASES = [
    "Привет, мир! Как дела?", "Съешь же ещё этих мягких французских булок.", "Ελληνικά: ΟΔΟΣ, ΣΟΦΟΣ, σοφός.",
    "שָׁלוֹם עוֹלָם", "مَرْحَبًا بِالْعَالَمِ", "नमस्ते दुनिया, यह एक परीक्षण है।", "こんにちは、世界。カタカナもテスト。",
    "中文分词测试：我们今天去北京。", "안녕하세요 세계, 한국어 문장입니다.", "สวัสดีชาวโลก ภาษาไทย", "Größenmaßstäbe für Straßenbahnen",
    "naïve café façade résumé coöperate", "Ñandú y pingüino en la Antártida", "İstanbul'da ılık bir gün, IĞDIR",
    "Ǆemal ǅuro ǆak", "Ærøskøbing og Œuvre", "Łódź, Gdańsk, Kraków", "Tiếng Việt có dấu: Hà Nội, Đà Nẵng",
    "Հայերեն լեզու", "ქართული ენა", "አማርኛ ቋንቋ", "தமிழ் மொழி", "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ", "ʻŌlelo Hawaiʻi",
    "e\u0301te\u0301 (decomposed), \u212b ångström sign, ﬁne ﬂow ligatures", "ⅫⅣ roman ² ³ ½ ① ㊀",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ！？", "math: ∀x∈ℝ, x² ≥ 0 ∧ ∑ᵢ aᵢ ≤ ∞", "$100 + €20 = ¥?  #tag @user 50%",
    "the [MASK] sat on the [MASK].", "[CLS] already here [SEP] and [PAD][PAD]", "lower [mask] is not special",
    "a[UNK]b [SEP][SEP] [MAS K] [[MASK]]", "emoji 😀😃🤖 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 1️⃣ ❤️", "Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬…æ",
]

_SCRIPTS = {  # inclusive code-point ranges of letters (and marks) to draw pseudo-words from
    "latin1": [(0xC0, 0xFF)], "latin_ext": [(0x100, 0x24F)], "greek": [(0x391, 0x3A9), (0x3B1, 0x3C9)],
    "cyrillic": [(0x410, 0x44F)], "armenian": [(0x531, 0x556)], "hebrew": [(0x5D0, 0x5EA), (0x5B0, 0x5BC)],
    "arabic": [(0x627, 0x64A), (0x64B, 0x652)], "devanagari": [(0x905, 0x939), (0x93E, 0x94D)],
    "bengali": [(0x985, 0x9B9)], "thai": [(0xE01, 0xE3A)], "hangul": [(0xAC00, 0xD7A3)],
    "hiragana": [(0x3041, 0x3096)], "katakana": [(0x30A1, 0x30FA)], "cjk": [(0x4E00, 0x9FFF)],
    "cjk_ext": [(0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2B740, 0x2B81F), (0x2B820, 0x2B91F), (0xF900, 0xFAFF)],
    "ethiopic": [(0x1200, 0x135A)], "georgian": [(0x10D0, 0x10FA)], "combining": [(0x300, 0x36F)],
    "cherokee": [(0x13A0, 0x13F5)], "symbols": [(0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F)],
    "emoji": [(0x1F600, 0x1F64F), (0x1F300, 0x1F5FF), (0x1F900, 0x1F9FF)],
    "newer_unicode": [(0x0898, 0x089F), (0x2E43, 0x2E5D), (0x1CF00, 0x1CF2D), (0x11938, 0x11938)],
}
_ODD_CHARS = (
    [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\x85", "\xa0", "\xad", "\u1680", "\u180e", "\u200b", "\u200c",
     "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202e", "\u202f", "\u205f", "\u2060", "\u3000",
     "\ufeff", "\ufffd", "\ue000", "\U000f0001", "\uffff", "\U000e0041", "\u0890", "\u08e2"]
    + [chr(c) for c in range(0x2000, 0x200B)]
)
_SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\xa0", "", "-", ", ", ". "]


def docstring_lines(limit: int | None = None) -> list[str]:
    """Distinct non-empty docstring lines of the standard library, in sorted file order."""
    lines, seen = [], set()
    for path in stdlib_files():
        for doc in docstrings(path):
            for line in doc.splitlines():
                line = line.strip()
                if line and line not in seen:
                    seen.add(line)
                    lines.append(line)
                    if limit is not None and len(lines) >= limit:
                        return lines
    return lines


def _pseudo_word(rng: random.Random, script: str) -> str:
    ranges = _SCRIPTS[script]
    length = rng.choice([1, 2, 3, 4, 5, 6, 8, 12])
    out = []
    for _ in range(length):
        lo, hi = rng.choice(ranges)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def _long_word(rng: random.Random, words: list[str]) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # ASCII around the 100-character limit
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.choice([99, 100, 101, 150, 400])))
    if kind == 1:  # decomposed accents: 2 characters each before normalization, 1 after stripping
        return "".join(rng.choice("aeiou") + "\u0301" for _ in range(rng.choice([50, 60, 99, 101])))
    if kind == 2:  # glued real words
        return "".join(rng.choice(words).split(" ")[0] for _ in range(rng.randint(5, 30)))
    return rng.choice("ab") * rng.choice([100, 101, 102])


def stress_lines(n: int, words: list[str], seed: int = 0) -> list[str]:
    """`n` seeded lines mixing real words, phrases in many scripts, odd characters and long words."""
    rng = random.Random(seed)
    scripts = sorted(_SCRIPTS)
    lines = list(PHRASES)
    while len(lines) < n:
        parts = []
        for _ in range(rng.randint(1, 14)):
            kind = rng.random()
            if kind < 0.35:
                parts.append(rng.choice(words))
            elif kind < 0.5:
                parts.append(rng.choice(PHRASES))
            elif kind < 0.75:
                parts.append(_pseudo_word(rng, rng.choice(scripts)))
            elif kind < 0.9:
                word = rng.choice(words) if words else "word"
                cut = rng.randint(0, len(word))
                odd = "".join(rng.choice(_ODD_CHARS) for _ in range(rng.randint(1, 3)))
                parts.append(word[:cut] + odd + word[cut:])
            else:
                parts.append(_long_word(rng, words))
        line = ""
        for part in parts:
            line += part + rng.choice(_SEPARATORS)
        lines.append(line.strip(" ") if rng.random() < 0.8 else line)
    return lines[:n]


def build_corpus(doc_lines: int = 10000, stress: int = 2000, seed: int = 0) -> list[str]:
    """The corpus: `doc_lines` docstring lines, then `stress` stress lines."""
    real = docstring_lines(limit=doc_lines)
    vocabulary_words = sorted({w for line in real[:3000] for w in line.split() if w.isalpha()})
    return real + stress_lines(stress, vocabulary_words, seed)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="path of the JSON Lines file to write")
    parser.add_argument("--doc-lines", type=int, default=10000)
    parser.add_argument("--stress-lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    corpus = build_corpus(args.doc_lines, args.stress_lines, args.seed)
    with open(args.output, "w", encoding="utf-8") as f:
        for line in corpus:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(corpus)} lines to {args.output}")


if __name__ == "__main__":
    main()
