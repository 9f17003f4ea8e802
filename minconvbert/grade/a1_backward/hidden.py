"""A1's hidden checks: broadcasting, other axes, extreme inputs, ignored targets, and agreement with
the engine's own operations in float32 (1 point each). Not shown in the student version."""

import numpy as np

from minconvbert import functional as F
from minconvbert.grade.a1_backward.spec import A1, against_engine, gradient_check
from minconvbert.grade.codec import Leaf


def _rng():
    return np.random.default_rng(7)


@A1.check(points=1, visible=False)
def mul_broadcasting(student):
    """Mul: (3, 1) * (2, 1, 4) broadcasts to (2, 3, 4); gradients summed back, as the engine does."""
    rng = _rng()
    arrays = [rng.standard_normal((3, 1)), rng.standard_normal((2, 1, 4))]
    gradient_check(student, "Mul", arrays, "Mul (3, 1) * (2, 1, 4)")
    against_engine(student, "Mul", F.mul, arrays, "Mul (3, 1) * (2, 1, 4)")


@A1.check(points=1, visible=False)
def div_broadcasting(student):
    """Div: (2, 3) / (3,) and (2, 3) / a 0-d divisor."""
    rng = _rng()
    for shape in ((3,), ()):
        b = rng.uniform(0.5, 2.0, shape)
        gradient_check(student, "Div", [rng.standard_normal((2, 3)), b], f"Div (2, 3) / {shape}")
        against_engine(student, "Div", F.div, [rng.standard_normal((2, 3)), b], f"Div (2, 3) / {shape}")


@A1.check(points=1, visible=False)
def tanh_saturated_float32(student):
    """Tanh: float32 inputs up to +-30 (saturated): finite gradients equal to the engine's."""
    x = np.concatenate([np.linspace(-30, 30, 13), _rng().standard_normal(11)]).reshape(4, 6)
    against_engine(student, "Tanh", F.tanh, [x], "Tanh float32", dtype=np.float32, atol=1e-6)


@A1.check(points=1, visible=False)
def matmul_batched_broadcast(student):
    """MatMul: (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2), batch axes broadcast."""
    rng = _rng()
    arrays = [rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))]
    gradient_check(student, "MatMul", arrays, "MatMul (2, 1, 3, 4) @ (5, 4, 2)")
    against_engine(student, "MatMul", F.matmul, arrays, "MatMul (2, 1, 3, 4) @ (5, 4, 2)")


@A1.check(points=1, visible=False)
def sum_axes(student):
    """Sum: over axes (0, 2); over -1 with keepdims; over every axis."""
    x = _rng().standard_normal((2, 3, 4))
    for axis, keepdims in (((0, 2), False), (-1, True), (None, False), (None, True)):
        what = f"Sum(axis={axis}, keepdims={keepdims})"
        gradient_check(student, "Sum", [x], what, axis=axis, keepdims=keepdims)
        against_engine(student, "Sum", F.sum, [x], what, axis=axis, keepdims=keepdims)


@A1.check(points=1, visible=False)
def softmax_large_and_3d(student):
    """Softmax: logits in the thousands (finite, no overflow) and a (2, 3, 4) input."""
    rng = _rng()
    against_engine(student, "Softmax", lambda t: F.softmax(t, axis=-1), [1000 * rng.standard_normal((3, 5))],
                   "Softmax of large logits")
    gradient_check(student, "Softmax", [rng.standard_normal((2, 3, 4))], "Softmax on (2, 3, 4)")


@A1.check(points=1, visible=False)
def layer_norm_3d_float32(student):
    """LayerNorm: a (2, 3, 8) input; its gradients in float64, and the engine's in float32."""
    rng = _rng()
    arrays = [rng.standard_normal((2, 3, 8)), rng.standard_normal(8), rng.standard_normal(8)]
    gradient_check(student, "LayerNorm", arrays, "LayerNorm (2, 3, 8)", eps=1e-5)
    against_engine(student, "LayerNorm", F.layer_norm, arrays, "LayerNorm float32", dtype=np.float32, atol=1e-4,
                   rtol=1e-4, eps=1e-5)


@A1.check(points=1, visible=False)
def gelu_tails_float32(student):
    """Gelu: inputs from -8 to 8, float32, equal to the engine's gradients."""
    x = np.linspace(-8, 8, 24).reshape(4, 6)
    gradient_check(student, "Gelu", [x], "Gelu on [-8, 8]")
    against_engine(student, "Gelu", F.gelu, [x], "Gelu float32", dtype=np.float32, atol=1e-5)


@A1.check(points=1, visible=False)
def cross_entropy_ignore_index(student):
    """CrossEntropy: ignored rows get zero gradient; with every target ignored, gradients are zeros, not NaN."""
    logits = _rng().standard_normal((5, 4))
    targets = np.array([1, -100, 3, -100, 0])
    sizes = {"the batch (5 rows)": 5, "the number of rows kept (3)": 3}
    gradient_check(student, "CrossEntropy", [logits], "CrossEntropy with ignored rows", sizes=sizes, targets=targets)
    against_engine(student, "CrossEntropy", F.cross_entropy, [logits], "CrossEntropy with ignored rows", sizes=sizes,
                   targets=targets)
    grad = student.run("CrossEntropy.apply", Leaf(logits, "z"), targets=np.full(5, -100),
                       backward=np.array(1.0)).grads.get("z")
    if grad is None or not np.array_equal(grad, np.zeros_like(logits)):
        raise AssertionError("CrossEntropy with every target ignored: the gradient must be all zeros")
