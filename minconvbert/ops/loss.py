"""Losses with their own backward for numerical stability: cross-entropy and BCE with logits."""

from __future__ import annotations

import numpy as np

from minconvbert.function import Function
from minconvbert.ops.elementwise import require_float


class CrossEntropy(Function):
    """loss = mean over targets != ignore_index of -log softmax(logits)[target].

    logits (N, C), targets (N,) integers in [0, C) or ignore_index. With every target ignored the
    mean is 0/0 = nan, as in PyTorch. dL/dlogits = (softmax - onehot) / count on counted rows, 0 on
    ignored ones. Only the counted rows are normalised: in masked-LM training that is ~15% of them,
    and a softmax over a 30,522-word vocabulary is the costly part.
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
        rows = np.flatnonzero(keep)  # (M,) the counted rows
        counted = logits if len(rows) == len(targets) else logits[rows]  # (M, C)
        log_probs = counted - counted.max(axis=1, keepdims=True)  # (M, C), shifted: the largest is 0
        log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))  # in place: one (M, C) array fewer
        picked = log_probs[np.arange(len(rows)), targets[rows]]  # (M,)
        self.log_probs, self.rows, self.targets, self.shape = log_probs, rows, targets[rows], logits.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(-picked.sum() / len(rows), dtype=logits.dtype)

    def backward(self, g):
        grad_counted = np.exp(self.log_probs)  # (M, C): softmax of the counted rows
        grad_counted[np.arange(len(self.rows)), self.targets] -= 1.0
        if len(self.rows):  # with every target ignored the loss is nan, but nothing depends on the logits
            grad_counted *= g / len(self.rows)
        if len(self.rows) == self.shape[0]:
            return (grad_counted,)
        grad = np.zeros(self.shape, dtype=grad_counted.dtype)  # (N, C)
        grad[self.rows] = grad_counted
        return (grad,)


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
