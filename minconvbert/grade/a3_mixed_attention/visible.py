"""A3's visible checks: each part against the model's ConvBertSelfAttention, then the whole block and its gradients."""

import numpy as np

from minconvbert.grade.a3_mixed_attention.spec import A3, Case, compare_block
from minconvbert.grade.checks import array_of, backward_with, close, need
from minconvbert.tensor import Tensor


@A3.check(points=2, visible=True)
def separable_conv_matches(student):
    """separable_conv equals the model's key_conv_attn_layer."""
    case = Case(seed=0)
    p = case.student_params()
    got = need(student, "separable_conv")(Tensor(case.x), p["key_conv_attn_layer.depthwise.weight"],
                                          p["key_conv_attn_layer.pointwise.weight"], p["key_conv_attn_layer.bias"])
    close(array_of(got, "separable_conv"), case.block.key_conv_attn_layer(Tensor(case.x)), "separable_conv")


@A3.check(points=2, visible=True)
def attention_heads_match(student):
    """attention_heads gives the model's attention probabilities and the attention half of its output."""
    case = Case(seed=1)
    query, key, value, _ = case.projections()
    context, probs = need(student, "attention_heads")(query, key, value, case.heads, None)
    mixed, want_probs, _ = case.expected()
    B, T, C = mixed.shape
    close(array_of(probs, "attention_heads: probs"), want_probs, "attention_heads: probs")
    close(array_of(context, "attention_heads: context"), mixed.data[..., : C // 2].reshape(B, T, case.heads, -1),
          "attention_heads: context")


@A3.check(points=2, visible=True)
def dynamic_kernels_match(student):
    """dynamic_kernels gives the model's kernels."""
    case = Case(seed=2)
    query, _, _, key_conv = case.projections()
    p = case.student_params()
    got = need(student, "dynamic_kernels")(query, key_conv, p["conv_kernel_layer.weight"],
                                           p["conv_kernel_layer.bias"], case.heads)
    close(array_of(got, "dynamic_kernels"), case.expected()[2], "dynamic_kernels")


@A3.check(points=2, visible=True)
def conv_heads_match(student):
    """conv_heads gives the convolution half of the model's output."""
    case = Case(seed=3)
    mixed, _, kernels = case.expected()
    p = case.student_params()
    got = need(student, "conv_heads")(Tensor(case.x), Tensor(kernels.data), p["conv_out_layer.weight"],
                                      p["conv_out_layer.bias"])
    B, T, C = mixed.shape
    close(array_of(got, "conv_heads"), mixed.data[..., C // 2 :].reshape(B, T, case.heads, -1), "conv_heads")


@A3.check(points=2, visible=True)
def mixed_attention_matches(student):
    """mixed_attention: context, probs and kernels equal the model's, with a padded sequence in the batch."""
    compare_block(student, Case(seed=4, padded=2), "mixed_attention")


@A3.check(points=3, visible=True)
def gradients_match(student):
    """The gradients of a loss through mixed_attention, for every weight and the input, equal the model's."""
    case = Case(seed=5, padded=1)
    params = case.student_params()
    x_student, x_model = Tensor(case.x, requires_grad=True), Tensor(case.x, requires_grad=True)
    context, _, _ = need(student, "mixed_attention")(x_student, params, case.heads, case.mask)
    direction = backward_with(context, seed=11)
    model_context, _, _ = case.block(x_model, case.mask)
    model_context.backward(direction)
    for name, p in case.block.named_parameters():
        if params[name].grad is None:
            raise AssertionError(f"no gradient reached {name}: was it used with differentiable operations?")
        close(params[name].grad, p.grad, f"gradient of {name}")
    close(x_student.grad if x_student.grad is not None else np.zeros(0), x_model.grad, "gradient of hidden_states")
