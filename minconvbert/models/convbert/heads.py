"""The five task models of transformers' ConvBERT, each a ConvBertModel (`convbert.`) plus a head.

- ConvBertForMaskedLM:                 dense -> GELU -> LayerNorm -> LM head tied to the word embeddings
- ConvBertForSequenceClassification:   first token -> dropout -> dense -> act -> dropout -> out_proj
- ConvBertForMultipleChoice:           each choice encoded; the LAST position's state -> Linear(C, 1)
- ConvBertForTokenClassification:      dropout -> Linear(C, num_labels) at every position
- ConvBertForQuestionAnswering:        Linear(C, 2) -> start / end logits
Losses follow the reference exactly (ignore_index -100; QA positions clamped to [0, T], T ignored).
Each forward takes transformers' arguments in transformers' order, then `**options`
(output_attentions, output_hidden_states, return_dict, conv_head_mask, output_conv_kernels).
"""

from __future__ import annotations

import numpy as np

from minconvbert import functional as F
from minconvbert import nn
from minconvbert.models.convbert.checks import input_array
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
    "ConvBertTaskModel", "ConvBertForMaskedLM", "ConvBertForSequenceClassification", "ConvBertForMultipleChoice",
    "ConvBertForTokenClassification", "ConvBertForQuestionAnswering", "classifier_dropout",
]  # fmt: skip

_OPTIONS = ("output_attentions", "output_hidden_states", "return_dict", "conv_head_mask", "output_conv_kernels")


def classifier_dropout(config) -> float:
    """The dropout before a classifier: config.classifier_dropout, or hidden_dropout_prob when it is None."""
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


class ConvBertTaskModel(ConvBertPreTrainedModel):
    """A ConvBertModel under the name `convbert`, with a head added by the subclass: the base of every task
    model. A new head is one subclass: build the head inside `init.deferred()`, end __init__ with
    `self.post_init(rng)` (the whole model is then initialised once, as the reference does), and in
    forward call `self.encode(...)` and wrap the result with `self._output(...)`:

    >>> from minconvbert.models.convbert.outputs import LogitsOutput
    >>> class ConvBertForTokenScore(ConvBertTaskModel):
    ...     def __init__(self, config, rng=None):
    ...         super().__init__(config)
    ...         with init.deferred():
    ...             self.score = nn.Linear(config.hidden_size, 1)
    ...         self.post_init(rng)
    ...
    ...     def forward(self, input_ids=None, attention_mask=None, **options):
    ...         out = self.encode(input_ids, attention_mask, options=options)
    ...         logits = self.score(out.last_hidden_state).squeeze(-1)  # (B, T)
    ...         return self._output(LogitsOutput(logits=logits, **records(out)), options.get("return_dict"))
    >>> config = ConvBertConfig(vocab_size=20, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
    ...                         intermediate_size=16, embedding_size=8)
    >>> ConvBertForTokenScore(config, rng=0)(input_ids=np.array([[1, 2, 3]])).logits.shape
    (1, 3)
    """

    def __init__(self, config: ConvBertConfig):
        super().__init__(config)
        with init.deferred():
            self.convbert = ConvBertModel(config)

    def encode(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
               inputs_embeds=None, options=None):
        """Run the encoder (always returning its record); `options` are the forward's **options."""
        options = dict(options or {})
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"{type(self).__name__}.forward: unexpected arguments {sorted(unknown)}")
        options["return_dict"] = True
        return self.convbert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                             **options)


def records(outputs) -> dict:
    """The encoder's optional records (hidden states, attentions, conv kernels), to pass on into a head's output."""
    return dict(hidden_states=outputs.hidden_states, attentions=outputs.attentions,
                conv_kernels=outputs.conv_kernels)


class ConvBertGeneratorPredictions(nn.Module):
    """LayerNorm(gelu(dense(h))): (B, T, C) -> (B, T, E). Always the exact GELU, whatever hidden_act says."""

    def __init__(self, config):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)

    def forward(self, hidden_states):
        return self.LayerNorm(F.gelu(self.dense(hidden_states)))


class ConvBertForMaskedLM(ConvBertTaskModel):
    """Masked-token prediction (the ELECTRA generator). logits (B, T, vocab); with config.tie_word_embeddings
    (the default) the LM head's weight IS the word-embedding matrix, so the model has one (vocab, E) matrix."""

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        with init.deferred():
            self.generator_predictions = ConvBertGeneratorPredictions(config)
            self.generator_lm_head = nn.Linear(config.embedding_size, config.vocab_size)
        self.post_init(rng)

    def get_output_embeddings(self) -> nn.Linear:
        return self.generator_lm_head

    def set_output_embeddings(self, head: nn.Linear) -> None:
        self.generator_lm_head = head

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, **options):
        """labels (B, T): the token id to predict, or -100 where no prediction is scored."""
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        prediction = self.generator_predictions(outputs.last_hidden_state)  # (B, T, E)
        loss = None
        if labels is not None:
            labels = input_array("labels", labels)
            if labels.shape != prediction.shape[:2]:
                raise ValueError(f"labels: expected shape {prediction.shape[:2]}, got {labels.shape}")
            # The loss reads the scored rows alone (~15% in masked-LM training), through their own product
            # with the vocabulary matrix: the (B*T, vocab) logits stay out of the loss's graph, so backward
            # never builds a gradient that is zero on most of its rows, and the loss's temporaries are gone
            # before the full logits are made. The same numbers as cross_entropy over all the logits.
            targets = labels.reshape(-1)  # (B*T,)
            rows = np.flatnonzero(targets != -100)  # (M,)
            scored = self.generator_lm_head(prediction.reshape(-1, prediction.shape[-1])[rows])  # (M, vocab)
            loss = F.cross_entropy(scored, targets[rows])
        logits = self.generator_lm_head(prediction)  # (B, T, vocab)
        return self._output(MaskedLMOutput(loss=loss, logits=logits, **records(outputs)), options.get("return_dict"))

    def masked_logits(self, input_ids=None, labels=None, attention_mask=None, token_type_ids=None):
        """The logits at the scored positions only: -> (logits (M, vocab) Tensor, targets (M,) array).

        The encoder runs on the whole batch; the prediction head runs on the M positions whose label
        is not -100 (in row order): the same rows as forward(...).logits[labels != -100], for ~15% of
        the head's work in masked-LM training (the head and its vocabulary-wide matmul dominate it).
        """
        labels = input_array("labels", labels)
        rows, cols = np.nonzero(labels != -100)
        encoded = self.encode(input_ids, attention_mask, token_type_ids)
        picked = encoded.last_hidden_state[rows, cols]  # (M, C)
        return self.generator_lm_head(self.generator_predictions(picked)), labels[rows, cols]  # (M, V), (M,)


