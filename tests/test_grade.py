"""The autograder: solutions score full marks, student versions zero, partial work partial marks,
and broken student files (syntax errors, infinite loops, exits, prints) never break the grader.

Each grading run starts a worker process (~1 s); the whole file takes about half a minute.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minconvbert.grade import assignment_keys, get_assignment, grade, make_student, strip_solutions
from minconvbert.grade.solutions import MarkerError, solution_blocks

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignment_keys()


def solution_dir(key):
    return get_assignment(key).source_dir()


def write_student(tmp_path, key, text):
    folder = tmp_path / f"student-{key}"
    folder.mkdir()
    (folder / get_assignment(key).student_file).write_text(text, encoding="utf-8")
    return folder


def solution_text(key):
    a = get_assignment(key)
    return (a.source_dir() / a.student_file).read_text(encoding="utf-8")


# ----- the assignments themselves ----------------------------------------------------------------
@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_solution_scores_full_marks(key):
    report = grade(key, solution_dir(key))
    failed = [(r.name, r.reason) for r in report.results if not r.passed]
    assert not failed, f"{key}: the solution fails {failed}"
    assert report.score == report.total > 0


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_student_version_scores_zero_and_keeps_the_interface(key, tmp_path):
    a = get_assignment(key)
    written = make_student(a, tmp_path / "student")
    names = sorted(p.name for p in written)
    assert names == sorted([a.student_file, "README.md", "visible_checks.py"])
    student = (tmp_path / "student" / a.student_file).read_text()
    assert "BEGIN SOLUTION" not in student and "END SOLUTION" not in student
    solution = solution_text(key)
    for line in solution.splitlines():  # every signature and docstring line survives
        if line.lstrip().startswith(("def ", "class ", '"""')):
            assert line in student.splitlines(), f"{key}: {line.strip()!r} missing from the student version"
    report = grade(key, tmp_path / "student")
    assert report.score == 0 and report.total == a.total_points
    assert all("not implemented" in r.reason for r in report.results), [r.reason for r in report.results]
    hidden = [c.name for c in a.checks if not c.visible]
    visible_source = (tmp_path / "student" / "visible_checks.py").read_text()
    assert hidden and not any(f"def {name}(" in visible_source for name in hidden)
    assert all(f"def {c.name}(" in visible_source for c in a.checks if c.visible)


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_every_assignment_has_a_readme_naming_its_checks(key):
    a = get_assignment(key)
    readme = (a.source_dir() / "README.md").read_text()
    for check in a.checks:
        if check.visible:
            assert f"`{check.name}`" in readme, f"{key}: README.md does not list the visible check {check.name}"
    assert f"{a.total_points:g} points" in readme


# ----- partial and broken student work ---------------------------------------------------------
def test_partial_work_gets_partial_marks(tmp_path):
    # A1 with only Mul, Tanh and Softmax solved, and a Div that forgets to sum back over broadcast axes
    text = strip_solutions(solution_text("a1"), keep=lambda owner: owner in ("Mul.backward", "Tanh.backward",
                                                                             "Softmax.backward", "Div.backward"))
    text = text.replace("grad_a = unbroadcast(grad_y / self.b, self.a.shape)", "grad_a = grad_y / self.b")
    text = text.replace("grad_b = unbroadcast(-grad_y * self.a / (self.b * self.b), self.b.shape)",
                        "grad_b = -grad_y * self.a / (self.b * self.b)")
    report = grade("a1", write_student(tmp_path, "a1", text))
    passed = {r.name for r in report.results if r.passed}
    assert passed == {"mul_gradcheck", "mul_broadcasting", "tanh_gradcheck", "tanh_saturated_float32",
                      "softmax_gradcheck", "softmax_large_and_3d", "div_gradcheck"}
    div = next(r for r in report.results if r.name == "div_broadcasting")
    assert not div.passed and "Div.backward returned a gradient of shape" in div.reason
    assert report.score == 7


def test_a_wrong_answer_is_reported_with_the_failing_values(tmp_path):
    # A3 with scores divided by D instead of sqrt(D): the attention parts fail, the convolution parts pass
    text = solution_text("a3").replace("/ math.sqrt(D)", "/ D")
    report = grade("a3", write_student(tmp_path, "a3", text))
    by_name = {r.name: r for r in report.results}
    assert by_name["attention_heads_match"].reason.startswith("attention_heads: probs: wrong values (max abs difference")
    assert by_name["separable_conv_matches"].passed and by_name["conv_heads_match"].passed
    assert by_name["dynamic_kernels_match"].passed and not by_name["mixed_attention_matches"].passed
    assert 0 < report.score < report.total


