"""Cold start: how long the demo's first forward waits for numba, with an empty kernel cache and a warm one.

    python benchmarks/bench_cold_start.py            # 3 rounds

Each round runs fresh processes with NUMBA_CACHE_DIR pointing at a new empty directory ("cold",
what a learner's first run after installing does) and then at the same directory again ("warm",
every later run): the first process times the steps of the demo's start (import, loading the
embedded nano model, the first fill-mask forward, a second one), the second runs the whole demo
(`python -m minconvbert demo`, with its own cache: it also compiles the float64 and backward
kernels of its gradient check). Medians over rounds, wall clock, each round started on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quiet_machine import wait_until_idle  # noqa: E402

STEPS = ("import minconvbert", "load the nano model", "first forward (fill-mask)", "second forward")

_CHILD = """
import json, sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
import minconvbert
from minconvbert.demo import SENTENCES
from minconvbert.inference import fill_mask
times = [time.perf_counter() - start]
model = minconvbert.ConvBertForMaskedLM.from_pretrained("minconvbert/nano")
tokenizer = minconvbert.ConvBertTokenizerFast.from_pretrained("minconvbert/nano")
times.append(time.perf_counter() - start - sum(times))
for sentence in SENTENCES[:2]:
    t = time.perf_counter()
    fill_mask(model, tokenizer, sentence, top_k=5)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def run(cache: str, *command) -> tuple:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    result = subprocess.run(list(command), capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{result.stderr[-2000:]}")
    return time.perf_counter() - start, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    steps = {state: {step: [] for step in (*STEPS, "whole demo")} for state in ("cold", "warm")}
    notices = {}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as demo_cache, \
                tempfile.TemporaryDirectory() as out:  # fmt: skip
            for state in ("cold", "warm"):  # warm: the caches the cold runs filled
                wait_until_idle()
                _, result = run(cache, sys.executable, "-c", _CHILD.format(root=str(ROOT)))
                for step, seconds in zip(STEPS, json.loads(result.stdout.strip().splitlines()[-1])):
                    steps[state][step].append(seconds)
                notices[state] = [line for line in result.stderr.splitlines() if "compiling" in line]
                wait_until_idle()
                figure = str(Path(out) / "heads.png")
                seconds, _ = run(demo_cache, sys.executable, "-m", "minconvbert", "demo", "--figure", figure)
                steps[state]["whole demo"].append(seconds)
    print(f"wall clock, median of {args.rounds} rounds (cold: empty NUMBA_CACHE_DIR; warm: the same cache again)\n")
    print("| step | cold | warm |")
    print("|---|---:|---:|")
    for step in steps["cold"]:
        cold, warm = (statistics.median(steps[state][step]) for state in ("cold", "warm"))
        print(f"| {step} | {cold:.2f} s | {warm:.2f} s |")
    print(f"\nWhat a cold start printed: {notices['cold'] or 'nothing'}; a warm one: {notices['warm'] or 'nothing'}.")


if __name__ == "__main__":
    main()
