"""Matrix products: batched `matmul` with broadcasting, and `linear` (x W^T + b) as one fused step."""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function, unbroadcast
from minconvbert.ops.elementwise import require_float


class MatMul(Function):
    """y = a @ b (batched, broadcasting over leading axes); dL/da = g @ b^T, dL/db = a^T @ g."""

    def forward(self, a, b):
        require_float("matmul", a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a.shape} and {b.shape}")
        self.a, self.b = a, b
        try:
            return np.matmul(a, b)
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
        grad_a = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) if need_a else None
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


class Linear(Function):
    """y = x @ W^T + b with x (..., in), W (out, in), b (out,) -> (..., out).

    The leading axes are folded into one, so each direction is a single matrix product.
    """

    def forward(self, x, weight, bias=None):
        require_float("linear", x, weight)
        if x.shape[-1:] != weight.shape[1:]:
            raise ValueError(f"linear: input of shape {x.shape} does not end in in_features={weight.shape[1]}")
        self.x, self.weight = x, weight
        y = (x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) @ weight.T  # (N, out)
        if bias is not None:
            y = np.add(y, bias, out=y if y.dtype == bias.dtype else None)  # in place unless bias promotes
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, g):
        x, weight = self.x, self.weight
        g2 = g.reshape(-1, weight.shape[0])  # (N, out)
        grad_x = (g2 @ weight).reshape(x.shape) if self.needs_input_grad[0] else None
        grad_w = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 2:
            return grad_x, grad_w
        grad_b = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
