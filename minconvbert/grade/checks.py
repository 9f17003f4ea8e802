"""What the checks share: compare a student's values with the expected ones, and say what is wrong.

Each helper raises AssertionError with a message that tells the student what differs, not only
that something does:

    close(got, want, "span_conv_forward", axes="bthd")
    -> span_conv_forward: 12 of 84 elements differ (max abs difference 0.91), first at (0, 0, 0, 1),
       (0, 6, 0, 1); all at t = 0 and t = T-1
    close(grad, want, "CrossEntropy: gradient of the logits", sizes={"the batch (rows)": 4})
    -> ...: your values are 4.00 times the expected everywhere: a missing division by the batch (rows) (4)?

`numeric_gradients` differentiates a function of NumPy arrays by central differences (the grader
uses it on the specification); `agree_with_own_forward` tells whether a student's backward matches
finite differences of the student's own forward (a wrong forward with a consistent backward, such
as circular instead of zero padding, passes a gradient check but not the specification).
"""

from __future__ import annotations

import numpy as np

from minconvbert.grade.codec import Unsupported
from minconvbert.tensor import Tensor

__all__ = ["array_of", "close", "mismatch", "numeric_gradients", "agree_with_own_forward", "as_float"]


def array_of(value, what: str) -> np.ndarray:
    """A NumPy array from a Tensor or an array; a clear failure for anything else."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value
    kind = repr(value) if isinstance(value, Unsupported) else f"a {type(value).__name__}"
    raise AssertionError(f"{what}: expected a Tensor or a NumPy array of numbers, got {kind}")


def as_float(value, what: str) -> float:
    """A Python float from the student's scalar answer; a clear failure for anything else."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (Unsupported, str, bytes)) or value is None:
        raise AssertionError(f"{what}: expected a number, got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: expected a number, got a {type(value).__name__}") from None
    if array.shape not in ((), (1,)):
        raise AssertionError(f"{what}: expected a single number, got an array of shape {array.shape}")
    return float(array.reshape(()))


def _axis_pattern(name: str, at: np.ndarray, size: int) -> str:
    """'t = 0 and t = T-1', 't < 2 or t >= T-2', 't = 3' ... for the indices `at` of one axis."""
    end, at = f"{name.upper()}-1", [int(i) for i in at]
    if at == [0, size - 1]:
        return f"{name} = 0 and {name} = {end}"
    if at == [0]:
        return f"{name} = 0"
    if at == [size - 1]:
        return f"{name} = {end}"
    for m in range(2, size // 2 + 1):
        if at == list(range(m)) + list(range(size - m, size)):
            return f"{name} < {m} or {name} >= {name.upper()}-{m} (the first and last {m})"
    if at == list(range(at[-1] + 1)):
        return f"{name} < {at[-1] + 1}"
    if at == list(range(at[0], size)):
        return f"{name} >= {at[0]}"
    shown = ", ".join(map(str, at[:6])) + (", ..." if len(at) > 6 else "")
    return f"{name} in {{{shown}}}"


def _ratio_hint(actual: np.ndarray, expected: np.ndarray, sizes: dict) -> str:
    """'your values are 4.00 times the expected everywhere: a missing division by ...?' or ''."""
    scale = np.abs(expected).max(initial=0.0)
    use = np.isfinite(actual) & np.isfinite(expected) & (np.abs(expected) > 1e-6 * scale + 1e-12)
    if use.sum() < 2:
        return ""
    ratio = actual[use] / expected[use]
    middle = float(np.median(ratio))
    if abs(middle - 1) < 0.05 or np.ptp(ratio) > 0.02 * abs(middle) + 1e-9:
        return ""
    if abs(middle) < 1e-9:
        return "; your values are all zero where the expected are not"
    hint = f"; your values are {middle:.2f} times the expected everywhere"
    for label, n in sizes.items():
        if n > 1 and abs(middle - n) < 0.01 * n:
            return hint + f": a missing division by {label} ({n})?"
        if n > 1 and abs(1 / middle - n) < 0.01 * n:
            return hint + f": an extra division by {label} ({n})?"
    if abs(middle + 1) < 0.01:
        return hint + ": a sign error?"
    if abs(abs(middle) - 2) < 0.02 or abs(abs(middle) - 0.5) < 0.005:
        return hint + ": a missing or extra factor of 2?"
    return hint


def _number(x) -> str:
    return f"{float(x):.6g}" if np.ndim(x) == 0 else repr(x)


def mismatch(actual: np.ndarray, expected: np.ndarray, bad: np.ndarray, axes=None, sizes=None) -> str:
    """How many elements differ, the pattern they follow, where the first is, and a constant ratio."""
    positions = np.argwhere(bad)
    if bad.size == 1:
        text = f"{_number(actual.reshape(-1)[0])}, expected {_number(expected.reshape(-1)[0])}"
    else:
        diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))[bad]
        text = f"{len(positions)} of {bad.size} elements differ" + (
            f" (max abs difference {diff[np.isfinite(diff)].max():.3g})" if np.isfinite(diff).any() else "")
        if axes and len(positions) < bad.size:
            names = list(axes)
            parts = [_axis_pattern(names[a], np.unique(positions[:, a]), bad.shape[a])
                     for a in range(min(len(names), bad.ndim))
                     if bad.shape[a] > 1 and len(np.unique(positions[:, a])) < bad.shape[a]]
            if parts:
                text += ", all at " + ", ".join(parts)
        first = tuple(int(i) for i in positions[0])
        text += f"; the first at {first}: {_number(actual[first])}, expected {_number(expected[first])}"
    return text + _ratio_hint(actual.astype(np.float64), expected.astype(np.float64), sizes or {})


