"""pipeline(task, model=...): transformers' pipelines for the five tasks a ConvBERT checkpoint serves.

    from minconvbert import pipeline
    fill_masker = pipeline("fill-mask", model="minconvbert/nano")
    fill_masker("The [MASK] function returns a list.")

Tasks (and transformers' aliases): "fill-mask", "feature-extraction", "text-classification"
("sentiment-analysis"), "token-classification" ("ner"), "question-answering". Without a task, the
checkpoint's config.json decides (its `architectures`, as in transformers). `model` is a name or
path (loaded with the task's model class; `dtype` is passed on) or a model object; `tokenizer` is
loaded from the same checkpoint unless given. Other keyword arguments become the pipeline's default
options (top_k=3, aggregation_strategy="simple", ...).
"""

from __future__ import annotations

import os

from minconvbert import auto
from minconvbert.interop import check_device
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.pipelines.base import Pipeline
from minconvbert.pipelines.feature_extraction import FeatureExtractionPipeline
from minconvbert.pipelines.fill_mask import FillMaskPipeline
from minconvbert.pipelines.question_answering import QuestionAnsweringPipeline
from minconvbert.pipelines.text_classification import TextClassificationPipeline
from minconvbert.pipelines.token_classification import TokenClassificationPipeline

__all__ = ["pipeline", "Pipeline", "FillMaskPipeline", "FeatureExtractionPipeline", "TextClassificationPipeline",
           "TokenClassificationPipeline", "QuestionAnsweringPipeline", "TASKS"]

# task -> (pipeline class, the Auto class that loads its model)
TASKS = {
    "fill-mask": (FillMaskPipeline, auto.AutoModelForMaskedLM),
    "feature-extraction": (FeatureExtractionPipeline, auto.AutoModel),
    "text-classification": (TextClassificationPipeline, auto.AutoModelForSequenceClassification),
    "token-classification": (TokenClassificationPipeline, auto.AutoModelForTokenClassification),
    "question-answering": (QuestionAnsweringPipeline, auto.AutoModelForQuestionAnswering),
}
_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification"}
_TASK_OF_CLASS = {auto_class._model_class: task for task, (_, auto_class) in TASKS.items()}


def pipeline(task: str | None = None, model=None, tokenizer=None, device=None, dtype=None, **options) -> Pipeline:
    """A ready pipeline for `task` (see the module docstring); device must be the CPU (None, "cpu" or -1)."""
    check_device(device)
    if model is None:
        raise ValueError("pipeline: pass model= (a checkpoint name or path such as 'minconvbert/nano', or a model); "
                         "minconvbert has no default model per task")
    if task is None:
        task = _task_of(model)
    task = _ALIASES.get(task, task)
    if task not in TASKS:
        raise KeyError(f"pipeline: unknown task {task!r}; minconvbert has {sorted(TASKS) + sorted(_ALIASES)}")
    pipeline_class, auto_class = TASKS[task]
    source = model
    if isinstance(model, (str, os.PathLike)):
        model = auto_class.from_pretrained(model, **({} if dtype is None else {"dtype": dtype}))
    elif dtype is not None:
        model = model.to(dtype)
    if tokenizer is None:
        source = source if isinstance(source, (str, os.PathLike)) else getattr(model, "name_or_path", None)
        if source is None:
            raise ValueError("pipeline: pass tokenizer= (the model object does not say where it was loaded from)")
        tokenizer = auto.AutoTokenizer.from_pretrained(source)
    elif isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = auto.AutoTokenizer.from_pretrained(tokenizer)
    return pipeline_class(model, tokenizer, **options)


def _task_of(model) -> str:
    """The task of a checkpoint (its config's first architecture) or of a model object (its class)."""
    if isinstance(model, (str, os.PathLike)):
        architectures = getattr(auto.AutoConfig.from_pretrained(model), "architectures", None) or []
    elif isinstance(getattr(model, "config", None), ConvBertConfig):
        architectures = [type(model).__name__]
    else:
        raise TypeError(f"pipeline: model must be a checkpoint name or path or a ConvBERT model, got "
                        f"{type(model).__name__}")
    for name in architectures:
        if name in _TASK_OF_CLASS:
            return _TASK_OF_CLASS[name]
    raise ValueError(f"pipeline: cannot tell the task from the architectures {architectures}; pass task=")
