"""Operations that move values without changing them: reshape, permute, expand, indexing, joins.

Their backward moves the gradient back the same way (indexing scatter-adds, so an element picked
twice gets both gradients).
"""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function, unbroadcast
from minconvbert.ops.reduce import normalize_axis


class Reshape(Function):
    """y = x with a new shape (same number of elements)."""

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {tuple(shape)}") from None

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[axes[i]]."""

    def forward(self, x, axes):
        in_range = all(isinstance(a, (int, np.integer)) and -x.ndim <= a < x.ndim for a in axes)
        if not in_range or sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(axes)} is not a permutation of the {x.ndim} axes of shape {x.shape}")
        self.axes = tuple(int(a) % x.ndim for a in axes)
        return x.transpose(self.axes)

    def backward(self, g):
        return (g.transpose(np.argsort(self.axes)),)


class Expand(Function):
    """y = x broadcast to `shape` (-1 keeps a size) without copying; backward sums the copies."""

    def forward(self, x, shape):
        self.shape = x.shape
        lead = len(shape) - x.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dimensions {tuple(shape)}")
        if -1 in shape[:lead]:
            raise ValueError(f"expand: -1 (keep the size) is not allowed for a new leading axis, got {tuple(shape)}")
        target = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            return np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {tuple(shape)}") from None

    def backward(self, g):
        return (unbroadcast(g, self.shape),)


def _has_array(index) -> bool:
    """True when an index holds integer or boolean arrays (advanced indexing may repeat elements)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


class GetItem(Function):
    """y = x[index], basic (slices, ints, None, ...) or integer/boolean-array indexing."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        try:
            return np.asarray(x[index])
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: {e}") from None

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        if _has_array(self.index):
            np.add.at(grad, self.index, g)  # repeated indices accumulate
        else:
            grad[self.index] = g
        return (grad,)


class Concatenate(Function):
    """y = the inputs joined along an existing `axis`."""

    def forward(self, *arrays, axis=0):
        if not arrays:
            raise ValueError("concatenate: needs at least one tensor")
        shapes = ", ".join(str(a.shape) for a in arrays)
        if any(a.ndim != arrays[0].ndim for a in arrays) or arrays[0].ndim == 0:
            raise ValueError(f"concatenate: needs tensors with the same number (>= 1) of dimensions, got {shapes}")
        self.axis = normalize_axis(axis, arrays[0].ndim, "concatenate")
        self.boundaries = np.cumsum([a.shape[self.axis] for a in arrays])[:-1]
        try:
            return np.concatenate(arrays, axis=self.axis)
        except ValueError:
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}") from None

    def backward(self, g):
        return tuple(np.split(g, self.boundaries, axis=self.axis))


class Stack(Function):
    """y = the inputs (all the same shape) joined along a new `axis`."""

    def forward(self, *arrays, axis=0):
        if not arrays:
            raise ValueError("stack: needs at least one tensor")
        self.axis = normalize_axis(axis, arrays[0].ndim + 1, "stack")
        try:
            return np.stack(arrays, axis=axis)
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"stack: all tensors must have the same shape, got {shapes}") from None

    def backward(self, g):
        return tuple(np.moveaxis(g, self.axis, 0))
