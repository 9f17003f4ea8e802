"""Whole-model speed and memory: minconvbert against transformers (PyTorch, CPU) in the same run.

    python benchmarks/bench_model.py            # prints a Markdown table
    python benchmarks/bench_model.py --quick    # fewer repetitions

Both sides get the same weights and inputs; timings alternate between the two frameworks within
each round so that machine noise hits both; each figure is the median over the rounds. Also
measured in the same run: after every round, the float32 matrix-product throughput of NumPy (the
ceiling for a model that is 98% matrix products); and each side's peak memory while running base
8x128 inference (in fresh subprocesses, peak RSS reset after the model is built).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def matmul_gflops(repeats: int = 20) -> float:
    """NumPy float32 throughput on BERT-base-shaped products, (1024, 768) @ (768, 3072) and back."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 768), dtype=np.float32)
    b = rng.standard_normal((768, 3072), dtype=np.float32)
    c = rng.standard_normal((1024, 3072), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        c @ b.T
        times.append(time.perf_counter() - start)
    return 2 * 2 * 1024 * 768 * 3072 / np.median(times) / 1e9


def forward_flops(config, batch: int, seq: int) -> float:
    """Multiply-adds x 2 of one ConvBertModel forward: the dense layers and the attention products."""
    C, I, E, L = config.hidden_size, config.intermediate_size, config.embedding_size, config.num_hidden_layers
    H, D, K, G = config.heads_per_kind, config.attention_head_size, config.conv_kernel_size, config.num_groups
    tokens = batch * seq
    per_token = (3 * C * H * D  # query, key, value
                 + C * K + C * H * D  # separable key convolution (depthwise + pointwise)
                 + H * D * H * K + C * H * D  # conv kernel generator, conv values
                 + H * K * D  # the span convolution
                 + C * C + 2 * C * I // G)  # attention output, feed-forward
    attention = 2 * batch * H * seq * seq * D  # scores and context
    embed = tokens * E * C if E != C else 0
    return 2.0 * (L * (tokens * per_token + attention) + embed)


def build_pair(preset: str, layers: int, task: str = "model"):
    """(ours, reference) with the same random weights."""
    import torch
    import transformers

    import minconvbert

    config = minconvbert.ConvBertConfig.from_preset(preset, num_hidden_layers=layers)
    cls = {"model": "ConvBertModel", "masked_lm": "ConvBertForMaskedLM"}[task]
    torch.manual_seed(0)
    reference = getattr(transformers, cls)(transformers.ConvBertConfig(**{
        k: v for k, v in config.to_dict().items() if k not in ("mask_conv_padding", "model_type")}))
    ours = getattr(minconvbert, cls)(config)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return config, ours, reference


def time_pair(run_ours, run_reference, rounds: int) -> tuple:
    """(our median, reference median, matmul GFLOP/s median, (lowest, highest) per-round ratio).

    Every round times both sides, the one that goes first alternating (whatever the previous step
    leaves behind, spinning threads or a cold cache, falls on each side alike), then NumPy's
    matrix-product throughput: a host whose speed drifts moves the ceiling with the model's figures.
    """
    run_ours(), run_reference()  # warm up (numba compilation, allocator)
    times = {run_ours: [], run_reference: []}
    ceiling = []
    for i in range(rounds):
        for run in (run_ours, run_reference) if i % 2 == 0 else (run_reference, run_ours):
            start = time.perf_counter()
            run()
            times[run].append(time.perf_counter() - start)
        ceiling.append(matmul_gflops(repeats=3))
    ours, reference = times[run_ours], times[run_reference]
    ratios = np.divide(ours, reference)
    return float(np.median(ours)), float(np.median(reference)), float(np.median(ceiling)), (ratios.min(), ratios.max())


def inference_case(preset: str, layers: int, batch: int, seq: int, rounds: int) -> dict:
    import torch

    from minconvbert import no_grad

    config, ours, reference = build_pair(preset, layers)
    ours.eval(), reference.eval()
    ids = np.random.default_rng(0).integers(1, config.vocab_size, (batch, seq))
    torch_ids = torch.tensor(ids)

    def run_ours():
        with no_grad():
            return ours(input_ids=ids).last_hidden_state

    def run_reference():
        with torch.no_grad():
            return reference(input_ids=torch_ids).last_hidden_state

    difference = float(np.abs(run_ours().data - run_reference().numpy()).max())
    t_ours, t_ref, ceiling, spread = time_pair(run_ours, run_reference, rounds)
    return {"case": f"inference {preset} {batch}x{seq}", "ours_s": t_ours, "reference_s": t_ref, "spread": spread,
            "gflops": forward_flops(config, batch, seq) / t_ours / 1e9, "ceiling": ceiling, "max_abs_diff": difference}


def training_case(preset: str, layers: int, batch: int, seq: int, rounds: int) -> dict:
    import torch

    config, ours, reference = build_pair(preset, layers, task="masked_lm")
    ours.train(), reference.train()
    rng = np.random.default_rng(0)
    ids = rng.integers(1, config.vocab_size, (batch, seq))
    labels = np.where(rng.random((batch, seq)) < 0.15, ids, -100)
    torch_ids, torch_labels = torch.tensor(ids), torch.tensor(labels)

    def run_ours():
        ours.zero_grad()
        ours(input_ids=ids, labels=labels).loss.backward()

    def run_reference():
        reference.zero_grad()
        reference(input_ids=torch_ids, labels=torch_labels).loss.backward()

    t_ours, t_ref, ceiling, spread = time_pair(run_ours, run_reference, rounds)
    return {"case": f"training step (MLM, dropout on) {preset} {batch}x{seq}", "ours_s": t_ours, "reference_s": t_ref,
            "spread": spread, "gflops": 3 * forward_flops(config, batch, seq) / t_ours / 1e9, "ceiling": ceiling}


_MEMORY_CHILD = """
import json, sys, numpy as np
sys.path.insert(0, {root!r})
from benchmarks.bench_model import build_pair

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
side, task, preset, layers, batch, seq = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
training = task == "training"
config, ours, reference = build_pair(preset, layers, task="masked_lm" if training else "model")
rng = np.random.default_rng(0)
ids = rng.integers(1, config.vocab_size, (batch, seq))
labels = np.where(rng.random((batch, seq)) < 0.15, ids, -100)
if side == "ours":
    import minconvbert
    model, framework = ours, minconvbert
    del reference
    tensor = lambda a: a
else:
    import torch
    model, framework = reference, torch
    del ours
    tensor = torch.tensor

def run(ids, labels):
    if training:
        model.zero_grad()
        model(input_ids=tensor(ids), labels=tensor(labels)).loss.backward()
    else:
        with framework.no_grad():
            model(input_ids=tensor(ids))

model.train(training)
run(ids[:1, :8], labels[:1, :8])  # a warm-up too small to raise the peak: loads kernels and code paths
model.zero_grad()  # resting: the model alone; the step's gradients count in its peak
import gc; gc.collect()
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
run(ids, labels)
print(json.dumps({{"peak_extra": status("VmHWM") - before}}))
"""


def peak_memory(side: str, task: str, preset: str, layers: int, batch: int, seq: int) -> int:
    """Bytes above the resting RSS that one `task` run ("inference", or "training": an MLM step) needs
    (fresh process, model already built and run once on a tiny batch)."""
    code = _MEMORY_CHILD.format(root=str(ROOT))
    # A fixed mmap threshold makes glibc return every large freed array to the system at once, so the
    # resident size follows what is alive (otherwise memory freed while building the model is reused
    # unseen); the same setting for both sides.
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", code, side, task, preset, str(layers), str(batch), str(seq)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_extra"]


_CATEGORIES = (  # (label, substrings of "file:function" in the profile)
    ("matrix products (BLAS)", ("ops/matmul.py",)),
    ("softmax", ("_softmax_",)),
    ("dynamic convolution", ("_span_conv_",)),
    ("depthwise convolution", ("_depthwise_conv1d_",)),
    ("layer norm", ("_layer_norm_",)),
    ("GELU", ("_gelu_",)),
    ("other NumPy work (adds, copies, embedding, dropout)", ("{method", "{built-in method numpy", "ops/")),
)


def profile_breakdown(preset: str, layers: int, batch: int, seq: int) -> list:
    """[(category, share of the time)] for our base inference, from cProfile's own-time per function."""
    import cProfile
    import pstats

    from minconvbert import no_grad

    config, ours, _ = build_pair(preset, layers)
    ours.eval()
    ids = np.random.default_rng(0).integers(1, config.vocab_size, (batch, seq))
    with no_grad():
        ours(input_ids=ids)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            ours(input_ids=ids)
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    totals = dict.fromkeys([label for label, _ in _CATEGORIES] + ["Python overhead (graph, wrappers, checks)"], 0.0)
    for (file, _, function), (_, _, own, _, _) in stats.items():
        where = f"{file}:{function}"
        for label, keys in _CATEGORIES:
            if any(key in where for key in keys):
                totals[label] += own
                break
        else:
            totals["Python overhead (graph, wrappers, checks)"] += own
    whole = sum(totals.values())
    return [(label, value / whole) for label, value in totals.items()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--layers", type=int, default=12, help="layers of the base/small models (default 12)")
    args = parser.parse_args(argv)
    import torch

    import minconvbert

    rounds = 3 if args.quick else 7
    rows = [
        inference_case("conv-bert-base", args.layers, 1, 128, rounds),
        inference_case("conv-bert-base", args.layers, 8, 128, rounds),
        inference_case("conv-bert-base", args.layers, 1, 512, rounds),
        inference_case("conv-bert-small", args.layers, 8, 128, rounds),
        training_case("conv-bert-small", args.layers, 8, 128, rounds),
        training_case("conv-bert-base", args.layers, 8, 128, rounds),
    ]
    memory = {(task, preset): {side: peak_memory(side, task, preset, args.layers, 8, 128) for side in ("ours", "reference")}
              for task, preset in (("inference", "conv-bert-base"), ("training", "conv-bert-small"))}
    print(f"minconvbert backend {minconvbert.get_backend()}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} cores; {args.layers} layers; median of {rounds} "
          f"rounds, the two frameworks alternating (and which goes first).\n")
    print("The matmul ceiling is NumPy's float32 throughput on BERT-base-shaped products, (1024, 768) @ (768, 3072) "
          "and back, measured after every round of each case (median).\n")
    print("| case | minconvbert | transformers | ratio (ours / theirs) | rounds' ratios | "
          "minconvbert GFLOP/s (% of the matmul ceiling) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        low, high = row["spread"]
        print(f"| {row['case']} | {row['ours_s'] * 1000:.0f} ms | {row['reference_s'] * 1000:.0f} ms | "
              f"{row['ours_s'] / row['reference_s']:.2f} | {low:.2f}-{high:.2f} | {row['gflops']:.0f} of {row['ceiling']:.0f} "
              f"({100 * row['gflops'] / row['ceiling']:.0f}%) |")
    for (task, preset), peaks in memory.items():
        print(f"| peak memory of {preset} 8x128 {task} (above resting) | {peaks['ours'] / 2**20:.0f} MiB | "
              f"{peaks['reference'] / 2**20:.0f} MiB | {peaks['ours'] / peaks['reference']:.2f} | | |")
    diffs = [r["max_abs_diff"] for r in rows if "max_abs_diff" in r]
    print(f"\nLargest difference between the two frameworks' outputs in these runs: {max(diffs):.1e} (float32).")
    print(f"\nWhere minconvbert's time goes (base {args.layers} layers, 8x128 inference, cProfile own time):\n")
    print("| part | share |")
    print("|---|---|")
    for label, share in profile_breakdown("conv-bert-base", args.layers, 8, 128):
        print(f"| {label} | {100 * share:.0f}% |")


if __name__ == "__main__":
    main()
