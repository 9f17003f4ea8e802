"""Assignment A2 (the span-based dynamic convolution): its definition, and the expected values its checks share."""

import numpy as np

from minconvbert.grade.framework import Assignment

A2 = Assignment(
    key="a2",
    name="a2_span_conv",
    title="the span-based dynamic convolution, forward and backward",
    student_file="span_conv.py",
)


def spans_by_loops(values, K):
    """unfold_spans written as plainly as possible: the expected answer."""
    B, T, H, D = values.shape
    P = (K - 1) // 2
    spans = np.zeros((B, T, H, D, K), dtype=values.dtype)
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                spans[:, t, :, :, k] = values[:, t + k - P]
    return spans


def random_case(seed, B, T, H, D, K, dtype=np.float64):
    """values, softmaxed kernels and an output gradient of the given sizes."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((B, T, H, D)).astype(dtype)
    logits = rng.standard_normal((B, T, H, K))
    kernels = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(dtype)
    grad_out = rng.standard_normal((B, T, H, D)).astype(dtype)
    return values, kernels, grad_out
