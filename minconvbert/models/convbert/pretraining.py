"""ConvBertForPreTraining: the ELECTRA discriminator that ConvBERT was pretrained as.

For every token it predicts whether the token is original (0) or was replaced by the generator (1):
logits (B, T) = dense_prediction(act(dense(h))). The loss is binary cross-entropy with logits over
the attended positions (attention_mask == 1). Names follow transformers' ELECTRA discriminator
(`discriminator_predictions.dense`, `.dense_prediction`); transformers' ConvBERT has no such class.
"""

from __future__ import annotations

import numpy as np

from minconvbert import functional as F
from minconvbert import nn
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.checks import input_array
from minconvbert.models.convbert.heads import ConvBertTaskModel, records
from minconvbert.models.convbert.layers import get_activation
from minconvbert.models.convbert.outputs import LogitsOutput
from minconvbert.nn import init

__all__ = ["ConvBertForPreTraining", "ConvBertForPreTrainingOutput"]


class ConvBertForPreTrainingOutput(LogitsOutput):
    """logits (B, T): replaced-token scores; loss: BCE over attended positions."""


class ConvBertDiscriminatorPredictions(nn.Module):
    """dense_prediction(act(dense(h))): (B, T, C) -> (B, T)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dense_prediction = nn.Linear(config.hidden_size, 1)
        self.activation = get_activation(config.hidden_act)

    def forward(self, hidden_states):
        return self.dense_prediction(self.activation(self.dense(hidden_states))).squeeze(-1)


class ConvBertForPreTraining(ConvBertTaskModel):
    """Replaced-token detection: which tokens did the generator change?"""

    def __init__(self, config: ConvBertConfig, rng=None):
        super().__init__(config)
        with init.deferred():
            self.discriminator_predictions = ConvBertDiscriminatorPredictions(config)
        self.post_init(rng)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, **options) -> ConvBertForPreTrainingOutput:
        """labels (B, T): 1 where the token was replaced, 0 where it is original."""
        outputs = self.encode(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              options)
        logits = self.discriminator_predictions(outputs.last_hidden_state)  # (B, T)
        loss = None
        if labels is not None:
            labels = input_array("labels", labels)
            if labels.shape != logits.shape:
                raise ValueError(f"labels: expected shape {logits.shape}, got {labels.shape}")
            active = np.ones(logits.shape, bool) if attention_mask is None else (
                input_array("attention_mask", attention_mask).astype(bool))
            rows, cols = np.nonzero(active)
            loss = F.binary_cross_entropy_with_logits(logits[rows, cols], labels[rows, cols].astype(logits.dtype))
        return self._output(ConvBertForPreTrainingOutput(loss=loss, logits=logits, **records(outputs)),
                            options.get("return_dict"))
