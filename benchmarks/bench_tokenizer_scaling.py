"""Time against input length, 10k to 1M characters: both tokenizers stay linear on any input.

    python benchmarks/bench_tokenizer_scaling.py              # 10k, 100k, 1M characters
    python benchmarks/bench_tokenizer_scaling.py --max 100000

Issue 16, bug 1: a run of white space, NULs, removed characters or lone surrogates that no word
follows made the fast tokenizer quadratic (10k spaces: 5 s, 100k: > 120 s). Each input kind is timed
at every length for the readable and the fast tokenizer (a new fast instance per kind, so its word
cache starts cold) and, where it can take the text, the `tokenizers` library (Rust, one thread; it
refuses lone surrogates). Each timing is the best of --repeat runs (one run at 1M characters). The
last column is how much longer the input ten times shorter took: about 10x for linear code (more
when the text outgrows the CPU caches), 100x for quadratic code.
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers is imported
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minconvbert.data import vocab_file  # noqa: E402
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog; naïve cafés, tokenization! 東京 "
KINDS = {
    "prose": lambda n: (SENTENCE * (n // len(SENTENCE) + 1))[:n],
    "word + spaces": lambda n: "hello" + " " * (n - 5),
    "word + NULs": lambda n: "hello " + "\x00" * (n - 6),
    "word + zero-width spaces": lambda n: "héllo " + "\u200b" * (n - 6),
    "lone surrogates": lambda n: "\ud800" * n,
}


def _seconds(fn, text, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000, help="longest input (characters)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing below 1M characters")
    args = parser.parse_args(argv)
    lengths = [n for n in (10_000, 100_000, 1_000_000) if n <= args.max]
    path = str(vocab_file("bert-base-uncased"))
    try:
        import tokenizers

        rust = tokenizers.BertWordPieceTokenizer(path, lowercase=True)
    except ImportError:
        rust = None
        print("(the tokenizers library is not installed: its column is left out)")

    slow = ConvBertTokenizer(path)
    print(f"{'input':26s} {'chars':>9s} {'tokenizer':>10s} {'seconds':>9s} {'us/char':>8s} {'vs n/10':>8s}")
    for kind, make in KINDS.items():
        fast = ConvBertTokenizerFast(path)  # a cold word cache for every kind
        runs = {"readable": lambda t: slow(t, return_offsets_mapping=True),
                "fast": lambda t: fast(t, return_offsets_mapping=True)}
        if rust is not None and kind != "lone surrogates":
            runs["tokenizers"] = rust.encode
        previous = {}
        for n in lengths:
            text = make(n)
            for name, fn in runs.items():
                seconds = _seconds(fn, text, 1 if n >= 1_000_000 else args.repeat)
                growth = f"{seconds / previous[name]:7.1f}x" if name in previous else f"{'':8s}"
                previous[name] = seconds
                print(f"{kind:26s} {n:9,d} {name:>10s} {seconds:9.3f} {seconds / n * 1e6:8.2f} {growth}")
    print("\n'vs n/10': time relative to the input ten times shorter (linear: ~10x; quadratic: ~100x).")


if __name__ == "__main__":
    main()
