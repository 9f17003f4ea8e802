"""Assignment A4: mean attention / kernel distances, even-head baselines, one-head ablation and a
local/global classification of the nano model's heads.

Graded against minconvbert.analysis on the embedded nano model with fixed inputs.
"""

from minconvbert.grade.a4_head_analysis import hidden, visible  # noqa: F401  (registers the checks)
from minconvbert.grade.a4_head_analysis.spec import A4

ASSIGNMENT = A4

__all__ = ["ASSIGNMENT"]
