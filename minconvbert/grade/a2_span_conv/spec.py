"""Assignment A2 (the span-based dynamic convolution): its definition, and what its checks share.

The expected values come from minconvbert.kernels.reference, computed here in the grader. When the
student's forward or backward is wrong, `compare` adds whether the student's backward at least
agrees with finite differences of the student's own forward: a forward that wraps around the
sequence (circular instead of zero padding) with the matching backward does exactly that.
"""

import numpy as np

from minconvbert.grade.checks import agree_with_own_forward, close
from minconvbert.grade.framework import Assignment
from minconvbert.kernels import reference

A2 = Assignment(
    key="a2",
    name="a2_span_conv",
    title="the span-based dynamic convolution, forward and backward",
    student_file="span_conv.py",
    package=__package__,
    allowed=("minconvbert.function", "minconvbert.tensor", "minconvbert.testing"),
)

AXES = {"unfold_spans": "bthdk", "out": "bthd", "grad_values": "bthd", "grad_kernels": "bthk"}


def spans_by_loops(values, K):
    """unfold_spans written as plainly as possible: the expected answer."""
    B, T, H, D = values.shape
    P = (K - 1) // 2
    spans = np.zeros((B, T, H, D, K), dtype=values.dtype)
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                spans[:, t, :, :, k] = values[:, t + k - P]
    return spans


def random_case(seed, B, T, H, D, K, dtype=np.float64):
    """values, softmaxed kernels and an output gradient of the given sizes."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((B, T, H, D)).astype(dtype)
    logits = rng.standard_normal((B, T, H, K))
    kernels = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(dtype)
    grad_out = rng.standard_normal((B, T, H, D)).astype(dtype)
    return values, kernels, grad_out


def consistency_note(student) -> str:
    """Whether the student's backward matches finite differences of the student's own forward, on a
    small float64 case (2, 5, 1, 2) with K = 3 (A2's span_conv_forward/backward, and A5's of the same names)."""
    values, kernels, direction = random_case(98, 2, 5, 1, 2, 3)
    grads = student.run("span_conv_backward", values, kernels, direction).value
    agree = agree_with_own_forward(student, "span_conv_forward", [values, kernels], direction, grads) \
        if isinstance(grads, tuple) and len(grads) == 2 else None
    if agree:
        return (". Your forward and backward agree with each other (a gradient check of the two passes) but not "
                "with the specification: outside the sequence the values are zero (not wrapped around)?")
    if agree is False:
        return ". (Your backward does not match finite differences of your own forward either.)"
    return ""


def compare(student, got, want, what: str, axes: str, atol=1e-8, rtol=1e-6) -> None:
    """close(got, want), adding `consistency_note` to a failure."""
    try:
        close(got, want, what, atol=atol, rtol=rtol, axes=axes)
    except AssertionError as error:
        raise AssertionError(str(error) + consistency_note(student)) from None


def both_directions(student, values, kernels, grad_out, what, atol=1e-8, rtol=1e-6) -> None:
    """span_conv_forward and span_conv_backward against the reference kernels."""
    got = student.run("span_conv_forward", values, kernels).value
    compare(student, got, reference.span_conv_forward(values, kernels), f"{what}: forward", AXES["out"], atol, rtol)
    got = student.run("span_conv_backward", values, kernels, grad_out).value
    if not isinstance(got, tuple) or len(got) != 2:
        raise AssertionError(f"{what}: span_conv_backward must return a tuple (grad_values, grad_kernels)")
    want = reference.span_conv_backward(values, kernels, grad_out)
    for name, mine, theirs in zip(("grad_values", "grad_kernels"), got, want):
        compare(student, mine, theirs, f"{what}: {name}", AXES[name], atol, rtol)
