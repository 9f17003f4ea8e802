"""numba kernels: the functions of `minconvbert.kernels.reference`, compiled as loops.

Same names, signatures and results as the reference (float32 within ~1e-6, float64 within ~1e-12).
Each kernel has three layers; read them from the bottom up:

    _name_plain(...)   a plain Python loop over NumPy arrays: the maths one element at a time;
    _NAME              that loop compiled (`_Loop`): njit(parallel=True, cache=True, fastmath=False,
                       error_model="numpy")(_name_plain);
    name(...)          the public function: checks its arguments, makes contiguous arrays in the
                       compute dtype, folds leading axes into rows, runs the loop, and returns what
                       `reference.name` returns (same shapes, same dtypes).

With NUMBA_DISABLE_JIT=1 numba hands back `_name_plain` unchanged, so a debugger can step through
every loop. What keeps the loops fast:
- float32 stays float32, with exp and the normal cdf/pdf from `minconvbert.kernels.vecmath` (plain
  arithmetic that LLVM vectorises; a libm call would not be);
- error_model="numpy": a division by zero gives inf as in NumPy instead of raising, and the check
  that raising would need stops LLVM from vectorising the loop;
- sums over a row run as eight interleaved partial sums (`_dot`, `_sum`, `_max`), sums in float64.
`cache=True` compiles once per machine; the machine code lands in minconvbert/kernels/__pycache__.

Threading: parallel loops run on numba's "workqueue" thread pool unless the user chose a layer
(NUMBA_THREADING_LAYER, or numba.config.THREADING_LAYER set before this import). On numba's default
OpenMP layer the pool's threads spin-wait after each kernel and slow the next OpenBLAS matrix
product; docs/kernels.md has the measurement. Waking the pool costs tens of microseconds, more than
a small array takes on one core, so a loop over fewer than SERIAL_BELOW elements runs a serial
compilation of the same loop. workqueue also cannot be entered from two threads at once, so a call
from any thread but the main one runs the serial compilation too.
"""

from __future__ import annotations

import math
import os
import threading
import types

import numba
import numpy as np
from numba import njit, prange

from minconvbert.kernels.reference import GELU_NEW_CUBIC, SQRT_2_OVER_PI
from minconvbert.kernels.vecmath import exp, normal_cdf, normal_pdf

__all__ = [
    "gelu_forward", "gelu_backward", "gelu_new_forward", "gelu_new_backward",
    "softmax_forward", "softmax_backward", "layer_norm_forward", "layer_norm_backward",
    "span_conv_forward", "span_conv_backward", "depthwise_conv1d_forward", "depthwise_conv1d_backward",
]  # fmt: skip

SERIAL_BELOW = 262_144  # elements in a loop's first array below which waking the thread pool costs more
#                         than it saves (docs/kernels.md: a (16, 64) layer norm takes 10 us serial, 250 us
#                         parallel; at 65,536 elements 91 us against 228 us)
ROWS_PER_CHUNK = 32  # rows per partial sum in the cross-row reductions (a fixed size keeps results
#                      independent of the number of threads)


def _choose_threading_layer() -> None:
    """Use numba's workqueue pool for parallel loops unless the user already chose a layer."""
    if "NUMBA_THREADING_LAYER" in os.environ or numba.config.THREADING_LAYER != "default":
        return
    numba.config.THREADING_LAYER = "workqueue"


_choose_threading_layer()


class _Loop:
    """A plain loop compiled twice: parallel for large arrays on the main thread, serial otherwise.

    Both compilations are cached. numba names a cache file after the function's qualified name, so
    the serial one compiles a copy of the function under another name ("<name>_serial").
    """

    def __init__(self, plain):
        self.plain = plain
        self.compiled = njit(parallel=True, cache=True, fastmath=False, error_model="numpy")(plain)
        self._serial = None

    def serial(self):
        """The loop compiled without `parallel` (compiled on first use)."""
        if self._serial is None:
            copy = types.FunctionType(self.plain.__code__, self.plain.__globals__, self.plain.__name__ + "_serial")
            copy.__qualname__ = self.plain.__qualname__ + "_serial"
            self._serial = njit(cache=True, fastmath=False, error_model="numpy")(copy)
        return self._serial

    def __call__(self, *args):
        if args[0].size < SERIAL_BELOW or threading.current_thread() is not threading.main_thread():
            return self.serial()(*args)
        return self.compiled(*args)


