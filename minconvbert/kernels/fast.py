"""numba kernels: the functions of `minconvbert.kernels.reference`, compiled as loops.

Same names, signatures and results as the reference (float32 within ~1e-6, float64 within ~1e-12);
read the two files side by side. Each kernel has three layers, from the bottom up:

    _name_plain(..., start, stop)   a plain Python loop over rows [start, stop): the maths, one
                                    element at a time;
    _NAME = Loop(_name_plain)       that loop compiled once (serial, without the GIL) and split over
                                    rows across threads when the arrays are large (kernels/loops.py);
    name(...)                       the public function (`@kernel`: its arguments already checked by
                                    kernels/contract.py): contiguous arrays in the compute dtype, leading
                                    axes folded into rows, the loop, and what `reference.name` returns.

What keeps the loops fast:
- float32 stays float32, with exp and the normal cdf/pdf from `minconvbert.kernels.vecmath` (plain
  arithmetic that LLVM vectorises; a libm call would not be);
- error_model="numpy": a division by zero gives inf as in NumPy instead of raising, and the check
  that raising would need stops LLVM from vectorising the loop;
- sums over a row run as eight interleaved partial sums (kernels/reductions.py), sums in float64;
  sums across rows (the weight gradients) go through fixed ROWS_PER_CHUNK-row chunks, so results
  do not depend on how many threads ran the loop.
"""

from __future__ import annotations

import math

import numpy as np

from minconvbert.kernels.arrays import contiguous, mask_rows, work_dtype
from minconvbert.kernels.contract import kernel
from minconvbert.kernels.loops import Loop
from minconvbert.kernels.reductions import dot, row_max, row_sum
from minconvbert.kernels.reference import GELU_NEW_CUBIC, SQRT_2_OVER_PI
from minconvbert.kernels.vecmath import exp, normal_cdf, normal_pdf

__all__ = [
    "gelu_forward", "gelu_backward", "gelu_new_forward", "gelu_new_backward",
    "softmax_forward", "softmax_backward", "layer_norm_forward", "layer_norm_backward",
    "span_conv_forward", "span_conv_backward", "depthwise_conv1d_forward", "depthwise_conv1d_backward",
    "nonzero_rows",
]  # fmt: skip

ROWS_PER_CHUNK = 32  # rows per partial sum in the cross-row reductions (a fixed size keeps results
#                      independent of the number of threads)


# ----- GELU ------------------------------------------------------------------------------------
def _gelu_forward_plain(x, out, start, stop):
    """out[i] = x[i] * Phi(x[i]); x, out (N,)."""
    x_part, out_part = x[start:stop], out[start:stop]  # views indexed from 0: LLVM then vectorises the loop
    for i in range(x_part.shape[0]):
        v = x_part[i]
        out_part[i] = v * normal_cdf(v)


def _gelu_backward_plain(x, grad_y, out, start, stop):
    """out[i] = grad_y[i] * (Phi(x[i]) + x[i] * phi(x[i])); all (N,)."""
    x_part, g_part, out_part = x[start:stop], grad_y[start:stop], out[start:stop]
    for i in range(x_part.shape[0]):
        v = x_part[i]
        out_part[i] = g_part[i] * (normal_cdf(v) + v * normal_pdf(v))


def _gelu_new_forward_plain(x, out, start, stop):
    """out = x/2 * (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3); x, out (N,).

    Computed as x * s with s = (1 + tanh u)/2 = 1 / (1 + exp(-2u)): one exp instead of tanh, and
    exp(-2|u|) <= 1 so nothing overflows.
    """
    real = x.dtype.type
    one, two, c, cubic = real(1.0), real(2.0), real(SQRT_2_OVER_PI), real(GELU_NEW_CUBIC)
    x_part, out_part = x[start:stop], out[start:stop]
    for i in range(x_part.shape[0]):
        v = x_part[i]
        u = c * (v + cubic * v * v * v)
        a = exp(-two * abs(u))
        s = one / (one + a) if u >= 0 else a / (one + a)
        out_part[i] = v * s


