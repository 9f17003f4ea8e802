"""A2's visible checks: the unfold, the forward, the backward, and a gradient check, on small inputs."""

import numpy as np

from minconvbert.grade.a2_span_conv.spec import A2, random_case, spans_by_loops
from minconvbert.grade.checks import close, grad_check, leaf, need
from minconvbert.kernels import reference


@A2.check(points=2, visible=True)
def unfold_small(student):
    """unfold_spans on values (1, 6, 1, 2) with K = 3."""
    values = np.arange(12, dtype=np.float64).reshape(1, 6, 1, 2)
    close(need(student, "unfold_spans")(values, 3), spans_by_loops(values, 3), "unfold_spans(values (1, 6, 1, 2), 3)")


@A2.check(points=2, visible=True)
def forward_matches_reference(student):
    """span_conv_forward on (2, 7, 2, 3) with K = 5, against the reference kernel."""
    values, kernels, _ = random_case(0, 2, 7, 2, 3, 5)
    close(need(student, "span_conv_forward")(values, kernels), reference.span_conv_forward(values, kernels),
          "span_conv_forward")


@A2.check(points=2, visible=True)
def backward_matches_reference(student):
    """span_conv_backward on (2, 7, 2, 3) with K = 5, against the reference kernel."""
    values, kernels, grad_out = random_case(1, 2, 7, 2, 3, 5)
    result = need(student, "span_conv_backward")(values, kernels, grad_out)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("span_conv_backward must return a tuple (grad_values, grad_kernels)")
    want_values, want_kernels = reference.span_conv_backward(values, kernels, grad_out)
    close(result[0], want_values, "span_conv_backward: grad_values")
    close(result[1], want_kernels, "span_conv_backward: grad_kernels")


@A2.check(points=2, visible=True)
def gradcheck_span_conv(student):
    """gradcheck of SpanConv (your forward and backward) on (2, 5, 2, 3) with K = 3."""
    values, kernels, _ = random_case(2, 2, 5, 2, 3, 3)
    grad_check(need(student, "SpanConv").apply, [leaf(values), leaf(kernels)], "SpanConv")
