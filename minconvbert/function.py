"""Function: one differentiable operation, and the graph node that records one use of it.

An operation is a subclass with two methods on NumPy arrays:
    forward(self, *arrays, **options) -> array       (store on `self` what backward needs)
    backward(self, grad_out) -> tuple of arrays      (one gradient per input, None where not needed)
`Op.apply(*tensors, **options)` runs forward on the tensors' arrays and, when a gradient is wanted,
wraps the result in a Tensor whose `_ctx` is this Function instance: the instance *is* the node.
Non-tensor options (axis, eps, ...) are keywords, never tensors.
"""

from __future__ import annotations

import numpy as np

from minconvbert.tensor import GRAD_ENABLED, Tensor

__all__ = ["Function", "unbroadcast"]


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    parents: tuple | None = None  # the input tensors; None once the graph is released
    needs_input_grad: tuple = ()  # which inputs want a gradient (backward may skip the others)

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        fn = cls()
        out = fn.forward(*[t.data for t in inputs], **options)
        if GRAD_ENABLED.get():
            needs = tuple([t.requires_grad for t in inputs])  # (a list first: faster than a generator)
            if True in needs:
                fn.parents = inputs
                fn.needs_input_grad = needs
                return Tensor._make(out, fn)
        return Tensor._make(out, None)

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def release(self) -> None:
        """Free what forward saved; a later backward through this node raises a clear error."""
        self.__dict__.clear()
        self.parents = None


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`.

    If x of shape (3, 1) was broadcast to (2, 3, 4), dL/dx is dL/dy summed over axis 0 (added)
    and axis 2 (stretched from 1), keeping (3, 1).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
