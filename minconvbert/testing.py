"""Gradient checking and comparing arrays: finite differences in float64, and what exactly differs.

    gradcheck(lambda x, w: (x @ w).tanh().sum(), [x, w])
    explain_mismatch(got, expected)   # None when they agree, else a sentence saying what is wrong

For each input that requires grad and each of its elements, the numeric derivative of the
function's output (projected on a fixed random direction when the output is not a scalar) is
(f(x + eps) - f(x - eps)) / (2 eps); it must match the analytic gradient within atol + rtol * |numeric|.
"""

from __future__ import annotations

import warnings

import numpy as np

from minconvbert.tensor import Tensor, data_of, no_grad

__all__ = ["gradcheck", "GradcheckError", "GradcheckWarning", "assert_close", "explain_mismatch"]


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message names the input and the index."""


class GradcheckWarning(UserWarning):
    """gradcheck passed an input without checking anything: the output does not depend on it."""


def _scalar_of(fn, inputs, direction):
    """The function's output reduced to one float: sum(output * direction)."""
    out = fn(*inputs)
    out_data = np.asarray(data_of(out))
    return float(np.sum(out_data * direction)), out


def _numeric_gradient(fn, inputs, i, direction, eps):
    """d sum(fn(*inputs) * direction) / d inputs[i], by central differences, element by element."""
    x = inputs[i]
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
    return numeric


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Check the gradients of `fn(*inputs)` with respect to every input that requires grad.

    inputs: Tensors (float64 for meaningful results; a float32 input raises). Returns True when all
    agree; otherwise raises GradcheckError (or returns False with raise_exception=False) reporting
    which input, which index (the worst one), the analytic and the numeric value, how many
    elements disagree, and a constant ratio between the two when there is one. An input the output
    does not depend on at all (backward() never reaches it and no finite difference moves the
    output) passes with a GradcheckWarning saying so: nothing was checked for it. An input with no
    elements (an empty batch) has nothing to compare: the check still runs the function and its
    backward, which must succeed, and then passes.
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
        reached = x.grad is not None
        analytic = x.grad if reached else np.zeros_like(x.data)
        numeric = _numeric_gradient(fn, inputs, i, direction, eps)
        if not reached and out.size and x.size and not numeric.any():
            warnings.warn(f"gradcheck: the output does not depend on input {i} (shape {x.shape}): backward() never "
                          "reached it and no finite difference moved the output, so nothing was checked for it. "
                          "Does the function forget to use it, or should it not require grad?", GradcheckWarning,
                          stacklevel=2)
        bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)  # (also catches nan)
        if bad.any():
            excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))  # > 0: outside tolerance
            worst = np.where(bad, np.nan_to_num(excess, nan=np.inf), -np.inf)
            index = tuple(int(k) for k in np.unravel_index(np.argmax(worst), x.shape))
            message = (
                f"gradcheck: input {i} (shape {x.shape}) index {index}: analytic {analytic[index]:.10g} "
                f"vs numeric {numeric[index]:.10g} ({int(bad.sum())} of {bad.size} elements differ; "
                f"max abs difference {np.max(np.abs(analytic - numeric)):.3e}, atol={atol}, rtol={rtol})"
            )
            if not reached:
                message += (f". backward() gave input {i} no gradient at all, yet the output changes with it: the "
                            "graph is cut between them (a `.data`, a NumPy call on a Tensor's values, a detach(), or "
                            "a backward that returns None for it)")
            else:
                ratio = _constant_ratio(analytic, numeric)
                if ratio is not None:
                    message += f". {_ratio_sentence(ratio, 'analytic', 'numeric')}"
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _constant_ratio(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-3):
    """actual / expected when it is one number (not 1) over every element where expected is not ~0."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(expected))):
        return None
    scale = np.abs(expected).max(initial=0.0)
    big = np.abs(expected) > 1e-6 * scale
    if scale == 0 or big.sum() < 2 or np.any(np.abs(actual[~big]) > 1e-6 * scale):
        return None
    ratios = actual[big] / expected[big]
    ratio = float(np.median(ratios))
    if abs(ratio - 1) < rtol or not np.allclose(ratios, ratio, rtol=rtol, atol=0):
        return None
    return ratio


def _ratio_sentence(ratio: float, actual: str, expected: str) -> str:
    if abs(ratio + 1) < 1e-3:
        return f"{actual} is the negative of {expected} everywhere: the sign is flipped"
    if abs(ratio) < 1e-9:
        return f"{actual} is 0 everywhere"
    hint = f" (a factor {1 / ratio:.4g} missing?)" if abs(ratio) < 1 else (
        f" (a missing division by {ratio:.4g}, e.g. by the batch or the number of elements?)")
    return f"{actual} ≈ {ratio:.4g} × {expected} everywhere: a constant factor{hint}"


def _positions(mask: np.ndarray, limit: int = 3) -> str:
    found = [tuple(int(i) for i in index) for index in np.argwhere(mask)[:limit]]
    more = ", ..." if mask.sum() > limit else ""
    return ", ".join(str(index[0]) if len(index) == 1 else str(index) for index in found) + more


def _pattern(bad: np.ndarray) -> str | None:
    """'all at index 0 and 11 of axis 1 (of 12)' when the differences sit at a few indices of one axis."""
    best = None
    for axis, n in enumerate(bad.shape):
        if n < 3:
            continue
        hit = np.flatnonzero(bad.any(axis=tuple(a for a in range(bad.ndim) if a != axis)))
        if len(hit) <= max(1, n // 3) and (best is None or len(hit) / n < best[0]):
            best = (len(hit) / n, axis, hit, n)
    if best is None:
        return None
    _, axis, hit, n = best
    names = " and ".join(str(int(i)) for i in hit) if len(hit) <= 3 else f"{len(hit)} indices from {hit[0]}"
    ends = " (the two ends)" if set(hit.tolist()) == {0, n - 1} else ""
    return f"all at index {names} of axis {axis} (of {n}){ends}"


def _shift(actual: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> str | None:
    """'shifted by +1 along axis 1' when actual is expected moved 1, 2 or 3 steps along an axis."""
    for size in (1, 2, 3):
        for axis, n in enumerate(expected.shape):
            if n < 3 * size:
                continue
            for step in (size, -size):
                a = np.take(actual, range(max(step, 0), n + min(step, 0)), axis=axis)
                e = np.take(expected, range(max(-step, 0), n + min(-step, 0)), axis=axis)
                if np.abs(e).max(initial=0) > 0 and np.allclose(a, e, atol=atol, rtol=rtol):
                    what = "an index off by one" if size == 1 else f"an index or a padding off by {size}"
                    return f"it is the expected array shifted by {step:+d} along axis {axis}: {what}?"
    return None


def _explain_arrays(actual, expected: np.ndarray, atol: float, rtol: float) -> str | None:
    if isinstance(actual, Tensor):
        actual = actual.data
    if actual is None or isinstance(actual, (str, bytes, dict)):
        return f"got {type(actual).__name__}, expected an array of shape {expected.shape}"
    actual = np.asarray(actual)
    if actual.dtype.kind not in "fiub":
        return f"got an array of dtype {actual.dtype}, expected numbers of shape {expected.shape}"
    if actual.shape != expected.shape:
        message = f"shape {actual.shape}, expected {expected.shape}"
        differing = [axis for axis, (a, e) in enumerate(zip(actual.shape, expected.shape)) if a != e]
        if actual.ndim == expected.ndim and len(differing) == 1:
            axis = differing[0]
            more = actual.shape[axis] - expected.shape[axis]
            message += f": axis {axis} has {abs(more)} {'more' if more > 0 else 'fewer'} entries than it should"
        elif actual.size == expected.size:
            message += ": the same number of elements, so a reshape or a transpose away"
        elif actual.ndim > expected.ndim and actual.shape[-expected.ndim or len(actual.shape):] == expected.shape:
            message += f": not yet summed over the leading axes {tuple(range(actual.ndim - expected.ndim))}"
        return message
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    bad = ~np.isclose(a, e, atol=atol, rtol=rtol, equal_nan=True)
    if not bad.any():
        return None
    if np.isnan(a).any() and not np.isnan(e).any():
        return f"NaN at {int(np.isnan(a).sum())} of {a.size} elements, first at {_positions(np.isnan(a))}"
    if a.ndim == 0:
        factor = f" ({a / e:.4g} × the expected)" if e != 0 and a != 0 else ""
        return f"yours {a:.6g}, expected {e:.6g}{factor}"
    count = f"{int(bad.sum())} of {bad.size} elements differ"
    ratio = _constant_ratio(a, e)
    if ratio is not None:
        return f"{count}: {_ratio_sentence(ratio, 'yours', 'the expected value')}"
    if a.ndim >= 2 and a.shape[-1] == a.shape[-2] and np.allclose(np.swapaxes(a, -1, -2), e, atol=atol, rtol=rtol):
        return f"{count}: yours is the transpose of the expected (last two axes swapped)"
    shifted = _shift(a, e, atol, rtol)
    if shifted is not None:
        return f"{count}: {shifted}"
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = _pattern(bad) if bad.sum() > 1 else None
    first = f"first at {_positions(bad)}" + (f", {where}" if where else "")
    return (f"{count} ({first}); at {index}: yours {a[index]:.6g}, expected {e[index]:.6g}; "
            f"max abs difference {np.nanmax(np.abs(a - e)):.3g}")


def explain_mismatch(actual, expected, atol: float = 1e-8, rtol: float = 1e-6) -> str | None:
    """None when `actual` equals `expected`; otherwise one sentence saying what differs.

    Arrays (and Tensors) are compared within atol + rtol * |expected|: a wrong shape (and whether
    a reshape or a sum would fix it), NaN, how many elements differ and where the first ones are,
    a pattern of positions (all at the two ends of an axis), a constant factor or a flipped sign,
    a transpose, or a shift by one along an axis. Tuples and lists are compared element by
    element (a list of strings or ints as a whole: the first position that differs); other values
    with ==.
    """
    if isinstance(expected, Tensor):
        expected = expected.data
    if isinstance(expected, np.ndarray) or isinstance(expected, (float, np.floating)):
        if isinstance(actual, (int, float, np.number)) and np.ndim(expected) == 0:
            actual = np.asarray(actual)
        return _explain_arrays(actual, np.asarray(expected), atol, rtol)
    if isinstance(expected, (tuple, list)) and not all(isinstance(v, (str, int, np.integer)) for v in expected):
        if not isinstance(actual, (tuple, list)):
            return f"got {type(actual).__name__}, expected a {type(expected).__name__} of {len(expected)} values"
        if len(actual) != len(expected):
            return f"{len(actual)} values, expected {len(expected)}"
        for position, (a, e) in enumerate(zip(actual, expected)):
            problem = explain_mismatch(a, e, atol, rtol)
            if problem is not None:
                return f"value {position}: {problem}"
        return None
    if isinstance(expected, (tuple, list)):
        actual_list = list(actual) if isinstance(actual, (tuple, list)) else actual
        if actual_list == list(expected):
            return None
        if not isinstance(actual_list, list):
            return f"got {actual!r}, expected {list(expected)!r}"
        first = next((i for i, (a, e) in enumerate(zip(actual_list, expected)) if a != e), None)
        if first is None:
            return f"{len(actual_list)} items, expected {len(expected)}: {actual_list!r} vs {list(expected)!r}"
        return f"item {first} is {actual_list[first]!r}, expected {expected[first]!r}: {actual_list!r} vs {list(expected)!r}"
    return None if actual == expected else f"got {actual!r}, expected {expected!r}"


def assert_close(actual, expected, atol: float = 1e-5, rtol: float = 0.0, name: str = "value") -> None:
    """Assert two arrays (or Tensors) have the same shape and agree within atol + rtol * |expected|."""
    actual = np.asarray(data_of(actual))
    expected = np.asarray(data_of(expected))
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
