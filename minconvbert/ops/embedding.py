"""Embedding lookup: rows of a weight matrix picked by integer ids."""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function


class Embedding(Function):
    """y[...] = weight[ids[...]]: weight (V, D), ids (...) -> (..., D).

    Backward scatter-adds each output row's gradient into the row it came from; the row
    `padding_idx` (if given) gets no gradient, as in PyTorch.
    """

    def forward(self, weight, ids, padding_idx=None):
        self.shape, self.ids, self.padding_idx = weight.shape, ids, padding_idx
        return weight[ids]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(grad, self.ids.reshape(-1), g.reshape(-1, self.shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return (grad,)
