"""The five task models of transformers' ConvBERT, each a ConvBertModel (`convbert.`) plus a head.

- ConvBertForMaskedLM:                 dense -> GELU -> LayerNorm -> LM head tied to the word embeddings
- ConvBertForSequenceClassification:   first token -> dropout -> dense -> act -> dropout -> out_proj
- ConvBertForMultipleChoice:           each choice encoded; the LAST position's state -> Linear(C, 1)
- ConvBertForTokenClassification:      dropout -> Linear(C, num_labels) at every position
- ConvBertForQuestionAnswering:        Linear(C, 2) -> start / end logits
Losses follow the reference exactly (ignore_index -100; QA positions clamped to [0, T], T ignored).
"""

from __future__ import annotations

import numpy as np

from minconvbert import functional as F
from minconvbert import nn
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.layers import get_activation
from minconvbert.models.convbert.modeling import ConvBertModel, ConvBertPreTrainedModel
from minconvbert.models.convbert.outputs import (
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from minconvbert.nn import init
from minconvbert.tensor import Tensor

__all__ = [
    "ConvBertForMaskedLM", "ConvBertForSequenceClassification", "ConvBertForMultipleChoice",
    "ConvBertForTokenClassification", "ConvBertForQuestionAnswering",
]  # fmt: skip

_ENCODER_ARGS = ("attention_mask", "token_type_ids", "position_ids", "inputs_embeds", "head_mask",
                 "conv_head_mask", "output_attentions", "output_hidden_states", "output_conv_kernels")


def _records(outputs) -> dict:
    """The encoder's optional records, to pass on into a head's output."""
    return dict(hidden_states=outputs.hidden_states, attentions=outputs.attentions,
                conv_kernels=outputs.conv_kernels)


def _array(value):
    return np.asarray(value.data if isinstance(value, Tensor) else value)


class _TaskModel(ConvBertPreTrainedModel):
    """A ConvBertModel under the name `convbert`, with a head added by the subclass.

    A subclass builds its head inside `init.deferred()` and ends its __init__ with
    `self.post_init(rng)`, so that the whole model (encoder included) is initialised once.
    """

    def __init__(self, config: ConvBertConfig):
        super().__init__(config)
        with init.deferred():
            self.convbert = ConvBertModel(config)

    def _encode(self, input_ids, kwargs):
        unknown = set(kwargs) - set(_ENCODER_ARGS)
        if unknown:
            raise TypeError(f"{type(self).__name__}.forward: unexpected arguments {sorted(unknown)}")
        return self.convbert(input_ids, **kwargs)


class ConvBertGeneratorPredictions(nn.Module):
    """LayerNorm(gelu(dense(h))): (B, T, C) -> (B, T, E). Always the exact GELU, whatever hidden_act says."""

    def __init__(self, config):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)

    def forward(self, hidden_states):
        return self.LayerNorm(F.gelu(self.dense(hidden_states)))


class ConvBertForMaskedLM(_TaskModel):
    """Masked-token prediction (the ELECTRA generator). logits (B, T, vocab); the LM head's weight IS the
    word-embedding matrix (tied), so the model has one (vocab, E) matrix."""

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        with init.deferred():
            self.generator_predictions = ConvBertGeneratorPredictions(config)
            self.generator_lm_head = nn.Linear(config.embedding_size, config.vocab_size)
        self.tie_weights()
        self.post_init(rng)

    def tie_weights(self) -> None:
        """Make generator_lm_head.weight the same Parameter as the word embeddings (as the reference ties them)."""
        self.generator_lm_head.weight = self.convbert.embeddings.word_embeddings.weight

    def forward(self, input_ids=None, labels=None, **kwargs) -> MaskedLMOutput:
        """labels (B, T): the token id to predict, or -100 where no prediction is scored."""
        outputs = self._encode(input_ids, kwargs)
        prediction = self.generator_predictions(outputs.last_hidden_state)  # (B, T, E)
        logits = self.generator_lm_head(prediction)  # (B, T, vocab)
        loss = None
        if labels is not None:
            labels = _array(labels)
            if labels.shape != logits.shape[:2]:
                raise ValueError(f"labels: expected shape {logits.shape[:2]}, got {labels.shape}")
            loss = F.cross_entropy(logits.reshape(-1, self.config.vocab_size), labels.reshape(-1))
        return MaskedLMOutput(loss=loss, logits=logits, **_records(outputs))


