"""Assignment A5: the span convolution as compiled loops (numba), forward and backward.

Shapes: B batch, T sequence length, H heads, D head size, K kernel size (odd), P = (K - 1) // 2.

    out[b, t, h, d] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, d]

with nothing added where t + k - P falls outside [0, T) (zero padding). Write the two loops below
as plain Python loops over array elements; `@njit` compiles them to machine code (numba). The
wrappers `span_conv_forward` and `span_conv_backward` are given: they allocate the outputs, filled
with NaN (so your loops must write every element), and call your loops. They are graded on
equality with minconvbert.kernels.reference and on speed against it (see README.md).

Run a loop without compiling it, to step through it in a debugger: `forward_loop.py_func(...)`.
The file may import only the standard library, numpy and numba.
"""

import numpy as np
from numba import njit


@njit
def forward_loop(values, kernels, out):
    """out[b, t, h, d] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, d] for every element of out.

    values, out (B, T, H, D); kernels (B, T, H, K); all C-contiguous, of one dtype. Returns nothing.
    """
    raise NotImplementedError("forward_loop: write this part")


@njit
def backward_loop(values, kernels, grad_out, grad_values, grad_kernels):
    """Fill grad_values (B, T, H, D) and grad_kernels (B, T, H, K), given grad_out = dL/dout (B, T, H, D):

        grad_values[b, s, h, d]  = sum_k kernels[b, s - k + P, h, k] * grad_out[b, s - k + P, h, d]
        grad_kernels[b, t, h, k] = sum_d grad_out[b, t, h, d] * values[b, t + k - P, h, d]

    (terms whose position falls outside [0, T) are zero). Returns nothing.
    """
    raise NotImplementedError("backward_loop: write this part")


def span_conv_forward(values, kernels):
    """(given) values (B, T, H, D), kernels (B, T, H, K) -> out (B, T, H, D), in their common dtype."""
    dtype = np.result_type(values, kernels)
    values, kernels = np.ascontiguousarray(values, dtype), np.ascontiguousarray(kernels, dtype)
    out = np.full(values.shape, np.nan, dtype)
    forward_loop(values, kernels, out)
    return out


def span_conv_backward(values, kernels, grad_out):
    """(given) -> (dL/dvalues (B, T, H, D), dL/dkernels (B, T, H, K)), in their common dtype."""
    dtype = np.result_type(values, kernels, grad_out)
    values, kernels, grad_out = (np.ascontiguousarray(a, dtype) for a in (values, kernels, grad_out))
    grad_values = np.full(values.shape, np.nan, dtype)
    grad_kernels = np.full(kernels.shape, np.nan, dtype)
    backward_loop(values, kernels, grad_out, grad_values, grad_kernels)
    return grad_values, grad_kernels
