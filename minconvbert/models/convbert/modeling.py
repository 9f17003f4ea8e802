"""ConvBertModel: embeddings, the optional embedding projection, and the encoder; plus the shared base class.

`ConvBertPreTrainedModel` holds what every ConvBERT class shares, with transformers' names: the
config (checked for buildability before anything is allocated), the reference's weight
initialisation, loading and saving, the input / output embeddings and their resizing, and the
output conventions (`return_dict`, `output_attentions`, `output_hidden_states`, defaulting to the
config's values).
"""

from __future__ import annotations

import numpy as np

from minconvbert import nn
from minconvbert import random as _random
from minconvbert.models.convbert import checkpoint
from minconvbert.models.convbert.checks import (
    attention_mask_array,
    check_buildable,
    head_mask_array,
    ids_array,
    input_array,
)
from minconvbert.models.convbert.config import _NO_UPLOAD, ConvBertConfig
from minconvbert.models.convbert.layers import ConvBertEmbeddings, ConvBertEncoder, additive_attention_mask
from minconvbert.models.convbert.outputs import BaseModelOutput
from minconvbert.nn import init
from minconvbert.tensor import Tensor

__all__ = ["ConvBertPreTrainedModel", "ConvBertModel"]


class ConvBertPreTrainedModel(nn.Module):
    """Base of every ConvBERT class: config, initialisation, checkpoints, embeddings, output conventions."""

    base_model_prefix = "convbert"
    main_input_name = "input_ids"

    def __init__(self, config: ConvBertConfig):
        super().__init__()
        if not isinstance(config, ConvBertConfig):
            raise TypeError(f"{type(self).__name__}: config must be a ConvBertConfig, got {type(config).__name__}")
        check_buildable(config, type(self).__name__)
        self.config = config

    # ----- initialisation ----------------------------------------------------------------------
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
        """Called at the end of every model's __init__: tie the output embeddings, then draw the weights,
        once, unless this model is being built inside a larger one or by from_pretrained
        (`init.deferred()`), which does it."""
        self.tie_weights()
        if not init.is_deferred():
            self.init_weights(rng)

    # ----- checkpoints -------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load a checkpoint: a directory in the published layout (config.json + model.safetensors,
        sharded safetensors, or pytorch_model.bin), an embedded name ("minconvbert/nano") or a hub id.

        transformers' loader arguments: config, state_dict, output_loading_info (returns
        (model, {"missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"})),
        ignore_mismatched_sizes, subfolder, cache_dir, local_files_only, revision, force_download,
        dtype (torch_dtype); ours: strict (missing or unexpected names raise KeyError) and rng
        (for the weights the checkpoint lacks). Any other keyword must name a config field
        (num_labels=5, hidden_dropout_prob=0.2, ...), which overrides the checkpoint's config, or it
        raises TypeError. A bare-encoder checkpoint loads into a task model (the head is initialised)
        and a task checkpoint into ConvBertModel (the head is ignored). Returned in eval mode.
        """
        return checkpoint.load_pretrained(cls, pretrained_model_name_or_path, **kwargs)

    def load_weights(self, directory, strict: bool = True) -> dict:
        """Load the weights of a checkpoint directory into this model (names mapped as in from_pretrained);
        returns the loading info."""
        return checkpoint.load_weights_into(self, directory, strict=strict, label=f"{type(self).__name__}.load_weights")

    def save_pretrained(self, save_directory, **kwargs):
        """Write config.json + model.safetensors (loadable by transformers); dtype=np.float16 halves the file,
        safe_serialization=False writes pytorch_model.bin (torch.save's format) instead. The keyword
        arguments are checkpoint.save_pretrained's."""
        return checkpoint.save_pretrained(self, save_directory, **kwargs)

    def push_to_hub(self, *args, **kwargs):
        raise NotImplementedError(_NO_UPLOAD)

    @classmethod
    def can_generate(cls) -> bool:
        """False: ConvBERT is an encoder; it has no generate() (and saves no generation_config.json)."""
        return False

    # ----- embeddings --------------------------------------------------------------------------
    @property
    def base_model(self) -> "ConvBertModel":
        """The ConvBertModel inside a task model (`self.convbert`), or the model itself."""
        return getattr(self, self.base_model_prefix, self)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.base_model.embeddings.word_embeddings

    def set_input_embeddings(self, embedding: nn.Embedding) -> None:
        self.base_model.embeddings.word_embeddings = embedding

    def get_output_embeddings(self):
        """The Linear layer that maps to the vocabulary (the masked-LM head), or None."""
        return None

    def tie_weights(self) -> None:
        """With config.tie_word_embeddings, make the output embeddings' weight the input embedding matrix."""
        head = self.get_output_embeddings()
        if head is not None and self.config.tie_word_embeddings:
            head.weight = self.get_input_embeddings().weight

    def resize_token_embeddings(self, new_num_tokens=None, pad_to_multiple_of=None, mean_resizing: bool = True):
        """Change the vocabulary size to `new_num_tokens` (rounded up to a multiple of `pad_to_multiple_of`);
        returns the new input Embedding. Kept rows keep their values; added rows are the mean of the
        old rows (mean_resizing, as transformers' mean of a near-zero-variance draw) or N(0,
        initializer_range). The output embeddings follow, and stay tied when they were."""
        old = self.get_input_embeddings()
        if new_num_tokens is None and pad_to_multiple_of is None:
            return old
        n = old.num_embeddings if new_num_tokens is None else new_num_tokens
        if pad_to_multiple_of is not None:
            if not _positive_int(pad_to_multiple_of):
                raise ValueError(f"resize_token_embeddings: pad_to_multiple_of must be a positive integer, got "
                                 f"{pad_to_multiple_of!r}")
            n = -(-n // pad_to_multiple_of) * pad_to_multiple_of
        if not _positive_int(n):
            raise ValueError(f"resize_token_embeddings: new_num_tokens must be a positive integer, got {n!r}")
        pad = old.padding_idx if old.padding_idx is not None and old.padding_idx < n else None
        with init.deferred():
            embedding = nn.Embedding(n, old.embedding_dim, padding_idx=pad, dtype=old.weight.dtype)
        embedding.weight.data = self._resized_rows(old.weight.data, n, mean_resizing)
        self.set_input_embeddings(embedding)
        head = self.get_output_embeddings()
        if head is not None:
            tied = head.weight is old.weight
            with init.deferred():
                new_head = nn.Linear(head.in_features, n, bias=head.bias is not None, dtype=head.weight.dtype)
            new_head.weight = embedding.weight if tied else nn.Parameter(
                self._resized_rows(head.weight.data, n, mean_resizing))
            if head.bias is not None:
                new_head.bias = nn.Parameter(self._resized_rows(head.bias.data[:, None], n, True)[:, 0])
            self.set_output_embeddings(new_head)
        self.config.vocab_size = n
        return embedding

    def _resized_rows(self, rows: np.ndarray, n: int, mean: bool) -> np.ndarray:
        """(n, D): the first min(n, old) rows kept, the new ones their mean or N(0, initializer_range)."""
        keep = rows[:n]
        extra = n - len(keep)
        if extra <= 0:
            return keep.copy()
        if mean:
            added = np.broadcast_to(rows.mean(axis=0, dtype=np.float64), (extra, rows.shape[1]))
        else:
            added = _random.resolve(None).standard_normal((extra, rows.shape[1])) * self.config.initializer_range
        return np.concatenate([keep, added.astype(rows.dtype)])

    # ----- conventions ---------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        return next(iter(self.parameters())).dtype

    def _output(self, output, return_dict):
        """The output record, or its tuple when return_dict (default: config.return_dict) is False."""
        return output if (self.config.return_dict if return_dict is None else return_dict) else output.to_tuple()


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


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

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, output_attentions=None, output_hidden_states=None, return_dict=None,
                conv_head_mask=None, output_conv_kernels=False):
        """Encode a batch (arguments in transformers' order; each input may be a NumPy array, a torch
        tensor, a Tensor or a nested list).

        input_ids (B, T) integers in [0, vocab_size), or inputs_embeds (B, T, embedding_size); not both.
        attention_mask (B, T): 1 for tokens to attend to, 0 for padding (default: all ones).
        token_type_ids (B, T) in [0, type_vocab_size) (default zeros); position_ids (B, T) or (T,)
        (default 0..T-1). head_mask / conv_head_mask: (H,) or (num_layers, H) multipliers that switch
        individual attention / convolution heads off (1 keeps, 0 removes).
        Returns last_hidden_state (B, T, hidden); with output_hidden_states the num_layers + 1 hidden
        states; with output_attentions each layer's attention probabilities (B, H, T, T); with
        output_conv_kernels each layer's softmaxed dynamic kernels (B, H, T, K). The output_* and
        return_dict defaults are the config's.
        """
        config, dtype = self.config, self.dtype
        output_attentions = config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("ConvBertModel: pass exactly one of input_ids (B, T) and inputs_embeds (B, T, E)")
        if input_ids is not None:
            input_ids = ids_array("input_ids", input_ids, 0, config.vocab_size)
            if input_ids.ndim != 2:
                raise ValueError(f"input_ids: expected shape (batch, seq), got {input_ids.shape}")
            batch, seq = input_ids.shape
        else:
            if not isinstance(inputs_embeds, Tensor):
                inputs_embeds = Tensor(input_array("inputs_embeds", inputs_embeds, dtype))
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
            position_ids = ids_array("position_ids", position_ids, 0, config.max_position_embeddings)
            if position_ids.shape not in ((batch, seq), (1, seq), (seq,)):
                raise ValueError(f"position_ids: expected shape ({batch}, {seq}) or ({seq},), got {position_ids.shape}")
        if token_type_ids is None:
            token_type_ids = np.zeros((batch, seq), dtype=np.int64)
        else:
            token_type_ids = ids_array("token_type_ids", token_type_ids, 0, config.type_vocab_size, (batch, seq))
        mask = None if attention_mask is None else attention_mask_array(attention_mask, (batch, seq))
        layers, heads = config.num_hidden_layers, config.heads_per_kind
        head_mask = head_mask_array("head_mask", head_mask, layers, heads, dtype)
        conv_head_mask = head_mask_array("conv_head_mask", conv_head_mask, layers, heads, dtype)

        hidden = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, E)
        if hasattr(self, "embeddings_project"):
            hidden = self.embeddings_project(hidden)  # (B, T, C)
        additive = None if mask is None else additive_attention_mask(mask, dtype)  # (B, 1, 1, T)
        conv_keep = None
        if mask is not None and config.mask_conv_padding:
            conv_keep = (mask != 0).astype(dtype)[:, :, None]  # (B, T, 1)
        last, hidden_states, probs, kernels = self.encoder(
            hidden, additive, head_mask, conv_head_mask, conv_keep, output_hidden_states=output_hidden_states,
            output_attentions=output_attentions, output_conv_kernels=output_conv_kernels,
        )
        return self._output(BaseModelOutput(
            last_hidden_state=last,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(probs) if output_attentions else None,
            conv_kernels=tuple(k.transpose(1, 2) for k in kernels) if output_conv_kernels else None,
        ), return_dict)
