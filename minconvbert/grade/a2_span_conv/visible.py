"""A2's visible checks: the unfold, the forward, the backward, the gradients through SpanConv, and the
rule (no Python loop over positions or elements), on small inputs."""

import numpy as np

from minconvbert.grade.a2_span_conv.spec import A2, AXES, both_directions, compare, random_case, spans_by_loops
from minconvbert.grade.checks import close, numeric_gradients
from minconvbert.grade.codec import Leaf
from minconvbert.grade.execute import count_lines
from minconvbert.grade.speed import speed_ratio
from minconvbert.kernels import reference


@A2.check(points=2, visible=True)
def unfold_small(student):
    """unfold_spans on values (1, 6, 1, 2) with K = 3."""
    values = np.arange(12, dtype=np.float64).reshape(1, 6, 1, 2)
    close(student.run("unfold_spans", values, 3).value, spans_by_loops(values, 3),
          "unfold_spans(values (1, 6, 1, 2), 3)", axes=AXES["unfold_spans"])


@A2.check(points=2, visible=True)
def forward_matches_reference(student):
    """span_conv_forward on (2, 7, 2, 3) with K = 5, against the reference kernel."""
    values, kernels, _ = random_case(0, 2, 7, 2, 3, 5)
    compare(student, student.run("span_conv_forward", values, kernels).value,
            reference.span_conv_forward(values, kernels), "span_conv_forward", AXES["out"])


@A2.check(points=2, visible=True)
def backward_matches_reference(student):
    """span_conv_backward on (2, 7, 2, 3) with K = 5, against the reference kernel."""
    values, kernels, grad_out = random_case(1, 2, 7, 2, 3, 5)
    result = student.run("span_conv_backward", values, kernels, grad_out).value
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("span_conv_backward must return a tuple (grad_values, grad_kernels)")
    want_values, want_kernels = reference.span_conv_backward(values, kernels, grad_out)
    compare(student, result[0], want_values, "span_conv_backward: grad_values", AXES["grad_values"])
    compare(student, result[1], want_kernels, "span_conv_backward: grad_kernels", AXES["grad_kernels"])


@A2.check(points=2, visible=True)
def gradcheck_span_conv(student):
    """SpanConv (your forward and backward as one operation) on (2, 5, 2, 3) with K = 3: its gradients equal
    finite differences of the specification."""
    values, kernels, _ = random_case(2, 2, 5, 2, 3, 3)
    direction = np.random.default_rng(3).standard_normal(values.shape)
    outcome = student.run("SpanConv.apply", Leaf(values, "values"), Leaf(kernels, "kernels"), backward=direction)
    compare(student, outcome.value, reference.span_conv_forward(values, kernels), "SpanConv forward", AXES["out"])
    want = numeric_gradients(reference.span_conv_forward, [values, kernels], direction)
    for name, expected in zip(("values", "kernels"), want):
        compare(student, outcome.grads.get(name), expected, f"SpanConv: gradient of {name}", AXES["grad_" + name],
                atol=1e-6, rtol=1e-5)


SMALL, LARGE = (1, 5, 1, 2), (3, 40, 2, 6)  # (B, T, H, D), K = 3: 72 times as many elements
# the timing, K = 9: array operations run within a few times the reference's time there; a loop over every
# element, even one whose iterations run inside builtins (map, math.fsum) where no line of the file runs,
# takes 70 to 400 times as long (measured on a 2-core machine under load)
TIMED_SMALL, TIMED, SLOWEST = (1, 16, 2, 8), (2, 64, 4, 16), 20.0


def _lines_run(student, name: str, case) -> int:
    """How many lines of the student's file `name` runs on `case`, whose answer must be right."""
    values, kernels, grad_out = case
    if name == "span_conv_backward":
        outcome = student.run(name, values, kernels, grad_out, count_lines=True)
        if not isinstance(outcome.value, tuple) or len(outcome.value) != 2:
            raise AssertionError("span_conv_backward must return a tuple (grad_values, grad_kernels)")
        for part, mine, theirs in zip(("grad_values", "grad_kernels"), outcome.value,
                                      reference.span_conv_backward(values, kernels, grad_out)):
            close(mine, theirs, f"{name} on {values.shape}: {part}")
    elif name == "unfold_spans":
        outcome = student.run(name, values, 3, count_lines=True)
        close(outcome.value, spans_by_loops(values, 3), f"{name} on {values.shape}")
    else:
        outcome = student.run(name, values, kernels, count_lines=True)
        close(outcome.value, reference.span_conv_forward(values, kernels), f"{name} on {values.shape}")
    if not outcome.lines:
        raise AssertionError(f"{name}: no line of your file was seen running (the grader could not measure it)")
    return outcome.lines


def _time_against_reference(student, name: str) -> None:
    """`name` (span_conv_forward or span_conv_backward) timed against the reference kernel in the same run, on
    TIMED with K = 9: no more than SLOWEST times its time."""
    function = getattr(reference, name)
    width = 2 if name == "span_conv_forward" else 3  # (values, kernels) or (values, kernels, grad_out)
    small, case = random_case(13, *TIMED_SMALL, 9)[:width], random_case(12, *TIMED, 9)[:width]
    ratio, mine, theirs = speed_ratio(student, name, function, small, case, rounds=3)
    if ratio < 1 / SLOWEST:
        raise AssertionError(
            f"{name} took {mine * 1e3:.3g} ms per call on {TIMED} with K = 9, the reference kernel "
            f"{theirs * 1e3:.3g} ms in the same run: {1 / ratio:.0f} times as long (at most {SLOWEST:g} times). That "
            "is a loop over positions or elements (inside map or a comprehension too): use array operations")


@A2.check(points=2, visible=True, timeout=120)
def no_python_loops(student):
    """The rule: the lines of your file that run must not grow with B, T, H and D (a loop over the K taps is
    fine), measured on (1, 5, 1, 2) and (3, 40, 2, 6) with K = 3, against the reference kernel's growth; and
    the forward and backward take at most 20 times the reference kernel's time on (2, 64, 4, 16), K = 9."""
    cases = [random_case(10 + i, *shape, 3) for i, shape in enumerate((SMALL, LARGE))]
    reference_lines = [count_lines(reference.span_conv_backward, reference.__file__, *case)[1] for case in cases]
    reference_growth = reference_lines[1] / reference_lines[0]
    for name in ("unfold_spans", "span_conv_forward", "span_conv_backward"):
        small, large = (_lines_run(student, name, case) for case in cases)
        if large / small > 2 * reference_growth:
            raise AssertionError(
                f"{name} ran {small} lines of your file on {SMALL} and {large} on {LARGE}: {large / small:.1f} times "
                f"as many for 72 times as many elements (the reference kernel: {reference_growth:.1f} times). That is "
                "a Python loop over positions or elements: use array operations (a loop over the K taps is fine)")
    for name in ("span_conv_forward", "span_conv_backward"):
        _time_against_reference(student, name)
