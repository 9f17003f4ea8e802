"""Assignment A5 (the span convolution as numba loops): its definition, and what its checks share.

Graded against minconvbert.kernels.reference (the NumPy reference) for equality, and for speed as a
ratio of the two measured in the same run (minconvbert.grade.speed).
"""

import numpy as np

from minconvbert.grade.a2_span_conv.spec import consistency_note, random_case  # noqa: F401  (shared with A2)
from minconvbert.grade.checks import close
from minconvbert.grade.framework import Assignment
from minconvbert.kernels import reference

A5 = Assignment(
    key="a5",
    name="a5_kernels",
    title="the span convolution as compiled loops (numba)",
    student_file="span_conv_kernels.py",
    package=__package__,
    allowed=("numba",),
    preload=("numba",),
)

SPEED_SHAPE, SPEED_K = (8, 256, 4, 64), 9  # float32: the reference takes a few ms per call
SMALL_SHAPE = (1, 32, 2, 16)  # to compile on, and to tell a plain Python loop without waiting for it


def _close(student, got, want, what, **options) -> None:
    """close(), pointing at the NaN the wrappers fill the outputs with when some are left, or else saying
    whether the student's backward at least agrees with the student's own forward (A2's consistency_note)."""
    try:
        close(got, want, what, **options)
    except AssertionError as error:
        if "NaN" not in str(error):
            raise AssertionError(str(error) + consistency_note(student)) from None
        raise AssertionError(f"{error}. The outputs arrive filled with NaN: does your loop write every element (set "
                             "it to 0 before adding to it)?") from None


def forward_equal(student, values, kernels, what: str, atol=1e-10, rtol=1e-10) -> None:
    _close(student, student.run("span_conv_forward", values, kernels).value, reference.span_conv_forward(values, kernels),
           f"{what}: span_conv_forward", atol=atol, rtol=rtol, axes="bthd")


def backward_equal(student, values, kernels, grad_out, what: str, atol=1e-10, rtol=1e-10) -> None:
    got = student.run("span_conv_backward", values, kernels, grad_out).value
    if not isinstance(got, tuple) or len(got) != 2:
        raise AssertionError(f"{what}: span_conv_backward must return (grad_values, grad_kernels)")
    want = reference.span_conv_backward(values, kernels, grad_out)
    for name, mine, theirs, axes in zip(("grad_values", "grad_kernels"), got, want, ("bthd", "bthk")):
        _close(student, mine, theirs, f"{what}: {name}", atol=atol, rtol=rtol, axes=axes)
