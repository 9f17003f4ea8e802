"""The student's folder: `make_student` writes it, and its visible_checks.py runs under pytest.

    make_student(get_assignment("a2"), "my_a2/")   # span_conv.py (to fill in), README.md, visible_checks.py

The starter file and the README are copied from the assignment's student side (no solution is in
it, nor anywhere in the installed package). visible_checks.py holds the source of the visible checks,
exactly as the grader runs them, and ends with a call of `pytest_checks`, which turns each into a
pytest test on the file beside it:

    python -m pytest my_a2/visible_checks.py
"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

from minconvbert.grade.framework import Assignment, Score
from minconvbert.grade.registry import get_assignment

__all__ = ["make_student", "pytest_checks"]


def make_student(assignment: Assignment, out_dir) -> list[Path]:
    """Write the student folder of `assignment` into out_dir (which must not exist, or be empty: a
    student's work is never overwritten). Returns the files written."""
    source = assignment.student_folder()
    starter = source / assignment.student_file
    if not starter.is_file():
        raise FileNotFoundError(f"make-student {assignment.key}: the starter file {starter} is missing from this "
                                "installation")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"make-student: {out_dir} exists and is not an empty directory; "
                              "choose a new folder (student work is never overwritten)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [Path(shutil.copyfile(starter, out_dir / assignment.student_file))]
    if (source / "README.md").is_file():
        written.append(Path(shutil.copyfile(source / "README.md", out_dir / "README.md")))
    visible = [c for c in assignment.ordered_checks if c.visible]
    modules = []
    for check in visible:
        module = inspect.getmodule(check.function)
        if module not in modules:
            modules.append(module)
    spec = assignment.package.replace(".", "/") + "/spec.py"
    grade_it = f"python -m minconvbert.grade {assignment.key} <this folder>"
    usage = [("python -m pytest visible_checks.py", f"these checks, on {assignment.student_file}"),
             (grade_it, "every check, the hidden ones too: your score"),
             (grade_it + " --debug", "the same in your process (prints shown, breakpoint() works)")]
    header = (f"# The visible checks of {assignment.key} ({assignment.title}), exactly as the grader runs them;\n"
              f"# the helpers they call are in the installed package, {spec}.\n"
              + "".join(f"#     {command:<54}{what}\n" for command, what in usage) + "\n")
    footer = ("\n\n# ----- for pytest: one test per check above, on the file beside this one "
              "------------------------------\n"
              "from minconvbert.grade.students import pytest_checks  # noqa: E402\n\n"
              f"pytest_checks(globals(), {assignment.key!r}, {[c.name for c in visible]!r})\n")
    target = out_dir / "visible_checks.py"
    target.write_text(header + "\n\n".join(inspect.getsource(m) for m in modules) + footer, encoding="utf-8")
    written.append(target)
    return written


def _full_marks(returned, name: str) -> None:
    if isinstance(returned, Score) and returned.fraction < 1:
        raise AssertionError(f"{name}: {returned.fraction:.0%} of the points: {returned.reason}")


def pytest_checks(namespace: dict, key: str, names: list[str]) -> None:
    """Add to `namespace` (a visible_checks.py's globals) the fixtures `student` (the file beside it,
    imported in this process) and `ctx` (the assignment's setup), and a test_<name> per check."""
    import pytest

    assignment = get_assignment(key)
    folder = Path(namespace["__file__"]).resolve().parent

    def student():
        from minconvbert.grade.submission import LocalSubmission

        return LocalSubmission.from_file(folder / assignment.student_file)

    def ctx():
        return assignment.setup() if assignment.setup is not None else None

    namespace["student"] = pytest.fixture(scope="module", name="student")(student)
    namespace["ctx"] = pytest.fixture(scope="module", name="ctx")(ctx)
    for name in names:
        check = namespace[name]

        if len(inspect.signature(check).parameters) >= 2:
            def test(student, ctx, check=check, name=name):
                _full_marks(check(student, ctx), name)
        else:
            def test(student, check=check, name=name):
                _full_marks(check(student), name)

        test.__name__ = f"test_{name}"
        test.__doc__ = check.__doc__
        namespace[test.__name__] = test
