"""Layer normalisation over the last axis (kernels: layer_norm_forward / layer_norm_backward)."""

from __future__ import annotations

from minconvbert.backend import active_kernels
from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last axis.

    x (..., N), weight (N,), bias (N,). The mean and 1/std are saved for backward.
    """

    def forward(self, x, weight, bias, eps=1e-5):
        require_float("layer_norm", x)
        if weight.shape != x.shape[-1:] or bias.shape != x.shape[-1:]:
            raise ValueError(
                f"layer_norm: weight {weight.shape} and bias {bias.shape} must both be ({x.shape[-1]},) "
                f"for input of shape {x.shape}"
            )
        y, self.mean, self.rstd = active_kernels().layer_norm_forward(x, weight, bias, eps)
        self.x, self.weight = x, weight
        return y

    def backward(self, g):
        return active_kernels().layer_norm_backward(g, self.x, self.weight, self.mean, self.rstd)
