"""What an assignment is to the grader: a student file, a list of checks, and where its sources live.

An assignment module builds one `Assignment` and registers checks on it with a decorator:

    A1 = Assignment(key="a1", name="a1_backward", title="...", student_file="backward_ops.py")

    @A1.check(points=1, visible=True)
    def mul_gradcheck(student):            # student: the imported student module
        ...                                # raise AssertionError("what is wrong") to fail

A check passes when it returns, and fails when it raises (AssertionError for a wrong answer; any
exception the student's code raises is caught too). A check may take a second argument, `ctx`:
whatever `Assignment.setup()` returned, computed once per worker process before the student file
is imported (A4 loads the trained nano model there). Visible checks are the ones the student
version shows (`visible_checks.py`); hidden ones live only in this package.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Assignment", "Check", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 30.0  # seconds per check unless the check or the command line says otherwise


@dataclass(frozen=True)
class Check:
    """One graded test: `function(student[, ctx])` passes unless it raises."""

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
    """An assignment: its student file, its checks, and (optionally) a setup shared by the checks.

    key: short name on the command line ("a1"); name: the folder under docs/assignments
    ("a1_backward"), also accepted on the command line; student_file: the file the student fills
    in, found in the student's directory; setup: a function run once per worker before the
    student file is imported, whose result checks receive as `ctx`; module: the importable module
    whose `ASSIGNMENT` this is (the worker process imports it to find the checks).
    """

    key: str
    name: str
    title: str
    student_file: str
    setup: Callable[[], Any] | None = None
    checks: list[Check] = field(default_factory=list)
    module: str = ""  # the module defining ASSIGNMENT, which the worker imports (set by the registry)

    def check(self, points: float, visible: bool, timeout: float = DEFAULT_TIMEOUT):
        """Decorator: register a check function on this assignment (its name is the function's name)."""

        def register(function: Callable) -> Callable:
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

    def source_dir(self, root: Path | None = None) -> Path:
        """Where the README and the solution file live: <repository>/docs/assignments/<name>."""
        root = Path(__file__).resolve().parents[2] if root is None else Path(root)
        return root / "docs" / "assignments" / self.name
