"""The grader's mechanics: partial work gets partial marks, broken files (syntax errors, infinite loops,
exits) never break it, --debug runs the checks in the student's process, and the command line."""

import json

import numpy as np
import pytest

from minconvbert.grade import Assignment, Score, get_assignment, grade
from minconvbert.grade.codec import Build, Const, Leaf, decode, encode
from tests.grade.helpers import by_name, replace_once, run_cli, solution_text, write_student


def test_partial_work_gets_partial_marks(tmp_path):
    # A1 with Mul, Tanh, Softmax and Div solved, Div forgetting to sum back over broadcast axes
    text = solution_text("a1", only={"Mul.backward", "Tanh.backward", "Softmax.backward", "Div.backward"})
    text = replace_once(text, "grad_a = unbroadcast(grad_y / self.b, self.a.shape)", "grad_a = grad_y / self.b")
    text = replace_once(text, "grad_b = unbroadcast(-grad_y * self.a / (self.b * self.b), self.b.shape)",
                        "grad_b = -grad_y * self.a / (self.b * self.b)")
    report = grade("a1", write_student(tmp_path / "a1", "a1", text))
    passed = {r.name for r in report.results if r.passed}
    assert passed == {"mul_gradcheck", "mul_broadcasting", "tanh_gradcheck", "tanh_saturated_float32",
                      "softmax_gradcheck", "softmax_large_and_3d", "div_gradcheck"}
    assert "Div.backward returned a gradient of shape" in by_name(report)["div_broadcasting"].reason
    assert report.score == 7


def test_a_wrong_answer_is_reported_with_the_failing_values(tmp_path):
    # A3 with scores divided by D instead of sqrt(D): the attention parts fail, the convolution parts pass
    text = replace_once(solution_text("a3"), "/ math.sqrt(D)", "/ D")
    report = grade("a3", write_student(tmp_path / "a3", "a3", text),
                   only=["attention_heads_match", "separable_conv_matches", "conv_heads_match", "dynamic_kernels_match",
                         "mixed_attention_matches"])
    results = by_name(report)
    assert results["attention_heads_match"].reason.startswith("attention_heads: probs: ")
    assert "elements differ (max abs difference" in results["attention_heads_match"].reason
    assert results["separable_conv_matches"].passed and results["conv_heads_match"].passed
    assert results["dynamic_kernels_match"].passed and not results["mixed_attention_matches"].passed


def test_syntax_error_fails_every_check_without_running_anything(tmp_path):
    report = grade("a2", write_student(tmp_path / "a2", "a2", "def unfold_spans(values, kernel_size:\n    return 1\n"))
    assert report.score == 0 and len(report.results) == len(get_assignment("a2").checks)
    assert all(r.reason.startswith("SyntaxError in span_conv.py line 1") for r in report.results)
    assert report.note == report.results[0].reason and report.isolation == ""  # no worker was started


def test_an_infinite_loop_times_out_only_the_checks_it_is_in(tmp_path):
    text = replace_once(solution_text("a2"), '    """The span each position reads',
                        '    while True:\n        pass\n    """The span each position reads')
    report = grade("a2", write_student(tmp_path / "a2", "a2", text), timeout=4,
                   only=["unfold_small", "kernel_size_one", "forward_matches_reference"])
    results = by_name(report)
    assert "timed out after 4 s" in results["unfold_small"].reason
    assert "timed out after 4 s" in results["forward_matches_reference"].reason  # the forward calls unfold_spans
    assert report.score == 0 and len(report.results) == 3


def test_loops_at_import_and_exits_are_contained(tmp_path):
    report = grade("a1", write_student(tmp_path / "loop", "a1", "while True:\n    pass\n"), timeout=2,
                   only=["mul_gradcheck", "tanh_gradcheck"])  # an import gets 10 s at least, whatever the timeout
    assert report.score == 0 and all("did not finish within 10 s" in r.reason for r in report.results)

    # os._exit ends the worker mid-check; sys.exit fails one check; prints go nowhere; a fresh worker carries on
    text = replace_once(solution_text("a1"), '        """(dL/da, dL/db), summed back to the shapes of a and b (hint: '
                        'unbroadcast)."""', '        """(dL/da, dL/db)."""\n        import os\n        os._exit(3)')
    text = replace_once(text, '        """(dL/dx,)."""\n        return (grad_y * (1.0 - self.y',
                        '        """(dL/dx,)."""\n        import sys\n        sys.exit(1)\n        return (grad_y * (1.0 - self.y')
    text = 'print("{not an answer", flush=True)\n' + text
    report = grade("a1", write_student(tmp_path / "exits", "a1", text),
                   only=["mul_gradcheck", "tanh_gradcheck", "softmax_gradcheck", "gelu_gradcheck"])
    results = by_name(report)
    assert "ended the grading process (exit code 3)" in results["mul_gradcheck"].reason
    assert not results["tanh_gradcheck"].passed and "SystemExit" in results["tanh_gradcheck"].reason
    assert results["softmax_gradcheck"].passed and results["gelu_gradcheck"].passed


