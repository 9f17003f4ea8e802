"""Readable NumPy kernels for the hot operations: the maths, vectorised, nothing clever.

Each forward has a backward beside it; `minconvbert.kernels.fast` has the same functions compiled
with numba, and the tests assert that the two agree. `@kernel` holds each function to its declared
signature and runs the argument checks both backends share (kernels/contract.py). Shapes use B batch, T sequence, C channels,
H heads, D head size, K kernel width.
"""

from __future__ import annotations

import math

import numpy as np

from minconvbert.kernels.contract import kernel

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_NEW_CUBIC = 0.044715

# ----- GELU ------------------------------------------------------------------------------------
# NumPy has no erf; math.erf is exact, applied element by element (slow, but this is the readable
# path: kernels/fast.py computes the same values compiled). Computed in float64, returned in x's dtype.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2, the standard normal CDF."""
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def _normal_pdf(x):
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the standard normal density."""
    return np.exp(-0.5 * x * x) * (1 / math.sqrt(2.0 * math.pi))


@kernel
def gelu_forward(x):
    """y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))."""
    return (x * _normal_cdf(x)).astype(x.dtype, copy=False)


@kernel
def gelu_backward(x, grad_y):
    """dy/dx = Phi(x) + x * phi(x)."""
    x64 = x.astype(np.float64)
    return (grad_y * (_normal_cdf(x64) + x64 * _normal_pdf(x64))).astype(x.dtype, copy=False)


@kernel
def gelu_new_forward(x):
    """Tanh approximation: y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))."""
    inner = SQRT_2_OVER_PI * (x + GELU_NEW_CUBIC * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


@kernel
def gelu_new_backward(x, grad_y):
    """dy/dx = (1 + t)/2 + x/2 * (1 - t^2) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2), t = tanh(inner)."""
    t = np.tanh(SQRT_2_OVER_PI * (x + GELU_NEW_CUBIC * x**3))
    dinner = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_NEW_CUBIC * x * x)
    return grad_y * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)


# ----- softmax over the last axis, with an optional additive mask -------------------------------
@kernel
def softmax_forward(x, mask=None):
    """y = softmax(x + mask) over the last axis; `mask` broadcasts to x (0 keeps, a large negative drops)."""
    if mask is not None:
        x = x + mask
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@kernel
def softmax_backward(y, grad_y):
    """dL/dx = y * (dL/dy - sum(dL/dy * y)) over the last axis (the mask is a constant)."""
    return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


# ----- layer norm over the last axis ------------------------------------------------------------
@kernel
def layer_norm_forward(x, weight, bias, eps):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis.

    Returns (y, mean, rstd), with mean and rstd = 1/sqrt(var + eps) of shape x.shape[:-1] + (1,)
    saved for backward.
    """
    inv_n = 1.0 / x.shape[-1]  # sum * (1/N): the same value as .mean(), without its Python-level overhead
    mean = x.sum(axis=-1, keepdims=True) * inv_n
    centred = x - mean
    var = (centred * centred).sum(axis=-1, keepdims=True) * inv_n
    rstd = 1.0 / np.sqrt(var + eps)
    x_hat = centred * rstd
    return x_hat * weight + bias, mean, rstd


@kernel
def layer_norm_backward(grad_y, x, weight, mean, rstd):
    """With x_hat = (x - mean) * rstd and g = grad_y * weight (N = last-axis size):
    dL/dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat)); dL/dweight = sum(grad_y * x_hat);
    dL/dbias = sum(grad_y), the sums over every axis but the last.
    """
    inv_n = 1.0 / x.shape[-1]
    x_hat = (x - mean) * rstd
    g = grad_y * weight
    mean_g = g.sum(axis=-1, keepdims=True) * inv_n
    mean_g_x_hat = (g * x_hat).sum(axis=-1, keepdims=True) * inv_n
    grad_x = rstd * (g - mean_g - x_hat * mean_g_x_hat)
    lead = tuple(range(x.ndim - 1))
    return grad_x, (grad_y * x_hat).sum(axis=lead), grad_y.sum(axis=lead)


