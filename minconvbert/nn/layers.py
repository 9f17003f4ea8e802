"""Layers: Linear, Embedding, LayerNorm, Dropout, the separable and grouped layers ConvBERT uses.

Weights are stored in PyTorch's layouts (Linear weight (out, in); Conv1d weights (out, in/groups, K)),
so a state dict maps one to one. Random initialisation takes an explicit `rng`; each layer with
random weights draws them in `reset_parameters(rng)` when built, except inside `init.deferred()`
(a model that initialises all its weights itself, once).
"""

from __future__ import annotations

import math

import numpy as np

from minconvbert import functional as F
from minconvbert import random as _random
from minconvbert.nn import init
from minconvbert.nn.module import Module, Parameter


def _empty(*shape, dtype=np.float32):
    return Parameter(np.zeros(shape, dtype=dtype))


class Identity(Module):
    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b: x (..., in_features) -> (..., out_features); W (out, in), b (out,).

    Initialised as PyTorch does: W and b uniform in +-1/sqrt(in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        self.bias = _empty(out_features, dtype=dtype) if bias else None
        if not init.is_deferred():
            self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        rng = _random.resolve(rng)  # one stream for weight and bias (an int seed would restart it for each)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        init.uniform_(self.weight, -bound, bound, rng)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, rng)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """y = weight[ids]: ids (...) integers -> (..., embedding_dim); row `padding_idx` starts at zero
    and gets no gradient. Initialised N(0, 1) as in PyTorch.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, rng=None, dtype=np.float32):
        super().__init__()
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} is outside [0, {num_embeddings})")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.weight = _empty(num_embeddings, embedding_dim, dtype=dtype)
        if not init.is_deferred():
            self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        init.normal_(self.weight, 1.0, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids):
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class LayerNorm(Module):
    """Normalise the last axis to zero mean, unit variance, then y = x_hat * weight + bias.

    `normalized_shape` is the last axis' size N (an int, or (N,) as PyTorch also accepts).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        if isinstance(normalized_shape, (tuple, list)):  # PyTorch also takes (N,); only the last axis is normalised
            (normalized_shape,) = normalized_shape
        self.normalized_shape, self.eps = int(normalized_shape), eps
        self.weight = Parameter(np.ones(normalized_shape, dtype=dtype))
        self.bias = Parameter(np.zeros(normalized_shape, dtype=dtype))

    def forward(self, x):
        return F.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"({self.normalized_shape},), eps={self.eps}"


class Dropout(Module):
    """Zero elements with probability p in training mode (survivors scaled by 1/(1-p)); identity in eval."""

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        # an int seed becomes one generator here, so that each call draws a new mask;
        # None stays None: each call uses the package's default generator (see manual_seed)
        self.p, self.rng = p, np.random.default_rng(rng) if isinstance(rng, (int, np.integer)) else rng

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"


class _Conv1dWeight(Module):
    """Holds a Conv1d weight in PyTorch's layout (out_channels, in_channels / groups, K), no bias.

    It only stores the weight under the name PyTorch uses; SeparableConv1D does the computing.
    """

    def __init__(self, out_channels: int, in_per_group: int, kernel_size: int, dtype=np.float32):
        super().__init__()
        self.weight = _empty(out_channels, in_per_group, kernel_size, dtype=dtype)

    def extra_repr(self):
        out_channels, in_per_group, k = self.weight.shape
        return f"weight=({out_channels}, {in_per_group}, {k})"


class SeparableConv1D(Module):
    """Depthwise then pointwise 1-D convolution over the sequence, plus a bias:

        y[b, t, o] = sum_c P[o, c] * (sum_k D[c, k] * x[b, t + k - K//2, c]) + bias[o]

    x (B, T, C_in) -> (B, T, C_out). Parameters as transformers names them: depthwise.weight
    (C_in, 1, K), pointwise.weight (C_out, C_in, 1), bias (C_out, 1). Zero padding keeps length T.
    """

    def __init__(self, input_filters: int, output_filters: int, kernel_size: int, std: float = 0.02, rng=None,
                 dtype=np.float32):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"SeparableConv1D: kernel_size must be odd to keep the length, got {kernel_size}")
        self.depthwise = _Conv1dWeight(input_filters, 1, kernel_size, dtype=dtype)
        self.pointwise = _Conv1dWeight(output_filters, input_filters, 1, dtype=dtype)
        self.bias = _empty(output_filters, 1, dtype=dtype)
        self.std = std
        if not init.is_deferred():
            self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        rng = _random.resolve(rng)  # one stream for both weights
        init.normal_(self.depthwise.weight, self.std, rng=rng)
        init.normal_(self.pointwise.weight, self.std, rng=rng)
        init.zeros_(self.bias)

    def forward(self, x):
        c_in, k = self.depthwise.weight.shape[0], self.depthwise.weight.shape[2]
        mixed = F.depthwise_conv1d(x, F.reshape(self.depthwise.weight, (c_in, k)))  # (B, T, C_in)
        pointwise = F.reshape(self.pointwise.weight, self.pointwise.weight.shape[:2])  # (C_out, C_in)
        bias = F.reshape(self.bias, self.bias.shape[:1])  # (C_out,)
        return F.linear(mixed, pointwise, bias)  # (B, T, C_out)


class GroupedLinear(Module):
    """A linear layer split into `num_groups` independent blocks (transformers' GroupedLinearLayer).

    The input's last axis is cut into num_groups contiguous chunks of in/groups features; chunk g
    is multiplied by weight[g] (in/groups, out/groups); the results are joined and bias added.
    x (..., in) -> (..., out). Far fewer weights than a full Linear: in * out / groups.
    """

    def __init__(self, input_size: int, output_size: int, num_groups: int, std: float = 0.02, rng=None,
                 dtype=np.float32):
        super().__init__()
        if input_size % num_groups or output_size % num_groups:
            raise ValueError(
                f"GroupedLinear: input_size {input_size} and output_size {output_size} must both divide "
                f"into num_groups={num_groups}"
            )
        self.input_size, self.output_size, self.num_groups, self.std = input_size, output_size, num_groups, std
        self.weight = _empty(num_groups, input_size // num_groups, output_size // num_groups, dtype=dtype)
        self.bias = _empty(output_size, dtype=dtype)
        if not init.is_deferred():
            self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        init.normal_(self.weight, self.std, rng=rng)
        init.zeros_(self.bias)

    def forward(self, x):
        lead = x.shape[:-1]
        chunks = F.reshape(x, (-1, self.num_groups, self.input_size // self.num_groups))  # (N, G, in/G)
        chunks = F.permute(chunks, (1, 0, 2))  # (G, N, in/G)
        out = F.matmul(chunks, self.weight)  # (G, N, out/G)
        out = F.permute(out, (1, 0, 2))  # (N, G, out/G)
        return F.reshape(out, (*lead, self.output_size)) + self.bias  # (..., out)

    def extra_repr(self):
        return f"input_size={self.input_size}, output_size={self.output_size}, num_groups={self.num_groups}"
