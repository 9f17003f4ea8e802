"""Assignment A1: write the backward of Mul, Div, Tanh, MatMul, Sum, Softmax, LayerNorm, Gelu, CrossEntropy.

Graded against finite differences of each operation's maths and against the engine's own operations
(minconvbert.functional).
"""

from minconvbert.grade.a1_backward import hidden, visible  # noqa: F401  (registers the checks)
from minconvbert.grade.a1_backward.spec import A1

ASSIGNMENT = A1

__all__ = ["ASSIGNMENT"]