# ----- row reductions ---------------------------------------------------------------------------
# `total += a[j]` waits for each addition before starting the next, and without fastmath LLVM may not
# reorder it. Eight interleaved partial sums are eight independent chains that run side by side; the
# order of the additions is still fixed, so results do not depend on the machine or thread count.
@njit(inline="always")
def _dot(a, b):
    """sum_j a[j] * b[j], accumulated in float64; a, b (N,)."""
    n = a.shape[0]
    s0, s1, s2, s3, s4, s5, s6, s7 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    j = 0
    while j + 8 <= n:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
        j += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        total += a[j] * b[j]
        j += 1
    return total


@njit(inline="always")
def _sum(a):
    """sum_j a[j], accumulated in float64; a (N,)."""
    n = a.shape[0]
    s0, s1, s2, s3, s4, s5, s6, s7 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    j = 0
    while j + 8 <= n:
        s0 += a[j]
        s1 += a[j + 1]
        s2 += a[j + 2]
        s3 += a[j + 3]
        s4 += a[j + 4]
        s5 += a[j + 5]
        s6 += a[j + 6]
        s7 += a[j + 7]
        j += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        total += a[j]
        j += 1
    return total


@njit(inline="always")
def _max(a):
    """max_j a[j] as eight interleaved running maxima; a (N,), N >= 1. A NaN may be skipped: the
    callers feed the values to exp and a sum, where a NaN spreads anyway."""
    n = a.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = a[0]
    j = 0
    while j + 8 <= n:
        m0 = a[j] if a[j] > m0 else m0
        m1 = a[j + 1] if a[j + 1] > m1 else m1
        m2 = a[j + 2] if a[j + 2] > m2 else m2
        m3 = a[j + 3] if a[j + 3] > m3 else m3
        m4 = a[j + 4] if a[j + 4] > m4 else m4
        m5 = a[j + 5] if a[j + 5] > m5 else m5
        m6 = a[j + 6] if a[j + 6] > m6 else m6
        m7 = a[j + 7] if a[j + 7] > m7 else m7
        j += 8
    for m in (m1, m2, m3, m4, m5, m6, m7):
        m0 = m if m > m0 else m0
    while j < n:
        m0 = a[j] if a[j] > m0 else m0
        j += 1
    return m0


# ----- argument checks and array preparation ---------------------------------------------------
def _float_array(function: str, name: str, value) -> np.ndarray:
    """`value` as an ndarray; a TypeError naming the argument unless it holds floating-point numbers."""
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"{function}: {name} must be a floating-point array, got dtype {array.dtype}")
    return array


def _work_dtype(dtype) -> np.dtype:
    """The dtype the loops compute in: float32 and float64 as themselves, other widths in the nearer."""
    return np.dtype(np.float32) if np.dtype(dtype).itemsize <= 4 else np.dtype(np.float64)


def _contiguous(array: np.ndarray, dtype) -> np.ndarray:
    """`array` as a C-contiguous array of `dtype` (no copy when it already is one)."""
    return np.ascontiguousarray(array, dtype=dtype)


def _same_shape(function: str, name: str, array: np.ndarray, shape: tuple) -> None:
    if array.shape != shape:
        raise ValueError(f"{function}: {name} has shape {array.shape}, expected {shape}")


# ----- GELU ------------------------------------------------------------------------------------
def _gelu_forward_plain(x, out):
    """out[i] = x[i] * Phi(x[i]); x, out (N,)."""
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = v * normal_cdf(v)


def _gelu_backward_plain(x, grad_y, out):
    """out[i] = grad_y[i] * (Phi(x[i]) + x[i] * phi(x[i])); all (N,)."""
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = grad_y[i] * (normal_cdf(v) + v * normal_pdf(v))


