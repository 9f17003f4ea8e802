"""Losses with their own backward for numerical stability: cross-entropy and BCE with logits."""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float


class CrossEntropy(Function):
    """loss = mean over targets != ignore_index of -log softmax(logits)[target].

    logits (N, C), targets (N,) integers in [0, C) or ignore_index. With every target ignored the
    mean is 0/0 = nan, as in PyTorch. dL/dlogits = (softmax - onehot) / count on counted rows.
    """

    def forward(self, logits, targets, ignore_index=-100):
        require_float("cross_entropy", logits)
        if logits.ndim != 2 or targets.shape != logits.shape[:1]:
            raise ValueError(
                f"cross_entropy: expected logits (N, C) and targets (N,), got {logits.shape} and {targets.shape}"
            )
        if targets.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: targets must be integers, got dtype {targets.dtype}")
        keep = targets != ignore_index
        bad = keep & ((targets < 0) | (targets >= logits.shape[1]))
        if bad.any():
            raise ValueError(
                f"cross_entropy: target {targets[bad][0]} is outside [0, {logits.shape[1]}) "
                f"and is not ignore_index={ignore_index}"
            )
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        safe = np.where(keep, targets, 0)
        picked = log_probs[np.arange(len(targets)), safe]
        self.count = keep.sum()
        self.log_probs, self.safe, self.keep = log_probs, safe, keep
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(-(picked * keep).sum() / self.count, dtype=logits.dtype)

    def backward(self, g):
        grad = np.exp(self.log_probs)
        if self.count == 0:  # every target ignored: the loss is nan, but nothing depends on the logits
            return (np.zeros_like(grad),)
        grad[np.arange(len(self.safe)), self.safe] -= 1.0
        grad *= (self.keep * (g / self.count))[:, None]
        return (grad.astype(self.log_probs.dtype, copy=False),)


class BCEWithLogits(Function):
    """loss = mean(max(x, 0) - x * y + log(1 + e^-|x|)) for logits x and targets y in [0, 1].

    The same value as -mean(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) without overflow;
    dL/dx = (sigmoid(x) - y) / n.
    """

    def forward(self, logits, targets):
        require_float("binary_cross_entropy_with_logits", logits)
        if logits.shape != targets.shape:
            raise ValueError(
                f"binary_cross_entropy_with_logits: logits {logits.shape} and targets {targets.shape} must match"
            )
        self.logits, self.targets = logits, targets
        loss = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return np.asarray(loss.mean(), dtype=logits.dtype)

    def backward(self, g):
        x = self.logits
        e = np.exp(-np.abs(x))
        sigmoid = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return ((g * (sigmoid - self.targets) / x.size).astype(x.dtype, copy=False),)
