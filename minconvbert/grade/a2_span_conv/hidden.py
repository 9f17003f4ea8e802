"""A2's hidden checks: edge sizes, float32, untouched inputs, a larger case. Not shown to the student."""

import numpy as np

from minconvbert.grade.a2_span_conv.spec import A2, AXES, both_directions, random_case, spans_by_loops
from minconvbert.grade.checks import close, numeric_gradients
from minconvbert.grade.codec import Leaf
from minconvbert.kernels import reference


@A2.check(points=1, visible=False)
def kernel_size_one(student):
    """K = 1: each position only scales its own value."""
    values, kernels, grad_out = random_case(3, 2, 4, 3, 2, 1)
    both_directions(student, values, kernels, grad_out, "K = 1")
    close(student.run("unfold_spans", values, 1).value, values[..., None], "unfold_spans with K = 1")


@A2.check(points=1, visible=False)
def sequence_shorter_than_kernel(student):
    """T = 2 with K = 7: every span reaches past both ends of the sequence; SpanConv's gradients too."""
    values, kernels, grad_out = random_case(4, 2, 2, 2, 3, 7)
    both_directions(student, values, kernels, grad_out, "T = 2, K = 7")
    outcome = student.run("SpanConv.apply", Leaf(values, "values"), Leaf(kernels, "kernels"), backward=grad_out)
    for name, want in zip(("values", "kernels"), numeric_gradients(reference.span_conv_forward, [values, kernels],
                                                                  grad_out)):
        close(outcome.grads.get(name), want, f"SpanConv with T = 2, K = 7: gradient of {name}", atol=1e-6, rtol=1e-5)


@A2.check(points=1, visible=False)
def single_position(student):
    """T = 1: only the centre tap sees a value."""
    values, kernels, grad_out = random_case(5, 3, 1, 2, 4, 5)
    both_directions(student, values, kernels, grad_out, "T = 1")


@A2.check(points=1, visible=False)
def unfold_wide_kernel(student):
    """unfold_spans with K = 9 on a sequence of 4 (most of each span is padding)."""
    values = np.random.default_rng(6).standard_normal((2, 4, 3, 2))
    close(student.run("unfold_spans", values, 9).value, spans_by_loops(values, 9),
          "unfold_spans(values (2, 4, 3, 2), 9)", axes=AXES["unfold_spans"])


@A2.check(points=1, visible=False)
def float32_stays_float32(student):
    """float32 inputs give float32 outputs and gradients, equal to the reference within float32 precision."""
    values, kernels, grad_out = random_case(7, 2, 9, 2, 4, 5, dtype=np.float32)
    out = student.run("span_conv_forward", values, kernels).value
    grads = student.run("span_conv_backward", values, kernels, grad_out).value
    for what, array in (("forward output", out), *zip(("grad_values", "grad_kernels"), grads or ())):
        dtype = getattr(array, "dtype", None)
        if dtype != np.float32:
            raise AssertionError(f"{what} is {dtype or type(array).__name__} for float32 inputs; keep float32")
    both_directions(student, values, kernels, grad_out, "float32", atol=1e-5, rtol=1e-5)


@A2.check(points=1, visible=False)
def inputs_unchanged(student):
    """The unfold, the forward and the backward give the right values and leave their input arrays untouched."""
    values, kernels, grad_out = random_case(8, 2, 6, 2, 3, 5)
    names = ("values", "kernels", "grad_out")
    for function, args in (("unfold_spans", (values, 5)), ("span_conv_forward", (values, kernels)),
                           ("span_conv_backward", (values, kernels, grad_out))):
        changed = student.run(function, *args).changed
        if changed:
            which = [names[int(label.split()[-1])] for label in changed if label.split()[-1].isdigit()]
            raise AssertionError(f"{function} modified {', '.join(which) or changed[0]} in place")
    both_directions(student, values, kernels, grad_out, "(2, 6, 2, 3), K = 5")


@A2.check(points=2, visible=False)
def larger_case(student):
    """B = 3, T = 33, H = 4, D = 16, K = 9, against the reference kernel."""
    values, kernels, grad_out = random_case(9, 3, 33, 4, 16, 9)
    both_directions(student, values, kernels, grad_out, "(3, 33, 4, 16), K = 9")
