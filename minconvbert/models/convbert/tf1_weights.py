"""The original ConvBERT release's TF1 checkpoints -> our models: variable names, array layouts, config.

The original code (yitu-opensource/ConvBert, built on ELECTRA) trains a generator and a discriminator
in one graph and saves both:

    electra/embeddings/{word,position,token_type}_embeddings    the embeddings, shared by both models
    electra/embeddings/LayerNorm/{gamma,beta}
    electra/embeddings_project/{kernel,bias}       the discriminator's (embedding_size != hidden_size)
    electra/encoder/layer_N/...                    the discriminator: ConvBertModel, what is published
    discriminator_predictions/{dense,dense_1}/...  its replaced-token head (ConvBertForPreTraining)
    generator/embeddings_project, generator/encoder/layer_N/...    the (smaller) generator
    generator_predictions/{dense,LayerNorm}/..., generator_predictions/output_bias   its MLM head
    .../adam_m, .../adam_v, global_step            optimizer state, never read

Inside layer_N the names differ from ours (transformers') in a few places:

    attention/self/{query,key,value}/{kernel,bias}          attention.self.{query,key,value}.{weight,bias}
    attention/self/conv_attn_key/depthwise_kernel (K, C, 1)  key_conv_attn_layer.depthwise.weight (C, 1, K)
    attention/self/conv_attn_key/pointwise_kernel (1, C, O)  key_conv_attn_layer.pointwise.weight (O, C, 1)
    attention/self/conv_attn_key/bias (O,)                   key_conv_attn_layer.bias (O, 1)
    attention/self/conv_attn_kernel, conv_attn_point         conv_kernel_layer, conv_out_layer
    {intermediate,output}/dense or g_dense                    {intermediate,output}.dense
    */LayerNorm/{gamma,beta}                                  *.LayerNorm.{weight,bias}

A dense `kernel` is stored (in, out) and transposed to our (out, in); a grouped (`g_dense`) kernel is
already (groups, in / groups, out / groups), our GroupedLinear layout. The original code sizes a head
as hidden_size // num_attention_heads; ours as hidden_size // (num_attention_heads // head_ratio) // 2.
They agree when num_attention_heads is twice the attention heads, which every released discriminator
satisfies; a checkpoint where they do not (the original "small" generator: 1 head, so its
attention output is twice its hidden size) is refused with a message saying so.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from minconvbert.io.tf1 import TF1Checkpoint, TF1CheckpointError
from minconvbert.models.convbert.config import ConvBertConfig

__all__ = ["load_tf_weights_in_convbert", "tf1_name", "tf1_state", "config_from_tf1", "default_scope", "SCOPES"]

SCOPES = {"discriminator": "electra", "generator": "generator"}
_TIED = "generator_lm_head.weight"  # the generator's output matrix is the word-embedding table

# our name -> the original's, applied in order to the dotted name (then "." -> "/")
_RENAMES = [
    ("key_conv_attn_layer.depthwise.weight", "conv_attn_key.depthwise_kernel"),
    ("key_conv_attn_layer.pointwise.weight", "conv_attn_key.pointwise_kernel"),
    ("key_conv_attn_layer.bias", "conv_attn_key.bias"),
    ("conv_kernel_layer.", "conv_attn_kernel."),
    ("conv_out_layer.", "conv_attn_point."),
    ("dense_prediction.", "dense_1."),
    ("generator_lm_head.bias", "generator_predictions.output_bias"),
    ("LayerNorm.weight", "LayerNorm.gamma"),
    ("LayerNorm.bias", "LayerNorm.beta"),
    (".weight", ".kernel"),
]


def default_scope(model) -> str:
    """"generator" for a masked-LM model (the generator is the MLM), else "discriminator"."""
    return "generator" if any(name.startswith("generator_") for name in model.state_dict()) else "discriminator"


def tf1_name(name: str, scope: str, num_groups: int) -> str:
    """Our parameter name (bare-encoder or "convbert."-prefixed) -> the original variable's name."""
    name = name[len("convbert."):] if name.startswith("convbert.") else name
    table = re.fullmatch(r"embeddings\.(word|position|token_type)_embeddings\.weight", name)
    if table:  # the embedding tables have no /kernel
        return f"electra/embeddings/{table.group(1)}_embeddings"
    for ours, theirs in _RENAMES:
        name = name.replace(ours, theirs)
    name = re.sub(r"^encoder\.layer\.(\d+)\.", r"encoder.layer_\1.", name)
    if num_groups > 1:
        name = re.sub(r"^(encoder\.layer_\d+\.(intermediate|output))\.dense\.", r"\1.g_dense.", name)
    if name.startswith(("encoder.", "embeddings_project.")):
        name = f"{SCOPES[scope]}.{name}"
    elif name.startswith("embeddings."):
        name = f"electra.{name}"  # the shared LayerNorm of the embeddings
    return name.replace(".", "/")


