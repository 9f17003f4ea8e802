"""Bad input gets a clear exception that names the problem, never a crash deep inside NumPy."""

import numpy as np
import pytest

from minconvbert import Tensor
from minconvbert import functional as F
from minconvbert.function import Function


def floats(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


def ints(*shape):
    return Tensor(np.ones(shape, dtype=np.int64))


# ----- shapes that do not fit -------------------------------------------------------------------------
def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not match"):
        floats(2, 3) @ floats(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\)"):
        F.matmul(floats(2, 2, 3), floats(3, 3, 4))  # batch axes 2 and 3 do not broadcast
    with pytest.raises(ValueError, match=r"at least one dimension, got shapes \(\) and \(3,\)"):
        F.matmul(floats(), floats(3))


@pytest.mark.parametrize("op", [F.add, F.sub, F.mul, F.div])
def test_broadcasting_mismatch_names_both_shapes(op):
    with pytest.raises(ValueError, match=rf"{op.__name__}: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        op(floats(2, 3), floats(4))


def test_where_mismatch_names_every_shape():
    with pytest.raises(ValueError, match=r"where: condition \(2,\), a \(3,\) and b \(3,\)"):
        F.where(np.array([True, False]), floats(3), floats(3))


def test_linear_input_width_mismatch():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not end in in_features=3"):
        F.linear(floats(2, 5), floats(4, 3))


@pytest.mark.parametrize("call, message", [
    (lambda: floats(2, 3).reshape(4, 2), r"reshape: cannot reshape a tensor of shape \(2, 3\) into \(4, 2\)"),
    (lambda: floats(2, 3).expand(2, 4), r"expand: cannot expand shape \(2, 3\) to \(2, 4\)"),
    (lambda: floats(2, 3).expand(3), r"expand: cannot expand shape \(2, 3\) to fewer dimensions \(3,\)"),
    (lambda: floats(3).expand(-1, 3), r"expand: -1 .* new leading axis"),
    (lambda: floats(2, 3).squeeze(0), r"squeeze: axis 0 of shape \(2, 3\) does not have size 1"),
    (lambda: F.concatenate([floats(2, 3), floats(3, 2)], axis=0),
     r"concatenate: shapes \(2, 3\), \(3, 2\) differ outside axis 0"),
    (lambda: F.concatenate([floats(2, 3), floats(3)]), r"concatenate: .* same number .* \(2, 3\), \(3,\)"),
    (lambda: F.concatenate([]), r"concatenate: needs at least one tensor"),
    (lambda: F.stack([floats(2), floats(3)]), r"stack: all tensors must have the same shape, got \(2,\), \(3,\)"),
    (lambda: F.split(floats(5), [2, 2]), r"split: sizes \[2, 2\] must be >= 0 and add up to 5"),
    (lambda: F.split(floats(5), 0), r"split: split_size must be a positive integer, got 0"),
    (lambda: F.layer_norm(floats(2, 3), floats(4), floats(3)),
     r"layer_norm: weight \(4,\) and bias \(3,\) must both be \(3,\)"),
    (lambda: F.softmax(floats(2, 3), mask=np.zeros((4, 2, 3))), r"softmax: mask of shape \(4, 2, 3\) does not"),
    (lambda: F.softmax(floats(2, 3), axis=0, mask=np.zeros(3)), r"softmax: a mask is supported only along the last"),
    (lambda: F.mse_loss(floats(2), floats(3)), r"mse_loss: prediction \(2,\) and target \(3,\) must match"),
    (lambda: F.binary_cross_entropy_with_logits(floats(2), np.zeros(3)), r"logits \(2,\) and targets \(3,\)"),
    (lambda: F.cross_entropy(floats(2, 3), np.array([0, 1, 2])), r"logits \(N, C\) and targets \(N,\), got \(2, 3\)"),
    (lambda: F.depthwise_conv1d(floats(1, 4, 3), floats(2, 3)), r"depthwise_conv1d: expected x \(B, T, C\)"),
    (lambda: F.span_conv(floats(1, 4, 2, 3), floats(1, 4, 3, 3)), r"span_conv: expected values \(B, T, H, D\)"),
])  # fmt: skip
def test_bad_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----- axes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: floats(2, 3).sum(axis=2), "axis 2 is out of range for a tensor with 2 dimensions"),
    (lambda: floats(2, 3).mean(axis=-3), "axis -3 is out of range for a tensor with 2 dimensions"),
    (lambda: floats(2, 3).max(axis=(0, 5)), "axis 5 is out of range"),
    (lambda: floats(2, 3).var(axis=7), "axis 7 is out of range"),
    (lambda: floats(2, 3).sum(axis=(1, -1)), r"axis \(1, -1\) names the same axis twice"),
    (lambda: F.softmax(floats(2, 3), axis=2), "softmax: axis 2 is out of range for a tensor with 2 dimensions"),
    (lambda: F.log_softmax(floats(2, 3), axis=-3), "log_softmax: axis -3 is out of range"),
    (lambda: floats(2, 3).permute(0, 2), r"permute: \(0, 2\) is not a permutation of the 2 axes of shape \(2, 3\)"),
    (lambda: floats(2, 3).permute(0, 0), r"permute: \(0, 0\) is not a permutation"),
    (lambda: floats(2, 3).transpose(0, 2), "swapaxes: axis 2 is out of range for a tensor with 2 dimensions"),
    (lambda: floats(2, 3).unsqueeze(3), "unsqueeze: axis 3 is out of range for a tensor with 3 dimensions"),
    (lambda: F.concatenate([floats(2, 3)], axis=2), "concatenate: axis 2 is out of range"),
    (lambda: F.stack([floats(2, 3)], axis=-4), "stack: axis -4 is out of range for a tensor with 3 dimensions"),
    (lambda: F.split(floats(2, 3), 1, axis=2), "split: axis 2 is out of range"),
    (lambda: F.max(floats(0, 3), axis=0), r"max: cannot take the maximum over an axis of length 0 \(shape \(0, 3\)"),
])  # fmt: skip
def test_bad_axes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_index_names_the_shape():
    with pytest.raises(IndexError, match=r"index 5 is invalid for a tensor of shape \(2, 3\)"):
        floats(2, 3)[5]
    with pytest.raises(IndexError, match=r"is invalid for a tensor of shape \(2,\)"):
        floats(2)[np.array([0, 2])]