def _gelu_new_forward_plain(x, out):
    """out = x/2 * (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3); x, out (N,).

    Computed as x * s with s = (1 + tanh u)/2 = 1 / (1 + exp(-2u)): one exp instead of tanh, and
    exp(-2|u|) <= 1 so nothing overflows.
    """
    real = x.dtype.type
    one, two, c, cubic = real(1.0), real(2.0), real(SQRT_2_OVER_PI), real(GELU_NEW_CUBIC)
    for i in prange(x.shape[0]):
        v = x[i]
        u = c * (v + cubic * v * v * v)
        a = exp(-two * abs(u))
        s = one / (one + a) if u >= 0 else a / (one + a)
        out[i] = v * s


def _gelu_new_backward_plain(x, grad_y, out):
    """out = grad_y * (s + 2 x s (1 - s) du/dx), s = (1 + tanh u)/2, du/dx = sqrt(2/pi)(1 + 3*0.044715 x^2).

    This equals the reference's (1 + t)/2 + x/2 (1 - t^2) du/dx with t = tanh u = 2s - 1.
    """
    real = x.dtype.type
    one, two, three = real(1.0), real(2.0), real(3.0)
    c, cubic = real(SQRT_2_OVER_PI), real(GELU_NEW_CUBIC)
    for i in prange(x.shape[0]):
        v = x[i]
        u = c * (v + cubic * v * v * v)
        a = exp(-two * abs(u))
        s = one / (one + a) if u >= 0 else a / (one + a)
        s_times_1_minus_s = a / ((one + a) * (one + a))
        du = c * (one + three * cubic * v * v)
        out[i] = grad_y[i] * (s + two * v * s_times_1_minus_s * du)


_GELU_FORWARD = _Loop(_gelu_forward_plain)
_GELU_BACKWARD = _Loop(_gelu_backward_plain)
_GELU_NEW_FORWARD = _Loop(_gelu_new_forward_plain)
_GELU_NEW_BACKWARD = _Loop(_gelu_new_backward_plain)


def _elementwise(loop, function: str, x, grad_y=None, out_dtype=None):
    """Run an elementwise loop on x (and grad_y, same shape) flattened to 1-D; result in out_dtype."""
    x = _float_array(function, "x", x)
    arrays = [x]
    if grad_y is not None:
        grad_y = _float_array(function, "grad_y", grad_y)
        _same_shape(function, "grad_y", grad_y, x.shape)
        arrays.append(grad_y)
    work = _work_dtype(np.result_type(*arrays))
    flat = [_contiguous(a, work).reshape(-1) for a in arrays]  # (N,)
    out = np.empty_like(flat[0])
    loop(*flat, out)
    out_dtype = x.dtype if out_dtype is None else out_dtype
    return out.reshape(x.shape).astype(out_dtype, copy=False)


def gelu_forward(x):
    """y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))); any shape, y has x's shape and dtype."""
    return _elementwise(_GELU_FORWARD, "gelu_forward", x)


def gelu_backward(x, grad_y):
    """dL/dx = grad_y * (Phi(x) + x * phi(x)); x and grad_y of one shape, result in x's dtype."""
    return _elementwise(_GELU_BACKWARD, "gelu_backward", x, grad_y)


def gelu_new_forward(x):
    """y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))); any shape, x's dtype."""
    return _elementwise(_GELU_NEW_FORWARD, "gelu_new_forward", x)


def gelu_new_backward(x, grad_y):
    """dL/dx of the tanh-approximated GELU; x and grad_y of one shape, dtype of x and grad_y combined."""
    x = _float_array("gelu_new_backward", "x", x)
    grad_y = _float_array("gelu_new_backward", "grad_y", grad_y)
    return _elementwise(_GELU_NEW_BACKWARD, "gelu_new_backward", x, grad_y, np.result_type(x, grad_y))


