"""Issue 16, bug 1: a run of white space, NULs, removed characters or lone surrogates that no word
follows made the fast tokenizer quadratic ('hello' + 10k spaces: 5 s; 100k: > 120 s).

The check runs in a subprocess under a hard timeout that is huge relative to the fixed code: each
input below has 200,000 characters, which the fixed tokenizers handle in well under a second each
(benchmarks/bench_tokenizer_scaling.py), while the quadratic code needed over half an hour for one.
No time is asserted beyond "finishes at all": a loaded machine cannot turn a pass into a failure.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from minconvbert.data import vocab_file
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
N = 200_000
TIMEOUT = 120  # seconds for the whole subprocess; the fixed code needs ~2-5 s including start-up

RUNS = {
    "trailing spaces": "'hello' + ' ' * N",
    "only spaces": "' ' * N",
    "NULs after a word and a space": "'hello ' + '\\x00' * N",
    "zero-width spaces (removed format characters)": "'h\\u00e9llo ' + '\\u200b' * N",
    "lone surrogates": "'\\ud800' * N",
    "mixed removed and white space": "'x ' + '\\x00 \\u200b\\t\\ufeff' * (N // 5)",
}


def test_runs_of_gap_characters_take_linear_time():
    script = textwrap.dedent(f"""
        from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
        N = {N}
        fast = ConvBertTokenizerFast({str(vocab_file("bert-base-uncased"))!r})
        slow = ConvBertTokenizer({str(vocab_file("bert-base-uncased"))!r})
        for text in [{", ".join(RUNS.values())}]:
            assert fast(text, return_offsets_mapping=True) == slow(text, return_offsets_mapping=True)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_trailing_gaps_tokenize_as_the_readable_tokenizer():
    """The pattern's end-of-text alternative changes no id or offset (small inputs, every tokenizer config)."""
    path = vocab_file("bert-base-uncased")
    texts = ["hello  ", "  ", "", "\x00", "hello\x00 \u200b", "a [MASK]   ", "[MASK]\t\t", "héllo \ud800\ud800",
             "x \u3000\u3000", "end.\n\n\n", "\u200b\u200bword\u200b"]
    for kwargs in ({}, {"do_lower_case": False}, {"do_basic_tokenize": False}, {"clean_text": False}):
        fast, slow = ConvBertTokenizerFast(path, **kwargs), ConvBertTokenizer(path, **kwargs)
        for text in texts:
            assert fast(text, return_offsets_mapping=True) == slow(text, return_offsets_mapping=True), (kwargs, text)
        assert fast(texts, return_offsets_mapping=True) == slow(texts, return_offsets_mapping=True), kwargs