def test_syntax_error_fails_every_check_without_crashing(tmp_path):
    folder = write_student(tmp_path, "a2", "def unfold_spans(values, kernel_size:\n    return values\n")
    report = grade("a2", folder)
    assert report.score == 0 and len(report.results) == len(get_assignment("a2").checks)
    assert all("SyntaxError" in r.reason and "line 1" in r.reason for r in report.results)
    assert "could not import" in report.note


def test_infinite_loop_in_one_function_times_out_only_its_checks(tmp_path):
    text = solution_text("a2").replace('    """The span each position reads', '    while True:\n        pass\n'
                                       '    """The span each position reads', 1)
    report = grade("a2", write_student(tmp_path, "a2", text), timeout=3,
                   only=["unfold_small", "forward_matches_reference", "kernel_size_one", "inputs_unchanged"])
    by_name = {r.name: r for r in report.results}
    assert "timed out after 3 s" in by_name["unfold_small"].reason
    assert "timed out" in by_name["forward_matches_reference"].reason  # the forward calls unfold_spans
    assert report.score == 0 and len(report.results) == 4


def test_infinite_loop_at_import_and_exits_are_contained(tmp_path):
    looping = write_student(tmp_path, "a1", "while True:\n    pass\n")
    report = grade("a1", looping, timeout=2, only=["mul_gradcheck", "tanh_gradcheck"])
    assert report.score == 0 and all("did not finish within 2 s" in r.reason for r in report.results)

    # os._exit ends the worker mid-check; sys.exit is caught as a failure; prints are ignored
    text = solution_text("a1").replace(
        '        """(dL/da, dL/db), summed back to the shapes of a and b (hint: unbroadcast)."""',
        '        """(dL/da, dL/db), summed back to the shapes of a and b (hint: unbroadcast)."""\n'
        '        import os\n        os._exit(3)', 1)
    text = text.replace('        """(dL/dx,)."""\n        # BEGIN SOLUTION\n        return (grad_y * (1.0 - self.y',
                        '        """(dL/dx,)."""\n        import sys\n        sys.exit(1)\n        # BEGIN SOLUTION\n'
                        '        return (grad_y * (1.0 - self.y', 1)
    text = 'print("{garbage not json", flush=True)\n' + text
    folder = tmp_path / "exits"
    folder.mkdir()
    (folder / "backward_ops.py").write_text(text)
    report = grade("a1", folder, only=["mul_gradcheck", "tanh_gradcheck", "softmax_gradcheck", "gelu_gradcheck"])
    by_name = {r.name: r for r in report.results}
    assert "ended the grading process (exit code 3)" in by_name["mul_gradcheck"].reason
    assert not by_name["tanh_gradcheck"].passed and "SystemExit" in by_name["tanh_gradcheck"].reason
    assert by_name["softmax_gradcheck"].passed and by_name["gelu_gradcheck"].passed  # a new worker carried on


def test_missing_file_and_missing_names(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report = grade("a3", empty)
    assert report.score == 0 and "missing" in report.note
    assert all("no file mixed_attention.py" in r.reason for r in report.results)
    report = grade("a3", write_student(tmp_path, "a3", "x = 1\n"), only=["separable_conv_matches"])
    assert report.results[0].reason == "the student file defines no separable_conv"


def test_exceptions_name_the_line_in_the_student_file(tmp_path):
    text = solution_text("a1").replace("        return (y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True)),)",
                                       "        return (y * undefined_name,)")
    report = grade("a1", write_student(tmp_path, "a1", text), only=["softmax_gradcheck"])
    reason = report.results[0].reason
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "undefined_name" in l)
    assert reason.startswith("NameError") and f"backward_ops.py:{line} in backward" in reason


