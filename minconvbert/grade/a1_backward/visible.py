"""A1's visible checks: each operation's gradients against finite differences of its maths (1 point each)."""

import numpy as np

from minconvbert.grade.a1_backward.spec import A1, gradient_check


def _rng():
    return np.random.default_rng(1)


@A1.check(points=1, visible=True)
def mul_gradcheck(student):
    """Mul: two (3, 4) inputs."""
    rng = _rng()
    gradient_check(student, "Mul", [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], "Mul")


@A1.check(points=1, visible=True)
def div_gradcheck(student):
    """Div: two (3, 4) inputs, the divisor away from 0."""
    rng = _rng()
    b = rng.uniform(0.5, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4))
    gradient_check(student, "Div", [rng.standard_normal((3, 4)), b], "Div")


@A1.check(points=1, visible=True)
def tanh_gradcheck(student):
    """Tanh: a (3, 4) input."""
    gradient_check(student, "Tanh", [_rng().standard_normal((3, 4))], "Tanh")


@A1.check(points=1, visible=True)
def matmul_gradcheck(student):
    """MatMul: (3, 4) @ (4, 2)."""
    rng = _rng()
    gradient_check(student, "MatMul", [rng.standard_normal((3, 4)), rng.standard_normal((4, 2))], "MatMul")


@A1.check(points=1, visible=True)
def sum_gradcheck(student):
    """Sum: a (2, 3, 4) input summed over axis 1."""
    gradient_check(student, "Sum", [_rng().standard_normal((2, 3, 4))], "Sum over axis 1", axis=1)


@A1.check(points=1, visible=True)
def softmax_gradcheck(student):
    """Softmax: a (3, 5) input."""
    gradient_check(student, "Softmax", [_rng().standard_normal((3, 5))], "Softmax")


@A1.check(points=1, visible=True)
def layer_norm_gradcheck(student):
    """LayerNorm: x (4, 6), weight and bias (6,), all random."""
    rng = _rng()
    arrays = [rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)]
    gradient_check(student, "LayerNorm", arrays, "LayerNorm", sizes={"N (the last axis)": 6}, eps=1e-5)


@A1.check(points=1, visible=True)
def gelu_gradcheck(student):
    """Gelu: a (3, 5) input."""
    gradient_check(student, "Gelu", [2 * _rng().standard_normal((3, 5))], "Gelu")


@A1.check(points=1, visible=True)
def cross_entropy_gradcheck(student):
    """CrossEntropy: the loss of (4, 5) logits with integer targets (a keyword, as in the engine)."""
    gradient_check(student, "CrossEntropy", [_rng().standard_normal((4, 5))], "CrossEntropy",
                   sizes={"the batch (the number of rows)": 4}, targets=np.array([0, 3, 1, 4]))
