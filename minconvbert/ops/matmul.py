"""Matrix products: batched `matmul` with broadcasting, and `linear` (x W^T + b) as one fused step.

Every product goes through `product`, which follows minconvbert's thread policy (minconvbert/threads.py):
NumPy's BLAS runs on one thread, and a large product is cut into blocks of rows (or columns, or
matrices of a batch) that minconvbert's threads compute side by side.
"""

from __future__ import annotations

import math

import numpy as np

from minconvbert import threads
from minconvbert.backend import active_kernels
from minconvbert.function import Function, unbroadcast
from minconvbert.ops.elementwise import require_float

PIECE = 2_000_000  # multiply-adds: the least product worth handing to another thread (~40 us on one core)
BLAS_SERIAL_BELOW = 262_144  # multiply-adds per matrix below which OpenBLAS runs on one thread by itself


def product(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b) (+ bias over the last axis), with minconvbert's thread policy.

    a (..., M, K), b (..., K, N) -> (..., M, N), leading axes broadcast; 1-D operands as in np.matmul.
    """
    if a.ndim < 2 or b.ndim < 2:  # a vector operand
        with threads.blas_on_one_thread():
            return _add_bias(np.matmul(a, b), bias)
    per_matrix = a.shape[-2] * a.shape[-1] * b.shape[-1]
    if a.ndim == b.ndim == 2 and per_matrix < BLAS_SERIAL_BELOW:  # small: BLAS stays on one thread by itself
        return _add_bias(a @ b, bias)
    batch = () if a.ndim == b.ndim == 2 else np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    work = math.prod(batch) * per_matrix
    if work >= 2 * PIECE:
        return _split_product(a, b, bias, batch, work)
    if per_matrix < BLAS_SERIAL_BELOW:
        return _add_bias(np.matmul(a, b), bias)
    with threads.blas_on_one_thread():
        return _add_bias(np.matmul(a, b), bias)


def _add_bias(out: np.ndarray, bias) -> np.ndarray:
    if bias is None:
        return out
    return np.add(out, bias, out=out if out.dtype == bias.dtype else None)  # in place unless the bias promotes


def _split_product(a, b, bias, batch: tuple, work: int) -> np.ndarray:
    """product() cut into blocks of whole batch matrices, rows or columns, one BLAS call on one thread each.

    Each block writes its own part of the output; the blocks depend on the shapes alone, so the result
    is the same whatever the number of threads. The bias is added block by block, while it is in cache.
    """
    m, n = a.shape[-2], b.shape[-1]
    out = np.empty(batch + (m, n), dtype=np.result_type(a, b))
    fused_bias = bias if bias is not None and out.dtype == bias.dtype else None

    if batch and batch[0] > 1:  # whole matrices of the batch
        size = batch[0]
        a_part = _along_first_axis(a, out.ndim)
        b_part = _along_first_axis(b, out.ndim)

        def run(lo, hi):
            np.matmul(a_part(lo, hi), b_part(lo, hi), out=out[lo:hi])
            if fused_bias is not None:
                out[lo:hi] += fused_bias
    elif m >= n:  # blocks of rows
        size = m

        def run(lo, hi):
            np.matmul(a[..., lo:hi, :], b, out=out[..., lo:hi, :])
            if fused_bias is not None:
                out[..., lo:hi, :] += fused_bias
    else:  # blocks of columns
        size = n

        def run(lo, hi):
            np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])
            if fused_bias is not None:
                out[..., lo:hi] += fused_bias[lo:hi]

    with threads.blas_on_one_thread():
        threads.parallel_range(size, run, work=work, piece=PIECE)
    return out if bias is None or fused_bias is not None else out + bias


def _along_first_axis(x: np.ndarray, ndim: int):
    """x's part of out[lo:hi] along the first batch axis: a slice, or all of x where x broadcasts there."""
    if x.ndim == ndim and x.shape[0] > 1:
        return lambda lo, hi: x[lo:hi]
    return lambda lo, hi: x


class MatMul(Function):
    """y = a @ b (batched, broadcasting over leading axes); dL/da = g @ b^T, dL/db = a^T @ g."""

    def forward(self, a, b):
        require_float("matmul", a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}")
        self.a, self.b = a, b
        try:
            return product(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not match "
                f"(a's last axis must equal b's second-to-last, leading axes must broadcast)"
            ) from None

    def backward(self, g):
        a, b = self.a, self.b
        # treat vectors as matrices: a (n,) as (1, n), b (n,) as (n, 1)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:  # a dot product: the output is a scalar
            g2 = g.reshape(1, 1)
        elif a.ndim == 1:  # (..., m) seen as (..., 1, m)
            g2 = np.expand_dims(g, -2)
        elif b.ndim == 1:  # (..., n) seen as (..., n, 1)
            g2 = np.expand_dims(g, -1)
        else:
            g2 = g
        need_a, need_b = self.needs_input_grad
        grad_a = unbroadcast(product(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape) if need_a else None
        grad_b = unbroadcast(product(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


class Linear(Function):
    """y = x @ W^T + b with x (..., in), W (out, in), b (out,) -> (..., out).

    The leading axes are folded into one, so each direction is a single matrix product. Backward
    skips the rows of the output gradient that are all zero when they are most of them: below a
    loss scored on some positions only (masked-LM training scores ~15%), the position-wise layers'
    gradients are zero on the other rows, and their products would add nothing.
    """

    def forward(self, x, weight, bias=None):
        require_float("linear", x, weight)
        if x.shape[-1:] != weight.shape[1:]:
            raise ValueError(f"linear: input of shape {x.shape} does not end in in_features={weight.shape[1]}")
        self.x, self.weight = x, weight
        y = product(x if x.ndim == 2 else x.reshape(-1, x.shape[-1]), weight.T, bias)  # (N, out)
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, g):
        x, weight = self.x, self.weight
        g2 = g.reshape(-1, weight.shape[0])  # (N, out)
        x2 = x.reshape(-1, x.shape[-1])  # (N, in)
        rows = _mostly_zero_rows(g2, x2.shape[1])
        if rows is not None:
            g2, x2 = g2[rows], x2[rows]  # (M, out), (M, in): the rows that carry a gradient
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = product(g2, weight)  # (M, in)
            if rows is not None:  # back to (N, in), zero where g was
                scattered = np.zeros((x.size // x.shape[-1], x.shape[-1]), dtype=grad_x.dtype)
                scattered[rows] = grad_x
                grad_x = scattered
            grad_x = grad_x.reshape(x.shape)
        if self.needs_input_grad[1]:
            grad_w = product(g2.T, x2)  # (out, in)
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_w
        if self.needs_input_grad[2]:
            grad_b = g2.sum(axis=0)
        return grad_x, grad_w, grad_b


def _mostly_zero_rows(g2: np.ndarray, inner: int):
    """The nonzero rows of g2 (N, out) if they are fewer than half and the products are large, else None.

    Finding them reads g2 once (a dense row after its first entry), at most 1/inner of a product's work.
    """
    if g2.shape[0] * g2.shape[1] * inner < 2 * PIECE:
        return None
    rows = active_kernels().nonzero_rows(g2)
    return rows if 2 * len(rows) < g2.shape[0] else None

