"""Assignment A4: convolution heads vs attention heads on the trained nano model, measured.

Shapes: B batch, H heads of one kind (the nano model has H = 2 attention and 2 convolution heads per
layer), T sequence length, K conv kernel size, L layers. All arrays are NumPy arrays.

    attentions     (B, H, T, T)   one layer's attention maps: attentions[b, h, i, j] = weight of key j for query i
    conv_kernels   (B, H, T, K)   one layer's dynamic kernels: conv_kernels[b, h, t, k] = weight of position
                                  t + k - (K - 1) // 2
    attention_mask (B, T)         1 for a real token, 0 for padding (None: every position is real)

Write six functions (the README gives the maths, the rules for padding and the edges, and the
grading):

    mean_attention_distance(attentions, attention_mask=None)        -> (H,)
    mean_kernel_distance(conv_kernels, attention_mask=None)         -> (H,)
    even_attention_distance(attention_mask)                         -> float
    even_kernel_distance(kernel_size)                               -> float
    ablation_loss_change(model, batch, kind, layer, head)           -> float
    classify_heads(distances, even_distance, local_below=0.5, global_above=0.9) -> (L, H) array of str

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
    # BEGIN SOLUTION
    probs = np.asarray(attentions, dtype=np.float64)  # (B, H, T, T)
    B, _, T, _ = probs.shape
    positions = np.arange(T)
    distance = np.abs(positions[:, None] - positions[None, :])  # (T, T): |i - j|
    per_query = (probs * distance).sum(axis=-1)  # (B, H, T)
    weights = _query_weights(attention_mask, B, T)  # (B, T)
    return np.einsum("bht,bt->h", per_query, weights) / weights.sum()
    # END SOLUTION


def mean_kernel_distance(conv_kernels, attention_mask=None):
    """How far each convolution head looks: (B, H, T, K) -> (H,).

    distance[h] = mean over the real positions (b, t) of the whole batch of
                  sum_k conv_kernels[b, h, t, k] * |k - (K - 1) // 2|
    Every one of the K weights counts, also those that fall outside the sequence near its ends.
    """
    # BEGIN SOLUTION
    kernels = np.asarray(conv_kernels, dtype=np.float64)  # (B, H, T, K)
    B, _, T, K = kernels.shape
    offsets = np.abs(np.arange(K) - (K - 1) // 2)  # (K,)
    per_position = (kernels * offsets).sum(axis=-1)  # (B, H, T)
    weights = _query_weights(attention_mask, B, T)  # (B, T)
    return np.einsum("bht,bt->h", per_position, weights) / weights.sum()
    # END SOLUTION


def even_attention_distance(attention_mask):
    """The mean distance of an attention head that spreads its weight evenly over the real keys of its
    sequence, averaged like mean_attention_distance over the real query positions: a float.

    attention_mask (B, T), 1 for real tokens, 0 for padding.
    """
    # BEGIN SOLUTION
    mask = np.asarray(attention_mask) != 0  # (B, T)
    T = mask.shape[1]
    positions = np.arange(T)
    distance = np.abs(positions[:, None] - positions[None, :])  # (T, T)
    total, count = 0.0, 0
    for row in mask:
        keys = distance[:, row]  # (T, n): |i - j| for every real key j
        per_query = keys.mean(axis=1)  # (T,): the even head's expected distance for each query
        total += per_query[row].sum()
        count += int(row.sum())
    return float(total / count)
    # END SOLUTION


def even_kernel_distance(kernel_size):
    """The mean distance of a convolution head whose kernel is 1/K at each of its K offsets: a float."""
    # BEGIN SOLUTION
    return float(np.abs(np.arange(kernel_size) - (kernel_size - 1) // 2).mean())
    # END SOLUTION


def ablation_loss_change(model, batch, kind, layer, head):
    """(loss with one head switched off) - (loss with every head on), on `batch`: a float.

    model: a ConvBertForMaskedLM. batch: {"input_ids", "attention_mask", "labels"}, each (B, T).
    kind: "attention" or "conv"; layer, head: which head. Switch the head off through the model's
    `head_mask` / `conv_head_mask` arguments ((L, H) arrays of 1 = keep, 0 = off). Both losses are
    `model(...).loss` in eval mode (no dropout) without recording a graph; afterwards the model is
    back in the mode (train or eval) it was in.
    """
    # BEGIN SOLUTION
    config = model.config
    keep = np.ones((config.num_hidden_layers, config.heads_per_kind))
    off = keep.copy()
    off[layer, head] = 0.0
    masks = {"attention": (off, keep), "conv": (keep, off)}[kind]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            base = model(**batch).loss.item()
            ablated = model(**batch, head_mask=masks[0], conv_head_mask=masks[1]).loss.item()
    finally:
        model.train(was_training)
    return float(ablated - base)
    # END SOLUTION


def classify_heads(distances, even_distance, local_below=0.5, global_above=0.9):
    """Label each head by its locality r = distance / even_distance: (L, H) -> (L, H) array of str.

    "local" if r < local_below, "global" if r >= global_above, "intermediate" otherwise.
    """
    # BEGIN SOLUTION
    ratio = np.asarray(distances, dtype=np.float64) / even_distance  # (L, H)
    labels = np.full(ratio.shape, "intermediate", dtype=object)
    labels[ratio < local_below] = "local"
    labels[ratio >= global_above] = "global"
    return labels
    # END SOLUTION
