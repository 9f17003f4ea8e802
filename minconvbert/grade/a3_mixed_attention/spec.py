"""Assignment A3 (the mixed attention block): its definition, and the model block its checks compare with.

Each case builds the model's ConvBertSelfAttention with random weights here, in the grader; the
student's functions receive the same weights as Tensors (Leaf arguments: their gradients come back).
"""

import numpy as np

from minconvbert.grade.checks import array_of, close
from minconvbert.grade.codec import Const, Leaf
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
    package=__package__,
    allowed=("minconvbert.functional", "minconvbert.function", "minconvbert.tensor", "minconvbert.testing"),
)

BASE = dict(vocab_size=10, hidden_size=24, num_hidden_layers=1, num_attention_heads=4, head_ratio=2,
            intermediate_size=8, conv_kernel_size=5, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)
AXES = {"context": "btc", "probs": "bhij", "kernels": "bthk"}


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

    def expected(self, x=None):
        """(context (B, T, C), probs (B, H, T, T), kernels (B, T, H, K)) of the model, as Tensors."""
        return self.block(Tensor(self.x) if x is None else x, None if self.mask is None else Tensor(self.mask))

    def params(self):
        """The weights as Leaf arguments, by the model's parameter names (their gradients come back by name)."""
        return {name: Leaf(p.data.copy(), name) for name, p in self.block.named_parameters()}

    def weight(self, name: str) -> Leaf:
        return Leaf(dict(self.block.named_parameters())[name].data.copy(), name)

    def projections(self):
        """The model's query, key, value and key_conv of the input, as arrays."""
        x, b = Tensor(self.x), self.block
        return tuple(layer(x).data for layer in (b.query, b.key, b.value, b.key_conv_attn_layer))


def compare_block(student, case: Case, what: str, atol=1e-8, rtol=1e-6) -> None:
    """The student's mixed_attention against the model: the three outputs."""
    got = student.run("mixed_attention", Const(case.x), case.params(), case.heads,
                      None if case.mask is None else Const(case.mask)).value
    if not isinstance(got, tuple) or len(got) != 3:
        raise AssertionError(f"{what}: mixed_attention must return (context, probs, kernels)")
    for name, mine, theirs in zip(("context", "probs", "kernels"), got, case.expected()):
        close(array_of(mine, f"{what}: {name}"), theirs, f"{what}: {name}", atol=atol, rtol=rtol, axes=AXES[name])
