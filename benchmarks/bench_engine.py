"""Engine overhead: one training step of a small MLP in minconvbert and in PyTorch, same shapes, same run.

The model is deliberately tiny (batch 16, widths 32-64) so that the time is per-operation
bookkeeping, not arithmetic:

    x (16, 32) -> Linear (-> 64) -> [x + GELU(LayerNorm(Linear(x)))] x layers -> Linear (-> 10) -> cross-entropy

One step = forward + backward + a plain SGD update (p -= lr * grad, then the gradients are reset).
Both frameworks start from the same weights; the script checks that their losses agree, then
times many steps of each (interleaved in rounds, so that noise from other processes on the
machine hits both alike) and prints the medians (and 10th percentiles) and the ratio
minconvbert / torch. With 12 layers a step is 51 recorded operations forward, as many backward
and 52 parameter updates.

Each step is timed in CPU time of this process (`--clock cpu`, the default): on a shared
machine, wall-clock time also counts the moments the process waits for a core, which swings
both frameworks' figures by 2x between runs. `--clock wall` times with wall-clock time instead.

    python benchmarks/bench_engine.py                        # 12 layers, 100 rounds x 5 steps per framework
    python benchmarks/bench_engine.py --layers 4 --profile   # also cProfile minconvbert's step

PyTorch runs with one intra-op thread (`torch.set_num_threads(1)`): on arrays this small, threads
only add overhead, and NumPy's elementwise code is single-threaded too.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import minconvbert as mcb  # noqa: E402
from minconvbert import functional as F  # noqa: E402
from minconvbert import nn  # noqa: E402

BATCH, IN_FEATURES, HIDDEN, CLASSES = 16, 32, 64, 10


class MLP(nn.Module):
    """An input projection, residual blocks x + GELU(LayerNorm(Linear(x))), a Linear classifier."""

    def __init__(self, layers: int, rng: np.random.Generator):
        super().__init__()
        self.project = nn.Linear(IN_FEATURES, HIDDEN, rng=rng)
        self.linears = nn.ModuleList(nn.Linear(HIDDEN, HIDDEN, rng=rng) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(HIDDEN) for _ in range(layers))
        self.classifier = nn.Linear(HIDDEN, CLASSES, rng=rng)

    def forward(self, x):
        x = self.project(x)  # (B, HIDDEN)
        for linear, norm in zip(self.linears, self.norms):
            x = x + F.gelu(norm(linear(x)))  # (B, HIDDEN)
        return self.classifier(x)  # (B, CLASSES)


def minconvbert_step(model: MLP, params: list, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    with mcb.no_grad():
        for p in params:
            p.data -= lr * p.grad
            p.grad = None
    return loss.item()


def build_torch(model: MLP, torch):
    """The same MLP in PyTorch (same parameter names), with minconvbert's initial weights copied in."""
    tnn = torch.nn

    class TorchMLP(tnn.Module):
        def __init__(self, layers: int):
            super().__init__()
            self.project = tnn.Linear(IN_FEATURES, HIDDEN)
            self.linears = tnn.ModuleList(tnn.Linear(HIDDEN, HIDDEN) for _ in range(layers))
            self.norms = tnn.ModuleList(tnn.LayerNorm(HIDDEN) for _ in range(layers))
            self.classifier = tnn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            x = self.project(x)
            for linear, norm in zip(self.linears, self.norms):
                x = x + tnn.functional.gelu(norm(linear(x)))
            return self.classifier(x)

    net = TorchMLP(len(model.linears))
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net


def torch_step(net, params: list, x, y, lr: float, torch) -> float:
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


CLOCKS = {"cpu": time.process_time_ns, "wall": time.perf_counter_ns}


def time_steps(step, steps: int, clock) -> list:
    """The time of each of `steps` calls of `step()`, in microseconds."""
    times = []
    for _ in range(steps):
        start = clock()
        step()
        times.append((clock() - start) / 1e3)
    return times


def count_ops(model: MLP, x: np.ndarray, y: np.ndarray) -> int:
    """Number of Function nodes one forward pass records (each also runs once in backward)."""
    loss = F.cross_entropy(model(x), y)
    seen, stack = set(), [loss]
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t._ctx) in seen:
            continue
        seen.add(id(t._ctx))
        stack.extend(t._ctx.parents)
    return len(seen)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=100, help="rounds, each timing both frameworks")
    parser.add_argument("--steps", type=int, default=5, help="steps timed per framework per round")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall clock")
    parser.add_argument("--backend", default=None, help='kernel backend for minconvbert ("numpy" or "numba")')
    parser.add_argument("--profile", action="store_true", help="cProfile 200 minconvbert steps and print the top")
    args = parser.parse_args(argv)
    if args.backend:
        mcb.set_default_backend(args.backend)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, IN_FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    lr = 1e-3
    model = MLP(args.layers, rng)
    params = list(model.parameters())
    print(f"MLP: batch {BATCH}, {IN_FEATURES} -> {HIDDEN} x {args.layers} layers -> {CLASSES}; "
          f"{model.num_parameters()} parameters; {count_ops(model, x, y)} ops per forward "
          f"(+ as many backward steps + {len(params)} updates); backend {mcb.get_backend()}")

    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: timing minconvbert only")

    if torch is not None:
        torch.set_num_threads(1)
        net = build_torch(model, torch)
        torch_params = list(net.parameters())
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        ours, theirs = minconvbert_step(model, params, x, y, lr), torch_step(net, torch_params, tx, ty, lr, torch)
        if not np.isclose(ours, theirs, rtol=1e-4):
            raise SystemExit(f"the two models disagree: loss {ours} (minconvbert) vs {theirs} (torch)")
        print(f"first-step loss: minconvbert {ours:.6f}, torch {theirs:.6f}")

    for _ in range(20):  # warm up (caches, lazy imports, allocator)
        minconvbert_step(model, params, x, y, lr)
        if torch is not None:
            torch_step(net, torch_params, tx, ty, lr, torch)

    ours_us, theirs_us = [], []
    for _ in range(args.rounds):
        ours_us += time_steps(lambda: minconvbert_step(model, params, x, y, lr), args.steps, CLOCKS[args.clock])
        if torch is not None:
            theirs_us += time_steps(lambda: torch_step(net, torch_params, tx, ty, lr, torch), args.steps,
                                    CLOCKS[args.clock])
    how = f"{args.clock} time; median and 10th percentile of {args.rounds} rounds x {args.steps} steps"
    ours_median, ours_p10 = statistics.median(ours_us), np.percentile(ours_us, 10)
    print(f"minconvbert: {ours_median:8.1f} us per step (p10 {ours_p10:7.1f}) ({how})")
    if torch is not None:
        theirs_median, theirs_p10 = statistics.median(theirs_us), np.percentile(theirs_us, 10)
        print(f"torch      : {theirs_median:8.1f} us per step (p10 {theirs_p10:7.1f})")
        print(f"ratio minconvbert / torch: {ours_median / theirs_median:.2f} (p10: {ours_p10 / theirs_p10:.2f})")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            minconvbert_step(model, params, x, y, lr)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
