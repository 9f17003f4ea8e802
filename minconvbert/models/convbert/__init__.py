"""ConvBERT: configuration, the encoder, and the five task models (transformers' names and numbers)."""

from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.heads import (
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
    ConvBertTaskModel,
)
from minconvbert.models.convbert.modeling import ConvBertModel, ConvBertPreTrainedModel

__all__ = [
    "ConvBertConfig",
    "ConvBertPreTrainedModel",
    "ConvBertModel",
    "ConvBertTaskModel",
    "ConvBertForMaskedLM",
    "ConvBertForSequenceClassification",
    "ConvBertForMultipleChoice",
    "ConvBertForTokenClassification",
    "ConvBertForQuestionAnswering",
]
