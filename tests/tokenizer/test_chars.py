"""Every code point is normalized and classified like the reference (the tables' exceptions included)."""

import unicodedata

import pytest

from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.chars import NormalizerConfig, char_class_ranges, is_punctuation, normalize_char, WHITESPACE

# Planes 0-3 and 14 hold every assigned character; 15-16 are private use (a sample of them is enough).
CODE_POINTS = [cp for cp in list(range(0x40000)) + list(range(0xE0000, 0xF0000)) + list(range(0xFFF00, 0x100000))
               + list(range(0x10FF00, 0x110000)) if not 0xD800 <= cp <= 0xDFFF]
CONFIGS = [(True, True, True, True), (True, True, False, True), (True, True, False, False),
           (False, False, True, False), (True, False, True, True)]


def test_planes_4_to_13_hold_no_assigned_character():
    for cp in range(0x40000, 0xE0000, 97):
        assert unicodedata.category(chr(cp)) == "Cn"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "clean%d-cjk%d-strip%d-lower%d" % c)
def test_every_code_point_matches_reference(config):
    normalizers = pytest.importorskip("tokenizers.normalizers")
    pre_tokenizers = pytest.importorskip("tokenizers.pre_tokenizers")
    clean, chinese, strip, lower = config
    ref_norm = normalizers.BertNormalizer(clean_text=clean, handle_chinese_chars=chinese, strip_accents=strip,
                                          lowercase=lower)
    ref_split = pre_tokenizers.BertPreTokenizer()
    ours = BasicTokenizer(do_lower_case=lower, strip_accents=strip, tokenize_chinese_chars=chinese, clean_text=clean)
    cfg = NormalizerConfig(*config)
    for i in range(0, len(CODE_POINTS), 4096):
        # "a" + c + "b": each character between two letters, so both how it normalizes and whether it
        # splits a word show; a space separates the probes (no canonical reordering across them)
        text = " ".join("a" + chr(cp) + "b" for cp in CODE_POINTS[i:i + 4096])
        expected = ref_norm.normalize_str(text)
        got = "".join(normalize_char(c, cfg) for c in text)
        if got != expected:
            bad = next(cp for cp in CODE_POINTS[i:i + 4096]
                       if ref_norm.normalize_str(chr(cp)) != normalize_char(chr(cp), cfg))
            pytest.fail(f"U+{bad:04X} normalizes to {normalize_char(chr(bad), cfg)!r}, "
                        f"reference {ref_norm.normalize_str(chr(bad))!r}")
        assert ours.tokenize(text) == [w for w, _ in ref_split.pre_tokenize_str(expected)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "clean%d-cjk%d-strip%d-lower%d" % c)
def test_class_ranges_agree_with_per_character_normalization(config):
    """The fast tokenizer finds words in the raw text with these classes: check them against normalize_char."""
    cfg = NormalizerConfig(*config)
    ranges = char_class_ranges(cfg)
    classes = {}
    for name, spans in ranges.items():
        for lo, hi in spans:
            for cp in range(lo, hi + 1):
                assert cp not in classes, f"U+{cp:04X} in two classes"
                classes[cp] = name
    for cp in CODE_POINTS:
        out = normalize_char(chr(cp), cfg)
        name = classes.get(cp, "word")
        if name == "removed":
            assert out == ""
        elif name == "space":
            assert out and all(c in WHITESPACE for c in out)
        elif name == "isolated":
            core = out.strip(" ")
            assert len(core) == 1 and " " not in core and (core != out or is_punctuation(core)), hex(cp)
        else:  # a word character normalizes to word characters only: no space, no punctuation
            assert out and not any(c in WHITESPACE or is_punctuation(c) for c in out), hex(cp)
