"""softmax and log_softmax over one axis (kernels: softmax_forward / softmax_backward)."""

from __future__ import annotations

import numpy as np

from minconvbert.backend import kernels
from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float


class Softmax(Function):
    """y = softmax(x + mask) along `axis`; `mask` (additive, constant) only along the last axis."""

    def forward(self, x, axis=-1, mask=None):
        require_float("softmax", x)
        self.last = axis in (-1, x.ndim - 1)
        if not self.last:
            if mask is not None:
                raise ValueError("softmax: a mask is supported only along the last axis")
            self.axis = axis
            x = np.moveaxis(x, axis, -1)
        elif mask is not None and mask.dtype != x.dtype:
            mask = mask.astype(x.dtype)
        self.y = kernels().softmax_forward(x, mask)
        return self.y if self.last else np.moveaxis(self.y, -1, axis)

    def backward(self, g):
        if self.last:
            return (kernels().softmax_backward(self.y, g),)
        grad = kernels().softmax_backward(self.y, np.moveaxis(g, self.axis, -1))
        return (np.moveaxis(grad, -1, self.axis),)


class LogSoftmax(Function):
    """y = x - log(sum(exp(x))) along `axis`; dL/dx = g - softmax(x) * sum(g)."""

    def forward(self, x, axis=-1):
        require_float("log_softmax", x)
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.y

    def backward(self, g):
        return (g - np.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)
