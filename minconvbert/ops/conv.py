"""ConvBERT's two convolutions over the sequence axis, as differentiable operations.

- depthwise_conv1d: one K-wide filter per channel, the first half of the separable key convolution;
- span_conv: the span-based dynamic convolution, a different K-wide kernel at every position.
Both pad with zeros so the output has the input's length; their maths is in minconvbert.kernels.
"""

from __future__ import annotations

from minconvbert.backend import active_kernels
from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float


class DepthwiseConv1d(Function):
    """y[b, t, c] = sum_k weight[c, k] * x[b, t + k - K//2, c]: x (B, T, C), weight (C, K) -> (B, T, C)."""

    def forward(self, x, weight):
        require_float("depthwise_conv1d", x, weight)
        if x.ndim != 3 or weight.ndim != 2 or weight.shape[0] != x.shape[2]:
            raise ValueError(
                f"depthwise_conv1d: expected x (B, T, C) and weight (C, K), got {x.shape} and {weight.shape}"
            )
        self.x, self.weight = x, weight
        return active_kernels().depthwise_conv1d_forward(x, weight)

    def backward(self, g):
        return active_kernels().depthwise_conv1d_backward(self.x, self.weight, g)


class SpanConv(Function):
    """out[b, t, h, :] = sum_k conv_kernel[b, t, h, k] * values[b, t + k - (K-1)//2, h, :].

    values (B, T, H, D), conv_kernel (B, T, H, K) -> (B, T, H, D); K odd.
    """

    def forward(self, values, conv_kernel):
        require_float("span_conv", values, conv_kernel)
        if values.ndim != 4 or conv_kernel.ndim != 4 or values.shape[:3] != conv_kernel.shape[:3]:
            raise ValueError(
                f"span_conv: expected values (B, T, H, D) and conv_kernel (B, T, H, K), "
                f"got {values.shape} and {conv_kernel.shape}"
            )
        self.values, self.conv_kernel = values, conv_kernel
        return active_kernels().span_conv_forward(values, conv_kernel)

    def backward(self, g):
        return active_kernels().span_conv_backward(self.values, self.conv_kernel, g)