def _gelu_new_backward_plain(x, grad_y, out, start, stop):
    """out = grad_y * (s + 2 x s (1 - s) du/dx), s = (1 + tanh u)/2, du/dx = sqrt(2/pi)(1 + 3*0.044715 x^2).

    This equals the reference's (1 + t)/2 + x/2 (1 - t^2) du/dx with t = tanh u = 2s - 1.
    """
    real = x.dtype.type
    one, two, three = real(1.0), real(2.0), real(3.0)
    c, cubic = real(SQRT_2_OVER_PI), real(GELU_NEW_CUBIC)
    x_part, g_part, out_part = x[start:stop], grad_y[start:stop], out[start:stop]
    for i in range(x_part.shape[0]):
        v = x_part[i]
        u = c * (v + cubic * v * v * v)
        a = exp(-two * abs(u))
        s = one / (one + a) if u >= 0 else a / (one + a)
        s_times_1_minus_s = a / ((one + a) * (one + a))
        du = c * (one + three * cubic * v * v)
        out_part[i] = g_part[i] * (s + two * v * s_times_1_minus_s * du)


_GELU_FORWARD = Loop(_gelu_forward_plain)
_GELU_BACKWARD = Loop(_gelu_backward_plain)
_GELU_NEW_FORWARD = Loop(_gelu_new_forward_plain)
_GELU_NEW_BACKWARD = Loop(_gelu_new_backward_plain)


def _elementwise(loop, arrays, out_dtype):
    """Run an elementwise loop on `arrays` (one shape) flattened to 1-D; the result in out_dtype."""
    work = work_dtype(np.result_type(*arrays))
    flat = [contiguous(a, work).reshape(-1) for a in arrays]  # (N,)
    out = np.empty_like(flat[0])
    loop(out.size, out.size, *flat, out)
    return out.reshape(arrays[0].shape).astype(out_dtype, copy=False)


@kernel
def gelu_forward(x):
    """y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))); any shape, y has x's shape and dtype."""
    return _elementwise(_GELU_FORWARD, [x], x.dtype)


@kernel
def gelu_backward(x, grad_y):
    """dL/dx = grad_y * (Phi(x) + x * phi(x)); x and grad_y of one shape, result in x's dtype."""
    return _elementwise(_GELU_BACKWARD, [x, grad_y], x.dtype)


@kernel
def gelu_new_forward(x):
    """y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))); any shape, x's dtype."""
    return _elementwise(_GELU_NEW_FORWARD, [x], x.dtype)


@kernel
def gelu_new_backward(x, grad_y):
    """dL/dx of the tanh-approximated GELU; x and grad_y of one shape, dtype of x and grad_y combined."""
    return _elementwise(_GELU_NEW_BACKWARD, [x, grad_y], np.result_type(x, grad_y))


# ----- softmax over the last axis, with an optional additive mask -------------------------------
def _softmax_forward_plain(x, mask, mask_row, out, start, stop):
    """out[r] = softmax(x[r] + mask[mask_row[r]]); x, out (R, N), mask (M, N), mask_row (R,).

    As the reference: add the mask in x's dtype, subtract the row maximum, exponentiate, divide by
    the sum. A row masked everywhere with finfo.min becomes uniform; with -inf, NaN; a NaN anywhere
    in a row makes the sum, hence the whole row, NaN (as np.max's NaN does in the reference).
    """
    n = x.shape[1]
    for r in range(start, stop):
        x_row, mask_of_row, out_row = x[r], mask[mask_row[r]], out[r]  # (N,) views: loops over j vectorise
        for j in range(n):
            out_row[j] = x_row[j] + mask_of_row[j]
        top = row_max(out_row)
        for j in range(n):
            out_row[j] = exp(out_row[j] - top)
        total = row_sum(out_row)
        for j in range(n):
            out_row[j] = out_row[j] / total


