"""minconvbert: ConvBERT from scratch in NumPy, readable end to end and equal to the reference.

    import minconvbert as mcb
    x = mcb.Tensor([[1.0, 2.0]], requires_grad=True)
    mcb.functional.gelu(x).sum().backward()
    mcb.gradcheck(mcb.functional.gelu, [mcb.Tensor([0.3, -1.2], requires_grad=True, dtype="float64")])
"""

from minconvbert import functional, nn
from minconvbert.backend import backend, get_backend, set_default_backend
from minconvbert.models.convbert import (
    ConvBertConfig,
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
    ConvBertModel,
    ConvBertPreTrainedModel,
)
from minconvbert.random import manual_seed
from minconvbert.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from minconvbert.threads import get_num_threads, set_num_threads
from minconvbert.testing import GradcheckError, assert_close, gradcheck
from minconvbert.tokenizer import BatchEncoding, ConvBertTokenizer, ConvBertTokenizerFast

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "gradcheck",
    "GradcheckError",
    "assert_close",
    "backend",
    "get_backend",
    "set_default_backend",
    "set_num_threads",
    "get_num_threads",
    "manual_seed",
    "functional",
    "nn",
    "ConvBertConfig",
    "ConvBertPreTrainedModel",
    "ConvBertModel",
    "ConvBertForMaskedLM",
    "ConvBertForSequenceClassification",
    "ConvBertForMultipleChoice",
    "ConvBertForTokenClassification",
    "ConvBertForQuestionAnswering",
    "ConvBertTokenizer",
    "ConvBertTokenizerFast",
    "BatchEncoding",
]
