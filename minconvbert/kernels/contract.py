"""The kernel contract: the names and signatures every backend implements, and their argument checks.

Each function below is one kernel's declaration: its signature is the kernel's, its docstring says
what the kernel returns, and its body checks the arguments, returning them as arrays. A backend
(kernels/reference.py, kernels/fast.py) marks each implementation with `@kernel`:

    @kernel
    def gelu_forward(x):          # must have the declared signature, or the import fails
        ...                       # runs after contract.gelu_forward(x) accepted the arguments

so both backends refuse a bad call with the same exception and message, and the implementations
only do the maths. `KERNELS` lists the names; tests/kernels/test_contract.py holds every backend
to them. Shapes: B batch, T sequence, C channels, H heads, D head size, K kernel width.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

__all__ = ["KERNELS", "kernel"]


# ----- the checks the declarations share ---------------------------------------------------------
def _float_array(function: str, name: str, value) -> np.ndarray:
    """`value` as an ndarray; a TypeError naming the argument unless it holds floating-point numbers."""
    array = value if type(value) is np.ndarray else np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"{function}: {name} must be a floating-point array, got dtype {array.dtype}")
    return array


def _same_shape(function: str, name: str, array: np.ndarray, shape: tuple) -> None:
    if array.shape != shape:
        raise ValueError(f"{function}: {name} has shape {array.shape}, expected {shape}")


def _elementwise(function: str, x, grad_y=None):
    x = _float_array(function, "x", x)
    if grad_y is None:
        return (x,)
    grad_y = _float_array(function, "grad_y", grad_y)
    _same_shape(function, "grad_y", grad_y, x.shape)
    return x, grad_y


def _last_axis(function: str, x: np.ndarray) -> None:
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{function}: x (shape {x.shape}) needs a non-empty last axis")


def _layer_norm_weight(function: str, x, weight):
    x, weight = _float_array(function, "x", x), _float_array(function, "weight", weight)
    _last_axis(function, x)
    _same_shape(function, "weight", weight, x.shape[-1:])
    return x, weight


def _span_conv(function: str, values, conv_kernel):
    values, conv_kernel = _float_array(function, "values", values), _float_array(function, "conv_kernel", conv_kernel)
    if values.ndim != 4 or conv_kernel.ndim != 4 or values.shape[:3] != conv_kernel.shape[:3]:
        raise ValueError(f"{function}: expected values (B, T, H, D) and conv_kernel (B, T, H, K), "
                         f"got {values.shape} and {conv_kernel.shape}")  # fmt: skip
    return values, conv_kernel


def _depthwise(function: str, x, weight):
    x, weight = _float_array(function, "x", x), _float_array(function, "weight", weight)
    if x.ndim != 3 or weight.ndim != 2 or weight.shape[0] != x.shape[2]:
        raise ValueError(f"{function}: expected x (B, T, C) and weight (C, K), got {x.shape} and {weight.shape}")
    return x, weight


# ----- the declarations ---------------------------------------------------------------------------
def gelu_forward(x):
    """y = x * Phi(x) (exact GELU); y has x's shape and dtype."""
    return _elementwise("gelu_forward", x)


def gelu_backward(x, grad_y):
    """dL/dx = grad_y * (Phi(x) + x phi(x)); x and grad_y of one shape; x's dtype."""
    return _elementwise("gelu_backward", x, grad_y)


def gelu_new_forward(x):
    """y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); x's shape and dtype."""
    return _elementwise("gelu_new_forward", x)


def gelu_new_backward(x, grad_y):
    """dL/dx of the tanh GELU; x and grad_y of one shape; the dtype of x and grad_y combined."""
    return _elementwise("gelu_new_backward", x, grad_y)


def softmax_forward(x, mask=None):
    """y = softmax(x + mask) over the last axis (mask additive, broadcast to x); the dtype of x + mask."""
    x = _float_array("softmax_forward", "x", x)
    shape = x.shape
    if mask is not None:  # passed on as given: a Python float mask keeps x's dtype, as in x + mask
        mask_array = np.asarray(mask)
        if mask_array.dtype.kind not in "biuf":
            raise TypeError(f"softmax_forward: mask must hold numbers, got dtype {mask_array.dtype}")
        try:
            shape = np.broadcast_shapes(x.shape, mask_array.shape)
        except ValueError:
            raise ValueError(f"softmax_forward: mask of shape {mask_array.shape} does not broadcast "
                             f"to x of shape {x.shape}") from None  # fmt: skip
    if len(shape) == 0 or shape[-1] == 0:
        raise ValueError(f"softmax_forward: the last axis of x (shape {shape}) is empty; softmax needs "
                         f"at least one element")  # fmt: skip
    return x, mask


