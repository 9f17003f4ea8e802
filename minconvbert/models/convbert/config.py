"""ConvBertConfig: the hyperparameters of a ConvBERT model, read and written as transformers' config.json.

The fields are declared below with their types and transformers' defaults, plus the task fields
(num_labels, id2label, label2id, problem_type), the output switches every transformers config has
(output_attentions, output_hidden_states, return_dict) and one of our own, `mask_conv_padding`.
Keys we do not know are kept and written back, so a config.json survives a round trip unchanged.

Two kinds of check, at two moments (as transformers does):
- a config is *read* safely: every field has its declared type, sizes are counts below 2**31, the
  label table is bounded, and no key may shadow a method. A wrong type is a TypeError naming the
  field, at construction, on assignment and when a config.json is read;
- whether the numbers make a model that can be *built* (heads dividing hidden_size, an odd kernel,
  probabilities in [0, 1], a parameter count that fits in memory, ...) is checked when a model is
  built from the config (`models.convbert.checks.check_buildable`). `ConvBertConfig(hidden_size=37)`
  is a valid config; `ConvBertModel` refuses it.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from minconvbert.io.atomic import atomic_write
from minconvbert.io.regular_file import read_regular

__all__ = ["ConvBertConfig", "PRESETS", "MAX_SIZE", "MAX_LABELS"]

MAX_SIZE = 2**31 - 1  # any size field; what is too big to build is refused by the model
MAX_LABELS = 100_000  # num_labels / id2label entries: the table is built when the config is read
MAX_CONFIG_BYTES = 16 * 2**20  # a config.json larger than this is refused before it is read

# Published sizes (YituTech/conv-bert-{base,medium-small,small}); their config.json files set pad_token_id 0.
PRESETS = {
    "conv-bert-base": dict(hidden_size=768, num_attention_heads=12, intermediate_size=3072, embedding_size=768,
                           num_groups=1),
    "conv-bert-medium-small": dict(hidden_size=384, num_attention_heads=8, intermediate_size=1536,
                                   embedding_size=128, num_groups=2),
    "conv-bert-small": dict(hidden_size=256, num_attention_heads=4, intermediate_size=1024, embedding_size=128,
                            num_groups=1),
}
_PUBLISHED_COMMON = dict(num_hidden_layers=12, conv_kernel_size=9, head_ratio=2, vocab_size=30522, pad_token_id=0)
_PROBLEM_TYPES = (None, "regression", "single_label_classification", "multi_label_classification")
_LABEL_FIELDS = ("num_labels", "id2label", "label2id")


@dataclass(init=False, repr=False, eq=False)
class ConvBertConfig:
    """Hyperparameters of ConvBERT (names and defaults as transformers' ConvBertConfig).

    >>> config = ConvBertConfig.from_preset("conv-bert-small")
    >>> config.hidden_size, config.num_attention_heads, config.head_ratio, config.heads_per_kind
    (256, 4, 2, 2)

    The mixed attention block has `heads_per_kind` = num_attention_heads // head_ratio (at least 1)
    self-attention heads and as many span-based dynamic convolution heads, each of size
    `attention_head_size` = hidden_size // heads_per_kind // 2, so that the two kinds fill hidden_size.
    """

    model_type = "convbert"  # a class constant, not a field

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str | Callable = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | list | None = 2
    embedding_size: int = 768
    head_ratio: int = 2
    conv_kernel_size: int = 9
    num_groups: int = 1
    classifier_dropout: float | None = None
    is_decoder: bool = False
    add_cross_attention: bool = False
    tie_word_embeddings: bool = True
    problem_type: str | None = None
    # what every transformers config carries: the defaults of a model's forward()
    output_attentions: bool = False
    output_hidden_states: bool = False
    return_dict: bool = True
    # ours: zero padded positions before the convolution branch (the reference does not)
    mask_conv_padding: bool = False

    def __init__(self, num_labels=None, id2label=None, label2id=None, **kwargs):
        model_type = kwargs.pop("model_type", self.model_type)  # a config.json's dict may carry it
        if model_type != self.model_type:
            raise ValueError(f"ConvBertConfig: config has model_type {model_type!r}, expected 'convbert'")
        for field in fields(self):
            setattr(self, field.name, kwargs.pop(field.name, field.default))
        for key, value in kwargs.items():  # unknown keys: kept as they are, and written back
            setattr(self, key, value)
        self.id2label, self.label2id = _labels(num_labels, id2label, label2id)

    def __setattr__(self, name, value):
        kind = _FIELD_TYPES.get(name)
        if kind is not None:
            _check_type(name, value, kind)
        elif name in ("id2label", "label2id"):
            _check_label_table(name, value)
        elif hasattr(type(self), name) and not isinstance(getattr(type(self), name), property):
            raise ValueError(f"ConvBertConfig: the key {name!r} would shadow ConvBertConfig.{name}; "
                             "rename it in the config")
        object.__setattr__(self, name, value)

    # ----- labels and derived sizes ----------------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        self.id2label, self.label2id = _labels(n, None, None)

    @property
    def heads_per_kind(self) -> int:
        """Self-attention heads in the mixed block, and as many convolution heads:
        num_attention_heads // head_ratio, or 1 if that is 0 (transformers' arithmetic)."""
        return max(self.num_attention_heads // self.head_ratio, 1) if self.head_ratio else 1

    @property
    def attention_head_size(self) -> int:
        """The size of every head of either kind: hidden_size // heads_per_kind // 2."""
        return self.hidden_size // self.heads_per_kind // 2

    def get_text_config(self, decoder=False) -> "ConvBertConfig":
        """The config that holds vocab_size (this one: ConvBERT has no sub-configs), as transformers'."""
        return self

    # ----- dictionaries and files ---------------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str, **overrides) -> "ConvBertConfig":
        """The published configuration `name` ("conv-bert-base", "conv-bert-medium-small",
        "conv-bert-small"; a "YituTech/" prefix is accepted), with optional overrides."""
        key = name.split("/")[-1]
        if key not in PRESETS:
            raise ValueError(f"ConvBertConfig.from_preset: unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        return cls(**{**_PUBLISHED_COMMON, **PRESETS[key], **overrides})

    def to_dict(self) -> dict:
        """Every field (known and unknown) as plain JSON types, with model_type; label ids as strings."""
        out = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in ("id2label", "label2id")}
        if callable(out.get("hidden_act")):
            out["hidden_act"] = getattr(self.hidden_act, "__name__", "custom")
        out["id2label"] = {str(k): v for k, v in self.id2label.items()}
        out["label2id"] = dict(self.label2id)
        out["model_type"] = self.model_type
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, json_file_path) -> None:
        """Write the config as JSON to `json_file_path` (atomically)."""
        with atomic_write(json_file_path) as f:
            f.write(self.to_json_string().encode("utf-8"))

    def update(self, values: dict) -> None:
        """Set every key of `values` (checked as in the constructor)."""
        for key, value in dict(values).items():
            if key in _LABEL_FIELDS:
                self.id2label, self.label2id = _labels(*(values.get(k) for k in _LABEL_FIELDS))
            else:
                setattr(self, key, value)

    @classmethod
    def from_dict(cls, data: dict) -> "ConvBertConfig":
        if not isinstance(data, Mapping):
            raise TypeError(f"ConvBertConfig.from_dict: expected a dict, got {type(data).__name__}")
        data = dict(data)
        if not all(isinstance(k, str) for k in data):
            raise TypeError("ConvBertConfig: every key of a config must be a string")
        return cls(**data)

    @classmethod
    def from_json_file(cls, json_file_path) -> "ConvBertConfig":
        """Read a config.json file (at most 16 MB; it must hold a JSON object)."""
        return cls.from_dict(read_json(json_file_path, "ConvBertConfig.from_json_file"))

    def save_pretrained(self, save_directory) -> str:
        """Write `save_directory/config.json` (atomically); returns its path."""
        os.makedirs(save_directory, exist_ok=True)
        path = os.path.join(save_directory, "config.json")
        self.to_json_file(path)
        return path

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *, subfolder: str = "", cache_dir=None,
                        local_files_only: bool = False, revision=None, force_download: bool = False,
                        **overrides) -> "ConvBertConfig":
        """The config.json of a checkpoint: a directory, a config.json file, an embedded name
        ("minconvbert/nano") or a hub id (resolved as the models resolve it). Keyword arguments that
        name a config field (or a key of the file) override it; any other raises TypeError."""
        from minconvbert.io import hub

        path = os.fspath(pretrained_model_name_or_path)
        if os.path.isfile(path):
            file = path
        else:
            directory = hub.resolve_checkpoint(path, revision=revision, cache_dir=cache_dir, subfolder=subfolder,
                                               weights=False, download=not local_files_only,
                                               force_download=force_download)
            file = os.path.join(directory, "config.json")
        data = read_json(file, "ConvBertConfig.from_pretrained", missing="no config.json at")
        unknown = sorted(set(overrides) - set(data) - {f.name for f in fields(cls)} - set(_LABEL_FIELDS))
        if unknown:
            raise TypeError(f"from_pretrained: unexpected keyword arguments {unknown}: neither loader arguments "
                            "nor config fields")
        if "num_labels" in overrides and "id2label" not in overrides:  # new labels replace the file's
            data.pop("id2label", None)
            data.pop("label2id", None)
        data.update(overrides)
        return cls.from_dict(data)

    def push_to_hub(self, *args, **kwargs):
        raise NotImplementedError(_NO_UPLOAD)

    def __eq__(self, other) -> bool:
        return isinstance(other, ConvBertConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"ConvBertConfig {self.to_json_string()}"


_NO_UPLOAD = ("push_to_hub: minconvbert does not upload. Save with save_pretrained(folder), then upload the "
              "folder with huggingface_hub (huggingface_hub.upload_folder(repo_id=..., folder_path=folder) or "
              "`huggingface-cli upload <repo> <folder>`)")

# ----- types ---------------------------------------------------------------------------------------
_SIZE = "size"  # an int in [0, MAX_SIZE]; whether it is positive enough is the model's check
_KINDS = {
    "int": _SIZE, "float": "number", "bool": "bool", "str | Callable": "activation", "int | None": "id",
    "int | list | None": "ids", "float | None": "number or None", "str | None": "str or None",
}
_FIELD_TYPES = {f.name: _KINDS[f.type] for f in fields(ConvBertConfig)}


def _check_type(name: str, value, kind: str) -> None:
    """Raise TypeError (ValueError for an absurd size) unless `value` is of the field's kind."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = (is_int or isinstance(value, float)) and not isinstance(value, bool)
    ok = {
        _SIZE: is_int,
        "number": is_number,
        "number or None": value is None or is_number,
        "bool": isinstance(value, bool),
        "activation": isinstance(value, str) or callable(value),
        "id": value is None or is_int,
        "ids": value is None or is_int or (isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)),
        "str or None": value is None or isinstance(value, str),
    }[kind]
    if not ok:
        expected = {_SIZE: "an integer", "id": "an integer token id or None", "ids": "a token id, a list of them "
                    "or None", "activation": "an activation name or a callable"}.get(kind, kind.replace("str", "a "
                    "string").replace("number", "a number").replace("bool", "true or false"))
        raise TypeError(f"ConvBertConfig: {name} must be {expected}, got {value!r} ({type(value).__name__})")
    if kind == _SIZE and not 0 <= value <= MAX_SIZE:
        raise ValueError(f"ConvBertConfig: {name} must be a size in [0, {MAX_SIZE}], got {value}")
    if kind in ("number", "number or None") and value is not None and not math.isfinite(value):
        raise ValueError(f"ConvBertConfig: {name} must be a finite number, got {value!r}")
    if name == "problem_type" and value not in _PROBLEM_TYPES:
        raise ValueError(f"ConvBertConfig: problem_type must be one of {_PROBLEM_TYPES}, got {value!r}")


def _label_id(name: str, key) -> int:
    """A label id: an int, or the decimal string JSON turns it into."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key)
    raise TypeError(f"ConvBertConfig: {name} needs integer label ids (or their decimal strings), got {key!r}")


def _check_label_table(name: str, table) -> None:
    if not isinstance(table, Mapping):
        raise TypeError(f"ConvBertConfig: {name} must be a mapping, got {type(table).__name__}")
    if len(table) > MAX_LABELS:
        raise ValueError(f"ConvBertConfig: {name} has {len(table)} labels; at most {MAX_LABELS} are supported")
    for key, value in table.items():
        label, index = (value, key) if name == "id2label" else (key, value)
        _label_id(name, index)
        if not isinstance(label, str):
            raise TypeError(f"ConvBertConfig: {name} labels must be strings, got {label!r}")


def _labels(num_labels, id2label, label2id):
    """(id2label with int keys, label2id as given or derived) as transformers builds them; 2 labels by default."""
    if id2label is not None:
        _check_label_table("id2label", id2label)
        id2label = {_label_id("id2label", k): v for k, v in id2label.items()}
        if num_labels is not None and num_labels != len(id2label):
            raise ValueError(f"ConvBertConfig: num_labels {num_labels} disagrees with id2label of {len(id2label)}")
    else:
        n = 2 if num_labels is None else num_labels
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_LABELS:
            raise ValueError(f"ConvBertConfig: num_labels must be an integer in [1, {MAX_LABELS}], got {n!r}")
        id2label = {i: f"LABEL_{i}" for i in range(n)}
    if label2id is None:
        label2id = {v: k for k, v in id2label.items()}
    _check_label_table("label2id", label2id)
    return id2label, dict(label2id)


def read_json(path, label: str, missing: str = "no such file:") -> dict:
    """The JSON object in the file `path`, refusing files over MAX_CONFIG_BYTES (and anything but a regular
    file) before reading them."""
    path = os.fspath(path)
    try:
        data = json.loads(read_regular(path, MAX_CONFIG_BYTES, ValueError, label, "config.json").decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{label}: {missing} {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ValueError(f"{label}: {path} is not valid JSON: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{label}: {path} must hold a JSON object, got a {type(data).__name__}")
    return data
