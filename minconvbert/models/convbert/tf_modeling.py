"""The six TFConvBert* classes: our NumPy models with the calling conventions of transformers' TF classes.

No TensorFlow is involved: each class IS the PyTorch-named class of the same task (same layers,
parameters and numbers), with the differences a TF user relies on:

- calling: `model(inputs)`, where inputs is a dict (or our BatchEncoding; keys that are not arguments
  are dropped with a warning, as transformers does), a list or tuple in the order of the call's
  arguments (input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds, ...),
  or a single array of input_ids; `training=False` (dropout off) unless asked;
  `return_dict=False` gives a tuple. `model.call` is the same function.
- losses, as the TF classes compute them: masked LM and token classification return the mean over
  the counted tokens with shape (1,) (labels -100, or any negative label for tokens, are not counted);
  sequence classification, multiple choice and question answering return one loss per example (B,);
  sequence classification is regression (squared error per example) when num_labels == 1, else
  cross-entropy; question answering positions must lie inside the sequence (no clamping).
- files: `from_pretrained` reads tf_model.h5 when the directory has one (else the PyTorch layouts, as
  transformers' `from_pt=True`); `save_pretrained` writes config.json + tf_model.h5 in transformers'
  layout (see `tf_weights`). h5py is needed for the .h5 files (`pip install minconvbert[tf]`).

Outputs are the same records as the PyTorch-named classes (their arrays are Tensors: `.numpy()`).
transformers' TF classes compute the mixed attention with head size hidden_size // num_attention_heads,
which equals ours only when num_attention_heads == 2 * (attention heads); for other head_ratio settings
they crash, so these classes refuse such configs. Every published checkpoint has head_ratio 2.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from minconvbert import functional as F
from minconvbert.io import atomic
from minconvbert.models.convbert import checkpoint
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.checks import input_array
from minconvbert.models.convbert.heads import (
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
)
from minconvbert.models.convbert.modeling import ConvBertModel
from minconvbert.models.convbert.tf_weights import TF_WEIGHTS_NAME, read_tf_weights, write_tf_weights
from minconvbert.nn import init

__all__ = [
    "TFConvBertPreTrainedModel", "TFConvBertModel", "TFConvBertForMaskedLM", "TFConvBertForSequenceClassification",
    "TFConvBertForMultipleChoice", "TFConvBertForTokenClassification", "TFConvBertForQuestionAnswering",
]  # fmt: skip

_CALL_ARGS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds",
              "output_attentions", "output_hidden_states", "return_dict")


def _per_example_cross_entropy(logits, labels, what):
    """-log softmax(logits)[i, labels[i]] for each row: logits (N, C), labels (N,) -> (N,)."""
    labels = input_array(what, labels).reshape(-1).astype(np.int64)
    n, classes = logits.shape
    if labels.shape != (n,):
        raise ValueError(f"{what}: expected {n} labels, got {labels.size}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(f"{what}: label {bad} is outside [0, {classes})")
    return -F.log_softmax(logits, axis=-1)[np.arange(n), labels]


def _masked_mean_cross_entropy(logits, labels, counted, what):
    """The mean cross-entropy over the counted positions, shape (1,): logits (..., C), labels (...)."""
    labels = input_array(what, labels)
    classes = logits.shape[-1]
    if labels.shape != logits.shape[:-1]:
        raise ValueError(f"{what}: expected shape {logits.shape[:-1]}, got {labels.shape}")
    keep = counted(labels)
    losses = _per_example_cross_entropy(logits.reshape(-1, classes), np.where(keep, labels, 0).reshape(-1), what)
    weights = keep.reshape(-1).astype(logits.dtype)
    return ((losses * weights).sum() / weights.sum()).reshape(1)


class TFConvBertPreTrainedModel:
    """What the six TF classes add to their PyTorch-named base: TF calls, TF losses, tf_model.h5."""

    _pytorch_class = None  # set by each class: the PyTorch-named class it is
    _label_args = ("labels",)

    def __init__(self, config: ConvBertConfig, *args, **kwargs):
        if isinstance(config, ConvBertConfig) and config.num_attention_heads != 2 * config.heads_per_kind:
            raise ValueError(
                f"{type(self).__name__}: num_attention_heads {config.num_attention_heads} with head_ratio "
                f"{config.head_ratio} gives {config.heads_per_kind} attention heads; transformers' TF classes "
                "work only when num_attention_heads is twice that (head_ratio 2, as in every published model; "
                "otherwise they crash). Use the PyTorch-named class for this config.")
        super().__init__(config, *args, **kwargs)

    # ----- calling -------------------------------------------------------------------------------
    def _unpack(self, inputs, args, kwargs) -> dict:
        """{argument name: value} from a TF-style call: inputs a dict, a list in argument order, or input_ids
        (then further positional arguments follow the same order)."""
        names = _CALL_ARGS + self._label_args + ("training",)
        where = type(self).__name__
        if isinstance(inputs, Mapping):  # keys the call does not take are dropped, as transformers does
            ignored = sorted(set(inputs) - set(names))
            if ignored:
                warnings.warn(f"{where}: inputs {ignored} are not arguments of the call; ignored", stacklevel=3)
            packed = {k: v for k, v in inputs.items() if k in names}
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) > len(names):
                raise ValueError(f"{where}: {len(inputs)} inputs in the list, at most {len(names)}: {list(names)}")
            packed = dict(zip(names, inputs))
        else:
            packed = {"input_ids": inputs}
        if args:
            if isinstance(inputs, (Mapping, list, tuple)):
                raise TypeError(f"{where}: positional arguments after a dict or list of inputs")
            packed.update(zip(names[1:], args))
        for name, value in kwargs.items():
            if name in packed and packed[name] is not None:
                raise TypeError(f"{where}: {name!r} given twice")
            packed[name] = value
        unknown = sorted(set(packed) - set(names))
        if unknown:
            raise TypeError(f"{where}: unexpected arguments {unknown}; expected some of {list(names)}")
        return packed

    def __call__(self, inputs=None, *args, **kwargs):
        """model(inputs, ..., training=False) as transformers' TF classes take it (see the module docstring)."""
        given = self._unpack(inputs, args, kwargs)
        training = bool(given.pop("training", False))
        return_dict = given.pop("return_dict", None)
        labels = {name: given.pop(name) for name in self._label_args if name in given}
        previous = self.training
        self.train(training)
        try:
            outputs = self.forward(**{k: v for k, v in given.items() if v is not None})
        finally:
            self.train(previous)
        if any(v is not None for v in labels.values()):
            outputs.loss = self.hf_compute_loss(labels, outputs)
        return outputs.to_tuple() if return_dict is False else outputs

    call = __call__

    def hf_compute_loss(self, labels: dict, outputs):
        raise NotImplementedError

    # ----- files ---------------------------------------------------------------------------------
    def _tf_names(self) -> dict:
        """{our state-dict name: the name the TF side uses (task models' "convbert." prefix)}."""
        prefix = "convbert." if isinstance(self, ConvBertModel) else ""
        return {name: prefix + name for name in self.state_dict()}

    def load_weights(self, path, strict: bool = True, rng=None) -> tuple:
        """Load tf_model.h5 (a file, or a directory holding it) into this model; returns (missing, unexpected).

        Every weight's shape is checked against the model before any value is read. Missing weights
        (a head the file lacks) are initialised from `rng`; with strict=True any difference raises KeyError.
        """
        path = Path(path)
        if path.is_dir():
            if not (path / TF_WEIGHTS_NAME).is_file():
                return super().load_weights(path, strict=strict)  # the PyTorch layouts
            path = path / TF_WEIGHTS_NAME
        names = self._tf_names()
        shapes = {names[k]: v.shape for k, v in self.state_dict().items()}
        weights, unexpected = read_tf_weights(path, shapes)
        ours = {v: k for k, v in names.items()}
        state = {ours[k]: v for k, v in weights.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported once, below, with the file's name
            missing, _ = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            found = ([f"missing keys {missing} (initialised)"] if missing else []) + \
                    ([f"unexpected weights {unexpected} (ignored)"] if unexpected else [])
            message = f"{type(self).__name__}.load_weights({str(path)!r}): " + "; ".join(found)
            if strict:
                raise KeyError(message)
            warnings.warn(message, stacklevel=3)
        if missing:
            self.init_weights(rng, names=missing)
        return missing, unexpected

    @classmethod
    def from_pretrained(cls, name_or_path, config=None, strict: bool = False, dtype=None, rng=None, revision=None,
                        **config_overrides):
        """Build the model from a checkpoint directory, preferring its tf_model.h5 (see `load_weights`);
        without one, the PyTorch layouts are read as by the PyTorch-named class."""
        directory = checkpoint.resolve(name_or_path, revision)
        if not (directory / TF_WEIGHTS_NAME).is_file():
            return super().from_pretrained(directory, config=config, strict=strict, dtype=dtype, rng=rng,
                                           **config_overrides)
        if config is None:
            config = ConvBertConfig.from_pretrained(directory, **config_overrides)
        elif config_overrides:
            raise TypeError(f"from_pretrained: pass either config or config overrides {sorted(config_overrides)}, not both")
        with init.deferred():
            model = cls(config)
        model.load_weights(directory / TF_WEIGHTS_NAME, strict=strict, rng=rng)
        if dtype is not None:
            model.to(dtype)
        return model.eval()

    def save_pretrained(self, directory, on_progress=None) -> Path:
        """Write directory/tf_model.h5 (float32, transformers' TF layout) and directory/config.json."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        names = self._tf_names()
        state = {names[k]: np.asarray(v, dtype=np.float32) for k, v in self.state_dict().items()}
        write_tf_weights(directory / TF_WEIGHTS_NAME, type(self).__name__, state, on_progress=on_progress)
        config = self.config.to_dict()
        config["architectures"] = [self._pytorch_class.__name__]  # as transformers' TF classes write it
        with atomic.atomic_write(directory / "config.json") as f:
            f.write(ConvBertConfig.from_dict(config).to_json_string().encode("utf-8"))
        return directory


class TFConvBertModel(TFConvBertPreTrainedModel, ConvBertModel):
    """The bare encoder: (B, T) ids -> last_hidden_state (B, T, hidden), as TFConvBertModel."""

    _pytorch_class = ConvBertModel
    _label_args = ()


class TFConvBertForMaskedLM(TFConvBertPreTrainedModel, ConvBertForMaskedLM):
    """logits (B, T, vocab); loss (1,): mean cross-entropy over labels != -100."""

    _pytorch_class = ConvBertForMaskedLM

    def hf_compute_loss(self, labels, outputs):
        return _masked_mean_cross_entropy(outputs.logits, labels["labels"], lambda y: y != -100, "labels")


class TFConvBertForSequenceClassification(TFConvBertPreTrainedModel, ConvBertForSequenceClassification):
    """logits (B, num_labels); loss (B,): squared error if num_labels == 1, else cross-entropy."""

    _pytorch_class = ConvBertForSequenceClassification

    def hf_compute_loss(self, labels, outputs):
        logits, target = outputs.logits, input_array("labels", labels["labels"])
        if logits.shape[1] == 1:
            target = target.reshape(logits.shape).astype(logits.dtype)
            return ((logits - target) ** 2).mean(axis=-1)  # (B,)
        return _per_example_cross_entropy(logits, target, "labels")


class TFConvBertForMultipleChoice(TFConvBertPreTrainedModel, ConvBertForMultipleChoice):
    """logits (B, num_choices); loss (B,): cross-entropy of the right choice."""

    _pytorch_class = ConvBertForMultipleChoice

    def hf_compute_loss(self, labels, outputs):
        return _per_example_cross_entropy(outputs.logits, labels["labels"], "labels")


class TFConvBertForTokenClassification(TFConvBertPreTrainedModel, ConvBertForTokenClassification):
    """logits (B, T, num_labels); loss (1,): mean cross-entropy over labels >= 0."""

    _pytorch_class = ConvBertForTokenClassification

    def hf_compute_loss(self, labels, outputs):
        return _masked_mean_cross_entropy(outputs.logits, labels["labels"], lambda y: y >= 0, "labels")


class TFConvBertForQuestionAnswering(TFConvBertPreTrainedModel, ConvBertForQuestionAnswering):
    """start_logits, end_logits (B, T); loss (B,): the mean of the start and end cross-entropies."""

    _pytorch_class = ConvBertForQuestionAnswering
    _label_args = ("start_positions", "end_positions")

    def hf_compute_loss(self, labels, outputs):
        if labels.get("start_positions") is None or labels.get("end_positions") is None:
            return None
        start = _per_example_cross_entropy(outputs.start_logits, labels["start_positions"], "start_positions")
        end = _per_example_cross_entropy(outputs.end_logits, labels["end_positions"], "end_positions")
        return (start + end) / 2
