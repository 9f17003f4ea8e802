"""What a failed check says: how many elements differ and where, a constant ratio to the expected values,
and, for a wrong forward with a matching backward, that the two agree with each other but not with
the specification."""

import re

import numpy as np
import pytest

from instructor.solve import solve
from minconvbert.grade import get_assignment, grade
from minconvbert.grade.checks import close
from tests.grade.helpers import by_name, replace_once, solution_text, starter_text, write_student


def _message(actual, expected, **options) -> str:
    with pytest.raises(AssertionError) as error:
        close(actual, expected, "x", **options)
    return str(error.value)


def test_a_mismatch_says_how_many_elements_differ_where_and_the_first():
    expected = np.zeros((2, 6, 1, 3))
    actual = expected.copy()
    actual[:, [0, 5]] = 1.0  # the ends of the sequence
    message = _message(actual, expected, axes="bthd")
    assert message.startswith("x: 12 of 36 elements differ (max abs difference 1)")
    assert "all at t = 0 and t = T-1" in message and "the first at (0, 0, 0, 0): 1, expected 0" in message
    actual = expected.copy()
    actual[:, :2], actual[:, 4:] = 1.0, 1.0
    assert "all at t < 2 or t >= T-2 (the first and last 2)" in _message(actual, expected, axes="bthd")
    assert _message(np.ones(2), np.ones(3)) == "x: shape (2,), expected (3,)"
    assert "holds NaN or infinity: 1 of 3 elements differ" in _message(np.array([1.0, np.nan, 3.0]), np.ones(3))
    assert "expected a Tensor or a NumPy array of numbers, got a str" in _message("oops", np.ones(3))


@pytest.mark.parametrize("factor, hint", [
    (4.0, "your values are 4.00 times the expected everywhere: a missing division by the batch (4)?"),
    (0.25, "your values are 0.25 times the expected everywhere: an extra division by the batch (4)?"),
    (-1.0, "your values are -1.00 times the expected everywhere: a sign error?"),
    (2.0, "your values are 2.00 times the expected everywhere: a missing or extra factor of 2?"),
    (3.7, "your values are 3.70 times the expected everywhere"),
])
def test_a_constant_ratio_is_pointed_out(factor, hint):
    expected = np.random.default_rng(0).standard_normal((4, 5))
    assert _message(factor * expected, expected, sizes={"the batch": 4}).endswith(hint)


def test_no_ratio_is_claimed_when_there_is_none():
    rng = np.random.default_rng(1)
    assert "times the expected" not in _message(rng.standard_normal((4, 5)), rng.standard_normal((4, 5)))


def test_a_cross_entropy_backward_without_the_division_by_the_batch_is_told_so(tmp_path):
    text = replace_once(solution_text("a1"), "grad *= (self.keep * (grad_y / self.count))[:, None]",
                        "grad *= (self.keep * grad_y)[:, None]")
    report = grade("a1", write_student(tmp_path / "a1", "a1", text), only=["cross_entropy_gradcheck"])
    assert report.results[0].reason.endswith(
        "your values are 4.00 times the expected everywhere: a missing division by the batch (the number of rows) (4)?")


FORWARD = '''    spans = unfold_spans(values, kernels.shape[-1])  # (B, T, H, D, K)
    return np.einsum("bthdk,bthk->bthd", spans, kernels).astype(np.result_type(values, kernels), copy=False)'''
CIRCULAR = [
    ("padded = np.pad(values, ((0, 0), (pad, kernel_size - 1 - pad), (0, 0), (0, 0)))  # (B, T + K - 1, H, D)",
     "padded = np.concatenate([values[:, values.shape[1] - pad:], values, values[:, :kernel_size - 1 - pad]], axis=1)"),
    ("""    for k in range(K):
        shift = k - pad  # out[t] read values[t + shift] through tap k
        lo, hi = max(0, -shift), min(T, T - shift)  # the t for which t + shift lies in [0, T)
        if lo < hi:
            grad_values[:, lo + shift : hi + shift] += kernels[:, lo:hi, :, k, None] * grad_out[:, lo:hi]""",
     """    for k in range(K):
        grad_values += np.roll(kernels[..., k, None] * grad_out, k - pad, axis=1)"""),
]


def test_circular_padding_agrees_with_itself_but_not_with_the_specification(tmp_path):
    text = solution_text("a2")
    for old, new in CIRCULAR:
        text = replace_once(text, old, new)
    report = grade("a2", write_student(tmp_path / "a2", "a2", text),
                   only=["forward_matches_reference", "gradcheck_span_conv", "kernel_size_one"])
    results = by_name(report)
    for name in ("forward_matches_reference", "gradcheck_span_conv"):
        reason = results[name].reason
        assert "all at t" in reason and "Your forward and backward agree with each other" in reason, reason
        assert "not with the specification" in reason
    assert re.search(r"^span_conv_forward: \d+ of 84 elements differ .*; the first at \(0, 0, 0, 0\): ",
                     results["forward_matches_reference"].reason), results["forward_matches_reference"].reason
    assert results["kernel_size_one"].passed  # with K = 1 there is no padding to get wrong


def test_a_backward_that_disagrees_with_its_own_forward_is_told_so(tmp_path):
    text = replace_once(solution_text("a2"), "return grad_values, grad_kernels.astype(grad_out.dtype, copy=False)",
                        "return 2 * grad_values, grad_kernels.astype(grad_out.dtype, copy=False)")
    report = grade("a2", write_student(tmp_path / "a2", "a2", text), only=["backward_matches_reference"])
    reason = report.results[0].reason
    assert "a missing or extra factor of 2?" in reason
    assert "Your backward does not match finite differences of your own forward either" in reason