# ----- integers where a differentiable op needs floats ----------------------------------------------------------
@pytest.mark.parametrize("name, call", [
    ("exp", lambda: F.exp(ints(3))),
    ("log", lambda: ints(3).log()),
    ("sqrt", lambda: ints(3).sqrt()),
    ("tanh", lambda: ints(3).tanh()),
    ("sigmoid", lambda: F.sigmoid(ints(3))),
    ("relu", lambda: F.relu(ints(3))),
    ("selu", lambda: F.selu(ints(3))),
    ("gelu", lambda: F.gelu(ints(3))),
    ("gelu_new", lambda: F.gelu_new(ints(3))),
    ("pow", lambda: ints(3) ** 2),
    ("softmax", lambda: F.softmax(ints(2, 3))),
    ("log_softmax", lambda: F.log_softmax(ints(2, 3))),
    ("matmul", lambda: ints(2, 3) @ floats(3, 2)),
    ("linear", lambda: F.linear(ints(2, 3), floats(4, 3))),
    ("layer_norm", lambda: F.layer_norm(ints(2, 3), floats(3), floats(3))),
    ("cross_entropy", lambda: F.cross_entropy(ints(2, 3), np.array([0, 1]))),
    ("binary_cross_entropy_with_logits", lambda: F.binary_cross_entropy_with_logits(ints(2), np.zeros(2))),
    ("depthwise_conv1d", lambda: F.depthwise_conv1d(ints(1, 4, 2), floats(2, 3))),
    ("span_conv", lambda: F.span_conv(floats(1, 4, 2, 3), ints(1, 4, 2, 3))),
])  # fmt: skip
def test_integer_input_to_a_differentiable_op_is_a_type_error(name, call):
    with pytest.raises(TypeError, match=rf"{name}: expected a floating-point tensor, got dtype int64"):
        call()


def test_other_type_errors():
    with pytest.raises(TypeError, match="pow: the exponent must be a number"):
        floats(2) ** floats(2)
    with pytest.raises(TypeError, match="Tensor: unsupported dtype <U1"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="embedding: ids must be integers, got dtype float64"):
        F.embedding(np.array([0.0, 1.0]), floats(3, 2))
    with pytest.raises(TypeError, match="cross_entropy: targets must be integers, got dtype float64"):
        F.cross_entropy(floats(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="softmax: an axis must be an integer, got 1.5"):
        F.softmax(floats(2, 3), axis=1.5)


# ----- values out of range ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [7, -1])
def test_out_of_range_embedding_id_is_named(bad):
    with pytest.raises(ValueError, match=rf"embedding: id {bad} is outside \[0, 5\)"):
        F.embedding(np.array([[0, bad, 2]]), floats(5, 2))


def test_out_of_range_target_is_named():
    with pytest.raises(ValueError, match=r"cross_entropy: target 3 is outside \[0, 3\) and is not ignore_index=-100"):
        F.cross_entropy(floats(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match="target -1 is outside"):
        F.cross_entropy(floats(2, 3), np.array([-1, 0]))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_out_of_range(p):
    with pytest.raises(ValueError, match=f"dropout: p must be in \\[0, 1\\], got {p}"):
        F.dropout(floats(3), p)


# ----- backward misuse ---------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_grad_raises():
    y = floats(2, 3) * 2.0
    with pytest.raises(RuntimeError, match=r"grad can be omitted only for a single value.*shape \(2, 3\)"):
        y.backward()


def test_backward_with_a_wrongly_shaped_grad_raises():
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\), expected \(2, 3\)"):
        (floats(2, 3) * 2.0).backward(np.ones(3))


def test_backward_on_a_tensor_off_the_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_a_function_returning_a_wrong_shaped_gradient_is_reported():
    class Broken(Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return (g.sum(keepdims=True),)  # shape (1,) for every input: wrong

    with pytest.raises(RuntimeError, match=r"Broken.backward returned a gradient of shape \(1,\) for an input "
                                           r"of shape \(3,\)"):
        Broken.apply(floats(3)).sum().backward()