# ----- softmax over the last axis, with an optional additive mask -------------------------------
def _softmax_forward_plain(x, mask, mask_row, out):
    """out[r] = softmax(x[r] + mask[mask_row[r]]); x, out (R, N), mask (M, N), mask_row (R,).

    As the reference: add the mask in x's dtype, subtract the row maximum, exponentiate, divide by
    the sum. A row masked everywhere with finfo.min becomes uniform; with -inf, NaN; a NaN anywhere
    in a row makes the sum, hence the whole row, NaN (as np.max's NaN does in the reference).
    """
    rows, n = x.shape
    for r in prange(rows):
        m = mask_row[r]
        for j in range(n):
            out[r, j] = x[r, j] + mask[m, j]
        top = _max(out[r])
        for j in range(n):
            out[r, j] = exp(out[r, j] - top)
        total = _sum(out[r])
        for j in range(n):
            out[r, j] = out[r, j] / total


def _softmax_backward_plain(y, grad_y, out):
    """out[r] = y[r] * (grad_y[r] - sum_j grad_y[r, j] y[r, j]); all (R, N)."""
    rows, n = y.shape
    for r in prange(rows):
        dot = _dot(grad_y[r], y[r])
        for j in range(n):
            out[r, j] = y[r, j] * (grad_y[r, j] - dot)


_SOFTMAX_FORWARD = _Loop(_softmax_forward_plain)
_SOFTMAX_BACKWARD = _Loop(_softmax_backward_plain)


def _mask_rows(mask: np.ndarray, shape: tuple, dtype) -> tuple:
    """The mask as distinct rows (M, N) plus, for each of x's rows, the index of its mask row.

    A (B, 1, 1, T) mask against (B, H, T, T) scores has B distinct rows; the full broadcast
    (B*H*T rows) is never built.
    """
    n = shape[-1]
    mask = mask.reshape((1,) * (len(shape) - mask.ndim) + mask.shape)  # same number of axes as x
    lead = mask.shape[:-1]
    rows = _contiguous(np.broadcast_to(mask, lead + (n,)), dtype).reshape(-1, n)  # (M, N)
    index = np.arange(rows.shape[0], dtype=np.int64).reshape(lead)
    row_of = _contiguous(np.broadcast_to(index, shape[:-1]), np.int64).reshape(-1)  # (R,)
    return rows, row_of


def softmax_forward(x, mask=None):
    """y = softmax(x + mask) over the last axis; `mask` broadcasts to x (0 keeps, a large negative drops).

    x (..., N); the result has the broadcast shape and the dtype of x + mask.
    """
    x = _float_array("softmax_forward", "x", x)
    if mask is None:
        out_dtype, shape, mask_array = x.dtype, x.shape, None
    else:
        mask_array = np.asarray(mask)
        if mask_array.dtype.kind not in "biuf":
            raise TypeError(f"softmax_forward: mask must hold numbers, got dtype {mask_array.dtype}")
        out_dtype = np.result_type(x, mask)  # a Python float mask keeps x's dtype, as in x + mask
        try:
            shape = np.broadcast_shapes(x.shape, mask_array.shape)
        except ValueError:
            raise ValueError(f"softmax_forward: mask of shape {mask_array.shape} does not broadcast "
                             f"to x of shape {x.shape}") from None
    if len(shape) == 0 or shape[-1] == 0:
        raise ValueError(f"softmax_forward: the last axis of x (shape {shape}) is empty; softmax needs "
                         f"at least one element")
    work = _work_dtype(out_dtype)
    n = shape[-1]
    x_rows = _contiguous(np.broadcast_to(x, shape), work).reshape(-1, n)  # (R, N)
    if mask_array is None:
        mask_rows, row_of = np.zeros((1, n), dtype=work), np.zeros(x_rows.shape[0], dtype=np.int64)
    else:
        mask_rows, row_of = _mask_rows(mask_array, shape, work)
    out = np.empty_like(x_rows)
    _SOFTMAX_FORWARD(x_rows, mask_rows, row_of, out)
    return out.reshape(shape).astype(out_dtype, copy=False)


