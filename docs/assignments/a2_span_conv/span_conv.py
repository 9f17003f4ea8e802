"""Assignment A2: the span-based dynamic convolution, forward and backward, in NumPy.

Shapes: B batch, T sequence length, H heads, D head size, K kernel size (odd), P = (K - 1) // 2.

    out[b, t, h, d] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, d]

with values taken as zero outside 0 <= t + k - P < T. Write three functions:

    unfold_spans(values, kernel_size)              (B, T, H, D) -> (B, T, H, D, K)
    span_conv_forward(values, kernels)             -> (B, T, H, D)
    span_conv_backward(values, kernels, grad_out)  -> (dL/dvalues, dL/dkernels)

`SpanConv` (given) wraps the last two as a differentiable minconvbert operation, so that
`gradcheck(SpanConv.apply, [values, kernels])` checks your backward against finite differences.
Use NumPy only (no minconvbert kernels, no loops over every element: a loop over the K taps is
fine). Inputs must not be modified. Outputs have the dtype of the inputs (float32 stays float32).
See README.md for the maths and what is graded.
"""

import numpy as np

from minconvbert.function import Function


def unfold_spans(values, kernel_size):
    """The span each position reads: spans[b, t, h, d, k] = values[b, t + k - P, h, d], zero outside.

    values (B, T, H, D), kernel_size K odd -> (B, T, H, D, K), same dtype as values.
    """
    raise NotImplementedError("unfold_spans: write this part")


def span_conv_forward(values, kernels):
    """out[b, t, h, d] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, d].

    values (B, T, H, D), kernels (B, T, H, K) -> (B, T, H, D).
    """
    raise NotImplementedError("span_conv_forward: write this part")


def span_conv_backward(values, kernels, grad_out):
    """(dL/dvalues (B, T, H, D), dL/dkernels (B, T, H, K)) given grad_out = dL/dout (B, T, H, D).

    dL/dkernels[b, t, h, k] = sum_d grad_out[b, t, h, d] * values[b, t + k - P, h, d]
    dL/dvalues[b, s, h, d]  = sum_k kernels[b, s - k + P, h, k] * grad_out[b, s - k + P, h, d]
    (terms whose position falls outside [0, T) are zero).
    """
    raise NotImplementedError("span_conv_backward: write this part")


class SpanConv(Function):
    """The span convolution as a differentiable operation (given: it calls your two functions)."""

    def forward(self, values, kernels):
        self.values, self.kernels = values, kernels
        return span_conv_forward(values, kernels)

    def backward(self, grad_out):
        return span_conv_backward(self.values, self.kernels, grad_out)