def _to_ours(tf_name: str, array: np.ndarray, copy: bool = True) -> np.ndarray:
    """An original array in our layout (C-contiguous unless copy=False, for its shape only)."""
    if tf_name.endswith("/depthwise_kernel"):  # (K, C, 1) -> (C, 1, K)
        array = array.transpose(1, 2, 0)
    elif tf_name.endswith("/pointwise_kernel"):  # (1, C, O) -> (O, C, 1)
        array = array.transpose(2, 1, 0)
    elif tf_name.endswith("/conv_attn_key/bias"):  # (O,) -> (O, 1)
        array = array.reshape(-1, 1)
    elif tf_name.endswith("/kernel") and "/g_dense/" not in tf_name:  # (in, out) -> (out, in)
        array = array.T
    return np.ascontiguousarray(array) if copy else array


def tf1_state(ckpt: TF1Checkpoint, expected_shapes: dict, scope: str, num_groups: int, *,
              on_progress=None) -> tuple[dict, list]:
    """({our name: array}, [our names the checkpoint cannot provide]) for a model with `expected_shapes`.

    Names the original code has no variable for (a fine-tuning head) are returned as missing; a
    variable that should be there and is not, or has the wrong shape, raises TF1CheckpointError.
    """
    plan, missing = [], []
    for name, shape in expected_shapes.items():
        if name == _TIED:
            continue
        tf_name = tf1_name(name, scope, num_groups)
        if tf_name not in ckpt:
            if tf_name.startswith(("electra/", "generator/", "generator_predictions/", "discriminator_predictions/")):
                raise TF1CheckpointError(f"{ckpt.prefix}: no variable {tf_name!r} (for {name}); is this the "
                                         f"{scope} of an original ConvBERT checkpoint, with config.json's sizes?")
            missing.append(name)
            continue
        stored = ckpt.info(tf_name).shape
        ours = _to_ours(tf_name, np.broadcast_to(np.empty((), np.uint8), stored), copy=False).shape
        if ours != tuple(shape):
            raise TF1CheckpointError(f"{ckpt.prefix}: variable {tf_name!r} has shape {stored}, so our {name} would be "
                                     f"{ours}, but the model's is {tuple(shape)} (config.json wrong for this checkpoint?)")
        plan.append((name, tf_name))
    total = sum(ckpt.info(t).size for _, t in plan)
    state, done = {}, 0
    for name, tf_name in plan:
        state[name] = _to_ours(tf_name, ckpt.get_tensor(tf_name))
        done += ckpt.info(tf_name).size
        if on_progress is not None:
            on_progress(done, total)
    return state, missing


