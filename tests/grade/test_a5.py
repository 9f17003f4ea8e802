"""Assignment A5 (the span convolution as numba loops): plausible wrong kernels lose the right checks.

Each grading run compiles the student's loops in a fresh worker (a few seconds); the speed checks
time them against the NumPy reference in the same run, with thresholds far from the solution's speed.
"""

from minconvbert.grade import grade
from tests.grade.helpers import by_name, replace_once, solution_text, solved_report, write_student

def _graded(tmp_path, text, only):
    return by_name(grade("a5", write_student(tmp_path / "a5", "a5", text), only=only))


def test_compiled_loops_in_the_wrong_order_are_right_and_lose_the_speed_marks(tmp_path):
    slow_order = """batch, length, heads, size = values.shape
width = kernels.shape[3]
pad = (width - 1) // 2
out[:] = 0.0
for d in range(size):  # the contiguous axis outermost, the batch innermost
    for k in range(width):
        for h in range(heads):
            for t in range(length):
                s = t + k - pad
                if 0 <= s < length:
                    for b in range(batch):
                        out[b, t, h, d] += kernels[b, t, h, k] * values[b, s, h, d]"""
    text = solution_text("a5", only={"backward_loop"}).replace(
        '    raise NotImplementedError("forward_loop: write this part")',
        "\n".join("    " + line for line in slow_order.splitlines()))
    results = _graded(tmp_path, text, ["forward_small", "forward_speed", "edges"])
    assert results["forward_small"].passed and results["edges"].passed
    speed = results["forward_speed"]  # 0.03 to 0.07 times the reference's speed: at most the lowest tier
    assert speed.earned <= speed.points / 3 and "times its speed" in speed.reason, speed.reason


def test_a_loop_left_uncompiled_loses_the_speed_marks_quickly(tmp_path):
    text = replace_once(solution_text("a5"), "@njit\ndef forward_loop(", "def forward_loop(")
    results = _graded(tmp_path, text, ["forward_small", "forward_speed"])
    assert results["forward_small"].passed and results["forward_speed"].earned == 0
    assert "is the loop compiled (@njit)" in results["forward_speed"].reason
    assert results["forward_speed"].seconds < 60  # told on the small input, not timed on the large one


def test_the_solution_is_far_above_the_full_marks_threshold():
    results = by_name(solved_report("a5"))
    for result in (results["forward_speed"], results["backward_speed"]):
        assert result.passed, result.reason
        ratio = float(result.reason.split(": ")[1].split(" times")[0])
        assert ratio > 0.75, result.reason  # the full marks start at 0.5


def test_accumulating_without_zeroing_loses_the_forward_checks(tmp_path):
    text = replace_once(solution_text("a5"), "                for d in range(size):\n                    out[b, t, h, d] = 0.0\n",
                        "")
    results = _graded(tmp_path, text, ["forward_small", "backward_small", "edges"])
    assert "does your loop write every element" in results["forward_small"].reason
    assert results["backward_small"].passed and not results["edges"].passed


def test_wrapping_around_the_sequence_loses_the_edge_checks_and_says_where(tmp_path):
    text = replace_once(solution_text("a5"), "s = t + k - pad  # the position tap k reads", "s = (t + k - pad) % length")
    results = _graded(tmp_path, text, ["forward_small", "backward_small"])
    assert "all at t < 2 or t >= T-2 (the first and last 2)" in results["forward_small"].reason
    assert "does not match finite differences of your own forward either" in results["forward_small"].reason
    assert results["backward_small"].passed


def test_wrapping_around_in_both_loops_agrees_with_itself_but_not_with_the_specification(tmp_path):
    text = solution_text("a5")
    for old, new in (("s = t + k - pad  # the position tap k reads", "s = (t + k - pad) % length"),
                     ("t = s - k + pad  # the output", "t = (s - k + pad) % length  # the output"),
                     ("source = s + k - pad  # the position", "source = (s + k - pad) % length  # the position")):
        text = replace_once(text, old, new)
    results = _graded(tmp_path, text, ["forward_small", "backward_small"])
    for name in ("forward_small", "backward_small"):
        reason = results[name].reason
        assert "all at t" in reason and "Your forward and backward agree with each other" in reason, reason
        assert "not with the specification" in reason


def test_a_backward_reading_the_wrong_kernel_loses_the_backward_checks_only(tmp_path):
    text = replace_once(solution_text("a5"), "w = kernels[b, t, h, k]\n                        for d in range(size):\n"
                        "                            grad_values", "w = kernels[b, s, h, k]\n                        for d in "
                        "range(size):\n                            grad_values")
    results = _graded(tmp_path, text, ["forward_small", "backward_small", "larger_case"])
    assert results["forward_small"].passed
    assert results["backward_small"].reason.startswith("(2, 7, 2, 3), K = 5: grad_values: ")
    assert not results["larger_case"].passed
