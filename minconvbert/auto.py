"""transformers' Auto entry points, for the one architecture minconvbert implements.

    AutoConfig.from_pretrained(name)                      -> ConvBertConfig
    AutoTokenizer.from_pretrained(name, use_fast=True)    -> ConvBertTokenizerFast (ConvBertTokenizer if not use_fast)
    AutoModel / AutoModelForMaskedLM / ...ForSequenceClassification / ...ForMultipleChoice /
    ...ForTokenClassification / ...ForQuestionAnswering .from_pretrained(name) / .from_config(config)

`name` is anything from_pretrained takes (a directory, "minconvbert/nano", a hub id). A checkpoint of
another architecture (config.json's model_type, tokenizer_config.json's tokenizer_class) is refused
with an error naming it, before any weights are read.
"""

from __future__ import annotations

import os

from minconvbert.io import hub
from minconvbert.models import convbert
from minconvbert.models.convbert.config import ConvBertConfig, read_json
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast

__all__ = [
    "AutoConfig", "AutoTokenizer", "AutoModel", "AutoModelForMaskedLM", "AutoModelForSequenceClassification",
    "AutoModelForMultipleChoice", "AutoModelForTokenClassification", "AutoModelForQuestionAnswering",
]  # fmt: skip

_LOADER_ARGS = ("subfolder", "cache_dir", "local_files_only", "revision", "force_download")
# WordPiece tokenizers that ConvBERT's tokenizer reads exactly (transformers' ConvBertTokenizer is BERT's).
_WORDPIECE_TOKENIZERS = {"ConvBertTokenizer", "BertTokenizer", "ElectraTokenizer"}


def _directory(name, kwargs: dict, **resolve) -> str:
    """The checkpoint directory for `name`, with transformers' loader arguments taken from kwargs (not popped)."""
    loader = {k: kwargs[k] for k in _LOADER_ARGS if k in kwargs}
    return hub.resolve_checkpoint(name, revision=loader.get("revision"), cache_dir=loader.get("cache_dir"),
                                  subfolder=loader.get("subfolder", ""),
                                  download=not loader.get("local_files_only", False),
                                  force_download=loader.get("force_download", False), **resolve)


def _model_type(directory, who: str, name) -> str | None:
    path = os.path.join(directory, "config.json")
    if not os.path.isfile(path):
        return None
    model_type = read_json(path, who).get("model_type")
    if model_type != ConvBertConfig.model_type:
        raise ValueError(f"{who}: checkpoint {str(name)!r} is a {model_type!r} model (config.json's model_type); "
                         "minconvbert implements ConvBERT only (model_type 'convbert')")
    return model_type


class _Factory:
    """An Auto class is a factory: it has classmethods and no instances."""

    def __init__(self):
        raise TypeError(f"{type(self).__name__} is not instantiated: use {type(self).__name__}.from_pretrained(name)")


class AutoConfig(_Factory):
    """The configuration of a ConvBERT checkpoint (the only model_type minconvbert knows)."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs) -> ConvBertConfig:
        if not os.path.isfile(os.fspath(pretrained_model_name_or_path)):
            directory = _directory(pretrained_model_name_or_path, kwargs, weights=False)
            _model_type(directory, "AutoConfig.from_pretrained", pretrained_model_name_or_path)
        return ConvBertConfig.from_pretrained(pretrained_model_name_or_path, **kwargs)

    @classmethod
    def for_model(cls, model_type: str, **kwargs) -> ConvBertConfig:
        if model_type != ConvBertConfig.model_type:
            raise ValueError(f"AutoConfig.for_model: unknown model_type {model_type!r}; minconvbert has 'convbert'")
        return ConvBertConfig(**kwargs)


class AutoTokenizer(_Factory):
    """The tokenizer of a checkpoint holding a WordPiece vocab.txt (ConvBERT's and BERT's)."""

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *, use_fast: bool = True, **kwargs):
        """ConvBertTokenizerFast (or ConvBertTokenizer with use_fast=False) from the checkpoint's files;
        other keyword arguments are the tokenizer's (do_lower_case=False, model_max_length=..., ...)."""
        who = "AutoTokenizer.from_pretrained"
        directory = _directory(pretrained_model_name_or_path, kwargs, required=("vocab.txt",), weights=False)
        settings = os.path.join(directory, "tokenizer_config.json")
        declared = read_json(settings, who).get("tokenizer_class") if os.path.isfile(settings) else None
        if declared is not None and str(declared).removesuffix("Fast") not in _WORDPIECE_TOKENIZERS:
            raise ValueError(f"{who}: checkpoint {str(pretrained_model_name_or_path)!r} uses the tokenizer "
                             f"{declared!r}; minconvbert has ConvBERT's WordPiece tokenizers only "
                             f"({sorted(_WORDPIECE_TOKENIZERS)} and their Fast versions)")
        if declared is None:
            _model_type(directory, who, pretrained_model_name_or_path)
        tokenizer_class = ConvBertTokenizerFast if use_fast else ConvBertTokenizer
        own = {k: v for k, v in kwargs.items() if k not in _LOADER_ARGS}
        return tokenizer_class.from_pretrained(directory, **own)


class _AutoModel(_Factory):
    """from_pretrained / from_config for one ConvBERT class (`_model_class`)."""

    _model_class = "ConvBertModel"

    @classmethod
    def model_class(cls):
        return getattr(convbert, cls._model_class)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """`_model_class`.from_pretrained(...) after checking that the checkpoint is a ConvBERT one."""
        if pretrained_model_name_or_path is not None and kwargs.get("config") is None:
            directory = _directory(pretrained_model_name_or_path, kwargs, weights=False)
            _model_type(directory, f"{cls.__name__}.from_pretrained", pretrained_model_name_or_path)
        return cls.model_class().from_pretrained(pretrained_model_name_or_path, **kwargs)

    @classmethod
    def from_config(cls, config, **kwargs):
        """A freshly initialised model for `config` (kwargs: the model's own, e.g. rng=0)."""
        if not isinstance(config, ConvBertConfig):
            raise ValueError(f"{cls.__name__}.from_config: expected a ConvBertConfig, got {type(config).__name__}")
        return cls.model_class()(config, **kwargs)


class AutoModel(_AutoModel):
    _model_class = "ConvBertModel"


class AutoModelForMaskedLM(_AutoModel):
    _model_class = "ConvBertForMaskedLM"


class AutoModelForSequenceClassification(_AutoModel):
    _model_class = "ConvBertForSequenceClassification"


class AutoModelForMultipleChoice(_AutoModel):
    _model_class = "ConvBertForMultipleChoice"


class AutoModelForTokenClassification(_AutoModel):
    _model_class = "ConvBertForTokenClassification"


class AutoModelForQuestionAnswering(_AutoModel):
    _model_class = "ConvBertForQuestionAnswering"