def test_a_missing_file_a_missing_name_and_the_line_of_an_exception(tmp_path):
    (tmp_path / "empty").mkdir()
    report = grade("a3", tmp_path / "empty")
    assert report.score == 0 and all(r.reason == "no file mixed_attention.py in the student folder"
                                     for r in report.results)
    report = grade("a3", write_student(tmp_path / "x", "a3", "x = 1\n"), only=["separable_conv_matches"])
    assert report.results[0].reason == "the student file defines no separable_conv"
    text = replace_once(solution_text("a1"), "return (y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True)),)",
                        "return (y * undefined_name,)")
    report = grade("a1", write_student(tmp_path / "a1", "a1", text), only=["softmax_gradcheck"])
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "undefined_name" in l)
    assert report.results[0].reason.startswith("NameError") and f"backward_ops.py:{line} in backward" in \
        report.results[0].reason


def _fake_assignment(tmp_path, monkeypatch, setup, module):
    """An assignment defined in package `module`, with a setup, a ctx check and a partial-credit check."""
    (tmp_path / module).mkdir()
    (tmp_path / module / "__init__.py").write_text(
        "from minconvbert.grade import Assignment, Score\n"
        f"A9 = Assignment(key='a9', name='a9_fake', title='fake', student_file='answer.py', package=__name__,\n"
        f"                setup={setup})\n"
        "@A9.check(points=2, visible=True)\n"
        "def uses_ctx(student, ctx):\n"
        "    assert student.run('value', ctx['answer']).value == 42, 'wrong value'\n"
        "@A9.check(points=3, visible=False)\n"
        "def partly(student):\n"
        "    return Score(student.run('value', 1).value / 3, 'a third per unit')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    return importlib.import_module(module).A9


def test_setup_runs_in_the_grader_and_partial_credit(tmp_path, monkeypatch):
    assignment = _fake_assignment(tmp_path, monkeypatch, "lambda: {'answer': 42}", "fake_a9")
    folder = write_student(tmp_path / "student", "a1", "")  # any folder; the file is answer.py
    (folder / "answer.py").write_text("def value(x):\n    return 42 if x == 42 else 2\n")
    report = grade(assignment, folder)
    assert [(r.name, r.earned) for r in report.results] == [("uses_ctx", 2), ("partly", 2)]
    assert by_name(report)["partly"].reason == "a third per unit" and "PART" in report.format()
    assert json.loads(report.to_json())["score"] == 4


def test_a_setup_that_fails_blames_the_grader(tmp_path, monkeypatch):
    assignment = _fake_assignment(tmp_path, monkeypatch, "lambda: 1 / 0", "fake_a9_broken")
    (tmp_path / "answer.py").write_text("def value(x):\n    return x\n")
    report = grade(assignment, tmp_path)
    assert report.score == 0
    assert all(r.reason.startswith("the grader's setup failed (not the student's code): ZeroDivisionError")
               for r in report.results)


def test_the_codec_carries_values_and_nothing_else():
    value = (np.arange(6, dtype=np.float32).reshape(2, 3), {"k": [1, 2.5, None, "s"]}, np.float64(3.0),
             np.array(["local", "global"], dtype=object), True)
    back = decode(encode(value))
    assert isinstance(back, tuple) and back[0].dtype == np.float32 and np.array_equal(back[0], value[0])
    assert back[1] == {"k": [1, 2.5, None, "s"]} and back[2].dtype == np.float64 and back[4] is True
    assert list(back[3]) == ["local", "global"]
    assert repr(decode(encode(lambda: 1))) == "<a function>"
    markers = decode(encode([Leaf(np.ones(2), "x"), Const(np.zeros(1)), Build("nano_model", {"train": True})]),
                     markers=True)
    assert markers[0].name == "x" and markers[2].options == {"train": True}
    from minconvbert.grade.codec import DecodeError

    with pytest.raises(DecodeError, match="unknown tag"):  # an answer may not ask the grader to build anything
        decode(encode(Leaf(np.ones(2), "x")))
    for bad in ({"$": "array", "dtype": "|O", "shape": [1], "data": ""}, {"$": "array", "dtype": "<f8", "shape": [9],
                "data": "AAAA"}, {"$": "array", "dtype": "<f8", "shape": [-1], "data": ""}, {"$": "what"}):
        with pytest.raises(DecodeError):
            decode(bad)


# ----- --debug: the checks in the student's process ------------------------------------------------
def test_debug_shows_prints_and_stops_at_breakpoints(tmp_path):
    text = replace_once(solution_text("a2"), '    pad = (kernel_size - 1) // 2\n',
                        '    print("INSIDE unfold_spans", values.shape)\n    breakpoint()\n'
                        '    pad = (kernel_size - 1) // 2\n')
    folder = write_student(tmp_path / "a2", "a2", text)
    result = run_cli("a2", folder, "--debug", "--only", "unfold_small", input="p kernel_size\nc\n")
    assert result.returncode == 0, result.stderr
    assert "INSIDE unfold_spans (1, 6, 1, 2)" in result.stdout and "(Pdb)" in result.stdout
    assert "\n3\n" in result.stdout.replace("(Pdb) ", "\n")  # `p kernel_size` printed 3
    assert "debug run" in result.stdout and "score: 2 / 2" in result.stdout


def test_debug_prints_the_traceback_of_the_students_exception(tmp_path):
    text = replace_once(solution_text("a1"), "return (y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True)),)",
                        "return (y * undefined_name,)")
    result = run_cli("a1", write_student(tmp_path / "a1", "a1", text), "--debug", "--only", "softmax_gradcheck")
    assert "Traceback" in result.stderr and "undefined_name" in result.stderr
    assert "NameError: name 'undefined_name' is not defined (at backward_ops.py" in result.stdout


# ----- the command line -------------------------------------------------------------------------------
def test_cli_make_student_then_grade_as_json(tmp_path):
    made = run_cli("make-student", "a2", tmp_path / "work")
    assert made.returncode == 0, made.stderr
    result = run_cli("a2", tmp_path / "work", "--json", "--only", "unfold_small", "kernel_size_one")
    report = json.loads(result.stdout)
    assert report["score"] == 0 and report["total"] == 3 and report["isolation"].startswith("worker ran as")
    assert [r["passed"] for r in report["results"]] == [False, False]


@pytest.mark.parametrize("args, message", [
    (("a9", "."), "unknown assignment 'a9'"),
    (("a1", "no/such/folder"), "does not exist"),
    (("a1", ".", "--timeout", "0"), "timeout"),
    (("make-student", "a1", "."), "not an empty directory"),
])
def test_cli_misuse_exits_2_with_a_message(args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr, (result.returncode, result.stderr)


ARGPARSE_LOOKALIKE = """# a student's argparse.py that behaves like the real one (and could do anything else)
import importlib.util, os, sysconfig
spec = importlib.util.spec_from_file_location("argparse", os.path.join(sysconfig.get_paths()["stdlib"], "argparse.py"))
real = importlib.util.module_from_spec(spec)
spec.loader.exec_module(real)
globals().update({k: v for k, v in vars(real).items() if not k.startswith("__")})
"""


def test_cli_refuses_to_grade_from_inside_a_folder_that_shadowed_its_modules(tmp_path):
    folder = write_student(tmp_path / "a1", "a1", solution_text("a1"), **{"argparse.py": ARGPARSE_LOOKALIKE})
    result = run_cli("a1", ".", cwd=folder)
    assert result.returncode == 2 and "imported argparse from the student folder" in result.stderr, result.stderr
    assert run_cli("a1", folder, "--only", "mul_gradcheck", cwd=tmp_path).returncode == 0  # from elsewhere: fine


def test_cli_list():
    result = run_cli("list")
    assert result.returncode == 0
    for key in ("a1", "a2", "a3", "a4", "a5"):
        assert all(c.name in result.stdout for c in get_assignment(key).checks)


def test_assignment_registration_is_scoped_to_its_package():
    a = Assignment(key="ax", name="ax", title="t", student_file="f.py", package="tests.grade")

    def twice(student):
        return Score(1.0)

    a.check(points=1, visible=True)(twice)
    with pytest.raises(ValueError, match="two checks named 'twice'"):
        a.check(points=1, visible=True)(twice)
    twice.__module__ = "visible_checks"  # a student's copy of the check: run by pytest, not registered
    a.check(points=1, visible=True)(twice)
    assert len(a.checks) == 1
