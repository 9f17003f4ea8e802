"""Load time and peak memory of minconvbert's readers against the official ones: safetensors against
the safetensors library, pytorch_model.bin against `torch.load(weights_only=True)`.

    python benchmarks/bench_io.py                 # a conv-bert-base-sized file (~440 MB), 3 runs each
    python benchmarks/bench_io.py --runs 5 --keep /tmp/base.safetensors
    python benchmarks/bench_io.py --format bin    # the same tensors in pytorch_model.bin (needs torch)

The file holds float32 tensors with conv-bert-base's names and shapes (random values). Each load
runs in a fresh subprocess, so that its peak RSS (VmHWM on Linux, else resource.getrusage) belongs to
that load alone; the baseline RSS after imports is subtracted. Every loader is then made to touch every byte
(a sum over each array), because a memory-mapped loader that is never read costs nothing and would
flatter itself. Reported as ratios against `safetensors.numpy.load_file` in the same run; absolute
times on a shared machine are noisy, ratios less so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def convbert_base_shapes(vocab_size=30522, hidden=768, layers=12, heads=12, head_ratio=2, kernel=9,
                         intermediate=3072, max_positions=512, type_vocab=2) -> dict[str, tuple[int, ...]]:
    """{name: shape} of a ConvBertModel state dict with conv-bert-base's configuration."""
    new_heads = heads // head_ratio
    all_head = new_heads * (hidden // new_heads // 2)  # 384 for the base size
    shapes = {
        "embeddings.word_embeddings.weight": (vocab_size, hidden),
        "embeddings.position_embeddings.weight": (max_positions, hidden),
        "embeddings.token_type_embeddings.weight": (type_vocab, hidden),
        "embeddings.LayerNorm.weight": (hidden,),
        "embeddings.LayerNorm.bias": (hidden,),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        for proj in ("query", "key", "value", "conv_out_layer"):
            shapes[a + proj + ".weight"] = (all_head, hidden)
            shapes[a + proj + ".bias"] = (all_head,)
        shapes[a + "key_conv_attn_layer.depthwise.weight"] = (hidden, 1, kernel)
        shapes[a + "key_conv_attn_layer.pointwise.weight"] = (all_head, hidden, 1)
        shapes[a + "key_conv_attn_layer.bias"] = (all_head, 1)
        shapes[a + "conv_kernel_layer.weight"] = (new_heads * kernel, all_head)
        shapes[a + "conv_kernel_layer.bias"] = (new_heads * kernel,)
        shapes[p + "attention.output.dense.weight"] = (hidden, hidden)
        shapes[p + "attention.output.dense.bias"] = (hidden,)
        shapes[p + "attention.output.LayerNorm.weight"] = (hidden,)
        shapes[p + "attention.output.LayerNorm.bias"] = (hidden,)
        shapes[p + "intermediate.dense.weight"] = (intermediate, hidden)
        shapes[p + "intermediate.dense.bias"] = (intermediate,)
        shapes[p + "output.dense.weight"] = (hidden, intermediate)
        shapes[p + "output.dense.bias"] = (hidden,)
        shapes[p + "output.LayerNorm.weight"] = (hidden,)
        shapes[p + "output.LayerNorm.bias"] = (hidden,)
    return shapes


def write_convbert_base_file(path, seed=0, **sizes) -> int:
    """Write random conv-bert-base-shaped float32 weights to `path` with our writer; returns its size."""
    from minconvbert.io.safetensors import save_file

    rng = np.random.default_rng(seed)
    tensors = {name: rng.standard_normal(shape, dtype=np.float32) * 0.02
               for name, shape in convbert_base_shapes(**sizes).items()}
    save_file(tensors, path, metadata={"format": "pt"})
    return os.path.getsize(path)


def write_convbert_base_bin(path, seed=0) -> int:
    """The same tensors as `write_convbert_base_file`, written by torch.save; returns the file's size."""
    import torch

    rng = np.random.default_rng(seed)
    torch.save({name: torch.from_numpy(rng.standard_normal(shape, dtype=np.float32) * 0.02)
                for name, shape in convbert_base_shapes().items()}, path)
    return os.path.getsize(path)


def _load_bin_with_torch(path):
    import torch

    return {name: t.numpy() for name, t in torch.load(path, weights_only=True).items()}


def _peak_rss_bytes() -> int:
    """This process's peak RSS. On Linux, VmHWM: unlike getrusage's ru_maxrss, it does not inherit the
    parent's high-water mark across fork + exec (a child of a 1 GB pytest process would start at 1 GB)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _peak_rss_bytes()


def child(loader: str, path: str) -> dict:
    """Run in a fresh process: load `path` with `loader`, touch every byte, report time and memory."""
    import tracemalloc

    if loader == "official":
        from safetensors.numpy import load_file
    elif loader == "torch":
        load_file = _load_bin_with_torch
        import torch  # noqa: F401 -- imported before the baseline, as the other loaders' libraries are
    elif loader == "ours-bin":
        from minconvbert.io.torch_pickle import load_file
    else:
        from minconvbert.io.safetensors import load_file
        if loader == "ours-read":
            from functools import partial
            load_file = partial(load_file, mmap=False)
    baseline = _current_rss_bytes()
    tracemalloc.start()
    t0 = time.perf_counter()
    tensors = load_file(path)
    t_load = time.perf_counter() - t0
    checksum = sum(float(a.sum(dtype=np.float64)) for a in tensors.values())
    t_touch = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"loader": loader, "load_s": t_load, "load_and_touch_s": t_touch,
            "peak_rss_delta": _peak_rss_bytes() - baseline, "tracemalloc_peak": traced_peak,
            "checksum": checksum, "n_tensors": len(tensors)}


def run_child(loader: str, path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", loader, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(path, runs: int = 3, loaders=("ours", "ours-read", "official"), reference: str = "official") -> dict:
    """Median time and max peak for each loader, and their ratios against the `reference` loader."""
    size = os.path.getsize(path)
    results = {name: [] for name in loaders}
    for _ in range(runs):
        for name in loaders:  # interleaved, so that machine noise hits every loader alike
            results[name].append(run_child(name, path))
    checksums = {name: results[name][0]["checksum"] for name in loaders}
    assert len(set(checksums.values())) == 1, f"loaders disagree: {checksums}"
    summary = {"file_bytes": size}
    for name in loaders:
        rs = results[name]
        summary[name] = {
            "load_s": statistics.median(r["load_s"] for r in rs),
            "load_and_touch_s": statistics.median(r["load_and_touch_s"] for r in rs),
            "peak_rss_delta_over_file": max(r["peak_rss_delta"] for r in rs) / size,
            "tracemalloc_peak_over_file": max(r["tracemalloc_peak"] for r in rs) / size,
        }
    if reference in loaders:
        ref = summary[reference]
        for name in loaders:
            if name != reference:
                s = summary[name]
                s["load_time_ratio"] = s["load_s"] / ref["load_s"]
                s["load_and_touch_time_ratio"] = s["load_and_touch_s"] / ref["load_and_touch_s"]
                s["peak_rss_ratio"] = s["peak_rss_delta_over_file"] / ref["peak_rss_delta_over_file"]
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("LOADER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="write the test file here and keep it (default: a temp file)")
    parser.add_argument("--format", choices=["safetensors", "bin"], default="safetensors")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    binary = args.format == "bin"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / f"conv-bert-base.{args.format}"
        if not path.exists():
            t0 = time.perf_counter()
            (write_convbert_base_bin if binary else write_convbert_base_file)(path)
            print(f"wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        loaders = {"loaders": ("ours-bin", "torch"), "reference": "torch"} if binary else {}
        print(json.dumps(compare(path, runs=args.runs, **loaders), indent=2))


if __name__ == "__main__":
    main()