def softmax_backward(y, grad_y):
    """dL/dx = y * (grad_y - sum(grad_y * y)) over the last axis; y and grad_y of one shape."""
    y = _float_array("softmax_backward", "y", y)
    grad_y = _float_array("softmax_backward", "grad_y", grad_y)
    _same_shape("softmax_backward", "grad_y", grad_y, y.shape)
    out_dtype = np.result_type(y, grad_y)
    if y.ndim == 0:
        raise ValueError("softmax_backward: y must have at least one axis")
    work = _work_dtype(out_dtype)
    n = y.shape[-1]
    rows = math.prod(y.shape[:-1])
    y_rows = _contiguous(y, work).reshape(rows, n)  # (R, N)
    g_rows = _contiguous(grad_y, work).reshape(rows, n)
    out = np.empty_like(y_rows)
    _SOFTMAX_BACKWARD(y_rows, g_rows, out)
    return out.reshape(y.shape).astype(out_dtype, copy=False)


# ----- layer norm over the last axis ------------------------------------------------------------
def _layer_norm_forward_plain(x, weight, bias, eps, y, mean, rstd):
    """Per row r of x (R, N): mean[r], rstd[r] = 1/sqrt(var + eps), y[r] = (x[r] - mean) rstd weight + bias.

    Two passes as in the reference (the mean, then the centred squares), sums in float64; y holds
    the centred row in between.
    """
    rows, n = x.shape
    for r in prange(rows):
        mu = _sum(x[r]) / n
        for j in range(n):
            y[r, j] = x[r, j] - mu
        inv_std = 1.0 / math.sqrt(_dot(y[r], y[r]) / n + eps)
        mean[r] = mu
        rstd[r] = inv_std
        for j in range(n):
            y[r, j] = y[r, j] * inv_std * weight[j] + bias[j]


def _layer_norm_backward_plain(grad_y, x, weight, mean, rstd, grad_x, partial_weight, partial_bias):
    """grad_x[r] = rstd (g - mean(g) - x_hat mean(g x_hat)), g = grad_y[r] * weight, x_hat = (x[r] - mean) rstd.

    grad_y, x, grad_x (R, N); mean, rstd (R,). Chunk c of ROWS_PER_CHUNK rows adds its rows' grad_y * x_hat
    and grad_y into partial_weight[c] and partial_bias[c] (C, N), float64; the caller sums over c.
    """
    rows, n = x.shape
    for c in prange(partial_weight.shape[0]):
        x_hat = np.empty(n)  # float64 scratch rows for this chunk
        g = np.empty(n)
        for r in range(c * ROWS_PER_CHUNK, min(rows, (c + 1) * ROWS_PER_CHUNK)):
            mu = np.float64(mean[r])
            inv_std = np.float64(rstd[r])
            for j in range(n):
                x_hat[j] = (x[r, j] - mu) * inv_std
                g[j] = grad_y[r, j] * weight[j]
            mean_g = _sum(g) / n
            mean_g_xhat = _dot(g, x_hat) / n
            for j in range(n):
                grad_x[r, j] = inv_std * (g[j] - mean_g - x_hat[j] * mean_g_xhat)
                partial_weight[c, j] += grad_y[r, j] * x_hat[j]
                partial_bias[c, j] += grad_y[r, j]


_LAYER_NORM_FORWARD = _Loop(_layer_norm_forward_plain)
_LAYER_NORM_BACKWARD = _Loop(_layer_norm_backward_plain)


def _layer_norm_arrays(function: str, x, weight):
    x = _float_array(function, "x", x)
    weight = _float_array(function, "weight", weight)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{function}: x (shape {x.shape}) needs a non-empty last axis to normalise over")
    _same_shape(function, "weight", weight, x.shape[-1:])
    return x, weight