def load_tf_weights_in_convbert(model, config, tf_checkpoint_path, scope: str | None = None, rng=None):
    """Load an original ConvBERT TF1 checkpoint into `model` (transformers' function of the same name,
    without TensorFlow); returns the model.

    scope: "discriminator" (the `electra/` variables; the default, except for ConvBertForMaskedLM) or
    "generator" (`generator/` and `generator_predictions/`; the default for ConvBertForMaskedLM). The
    embeddings are the shared `electra/embeddings`. Weights the checkpoint cannot hold (a task head) are
    initialised from `rng` and listed in a warning. config: the model's (None: model.config).
    """
    config = config or model.config
    scope = scope or default_scope(model)
    if scope not in SCOPES:
        raise ValueError(f"scope: expected one of {sorted(SCOPES)}, got {scope!r}")
    shapes = {name: value.shape for name, value in model.state_dict().items()}
    with TF1Checkpoint(tf_checkpoint_path) as ckpt:
        state, missing = tf1_state(ckpt, shapes, scope, config.num_groups)
        source = ckpt.prefix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing names are reported once, below
        model.load_state_dict(state, strict=False)
    if missing:
        warnings.warn(f"load_tf_weights_in_convbert: {source} has no variables for {missing} (initialised)",
                      stacklevel=2)
        model.init_weights(rng, names=missing)
    return model


def _shape(ckpt: TF1Checkpoint, name: str) -> tuple:
    if name not in ckpt:
        raise TF1CheckpointError(f"{ckpt.prefix}: no variable {name!r}; not an original ConvBERT checkpoint?")
    return ckpt.info(name).shape


def config_from_tf1(path, role: str = "discriminator") -> ConvBertConfig:
    """The ConvBertConfig of the discriminator or generator in a TF1 checkpoint, read from its shapes.

    The shapes fix every size; head_ratio is taken as 2 (num_attention_heads = 2 * the attention heads,
    which computes the same model for any head_ratio), hidden_act "gelu" and layer_norm_eps 1e-12 (the
    original code's) and pad_token_id 0 (the published configs'), none of which a checkpoint records.
    """
    if role not in SCOPES:
        raise ValueError(f"role: expected one of {sorted(SCOPES)}, got {role!r}")
    scope = SCOPES[role]
    with TF1Checkpoint(path) as ckpt:
        vocab, embedding = _shape(ckpt, "electra/embeddings/word_embeddings")
        positions, _ = _shape(ckpt, "electra/embeddings/position_embeddings")
        types, _ = _shape(ckpt, "electra/embeddings/token_type_embeddings")
        layers = {int(m.group(1)) for k in ckpt.keys() if (m := re.match(rf"{scope}/encoder/layer_(\d+)/", k))}
        if not layers or layers != set(range(len(layers))):
            raise TF1CheckpointError(f"{ckpt.prefix}: no complete {scope}/encoder/layer_0..N in the checkpoint")
        self_ = f"{scope}/encoder/layer_0/attention/self"
        kernel_size = _shape(ckpt, f"{self_}/conv_attn_key/depthwise_kernel")[0]
        hidden, all_head = _shape(ckpt, f"{self_}/query/kernel")
        heads = _shape(ckpt, f"{self_}/conv_attn_kernel/kernel")[1] // kernel_size
        grouped = f"{scope}/encoder/layer_0/intermediate/g_dense/kernel"
        groups = _shape(ckpt, grouped)[0] if grouped in ckpt else 1
        intermediate = _shape(ckpt, f"{scope}/encoder/layer_0/intermediate/{'g_dense' if groups > 1 else 'dense'}/bias")[0]
    if 2 * all_head != hidden or heads < 1 or all_head % heads:
        raise TF1CheckpointError(
            f"{path}: the {role} has hidden size {hidden} but {heads} attention heads of total width {all_head}; "
            f"transformers' ConvBERT (and ours) needs the heads to fill half the hidden size (original code with "
            f"a single-head model computes head size = hidden size, which no ConvBertConfig can express)")
    return ConvBertConfig(vocab_size=vocab, embedding_size=embedding, hidden_size=hidden, max_position_embeddings=positions,
                          type_vocab_size=types, num_hidden_layers=len(layers), num_attention_heads=2 * heads,
                          head_ratio=2, intermediate_size=intermediate, conv_kernel_size=kernel_size,
                          num_groups=groups, pad_token_id=0)
