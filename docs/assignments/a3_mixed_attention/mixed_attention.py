"""Assignment A3: ConvBERT's mixed attention block, with minconvbert's differentiable operations.

Write the block in five functions, from the parts to the whole. Every input is a minconvbert
`Tensor` (weights included) and every output must be one, computed with differentiable operations
(`minconvbert.functional`, imported as F, and Tensor methods), so that gradients flow back to the
weights: the grader compares your outputs *and your gradients* with the model's
`ConvBertSelfAttention` given the same weights.

Shapes: B batch, T sequence, C hidden size, H heads of each kind, D head size (C = 2 H D),
K conv kernel size. The weights are passed as a dict with the model's parameter names:

    query.weight (HD, C), query.bias (HD,)          and the same for key, value, conv_out_layer
    key_conv_attn_layer.depthwise.weight (C, 1, K)  key_conv_attn_layer.pointwise.weight (HD, C, 1)
    key_conv_attn_layer.bias (HD, 1)                conv_kernel_layer.weight (H K, HD), conv_kernel_layer.bias (H K,)

Useful operations: F.linear(x, weight, bias), F.softmax(x, axis, mask), F.depthwise_conv1d(x, w),
F.span_conv(values, kernels), F.concatenate(tensors, axis), x.reshape(...), x.transpose(i, j), x @ y.
No dropout (the grader runs in eval mode). See README.md for the maths.
"""

import math

from minconvbert import functional as F


def separable_conv(x, depthwise_weight, pointwise_weight, bias):
    """Depthwise then pointwise convolution over the sequence, plus a bias.

    x (B, T, C); depthwise_weight (C, 1, K), zero padding K // 2; pointwise_weight (O, C, 1);
    bias (O, 1) -> (B, T, O).
    """
    raise NotImplementedError("separable_conv: write this part")


def attention_heads(query, key, value, num_heads, attention_mask=None):
    """Scaled dot-product attention per head.

    query, key, value (B, T, H*D); attention_mask None or an additive NumPy array (B, 1, 1, T)
    (0 to attend, a very negative number to ignore) -> (context (B, T, H, D), probs (B, H, T, T)).
    """
    raise NotImplementedError("attention_heads: write this part")


def dynamic_kernels(query, key_conv, kernel_weight, kernel_bias, num_heads):
    """One kernel per position and head: softmax over K of Linear(query * key_conv).

    query, key_conv (B, T, H*D); kernel_weight (H*K, H*D), kernel_bias (H*K,) -> (B, T, H, K).
    """
    raise NotImplementedError("dynamic_kernels: write this part")


def conv_heads(hidden_states, kernels, out_weight, out_bias):
    """The convolution heads: values = Linear(hidden_states), split into heads, then the span convolution.

    hidden_states (B, T, C); kernels (B, T, H, K); out_weight (H*D, C), out_bias (H*D,) -> (B, T, H, D).
    """
    raise NotImplementedError("conv_heads: write this part")


def mixed_attention(hidden_states, params, num_heads, attention_mask=None):
    """The whole block: (context (B, T, C), attention probs (B, H, T, T), kernels (B, T, H, K)).

    context[b, t] = the H attention heads' outputs, then the H convolution heads' outputs,
    concatenated (each head D features, in head order).
    """
    raise NotImplementedError("mixed_attention: write this part")
