"""What the ported ModelTesterMixin's parts share: the model-class groups, the input makers and
_prepare_for_class (upstream's, with NumPy arrays in place of torch tensors)."""

from __future__ import annotations

import copy

import numpy as np

import minconvbert as mc
from minconvbert.tensor import data_of

MULTIPLE_CHOICE = ("ConvBertForMultipleChoice",)
QUESTION_ANSWERING = ("ConvBertForQuestionAnswering",)
SEQUENCE_CLASSIFICATION = ("ConvBertForSequenceClassification",)
TOKEN_LEVEL = ("ConvBertForTokenClassification", "ConvBertForMaskedLM")
BASE_MODELS = ("ConvBertModel",)


def config_zero_init(config):
    """A copy of `config` whose initializer ranges are 1e-10, so every weight is ~0 (or 1 for LayerNorm)."""
    configs_no_init = copy.deepcopy(config)
    for key in list(configs_no_init.__dict__):
        if "_range" in key or "_std" in key or "initializer_factor" in key or "layer_scale" in key:
            setattr(configs_no_init, key, 1e-10)
    return configs_no_init


def as_array(x):
    return np.asarray(data_of(x))


def without_nan(x):
    x = np.array(as_array(x), dtype=np.float64)
    x[np.isnan(x)] = 0
    return x


class MixinBase:
    model_tester = None
    all_model_classes = ()
    has_attentions = True

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = copy.deepcopy(inputs_dict)
        tester = self.model_tester
        if model_class.__name__ in MULTIPLE_CHOICE:  # (B, T) -> (B, num_choices, T)
            inputs_dict = {k: np.repeat(v[:, None], tester.num_choices, axis=1)
                           if isinstance(v, np.ndarray) and v.ndim > 1 else v for k, v in inputs_dict.items()}
        if return_labels:
            if model_class.__name__ in MULTIPLE_CHOICE:
                inputs_dict["labels"] = np.ones(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in QUESTION_ANSWERING:
                inputs_dict["start_positions"] = np.zeros(tester.batch_size, dtype=np.int64)
                inputs_dict["end_positions"] = np.zeros(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in SEQUENCE_CLASSIFICATION:
                inputs_dict["labels"] = np.zeros(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in TOKEN_LEVEL:
                inputs_dict["labels"] = np.zeros((tester.batch_size, tester.seq_length), dtype=np.int64)
        return inputs_dict


def ids_tensor(shape, vocab_size, rng=None):
    """A random int64 array of `shape` with values in [0, vocab_size) (upstream draws from randint(0, V - 1))."""
    rng = np.random.default_rng(0) if rng is None else rng
    return rng.integers(0, vocab_size, size=tuple(shape), dtype=np.int64)


def random_attention_mask(shape, rng=None):
    """A random 0/1 mask whose first column is 1, so that every row attends to something."""
    attn_mask = ids_tensor(shape, vocab_size=2, rng=rng)
    attn_mask[:, 0] = 1
    return attn_mask
