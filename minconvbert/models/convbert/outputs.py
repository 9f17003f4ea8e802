"""Output records of the ConvBERT models, with transformers' field names and ModelOutput's behaviour.

An output is a mapping of the fields that are set (not None), in declaration order:

    out.logits          out["logits"]        out[0]          (attribute, name, position)
    list(out)           out.keys()           len(out)        dict(out)        out.to_tuple()

`return_dict=False` (or `config.return_dict = False`) makes a model return `out.to_tuple()` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from minconvbert.tensor import Tensor

__all__ = [
    "ModelOutput", "BaseModelOutput", "LogitsOutput", "MaskedLMOutput", "SequenceClassifierOutput",
    "MultipleChoiceModelOutput", "TokenClassifierOutput", "QuestionAnsweringModelOutput",
]  # fmt: skip


@dataclass(eq=False)
class ModelOutput:
    """Base of every output: a read-mostly mapping over the fields that are not None."""

    def keys(self) -> list:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def values(self) -> list:
        return [getattr(self, k) for k in self.keys()]

    def items(self) -> list:
        return [(k, getattr(self, k)) for k in self.keys()]

    def to_tuple(self) -> tuple:
        """The fields that are not None, in order (what return_dict=False returns)."""
        return tuple(self.values())

    def get(self, key, default=None):
        return getattr(self, key) if key in self.keys() else default

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.keys():
                raise KeyError(f"{type(self).__name__} has no field {key!r} set; set fields: {self.keys()}")
            return getattr(self, key)
        return self.to_tuple()[key]

    def __setitem__(self, key, value) -> None:
        if key not in {f.name for f in fields(self)}:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        setattr(self, key, value)

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


Mapping.register(ModelOutput)  # isinstance(out, Mapping) holds, as for transformers' OrderedDict-based outputs


@dataclass(eq=False)
class BaseModelOutput(ModelOutput):
    """last_hidden_state (B, T, hidden); hidden_states: num_layers + 1 of (B, T, hidden);
    attentions: per layer (B, attention heads, T, T); conv_kernels: per layer (B, conv heads, T, K)."""

    last_hidden_state: Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    conv_kernels: tuple | None = None


@dataclass(eq=False)
class LogitsOutput(ModelOutput):
    """loss (scalar, when labels are given) and logits, plus the encoder's optional records."""

    loss: Tensor | None = None
    logits: Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    conv_kernels: tuple | None = None


class MaskedLMOutput(LogitsOutput):
    """logits (B, T, vocab)."""


class SequenceClassifierOutput(LogitsOutput):
    """logits (B, num_labels)."""


class MultipleChoiceModelOutput(LogitsOutput):
    """logits (B, num_choices)."""


class TokenClassifierOutput(LogitsOutput):
    """logits (B, T, num_labels)."""


@dataclass(eq=False)
class QuestionAnsweringModelOutput(ModelOutput):
    """loss (scalar), start_logits (B, T), end_logits (B, T)."""

    loss: Tensor | None = None
    start_logits: Tensor | None = None
    end_logits: Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    conv_kernels: tuple | None = None
