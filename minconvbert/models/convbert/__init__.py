"""ConvBERT: configuration, the encoder, and the five task models (transformers' names and numbers)."""

from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.heads import (
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
)
from minconvbert.models.convbert.modeling import ConvBertModel, ConvBertPreTrainedModel

__all__ = [
    "ConvBertConfig",
    "ConvBertPreTrainedModel",
    "ConvBertModel",
    "ConvBertForMaskedLM",
    "ConvBertForSequenceClassification",
    "ConvBertForMultipleChoice",
    "ConvBertForTokenClassification",
    "ConvBertForQuestionAnswering",
]
