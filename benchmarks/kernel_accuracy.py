"""How far the numba kernels are from the NumPy reference at BERT-base shapes, in float32 and float64.

    python benchmarks/kernel_accuracy.py

For every output of every kernel: the largest |fast - reference| divided by the largest |reference|
of that output (a relative error that stays meaningful where single entries are near zero), and,
for float32, the same against the reference evaluated in float64 (the exact value, to which the
float32 reference itself is not always closest).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from minconvbert.kernels import fast, reference  # noqa: E402


def cases(dtype):
    """(name, function name, arguments) at BERT-base / conv-bert-base shapes, batch 8 x sequence 128."""
    rng = np.random.default_rng(0)

    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)

    x, gx = normal(8, 128, 3072, scale=3.0), normal(8, 128, 3072)
    scores, g_scores = normal(8, 12, 128, 128, scale=3.0), normal(8, 12, 128, 128)
    mask = np.zeros((8, 1, 1, 128), dtype=dtype)
    mask[:, ..., 96:] = np.finfo(dtype).min
    probs = reference.softmax_forward(scores, mask)
    h, gh, weight, bias = normal(8, 128, 768, scale=2.0), normal(8, 128, 768), normal(768), normal(768)
    _, mean, rstd = reference.layer_norm_forward(h, weight, bias, 1e-12)
    values, conv_kernel = normal(8, 128, 6, 64), reference.softmax_forward(normal(8, 128, 6, 9, scale=2.0))
    g_values, depthwise = normal(8, 128, 6, 64), normal(768, 9, scale=0.1)
    return [
        ("GELU forward", "gelu_forward", (x,)),
        ("GELU backward", "gelu_backward", (x, gx)),
        ("GELU tanh forward", "gelu_new_forward", (x,)),
        ("GELU tanh backward", "gelu_new_backward", (x, gx)),
        ("masked softmax forward", "softmax_forward", (scores, mask)),
        ("softmax backward", "softmax_backward", (probs, g_scores)),
        ("layer norm forward (y, mean, rstd)", "layer_norm_forward", (h, weight, bias, 1e-12)),
        ("layer norm backward (x, weight, bias)", "layer_norm_backward", (gh, h, weight, mean, rstd)),
        ("span conv forward", "span_conv_forward", (values, conv_kernel)),
        ("span conv backward (values, conv_kernel)", "span_conv_backward", (values, conv_kernel, g_values)),
        ("depthwise conv forward", "depthwise_conv1d_forward", (h, depthwise)),
        ("depthwise conv backward (x, weight)", "depthwise_conv1d_backward", (h, depthwise, gh)),
    ]


def relative(got, expected) -> str:
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    errors = [np.max(np.abs(g.astype(np.float64) - e.astype(np.float64))) / np.max(np.abs(e.astype(np.float64)))
              for g, e in zip(got, expected)]  # fmt: skip
    return ", ".join(f"{err:.1e}" for err in errors)


def main() -> None:
    rows = {}
    for dtype in (np.float32, np.float64):
        for name, function, args in cases(dtype):
            got = getattr(fast, function)(*args)
            row = rows.setdefault(name, {})
            row[dtype] = relative(got, getattr(reference, function)(*args))
            if dtype == np.float32:
                exact_args = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]
                row["exact"] = relative(got, getattr(reference, function)(*exact_args))
    print("max |fast - reference| / max |reference|, per output\n")
    print("| kernel | float32 vs float32 reference | float32 vs float64 reference | float64 vs float64 reference |")
    print("|---|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row[np.float32]} | {row['exact']} | {row[np.float64]} |")


if __name__ == "__main__":
    main()
