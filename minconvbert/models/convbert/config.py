"""ConvBertConfig: the hyperparameters of a ConvBERT model, read and written as transformers' config.json.

Every argument of transformers' ConvBertConfig, with the same defaults, plus the task fields
(num_labels, id2label, label2id, problem_type) and one of our own, `mask_conv_padding`. Keys we do
not know are kept and written back, so a config.json survives a round trip unchanged.
"""

from __future__ import annotations

import copy
import json
import os

from minconvbert.io.atomic import atomic_write

__all__ = ["ConvBertConfig", "PRESETS", "ACTIVATIONS"]

ACTIVATIONS = ("gelu", "relu", "selu", "gelu_new")

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

# The fields we interpret, with transformers' defaults, in the order config.json lists them.
_DEFAULTS = dict(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=512,
    type_vocab_size=2,
    initializer_range=0.02,
    layer_norm_eps=1e-12,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
    embedding_size=768,
    head_ratio=2,
    conv_kernel_size=9,
    num_groups=1,
    classifier_dropout=None,
    is_decoder=False,
    add_cross_attention=False,
    tie_word_embeddings=True,
    problem_type=None,
    mask_conv_padding=False,  # ours: zero padded positions before the convolution branch
)
_PROBLEM_TYPES = (None, "regression", "single_label_classification", "multi_label_classification")


class ConvBertConfig:
    """Hyperparameters of ConvBERT (names and defaults as transformers' ConvBertConfig).

    >>> config = ConvBertConfig.from_preset("conv-bert-small")
    >>> config.hidden_size, config.num_attention_heads, config.head_ratio
    (256, 4, 2)

    The mixed attention uses `num_attention_heads // head_ratio` self-attention heads (at least 1)
    and as many span-based dynamic convolution heads, each of size
    `hidden_size // attention heads // 2`, so that the two kinds together fill hidden_size.
    """

    model_type = "convbert"

    def __init__(self, num_labels=None, id2label=None, label2id=None, **kwargs):
        values = dict(_DEFAULTS)
        values.update(kwargs)
        self.__dict__.update(values)
        self.id2label, self.label2id = _labels(num_labels, id2label, label2id)
        self.validate()

    # ----- derived sizes of the mixed attention ------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        self.id2label, self.label2id = _labels(n, None, None)

    @property
    def attention_heads(self) -> int:
        """Self-attention heads actually used: num_attention_heads // head_ratio, or 1 if that is 0."""
        return max(self.num_attention_heads // self.head_ratio, 1)

    @property
    def conv_heads(self) -> int:
        """Span-based dynamic convolution heads: as many as attention heads."""
        return self.attention_heads

    @property
    def attention_head_size(self) -> int:
        return self.hidden_size // self.attention_heads // 2

    # ----- checks ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError naming the first field that cannot work."""
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "max_position_embeddings", "type_vocab_size", "embedding_size", "head_ratio",
                     "conv_kernel_size", "num_groups"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ConvBertConfig: {name} must be a positive integer, got {value!r}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            _check_probability(name, getattr(self, name))
        if self.classifier_dropout is not None:
            _check_probability("classifier_dropout", self.classifier_dropout)
        if not (isinstance(self.layer_norm_eps, (int, float)) and self.layer_norm_eps > 0):
            raise ValueError(f"ConvBertConfig: layer_norm_eps must be positive, got {self.layer_norm_eps!r}")
        heads = self.attention_heads
        if self.hidden_size % (2 * heads):
            raise ValueError(
                f"ConvBertConfig: hidden_size {self.hidden_size} must split into {heads} attention heads and "
                f"{heads} convolution heads of equal size, so it must be divisible by 2 * {heads} = {2 * heads} "
                f"(attention heads = num_attention_heads {self.num_attention_heads} // head_ratio {self.head_ratio}, "
                f"at least 1)"
            )
        if self.conv_kernel_size % 2 == 0:
            raise ValueError(
                f"ConvBertConfig: conv_kernel_size must be odd, got {self.conv_kernel_size}: the span is centred "
                f"on each token, with (K - 1) / 2 positions on each side; with an even K the reference's two "
                f"paddings (K // 2 in the key convolution, (K - 1) // 2 in the span) disagree and it crashes"
            )
        if self.hidden_size % self.num_groups or self.intermediate_size % self.num_groups:
            raise ValueError(
                f"ConvBertConfig: num_groups {self.num_groups} must divide hidden_size {self.hidden_size} and "
                f"intermediate_size {self.intermediate_size} (the grouped feed-forward splits both)"
            )
        if not callable(self.hidden_act) and self.hidden_act not in ACTIVATIONS:
            raise ValueError(
                f"ConvBertConfig: unknown hidden_act {self.hidden_act!r}; use one of {list(ACTIVATIONS)} or a callable"
            )
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"ConvBertConfig: pad_token_id {self.pad_token_id} is outside [0, {self.vocab_size})")
        if self.problem_type not in _PROBLEM_TYPES:
            raise ValueError(f"ConvBertConfig: problem_type must be one of {_PROBLEM_TYPES}, got {self.problem_type!r}")
        if self.is_decoder or self.add_cross_attention:
            raise ValueError("ConvBertConfig: is_decoder / add_cross_attention are not supported (encoder only)")

    # ----- presets and files -----------------------------------------------------------------
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

    @classmethod
    def from_dict(cls, data: dict) -> "ConvBertConfig":
        data = dict(data)
        model_type = data.pop("model_type", cls.model_type)
        if model_type != cls.model_type:
            raise ValueError(f"ConvBertConfig: config has model_type {model_type!r}, expected 'convbert'")
        return cls(**data)

    def save_pretrained(self, directory) -> str:
        """Write `directory/config.json` (atomically); returns its path."""
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "config.json")
        with atomic_write(path) as f:
            f.write(self.to_json_string().encode("utf-8"))
        return path

    @classmethod
    def from_pretrained(cls, path, **overrides) -> "ConvBertConfig":
        """Read a config.json, or the config.json inside a directory."""
        path = os.fspath(path)
        file = os.path.join(path, "config.json") if os.path.isdir(path) else path
        try:
            with open(file, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"ConvBertConfig.from_pretrained: no config.json at {file}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"ConvBertConfig.from_pretrained: {file} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f"ConvBertConfig.from_pretrained: {file} must hold a JSON object")
        if "num_labels" in overrides and "id2label" not in overrides:  # new labels replace the file's
            data.pop("id2label", None)
            data.pop("label2id", None)
        data.update(overrides)
        return cls.from_dict(data)

    def __eq__(self, other) -> bool:
        return isinstance(other, ConvBertConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"ConvBertConfig {self.to_json_string()}"


def _check_probability(name, value):
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"ConvBertConfig: {name} must be a probability in [0, 1], got {value!r}")


def _labels(num_labels, id2label, label2id):
    """(id2label with int keys, label2id) as transformers builds them; 2 labels by default."""
    if id2label is not None:
        id2label = {int(k): v for k, v in id2label.items()}
        if num_labels is not None and num_labels != len(id2label):
            raise ValueError(f"ConvBertConfig: num_labels {num_labels} disagrees with id2label of {len(id2label)}")
    else:
        n = 2 if num_labels is None else num_labels
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"ConvBertConfig: num_labels must be a positive integer, got {n!r}")
        id2label = {i: f"LABEL_{i}" for i in range(n)}
    if label2id is None:
        label2id = {v: k for k, v in id2label.items()}
    return id2label, {k: int(v) for k, v in label2id.items()}