def _softmax_backward_plain(y, grad_y, out, start, stop):
    """out[r] = y[r] * (grad_y[r] - sum_j grad_y[r, j] y[r, j]); all (R, N)."""
    n = y.shape[1]
    for r in range(start, stop):
        y_row, g_row, out_row = y[r], grad_y[r], out[r]
        inner = dot(g_row, y_row)
        for j in range(n):
            out_row[j] = y_row[j] * (g_row[j] - inner)


_SOFTMAX_FORWARD = Loop(_softmax_forward_plain)
_SOFTMAX_BACKWARD = Loop(_softmax_backward_plain)


@kernel
def softmax_forward(x, mask=None):
    """y = softmax(x + mask) over the last axis; `mask` broadcasts to x (0 keeps, a large negative drops).

    x (..., N); the result has the broadcast shape and the dtype of x + mask.
    """
    out_dtype = x.dtype if mask is None else np.result_type(x, mask)  # a Python float mask keeps x's dtype
    shape = x.shape if mask is None else np.broadcast_shapes(x.shape, np.shape(mask))
    work = work_dtype(out_dtype)
    n = shape[-1]
    x_rows = contiguous(np.broadcast_to(x, shape), work).reshape(-1, n)  # (R, N)
    if mask is None:
        masks, row_of = np.zeros((1, n), dtype=work), np.zeros(x_rows.shape[0], dtype=np.int64)
    else:
        masks, row_of = mask_rows(np.asarray(mask), shape, work)
    out = np.empty_like(x_rows)
    _SOFTMAX_FORWARD(out.shape[0], out.size, x_rows, masks, row_of, out)
    return out.reshape(shape).astype(out_dtype, copy=False)


@kernel
def softmax_backward(y, grad_y):
    """dL/dx = y * (grad_y - sum(grad_y * y)) over the last axis; y and grad_y of one shape."""
    out_dtype = np.result_type(y, grad_y)
    work = work_dtype(out_dtype)
    n = y.shape[-1]
    rows = math.prod(y.shape[:-1])
    y_rows = contiguous(y, work).reshape(rows, n)  # (R, N)
    g_rows = contiguous(grad_y, work).reshape(rows, n)
    out = np.empty_like(y_rows)
    _SOFTMAX_BACKWARD(rows, out.size, y_rows, g_rows, out)
    return out.reshape(y.shape).astype(out_dtype, copy=False)


# ----- layer norm over the last axis ------------------------------------------------------------
def _layer_norm_forward_plain(x, weight, bias, eps, y, mean, rstd, start, stop):
    """Per row r of x (R, N): mean[r], rstd[r] = 1/sqrt(var + eps), y[r] = (x[r] - mean) rstd weight + bias.

    Two passes as in the reference (the mean, then the centred squares), sums in float64; y holds
    the centred row in between.
    """
    n = x.shape[1]
    for r in range(start, stop):
        x_row, y_row = x[r], y[r]
        mu = row_sum(x_row) / n
        for j in range(n):
            y_row[j] = x_row[j] - mu
        inv_std = 1.0 / math.sqrt(dot(y_row, y_row) / n + eps)
        mean[r] = mu
        rstd[r] = inv_std
        for j in range(n):
            y_row[j] = y_row[j] * inv_std * weight[j] + bias[j]


def _layer_norm_backward_plain(grad_y, x, weight, mean, rstd, grad_x, partial_weight, partial_bias, start, stop):
    """grad_x[r] = rstd (g - mean(g) - x_hat mean(g x_hat)), g = grad_y[r] * weight, x_hat = (x[r] - mean) rstd.

    grad_y, x, grad_x (R, N); mean, rstd (R,). Chunk c (of ROWS_PER_CHUNK rows), for c in [start, stop),
    adds its rows' grad_y * x_hat and grad_y into partial_weight[c] and partial_bias[c] (C, N), float64;
    the caller sums over c.
    """
    rows, n = x.shape
    for c in range(start, stop):
        x_hat = np.empty(n)  # float64 scratch rows for this chunk
        g = np.empty(n)
        sum_weight, sum_bias = partial_weight[c], partial_bias[c]
        for r in range(c * ROWS_PER_CHUNK, min(rows, (c + 1) * ROWS_PER_CHUNK)):
            x_row, g_row, grad_x_row = x[r], grad_y[r], grad_x[r]
            mu = np.float64(mean[r])
            inv_std = np.float64(rstd[r])
            for j in range(n):
                x_hat[j] = (x_row[j] - mu) * inv_std
                g[j] = g_row[j] * weight[j]
            mean_g = row_sum(g) / n
            mean_g_xhat = dot(g, x_hat) / n
            for j in range(n):
                grad_x_row[j] = inv_std * (g[j] - mean_g - x_hat[j] * mean_g_xhat)
                sum_weight[j] += g_row[j] * x_hat[j]
                sum_bias[j] += g_row[j]


