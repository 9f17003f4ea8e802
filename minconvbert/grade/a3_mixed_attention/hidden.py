"""A3's hidden checks: other head counts, kernel sizes, short sequences, float32, and a gradient check."""

import numpy as np

from minconvbert.grade.a3_mixed_attention.spec import A3, Case, compare_block
from minconvbert.grade.checks import grad_check, need
from minconvbert.tensor import Tensor


@A3.check(points=1, visible=False)
def one_head_of_each_kind(student):
    """num_attention_heads 2 with head_ratio 4: one attention head and one convolution head."""
    compare_block(student, Case(seed=6, num_attention_heads=2, head_ratio=4), "one head of each kind")


@A3.check(points=1, visible=False)
def head_ratio_one(student):
    """head_ratio 1: four heads of each kind, of size 3."""
    compare_block(student, Case(seed=7, head_ratio=1, padded=3), "head_ratio 1")


@A3.check(points=1, visible=False)
def kernel_size_one(student):
    """conv_kernel_size 1: the convolution heads see only their own position."""
    compare_block(student, Case(seed=8, conv_kernel_size=1), "kernel size 1")


@A3.check(points=1, visible=False)
def sequence_shorter_than_kernel(student):
    """A sequence of 3 positions with kernel size 9."""
    compare_block(student, Case(seed=9, seq=3, conv_kernel_size=9), "T = 3, K = 9")


@A3.check(points=1, visible=False)
def float32_block(student):
    """The block in float32, with padding: equal to the model within float32 precision."""
    compare_block(student, Case(seed=10, dtype=np.float32, padded=2), "float32", atol=2e-5, rtol=1e-4)


@A3.check(points=2, visible=False)
def gradcheck_block(student):
    """Finite differences through mixed_attention, for the input and two weights, on a tiny block."""
    case = Case(seed=11, batch=1, seq=4, hidden_size=8, num_attention_heads=2, head_ratio=1, conv_kernel_size=3,
                padded=1)
    params = case.student_params()
    mixed_attention = need(student, "mixed_attention")
    names = ("conv_kernel_layer.weight", "key_conv_attn_layer.depthwise.weight")

    def fn(x, w1, w2):
        p = dict(params, **dict(zip(names, (w1, w2))))
        return mixed_attention(x, p, case.heads, case.mask)[0]

    inputs = [Tensor(case.x, requires_grad=True)] + [Tensor(params[n].data.copy(), requires_grad=True) for n in names]
    grad_check(fn, inputs, "mixed_attention")
