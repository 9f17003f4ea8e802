"""The span-based dynamic convolution alone, and every other kernel, against PyTorch on the CPU.

    python benchmarks/bench_dynamic_conv.py                 # 30 timed runs per case
    python benchmarks/bench_dynamic_conv.py --repeats 50

Dynamic convolution at the conv-bert-base size, batch 8 x sequence 128: hidden 768, head_ratio 2,
so 6 convolution heads of size 64 (384 channels) and kernel size K = 9. Both sides start from the
outputs of conv_out_layer (B, T, 384) and conv_kernel_layer (B, T, 6*9) and end at the convolution
output, exactly the steps of transformers' ConvBertSelfAttention in between:
  transformers (torch): reshape the kernel logits to (-1, K, 1), softmax over K; transpose the values
      to (B, 384, T, 1), unfold them into a (B, 384*K, T) copy, transpose and reshape it to
      (B*T*6, 64, K), matmul with the kernels, reshape to (B*T, 384);
  minconvbert: softmax over K (kernels.softmax_forward) and span_conv_forward on (B, T, 6, 64), no copy.
"conv alone" rows start from kernels already softmaxed on both sides. Forward rows run without
gradient tracking (torch.no_grad / minconvbert.no_grad); forward + backward rows run each side's
autograd (torch's, and minconvbert's Tensor engine with F.softmax and F.span_conv) from the two
inputs to the gradients of both, given a fixed upstream gradient.

The other kernels run at BERT-base shapes, each against torch's own operation (backward through
torch's aten backward kernels, so that neither side pays for graph bookkeeping).

Each case times the implementations in alternating blocks, after waiting for the machine to be idle,
so that load from other processes falls on all of them alike; figures are medians; ratios compare
runs of the same invocation.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):  # run from a checkout without installing
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import minconvbert  # noqa: E402
from quiet_machine import wait_until_idle  # noqa: E402
from minconvbert import functional as F  # noqa: E402
from minconvbert.kernels import fast, reference  # noqa: E402

BATCH, SEQ, HIDDEN, HEADS, HEAD_SIZE, WIDTH = 8, 128, 768, 6, 64, 9  # conv-bert-base, 8 x 128
CHANNELS = HEADS * HEAD_SIZE  # 384


def median_times(functions: dict, repeats: int, rounds: int = 3, warmup: int = 2) -> dict:
    """{name: median seconds} of `repeats` runs of each function, in `rounds` blocks per function.

    Blocks alternate between the functions so that load from other processes spreads over all of
    them; within a block one implementation runs alone after `warmup` untimed runs (torch's OpenMP
    threads spin for a few milliseconds after each operation and would slow the next numba kernel).
    """
    times = {name: [] for name in functions}
    for block in range(rounds):
        wait_until_idle()
        for name, function in functions.items():
            for _ in range(warmup):
                function()
            for _ in range(repeats // rounds + (block < repeats % rounds)):
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


# ----- the dynamic convolution ---------------------------------------------------------------------
def unfold_conv(torch, values, kernels):
    """transformers' unfold steps: values (B, T, 384), kernels (B*T*6, K, 1) softmaxed -> (B*T, 384)."""
    columns = values.transpose(1, 2).contiguous().unsqueeze(-1)  # (B, 384, T, 1)
    columns = torch.nn.functional.unfold(columns, kernel_size=[WIDTH, 1], dilation=1,
                                         padding=[(WIDTH - 1) // 2, 0], stride=1)  # (B, 384*K, T)  # fmt: skip
    columns = columns.transpose(1, 2).reshape(BATCH, -1, CHANNELS, WIDTH)  # (B, T, 384, K)
    columns = torch.reshape(columns, [-1, HEAD_SIZE, WIDTH])  # (B*T*6, 64, K)
    return torch.reshape(torch.matmul(columns, kernels), [-1, CHANNELS])  # (B*T, 384)


def unfold_dynamic_conv(torch, values, logits):
    """transformers, from conv_out_layer (values) and conv_kernel_layer (logits) to the conv output."""
    kernels = torch.softmax(torch.reshape(logits, [-1, WIDTH, 1]), dim=1)  # (B*T*6, K, 1)
    return unfold_conv(torch, values, kernels)


def our_dynamic_conv(kernels_module, values, logits):
    """minconvbert's kernels: softmax over K, then the direct span convolution -> (B, T, 6, 64)."""
    kernels = kernels_module.softmax_forward(logits.reshape(BATCH, SEQ, HEADS, WIDTH))  # (B, T, 6, K)
    return kernels_module.span_conv_forward(values.reshape(BATCH, SEQ, HEADS, HEAD_SIZE), kernels)


def dynamic_conv_cases(torch, repeats: int) -> list:
    rng = np.random.default_rng(0)
    values = rng.standard_normal((BATCH, SEQ, CHANNELS)).astype(np.float32)
    logits = rng.standard_normal((BATCH, SEQ, HEADS * WIDTH)).astype(np.float32)
    grad_out = rng.standard_normal((BATCH * SEQ, CHANNELS)).astype(np.float32)
    kernels = fast.softmax_forward(logits.reshape(BATCH, SEQ, HEADS, WIDTH))  # (B, T, 6, K)
    t_values, t_logits, t_grad = (torch.from_numpy(a) for a in (values, logits, grad_out))
    t_kernels = torch.from_numpy(kernels.reshape(-1, WIDTH, 1))

    with torch.no_grad():
        expected = unfold_dynamic_conv(torch, t_values, t_logits).numpy()
    difference = float(np.max(np.abs(our_dynamic_conv(fast, values, logits).reshape(-1, CHANNELS) - expected)))

    def torch_forward():
        with torch.no_grad():
            unfold_dynamic_conv(torch, t_values, t_logits)

    def torch_conv_alone():
        with torch.no_grad():
            unfold_conv(torch, t_values, t_kernels)

    def torch_forward_backward():
        v, lg = t_values.clone().requires_grad_(True), t_logits.clone().requires_grad_(True)
        unfold_dynamic_conv(torch, v, lg).backward(t_grad)

    def ours_forward_backward(backend):
        def run():
            with minconvbert.backend(backend):
                v = minconvbert.Tensor(values, requires_grad=True)
                lg = minconvbert.Tensor(logits, requires_grad=True)
                k = F.softmax(F.reshape(lg, (BATCH, SEQ, HEADS, WIDTH)), axis=-1)
                out = F.span_conv(F.reshape(v, (BATCH, SEQ, HEADS, HEAD_SIZE)), k)
                out.backward(grad_out.reshape(out.shape))
        return run

    rows = []
    forward = median_times({
        "transformers unfold (torch)": torch_forward,
        "minconvbert numba": lambda: our_dynamic_conv(fast, values, logits),
        "minconvbert numpy": lambda: our_dynamic_conv(reference, values, logits),
    }, repeats)  # fmt: skip
    rows.append(("dynamic conv forward, kernel softmax included", forward))
    alone = median_times({
        "transformers unfold (torch)": torch_conv_alone,
        "minconvbert numba": lambda: fast.span_conv_forward(values.reshape(BATCH, SEQ, HEADS, HEAD_SIZE), kernels),
        "minconvbert numpy": lambda: reference.span_conv_forward(values.reshape(BATCH, SEQ, HEADS, HEAD_SIZE), kernels),
    }, repeats)  # fmt: skip
    rows.append(("dynamic conv forward, conv alone", alone))
    both = median_times({
        "transformers unfold (torch)": torch_forward_backward,
        "minconvbert numba": ours_forward_backward("numba"),
        "minconvbert numpy": ours_forward_backward("numpy"),
    }, repeats)  # fmt: skip
    rows.append(("dynamic conv forward + backward (autograd)", both))
    return rows, difference


# ----- the other kernels at BERT-base shapes -------------------------------------------------------
def other_kernel_cases(torch, repeats: int) -> list:
    rng = np.random.default_rng(1)
    f32 = np.float32
    x = rng.standard_normal((8, 128, 3072)).astype(f32)  # the intermediate (FFN) activations
    gx = rng.standard_normal(x.shape).astype(f32)
    scores = rng.standard_normal((8, 12, 128, 128)).astype(f32)
    mask = np.zeros((8, 1, 1, 128), dtype=f32)
    mask[:, ..., 96:] = np.finfo(f32).min  # a quarter of the keys are padding
    probs = fast.softmax_forward(scores, mask)
    g_scores = rng.standard_normal(scores.shape).astype(f32)
    h = rng.standard_normal((8, 128, 768)).astype(f32)
    gh = rng.standard_normal(h.shape).astype(f32)
    weight, bias = rng.standard_normal(768).astype(f32), rng.standard_normal(768).astype(f32)
    _, mean, rstd = fast.layer_norm_forward(h, weight, bias, 1e-12)
    depthwise = rng.standard_normal((768, WIDTH)).astype(f32)

    T = {name: torch.from_numpy(a) for name, a in dict(x=x, gx=gx, scores=scores, mask=mask, probs=probs,
         g_scores=g_scores, h=h, gh=gh, weight=weight, bias=bias, mean=mean.reshape(8, 128, 1),
         rstd=rstd.reshape(8, 128, 1), depthwise=depthwise[:, None, :]).items()}  # fmt: skip
    T["h_channels"] = T["h"].transpose(1, 2)  # (B, C, T) view, as transformers passes it
    aten = torch.ops.aten
    cases = [
        ("GELU forward, 8x128x3072", lambda: torch.nn.functional.gelu(T["x"]), lambda: fast.gelu_forward(x),
         lambda: reference.gelu_forward(x)),
        ("GELU backward, 8x128x3072", lambda: aten.gelu_backward(T["gx"], T["x"]), lambda: fast.gelu_backward(x, gx),
         lambda: reference.gelu_backward(x, gx)),
        ("GELU tanh forward, 8x128x3072", lambda: torch.nn.functional.gelu(T["x"], approximate="tanh"),
         lambda: fast.gelu_new_forward(x), lambda: reference.gelu_new_forward(x)),
        ("GELU tanh backward, 8x128x3072", lambda: aten.gelu_backward(T["gx"], T["x"], approximate="tanh"),
         lambda: fast.gelu_new_backward(x, gx), lambda: reference.gelu_new_backward(x, gx)),
        ("masked softmax forward, 8x12x128x128", lambda: torch.softmax(T["scores"] + T["mask"], dim=-1),
         lambda: fast.softmax_forward(scores, mask), lambda: reference.softmax_forward(scores, mask)),
        ("softmax backward, 8x12x128x128",
         lambda: aten._softmax_backward_data(T["g_scores"], T["probs"], -1, torch.float32),
         lambda: fast.softmax_backward(probs, g_scores), lambda: reference.softmax_backward(probs, g_scores)),
        ("layer norm forward, 8x128x768",
         lambda: torch.nn.functional.layer_norm(T["h"], (768,), T["weight"], T["bias"], 1e-12),
         lambda: fast.layer_norm_forward(h, weight, bias, 1e-12),
         lambda: reference.layer_norm_forward(h, weight, bias, 1e-12)),
        ("layer norm backward, 8x128x768",
         lambda: aten.native_layer_norm_backward(T["gh"], T["h"], [768], T["mean"], T["rstd"], T["weight"],
                                                 T["bias"], [True, True, True]),
         lambda: fast.layer_norm_backward(gh, h, weight, mean, rstd),
         lambda: reference.layer_norm_backward(gh, h, weight, mean, rstd)),
        ("depthwise conv forward, 8x128x768, K=9",
         lambda: torch.nn.functional.conv1d(T["h_channels"], T["depthwise"], groups=768, padding=WIDTH // 2),
         lambda: fast.depthwise_conv1d_forward(h, depthwise), lambda: reference.depthwise_conv1d_forward(h, depthwise)),
    ]  # fmt: skip
    rows = []
    with torch.no_grad():
        for name, torch_fn, fast_fn, reference_fn in cases:
            rows.append((name, median_times({"torch": torch_fn, "minconvbert numba": fast_fn,
                                             "minconvbert numpy": reference_fn}, repeats)))  # fmt: skip
    return rows


# ----- report --------------------------------------------------------------------------------------
def machine() -> str:
    import numba
    import torch

    import minconvbert

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}, NumPy {np.__version__}, "
            f"numba {numba.__version__} (kernels compiled serial, split over minconvbert's "
            f"{minconvbert.get_num_threads()} threads), torch {torch.__version__} ({torch.get_num_threads()} threads)")


def table(rows, baseline: str) -> str:
    names = list(rows[0][1])
    lines = ["| case | " + " | ".join(f"{n} (ms)" for n in names) + f" | {baseline} / numba | {baseline} / numpy |",
             "|---|" + "---:|" * (len(names) + 2)]  # fmt: skip
    for case, times in rows:
        cells = [f"{times[n] * 1e3:.3f}" for n in names]
        cells.append(f"{times[baseline] / times['minconvbert numba']:.2f}x")
        cells.append(f"{times[baseline] / times['minconvbert numpy']:.2f}x")
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per implementation and case")
    args = parser.parse_args()
    import torch

    conv_rows, difference = dynamic_conv_cases(torch, args.repeats)
    other_rows = other_kernel_cases(torch, args.repeats)
    print(f"Machine: {machine()}")
    print(f"Medians of {args.repeats} runs; a ratio above 1 means minconvbert is faster.\n")
    print(f"Dynamic convolution, conv-bert-base, {BATCH}x{SEQ} (6 heads x 64, K={WIDTH}); "
          f"max |numba - transformers| = {difference:.1e}; the unfold copy alone is "
          f"{BATCH * SEQ * CHANNELS * WIDTH * 4 / 2**20:.1f} MiB, minconvbert makes none.\n")  # fmt: skip
    print(table(conv_rows, "transformers unfold (torch)").replace("transformers unfold (torch) / ", "unfold / "))
    print("\nOther kernels, float32, against torch's operation:\n")
    print(table(other_rows, "torch"))


if __name__ == "__main__":
    main()
