"""Every assignment: its solved file scores full marks, its starter file zero, its README names its
checks, its stubs and solutions match, and its student folder's visible_checks.py runs under pytest.

Each grading run starts a worker process (about a second); A4's first run loads the nano model and
computes its expected values in the grader (once per session), A5's compiles numba kernels.
"""

import os
import subprocess
import sys

import pytest

from instructor.solve import solutions, stubs
from minconvbert.grade import assignment_keys, get_assignment, grade, make_student
from tests.grade.helpers import ROOT, solution_text, solved_report, starter_text

ASSIGNMENTS = assignment_keys()


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_the_solved_file_scores_full_marks(key):
    report = solved_report(key)
    failed = [(r.name, r.reason) for r in report.results if not r.passed]
    assert not failed, f"{key}: the solution fails {failed}"
    assert report.score == report.total == get_assignment(key).total_points > 0


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_the_student_folder_scores_zero_and_shows_only_the_visible_checks(key, tmp_path):
    a = get_assignment(key)
    written = make_student(a, tmp_path / "student")
    assert sorted(p.name for p in written) == sorted([a.student_file, "README.md", "visible_checks.py"])
    assert (tmp_path / "student" / a.student_file).read_text() == starter_text(key)
    report = grade(key, tmp_path / "student")
    assert report.score == 0 and report.total == a.total_points
    assert all("not implemented" in r.reason for r in report.results), [r.reason for r in report.results]
    visible_source = (tmp_path / "student" / "visible_checks.py").read_text()
    hidden = [c.name for c in a.checks if not c.visible]
    assert hidden and not any(f"def {name}(" in visible_source for name in hidden)
    assert all(f"def {c.name}(" in visible_source for c in a.checks if c.visible)
    with pytest.raises(FileExistsError, match="not an empty directory"):
        make_student(a, tmp_path / "student")


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_the_readme_names_every_visible_check_and_the_total(key):
    a = get_assignment(key)
    readme = (a.student_folder() / "README.md").read_text()
    missing = [c.name for c in a.checks if c.visible and f"`{c.name}`" not in readme]
    assert not missing, f"{key}: README.md does not list the visible checks {missing}"
    assert f"({a.total_points:g} points)" in readme


@pytest.mark.parametrize("key", ASSIGNMENTS)
def test_every_stub_has_a_solution_and_no_solution_is_in_the_starter(key):
    a = get_assignment(key)
    answers = solutions((ROOT / "instructor" / "assignments" / a.name / "SOLUTIONS.md").read_text())
    starter = starter_text(key)
    assert sorted(stubs(starter)) == sorted(answers) and answers
    for name, code in answers.items():
        telling = [line.strip() for line in code.splitlines() if len(line.strip()) > 25]
        assert telling and not any(line in starter for line in telling), f"{key}: {name}'s solution is in the starter"


def test_visible_checks_run_under_pytest(tmp_path):
    """Every assignment's student copy collects (it used to crash with "two checks named 'unfold_small'");
    A2's visible checks fail on the starter file, with the traceback into it, and pass once it is solved."""
    folders = {key: tmp_path / key for key in ASSIGNMENTS}
    for key, folder in folders.items():
        make_student(get_assignment(key), folder)
    make_student(get_assignment("a2"), tmp_path / "a2-solved")
    (tmp_path / "a2-solved" / "span_conv.py").write_text(solution_text("a2"))

    def pytest_run(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                               *map(str, args)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})

    collected = pytest_run("--collect-only", *(f / "visible_checks.py" for f in folders.values()))
    assert collected.returncode == 0, collected.stdout[-2000:]
    visible = sum(c.visible for key in ASSIGNMENTS for c in get_assignment(key).checks)
    assert f"{visible} tests collected" in collected.stdout
    ran = pytest_run(folders["a2"] / "visible_checks.py", tmp_path / "a2-solved" / "visible_checks.py")
    assert "5 failed, 5 passed" in ran.stdout, ran.stdout[-2000:]
    assert "unfold_spans: write this part" in ran.stdout and "a2-solved" not in ran.stdout.split("short test summary")[1]
