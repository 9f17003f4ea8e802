"""Small helpers the assignments' checks share: find a student's name, compare arrays, gradcheck.

Each raises AssertionError with a short message that tells the student what is wrong (the grader
prints it as the reason a check failed).
"""

from __future__ import annotations

import numpy as np

from minconvbert.tensor import Tensor
from minconvbert.testing import GradcheckError, gradcheck

__all__ = ["need", "close", "leaf", "grad_check", "array_of", "backward_with"]


def need(student, name: str):
    """The attribute `name` of the student's module; a clear failure when it is missing."""
    value = getattr(student, name, None)
    if value is None:
        raise AssertionError(f"the student file defines no {name}")
    return value


def array_of(value, what: str) -> np.ndarray:
    """A NumPy array from a Tensor or an array; a clear failure for anything else."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    raise AssertionError(f"{what}: expected a Tensor or a NumPy array, got {type(value).__name__}")


def close(actual, expected, what: str, atol: float = 1e-8, rtol: float = 1e-6) -> None:
    """actual == expected within atol + rtol * |expected|, same shape, no NaN."""
    actual = array_of(actual, what) if not isinstance(actual, (float, int, np.floating)) else np.asarray(actual)
    expected = np.asarray(expected.data if isinstance(expected, Tensor) else expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        raise AssertionError(f"{what}: holds NaN or infinity")
    if not np.allclose(actual, expected, atol=atol, rtol=rtol):
        diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        index = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
        raise AssertionError(f"{what}: wrong values (max abs difference {diff.max():.3g} at index "
                             f"{tuple(int(i) for i in index)}: {actual[index]!r} vs expected {expected[index]!r})")


def leaf(array, dtype=np.float64) -> Tensor:
    """A Tensor that requires grad (float64 by default: gradcheck needs it)."""
    return Tensor(np.array(array, dtype=dtype), requires_grad=True)


def grad_check(fn, inputs, what: str, **tolerances) -> None:
    """minconvbert.gradcheck, its failure reported as the check's reason."""
    try:
        gradcheck(fn, inputs, **tolerances)
    except GradcheckError as error:
        raise AssertionError(f"{what}: {error}") from None


def backward_with(output: Tensor, seed: int = 0) -> np.ndarray:
    """Back-propagate a fixed random output gradient through `output`; returns that gradient."""
    if not isinstance(output, Tensor):
        raise AssertionError(f"expected a Tensor output, got {type(output).__name__}")
    if not output.requires_grad:
        raise AssertionError("the output does not require grad: it was not computed with differentiable "
                             "operations on the inputs")
    direction = np.random.default_rng(seed).standard_normal(output.shape).astype(output.dtype)
    output.backward(direction)
    return direction
