"""Does splitting a numba kernel across threads pay on this machine, and from what size on?

    python benchmarks/bench_kernel_threads.py             # 4 rounds, fastest of 8 runs each

1. Each kernel at BERT-base shapes (float32) on one thread and on all of minconvbert's threads.
2. GELU, layer norm and softmax on (n / 768, 768) float32 arrays, n from 16,384 to 1,048,576: on one
   thread, and cut into 2 and into 8 pieces on all threads (kernels/loops.py's PIECE decides the cut;
   here it is forced). Where the split wins is where PIECE should put the limit.
Each round starts once the machine is idle; the tables give the median over rounds of each round's
fastest run, in ms.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from kernel_accuracy import cases  # noqa: E402
from quiet_machine import wait_until_idle  # noqa: E402

from minconvbert import threads  # noqa: E402
from minconvbert.kernels import fast, loops  # noqa: E402

SIZES = (16_384, 32_768, 65_536, 131_072, 262_144, 1_048_576)


def fastest(function, runs: int = 8) -> float:
    function()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def timed(function, count: int, piece: float) -> float:
    saved_threads, saved_piece = threads.get_num_threads(), loops.PIECE
    threads.set_num_threads(count)
    loops.PIECE = piece
    try:
        return fastest(function)
    finally:
        threads.set_num_threads(saved_threads)
        loops.PIECE = saved_piece


def size_cases(n: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n // 768, 768), dtype=np.float32)
    weight, bias = np.ones(768, np.float32), np.zeros(768, np.float32)
    return {"GELU": lambda: fast.gelu_forward(x), "layer norm": lambda: fast.layer_norm_forward(x, weight, bias, 1e-5),
            "softmax": lambda: fast.softmax_forward(x)}  # fmt: skip


def main(rounds: int = 4) -> None:
    count = threads.get_num_threads()
    shapes, sizes = {}, {}
    for _ in range(rounds):
        wait_until_idle()
        for name, function, args in cases(np.float32):
            run = lambda: getattr(fast, function)(*args)  # noqa: E731
            row = shapes.setdefault(name, {"1": [], "all": []})
            row["1"].append(timed(run, 1, loops.PIECE))
            row["all"].append(timed(run, count, loops.PIECE))
        for n in SIZES:
            for name, run in size_cases(n).items():
                row = sizes.setdefault((name, n), {"1": [], "2": [], "8": []})
                row["1"].append(timed(run, 1, n))
                row["2"].append(timed(run, count, n / 2))
                row["8"].append(timed(run, count, n / 8))

    def ms(values):
        return statistics.median(values) * 1e3

    print(f"float32, BERT-base shapes; fastest of 8 runs, median over {rounds} rounds (ms); {count} threads\n")
    print(f"| kernel | 1 thread | {count} threads | speed-up |")
    print("|---|---:|---:|---:|")
    for name, row in shapes.items():
        print(f"| {name} | {ms(row['1']):.3f} | {ms(row['all']):.3f} | {ms(row['1']) / ms(row['all']):.2f} |")
    print(f"\n(n / 768, 768) float32, ms: 1 thread / 2 pieces / 8 pieces on {count} threads "
          f"(kernels/loops.py splits from 2 x PIECE = {2 * loops.PIECE:,} elements)\n")
    names = list(size_cases(SIZES[0]))
    print("| elements n | " + " | ".join(names) + " |")
    print("|---:|" + "---|" * len(names))
    for n in SIZES:
        cells = [" / ".join(f"{ms(sizes[(name, n)][k]):.3f}" for k in ("1", "2", "8")) for name in names]
        print(f"| {n:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
