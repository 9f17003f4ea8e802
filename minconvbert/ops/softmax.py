"""softmax and log_softmax over one axis (kernels: softmax_forward / softmax_backward)."""

from __future__ import annotations

import numpy as np

from minconvbert.backend import active_kernels
from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float
from minconvbert.ops.reduce import normalize_axis


class Softmax(Function):
    """y = softmax(x + mask) along `axis`; `mask` (additive, constant) only along the last axis."""

    def forward(self, x, axis=-1, mask=None):
        require_float("softmax", x)
        axis = normalize_axis(axis, max(x.ndim, 1), "softmax")  # a 0-d tensor accepts axis 0 or -1
        if mask is not None and np.broadcast_shapes(np.shape(mask), x.shape) != x.shape:
            raise ValueError(f"softmax: mask of shape {np.shape(mask)} does not broadcast to the input's {x.shape}")
        self.trivial = x.ndim == 0 or x.size == 0
        if self.trivial:  # one value (softmax 1) or none: nothing to normalise, no gradient
            return np.ones_like(x)
        self.last = axis == x.ndim - 1
        if not self.last:
            if mask is not None:
                raise ValueError("softmax: a mask is supported only along the last axis")
            self.axis = axis
            x = np.moveaxis(x, axis, -1)
        elif mask is not None and mask.dtype != x.dtype:
            mask = mask.astype(x.dtype)
        self.y = active_kernels().softmax_forward(x, mask)
        return self.y if self.last else np.moveaxis(self.y, -1, axis)

    def backward(self, g):
        if self.trivial:
            return (np.zeros_like(g),)
        if self.last:
            return (active_kernels().softmax_backward(self.y, g),)
        grad = active_kernels().softmax_backward(self.y, np.moveaxis(g, self.axis, -1))
        return (np.moveaxis(grad, -1, self.axis),)


class LogSoftmax(Function):
    """y = x - log(sum(exp(x))) along `axis`; dL/dx = g - softmax(x) * sum(g)."""

    def forward(self, x, axis=-1):
        require_float("log_softmax", x)
        axis = normalize_axis(axis, max(x.ndim, 1), "log_softmax")  # a 0-d tensor accepts axis 0 or -1
        self.trivial = x.ndim == 0 or x.size == 0
        if self.trivial:  # one value (log softmax 0) or none: no gradient
            return np.zeros_like(x)
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.y

    def backward(self, g):
        if self.trivial:
            return (np.zeros_like(g),)
        return (g - np.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)
