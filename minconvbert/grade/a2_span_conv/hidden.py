"""A2's hidden checks: edge sizes, float32, untouched inputs, a larger case. Not shown to the student."""

import numpy as np

from minconvbert.grade.a2_span_conv.spec import A2, random_case, spans_by_loops
from minconvbert.grade.checks import close, grad_check, leaf, need
from minconvbert.kernels import reference


def _both_directions(student, values, kernels, grad_out, what, atol=1e-8, rtol=1e-6):
    close(need(student, "span_conv_forward")(values, kernels), reference.span_conv_forward(values, kernels),
          f"{what}: forward", atol=atol, rtol=rtol)
    got = need(student, "span_conv_backward")(values, kernels, grad_out)
    want = reference.span_conv_backward(values, kernels, grad_out)
    close(got[0], want[0], f"{what}: grad_values", atol=atol, rtol=rtol)
    close(got[1], want[1], f"{what}: grad_kernels", atol=atol, rtol=rtol)


@A2.check(points=1, visible=False)
def kernel_size_one(student):
    """K = 1: each position only scales its own value."""
    values, kernels, grad_out = random_case(3, 2, 4, 3, 2, 1)
    _both_directions(student, values, kernels, grad_out, "K = 1")
    close(need(student, "unfold_spans")(values, 1), values[..., None], "unfold_spans with K = 1")


@A2.check(points=1, visible=False)
def sequence_shorter_than_kernel(student):
    """T = 2 with K = 7: every span reaches past both ends of the sequence."""
    values, kernels, grad_out = random_case(4, 2, 2, 2, 3, 7)
    _both_directions(student, values, kernels, grad_out, "T = 2, K = 7")
    grad_check(need(student, "SpanConv").apply, [leaf(values), leaf(kernels)], "SpanConv with T = 2, K = 7")


@A2.check(points=1, visible=False)
def single_position(student):
    """T = 1: only the centre tap sees a value."""
    values, kernels, grad_out = random_case(5, 3, 1, 2, 4, 5)
    _both_directions(student, values, kernels, grad_out, "T = 1")


@A2.check(points=1, visible=False)
def unfold_wide_kernel(student):
    """unfold_spans with K = 9 on a sequence of 4 (most of each span is padding)."""
    values = np.random.default_rng(6).standard_normal((2, 4, 3, 2))
    close(need(student, "unfold_spans")(values, 9), spans_by_loops(values, 9), "unfold_spans(values (2, 4, 3, 2), 9)")


@A2.check(points=1, visible=False)
def float32_stays_float32(student):
    """float32 inputs give float32 outputs and gradients, equal to the reference within float32 precision."""
    values, kernels, grad_out = random_case(7, 2, 9, 2, 4, 5, dtype=np.float32)
    out = need(student, "span_conv_forward")(values, kernels)
    grads = need(student, "span_conv_backward")(values, kernels, grad_out)
    for what, array in (("forward output", out), ("grad_values", grads[0]), ("grad_kernels", grads[1])):
        if np.asarray(array).dtype != np.float32:
            raise AssertionError(f"{what} is {np.asarray(array).dtype} for float32 inputs; keep float32")
    _both_directions(student, values, kernels, grad_out, "float32", atol=1e-5, rtol=1e-5)


@A2.check(points=1, visible=False)
def inputs_unchanged(student):
    """The forward and the backward leave their input arrays untouched."""
    values, kernels, grad_out = random_case(8, 2, 6, 2, 3, 5)
    copies = [a.copy() for a in (values, kernels, grad_out)]
    need(student, "unfold_spans")(values, 5)
    need(student, "span_conv_forward")(values, kernels)
    need(student, "span_conv_backward")(values, kernels, grad_out)
    for name, before, after in zip(("values", "kernels", "grad_out"), copies, (values, kernels, grad_out)):
        if not np.array_equal(before, after):
            raise AssertionError(f"{name} was modified in place")


@A2.check(points=2, visible=False)
def larger_case(student):
    """B = 3, T = 33, H = 4, D = 16, K = 9, against the reference kernel (a loop over every element is too slow)."""
    values, kernels, grad_out = random_case(9, 3, 33, 4, 16, 9)
    _both_directions(student, values, kernels, grad_out, "(3, 33, 4, 16), K = 9")