def softmax_backward(y, grad_y):
    """dL/dx = y * (grad_y - sum(grad_y * y)) over the last axis; y and grad_y of one shape."""
    y = _float_array("softmax_backward", "y", y)
    grad_y = _float_array("softmax_backward", "grad_y", grad_y)
    _same_shape("softmax_backward", "grad_y", grad_y, y.shape)
    if y.ndim == 0:
        raise ValueError("softmax_backward: y must have at least one axis")
    return y, grad_y


def layer_norm_forward(x, weight, bias, eps):
    """(y, mean, rstd): y = (x - mean) rstd weight + bias over the last axis, rstd = 1/sqrt(var + eps).

    x (..., N), weight (N,), bias (N,); mean and rstd have shape x.shape[:-1] + (1,).
    """
    x, weight = _layer_norm_weight("layer_norm_forward", x, weight)
    bias = _float_array("layer_norm_forward", "bias", bias)
    _same_shape("layer_norm_forward", "bias", bias, x.shape[-1:])
    return x, weight, bias, eps


def layer_norm_backward(grad_y, x, weight, mean, rstd):
    """(dL/dx (..., N), dL/dweight (N,), dL/dbias (N,)) from the forward's mean and rstd (..., 1)."""
    x, weight = _layer_norm_weight("layer_norm_backward", x, weight)
    grad_y = _float_array("layer_norm_backward", "grad_y", grad_y)
    _same_shape("layer_norm_backward", "grad_y", grad_y, x.shape)
    stats = []
    for name, stat in (("mean", mean), ("rstd", rstd)):
        stat = _float_array("layer_norm_backward", name, stat)
        _same_shape("layer_norm_backward", name, stat, x.shape[:-1] + (1,))
        stats.append(stat)
    return (grad_y, x, weight, *stats)


def span_conv_forward(values, conv_kernel):
    """out[b, t, h, d] = sum_k conv_kernel[b, t, h, k] * values[b, t + k - (K-1)//2, h, d], zero padded.

    values (B, T, H, D), conv_kernel (B, T, H, K) -> (B, T, H, D): ConvBERT's span-based dynamic convolution.
    """
    return _span_conv("span_conv_forward", values, conv_kernel)


def span_conv_backward(values, conv_kernel, grad_out):
    """(dL/dvalues (B, T, H, D), dL/dconv_kernel (B, T, H, K)) in grad_out's dtype."""
    values, conv_kernel = _span_conv("span_conv_backward", values, conv_kernel)
    grad_out = _float_array("span_conv_backward", "grad_out", grad_out)
    _same_shape("span_conv_backward", "grad_out", grad_out, values.shape)
    return values, conv_kernel, grad_out


def depthwise_conv1d_forward(x, weight):
    """y[b, t, c] = sum_k weight[c, k] * x[b, t + k - K//2, c], zero padded: x (B, T, C), weight (C, K)."""
    return _depthwise("depthwise_conv1d_forward", x, weight)


def depthwise_conv1d_backward(x, weight, grad_y):
    """(dL/dx (B, T, C), dL/dweight (C, K)) in grad_y's dtype."""
    x, weight = _depthwise("depthwise_conv1d_backward", x, weight)
    grad_y = _float_array("depthwise_conv1d_backward", "grad_y", grad_y)
    _same_shape("depthwise_conv1d_backward", "grad_y", grad_y, x.shape)
    return x, weight, grad_y


def nonzero_rows(x):
    """The indices (M,) int64, ascending, of the rows of x (R, N) that hold a nonzero (or NaN) entry."""
    x = _float_array("nonzero_rows", "x", x)
    if x.ndim != 2:
        raise ValueError(f"nonzero_rows: expected x (R, N), got shape {x.shape}")
    return (x,)


KERNELS = (
    "gelu_forward", "gelu_backward", "gelu_new_forward", "gelu_new_backward",
    "softmax_forward", "softmax_backward", "layer_norm_forward", "layer_norm_backward",
    "span_conv_forward", "span_conv_backward", "depthwise_conv1d_forward", "depthwise_conv1d_backward",
    "nonzero_rows",
)  # fmt: skip


def kernel(implementation):
    """Mark a backend's function as the kernel of the same name: check its signature against the
    declaration now, and run the declaration's argument checks before it on every call."""
    name = implementation.__name__
    if name not in KERNELS:
        raise TypeError(f"@kernel: {name!r} is not a declared kernel (minconvbert.kernels.contract.KERNELS)")
    declaration = globals()[name]
    if inspect.signature(implementation) != inspect.signature(declaration):
        raise TypeError(f"@kernel: {implementation.__module__}.{name}{inspect.signature(implementation)} differs "
                        f"from the declared {name}{inspect.signature(declaration)}")  # fmt: skip

    @functools.wraps(implementation)
    def checked(*args, **kwargs):
        return implementation(*declaration(*args, **kwargs))

    checked.declaration = declaration
    return checked
