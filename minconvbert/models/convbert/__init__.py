"""ConvBERT: configuration, the encoder, the five task models (transformers' names and numbers), their
TFConvBert* twins (TF calling conventions, tf_model.h5), and the original release's TF1 checkpoints."""

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
from minconvbert.models.convbert.tf1_weights import load_tf_weights_in_convbert
from minconvbert.models.convbert.tf_modeling import (
    TFConvBertForMaskedLM,
    TFConvBertForMultipleChoice,
    TFConvBertForQuestionAnswering,
    TFConvBertForSequenceClassification,
    TFConvBertForTokenClassification,
    TFConvBertModel,
    TFConvBertPreTrainedModel,
)

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
    "TFConvBertPreTrainedModel",
    "TFConvBertModel",
    "TFConvBertForMaskedLM",
    "TFConvBertForSequenceClassification",
    "TFConvBertForMultipleChoice",
    "TFConvBertForTokenClassification",
    "TFConvBertForQuestionAnswering",
    "load_tf_weights_in_convbert",
]