_LAYER_NORM_FORWARD = Loop(_layer_norm_forward_plain)
_LAYER_NORM_BACKWARD = Loop(_layer_norm_backward_plain)


@kernel
def layer_norm_forward(x, weight, bias, eps):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis.

    x (..., N), weight (N,), bias (N,). Returns (y, mean, rstd), mean and rstd = 1/sqrt(var + eps)
    of shape x.shape[:-1] + (1,) in x's dtype, saved for backward.
    """
    out_dtype = np.result_type(x, weight, bias)
    work = work_dtype(out_dtype)
    n = x.shape[-1]
    x_rows = contiguous(x, work).reshape(-1, n)  # (R, N)
    y = np.empty_like(x_rows)
    mean = np.empty(x_rows.shape[0], dtype=np.float64)
    rstd = np.empty(x_rows.shape[0], dtype=np.float64)
    _LAYER_NORM_FORWARD(y.shape[0], y.size, x_rows, contiguous(weight, work), contiguous(bias, work), float(eps),
                        y, mean, rstd)  # fmt: skip
    stats_shape = x.shape[:-1] + (1,)
    return (
        y.reshape(x.shape).astype(out_dtype, copy=False),
        mean.reshape(stats_shape).astype(x.dtype),
        rstd.reshape(stats_shape).astype(np.result_type(x.dtype, eps)),  # as var + eps in the reference
    )


@kernel
def layer_norm_backward(grad_y, x, weight, mean, rstd):
    """(dL/dx, dL/dweight, dL/dbias) of layer norm, from the mean and rstd saved by the forward.

    grad_y, x (..., N); weight (N,); mean, rstd (..., 1). dL/dweight = sum(grad_y * x_hat) and
    dL/dbias = sum(grad_y), both (N,), summed over every axis but the last.
    """
    dtype_x = np.result_type(grad_y, weight, x, mean, rstd)
    dtype_weight = np.result_type(grad_y, x, mean, rstd)
    work = work_dtype(dtype_x)
    n = x.shape[-1]
    rows = x.size // n
    chunks = -(-rows // ROWS_PER_CHUNK)
    grad_x = np.empty((rows, n), dtype=work)
    partial_weight = np.zeros((chunks, n))
    partial_bias = np.zeros((chunks, n))
    _LAYER_NORM_BACKWARD(
        chunks, grad_x.size, contiguous(grad_y, work).reshape(rows, n), contiguous(x, work).reshape(rows, n),
        contiguous(weight, work), contiguous(mean, work).reshape(rows), contiguous(rstd, work).reshape(rows),
        grad_x, partial_weight, partial_bias,
    )  # fmt: skip
    return (
        grad_x.reshape(x.shape).astype(dtype_x, copy=False),
        partial_weight.sum(axis=0).astype(dtype_weight),
        partial_bias.sum(axis=0).astype(grad_y.dtype),
    )


# ----- span-based dynamic convolution -----------------------------------------------------------
def _span_conv_forward_plain(values, conv_kernel, out, start, stop):
    """out[b, t, h, :] = sum_k conv_kernel[b, t, h, k] * values[b, t + k - P, h, :], P = (K - 1) // 2,
    for the positions bt = b * T + t in [start, stop).

    values, out (B, T, H, D); conv_kernel (B, T, H, K). Positions outside [0, T) contribute nothing
    (zero padding), and no unfolded (B, T, H, D, K) copy is ever made.
    """
    length, heads, size = values.shape[1:]
    width = conv_kernel.shape[3]
    pad = (width - 1) // 2
    for bt in range(start, stop):
        b = bt // length
        t = bt % length
        for h in range(heads):
            for d in range(size):
                out[b, t, h, d] = 0.0
            for k in range(width):
                s = t + k - pad
                if 0 <= s < length:
                    w = conv_kernel[b, t, h, k]
                    for d in range(size):
                        out[b, t, h, d] += w * values[b, s, h, d]


def _span_conv_backward_plain(values, conv_kernel, grad_out, grad_values, grad_conv_kernel, start, stop):
    """grad_values[b, s, h, :] = sum_k conv_kernel[b, s - k + P, h, k] * grad_out[b, s - k + P, h, :];
    grad_conv_kernel[b, s, h, k] = sum_d grad_out[b, s, h, d] * values[b, s + k - P, h, d].

    Both are gathered per position bs = b * T + s in [start, stop), so ranges never write to the same place.
    """
    length, heads, size = values.shape[1:]
    width = conv_kernel.shape[3]
    pad = (width - 1) // 2
    for bs in range(start, stop):
        b = bs // length
        s = bs % length
        for h in range(heads):
            for d in range(size):
                grad_values[b, s, h, d] = 0.0
            for k in range(width):
                t = s - k + pad  # the output position that read values[b, s] through tap k
                if 0 <= t < length:
                    w = conv_kernel[b, t, h, k]
                    for d in range(size):
                        grad_values[b, s, h, d] += w * grad_out[b, t, h, d]
            for k in range(width):
                source = s + k - pad
                if 0 <= source < length:
                    grad_conv_kernel[b, s, h, k] = dot(grad_out[b, s, h], values[b, source, h])
                else:
                    grad_conv_kernel[b, s, h, k] = 0.0


_SPAN_CONV_FORWARD = Loop(_span_conv_forward_plain)
_SPAN_CONV_BACKWARD = Loop(_span_conv_backward_plain)


@kernel
def span_conv_forward(values, conv_kernel):
    """out[b, t, h, d] = sum_k conv_kernel[b, t, h, k] * values[b, t + k - P, h, d], P = (K - 1) // 2.

    values (B, T, H, D), conv_kernel (B, T, H, K) -> (B, T, H, D), zeros outside [0, T).
    """
    out_dtype = np.result_type(values, conv_kernel)
    work = work_dtype(out_dtype)
    values_c = contiguous(values, work)
    out = np.empty_like(values_c)
    _SPAN_CONV_FORWARD(values.shape[0] * values.shape[1], out.size, values_c, contiguous(conv_kernel, work), out)
    return out.astype(out_dtype, copy=False)


@kernel
def span_conv_backward(values, conv_kernel, grad_out):
    """(dL/dvalues (B, T, H, D), dL/dconv_kernel (B, T, H, K)) in grad_out's dtype."""
    work = work_dtype(np.result_type(values, conv_kernel, grad_out))
    grad_values = np.empty(values.shape, dtype=work)
    grad_conv_kernel = np.empty(conv_kernel.shape, dtype=work)
    _SPAN_CONV_BACKWARD(values.shape[0] * values.shape[1], values.size, contiguous(values, work),
                        contiguous(conv_kernel, work), contiguous(grad_out, work), grad_values,
                        grad_conv_kernel)  # fmt: skip
    return grad_values.astype(grad_out.dtype, copy=False), grad_conv_kernel.astype(grad_out.dtype, copy=False)