class ConvBertClassificationHead(nn.Module):
    """out_proj(dropout(act(dense(dropout(h[:, 0]))))): (B, T, C) -> (B, num_labels)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)
        self.activation = get_activation(config.hidden_act)

    def forward(self, hidden_states):
        x = self.dropout(hidden_states[:, 0, :])  # (B, C): the first token ([CLS])
        x = self.dropout(self.activation(self.dense(x)))  # (B, C)
        return self.out_proj(x)  # (B, num_labels)


class ConvBertForSequenceClassification(_TaskModel):
    """One label (or a regression value, or several labels) per sequence.

    The loss depends on config.problem_type; when it is None it is inferred on the first call with
    labels and stored in the config, as the reference does: "regression" (MSE) if num_labels == 1,
    "single_label_classification" (cross-entropy) for integer labels, else
    "multi_label_classification" (BCE with logits on float labels (B, num_labels)).
    """

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        with init.deferred():
            self.classifier = ConvBertClassificationHead(config)
        self.post_init(rng)

    def forward(self, input_ids=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        outputs = self._encode(input_ids, kwargs)
        logits = self.classifier(outputs.last_hidden_state)  # (B, num_labels)
        loss = None if labels is None else self._loss(logits, _array(labels))
        return SequenceClassifierOutput(loss=loss, logits=logits, **_records(outputs))

    def _loss(self, logits, labels):
        config, n = self.config, self.config.num_labels
        if config.problem_type is None:
            if n == 1:
                config.problem_type = "regression"
            elif labels.dtype.kind in "iu":
                config.problem_type = "single_label_classification"
            else:
                config.problem_type = "multi_label_classification"
        if config.problem_type == "regression":
            labels = labels.astype(logits.dtype)
            if n == 1:
                return F.mse_loss(logits.reshape(-1), labels.reshape(-1))
            return F.mse_loss(logits, labels)
        if config.problem_type == "single_label_classification":
            return F.cross_entropy(logits.reshape(-1, n), labels.reshape(-1))
        return F.binary_cross_entropy_with_logits(logits, labels.astype(logits.dtype))


class ConvBertForMultipleChoice(_TaskModel):
    """Scores num_choices candidate sequences per example: inputs (B, num_choices, T) -> logits (B, num_choices).

    As in the reference, each choice is summarised by its LAST position's hidden state (which may be
    padding), with no projection, then Linear(C, 1).
    """

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        summary_type = getattr(config, "summary_type", "last")
        if summary_type not in ("last", "first", "mean") or getattr(config, "summary_use_proj", False):
            raise ValueError(
                f"ConvBertForMultipleChoice: only summary_type 'last' (the default), 'first' or 'mean' without "
                f"summary_use_proj is supported, got summary_type={summary_type!r}"
            )
        self.summary_type = summary_type
        with init.deferred():
            self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init(rng)

    def forward(self, input_ids=None, labels=None, **kwargs) -> MultipleChoiceModelOutput:
        """input_ids / attention_mask / token_type_ids / position_ids (B, num_choices, T); inputs_embeds
        (B, num_choices, T, E); labels (B,) the index of the right choice."""
        source = input_ids if input_ids is not None else kwargs.get("inputs_embeds")
        if source is None:
            raise ValueError("ConvBertForMultipleChoice: pass input_ids (B, num_choices, T) or inputs_embeds")
        shape = source.shape
        depth = 3 if input_ids is not None else 4
        if len(shape) != depth:
            raise ValueError(f"ConvBertForMultipleChoice: expected {depth} dimensions (B, num_choices, T...), got {shape}")
        num_choices = shape[1]
        if input_ids is not None:
            input_ids = _array(input_ids).reshape(-1, shape[-1])  # (B * choices, T)
        for name in ("attention_mask", "token_type_ids", "position_ids"):
            if kwargs.get(name) is not None:
                value = _array(kwargs[name])
                kwargs[name] = value.reshape(-1, value.shape[-1])  # (B * choices, T)
        if kwargs.get("inputs_embeds") is not None:
            embeds = kwargs["inputs_embeds"]
            embeds = embeds if isinstance(embeds, Tensor) else Tensor(np.asarray(embeds, dtype=self.dtype))
            kwargs["inputs_embeds"] = embeds.reshape(-1, shape[2], shape[3])  # (B * choices, T, E)
        outputs = self._encode(input_ids, kwargs)
        hidden = outputs.last_hidden_state  # (B * choices, T, C)
        if self.summary_type == "last":
            pooled = hidden[:, -1]  # (B * choices, C)
        elif self.summary_type == "first":
            pooled = hidden[:, 0]
        else:
            pooled = hidden.mean(axis=1)
        logits = self.classifier(pooled).reshape(-1, num_choices)  # (B, choices)
        loss = None if labels is None else F.cross_entropy(logits, _array(labels).reshape(-1))
        return MultipleChoiceModelOutput(loss=loss, logits=logits, **_records(outputs))


class ConvBertForTokenClassification(_TaskModel):
    """A label per token: logits (B, T, num_labels); labels (B, T) with -100 where not scored."""

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        with init.deferred():
            self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init(rng)

    def forward(self, input_ids=None, labels=None, **kwargs) -> TokenClassifierOutput:
        outputs = self._encode(input_ids, kwargs)
        logits = self.classifier(self.dropout(outputs.last_hidden_state))  # (B, T, num_labels)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, self.config.num_labels), _array(labels).reshape(-1))
        return TokenClassifierOutput(loss=loss, logits=logits, **_records(outputs))


class ConvBertForQuestionAnswering(_TaskModel):
    """Extractive QA: start_logits and end_logits (B, T) from Linear(C, 2).

    Loss: mean of the start and end cross-entropies; positions are clamped to [0, T] and T is
    ignored, so answers outside the input add nothing (as in the reference).
    """

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        if config.num_labels != 2:
            raise ValueError(
                f"ConvBertForQuestionAnswering: num_labels must be 2 (start and end), got {config.num_labels}"
            )
        with init.deferred():
            self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init(rng)

    def forward(self, input_ids=None, start_positions=None, end_positions=None, **kwargs):
        outputs = self._encode(input_ids, kwargs)
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = (x.squeeze(-1) for x in logits.split(1, axis=-1))  # (B, T) each
        loss = None
        if start_positions is not None and end_positions is not None:
            seq = start_logits.shape[1]
            start = np.clip(_array(start_positions).reshape(-1), 0, seq)  # (B,)
            end = np.clip(_array(end_positions).reshape(-1), 0, seq)
            start_loss = F.cross_entropy(start_logits, start, ignore_index=seq)
            end_loss = F.cross_entropy(end_logits, end, ignore_index=seq)
            loss = (start_loss + end_loss) / 2
        return QuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                            **_records(outputs))
