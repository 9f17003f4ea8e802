"""ConvBertModel: embeddings, the optional embedding projection, and the encoder; plus the shared base class.

`ConvBertPreTrainedModel` holds what every ConvBERT class shares: the config, the reference's weight
initialisation, dtype conversion, and the checks that turn bad inputs into clear errors before any
maths runs.
"""

from __future__ import annotations

import numpy as np

from minconvbert import nn
from minconvbert import random as _random
from minconvbert.models.convbert import checkpoint
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.layers import ConvBertEmbeddings, ConvBertEncoder, additive_attention_mask
from minconvbert.models.convbert.outputs import BaseModelOutput
from minconvbert.nn import init
from minconvbert.tensor import Tensor

__all__ = ["ConvBertPreTrainedModel", "ConvBertModel"]


class ConvBertPreTrainedModel(nn.Module):
    """Base of every ConvBERT class: config, initialisation, and input checks."""

    base_model_prefix = "convbert"

    def __init__(self, config: ConvBertConfig):
        super().__init__()
        if not isinstance(config, ConvBertConfig):
            raise TypeError(f"{type(self).__name__}: config must be a ConvBertConfig, got {type(config).__name__}")
        config.validate()
        self.config = config

    def init_weights(self, rng=None, names=None) -> "ConvBertPreTrainedModel":
        """The reference's initialisation: every weight matrix N(0, initializer_range), biases zero,
        LayerNorm weight 1 and bias 0, the padding embedding row zero.

        `rng` (Generator, int seed or None for the package default) is resolved once, so every
        tensor gets its own draws; a tied weight is drawn once. `names`: initialise only these
        parameters (from_pretrained passes the ones the checkpoint lacks); None means all.
        """
        rng = _random.resolve(rng)
        std = self.config.initializer_range
        wanted = None if names is None else set(names)
        chosen = {id(p) for name, p in self.named_parameters(remove_duplicate=False)
                  if wanted is None or name in wanted}
        done = set()

        def fill(param, how):  # each chosen parameter once, in module order
            if param is not None and id(param) in chosen and id(param) not in done:
                done.add(id(param))
                how(param)

        def normal(param):
            init.normal_(param, std, rng=rng)

        for module in self.modules():
            if isinstance(module, nn.Embedding):
                fill(module.weight, normal)
                if module.padding_idx is not None and id(module.weight) in chosen:
                    module.weight.data[module.padding_idx] = 0
            elif isinstance(module, (nn.Linear, nn.GroupedLinear)):
                fill(module.weight, normal)
            elif isinstance(module, nn.SeparableConv1D):
                fill(module.depthwise.weight, normal)
                fill(module.pointwise.weight, normal)
            elif isinstance(module, nn.LayerNorm):
                fill(module.weight, init.ones_)
            if isinstance(module, (nn.Linear, nn.GroupedLinear, nn.SeparableConv1D, nn.LayerNorm)):
                fill(module.bias, init.zeros_)
        return self

    def post_init(self, rng=None) -> None:
        """Called at the end of every model's __init__: draw the weights, once, unless this model is
        being built inside a larger one or by from_pretrained (`init.deferred()`), which does it."""
        if not init.is_deferred():
            self.init_weights(rng)

    @classmethod
    def from_pretrained(cls, name_or_path, config=None, strict: bool = False, dtype=None, rng=None, revision=None,
                        **config_overrides):
        """Load a checkpoint: a directory in the published layout (config.json + model.safetensors,
        sharded safetensors, or pytorch_model.bin), an embedded name ("minconvbert/nano") or a hub id.

        A bare-encoder checkpoint loads into a task model (the head is initialised) and a task
        checkpoint into ConvBertModel (the head is ignored); missing and unexpected names are
        listed in a warning, or raise KeyError with strict=True. config_overrides (e.g. num_labels=5)
        change the checkpoint's config. The model is returned in eval mode.
        """
        return checkpoint.load_pretrained(cls, name_or_path, config=config, strict=strict, dtype=dtype, rng=rng,
                                          revision=revision, **config_overrides)

    def load_weights(self, directory, strict: bool = True):
        """Load the weights of a checkpoint directory into this model (names mapped as in from_pretrained)."""
        return checkpoint.load_weights_into(self, directory, strict=strict, label=f"{type(self).__name__}.load_weights")

    def save_pretrained(self, directory, dtype=None, safe_serialization: bool = True):
        """Write config.json + model.safetensors (loadable by transformers); dtype=np.float16 halves the file.
        safe_serialization=False writes pytorch_model.bin (torch.save's format) instead."""
        return checkpoint.save_pretrained(self, directory, dtype=dtype, safe_serialization=safe_serialization)

    @property
    def dtype(self) -> np.dtype:
        return next(iter(self.parameters())).dtype

    def _base_model(self) -> "ConvBertModel":
        return getattr(self, self.base_model_prefix, self)


def _ids(name, value, low, high, shape=None):
    """`value` as an integer array, checked to lie in [low, high) and (optionally) to have `shape`."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{name}: expected integers, got dtype {array.dtype}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
    if array.size and (array.min() < low or array.max() >= high):
        bad = array.min() if array.min() < low else array.max()
        raise ValueError(f"{name}: value {bad} is outside [{low}, {high})")
    return array.astype(np.int64, copy=False)


def _head_mask(name, mask, layers, heads, dtype):
    """A (heads,) or (layers, heads) array of multipliers as (layers, heads) in the model's dtype."""
    if mask is None:
        return None
    array = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=dtype)
    if array.shape == (heads,):
        array = np.broadcast_to(array, (layers, heads))
    if array.shape != (layers, heads):
        raise ValueError(f"{name}: expected shape ({heads},) or ({layers}, {heads}), got {array.shape}")
    return array


