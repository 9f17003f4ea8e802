"""The layers of ConvBERT: embeddings, the mixed attention block, the (grouped) feed-forward, the encoder.

Names follow transformers' ConvBERT module for module, so `named_parameters()` gives the same keys
as its state dict. Shapes: B batch, T sequence, E embedding_size, C hidden_size, H attention heads
(= convolution heads), D head size (C = 2 * H * D), K conv_kernel_size, I intermediate_size.
"""

from __future__ import annotations

import math

import numpy as np

from minconvbert import functional as F
from minconvbert import nn

ACT2FN = {"gelu": F.gelu, "relu": F.relu, "selu": F.selu, "gelu_new": F.gelu_new}  # the hidden_act names


def get_activation(hidden_act):
    """The activation function named by `hidden_act` (or `hidden_act` itself when it is callable)."""
    if callable(hidden_act):
        return hidden_act
    if hidden_act not in ACT2FN:
        raise ValueError(f"unknown activation {hidden_act!r}; use one of {sorted(ACT2FN)} or a callable")
    return ACT2FN[hidden_act]


class ConvBertEmbeddings(nn.Module):
    """embeddings = LayerNorm(word[input_ids] + position[position_ids] + token_type[token_type_ids]) -> (B, T, E)."""

    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.embedding_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.embedding_size)
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None):
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T, E)
        positions = self.position_embeddings(position_ids)  # (B or 1, T, E)
        token_types = self.token_type_embeddings(token_type_ids)  # (B, T, E)
        embeddings = inputs_embeds + positions + token_types  # (B, T, E)
        return self.dropout(self.LayerNorm(embeddings))


class ConvBertSelfAttention(nn.Module):
    """The mixed attention block: H self-attention heads beside H span-based dynamic convolution heads.

    Attention heads (as in BERT):   softmax(Q K^T / sqrt(D) + mask) V                     -> (B, T, H, D)
    Convolution heads (ConvBERT):   for each position t and head h, a kernel of K weights is
        generated from the token and its neighbourhood,
            kernel[t] = softmax(W_k (Q[t] * SepConv(x)[t]))          (the "key" is a convolution)
        and mixes the K values around t:
            out[t] = sum_k kernel[t, k] * V'[t + k - (K - 1)/2]       (zero outside the sequence)
    The two kinds are concatenated, attention heads first, giving C = 2 * H * D features.
    """

    def __init__(self, config):
        super().__init__()
        self.num_attention_heads = config.heads_per_kind  # num_attention_heads // head_ratio, at least 1
        self.head_ratio = config.num_attention_heads // self.num_attention_heads
        self.attention_head_size = config.attention_head_size  # D = C // H // 2
        self.all_head_size = self.num_attention_heads * self.attention_head_size  # H * D = C / 2
        self.conv_kernel_size = config.conv_kernel_size
        C, HD, H, K = config.hidden_size, self.all_head_size, self.num_attention_heads, self.conv_kernel_size
        self.query = nn.Linear(C, HD)
        self.key = nn.Linear(C, HD)
        self.value = nn.Linear(C, HD)
        self.key_conv_attn_layer = nn.SeparableConv1D(C, HD, K, std=config.initializer_range)
        self.conv_kernel_layer = nn.Linear(HD, H * K)
        self.conv_out_layer = nn.Linear(C, HD)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, conv_head_mask=None, conv_keep=None):
        """hidden_states (B, T, C) -> (context (B, T, C), attention probs (B, H, T, T), kernels (B, T, H, K)).

        attention_mask: additive (B, 1, 1, T), 0 to attend and a large negative number to ignore.
        head_mask / conv_head_mask: (H,) multipliers (0 switches a head off) for attention / conv heads.
        conv_keep: (B, T, 1) of 1 for tokens and 0 for padding, to keep padding out of the convolutions
        (the reference does not, so it is None unless config.mask_conv_padding).
        """
        B, T, _ = hidden_states.shape
        H, D, K = self.num_attention_heads, self.attention_head_size, self.conv_kernel_size

        query = self.query(hidden_states)  # (B, T, H*D)
        key = self.key(hidden_states)  # (B, T, H*D)
        value = self.value(hidden_states)  # (B, T, H*D)

        # --- convolution heads: generate one K-wide kernel per position and head ---
        conv_input = hidden_states if conv_keep is None else hidden_states * conv_keep  # (B, T, C)
        key_conv = self.key_conv_attn_layer(conv_input)  # (B, T, H*D): separable conv over the sequence
        conv_attn = key_conv * query  # (B, T, H*D)
        conv_kernel = self.conv_kernel_layer(conv_attn).reshape(B, T, H, K)  # (B, T, H, K)
        conv_kernel = F.softmax(conv_kernel, axis=-1)  # (B, T, H, K): each kernel sums to 1
        conv_values = self.conv_out_layer(conv_input)  # (B, T, H*D)
        if conv_keep is not None:
            conv_values = conv_values * conv_keep  # padded positions contribute nothing to the spans
        conv_out = F.span_conv(conv_values.reshape(B, T, H, D), conv_kernel)  # (B, T, H, D)
        if conv_head_mask is not None:
            conv_out = conv_out * conv_head_mask.reshape(1, 1, H, 1)

        # --- attention heads ---
        q = query.reshape(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = key.reshape(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        v = value.reshape(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)  # (B, H, T, T)
        probs = F.softmax(scores, axis=-1, mask=attention_mask)  # (B, H, T, T)
        probs = self.dropout(probs)
        if head_mask is not None:
            probs = probs * head_mask.reshape(1, H, 1, 1)
        context = (probs @ v).transpose(1, 2)  # (B, T, H, D)

        mixed = F.concatenate([context, conv_out], axis=2)  # (B, T, 2H, D): attention heads, then conv heads
        return mixed.reshape(B, T, 2 * H * D), probs, conv_kernel


class ConvBertSelfOutput(nn.Module):
    """LayerNorm(dropout(dense(context)) + input) -> (B, T, C); `dense` is Linear(C, C) unless given."""

    def __init__(self, config, dense=None):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size) if dense is None else dense
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class ConvBertAttention(nn.Module):
    """The mixed attention block followed by its output projection and residual LayerNorm."""

    def __init__(self, config):
        super().__init__()
        self.self = ConvBertSelfAttention(config)
        self.output = ConvBertSelfOutput(config)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, conv_head_mask=None, conv_keep=None):
        context, probs, kernels = self.self(hidden_states, attention_mask, head_mask, conv_head_mask, conv_keep)
        return self.output(context, hidden_states), probs, kernels


