"""What an assignment is to the grader: a student file, a list of checks, and what the submission may use.

An assignment's `spec.py` builds one `Assignment`, and its `visible.py` / `hidden.py` register checks:

    A2 = Assignment(key="a2", name="a2_span_conv", title="...", student_file="span_conv.py",
                    package=__package__, allowed=("minconvbert.function",))

    @A2.check(points=2, visible=True)
    def forward_matches_reference(student):       # student: a Submission (minconvbert.grade.submission)
        got = student.run("span_conv_forward", values, kernels).value
        close(got, reference.span_conv_forward(values, kernels), "span_conv_forward")

A check runs in the grader's process. It passes when it returns (or returns `Score(1.0)`), earns a
fraction of its points when it returns `Score(fraction, why)`, and fails when it raises
(AssertionError: a wrong answer; StudentError: the student's code raised). A check with a second
parameter `ctx` receives what `Assignment.setup()` returned, computed once per grading run in the
grader (A4 loads the nano model there). Visible checks are the ones the student's copy shows
(`visible_checks.py`, runnable with pytest); hidden ones are run but not shown.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Assignment", "Check", "Score", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 30.0  # seconds per check unless the check or the command line says otherwise


@dataclass(frozen=True)
class Score:
    """What a check may return to award part of its points: `fraction` in [0, 1], and why not all."""

    fraction: float
    reason: str = ""


@dataclass(frozen=True)
class Check:
    """One graded test: `function(student[, ctx])` passes unless it raises (see the module docstring)."""

    name: str
    points: float
    visible: bool
    function: Callable
    timeout: float = DEFAULT_TIMEOUT
    description: str = ""

    @property
    def wants_context(self) -> bool:
        return len(inspect.signature(self.function).parameters) >= 2


@dataclass
class Assignment:
    """An assignment: its student file, its checks, and what its submissions may use.

    key: short name on the command line ("a1"); name: its folder, docs/assignments/<name>
    ("a1_backward"), also accepted on the command line; student_file: the file the student fills
    in; package: the package whose modules register the checks (a copy of a check elsewhere, as in
    a student's visible_checks.py, does not register); allowed: the third-party packages and
    minconvbert modules the submission may import (besides the standard library and NumPy);
    preload: modules the worker imports before the submission (numba for A5); setup: run once per
    grading run in the grader, its result is the checks' `ctx`.
    """

    key: str
    name: str
    title: str
    student_file: str
    package: str = ""
    allowed: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    setup: Callable[[], Any] | None = None
    checks: list[Check] = field(default_factory=list)

    def check(self, points: float, visible: bool, timeout: float = DEFAULT_TIMEOUT):
        """Decorator: register a check function on this assignment (its name is the function's name)."""

        def register(function: Callable) -> Callable:
            module = function.__module__
            if module != self.package and not module.startswith(self.package + "."):
                return function  # a copy of the check (a student's visible_checks.py): run by pytest, not registered
            name = function.__name__
            if any(c.name == name for c in self.checks):
                raise ValueError(f"{self.key}: two checks named {name!r}")
            doc = inspect.getdoc(function) or ""
            self.checks.append(Check(name, float(points), visible, function, float(timeout), doc.split("\n")[0]))
            return function

        return register

    @property
    def ordered_checks(self) -> list[Check]:
        """The checks in registration order, visible ones first."""
        return [c for c in self.checks if c.visible] + [c for c in self.checks if not c.visible]

    def get(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"{self.key}: no check named {name!r}")

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.checks)

    def student_folder(self) -> Path:
        """The student's side of the assignment: its README and the starter file (no solution).

        docs/assignments/<name> of the repository, which wheels carry as minconvbert/grade/student_files
        (a link to it in the repository)."""
        packaged = Path(__file__).resolve().parent / "student_files" / self.name
        if packaged.is_dir():
            return packaged
        return Path(__file__).resolve().parents[2] / "docs" / "assignments" / self.name
