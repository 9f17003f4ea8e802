"""Head analysis: how local is each head, how peaked, how much does the loss need it, and the padding leak.

Everything here works on NumPy arrays (Tensors are accepted and read through `.data`) and is meant
to be read: loops where a loop says what happens, no clever vectorisation.

Shapes: L layers, B batch, H heads of each kind (attention heads = convolution heads), T sequence,
K conv_kernel_size. A model run with `output_attentions=True, output_conv_kernels=True` gives
    attentions   L x (B, H, T, T)   attentions[l][b, h, i, j]: weight of key j for query i
    conv_kernels L x (B, H, T, K)   conv_kernels[l][b, h, t, k]: weight of position t + k - (K - 1) // 2
The convolution heads' kernels are zero-padded at both ends of the sequence, so a kernel weight that
falls outside [0, T) multiplies a zero.

    >>> import numpy as np
    >>> kernels_to_matrix(np.array([[0.2, 0.5, 0.3], [0.1, 0.8, 0.1]]))
    array([[0.5, 0.3],
           [0.1, 0.8]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minconvbert.models.convbert.checks import numeric_array
from minconvbert.tensor import Tensor, data_of, no_grad

__all__ = [
    "kernels_to_matrix",
    "mean_attention_distance",
    "mean_kernel_distance",
    "attention_entropy",
    "HeadAblation",
    "head_ablation",
    "padding_leak",
]


def _array(name: str, value) -> np.ndarray:
    """`value` (array, Tensor or nested list) as a float NumPy array."""
    array = numeric_array(name, value)
    return array.astype(np.float64, copy=False) if array.dtype.kind != "f" else array


def _layers(name: str, value, ndim: int):
    """(stacked array, was_a_sequence): one (B, H, T, X) array, or a list/tuple of them -> (L, B, H, T, X)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name}: got an empty sequence of layers")
        arrays = [_array(f"{name}[{i}]", v) for i, v in enumerate(value)]
        for i, a in enumerate(arrays):
            if a.ndim != ndim or a.shape != arrays[0].shape:
                raise ValueError(f"{name}[{i}]: expected shape {arrays[0].shape} like layer 0, got {a.shape}")
        return np.stack(arrays), True
    array = _array(name, value)
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions or a list of per-layer arrays, got shape {array.shape}")
    return array[None], False


def _query_weights(attention_mask, batch: int, seq: int) -> np.ndarray:
    """(B, T) weights of the query positions to average over: the attention mask, or all ones."""
    if attention_mask is None:
        return np.ones((batch, seq))
    mask = _array("attention_mask", attention_mask)
    if mask.shape != (batch, seq):
        raise ValueError(f"attention_mask: expected shape ({batch}, {seq}), got {mask.shape}")
    if not mask.any():
        raise ValueError("attention_mask: every position is masked, nothing to average over")
    return (mask != 0).astype(np.float64)


def _average_over_queries(per_query: np.ndarray, weights: np.ndarray, was_sequence: bool) -> np.ndarray:
    """per_query (L, B, H, T) averaged over (B, T) with weights (B, T) -> (L, H), or (H,) for one layer."""
    total = np.einsum("lbht,bt->lh", per_query, weights)  # (L, H)
    result = total / weights.sum()
    return result if was_sequence else result[0]


# ----- the band -------------------------------------------------------------------------------
def kernels_to_matrix(kernels) -> np.ndarray:
    """A convolution head's kernels as the (T, T) mixing matrix they apply: (..., T, K) -> (..., T, T).

    matrix[t, t + k - (K - 1) // 2] = kernels[t, k] where that column lies in [0, T); the weights
    that fall outside the sequence (they multiply the zero padding) are dropped, and everything
    off the band is 0. Then out = matrix @ values, exactly like an attention head's probs @ values.
    """
    kernels = _array("kernels", kernels)
    if kernels.ndim < 2:
        raise ValueError(f"kernels: expected shape (..., T, K), got {kernels.shape}")
    T, K = kernels.shape[-2:]
    if K == 0:
        raise ValueError("kernels: the kernel size K (last axis) must be at least 1")
    left = (K - 1) // 2  # how many positions the kernel reaches to the left of t
    matrix = np.zeros(kernels.shape[:-2] + (T, T), dtype=kernels.dtype)  # (..., T, T)
    for t in range(T):
        for k in range(K):
            column = t + k - left
            if 0 <= column < T:
                matrix[..., t, column] = kernels[..., t, k]
    return matrix