# ----- depthwise 1-D convolution over the sequence ----------------------------------------------
def _depthwise_conv1d_forward_plain(x, weight_t, y, start, stop):
    """y[b, t, :] = sum_k weight_t[k, :] * x[b, t + k - P, :], P = K // 2, for the positions
    bt = b * T + t in [start, stop); x, y (B, T, C), weight_t (K, C).

    The weight comes transposed so that the innermost loop runs along contiguous channels.
    """
    length, channels = x.shape[1:]
    width = weight_t.shape[0]
    pad = width // 2
    for bt in range(start, stop):
        b = bt // length
        t = bt % length
        for c in range(channels):
            y[b, t, c] = 0.0
        for k in range(width):
            s = t + k - pad
            if 0 <= s < length:
                for c in range(channels):
                    y[b, t, c] += weight_t[k, c] * x[b, s, c]


def _depthwise_conv1d_backward_plain(x, weight_t, grad_y, grad_x, partial_weight, start, stop):
    """grad_x[b, s, :] = sum_k weight_t[k, :] * grad_y[b, s - k + P, :] (gathered per position);
    partial_weight[c, k, :] = sum over the ROWS_PER_CHUNK positions (b, t) of chunk c of
    grad_y[b, t, :] * x[b, t + k - P, :], float64 (chunks, K, channels), for the chunks c in
    [start, stop); the caller sums over c.
    """
    batch, length, channels = x.shape
    width = weight_t.shape[0]
    pad = width // 2
    rows = batch * length
    for chunk in range(start, stop):
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


