"""ELECTRA-style pretraining, as the original ConvBERT was trained: replaced-token detection.

    masked ids --generator (small ConvBertForMaskedLM)--> logits at the masked positions
    sample a token at each masked position from the generator (no gradient through the sample)
    corrupted ids = original ids with the samples in place
    --discriminator (ConvBertForPreTraining)--> for every token: was it replaced?
    loss = generator MLM loss + 50 * discriminator BCE loss

Generator and discriminator share the embedding module (word, position, token type, LayerNorm), and
the generator's LM head is tied to those word embeddings; each keeps its own embeddings_project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minconvbert import nn
from minconvbert import random as _random
from minconvbert.models.convbert import ConvBertConfig, ConvBertForMaskedLM
from minconvbert.models.convbert.pretraining import ConvBertForPreTraining
from minconvbert.tensor import Tensor, no_grad
from minconvbert.train.mlm import masked_lm_loss

__all__ = ["ElectraPretraining", "ElectraOutput", "generator_config"]


def generator_config(config: ConvBertConfig, divisor: int = 4) -> ConvBertConfig:
    """The discriminator's config at 1/divisor of the width (hidden, intermediate, heads), same embeddings."""
    data = config.to_dict()
    heads = max(config.num_attention_heads // divisor, config.head_ratio)
    hidden = max(config.hidden_size // divisor, 2 * max(heads // config.head_ratio, 1))
    data.update(hidden_size=hidden, intermediate_size=max(config.intermediate_size // divisor, 1),
                num_attention_heads=heads)
    data.pop("id2label"), data.pop("label2id")
    return ConvBertConfig.from_dict(data)


@dataclass
class ElectraOutput:
    loss: Tensor
    generator_loss: Tensor
    discriminator_loss: Tensor
    replaced_fraction: float
    discriminator_accuracy: float


class ElectraPretraining(nn.Module):
    """A generator and a discriminator trained together (see the module docstring)."""

    base_model_prefix = "discriminator"

    def __init__(self, config: ConvBertConfig, generator: ConvBertConfig | None = None, discriminator_weight=50.0,
                 rng=None):
        super().__init__()
        generator = generator or generator_config(config)
        for name in ("vocab_size", "embedding_size", "max_position_embeddings", "type_vocab_size", "pad_token_id"):
            if getattr(generator, name) != getattr(config, name):
                raise ValueError(f"ElectraPretraining: generator and discriminator must share {name} (embeddings)")
        self.config = config
        rng = _random.resolve(rng)  # one stream for both models (an int seed would give them the same draws)
        self.discriminator = ConvBertForPreTraining(config, rng=rng)
        self.generator = ConvBertForMaskedLM(generator, rng=rng)
        self.generator.convbert.embeddings = self.discriminator.convbert.embeddings  # shared
        self.generator.tie_weights()
        self.discriminator_weight = discriminator_weight

    @property
    def dtype(self):
        return self.discriminator.dtype

    def forward(self, input_ids, attention_mask, labels, token_type_ids=None) -> ElectraOutput:
        """input_ids (B, T) with some positions masked; labels (B, T): the original id there, -100 elsewhere."""
        masked = np.asarray(input_ids)
        labels = np.asarray(labels)
        selected = labels != -100  # (B, T)
        batch = {"input_ids": masked, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
                 "labels": labels}
        generator_loss, _, generator_logits = masked_lm_loss(self.generator, batch, return_logits=True)
        original = np.where(selected, labels, masked)  # (B, T)
        with no_grad():  # sample replacements from the generator: Gumbel-max over its logits
            logits = generator_logits.data.astype(np.float64)  # (M, V), the masked positions in row order
            gumbel = -np.log(-np.log(_random.default_generator().uniform(1e-9, 1.0, logits.shape)))
            sampled = (logits + gumbel).argmax(axis=-1)
        corrupted = original.copy()
        corrupted[selected] = sampled
        replaced = (corrupted != original).astype(np.int64)  # (B, T)
        judged = self.discriminator(input_ids=corrupted, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids, labels=replaced)
        loss = generator_loss + self.discriminator_weight * judged.loss
        active = np.asarray(attention_mask).astype(bool)
        predicted = judged.logits.data > 0
        return ElectraOutput(loss=loss, generator_loss=generator_loss, discriminator_loss=judged.loss,
                             replaced_fraction=float(replaced[active].mean()),
                             discriminator_accuracy=float((predicted == replaced.astype(bool))[active].mean()))

    def save_pretrained(self, directory, dtype=None):
        """The discriminator in `directory` (loadable as ConvBertModel), the generator in `directory/generator`."""
        self.discriminator.save_pretrained(directory, dtype=dtype)
        self.generator.save_pretrained(Path(directory) / "generator", dtype=dtype)
        return Path(directory)

    def load_weights(self, directory, strict: bool = True):
        self.discriminator.load_weights(directory, strict=strict)
        self.generator.load_weights(Path(directory) / "generator", strict=strict)
        self.generator.convbert.embeddings = self.discriminator.convbert.embeddings
        self.generator.tie_weights()