# ----- span-based dynamic convolution -----------------------------------------------------------
@kernel
def span_conv_forward(values, conv_kernel):
    """out[b, t, h, d] = sum_k conv_kernel[b, t, h, k] * values[b, t + k - P, h, d], P = (K - 1) // 2.

    values (B, T, H, D), conv_kernel (B, T, H, K) -> (B, T, H, D). Positions outside [0, T) are zeros.
    Each position t has its own kernel over the span of K positions centred on t.
    """
    T, K = values.shape[1], conv_kernel.shape[-1]
    pad = (K - 1) // 2
    out = np.zeros(values.shape, dtype=np.result_type(values, conv_kernel))
    for k in range(K):
        shift = k - pad  # out[t] reads values[t + shift]
        lo, hi = max(0, -shift), min(T, T - shift)  # the t for which t + shift is inside [0, T)
        if lo < hi:
            out[:, lo:hi] += conv_kernel[:, lo:hi, :, k, None] * values[:, lo + shift : hi + shift]
    return out


@kernel
def span_conv_backward(values, conv_kernel, grad_out):
    """dL/dvalues[b, s, h, d] = sum_k conv_kernel[b, s - k + P, h, k] * grad_out[b, s - k + P, h, d];
    dL/dconv_kernel[b, t, h, k] = sum_d grad_out[b, t, h, d] * values[b, t + k - P, h, d].
    """
    T, K = values.shape[1], conv_kernel.shape[-1]
    pad = (K - 1) // 2
    grad_values = np.zeros(values.shape, dtype=grad_out.dtype)
    grad_conv_kernel = np.zeros(conv_kernel.shape, dtype=grad_out.dtype)
    for k in range(K):
        shift = k - pad
        lo, hi = max(0, -shift), min(T, T - shift)
        if lo < hi:
            g = grad_out[:, lo:hi]  # (B, t range, H, D)
            grad_values[:, lo + shift : hi + shift] += conv_kernel[:, lo:hi, :, k, None] * g
            grad_conv_kernel[:, lo:hi, :, k] = (g * values[:, lo + shift : hi + shift]).sum(axis=-1)
    return grad_values, grad_conv_kernel


# ----- depthwise 1-D convolution over the sequence ----------------------------------------------
@kernel
def depthwise_conv1d_forward(x, weight):
    """y[b, t, c] = sum_k weight[c, k] * x[b, t + k - P, c], P = K // 2, zeros outside [0, T).

    x (B, T, C), weight (C, K) -> (B, T, C). One filter per channel (PyTorch's Conv1d with
    groups=C and padding=K//2, a cross-correlation).
    """
    T, K = x.shape[1], weight.shape[1]
    pad = K // 2
    y = np.zeros(x.shape, dtype=np.result_type(x, weight))
    for k in range(K):
        shift = k - pad
        lo, hi = max(0, -shift), min(T, T - shift)
        if lo < hi:
            y[:, lo:hi] += weight[:, k] * x[:, lo + shift : hi + shift]
    return y


@kernel
def depthwise_conv1d_backward(x, weight, grad_y):
    """dL/dx[b, s, c] = sum_k weight[c, k] * grad_y[b, s - k + P, c];
    dL/dweight[c, k] = sum_{b, t} grad_y[b, t, c] * x[b, t + k - P, c].
    """
    T, K = x.shape[1], weight.shape[1]
    pad = K // 2
    grad_x = np.zeros(x.shape, dtype=grad_y.dtype)
    grad_weight = np.zeros(weight.shape, dtype=grad_y.dtype)
    for k in range(K):
        shift = k - pad
        lo, hi = max(0, -shift), min(T, T - shift)
        if lo < hi:
            g = grad_y[:, lo:hi]
            grad_x[:, lo + shift : hi + shift] += weight[:, k] * g
            grad_weight[:, k] = (g * x[:, lo + shift : hi + shift]).sum(axis=(0, 1))
    return grad_x, grad_weight


# ----- rows that hold a nonzero -----------------------------------------------------------------
@kernel
def nonzero_rows(x):
    """The indices of the rows of x (R, N) with an entry != 0 (NaN counts as nonzero): (M,) int64."""
    return np.flatnonzero((x != 0).any(axis=1))
