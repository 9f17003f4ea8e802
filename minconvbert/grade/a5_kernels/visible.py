"""A5's visible checks: the forward and the backward equal the reference on a small case, and their speed
against the NumPy reference on a larger one (partial credit by tiers)."""

import numpy as np

from minconvbert.grade.a5_kernels.spec import (
    A5,
    SMALL_SHAPE,
    SPEED_K,
    SPEED_SHAPE,
    backward_equal,
    forward_equal,
    random_case,
)
from minconvbert.grade.speed import speed_ratio, speed_score
from minconvbert.kernels import reference


@A5.check(points=2, visible=True)
def forward_small(student):
    """span_conv_forward on (2, 7, 2, 3) with K = 5, float64."""
    values, kernels, _ = random_case(0, 2, 7, 2, 3, 5)
    forward_equal(student, values, kernels, "(2, 7, 2, 3), K = 5")


@A5.check(points=2, visible=True)
def backward_small(student):
    """span_conv_backward on (2, 7, 2, 3) with K = 5, float64."""
    values, kernels, grad_out = random_case(1, 2, 7, 2, 3, 5)
    backward_equal(student, values, kernels, grad_out, "(2, 7, 2, 3), K = 5")


@A5.check(points=3, visible=True, timeout=120)
def forward_speed(student):
    """span_conv_forward on (8, 256, 4, 64) float32 with K = 9: full marks at the reference's speed or faster,
    2/3 from half of it, 1/3 from a quarter."""
    values, kernels, _ = random_case(2, *SPEED_SHAPE, SPEED_K, np.float32)
    small = random_case(12, *SMALL_SHAPE, SPEED_K, np.float32)[:2]
    ratio, mine, theirs = speed_ratio(student, "span_conv_forward", reference.span_conv_forward, small,
                                      [values, kernels], atol=1e-5, rtol=1e-5)
    return speed_score(ratio, "span_conv_forward", mine, theirs)


@A5.check(points=3, visible=True, timeout=120)
def backward_speed(student):
    """span_conv_backward on (8, 256, 4, 64) float32 with K = 9, with the same tiers."""
    values, kernels, grad_out = random_case(3, *SPEED_SHAPE, SPEED_K, np.float32)
    small = random_case(13, *SMALL_SHAPE, SPEED_K, np.float32)
    ratio, mine, theirs = speed_ratio(student, "span_conv_backward", reference.span_conv_backward, small,
                                      [values, kernels, grad_out], atol=1e-4, rtol=1e-4)
    return speed_score(ratio, "span_conv_backward", mine, theirs)