def close(actual, expected, what: str, atol: float = 1e-8, rtol: float = 1e-6, axes: str | None = None,
          sizes: dict | None = None) -> None:
    """actual == expected within atol + rtol * |expected|: same shape, no NaN; otherwise an
    AssertionError saying which elements differ (`axes` names the axes, e.g. "bthd", for the pattern;
    `sizes` names the sizes a constant ratio may point at, e.g. {"the batch": 4})."""
    if isinstance(actual, (float, int, np.floating, np.integer)) and not isinstance(actual, bool):
        actual = np.asarray(actual)
    actual = array_of(actual, what)
    expected = np.asarray(expected.data if isinstance(expected, Tensor) else expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if actual.dtype.kind not in "biuf":
        raise AssertionError(f"{what}: expected numbers, got an array of {actual.dtype}")
    bad = ~np.isclose(actual.astype(np.float64), expected.astype(np.float64), atol=atol, rtol=rtol)
    if not bad.any():
        return
    finite = np.isfinite(actual)
    if not finite.all() and np.isfinite(expected).all():
        raise AssertionError(f"{what}: holds NaN or infinity: {mismatch(actual, expected, ~finite, axes)}")
    raise AssertionError(f"{what}: {mismatch(actual, expected, bad, axes, sizes)}")


def numeric_gradients(function, arrays, direction, eps: float = 1e-6, which=None) -> list[np.ndarray]:
    """Central differences of sum(function(*arrays) * direction) for each array (float64), or for the
    indices in `which`."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for i, array in enumerate(arrays):
        if which is not None and i not in which:
            grads.append(None)
            continue
        grad = np.zeros_like(array)
        flat, out = array.reshape(-1), grad.reshape(-1)
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = float(np.sum(np.asarray(function(*arrays), dtype=np.float64) * direction))
            flat[j] = original - eps
            minus = float(np.sum(np.asarray(function(*arrays), dtype=np.float64) * direction))
            flat[j] = original
            out[j] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def agree_with_own_forward(student, path: str, arrays, direction, grads, eps: float = 1e-6) -> bool | None:
    """Whether `grads` (the student's backward of path(*arrays) along `direction`) match central
    differences of the student's own forward `path`; None when that cannot be told (it raised)."""
    from minconvbert.grade.submission import StudentError

    calls, shapes = [], []
    for i, array in enumerate(arrays):
        flat = np.array(array, dtype=np.float64).reshape(-1)
        for j in range(flat.size):
            for sign in (1, -1):
                moved = [np.array(a, dtype=np.float64) for a in arrays]
                moved[i].reshape(-1)[j] += sign * eps
                calls.append((tuple(moved), {}))
        shapes.append(np.shape(array))
    try:
        values = student.map(path, calls)
        sums = [float(np.sum(array_of(v, path).astype(np.float64) * direction)) for v in values]
    except (StudentError, AssertionError, ValueError, TypeError):
        return None
    position = 0
    for shape, grad in zip(shapes, grads):
        count = int(np.prod(shape))
        pairs = np.array(sums[position : position + 2 * count]).reshape(count, 2)
        numeric = ((pairs[:, 0] - pairs[:, 1]) / (2 * eps)).reshape(shape)
        position += 2 * count
        try:
            if not np.allclose(array_of(grad, path), numeric, atol=1e-5, rtol=1e-4):
                return False
        except AssertionError:
            return False
    return True
