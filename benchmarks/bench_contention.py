"""A training step beside a busy neighbour: how much slower does it get, minconvbert against transformers + torch?

    python benchmarks/bench_contention.py            # 5 rounds of 6 steps per case
    python benchmarks/bench_contention.py --quick    # 3 rounds of 4 steps

The step: a nano-sized ConvBertForMaskedLM (hidden 256, 4 layers, 4 heads, vocabulary 8000), batch
8 x 128, dropout on, forward + backward. Each side runs in its own fresh process, alone and then
beside one CPU-bound neighbour (a process spinning a pure-Python loop, started by this script). A
round runs every case once, in turns, after waiting for the machine to be idle, so other load on
the machine spreads over all cases; the table gives the median over rounds of each run's median step
(wall clock, what a learner waits for) and the range over rounds.

Targets (issue 13): beside the neighbour minconvbert takes at most 2.5x its idle time, and no longer
than torch beside the same neighbour.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quiet_machine import load, wait_until_idle  # noqa: E402

BATCH, SEQ, VOCAB = 8, 128, 8000
SIDES = {"minconvbert": "ours", "transformers + torch": "torch"}
NEIGHBOUR = "import time\nend = time.monotonic() + 1800\nwhile time.monotonic() < end:\n    pass\n"


def child(side: str, steps: int) -> None:
    """Build one side's model, warm it up, time `steps` training steps; print the times as JSON."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from minconvbert.train.recipes import nano_config

    config = nano_config(VOCAB)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, VOCAB, (BATCH, SEQ))
    labels = np.where(rng.random((BATCH, SEQ)) < 0.15, ids, -100)
    if side == "ours":
        import minconvbert

        model = minconvbert.ConvBertForMaskedLM(config, rng=0).train()

        def step():
            model.zero_grad()
            model(input_ids=ids, labels=labels).loss.backward()
    else:
        import torch
        import transformers

        torch.manual_seed(0)
        model = transformers.ConvBertForMaskedLM(transformers.ConvBertConfig(**{
            k: v for k, v in config.to_dict().items() if k not in ("mask_conv_padding", "model_type")})).train()
        torch_ids, torch_labels = torch.tensor(ids), torch.tensor(labels)

        def step():
            model.zero_grad()
            model(input_ids=torch_ids, labels=torch_labels).loss.backward()

    step(), step()  # warm up: kernels loaded, allocator primed
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps(times))


def run_case(side: str, busy: bool, steps: int) -> float:
    """Median step time of one fresh process of `side`, alone or beside a spinning neighbour."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TOKENIZERS_PARALLELISM": "false"}
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if busy else None
    try:
        if busy:
            time.sleep(0.5)  # let the neighbour reach full speed
        result = subprocess.run([sys.executable, __file__, "--child", side, "--steps", str(steps)],
                                capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    if result.returncode != 0:
        raise RuntimeError(f"{side} child failed:\n{result.stderr[-2000:]}")
    return statistics.median(json.loads(result.stdout.strip().splitlines()[-1]))


def spread(values: list) -> str:
    return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 4 steps")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--child", choices=sorted(SIDES.values()), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 5)
    steps = args.steps or (4 if args.quick else 6)
    if args.child:
        child(args.child, steps)
        return

    times = {(side, busy): [] for side in SIDES.values() for busy in (False, True)}
    loads = []  # the load averages as each round starts: other work on the machine, to read beside the times
    for _ in range(rounds):
        loads.append(load())
        for case in times:
            wait_until_idle()
            times[case].append(run_case(*case, steps))
    median = {case: statistics.median(values) for case, values in times.items()}
    import minconvbert

    print(f"nano-sized ConvBertForMaskedLM (hidden 256, 4 layers), batch {BATCH}x{SEQ}, training step; "
          f"{os.cpu_count()} cores, minconvbert on {minconvbert.get_num_threads()} threads; median over {rounds} "
          f"rounds of each run's median of {steps} steps (range over rounds in brackets).\n")  # fmt: skip
    print("| | alone | beside one busy process | slowdown (beside / alone) |")
    print("|---|---|---|---|")
    for name, side in SIDES.items():
        alone, busy = median[(side, False)], median[(side, True)]
        ratios = [b / a for a, b in zip(times[(side, False)], times[(side, True)])]
        print(f"| {name} | {alone * 1000:.0f} ms ({spread(times[(side, False)])}) | {busy * 1000:.0f} ms "
              f"({spread(times[(side, True)])}) | {busy / alone:.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |")
    ours_vs_torch = [o / t for o, t in zip(times[("ours", True)], times[("torch", True)])]
    print(f"\nBeside the busy process, minconvbert / torch: {median[('ours', True)] / median[('torch', True)]:.2f} "
          f"(per round {min(ours_vs_torch):.2f}-{max(ours_vs_torch):.2f}); alone: "
          f"{median[('ours', False)] / median[('torch', False)]:.2f}. Targets: slowdown <= 2.5x, beside-ratio <= 1.")
    print(f"\nLoad averages (1, 5, 15 min) as each round started: {'; '.join(loads)}.")


if __name__ == "__main__":
    main()
