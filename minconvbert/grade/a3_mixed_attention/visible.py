"""A3's visible checks: each part against the model's ConvBertSelfAttention, then the whole block and its gradients."""

import numpy as np

from minconvbert.grade.a3_mixed_attention.spec import A3, AXES, Case, compare_block
from minconvbert.grade.checks import array_of, close
from minconvbert.grade.codec import Const, Leaf
from minconvbert.tensor import Tensor


@A3.check(points=2, visible=True)
def separable_conv_matches(student):
    """separable_conv equals the model's key_conv_attn_layer."""
    case = Case(seed=0)
    weights = [case.weight(f"key_conv_attn_layer.{name}") for name in ("depthwise.weight", "pointwise.weight", "bias")]
    got = student.run("separable_conv", Const(case.x), *weights).value
    close(array_of(got, "separable_conv"), case.block.key_conv_attn_layer(Tensor(case.x)), "separable_conv", axes="btc")


@A3.check(points=2, visible=True)
def attention_heads_match(student):
    """attention_heads gives the model's attention probabilities and the attention half of its output."""
    case = Case(seed=1)
    query, key, value, _ = case.projections()
    got = student.run("attention_heads", Const(query), Const(key), Const(value), case.heads, None).value
    if not isinstance(got, tuple) or len(got) != 2:
        raise AssertionError("attention_heads must return (context, probs)")
    context, probs = got
    mixed, want_probs, _ = case.expected()
    B, T, C = mixed.shape
    close(array_of(probs, "attention_heads: probs"), want_probs, "attention_heads: probs", axes=AXES["probs"])
    close(array_of(context, "attention_heads: context"), mixed.data[..., : C // 2].reshape(B, T, case.heads, -1),
          "attention_heads: context", axes="bthd")


@A3.check(points=2, visible=True)
def dynamic_kernels_match(student):
    """dynamic_kernels gives the model's kernels."""
    case = Case(seed=2)
    query, _, _, key_conv = case.projections()
    got = student.run("dynamic_kernels", Const(query), Const(key_conv), case.weight("conv_kernel_layer.weight"),
                      case.weight("conv_kernel_layer.bias"), case.heads).value
    close(array_of(got, "dynamic_kernels"), case.expected()[2], "dynamic_kernels", axes=AXES["kernels"])


@A3.check(points=2, visible=True)
def conv_heads_match(student):
    """conv_heads gives the convolution half of the model's output."""
    case = Case(seed=3)
    mixed, _, kernels = case.expected()
    got = student.run("conv_heads", Const(case.x), Const(kernels.data), case.weight("conv_out_layer.weight"),
                      case.weight("conv_out_layer.bias")).value
    B, T, C = mixed.shape
    close(array_of(got, "conv_heads"), mixed.data[..., C // 2 :].reshape(B, T, case.heads, -1), "conv_heads",
          axes="bthd")


@A3.check(points=2, visible=True)
def mixed_attention_matches(student):
    """mixed_attention: context, probs and kernels equal the model's, with a padded sequence in the batch."""
    compare_block(student, Case(seed=4, padded=2), "mixed_attention")


@A3.check(points=3, visible=True)
def gradients_match(student):
    """The gradients of a loss through mixed_attention, for every weight and the input, equal the model's."""
    case = Case(seed=5, padded=1)
    direction = np.random.default_rng(11).standard_normal(case.x.shape)
    outcome = student.run("mixed_attention", Leaf(case.x, "hidden_states"), case.params(), case.heads,
                          Const(case.mask), backward=direction, through=0)
    x_model = Tensor(case.x, requires_grad=True)
    case.expected(x_model)[0].backward(direction)
    for name, p in [*case.block.named_parameters(), ("hidden_states", x_model)]:
        if outcome.grads.get(name) is None:
            raise AssertionError(f"no gradient reached {name}: was it used with differentiable operations?")
        close(outcome.grads[name], p.grad, f"gradient of {name}")