def _dense(config, in_features, out_features):
    """A Linear layer, or a GroupedLinear when config.num_groups > 1 (the grouped feed-forward)."""
    if config.num_groups == 1:
        return nn.Linear(in_features, out_features)
    return nn.GroupedLinear(in_features, out_features, config.num_groups, std=config.initializer_range)


class ConvBertIntermediate(nn.Module):
    """act(dense(x)): (B, T, C) -> (B, T, I)."""

    def __init__(self, config):
        super().__init__()
        self.dense = _dense(config, config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act)

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class ConvBertOutput(ConvBertSelfOutput):
    """LayerNorm(dropout(dense(x)) + input): (B, T, I) -> (B, T, C), dense grouped when num_groups > 1."""

    def __init__(self, config):
        super().__init__(config, dense=_dense(config, config.intermediate_size, config.hidden_size))


class ConvBertLayer(nn.Module):
    """One transformer layer: mixed attention, then the feed-forward, each with a residual LayerNorm."""

    def __init__(self, config):
        super().__init__()
        self.attention = ConvBertAttention(config)
        self.intermediate = ConvBertIntermediate(config)
        self.output = ConvBertOutput(config)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, conv_head_mask=None, conv_keep=None):
        attention_output, probs, kernels = self.attention(
            hidden_states, attention_mask, head_mask, conv_head_mask, conv_keep
        )  # (B, T, C)
        layer_output = self.output(self.intermediate(attention_output), attention_output)  # (B, T, C)
        return layer_output, probs, kernels


class ConvBertEncoder(nn.Module):
    """num_hidden_layers ConvBertLayers applied in turn."""

    def __init__(self, config):
        super().__init__()
        self.layer = nn.ModuleList(ConvBertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, hidden_states, attention_mask=None, head_mask=None, conv_head_mask=None, conv_keep=None,
                output_hidden_states=False, output_attentions=False, output_conv_kernels=False):
        """-> (last hidden state, [hidden states, inputs first], [attention probs], [conv kernels]).

        Each list is filled only when its output_* flag is set (keeping every layer's attention
        probabilities would otherwise hold (B, H, T, T) arrays of all layers in memory).
        """
        all_hidden, all_probs, all_kernels = [hidden_states], [], []
        for i, layer in enumerate(self.layer):
            hidden_states, probs, kernels = layer(
                hidden_states,
                attention_mask,
                None if head_mask is None else head_mask[i],
                None if conv_head_mask is None else conv_head_mask[i],
                conv_keep,
            )
            if output_hidden_states:
                all_hidden.append(hidden_states)
            if output_attentions:
                all_probs.append(probs)
            if output_conv_kernels:
                all_kernels.append(kernels)
        return hidden_states, all_hidden, all_probs, all_kernels


def additive_attention_mask(attention_mask: np.ndarray, dtype) -> np.ndarray:
    """(B, T) of 1 (attend) / 0 (ignore) -> (B, 1, 1, T) of 0 / the dtype's most negative number."""
    keep = attention_mask[:, None, None, :].astype(dtype)
    return (1.0 - keep) * np.finfo(dtype).min
