"""Does `parallel=True` pay for each numba kernel on this machine? Serial against parallel, 1 and N threads.

    python benchmarks/bench_kernel_threads.py            # 4 rounds of 8 runs per variant, BERT-base shapes

Variants of each loop: compiled without `parallel` ("serial"), and the parallel compilation with
numba.set_num_threads(1) and with all threads. Each round starts once the machine is idle; the table
shows the median over rounds of each round's fastest run. kernels/fast.py uses parallel=True where the
parallel loop on all threads beats the serial one.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from kernel_accuracy import cases  # noqa: E402
from quiet_machine import wait_until_idle  # noqa: E402

from minconvbert.kernels import fast  # noqa: E402

LOOPS = {  # public function -> the compiled loop it runs
    "gelu_forward": fast._GELU_FORWARD, "gelu_backward": fast._GELU_BACKWARD,
    "gelu_new_forward": fast._GELU_NEW_FORWARD, "gelu_new_backward": fast._GELU_NEW_BACKWARD,
    "softmax_forward": fast._SOFTMAX_FORWARD, "softmax_backward": fast._SOFTMAX_BACKWARD,
    "layer_norm_forward": fast._LAYER_NORM_FORWARD, "layer_norm_backward": fast._LAYER_NORM_BACKWARD,
    "span_conv_forward": fast._SPAN_CONV_FORWARD, "span_conv_backward": fast._SPAN_CONV_BACKWARD,
    "depthwise_conv1d_forward": fast._DEPTHWISE_FORWARD, "depthwise_conv1d_backward": fast._DEPTHWISE_BACKWARD,
}  # fmt: skip


def fastest(function, runs: int = 8) -> float:
    function()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main(rounds: int = 4) -> None:
    threads = numba.config.NUMBA_NUM_THREADS
    variants = {function: (njit(parallel=True, cache=False, error_model="numpy")(loop.plain),
                           njit(cache=False, error_model="numpy")(loop.plain)) for function, loop in LOOPS.items()}
    results = {}
    for _ in range(rounds):
        wait_until_idle()
        for name, function, args in cases(np.float32):
            loop = LOOPS[function]
            run = lambda: getattr(fast, function)(*args)  # noqa: E731
            compiled = loop.compiled
            parallel, serial = variants[function]
            columns = ("serial", "parallel, 1 thread", f"parallel, {threads} threads")
            times = results.setdefault(name, {column: [] for column in columns})
            try:
                loop.compiled = serial
                times["serial"].append(fastest(run))
                loop.compiled = parallel
                numba.set_num_threads(1)
                times["parallel, 1 thread"].append(fastest(run))
                numba.set_num_threads(threads)
                times[f"parallel, {threads} threads"].append(fastest(run))
            finally:
                loop.compiled = compiled
                numba.set_num_threads(threads)
    print(f"fastest of 8 runs, median over {rounds} rounds (ms); float32, BERT-base shapes\n")
    columns = list(next(iter(results.values())))
    print("| kernel | " + " | ".join(columns) + " | serial / parallel | fast.py uses |")
    print("|---|" + "---:|" * (len(columns) + 1) + "---|")
    for (name, function, _), times in zip(cases(np.float32), results.values()):
        medians = [statistics.median(times[c]) * 1e3 for c in columns]
        chosen = "parallel" if LOOPS[function].parallel else "serial"
        cells = " | ".join(f"{m:.3f}" for m in medians)
        print(f"| {name} | {cells} | {medians[0] / medians[-1]:.2f} | {chosen} |")


if __name__ == "__main__":
    main()