def test_a_python_loop_over_the_elements_loses_the_rule_check_only(tmp_path):
    loop = "\n".join("    " + line for line in ELEMENT_LOOPS["span_conv_forward"].splitlines())
    text = replace_once(solution_text("a2"), FORWARD, loop)
    report = grade("a2", write_student(tmp_path / "a2", "a2", text),
                   only=["forward_matches_reference", "no_python_loops", "larger_case"])
    results = by_name(report)
    assert results["forward_matches_reference"].passed and results["larger_case"].passed
    reason = results["no_python_loops"].reason
    assert reason.startswith("span_conv_forward ran") and "That is a Python loop over positions or elements" in reason
    assert "(the reference kernel: 1.0 times)" in reason


def test_a_loop_over_positions_is_a_loop_too_but_one_over_the_taps_is_fine(tmp_path):
    over_t = '''    T = values.shape[1]
    out = np.zeros(values.shape, dtype=np.result_type(values, kernels))
    spans = unfold_spans(values, kernels.shape[-1])
    for t in range(T):
        out[:, t] = np.einsum("bhdk,bhk->bhd", spans[:, t], kernels[:, t])
    return out'''
    report = grade("a2", write_student(tmp_path / "a2", "a2", replace_once(solution_text("a2"), FORWARD, over_t)),
                   only=["no_python_loops"])
    assert report.results[0].reason.startswith("span_conv_forward ran 20 lines of your file on (1, 5, 1, 2) and 90 ")


ELEMENT_LOOPS = {  # A2 written as a loop over every element, right at every size
    "unfold_spans": """B, T, H, D = values.shape
pad = (kernel_size - 1) // 2
spans = np.zeros((B, T, H, D, kernel_size), dtype=values.dtype)
for b in range(B):
    for t in range(T):
        for h in range(H):
            for d in range(D):
                for k in range(kernel_size):
                    if 0 <= t + k - pad < T:
                        spans[b, t, h, d, k] = values[b, t + k - pad, h, d]
return spans""",
    "span_conv_forward": """B, T, H, D = values.shape
K = kernels.shape[-1]
out = np.zeros(values.shape, dtype=np.result_type(values, kernels))
for b in range(B):
    for t in range(T):
        for h in range(H):
            for d in range(D):
                for k in range(K):
                    if 0 <= t + k - (K - 1) // 2 < T:
                        out[b, t, h, d] += kernels[b, t, h, k] * values[b, t + k - (K - 1) // 2, h, d]
return out""",
    "span_conv_backward": """B, T, H, D = values.shape
K = kernels.shape[-1]
grad_values = np.zeros(values.shape, dtype=grad_out.dtype)
grad_kernels = np.zeros(kernels.shape, dtype=grad_out.dtype)
for b in range(B):
    for t in range(T):
        for h in range(H):
            for d in range(D):
                for k in range(K):
                    s = t + k - (K - 1) // 2
                    if 0 <= s < T:
                        grad_values[b, s, h, d] += kernels[b, t, h, k] * grad_out[b, t, h, d]
                        grad_kernels[b, t, h, k] += grad_out[b, t, h, d] * values[b, s, h, d]
return grad_values, grad_kernels""",
}


def test_an_element_wise_python_loop_a2_loses_the_rule_check_and_only_it(tmp_path):
    report = grade("a2", write_student(tmp_path / "a2", "a2", solve(starter_text("a2"), ELEMENT_LOOPS)))
    failed = {r.name: r.reason for r in report.results if not r.passed}
    assert list(failed) == ["no_python_loops"], failed
    assert report.score == get_assignment("a2").total_points - 2
    assert failed["no_python_loops"].startswith("unfold_spans ran") and "a Python loop over positions" in \
        failed["no_python_loops"]


def test_a_loop_hidden_in_builtins_is_caught_by_the_time_against_the_reference(tmp_path):
    # every element summed by math.fsum through map: no line of the file runs per element, only the time tells
    in_builtins = """    spans = unfold_spans(values, kernels.shape[-1])  # (B, T, H, D, K)
    rows = spans.reshape(-1, kernels.shape[-1]).tolist()
    weights = np.broadcast_to(kernels[:, :, :, None, :], spans.shape).reshape(-1, kernels.shape[-1]).tolist()
    sums = map(math.fsum, map(map, itertools.repeat(operator.mul), rows, weights))
    out = np.fromiter(sums, dtype=np.float64, count=len(rows)).reshape(values.shape)
    return out.astype(np.result_type(values, kernels))"""
    text = replace_once(solution_text("a2"), FORWARD, in_builtins)
    text = replace_once(text, "\nimport numpy as np\n", "\nimport itertools\nimport math\nimport operator\n\nimport numpy as np\n")
    report = grade("a2", write_student(tmp_path / "a2", "a2", text),
                   only=["forward_matches_reference", "larger_case", "no_python_loops"])
    results = by_name(report)
    assert results["forward_matches_reference"].passed and results["larger_case"].passed
    reason = results["no_python_loops"].reason
    assert reason.startswith("span_conv_forward took") and "the reference kernel" in reason, reason
    assert "in the same run" in reason and "times as long (at most 20 times)" in reason