def layer_norm_forward(x, weight, bias, eps):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis.

    x (..., N), weight (N,), bias (N,). Returns (y, mean, rstd), mean and rstd = 1/sqrt(var + eps)
    of shape x.shape[:-1] + (1,) in x's dtype, saved for backward.
    """
    x, weight = _layer_norm_arrays("layer_norm_forward", x, weight)
    bias = _float_array("layer_norm_forward", "bias", bias)
    _same_shape("layer_norm_forward", "bias", bias, x.shape[-1:])
    out_dtype = np.result_type(x, weight, bias)
    work = _work_dtype(out_dtype)
    n = x.shape[-1]
    x_rows = _contiguous(x, work).reshape(-1, n)  # (R, N)
    y = np.empty_like(x_rows)
    mean = np.empty(x_rows.shape[0], dtype=np.float64)
    rstd = np.empty(x_rows.shape[0], dtype=np.float64)
    _LAYER_NORM_FORWARD(x_rows, _contiguous(weight, work), _contiguous(bias, work), float(eps), y, mean, rstd)
    stats_shape = x.shape[:-1] + (1,)
    return (
        y.reshape(x.shape).astype(out_dtype, copy=False),
        mean.reshape(stats_shape).astype(x.dtype),
        rstd.reshape(stats_shape).astype(np.result_type(x.dtype, eps)),  # as var + eps in the reference
    )


def layer_norm_backward(grad_y, x, weight, mean, rstd):
    """(dL/dx, dL/dweight, dL/dbias) of layer norm, from the mean and rstd saved by the forward.

    grad_y, x (..., N); weight (N,); mean, rstd (..., 1). dL/dweight = sum(grad_y * x_hat) and
    dL/dbias = sum(grad_y), both (N,), summed over every axis but the last.
    """
    x, weight = _layer_norm_arrays("layer_norm_backward", x, weight)
    grad_y = _float_array("layer_norm_backward", "grad_y", grad_y)
    _same_shape("layer_norm_backward", "grad_y", grad_y, x.shape)
    mean = _float_array("layer_norm_backward", "mean", mean)
    rstd = _float_array("layer_norm_backward", "rstd", rstd)
    rows = x.size // x.shape[-1]
    for name, stat in (("mean", mean), ("rstd", rstd)):
        if stat.size != rows:
            raise ValueError(f"layer_norm_backward: {name} has shape {stat.shape}, expected {x.shape[:-1] + (1,)}")
    dtype_x = np.result_type(grad_y, weight, x, mean, rstd)
    dtype_weight = np.result_type(grad_y, x, mean, rstd)
    work = _work_dtype(dtype_x)
    n = x.shape[-1]
    chunks = -(-rows // ROWS_PER_CHUNK)
    grad_x = np.empty((rows, n), dtype=work)
    partial_weight = np.zeros((chunks, n))
    partial_bias = np.zeros((chunks, n))
    _LAYER_NORM_BACKWARD(
        _contiguous(grad_y, work).reshape(rows, n), _contiguous(x, work).reshape(rows, n), _contiguous(weight, work),
        _contiguous(mean, work).reshape(rows), _contiguous(rstd, work).reshape(rows),
        grad_x, partial_weight, partial_bias,
    )  # fmt: skip
    return (
        grad_x.reshape(x.shape).astype(dtype_x, copy=False),
        partial_weight.sum(axis=0).astype(dtype_weight),
        partial_bias.sum(axis=0).astype(grad_y.dtype),
    )


# ----- span-based dynamic convolution -----------------------------------------------------------
def _span_conv_forward_plain(values, kernels, out):
    """out[b, t, h, :] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, :], P = (K - 1) // 2.

    values, out (B, T, H, D); kernels (B, T, H, K). Positions outside [0, T) contribute nothing
    (zero padding), and no unfolded (B, T, H, D, K) copy is ever made.
    """
    batch, length, heads, size = values.shape
    width = kernels.shape[3]
    pad = (width - 1) // 2
    for bt in prange(batch * length):
        b = bt // length
        t = bt % length
        for h in range(heads):
            for d in range(size):
                out[b, t, h, d] = 0.0
            for k in range(width):
                s = t + k - pad
                if 0 <= s < length:
                    w = kernels[b, t, h, k]
                    for d in range(size):
                        out[b, t, h, d] += w * values[b, s, h, d]


def _span_conv_backward_plain(values, kernels, grad_out, grad_values, grad_kernels):
    """grad_values[b, s, h, :] = sum_k kernels[b, s - k + P, h, k] * grad_out[b, s - k + P, h, :];
    grad_kernels[b, t, h, k] = sum_d grad_out[b, t, h, d] * values[b, t + k - P, h, d].

    Both are gathered per output position (b, s), so parallel iterations never write to the same place.
    """
    batch, length, heads, size = values.shape
    width = kernels.shape[3]
    pad = (width - 1) // 2
    for bs in prange(batch * length):
        b = bs // length
        s = bs % length
        for h in range(heads):
            for d in range(size):
                grad_values[b, s, h, d] = 0.0
            for k in range(width):
                t = s - k + pad  # the output position that read values[b, s] through tap k
                if 0 <= t < length:
                    w = kernels[b, t, h, k]
                    for d in range(size):
                        grad_values[b, s, h, d] += w * grad_out[b, t, h, d]
            for k in range(width):
                source = s + k - pad
                if 0 <= source < length:
                    grad_kernels[b, s, h, k] = _dot(grad_out[b, s, h], values[b, source, h])
                else:
                    grad_kernels[b, s, h, k] = 0.0


_SPAN_CONV_FORWARD = _Loop(_span_conv_forward_plain)
_SPAN_CONV_BACKWARD = _Loop(_span_conv_backward_plain)


def _span_conv_arrays(function: str, values, kernels):
    values = _float_array(function, "values", values)
    kernels = _float_array(function, "kernels", kernels)
    if values.ndim != 4 or kernels.ndim != 4 or values.shape[:3] != kernels.shape[:3]:
        raise ValueError(
            f"{function}: expected values (B, T, H, D) and kernels (B, T, H, K), got {values.shape} and {kernels.shape}"
        )
    return values, kernels


def span_conv_forward(values, kernels):
    """out[b, t, h, d] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, d], P = (K - 1) // 2.

    values (B, T, H, D), kernels (B, T, H, K) -> (B, T, H, D), zeros outside [0, T).
    """
    values, kernels = _span_conv_arrays("span_conv_forward", values, kernels)
    out_dtype = np.result_type(values, kernels)
    work = _work_dtype(out_dtype)
    values_c = _contiguous(values, work)
    out = np.empty_like(values_c)
    _SPAN_CONV_FORWARD(values_c, _contiguous(kernels, work), out)
    return out.astype(out_dtype, copy=False)


def span_conv_backward(values, kernels, grad_out):
    """(dL/dvalues (B, T, H, D), dL/dkernels (B, T, H, K)) in grad_out's dtype."""
    values, kernels = _span_conv_arrays("span_conv_backward", values, kernels)
    grad_out = _float_array("span_conv_backward", "grad_out", grad_out)
    _same_shape("span_conv_backward", "grad_out", grad_out, values.shape)
    work = _work_dtype(np.result_type(values, kernels, grad_out))
    grad_values = np.empty(values.shape, dtype=work)
    grad_kernels = np.empty(kernels.shape, dtype=work)
    _SPAN_CONV_BACKWARD(
        _contiguous(values, work), _contiguous(kernels, work), _contiguous(grad_out, work), grad_values, grad_kernels
    )
    return grad_values.astype(grad_out.dtype, copy=False), grad_kernels.astype(grad_out.dtype, copy=False)


