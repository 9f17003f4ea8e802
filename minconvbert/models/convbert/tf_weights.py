"""transformers' TensorFlow weight names (tf_model.h5) <-> our state-dict names, and the array layouts.

A TF weight name is the Keras model's name, the path of layers down to the variable, and ":0":

    tf_conv_bert_model/convbert/encoder/layer_._0/attention/self/query/kernel:0      (C, H*D)
    <-> convbert.encoder.layer.0.attention.self.query.weight                           (H*D, C)

The path is our name with "/" for "." and "layer_._N" for "layer.N"; the last part follows Keras:

    ours (PyTorch layout)                         TF (Keras layout)                        array
    *.weight of a Linear (out, in)                */kernel (in, out)                       transposed
    *.weight of a GroupedLinear (G, in/G, out/G)  */kernel (out/G, in/G, G)                axes reversed
    key_conv_attn_layer.depthwise.weight (C, 1, K) key_conv_attn_layer/depthwise_kernel (K, C, 1)
    key_conv_attn_layer.pointwise.weight (O, C, 1) key_conv_attn_layer/pointwise_kernel (1, C, O)
    key_conv_attn_layer.bias (O, 1)               key_conv_attn_layer/bias (O,)
    *.LayerNorm.weight / .bias                    */LayerNorm/gamma / beta
    word_embeddings.weight                        word_embeddings/weight
    position_ / token_type_embeddings.weight      .../embeddings
    *.bias                                        */bias

The first part of the path is the top-level Keras layer, the h5 group the weight is stored under.
Each class has its own layers (`H5_LAYERS`); the MLM head's group lists the embeddings again, because
its layer holds the embedding layer whose matrix it shares (both copies are written; on reading they
must agree). Loading maps every h5 weight to our names and checks its shape before reading it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from minconvbert.io.checkpoint_files import TF_WEIGHTS_NAME
from minconvbert.io.h5 import H5FormatError, KerasH5, write_weights

__all__ = ["TF_WEIGHTS_NAME", "H5_LAYERS", "KERAS_MODEL_NAMES", "to_tf_name", "to_pt_name", "to_tf_array",
           "to_pt_array", "read_tf_weights", "write_tf_weights", "tf_class_of"]


# The Keras model names (transformers' class names in snake case) and top-level layers of each class.
KERAS_MODEL_NAMES = {
    "TFConvBertModel": "tf_conv_bert_model",
    "TFConvBertForMaskedLM": "tf_conv_bert_for_masked_lm",
    "TFConvBertForSequenceClassification": "tf_conv_bert_for_sequence_classification",
    "TFConvBertForMultipleChoice": "tf_conv_bert_for_multiple_choice",
    "TFConvBertForTokenClassification": "tf_conv_bert_for_token_classification",
    "TFConvBertForQuestionAnswering": "tf_conv_bert_for_question_answering",
}
H5_LAYERS = {
    "TFConvBertModel": ("convbert",),
    "TFConvBertForMaskedLM": ("convbert", "generator_predictions", "generator_lm_head"),
    "TFConvBertForSequenceClassification": ("convbert", "classifier"),
    "TFConvBertForMultipleChoice": ("convbert", "sequence_summary", "classifier"),
    "TFConvBertForTokenClassification": ("convbert", "dropout", "classifier"),  # Keras numbers it: dropout_16
    "TFConvBertForQuestionAnswering": ("convbert", "qa_outputs"),
}
_SHARED_WITH_LM_HEAD = "convbert/embeddings/"  # the embedding weights the MLM head's group lists again


def _same(array):
    return array


def _kernel_to_tf(weight):  # Linear (out, in) -> (in, out); GroupedLinear (G, in/G, out/G) -> (out/G, in/G, G)
    return weight.T if weight.ndim == 2 else weight.transpose(2, 1, 0)


# (our name ends with, the TF name ends with, ours -> TF, TF -> ours), first match wins
_RULES: list[tuple[str, str, Callable, Callable]] = [
    ("word_embeddings.weight", "word_embeddings/weight", _same, _same),
    ("position_embeddings.weight", "position_embeddings/embeddings", _same, _same),
    ("token_type_embeddings.weight", "token_type_embeddings/embeddings", _same, _same),
    ("LayerNorm.weight", "LayerNorm/gamma", _same, _same),
    ("LayerNorm.bias", "LayerNorm/beta", _same, _same),
    ("key_conv_attn_layer.depthwise.weight", "key_conv_attn_layer/depthwise_kernel",
     lambda w: w.transpose(2, 0, 1), lambda k: k.transpose(1, 2, 0)),
    ("key_conv_attn_layer.pointwise.weight", "key_conv_attn_layer/pointwise_kernel",
     lambda w: w.transpose(2, 1, 0), lambda k: k.transpose(2, 1, 0)),
    ("key_conv_attn_layer.bias", "key_conv_attn_layer/bias", lambda b: b.reshape(-1), lambda b: b.reshape(-1, 1)),
    (".weight", "/kernel", _kernel_to_tf, _kernel_to_tf),  # reversing the axes is its own inverse
    (".bias", "/bias", _same, _same),
]


def _rule(name: str, side: int):
    for rule in _RULES:
        if name.endswith(rule[side]):
            return rule
    raise KeyError(f"no TF name for {name!r}" if side == 0 else f"{name!r} is not a ConvBERT TF weight")


def to_tf_name(name: str) -> str:
    """Our name (with the task models' "convbert." prefix) -> the TF path, e.g.
    convbert.encoder.layer.0.output.dense.weight -> convbert/encoder/layer_._0/output/dense/kernel."""
    ours, theirs, _, _ = _rule(name, 0)
    head = name[:len(name) - len(ours)].replace(".", "/")
    return re.sub(r"(^|/)layer/(\d+)(?=/)", r"\1layer_._\2", head) + theirs


def to_pt_name(path: str) -> str:
    """The TF path (no model name, no ":0") -> our name; the inverse of `to_tf_name`."""
    ours, theirs, _, _ = _rule(path, 1)
    head = re.sub(r"(^|/)layer_\._(\d+)(?=/)", r"\1layer/\2", path[:len(path) - len(theirs)])
    return head.replace("/", ".") + ours


def to_tf_array(name: str, array: np.ndarray) -> np.ndarray:
    """Our array for `name` in Keras's layout (C-contiguous)."""
    return np.ascontiguousarray(_rule(name, 0)[2](array))


def to_pt_array(path: str, array: np.ndarray) -> np.ndarray:
    """A Keras array for the TF path `path` in our layout (C-contiguous)."""
    return np.ascontiguousarray(_rule(path, 1)[3](array))


def to_pt_shape(path: str, shape) -> tuple[int, ...]:
    """The shape `to_pt_array` gives an array of `shape`, computed on a view of nothing."""
    return _rule(path, 1)[3](np.broadcast_to(np.empty((), np.uint8), tuple(shape))).shape


def tf_class_of(path: str | Path) -> str:
    """The TFConvBert* class whose top-level layers a tf_model.h5 file holds (Keras numbers dropouts)."""
    with KerasH5(path) as f:
        layers = tuple("dropout" if re.fullmatch(r"dropout(_\d+)?", n) else n for n in f.layer_names)
    for class_name, expected in H5_LAYERS.items():
        if layers == expected:
            return class_name
    raise H5FormatError(f"{path}: layers {list(layers)} are those of no TFConvBert* class")


def _tf_path(weight_name: str, where: str) -> str:
    """'tf_conv_bert_model/convbert/.../kernel:0' -> 'convbert/.../kernel' (the model name dropped, as
    transformers does: a file saved by one class loads into another)."""
    model, sep, rest = weight_name.partition("/")
    if not sep or not rest.endswith(":0"):
        raise H5FormatError(f"{where}: weight name {weight_name!r} is not '<model>/<path>:0'")
    return rest[:-2]


def read_tf_weights(path: str | Path, expected_shapes: dict | None = None, *,
                    on_progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """A tf_model.h5 file's weights under our names ("convbert.embeddings...", "classifier.dense.weight",
    ...), in our layouts: ({our name: array}, [our names of the weights the model does not have]).

    expected_shapes: {our name: shape} of the model they are for. When given, each weight's shape
    is checked against it before any value is read (an H5FormatError names the weight and both
    shapes), and weights the model does not have are not read at all. A weight stored twice (the
    MLM head's copy of the embeddings) must be the same both times.
    """
    out: dict[str, np.ndarray] = {}
    unexpected: list[str] = []
    with KerasH5(path) as f:
        plan = []  # (layer, weight name, our name)
        for layer in f.layer_names:
            for weight in f.weight_names(layer):
                where = f"{path}: layer {layer!r}"
                tf_path = _tf_path(weight, where)
                try:
                    name = to_pt_name(tf_path)
                except KeyError as e:
                    raise H5FormatError(f"{where}: {e.args[0]}") from None
                if expected_shapes is not None:
                    if name not in expected_shapes:
                        unexpected += [] if name in unexpected else [name]
                        continue
                    shape = to_pt_shape(tf_path, f.shape(layer, weight))
                    if shape != tuple(expected_shapes[name]):
                        raise H5FormatError(
                            f"{where}: weight {weight!r} has shape {f.shape(layer, weight)} (ours: {shape}), but the "
                            f"model's {name} is {tuple(expected_shapes[name])}: is config.json the one it was saved with?")
                plan.append((layer, weight, tf_path, name))
        total = sum(int(np.prod(f.shape(layer, weight))) * 4 for layer, weight, _, _ in plan)
        done = 0
        for layer, weight, tf_path, name in plan:
            array = to_pt_array(tf_path, f.read(layer, weight))
            if name in out and not np.array_equal(out[name], array):
                raise H5FormatError(f"{path}: weight {weight!r} is stored twice (layers of the same model share "
                                    f"it) with different values")
            out[name] = array
            done += array.nbytes
            if on_progress is not None:
                on_progress(done, total)
    return out, unexpected


def write_tf_weights(path: str | Path, class_name: str, state: dict[str, np.ndarray], *,
                     on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Write `state` ({our name: array}, task-model names) as the tf_model.h5 of `class_name` saves it."""
    model_name = KERAS_MODEL_NAMES[class_name]
    groups: dict[str, list] = {layer: [] for layer in H5_LAYERS[class_name]}
    for name, array in state.items():
        if name == "generator_lm_head.weight":  # tied: the lm head reads the embedding layer's matrix
            continue
        tf_path = to_tf_name(name)
        layer = tf_path.split("/")[0]
        if layer not in groups:
            raise KeyError(f"{class_name}: weight {name!r} belongs to no layer of the TF class ({list(groups)})")
        groups[layer].append((f"{model_name}/{tf_path}:0", to_tf_array(name, np.asarray(array))))
    if "generator_lm_head" in groups:
        groups["generator_lm_head"] += [w for w in groups["convbert"] if w[0].startswith(f"{model_name}/{_SHARED_WITH_LM_HEAD}")]
    return write_weights(path, list(groups.items()), on_progress=on_progress)