# ----- locality and peakedness -----------------------------------------------------------------
def mean_attention_distance(attentions, attention_mask=None) -> np.ndarray:
    """How far each attention head looks: the expected |i - j| under its attention, averaged over queries.

    attentions: (B, H, T, T), or a list of per-layer (B, H, T, T) arrays (a model output's
    `.attentions`). attention_mask: (B, T) of 1 for real tokens, 0 for padding; padded query
    positions are left out of the average. Returns (H,), or (L, H) for a list of layers:
        distance[h] = mean over real (b, i) of  sum_j attentions[b, h, i, j] * |i - j|
    """
    probs, was_sequence = _layers("attentions", attentions, 4)  # (L, B, H, T, T)
    L, B, H, T, T2 = probs.shape
    if T != T2:
        raise ValueError(f"attentions: expected square (T, T) maps, got {T} x {T2}")
    positions = np.arange(T)
    distance = np.abs(positions[:, None] - positions[None, :])  # (T, T): |i - j|
    per_query = (probs * distance).sum(axis=-1)  # (L, B, H, T)
    return _average_over_queries(per_query, _query_weights(attention_mask, B, T), was_sequence)


def mean_kernel_distance(conv_kernels, attention_mask=None) -> np.ndarray:
    """How far each convolution head looks: the expected |offset| under its kernels, averaged over positions.

    conv_kernels: (B, H, T, K), or a list of per-layer arrays (a model output's `.conv_kernels`).
    Kernel weight k sits at offset k - (K - 1) // 2 from its position, so
        distance[h] = mean over real (b, t) of  sum_k conv_kernels[b, h, t, k] * |k - (K - 1) // 2|
    All K weights count, also those that fall outside the sequence near its ends (they are what
    the head asks for; they happen to multiply zeros). The result is on the same scale as
    `mean_attention_distance`, but never exceeds K // 2 (the kernel's reach). Returns (H,) or (L, H).
    """
    kernels, was_sequence = _layers("conv_kernels", conv_kernels, 4)  # (L, B, H, T, K)
    L, B, H, T, K = kernels.shape
    offsets = np.abs(np.arange(K) - (K - 1) // 2)  # (K,)
    per_position = (kernels * offsets).sum(axis=-1)  # (L, B, H, T)
    return _average_over_queries(per_position, _query_weights(attention_mask, B, T), was_sequence)


def attention_entropy(probs, attention_mask=None) -> np.ndarray:
    """How spread out each head's weights are: the entropy (in nats) of each row, averaged over queries.

    probs: attention maps (B, H, T, T) or conv kernels (B, H, T, K), or a list of per-layer arrays;
    each row (last axis) is a distribution. entropy = -sum p log p with 0 log 0 = 0: 0 for a head
    that puts all its weight on one position, log(n) for one spread evenly over n positions.
    Padded query positions (attention_mask == 0) are left out. Returns (H,) or (L, H).
    """
    p, was_sequence = _layers("probs", probs, 4)  # (L, B, H, T, X)
    L, B, H, T, _ = p.shape
    safe = np.where(p > 0, p, 1.0)  # log(1) = 0 where p == 0
    per_query = -(p * np.log(safe)).sum(axis=-1)  # (L, B, H, T)
    return _average_over_queries(per_query, _query_weights(attention_mask, B, T), was_sequence)


# ----- head ablation ----------------------------------------------------------------------------
@dataclass
class HeadAblation:
    """The loss with each head switched off, relative to the loss with every head on.

    base_loss: the unablated model's loss. attention, conv: (L, H) arrays of
    (loss with that head off) - base_loss, for attention heads and convolution heads.
    """

    base_loss: float
    attention: np.ndarray
    conv: np.ndarray

    def __getitem__(self, key) -> float:
        """result["conv", layer, head] -> the loss change for that head."""
        kind, layer, head = key
        if kind not in ("attention", "conv"):
            raise KeyError(f"HeadAblation: kind must be 'attention' or 'conv', got {kind!r}")
        return float(getattr(self, kind)[layer, head])

    def items(self) -> list:
        """[((kind, layer, head), loss change)], attention heads first, in layer and head order."""
        out = []
        for kind in ("attention", "conv"):
            deltas = getattr(self, kind)
            for layer in range(deltas.shape[0]):
                for head in range(deltas.shape[1]):
                    out.append(((kind, layer, head), float(deltas[layer, head])))
        return out


def _default_loss(output, batch):
    loss = getattr(output, "loss", None)
    if loss is None:
        raise ValueError(
            "head_ablation: the model returned no loss for this batch; include labels in the batch or pass "
            "loss_fn(output, batch) -> scalar"
        )
    return loss


def head_ablation(model, batch: dict, loss_fn=None) -> HeadAblation:
    """Switch off each attention head and each convolution head in turn and record the loss change.

    model: a ConvBERT model (ConvBertModel or a task model). batch: dict of model inputs, e.g.
    {"input_ids": (B, T), "attention_mask": (B, T), "labels": (B, T)}; the model is called as
    `model(**batch, head_mask=..., conv_head_mask=...)` with (L, H) masks of 1 (keep) and 0 (off).
    loss_fn(output, batch) -> scalar loss (Tensor or float); by default `output.loss`.
    The model runs in eval mode (no dropout) and without a graph; its mode is restored afterwards.
    1 + 2 * L * H forward passes.
    """
    if not isinstance(batch, dict):
        raise TypeError(f"batch: expected a dict of model inputs, got {type(batch).__name__}")
    for name in ("head_mask", "conv_head_mask"):
        if name in batch:
            raise ValueError(f"batch: must not contain {name!r}; head_ablation sets the head masks itself")
    loss_fn = _default_loss if loss_fn is None else loss_fn
    config = model.config
    L, H = config.num_hidden_layers, config.heads_per_kind

    def loss_with(head_mask, conv_head_mask) -> float:
        output = model(**batch, head_mask=head_mask, conv_head_mask=conv_head_mask)
        loss = loss_fn(output, batch)
        return float(np.asarray(data_of(loss)).item())

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            all_on = np.ones((L, H))
            base = loss_with(all_on, all_on)
            attention = np.zeros((L, H))  # (L, H)
            conv = np.zeros((L, H))  # (L, H)
            for layer in range(L):
                for head in range(H):
                    off = all_on.copy()
                    off[layer, head] = 0.0  # this one head switched off, every other head on
                    attention[layer, head] = loss_with(off, all_on) - base
                    conv[layer, head] = loss_with(all_on, off) - base
    finally:
        model.train(was_training)
    return HeadAblation(base_loss=base, attention=attention, conv=conv)


# ----- the padding leak -------------------------------------------------------------------------
def padding_leak(model, input_ids, pad_length: int) -> float:
    """How much padding changes the real tokens: max |h_padded - h| over their last hidden states.

    input_ids: (B, T) or (T,) token ids, all real tokens. The model encodes them once as they are,
    and once with `pad_length` pad tokens (config.pad_token_id) appended and an attention_mask of
    1 for the real tokens and 0 for the padding. Attention never looks at masked positions, but the
    reference's convolution branch does (its convolutions slide over the padding), so the result
    is > 0 unless config.mask_conv_padding is True, where it is ~0 (float rounding only).
    Returns max over (b, t < T, c) of |last_hidden_padded[b, t, c] - last_hidden[b, t, c]|.
    """
    ids = np.asarray(data_of(input_ids))
    if ids.ndim == 1:
        ids = ids[None, :]
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"input_ids: expected shape (batch, seq) or (seq,) with seq > 0, got {ids.shape}")
    if not isinstance(pad_length, (int, np.integer)) or pad_length < 1:
        raise ValueError(f"pad_length: expected a positive integer, got {pad_length!r}")
    encoder = model.base_model if hasattr(model, "base_model") else model
    B, T = ids.shape
    pad = np.full((B, pad_length), model.config.pad_token_id, dtype=ids.dtype)
    padded = np.concatenate([ids, pad], axis=1)  # (B, T + pad_length)
    mask = np.concatenate([np.ones((B, T), dtype=np.int64), np.zeros((B, pad_length), dtype=np.int64)], axis=1)

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            alone = encoder(input_ids=ids).last_hidden_state.data  # (B, T, C)
            with_padding = encoder(input_ids=padded, attention_mask=mask).last_hidden_state.data  # (B, T + P, C)
    finally:
        model.train(was_training)
    return float(np.abs(with_padding[:, :T] - alone).max())
