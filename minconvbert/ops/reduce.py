"""Reductions over axes: sum, mean, max (variance is composed from these in functional.py)."""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function


def normalize_axis(axis, ndim: int, name: str = "axis") -> int:
    """`axis` (negatives count from the end) as an index in [0, ndim); a clear ValueError otherwise."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: an axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % ndim


def normalize_axes(axis, ndim: int) -> tuple:
    """`axis` (None, an int or a sequence; negatives allowed) as a sorted tuple of non-negative axes.

    A 0-d tensor accepts axis 0 or -1 (as in PyTorch) and has no axis to reduce.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = [normalize_axis(a, max(ndim, 1)) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis} names the same axis twice")
    return tuple(sorted(out)) if ndim else ()


def _expand_back(g, axes, keepdims):
    """Put back the reduced axes (as size 1) so that `g` broadcasts against the input."""
    return g if keepdims else np.expand_dims(g, axes)


class Sum(Function):
    """y = sum of x over `axis`; every input element gets the output's gradient."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axes(axis, x.ndim), keepdims
        return np.asarray(x.sum(axis=self.axes, keepdims=keepdims))

    def backward(self, g):
        return (np.broadcast_to(_expand_back(g, self.axes, self.keepdims), self.shape),)


class Mean(Function):
    """y = mean of x over `axis`; each input element gets 1/n of the output's gradient."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, normalize_axes(axis, x.ndim), keepdims
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.asarray(x.mean(axis=self.axes, keepdims=keepdims))

    def backward(self, g):
        if self.count == 0:  # nothing was averaged: the input is empty, and so is its gradient (no 1/0)
            return (np.zeros(self.shape, dtype=g.dtype),)
        g = _expand_back(g, self.axes, self.keepdims) / self.count
        return (np.broadcast_to(g, self.shape),)


class Max(Function):
    """y = max of x over `axis`; the gradient goes to the maximal elements, shared equally on ties."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes, self.keepdims = normalize_axes(axis, x.ndim), keepdims
        if any(x.shape[a] == 0 for a in self.axes):
            raise ValueError(f"max: cannot take the maximum over an axis of length 0 (shape {x.shape}, axis {axis})")
        y = x.max(axis=self.axes, keepdims=True)
        is_max = x == y
        self.share = is_max / is_max.sum(axis=self.axes, keepdims=True)
        return np.asarray(y if keepdims else y.squeeze(self.axes))

    def backward(self, g):
        return ((_expand_back(g, self.axes, self.keepdims) * self.share).astype(g.dtype, copy=False),)
