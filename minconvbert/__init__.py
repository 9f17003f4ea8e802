"""minconvbert: ConvBERT from scratch in NumPy, readable end to end and equal to the reference.

    import minconvbert as mcb
    x = mcb.Tensor([[1.0, 2.0]], requires_grad=True)
    mcb.functional.gelu(x).sum().backward()
    mcb.gradcheck(mcb.functional.gelu, [mcb.Tensor([0.3, -1.2], requires_grad=True, dtype="float64")])

transformers' entry points work the same way (`from minconvbert import AutoTokenizer, AutoModel,
pipeline`); see docs/coming-from-transformers.md. The heavier subpackages (optim, train, viz,
analysis, pipelines, ...) are imported on first use, so `import minconvbert` stays fast while
`mcb.optim.AdamW` works without an import of its own.
"""

import importlib

from minconvbert import functional, nn
from minconvbert.auto import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)
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
    TFConvBertForMaskedLM,
    TFConvBertForMultipleChoice,
    TFConvBertForQuestionAnswering,
    TFConvBertForSequenceClassification,
    TFConvBertForTokenClassification,
    TFConvBertModel,
)
from minconvbert.random import manual_seed
from minconvbert.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from minconvbert.threads import get_num_threads, set_num_threads
from minconvbert.testing import GradcheckError, assert_close, gradcheck
from minconvbert.tokenizer import BatchEncoding, ConvBertTokenizer, ConvBertTokenizerFast

__version__ = "0.1.0"

# Imported on first access (module __getattr__): subpackages, and names that live in them.
_SUBMODULES = ("analysis", "data", "grade", "inference", "io", "optim", "pipelines", "train", "viz")
_LAZY_NAMES = {
    "pipeline": "minconvbert.pipelines",
    "get_scheduler": "minconvbert.optim.schedules",
    "get_constant_schedule": "minconvbert.optim.schedules",
    "get_constant_schedule_with_warmup": "minconvbert.optim.schedules",
    "get_linear_schedule_with_warmup": "minconvbert.optim.schedules",
    "get_cosine_schedule_with_warmup": "minconvbert.optim.schedules",
    "get_polynomial_decay_schedule_with_warmup": "minconvbert.optim.schedules",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"minconvbert.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'minconvbert' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_LAZY_NAMES))


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
    "TFConvBertModel",
    "TFConvBertForMaskedLM",
    "TFConvBertForSequenceClassification",
    "TFConvBertForMultipleChoice",
    "TFConvBertForTokenClassification",
    "TFConvBertForQuestionAnswering",
    "ConvBertTokenizer",
    "ConvBertTokenizerFast",
    "BatchEncoding",
    "AutoConfig",
    "AutoTokenizer",
    "AutoModel",
    "AutoModelForMaskedLM",
    "AutoModelForSequenceClassification",
    "AutoModelForMultipleChoice",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "pipeline",
    "get_scheduler",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
]
