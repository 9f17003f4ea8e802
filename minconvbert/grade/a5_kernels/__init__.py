"""Assignment A5: the span convolution's forward and backward as numba loops (the course's kernel homework).

Graded on equality with minconvbert.kernels.reference and on speed against it, measured in the same run.
"""

from minconvbert.grade.a5_kernels import hidden, visible  # noqa: F401  (registers the checks)
from minconvbert.grade.a5_kernels.spec import A5

ASSIGNMENT = A5

__all__ = ["ASSIGNMENT"]
