"""Masked-language-model training and evaluation: the loss at the masked positions, loss and accuracy on
held-out text, and a unigram baseline.

The unigram baseline predicts the training set's most frequent token at every masked position;
its loss is the cross-entropy of the training set's token frequencies. A model that has learned
anything from context must beat both clearly.
"""

from __future__ import annotations

import numpy as np

from minconvbert import functional as F
from minconvbert.tensor import no_grad

__all__ = ["masked_lm_loss", "evaluate_mlm", "unigram_baseline"]


def _masked_logits(model, batch: dict):
    """A ConvBertForMaskedLM's logits at the masked positions of `batch`: ((M, vocab) Tensor, (M,) labels)."""
    return model.masked_logits(input_ids=batch["input_ids"], labels=batch["labels"],
                               attention_mask=batch.get("attention_mask"), token_type_ids=batch.get("token_type_ids"))


def masked_lm_loss(model, batch: dict, return_logits: bool = False):
    """The masked-LM loss of a ConvBertForMaskedLM computed at the masked positions only.

    The same value as model(**batch).loss, but the prediction head and the (vocabulary-wide)
    softmax run on the ~15% of positions that are scored instead of all of them
    (ConvBertForMaskedLM.masked_logits): the head is most of the training step's work otherwise.
    Returns (loss, number of real tokens), and the (M, vocab) logits of the masked positions with
    return_logits=True.
    """
    logits, targets = _masked_logits(model, batch)  # (M, vocab), (M,)
    loss = F.cross_entropy(logits, targets)
    tokens = int(np.asarray(batch.get("attention_mask", batch["labels"])).astype(bool).sum())
    return (loss, tokens, logits) if return_logits else (loss, tokens)


def evaluate_mlm(model, batches, steps) -> dict:
    """{"loss", "accuracy", "tokens"} over the masked positions of batches(step) for step in steps."""
    total_loss, correct, count = 0.0, 0, 0
    model.eval()
    with no_grad():
        for step in steps:
            logits, labels = _masked_logits(model, batches(step))
            logits = logits.data.astype(np.float64)  # (M, V)
            shifted = logits - logits.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            total_loss -= log_probs[np.arange(len(labels)), labels].sum()
            correct += int((logits.argmax(axis=1) == labels).sum())
            count += len(labels)
    return {"loss": total_loss / max(count, 1), "accuracy": correct / max(count, 1), "tokens": count}


def unigram_baseline(train_blocks, batches, steps, vocab_size: int, special_ids=()) -> dict:
    """The same figures for a model that ignores context: predict by training-set token frequency."""
    ids = train_blocks.reshape(-1)
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    counts[list(special_ids)] = 0
    probs = (counts + 1.0) / (counts.sum() + vocab_size)  # add-one smoothing: no zero probabilities
    best = int(np.argmax(counts))
    total_loss, correct, count = 0.0, 0, 0
    for step in steps:
        labels = batches(step)["labels"].reshape(-1)
        labels = labels[labels != -100]
        total_loss -= np.log(probs[labels]).sum()
        correct += int((labels == best).sum())
        count += len(labels)
    return {"loss": total_loss / max(count, 1), "accuracy": correct / max(count, 1), "tokens": count}
