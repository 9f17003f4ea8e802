"""Masked-language-model inputs: choose 15% of the tokens and hide them (BERT's 80/10/10 recipe)."""

from __future__ import annotations

import numpy as np

from minconvbert import random as _random

__all__ = ["mask_tokens"]


def mask_tokens(input_ids, attention_mask, special_ids, mask_token_id: int, vocab_size: int,
                mlm_probability: float = 0.15, rng=None):
    """-> (masked_ids, labels), both (B, T).

    Each token that is neither padding (attention_mask 0) nor special (an id in `special_ids`) is
    selected with probability `mlm_probability`. A selected token is replaced by [MASK] 80% of the
    time, by a uniformly random token 10%, and kept 10%; its label is the original id. Every other
    label is -100 (ignored by the loss).
    """
    if not 0.0 < mlm_probability < 1.0:
        raise ValueError(f"mask_tokens: mlm_probability must be in (0, 1), got {mlm_probability}")
    rng = _random.resolve(rng)
    input_ids = np.asarray(input_ids)
    candidates = np.asarray(attention_mask).astype(bool) & ~np.isin(input_ids, list(special_ids))
    selected = candidates & (rng.random(input_ids.shape) < mlm_probability)
    labels = np.where(selected, input_ids, -100)
    roll = rng.random(input_ids.shape)
    masked = input_ids.copy()
    masked[selected & (roll < 0.8)] = mask_token_id
    randomised = selected & (roll >= 0.8) & (roll < 0.9)
    masked[randomised] = rng.integers(0, vocab_size, int(randomised.sum()))
    return masked, labels
