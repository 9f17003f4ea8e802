"""What the notebooks share: exercises whose checks say what is wrong, and claims checked as they run.

An exercise is a cell the student completes (in the student edition its body is
`raise NotImplementedError("name: write this part")`) and a check cell right after it:

    spans = exercise("3.1", "unfold_spans", lambda: unfold_spans(values, 5), expected=want,
                     mistakes={"the zeros are all on one side": lambda: one_sided(values, 5)})

`exercise` runs the attempt and prints one line, `exercise 3.1 (unfold_spans): correct`, `... not
done yet: ...` or `... wrong: <what is wrong>`. What is wrong is said exactly: a known mistake
when the answer equals one (`mistakes`: {what the student did: a function making that wrong
answer}), otherwise `testing.explain_mismatch` (the shape, which elements, a constant factor, a
shift, a transpose), or the exception the attempt raised and the line it raised on. It never
raises, and returns the attempt's value when it is correct, else the expected value, so the rest
of the notebook runs on correct numbers either way.

`test=` replaces `expected` when an answer is judged by its properties (a random masking):
test(result) returns None when it is right, else what is wrong.

`passed(number)` says whether an exercise is correct, for the cells that need the student's function
itself. `check(condition, claim)` is for the text's claims about measured results: a false one stops
the notebook. `summary()` prints how many exercises of this session are correct.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np

from minconvbert.testing import explain_mismatch

__all__ = ["exercise", "passed", "check", "summary", "STATUSES"]

STATUSES = ("correct", "wrong", "not done yet")
_PACKAGE = str(Path(__file__).resolve().parent)
_results: dict = {}  # "3.1 (unfold_spans)" -> status, in the order first checked


def _student_line(error: BaseException) -> str:
    """'line 4: return x @ w' for the innermost frame outside minconvbert and NumPy ('' if none)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(_PACKAGE) and "site-packages" not in f.filename]
    if not frames or frames[-1].name == "<lambda>":
        return ""
    frame = frames[-1]
    return f" (in {frame.name}, line {frame.lineno}: {(frame.line or '').strip()})"


def _not_done(error: BaseException) -> bool:
    return isinstance(error, NotImplementedError)


def _diagnose(result, expected, test, mistakes, atol, rtol):
    """None when `result` is right; otherwise what is wrong."""
    problem = test(result) if test is not None else explain_mismatch(result, expected, atol=atol, rtol=rtol)
    if problem is None:
        return None
    for what, make in (mistakes or {}).items():
        try:
            wrong = make()
        except Exception:  # a mistake that cannot be built on these inputs says nothing
            continue
        if explain_mismatch(result, wrong, atol=atol, rtol=rtol) is None:
            return f"{what} ({problem})"
    return problem


def exercise(number: str, name: str, attempt, expected=None, *, test=None, mistakes=None, atol: float = 1e-8,
             rtol: float = 1e-6):
    """Run `attempt()` (the student's code on fixed inputs), print whether it is right, return a correct value.

    expected: the right answer (an array, a Tensor, a tuple of them, a list, a number), or test:
    a function of the result returning None when it is right, else a sentence. mistakes: {what
    the student did: function returning that wrong answer}, for the common errors worth naming.
    Arrays are compared within atol + rtol * |expected|.
    """
    if (expected is None) == (test is None):
        raise TypeError("exercise: pass exactly one of expected= and test=")
    label = f"exercise {number} ({name})"
    try:
        result = attempt()
        problem = _diagnose(result, expected, test, mistakes, atol, rtol)
    except Exception as error:  # the student's code: report, never crash the notebook
        result, problem = None, error
    if problem is None:
        status, line = "correct", f"{label}: correct"
    elif isinstance(problem, BaseException) and _not_done(problem):
        status = "not done yet"
        line = f"{label}: not done yet ({problem}). Complete the cell above, run it, then run this cell again."
    else:
        status = "wrong"
        if isinstance(problem, BaseException):
            problem = f"it raises {type(problem).__name__}: {problem}{_student_line(problem)}"
        line = f"{label}: wrong: {problem}"
    _results[label] = status
    if status != "correct":
        line += "\n    (the cells below go on with the expected answer)" if expected is not None else ""
    print(line)
    if status == "correct" or expected is None:
        return result if status == "correct" else None
    return expected


def passed(number: str) -> bool:
    """True when exercise `number` ("7.4") was checked in this session and is correct."""
    return any(label.startswith(f"exercise {number} (") and status == "correct" for label, status in _results.items())


def check(condition, claim: str) -> None:
    """Each claim the text makes about a result is checked when it runs: a false one stops the notebook."""
    if not bool(np.all(condition)):
        raise AssertionError(f"this no longer holds: {claim}")
    print("checked:", claim)


def summary() -> dict:
    """Print and return {status: [exercise labels]} for the exercises checked in this session."""
    by_status = {status: [label for label, s in _results.items() if s == status] for status in STATUSES}
    counts = ", ".join(f"{len(labels)} {status}" for status, labels in by_status.items())
    print(f"exercises: {counts} (of {len(_results)})")
    for status in STATUSES[1:]:
        for label in by_status[status]:
            print(f"  {status}: {label}")
    return by_status
