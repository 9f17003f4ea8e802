"""What a ConvBERT model checks before it builds (the architecture) and before it runs (the inputs).

A ConvBertConfig holds any well-typed numbers (transformers' configs do: its own tests make one with
hidden_size=37); `check_buildable` decides, before a single array is allocated, whether they make a
model: every message names the field and what was expected. The input checks turn torch tensors,
Tensors and array-likes into NumPy arrays and refuse wrong shapes, ids and mask values with a clear
error before any maths runs.
"""

from __future__ import annotations

import numpy as np

from minconvbert import interop
from minconvbert.tensor import Tensor, data_of

__all__ = ["check_buildable", "encoder_parameter_count", "MAX_PARAMETERS", "input_array", "ids_array",
           "head_mask_array", "attention_mask_array"]

MAX_PARAMETERS = 2**31  # ~8.6 GB in float32: a config.json asking for more is refused before allocation

_POSITIVE = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "max_position_embeddings", "type_vocab_size", "embedding_size", "head_ratio", "conv_kernel_size",
             "num_groups")


def check_buildable(config, model_name: str = "ConvBertModel") -> None:
    """Raise ValueError naming the first field of `config` that cannot make a ConvBERT model."""
    from minconvbert.models.convbert.layers import ACT2FN

    def fail(message):
        raise ValueError(f"{model_name}: {message}")

    for name in _POSITIVE:
        if getattr(config, name) < 1:
            fail(f"{name} must be a positive integer, got {getattr(config, name)}")
    for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
        value = getattr(config, name)
        if value is not None and not 0.0 <= value <= 1.0:
            fail(f"{name} must be a probability in [0, 1], got {value!r}")
    if not config.layer_norm_eps > 0:
        fail(f"layer_norm_eps must be positive (it keeps LayerNorm's division away from zero), got "
             f"{config.layer_norm_eps!r}")
    if not config.initializer_range >= 0:
        fail(f"initializer_range must be >= 0 (the standard deviation of the initial weights), got "
             f"{config.initializer_range!r}")
    heads = config.heads_per_kind
    if config.hidden_size % (2 * heads):
        fail(f"hidden_size {config.hidden_size} must split into {heads} attention heads and {heads} convolution "
             f"heads of equal size, so it must be divisible by 2 * {heads} = {2 * heads} (heads of each kind = "
             f"num_attention_heads {config.num_attention_heads} // head_ratio {config.head_ratio}, at least 1)")
    if config.conv_kernel_size % 2 == 0:
        fail(f"conv_kernel_size must be odd, got {config.conv_kernel_size}: the span is centred on each token, "
             "with (K - 1) / 2 positions on each side; with an even K the reference's two paddings (K // 2 in the "
             "key convolution, (K - 1) // 2 in the span) disagree and it crashes")
    if config.hidden_size % config.num_groups or config.intermediate_size % config.num_groups:
        fail(f"num_groups {config.num_groups} must divide hidden_size {config.hidden_size} and intermediate_size "
             f"{config.intermediate_size} (the grouped feed-forward splits both)")
    if not callable(config.hidden_act) and config.hidden_act not in ACT2FN:
        fail(f"unknown hidden_act {config.hidden_act!r}; use one of {sorted(ACT2FN)} or a callable")
    if config.pad_token_id is not None and not 0 <= config.pad_token_id < config.vocab_size:
        fail(f"pad_token_id {config.pad_token_id} is outside [0, vocab_size {config.vocab_size})")
    if config.is_decoder or config.add_cross_attention:
        fail("is_decoder / add_cross_attention are not supported (ConvBERT is an encoder)")
    count = encoder_parameter_count(config)
    if count > MAX_PARAMETERS:
        fail(f"the config asks for {count:,} parameters ({config.num_hidden_layers:,} layers of hidden_size "
             f"{config.hidden_size:,}, intermediate_size {config.intermediate_size:,}; vocab_size "
             f"{config.vocab_size:,} x embedding_size {config.embedding_size:,}), more than the {MAX_PARAMETERS:,} "
             "minconvbert builds (~8.6 GB in float32); is this config.json the one you meant?")


def encoder_parameter_count(config) -> int:
    """The number of parameters of ConvBertModel(config), computed from the sizes alone (no allocation)."""
    V, P, S, E, C = (config.vocab_size, config.max_position_embeddings, config.type_vocab_size,
                     config.embedding_size, config.hidden_size)
    I, G, K, H = config.intermediate_size, config.num_groups, config.conv_kernel_size, config.heads_per_kind
    HD = H * config.attention_head_size  # = C / 2
    embeddings = (V + P + S) * E + 2 * E + (E * C + C if E != C else 0)
    attention = 3 * (C * HD + HD) + (C * K + C * HD + HD) + (HD * H * K + H * K) + (C * HD + HD)
    layer = attention + (C * C + C) + 2 * C + (C * I // G + I) + (I * C // G + C) + 2 * C
    return embeddings + config.num_hidden_layers * layer


# ----- inputs -------------------------------------------------------------------------------------
def input_array(name: str, value, dtype=None) -> np.ndarray:
    """`value` (a Tensor, a torch tensor, an array or anything NumPy converts) as a NumPy array."""
    if isinstance(value, Tensor):
        array = value.data
    elif interop.is_torch(value):
        array = interop.to_numpy(value)
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{name}: expected an array (or a list of equal-length lists), got "
                            f"{type(value).__name__}: {str(e)[:120]}") from None
    if array.dtype == object:
        raise TypeError(f"{name}: expected numbers, got an array of Python objects (ragged lists?)")
    return array if dtype is None else array.astype(dtype, copy=False)


def numeric_array(name: str, value) -> np.ndarray:
    """`value` (a Tensor, an array or a nested list) as a NumPy array of numbers (bool, int or float)."""
    array = np.asarray(data_of(value))
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected numbers, got dtype {array.dtype}")
    return array


def ids_array(name: str, value, low: int, high: int, shape=None) -> np.ndarray:
    """`value` as an int64 array, checked to lie in [low, high) and (optionally) to have `shape`."""
    array = input_array(name, value)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name}: expected integers, got dtype {array.dtype}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
    if array.size and (array.min() < low or array.max() >= high):
        bad = array.min() if array.min() < low else array.max()
        raise ValueError(f"{name}: value {bad} is outside [{low}, {high})")
    return array.astype(np.int64, copy=False)


def attention_mask_array(value, shape) -> np.ndarray:
    """A (B, T) mask of 1 (attend) and 0 (padding); any other value is refused (a 2 would add
    2 * finfo.min to the scores instead of finfo.min)."""
    mask = input_array("attention_mask", value)
    if mask.shape != shape:
        raise ValueError(f"attention_mask: expected shape {shape}, got {mask.shape}")
    if mask.dtype.kind not in "biuf":
        raise TypeError(f"attention_mask: expected 0/1 numbers or booleans, got dtype {mask.dtype}")
    bad = (mask != 0) & (mask != 1)
    if bad.any():
        raise ValueError(f"attention_mask: values must be 1 (attend) or 0 (padding), got {mask[bad].flat[0].item()}")
    return mask


def head_mask_array(name: str, mask, layers: int, heads: int, dtype):
    """A (heads,) or (layers, heads) array of multipliers as (layers, heads) in the model's dtype."""
    if mask is None:
        return None
    array = input_array(name, mask, dtype)
    if array.shape == (heads,):
        array = np.broadcast_to(array, (layers, heads))
    if array.shape != (layers, heads):
        raise ValueError(f"{name}: expected shape ({heads},) or ({layers}, {heads}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: expected finite multipliers")
    return array