# ----- depthwise 1-D convolution over the sequence ----------------------------------------------
def _depthwise_conv1d_forward_plain(x, weight_t, y):
    """y[b, t, :] = sum_k weight_t[k, :] * x[b, t + k - P, :], P = K // 2; x, y (B, T, C), weight_t (K, C).

    The weight comes transposed so that the innermost loop runs along contiguous channels.
    """
    batch, length, channels = x.shape
    width = weight_t.shape[0]
    pad = width // 2
    for bt in prange(batch * length):
        b = bt // length
        t = bt % length
        for c in range(channels):
            y[b, t, c] = 0.0
        for k in range(width):
            s = t + k - pad
            if 0 <= s < length:
                for c in range(channels):
                    y[b, t, c] += weight_t[k, c] * x[b, s, c]


def _depthwise_conv1d_backward_plain(x, weight_t, grad_y, grad_x, partial_weight):
    """grad_x[b, s, :] = sum_k weight_t[k, :] * grad_y[b, s - k + P, :] (gathered per position);
    partial_weight[c, k, :] = sum over the ROWS_PER_CHUNK positions (b, t) of chunk c of
    grad_y[b, t, :] * x[b, t + k - P, :], float64 (C, K, channels); the caller sums over c.
    """
    batch, length, channels = x.shape
    width = weight_t.shape[0]
    pad = width // 2
    rows = batch * length
    for chunk in prange(partial_weight.shape[0]):
        for bt in range(chunk * ROWS_PER_CHUNK, min(rows, (chunk + 1) * ROWS_PER_CHUNK)):
            b = bt // length
            t = bt % length
            for c in range(channels):
                grad_x[b, t, c] = 0.0
            for k in range(width):
                later = t - k + pad  # the output position that read x[b, t] through tap k
                if 0 <= later < length:
                    for c in range(channels):
                        grad_x[b, t, c] += weight_t[k, c] * grad_y[b, later, c]
                source = t + k - pad
                if 0 <= source < length:
                    for c in range(channels):
                        partial_weight[chunk, k, c] += grad_y[b, t, c] * x[b, source, c]