class ConvBertClassificationHead(nn.Module):
    """out_proj(dropout(act(dense(dropout(h[:, 0]))))): (B, T, C) -> (B, num_labels)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(classifier_dropout(config))
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)
        self.activation = get_activation(config.hidden_act)

    def forward(self, hidden_states):
        x = self.dropout(hidden_states[:, 0, :])  # (B, C): the first token ([CLS])
        x = self.dropout(self.activation(self.dense(x)))  # (B, C)
        return self.out_proj(x)  # (B, num_labels)


class ConvBertForSequenceClassification(ConvBertTaskModel):
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

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, **options):
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        logits = self.classifier(outputs.last_hidden_state)  # (B, num_labels)
        loss = None if labels is None else self._loss(logits, input_array("labels", labels))
        return self._output(SequenceClassifierOutput(loss=loss, logits=logits, **records(outputs)),
                            options.get("return_dict"))

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


class ConvBertForMultipleChoice(ConvBertTaskModel):
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

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, **options):
        """input_ids / attention_mask / token_type_ids / position_ids (B, num_choices, T); inputs_embeds
        (B, num_choices, T, E); labels (B,) the index of the right choice."""
        if input_ids is not None:
            source = input_ids = input_array("input_ids", input_ids)
        elif inputs_embeds is not None:
            source = inputs_embeds if isinstance(inputs_embeds, Tensor) else input_array("inputs_embeds", inputs_embeds)
        else:
            raise ValueError("ConvBertForMultipleChoice: pass input_ids (B, num_choices, T) or inputs_embeds")
        shape = source.shape
        depth = 3 if input_ids is not None else 4
        if len(shape) != depth:
            raise ValueError(f"ConvBertForMultipleChoice: expected {depth} dimensions (B, num_choices, T...), "
                             f"got {shape}")
        num_choices = shape[1]

        def flat(name, value):  # (B, choices, T) -> (B * choices, T)
            if value is None:
                return None
            value = input_array(name, value)
            return value.reshape(-1, value.shape[-1])

        input_ids = flat("input_ids", input_ids)
        attention_mask, token_type_ids = flat("attention_mask", attention_mask), flat("token_type_ids", token_type_ids)
        position_ids = flat("position_ids", position_ids)
        if inputs_embeds is not None:
            embeds = inputs_embeds if isinstance(inputs_embeds, Tensor) else Tensor(source.astype(self.dtype))
            inputs_embeds = embeds.reshape(-1, shape[2], shape[3])  # (B * choices, T, E)
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        hidden = outputs.last_hidden_state  # (B * choices, T, C)
        if self.summary_type == "last":
            pooled = hidden[:, -1]  # (B * choices, C)
        elif self.summary_type == "first":
            pooled = hidden[:, 0]
        else:
            pooled = hidden.mean(axis=1)
        logits = self.classifier(pooled).reshape(-1, num_choices)  # (B, choices)
        loss = None if labels is None else F.cross_entropy(logits, input_array("labels", labels).reshape(-1))
        return self._output(MultipleChoiceModelOutput(loss=loss, logits=logits, **records(outputs)),
                            options.get("return_dict"))


class ConvBertForTokenClassification(ConvBertTaskModel):
    """A label per token: logits (B, T, num_labels); labels (B, T) with -100 where not scored."""

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        self.dropout = nn.Dropout(classifier_dropout(config))
        with init.deferred():
            self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init(rng)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, **options):
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        logits = self.classifier(self.dropout(outputs.last_hidden_state))  # (B, T, num_labels)
        loss = None
        if labels is not None:
            labels = input_array("labels", labels)
            loss = F.cross_entropy(logits.reshape(-1, self.config.num_labels), labels.reshape(-1))
        return self._output(TokenClassifierOutput(loss=loss, logits=logits, **records(outputs)),
                            options.get("return_dict"))


class ConvBertForQuestionAnswering(ConvBertTaskModel):
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

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, start_positions=None, end_positions=None, **options):
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = (x.squeeze(-1) for x in logits.split(1, axis=-1))  # (B, T) each
        loss = None
        if start_positions is not None and end_positions is not None:
            seq = start_logits.shape[1]
            start = np.clip(input_array("start_positions", start_positions).reshape(-1), 0, seq)  # (B,)
            end = np.clip(input_array("end_positions", end_positions).reshape(-1), 0, seq)
            start_loss = F.cross_entropy(start_logits, start, ignore_index=seq)
            end_loss = F.cross_entropy(end_logits, end, ignore_index=seq)
            loss = (start_loss + end_loss) / 2
        return self._output(QuestionAnsweringModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                                                         **records(outputs)), options.get("return_dict"))
