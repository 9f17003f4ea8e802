"""Gradient checking: compare backward() with central finite differences, in float64.

    gradcheck(lambda x, w: (x @ w).tanh().sum(), [x, w])

For each input that requires grad and each of its elements, the numeric derivative of the
function's output (projected on a fixed random direction when the output is not a scalar) is
(f(x + eps) - f(x - eps)) / (2 eps); it must match the analytic gradient within atol + rtol * |numeric|.
"""

from __future__ import annotations

import numpy as np

from minconvbert.tensor import Tensor, no_grad

__all__ = ["gradcheck", "GradcheckError", "assert_close"]


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message names the input and the index."""


def _scalar_of(fn, inputs, direction):
    """The function's output reduced to one float: sum(output * direction)."""
    out = fn(*inputs)
    out_data = out.data if isinstance(out, Tensor) else np.asarray(out)
    return float(np.sum(out_data * direction)), out


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check the gradients of `fn(*inputs)` with respect to every input that requires grad.

    inputs: Tensors (float64 for meaningful results; a float32 input raises). Returns True when all
    agree; otherwise raises GradcheckError (or returns False with raise_exception=False) reporting
    which input, which index (the worst one), the analytic and the numeric value, and how many
    elements disagree. An input with no elements (an empty batch) has nothing to compare: the check
    still runs the function and its backward, which must succeed, and then passes.
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64")

    for i in checked:
        inputs[i].grad = None
        inputs[i].data = np.array(inputs[i].data, order="C")  # a writable C-ordered copy: its flat view perturbs it
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    direction = np.random.default_rng(seed).standard_normal(out.shape) if out.size != 1 else np.ones(out.shape)
    if out.requires_grad:
        out.backward(direction.astype(out.dtype))

    for i in checked:
        x = inputs[i]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs the input
        with no_grad():
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus, _ = _scalar_of(fn, inputs, direction)
                flat[j] = original - eps
                minus, _ = _scalar_of(fn, inputs, direction)
                flat[j] = original
                numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))  # > 0: outside tolerance
        bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)  # (also catches nan)
        if bad.any():
            worst = np.where(bad, np.nan_to_num(excess, nan=np.inf), -np.inf)
            index = tuple(int(k) for k in np.unravel_index(np.argmax(worst), x.shape))
            message = (
                f"gradcheck: input {i} (shape {x.shape}) index {index}: analytic {analytic[index]:.10g} "
                f"vs numeric {numeric[index]:.10g} ({int(bad.sum())} of {bad.size} elements differ; "
                f"max abs difference {np.max(np.abs(analytic - numeric)):.3e}, atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def assert_close(actual, expected, atol: float = 1e-5, rtol: float = 0.0, name: str = "value") -> None:
    """Assert two arrays (or Tensors) have the same shape and agree within atol + rtol * |expected|."""
    actual = np.asarray(actual.data if isinstance(actual, Tensor) else actual)
    expected = np.asarray(expected.data if isinstance(expected, Tensor) else expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape} != expected {expected.shape}")
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    limit = atol + rtol * np.abs(expected.astype(np.float64))
    if not np.all(diff <= limit):
        index = tuple(int(k) for k in np.unravel_index(np.argmax(diff - limit), diff.shape))
        raise AssertionError(
            f"{name}: max abs difference {diff.max():.3e} (atol={atol}, rtol={rtol}); at {index}: "
            f"{actual[index]!r} vs expected {expected[index]!r}"
        )
