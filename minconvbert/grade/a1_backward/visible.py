"""A1's visible checks: a float64 gradient check of each operation on a plain input (1 point each)."""

import numpy as np

from minconvbert.grade.a1_backward.spec import A1
from minconvbert.grade.checks import grad_check, leaf, need
from minconvbert.tensor import Tensor


def _rng():
    return np.random.default_rng(1)


@A1.check(points=1, visible=True)
def mul_gradcheck(student):
    """Mul: gradcheck on two (3, 4) inputs."""
    rng = _rng()
    grad_check(need(student, "Mul").apply, [leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((3, 4)))],
               "Mul")


@A1.check(points=1, visible=True)
def div_gradcheck(student):
    """Div: gradcheck on two (3, 4) inputs, the divisor away from 0."""
    rng = _rng()
    b = rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4))
    grad_check(need(student, "Div").apply, [leaf(rng.standard_normal((3, 4))), leaf(b)], "Div")


@A1.check(points=1, visible=True)
def tanh_gradcheck(student):
    """Tanh: gradcheck on a (3, 4) input."""
    grad_check(need(student, "Tanh").apply, [leaf(_rng().standard_normal((3, 4)))], "Tanh")


@A1.check(points=1, visible=True)
def matmul_gradcheck(student):
    """MatMul: gradcheck on (3, 4) @ (4, 2)."""
    rng = _rng()
    grad_check(need(student, "MatMul").apply, [leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((4, 2)))],
               "MatMul")


@A1.check(points=1, visible=True)
def sum_gradcheck(student):
    """Sum: gradcheck of a (2, 3, 4) input summed over axis 1."""
    Sum = need(student, "Sum")
    grad_check(lambda x: Sum.apply(x, axis=1), [leaf(_rng().standard_normal((2, 3, 4)))], "Sum over axis 1")


@A1.check(points=1, visible=True)
def softmax_gradcheck(student):
    """Softmax: gradcheck on a (3, 5) input."""
    grad_check(need(student, "Softmax").apply, [leaf(_rng().standard_normal((3, 5)))], "Softmax")


@A1.check(points=1, visible=True)
def layer_norm_gradcheck(student):
    """LayerNorm: gradcheck on x (4, 6), weight and bias (6,) all random."""
    rng = _rng()
    LayerNorm = need(student, "LayerNorm")
    inputs = [leaf(rng.standard_normal((4, 6))), leaf(rng.standard_normal(6)), leaf(rng.standard_normal(6))]
    grad_check(lambda x, w, b: LayerNorm.apply(x, w, b, eps=1e-5), inputs, "LayerNorm")


@A1.check(points=1, visible=True)
def gelu_gradcheck(student):
    """Gelu: gradcheck on a (3, 5) input."""
    grad_check(need(student, "Gelu").apply, [leaf(2 * _rng().standard_normal((3, 5)))], "Gelu")


@A1.check(points=1, visible=True)
def cross_entropy_gradcheck(student):
    """CrossEntropy: gradcheck of the loss of (4, 5) logits with integer targets."""
    rng = _rng()
    CrossEntropy = need(student, "CrossEntropy")
    targets = Tensor(np.array([0, 3, 1, 4]))
    grad_check(lambda z: CrossEntropy.apply(z, targets), [leaf(rng.standard_normal((4, 5)))], "CrossEntropy")
