"""Assignment A4: convolution heads vs attention heads on the trained nano model, measured.

Shapes: B batch, H heads of one kind (the nano model has H = 2 attention and 2 convolution heads per
layer), T sequence length, K conv kernel size, L layers. All arrays are NumPy arrays.

    attentions     (B, H, T, T)   one layer's attention maps: attentions[b, h, i, j] = weight of key j for query i
    conv_kernels   (B, H, T, K)   one layer's dynamic kernels: conv_kernels[b, h, t, k] = weight of position
                                  t + k - (K - 1) // 2
    attention_mask (B, T)         1 for a real token, 0 for padding (None: every position is real)

Write seven functions (the README gives the maths, the rules for padding and the edges, and the
grading):

    mean_attention_distance(attentions, attention_mask=None)        -> (H,)
    mean_kernel_distance(conv_kernels, attention_mask=None)         -> (H,)
    even_attention_distance(attention_mask)                         -> float
    even_kernel_distance(kernel_size)                               -> float
    ablation_loss_change(model, batch, kind, layer, head)           -> float
    classify_heads(distances, even_distance, local_below=0.5, global_above=0.9) -> (L, H) array of str
    padding_weight_at_ends(model, input_ids)                        -> (L, H, 2)

Use NumPy and the model's own forward pass; not minconvbert.analysis (that is what you are graded
against). Do not modify the input arrays, the batch or the model's weights.
"""

import numpy as np

from minconvbert.tensor import no_grad


def _query_weights(attention_mask, batch, seq):
    """(B, T) float weights of the query positions to average over: 1 for real tokens, 0 for padding (given)."""
    if attention_mask is None:
        return np.ones((batch, seq))
    return (np.asarray(attention_mask) != 0).astype(np.float64)


def mean_attention_distance(attentions, attention_mask=None):
    """How far each attention head looks: (B, H, T, T) -> (H,).

    distance[h] = mean over the real query positions (b, i) of the whole batch of
                  sum_j attentions[b, h, i, j] * |i - j|
    """
    raise NotImplementedError("mean_attention_distance: write this part")


def mean_kernel_distance(conv_kernels, attention_mask=None):
    """How far each convolution head looks: (B, H, T, K) -> (H,).

    distance[h] = mean over the real positions (b, t) of the whole batch of
                  sum_k conv_kernels[b, h, t, k] * |k - (K - 1) // 2|
    Every one of the K weights counts, also those that fall outside the sequence near its ends.
    """
    raise NotImplementedError("mean_kernel_distance: write this part")


def even_attention_distance(attention_mask):
    """The mean distance of an attention head that spreads its weight evenly over the real keys of its
    sequence, averaged like mean_attention_distance over the real query positions: a float.

    attention_mask (B, T), 1 for real tokens, 0 for padding.
    """
    raise NotImplementedError("even_attention_distance: write this part")


def even_kernel_distance(kernel_size):
    """The mean distance of a convolution head whose kernel is 1/K at each of its K offsets: a float."""
    raise NotImplementedError("even_kernel_distance: write this part")


def ablation_loss_change(model, batch, kind, layer, head):
    """(loss with one head switched off) - (loss with every head on), on `batch`: a float.

    model: a ConvBertForMaskedLM. batch: {"input_ids", "attention_mask", "labels"}, each (B, T).
    kind: "attention" or "conv"; layer, head: which head. Switch the head off through the model's
    `head_mask` / `conv_head_mask` arguments ((L, H) arrays of 1 = keep, 0 = off). Both losses are
    `model(...).loss` in eval mode (no dropout) without recording a graph; afterwards the model is
    back in the mode (train or eval) it was in.
    """
    raise NotImplementedError("ablation_loss_change: write this part")


def classify_heads(distances, even_distance, local_below=0.5, global_above=0.9):
    """Label each head by its locality r = distance / even_distance: (L, H) -> (L, H) array of str.

    "local" if r < local_below, "global" if r >= global_above, "intermediate" otherwise.
    """
    raise NotImplementedError("classify_heads: write this part")


def padding_weight_at_ends(model, input_ids):
    """Part E: the weight each convolution head's kernel puts on the zero padding at the two ends of one text.

    model: a ConvBertForMaskedLM. input_ids: (1, T), one text encoded as [CLS] ... [SEP], no padding.
    Returns an (L, H, 2) array: [l, h, 0] the sum of the kernel weights of [CLS] (position 0) on the
    taps before the text (positions < 0), [l, h, 1] the sum of those of [SEP] (position T - 1) on the
    taps past its end (positions > T - 1), for convolution head h of layer l. The head explorer shows
    them: hover [CLS] or [SEP], and add up the grey (padding) rows of a convolution head. Run the
    model in eval mode without recording a graph; afterwards the model is back in the mode it was in.
    """
    raise NotImplementedError("padding_weight_at_ends: write this part")