_DEPTHWISE_FORWARD = Loop(_depthwise_conv1d_forward_plain)
_DEPTHWISE_BACKWARD = Loop(_depthwise_conv1d_backward_plain)


@kernel
def depthwise_conv1d_forward(x, weight):
    """y[b, t, c] = sum_k weight[c, k] * x[b, t + k - P, c], P = K // 2, zeros outside [0, T).

    x (B, T, C), weight (C, K) -> (B, T, C): PyTorch's Conv1d with groups=C and padding=K//2.
    """
    out_dtype = np.result_type(x, weight)
    work = work_dtype(out_dtype)
    x_c = contiguous(x, work)
    y = np.empty_like(x_c)
    _DEPTHWISE_FORWARD(x.shape[0] * x.shape[1], y.size, x_c, contiguous(weight.T, work), y)
    return y.astype(out_dtype, copy=False)


@kernel
def depthwise_conv1d_backward(x, weight, grad_y):
    """(dL/dx (B, T, C), dL/dweight (C, K)) in grad_y's dtype."""
    work = work_dtype(np.result_type(x, weight, grad_y))
    batch, length, channels = x.shape
    chunks = -(-(batch * length) // ROWS_PER_CHUNK)
    grad_x = np.empty(x.shape, dtype=work)
    partial_weight = np.zeros((chunks, weight.shape[1], channels))  # (chunks, K, C) float64
    _DEPTHWISE_BACKWARD(chunks, x.size, contiguous(x, work), contiguous(weight.T, work), contiguous(grad_y, work),
                        grad_x, partial_weight)  # fmt: skip
    grad_weight = partial_weight.sum(axis=0).T  # (C, K)
    return grad_x.astype(grad_y.dtype, copy=False), grad_weight.astype(grad_y.dtype)


# ----- rows that hold a nonzero -----------------------------------------------------------------
def _nonzero_rows_plain(x, found, start, stop):
    """found[r] = 1 if row r of x (R, N) holds an entry != 0 (NaN included), else 0; found (R,) uint8.

    The scan of a row stops at its first nonzero entry, so a dense row costs one read.
    """
    n = x.shape[1]
    for r in range(start, stop):
        row = x[r]
        hit = 0
        for j in range(n):
            if row[j] != 0:
                hit = 1
                break
        found[r] = hit


_NONZERO_ROWS = Loop(_nonzero_rows_plain)


@kernel
def nonzero_rows(x):
    """The indices of the rows of x (R, N) with an entry != 0 (NaN counts as nonzero): (M,) int64."""
    found = np.empty(x.shape[0], dtype=np.uint8)
    _NONZERO_ROWS(x.shape[0], x.size, contiguous(x, work_dtype(x.dtype)), found)
    return np.flatnonzero(found)
