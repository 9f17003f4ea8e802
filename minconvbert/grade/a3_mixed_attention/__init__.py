"""Assignment A3: the mixed attention block with differentiable operations.

Graded against the model's ConvBertSelfAttention with the same weights: outputs and gradients.
"""

from minconvbert.grade.a3_mixed_attention import hidden, visible  # noqa: F401  (registers the checks)
from minconvbert.grade.a3_mixed_attention.spec import A3

ASSIGNMENT = A3

__all__ = ["ASSIGNMENT"]
