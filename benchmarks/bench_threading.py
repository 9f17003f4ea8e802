"""Thread clash between numba's parallel kernels and OpenBLAS: which numba threading layer to use.

    python benchmarks/bench_threading.py               # 4 rounds of each setup, 40 iterations each
    python benchmarks/bench_threading.py --rounds 6

Each setup runs in a fresh interpreter (the threading layer is fixed at the first parallel launch)
that repeats, after a warm-up:
    a parallel kernel (exact GELU, 8x128x3072 float32)      -> "kernel"
    a 1024x768 @ 768x3072 float32 product right after it    -> "matmul after kernel"
    a second identical product right after the first        -> "matmul after matmul"
then, separately, the kernel right after a product          -> "kernel after matmul".
Setups alternate round by round, each started once the machine is idle, so that load from other
processes spreads over all of them; the table shows the median over all iterations of all rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from quiet_machine import wait_until_idle  # noqa: E402

SETUPS = {
    "OpenBLAS alone (no kernel)": {"BENCH_KERNEL": "none", "NUMBA_THREADING_LAYER": "workqueue"},
    "omp (numba's default here)": {"NUMBA_THREADING_LAYER": "omp"},
    "omp + OMP_WAIT_POLICY=passive": {"NUMBA_THREADING_LAYER": "omp", "OMP_WAIT_POLICY": "passive"},
    "workqueue (minconvbert's choice)": {"NUMBA_THREADING_LAYER": "workqueue"},
    "workqueue + OPENBLAS_THREAD_TIMEOUT=4": {"NUMBA_THREADING_LAYER": "workqueue", "OPENBLAS_THREAD_TIMEOUT": "4"},
    "OpenBLAS alone, OPENBLAS_THREAD_TIMEOUT=4": {"BENCH_KERNEL": "none", "NUMBA_THREADING_LAYER": "workqueue",
                                                 "OPENBLAS_THREAD_TIMEOUT": "4"},
}
FIELDS = ("kernel", "matmul after kernel", "matmul after matmul", "kernel after matmul")


def child(iterations: int) -> None:
    """One setup: print the timings (seconds) as JSON."""
    import numba
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from minconvbert.kernels import fast

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 128, 3072)).astype(np.float32)
    a = rng.standard_normal((1024, 768)).astype(np.float32)
    b = rng.standard_normal((768, 3072)).astype(np.float32)
    with_kernel = os.environ.get("BENCH_KERNEL") != "none"
    for _ in range(3):  # warm-up: compile, launch the pools
        fast.gelu_forward(x)
        a @ b
    times = {field: [] for field in FIELDS}
    for _ in range(iterations):
        t0 = time.perf_counter()
        if with_kernel:
            fast.gelu_forward(x)
        t1 = time.perf_counter()
        a @ b
        t2 = time.perf_counter()
        a @ b
        t3 = time.perf_counter()
        times["kernel"].append(t1 - t0)
        times["matmul after kernel"].append(t2 - t1)
        times["matmul after matmul"].append(t3 - t2)
    for _ in range(iterations):
        a @ b
        t0 = time.perf_counter()
        if with_kernel:
            fast.gelu_forward(x)
        times["kernel after matmul"].append(time.perf_counter() - t0)
    if not with_kernel:
        times["kernel"], times["kernel after matmul"] = [], []
    times["layer"] = numba.threading_layer() if with_kernel else "-"
    print(json.dumps(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.iterations)
        return

    collected = {name: {field: [] for field in FIELDS} for name in SETUPS}
    layers = {}
    for _ in range(args.rounds):
        for name, env in SETUPS.items():
            wait_until_idle()
            environment = {k: v for k, v in os.environ.items()
                           if k not in ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER", "OPENBLAS_THREAD_TIMEOUT")}
            environment.update(env)
            result = subprocess.run([sys.executable, __file__, "--child", "--iterations", str(args.iterations)],
                                    capture_output=True, text=True, env=environment, check=True)  # fmt: skip
            times = json.loads(result.stdout)
            layers[name] = times.pop("layer")
            for field in FIELDS:
                collected[name][field].extend(times[field])

    print(f"median ms over {args.rounds} rounds x {args.iterations} iterations; {os.cpu_count()} CPUs\n")
    print("| setup | layer | " + " | ".join(FIELDS) + " |")
    print("|---|---|" + "---:|" * len(FIELDS))
    for name in SETUPS:
        cells = [f"{statistics.median(collected[name][field]) * 1e3:.2f}" if collected[name][field] else "-"
                 for field in FIELDS]  # fmt: skip
        print(f"| {name} | {layers[name]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