class ConvBertModel(ConvBertPreTrainedModel):
    """The bare ConvBERT encoder: (B, T) token ids -> (B, T, hidden_size) hidden states. No pooler.

    >>> config = ConvBertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
    ...                         num_attention_heads=4, intermediate_size=64, embedding_size=16)
    >>> out = ConvBertModel(config)(input_ids=np.array([[1, 5, 7, 2]]))
    >>> out.last_hidden_state.shape
    (1, 4, 32)
    """

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        with init.deferred():  # the layers only allocate; post_init draws every weight once
            self.embeddings = ConvBertEmbeddings(config)
            if config.embedding_size != config.hidden_size:
                self.embeddings_project = nn.Linear(config.embedding_size, config.hidden_size)
            self.encoder = ConvBertEncoder(config)
        self.post_init(rng)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
                head_mask=None, conv_head_mask=None, output_attentions=False, output_hidden_states=False,
                output_conv_kernels=False) -> BaseModelOutput:
        """Encode a batch.

        input_ids (B, T) integers in [0, vocab_size), or inputs_embeds (B, T, embedding_size); not both.
        attention_mask (B, T): 1 for tokens to attend to, 0 for padding (default: all ones).
        token_type_ids (B, T) in [0, type_vocab_size) (default zeros); position_ids (B, T) or (T,)
        (default 0..T-1). head_mask / conv_head_mask: (H,) or (num_layers, H) multipliers that switch
        individual attention / convolution heads off (1 keeps, 0 removes).
        Returns last_hidden_state (B, T, hidden); with output_hidden_states the num_layers + 1 hidden
        states; with output_attentions each layer's attention probabilities (B, H, T, T); with
        output_conv_kernels each layer's softmaxed dynamic kernels (B, H, T, K).
        """
        config, dtype = self.config, self.dtype
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("ConvBertModel: pass exactly one of input_ids (B, T) and inputs_embeds (B, T, E)")
        if input_ids is not None:
            ids = np.asarray(input_ids.data if isinstance(input_ids, Tensor) else input_ids)
            if ids.ndim != 2:
                raise ValueError(f"input_ids: expected shape (batch, seq), got {ids.shape}")
            input_ids = _ids("input_ids", ids, 0, config.vocab_size)
            batch, seq = input_ids.shape
        else:
            if not isinstance(inputs_embeds, Tensor):
                inputs_embeds = Tensor(np.asarray(inputs_embeds, dtype=dtype))
            if inputs_embeds.ndim != 3 or inputs_embeds.shape[2] != config.embedding_size:
                raise ValueError(
                    f"inputs_embeds: expected shape (batch, seq, {config.embedding_size}), got {inputs_embeds.shape}"
                )
            batch, seq = inputs_embeds.shape[:2]
        if position_ids is None:
            if seq > config.max_position_embeddings:
                raise ValueError(
                    f"input: sequence length {seq} exceeds max_position_embeddings {config.max_position_embeddings}"
                )
            position_ids = np.arange(seq)[None, :]  # (1, T)
        else:
            position_ids = _ids("position_ids", position_ids, 0, config.max_position_embeddings)
            if position_ids.shape not in ((batch, seq), (1, seq), (seq,)):
                raise ValueError(f"position_ids: expected shape ({batch}, {seq}) or ({seq},), got {position_ids.shape}")
        if token_type_ids is None:
            token_type_ids = np.zeros((batch, seq), dtype=np.int64)
        else:
            token_type_ids = _ids("token_type_ids", token_type_ids, 0, config.type_vocab_size, (batch, seq))
        mask = None
        if attention_mask is not None:
            mask = np.asarray(attention_mask.data if isinstance(attention_mask, Tensor) else attention_mask)
            if mask.shape != (batch, seq):
                raise ValueError(f"attention_mask: expected shape ({batch}, {seq}), got {mask.shape}")
        layers, heads = config.num_hidden_layers, config.attention_heads
        head_mask = _head_mask("head_mask", head_mask, layers, heads, dtype)
        conv_head_mask = _head_mask("conv_head_mask", conv_head_mask, layers, heads, dtype)

        hidden = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, E)
        if hasattr(self, "embeddings_project"):
            hidden = self.embeddings_project(hidden)  # (B, T, C)
        additive = None if mask is None else additive_attention_mask(mask, dtype)  # (B, 1, 1, T)
        conv_keep = None
        if mask is not None and config.mask_conv_padding:
            conv_keep = (mask != 0).astype(dtype)[:, :, None]  # (B, T, 1)
        last, hidden_states, probs, kernels = self.encoder(
            hidden, additive, head_mask, conv_head_mask, conv_keep, record_hidden_states=output_hidden_states,
            record_attentions=output_attentions, record_kernels=output_conv_kernels,
        )
        return BaseModelOutput(
            last_hidden_state=last,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(probs) if output_attentions else None,
            conv_kernels=tuple(k.transpose(1, 2) for k in kernels) if output_conv_kernels else None,
        )
