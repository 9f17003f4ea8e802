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
    # BEGIN SOLUTION
    channels, _, width = depthwise_weight.shape
    mixed = F.depthwise_conv1d(x, depthwise_weight.reshape(channels, width))  # (B, T, C)
    pointwise = pointwise_weight.reshape(pointwise_weight.shape[0], channels)  # (O, C)
    return F.linear(mixed, pointwise, bias.reshape(bias.shape[0]))  # (B, T, O)
    # END SOLUTION


def attention_heads(query, key, value, num_heads, attention_mask=None):
    """Scaled dot-product attention per head.

    query, key, value (B, T, H*D); attention_mask None or an additive NumPy array (B, 1, 1, T)
    (0 to attend, a very negative number to ignore) -> (context (B, T, H, D), probs (B, H, T, T)).
    """
    # BEGIN SOLUTION
    B, T, HD = query.shape
    D = HD // num_heads
    q = query.reshape(B, T, num_heads, D).transpose(1, 2)  # (B, H, T, D)
    k = key.reshape(B, T, num_heads, D).transpose(1, 2)  # (B, H, T, D)
    v = value.reshape(B, T, num_heads, D).transpose(1, 2)  # (B, H, T, D)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)  # (B, H, T, T)
    probs = F.softmax(scores, axis=-1, mask=attention_mask)  # (B, H, T, T)
    return (probs @ v).transpose(1, 2), probs  # (B, T, H, D), (B, H, T, T)
    # END SOLUTION


def dynamic_kernels(query, key_conv, kernel_weight, kernel_bias, num_heads):
    """One kernel per position and head: softmax over K of Linear(query * key_conv).

    query, key_conv (B, T, H*D); kernel_weight (H*K, H*D), kernel_bias (H*K,) -> (B, T, H, K).
    """
    # BEGIN SOLUTION
    B, T, _ = query.shape
    width = kernel_weight.shape[0] // num_heads
    logits = F.linear(key_conv * query, kernel_weight, kernel_bias)  # (B, T, H*K)
    return F.softmax(logits.reshape(B, T, num_heads, width), axis=-1)  # (B, T, H, K)
    # END SOLUTION


def conv_heads(hidden_states, kernels, out_weight, out_bias):
    """The convolution heads: values = Linear(hidden_states), split into heads, then the span convolution.

    hidden_states (B, T, C); kernels (B, T, H, K); out_weight (H*D, C), out_bias (H*D,) -> (B, T, H, D).
    """
    # BEGIN SOLUTION
    B, T, H, _ = kernels.shape
    values = F.linear(hidden_states, out_weight, out_bias)  # (B, T, H*D)
    return F.span_conv(values.reshape(B, T, H, values.shape[-1] // H), kernels)  # (B, T, H, D)
    # END SOLUTION


def mixed_attention(hidden_states, params, num_heads, attention_mask=None):
    """The whole block: (context (B, T, C), attention probs (B, H, T, T), kernels (B, T, H, K)).

    context[b, t] = the H attention heads' outputs, then the H convolution heads' outputs,
    concatenated (each head D features, in head order).
    """
    # BEGIN SOLUTION
    B, T, _ = hidden_states.shape
    query = F.linear(hidden_states, params["query.weight"], params["query.bias"])  # (B, T, H*D)
    key = F.linear(hidden_states, params["key.weight"], params["key.bias"])  # (B, T, H*D)
    value = F.linear(hidden_states, params["value.weight"], params["value.bias"])  # (B, T, H*D)
    key_conv = separable_conv(hidden_states, params["key_conv_attn_layer.depthwise.weight"],
                              params["key_conv_attn_layer.pointwise.weight"], params["key_conv_attn_layer.bias"])
    kernels = dynamic_kernels(query, key_conv, params["conv_kernel_layer.weight"], params["conv_kernel_layer.bias"],
                              num_heads)  # (B, T, H, K)
    conv = conv_heads(hidden_states, kernels, params["conv_out_layer.weight"], params["conv_out_layer.bias"])
    context, probs = attention_heads(query, key, value, num_heads, attention_mask)  # (B, T, H, D)
    mixed = F.concatenate([context, conv], axis=2)  # (B, T, 2H, D)
    return mixed.reshape(B, T, mixed.shape[2] * mixed.shape[3]), probs, kernels
    # END SOLUTION