def test_setup_result_reaches_checks_that_ask_for_ctx(tmp_path, monkeypatch):
    """The hook A4 will use: Assignment(setup=...) runs in the worker; checks with two parameters get its result."""
    (tmp_path / "fake_assignment_a9.py").write_text(
        "from minconvbert.grade.framework import Assignment\n"
        "ASSIGNMENT = Assignment(key='a9', name='a9_fake', title='fake', student_file='answer.py',\n"
        "                        setup=lambda: {'answer': 42})\n"
        "@ASSIGNMENT.check(points=2, visible=True)\n"
        "def uses_ctx(student, ctx):\n"
        "    assert student.value(ctx) == 42, 'wrong value'\n"
        "@ASSIGNMENT.check(points=1, visible=False)\n"
        "def without_ctx(student):\n"
        "    assert student.value({'answer': 1}) == 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    import fake_assignment_a9

    assignment = fake_assignment_a9.ASSIGNMENT
    assignment.module = "fake_assignment_a9"
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "answer.py").write_text("def value(ctx):\n    return ctx['answer']\n")
    report = grade(assignment, folder)
    assert [(r.name, r.passed) for r in report.results] == [("uses_ctx", True), ("without_ctx", True)]
    assert report.score == 3
    (folder / "answer.py").write_text("def value(ctx):\n    return 0\n")
    assert [r.reason for r in grade(assignment, folder).results] == ["wrong value", "AssertionError"]

    # a setup that fails (say, the nano model is missing) fails every check, blaming the grader, not the student
    (tmp_path / "fake_assignment_a9.py").write_text(
        (tmp_path / "fake_assignment_a9.py").read_text().replace("setup=lambda: {'answer': 42}",
                                                                 "setup=lambda: 1 / 0"))
    report = grade(assignment, folder)
    assert report.score == 0 and all("the grader's setup (not the student's code) ended the grading process"
                                     in r.reason and "ZeroDivisionError" in r.reason for r in report.results)


# ----- the command line ----------------------------------------------------------------------------
def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "minconvbert.grade", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_cli_make_student_then_grade(tmp_path):
    made = run_cli("make-student", "a2", tmp_path / "work")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "work" / "span_conv.py").is_file()
    result = run_cli("a2", tmp_path / "work", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["score"] == 0 and report["total"] == get_assignment("a2").total_points
    text = run_cli("A2_span_conv", solution_dir("a2"))
    assert text.returncode == 0 and "score: 16 / 16 (100%)" in text.stdout


@pytest.mark.parametrize("args, message", [
    (("a9", "."), "unknown assignment 'a9'"),
    (("a1", "no/such/folder"), "does not exist"),
    (("a1", ".", "--timeout", "0"), "timeout"),
    (("make-student", "a1", "."), "not an empty directory"),
])
def test_cli_misuse_exits_2_with_a_message(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr, (result.returncode, result.stderr)


def test_cli_list():
    result = run_cli("list")
    assert result.returncode == 0
    for key in ASSIGNMENTS:
        assert key in result.stdout
        for check in get_assignment(key).checks:
            assert check.name in result.stdout


# ----- the marker stripping --------------------------------------------------------------------------
def test_strip_solutions_keeps_everything_outside_the_markers():
    text = ('class A:\n    def f(self, x):\n        """Doc."""\n        y = 1  # given\n        # BEGIN SOLUTION\n'
            '        return x + y\n        # END SOLUTION\n\n\ndef g():\n    # BEGIN SOLUTION\n    return 2\n'
            '    # END SOLUTION\n')
    out = strip_solutions(text)
    assert out == ('class A:\n    def f(self, x):\n        """Doc."""\n        y = 1  # given\n'
                   '        raise NotImplementedError("A.f: write this part")\n\n\ndef g():\n'
                   '    raise NotImplementedError("g: write this part")\n')
    assert [b[3] for b in solution_blocks(text)] == ["A.f", "g"]
    assert strip_solutions(text, keep=lambda name: name == "g").endswith("def g():\n    return 2\n")


@pytest.mark.parametrize("text, message", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", "inside the block"),
    ("def f():\n    return 1  # BEGIN SOLUTION\n", "stand alone"),
    ("def f():\n    return 1\n", "no # BEGIN SOLUTION"),
    ("def f(:\n    pass\n", "not valid Python"),
    ("x = [\n    # BEGIN SOLUTION\n    1,\n    # END SOLUTION\n]\n", "student version is not valid"),
])
def test_bad_markers_are_refused(text, message):
    with pytest.raises(MarkerError, match=message):
        strip_solutions(text)
