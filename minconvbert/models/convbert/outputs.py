"""Output records of the ConvBERT models, with transformers' field names.

Fields are read as attributes (`out.logits`), by name (`out["logits"]`) or by position over the
fields that are set (`out[0]`), as with transformers' ModelOutput.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from minconvbert.tensor import Tensor

__all__ = [
    "ModelOutput", "BaseModelOutput", "LogitsOutput", "MaskedLMOutput", "SequenceClassifierOutput", "MultipleChoiceModelOutput",
    "TokenClassifierOutput", "QuestionAnsweringModelOutput",
]  # fmt: skip


@dataclass
class ModelOutput:
    def to_tuple(self) -> tuple:
        """The fields that are not None, in order."""
        return tuple(getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None)

    def keys(self) -> list:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key):
        return getattr(self, key) if isinstance(key, str) else self.to_tuple()[key]


@dataclass
class BaseModelOutput(ModelOutput):
    """last_hidden_state (B, T, hidden); hidden_states: num_layers + 1 of (B, T, hidden);
    attentions: per layer (B, attention heads, T, T); conv_kernels: per layer (B, conv heads, T, K)."""

    last_hidden_state: Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    conv_kernels: tuple | None = None


@dataclass
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


@dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    """loss (scalar), start_logits (B, T), end_logits (B, T)."""

    loss: Tensor | None = None
    start_logits: Tensor | None = None
    end_logits: Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    conv_kernels: tuple | None = None
