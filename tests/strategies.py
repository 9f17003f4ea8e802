"""Hypothesis strategies shared by the test suite: shapes, float64 arrays, broadcast pairs, axes.

Shapes are small (sides 1-4, a few dimensions) so that a full finite-difference gradient check
stays cheap, and deliberately include the awkward cases: size-1 axes (broadcasting) and an empty
leading (batch) axis. Values are bounded and, where an operation has a kink or a pole, kept away
from it so that central differences are meaningful.

    from tests.strategies import arrays, shapes
    @given(arrays(shapes(min_dims=1)))
    def test_something(x): ...
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minconvbert as mc

__all__ = [
    "shapes", "arrays", "positive_arrays", "away_from_zero_arrays", "distinct_arrays", "tensor",
    "broadcast_shapes", "axes_for", "batch_shapes", "MAX_SIDE",
]  # fmt: skip

MAX_SIDE = 4


@st.composite
def shapes(draw, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = MAX_SIDE,
           empty_batch: bool = True):
    """A shape with `min_dims`..`max_dims` axes of sides in [min_side, max_side].

    With `empty_batch`, about one shape in five has a leading axis of length 0 (an empty batch).
    """
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))
    if min_dims == 0 and not shape:
        return shape
    if empty_batch and shape and draw(st.integers(0, 4)) == 0:
        shape = (0,) + shape[1:]
    return shape


def batch_shapes(trailing: tuple, max_batch_dims: int = 2, empty_batch: bool = True):
    """Shapes (*batch, *trailing) with 0..max_batch_dims batch axes (one of them possibly empty)."""
    return shapes(min_dims=0, max_dims=max_batch_dims, empty_batch=empty_batch).map(lambda s: s + tuple(trailing))


def _floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


def arrays(shape, low: float = -3.0, high: float = 3.0):
    """float64 arrays of `shape` (a tuple or a strategy of tuples) with values in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=_floats(low, high))


def positive_arrays(shape, low: float = 0.2, high: float = 3.0):
    """float64 arrays with values in [low, high] (inputs of log, sqrt, fractional powers, divisors)."""
    return arrays(shape, low, high)


def away_from_zero_arrays(shape, margin: float = 0.1, high: float = 3.0):
    """float64 arrays with |value| in [margin, high]: for relu/selu kinks and divisors of both signs."""
    magnitude = _floats(margin, high)
    return hnp.arrays(np.float64, shape, elements=st.tuples(st.booleans(), magnitude).map(
        lambda sm: -sm[1] if sm[0] else sm[1]))


def distinct_arrays(shape):
    """float64 arrays whose values differ pairwise by at least 0.1 (no ties: max is differentiable)."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-60, 60).map(lambda i: i / 10.0), unique=True)


def tensor(array: np.ndarray, requires_grad: bool = True) -> mc.Tensor:
    """A float64 leaf Tensor holding a private copy of `array`."""
    return mc.Tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


def broadcast_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3):
    """Shapes that broadcast together (some axes of size 1, some missing), as a tuple of tuples."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE
    ).map(lambda bs: bs.input_shapes)


@st.composite
def axes_for(draw, ndim: int, allow_none: bool = True):
    """A valid `axis` argument for a tensor with `ndim` axes: None, an int (maybe negative) or a tuple."""
    choices = [st.just(None)] if allow_none else []
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    if not choices:
        return None
    return draw(st.one_of(*choices))
