"""A1's hidden checks: broadcasting, other axes, extreme inputs, ignored targets, and agreement with
the engine's own operations in float32 (1 point each). Not shown in the student version."""

import numpy as np

from minconvbert import functional as F
from minconvbert.grade.a1_backward.spec import A1
from minconvbert.grade.checks import backward_with, close, grad_check, leaf, need
from minconvbert.tensor import Tensor


def _rng():
    return np.random.default_rng(7)


def against_engine(student_fn, engine_fn, arrays, what, dtype=np.float64, atol=1e-6, rtol=1e-5):
    """Same inputs, same output gradient: the student's input gradients must equal the engine's."""
    ours = [leaf(a, dtype) for a in arrays]
    theirs = [leaf(a, dtype) for a in arrays]
    out = student_fn(*ours)
    expected = engine_fn(*theirs)
    close(out, expected, f"{what}: forward", atol=atol, rtol=rtol)
    direction = backward_with(out, seed=3)
    expected.backward(direction)
    for i, (mine, engine) in enumerate(zip(ours, theirs)):
        if mine.grad is None:
            raise AssertionError(f"{what}: input {i} received no gradient")
        close(mine.grad, engine.grad, f"{what}: gradient of input {i}", atol=atol, rtol=rtol)
        if mine.grad.dtype != np.dtype(dtype):
            raise AssertionError(f"{what}: gradient of input {i} is {mine.grad.dtype}, expected {np.dtype(dtype)}")


@A1.check(points=1, visible=False)
def mul_broadcasting(student):
    """Mul: (3, 1) * (2, 1, 4) broadcasts to (2, 3, 4); gradients summed back, as the engine does."""
    rng = _rng()
    Mul = need(student, "Mul")
    arrays = [rng.standard_normal((3, 1)), rng.standard_normal((2, 1, 4))]
    grad_check(Mul.apply, [leaf(a) for a in arrays], "Mul (3, 1) * (2, 1, 4)")
    against_engine(Mul.apply, F.mul, arrays, "Mul (3, 1) * (2, 1, 4)")


@A1.check(points=1, visible=False)
def div_broadcasting(student):
    """Div: (2, 3) / (3,) and (2, 3) / a 0-d divisor."""
    rng = _rng()
    Div = need(student, "Div")
    for shape in ((3,), ()):
        b = rng.uniform(0.5, 2.0, shape)
        grad_check(Div.apply, [leaf(rng.standard_normal((2, 3))), leaf(b)], f"Div (2, 3) / {shape}")
        against_engine(Div.apply, F.div, [rng.standard_normal((2, 3)), b], f"Div (2, 3) / {shape}")


@A1.check(points=1, visible=False)
def tanh_saturated_float32(student):
    """Tanh: float32 inputs up to +-30 (saturated): finite gradients equal to the engine's."""
    x = np.concatenate([np.linspace(-30, 30, 13), _rng().standard_normal(11)]).reshape(4, 6)
    against_engine(need(student, "Tanh").apply, F.tanh, [x], "Tanh float32", dtype=np.float32, atol=1e-6)


@A1.check(points=1, visible=False)
def matmul_batched_broadcast(student):
    """MatMul: (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2), batch axes broadcast."""
    rng = _rng()
    MatMul = need(student, "MatMul")
    arrays = [rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))]
    grad_check(MatMul.apply, [leaf(a) for a in arrays], "MatMul (2, 1, 3, 4) @ (5, 4, 2)")
    against_engine(MatMul.apply, F.matmul, arrays, "MatMul (2, 1, 3, 4) @ (5, 4, 2)")


@A1.check(points=1, visible=False)
def sum_axes(student):
    """Sum: over axes (0, 2); over -1 with keepdims; over every axis."""
    Sum = need(student, "Sum")
    x = _rng().standard_normal((2, 3, 4))
    for axis, keepdims in (((0, 2), False), (-1, True), (None, False), (None, True)):
        grad_check(lambda t: Sum.apply(t, axis=axis, keepdims=keepdims), [leaf(x)],
                   f"Sum(axis={axis}, keepdims={keepdims})")
        against_engine(lambda t: Sum.apply(t, axis=axis, keepdims=keepdims),
                       lambda t: F.sum(t, axis=axis, keepdims=keepdims), [x], f"Sum(axis={axis}, keepdims={keepdims})")


@A1.check(points=1, visible=False)
def softmax_large_and_3d(student):
    """Softmax: logits in the thousands (finite, no overflow) and a (2, 3, 4) input."""
    rng = _rng()
    Softmax = need(student, "Softmax")
    big = 1000 * rng.standard_normal((3, 5))
    against_engine(Softmax.apply, lambda t: F.softmax(t, axis=-1), [big], "Softmax of large logits")
    grad_check(Softmax.apply, [leaf(rng.standard_normal((2, 3, 4)))], "Softmax on (2, 3, 4)")


@A1.check(points=1, visible=False)
def layer_norm_3d_float32(student):
    """LayerNorm: a (2, 3, 8) input; gradcheck in float64 and the engine's gradients in float32."""
    rng = _rng()
    LayerNorm = need(student, "LayerNorm")
    arrays = [rng.standard_normal((2, 3, 8)), rng.standard_normal(8), rng.standard_normal(8)]
    grad_check(lambda x, w, b: LayerNorm.apply(x, w, b, eps=1e-5), [leaf(a) for a in arrays], "LayerNorm (2, 3, 8)")
    against_engine(lambda x, w, b: LayerNorm.apply(x, w, b, eps=1e-5), lambda x, w, b: F.layer_norm(x, w, b, 1e-5),
                   arrays, "LayerNorm float32", dtype=np.float32, atol=1e-4, rtol=1e-4)


@A1.check(points=1, visible=False)
def gelu_tails_float32(student):
    """Gelu: inputs from -8 to 8, float32, equal to the engine's gradients."""
    x = np.linspace(-8, 8, 24).reshape(4, 6)
    grad_check(need(student, "Gelu").apply, [leaf(x)], "Gelu on [-8, 8]")
    against_engine(need(student, "Gelu").apply, F.gelu, [x], "Gelu float32", dtype=np.float32, atol=1e-5)


@A1.check(points=1, visible=False)
def cross_entropy_ignore_index(student):
    """CrossEntropy: ignored rows get zero gradient; with every target ignored, gradients are zeros, not NaN."""
    rng = _rng()
    CrossEntropy = need(student, "CrossEntropy")
    logits = rng.standard_normal((5, 4))
    targets = np.array([1, -100, 3, -100, 0])
    grad_check(lambda z: CrossEntropy.apply(z, Tensor(targets)), [leaf(logits)], "CrossEntropy with ignored rows")
    against_engine(lambda z: CrossEntropy.apply(z, Tensor(targets)), lambda z: F.cross_entropy(z, targets), [logits],
                   "CrossEntropy with ignored rows")
    z = leaf(logits)
    loss = CrossEntropy.apply(z, Tensor(np.full(5, -100)))
    loss.backward()
    if z.grad is None or not np.array_equal(z.grad, np.zeros_like(logits)):
        raise AssertionError("CrossEntropy with every target ignored: the gradient must be all zeros")