_DEPTHWISE_FORWARD = _Loop(_depthwise_conv1d_forward_plain)
_DEPTHWISE_BACKWARD = _Loop(_depthwise_conv1d_backward_plain)


def _depthwise_arrays(function: str, x, weight):
    x = _float_array(function, "x", x)
    weight = _float_array(function, "weight", weight)
    if x.ndim != 3 or weight.ndim != 2 or weight.shape[0] != x.shape[2]:
        raise ValueError(f"{function}: expected x (B, T, C) and weight (C, K), got {x.shape} and {weight.shape}")
    return x, weight


def depthwise_conv1d_forward(x, weight):
    """y[b, t, c] = sum_k weight[c, k] * x[b, t + k - P, c], P = K // 2, zeros outside [0, T).

    x (B, T, C), weight (C, K) -> (B, T, C): PyTorch's Conv1d with groups=C and padding=K//2.
    """
    x, weight = _depthwise_arrays("depthwise_conv1d_forward", x, weight)
    out_dtype = np.result_type(x, weight)
    work = _work_dtype(out_dtype)
    x_c = _contiguous(x, work)
    y = np.empty_like(x_c)
    _DEPTHWISE_FORWARD(x_c, _contiguous(weight.T, work), y)
    return y.astype(out_dtype, copy=False)


def depthwise_conv1d_backward(x, weight, grad_y):
    """(dL/dx (B, T, C), dL/dweight (C, K)) in grad_y's dtype."""
    x, weight = _depthwise_arrays("depthwise_conv1d_backward", x, weight)
    grad_y = _float_array("depthwise_conv1d_backward", "grad_y", grad_y)
    _same_shape("depthwise_conv1d_backward", "grad_y", grad_y, x.shape)
    work = _work_dtype(np.result_type(x, weight, grad_y))
    batch, length, channels = x.shape
    chunks = -(-(batch * length) // ROWS_PER_CHUNK)
    grad_x = np.empty(x.shape, dtype=work)
    partial_weight = np.zeros((chunks, weight.shape[1], channels))  # (chunks, K, C) float64
    _DEPTHWISE_BACKWARD(_contiguous(x, work), _contiguous(weight.T, work), _contiguous(grad_y, work), grad_x,
                        partial_weight)  # fmt: skip
    grad_weight = partial_weight.sum(axis=0).T  # (C, K)
    return grad_x.astype(grad_y.dtype, copy=False), grad_weight.astype(grad_y.dtype)
