"""A3's hidden checks: other head counts, kernel sizes, short sequences, float32, and the gradients of a
tiny block against finite differences of the model."""

import numpy as np

from minconvbert.grade.a3_mixed_attention.spec import A3, Case, compare_block
from minconvbert.grade.checks import close, numeric_gradients
from minconvbert.grade.codec import Const, Leaf
from minconvbert.tensor import Tensor, no_grad


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
    """The gradients of a tiny block for the input and two weights equal finite differences of the model."""
    case = Case(seed=11, batch=1, seq=4, hidden_size=8, num_attention_heads=2, head_ratio=1, conv_kernel_size=3,
                padded=1)
    names = ("conv_kernel_layer.weight", "key_conv_attn_layer.depthwise.weight")
    params = dict(case.block.named_parameters())
    direction = np.random.default_rng(12).standard_normal(case.x.shape)
    outcome = student.run("mixed_attention", Leaf(case.x, "hidden_states"), case.params(), case.heads,
                          Const(case.mask), backward=direction, through=0)

    def model(x, w1, w2):
        saved = [params[n].data for n in names]
        params[names[0]].data, params[names[1]].data = w1, w2
        try:
            with no_grad():
                return case.expected(Tensor(x))[0].data
        finally:
            params[names[0]].data, params[names[1]].data = saved

    arrays = [case.x] + [params[n].data.copy() for n in names]
    for name, want in zip(("hidden_states", *names), numeric_gradients(model, arrays, direction)):
        close(outcome.grads.get(name), want, f"mixed_attention: gradient of {name} (vs finite differences)",
              atol=1e-5, rtol=1e-4)
