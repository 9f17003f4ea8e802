"""Assignment A3 (the mixed attention block): its definition, and the model block its checks compare with."""

import numpy as np

from minconvbert.grade.checks import array_of, close
from minconvbert.grade.framework import Assignment
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.layers import ConvBertSelfAttention, additive_attention_mask
from minconvbert.random import manual_seed
from minconvbert.tensor import Tensor

A3 = Assignment(
    key="a3",
    name="a3_mixed_attention",
    title="the mixed attention block",
    student_file="mixed_attention.py",
)

BASE = dict(vocab_size=10, hidden_size=24, num_hidden_layers=1, num_attention_heads=4, head_ratio=2,
            intermediate_size=8, conv_kernel_size=5, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)


class Case:
    """The model's ConvBertSelfAttention with random weights, an input, an optional padding mask."""

    def __init__(self, seed=0, batch=2, seq=7, dtype=np.float64, padded=0, **overrides):
        self.config = ConvBertConfig(**{**BASE, **overrides})
        manual_seed(seed)
        self.block = ConvBertSelfAttention(self.config).eval()
        rng = np.random.default_rng(seed)
        for _, p in self.block.named_parameters():
            p.data = rng.normal(0.0, 0.3, p.shape).astype(dtype)
        self.heads = self.config.heads_per_kind
        self.x = rng.standard_normal((batch, seq, self.config.hidden_size)).astype(dtype)  # (B, T, C)
        self.mask = None
        if padded:
            keep = np.ones((batch, seq), dtype=np.int64)
            keep[-1, seq - padded:] = 0  # the last sequence ends in padding
            self.mask = additive_attention_mask(keep, dtype)  # (B, 1, 1, T)
        self.dtype = dtype

    def expected(self):
        """(context (B, T, C), probs (B, H, T, T), kernels (B, T, H, K)) from the model."""
        return self.block(Tensor(self.x), self.mask)

    def student_params(self):
        """Fresh leaves holding copies of the weights (the student's gradients land there)."""
        return {name: Tensor(p.data.copy(), requires_grad=True) for name, p in self.block.named_parameters()}

    def projections(self):
        """The model's query, key, value and key_conv of the input, as constants."""
        x = Tensor(self.x)
        b = self.block
        return (b.query(x).detach(), b.key(x).detach(), b.value(x).detach(),
                b.key_conv_attn_layer(x).detach())


def compare_block(student, case, what, atol=1e-8, rtol=1e-6):
    """The student's mixed_attention against the model: the three outputs."""
    mixed_attention = getattr(student, "mixed_attention", None)
    if mixed_attention is None:
        raise AssertionError("the student file defines no mixed_attention")
    got = mixed_attention(Tensor(case.x), case.student_params(), case.heads, case.mask)
    if not isinstance(got, tuple) or len(got) != 3:
        raise AssertionError(f"{what}: mixed_attention must return (context, probs, kernels)")
    for name, mine, theirs in zip(("context", "probs", "kernels"), got, case.expected()):
        close(array_of(mine, f"{what}: {name}"), theirs, f"{what}: {name}", atol=atol, rtol=rtol)
