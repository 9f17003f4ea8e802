"""Assignment A2: unfold_spans, span_conv_forward and span_conv_backward in NumPy, without Python loops
over the elements.

Graded against the package's reference kernel (minconvbert.kernels.reference), by finite differences
of the specification, and by counting the lines of the student's file that run at two sizes.
"""

from minconvbert.grade.a2_span_conv import hidden, visible  # noqa: F401  (registers the checks)
from minconvbert.grade.a2_span_conv.spec import A2

ASSIGNMENT = A2

__all__ = ["ASSIGNMENT"]
