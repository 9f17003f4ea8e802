"""Grade a student folder: every check runs here, in the grader, on what the student's code returns.

    report = grade("a1", "my_work/")                 # a Report; print(report.format())
    report = grade("a1", "my_work/", debug=True)     # in this process: prints shown, breakpoint() works

Grading reads the student's file (it is never put on sys.path), refuses it when it does not parse or
imports what its assignment is graded against, then starts a worker process (see `submission` and
`sandbox`) that runs the student's code on request. The checks and the expected values stay in this
process: the worker only returns values, which the checks judge. A check that overruns its time
limit, or a worker that dies or sends garbage, fails that check; a fresh worker carries on with the
rest. Every worker, and whatever it started, is killed before the report is returned.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from minconvbert.backend import backend
from minconvbert.grade.execute import load_submission
from minconvbert.grade.framework import Assignment, Check, Score
from minconvbert.grade.imports import describe_allowed, forbidden_imports
from minconvbert.grade.registry import get_assignment
from minconvbert.grade.report import Report, Result, one_line
from minconvbert.grade.sandbox import protect_grader
from minconvbert.grade.submission import LocalSubmission, RemoteSubmission, StudentError, WorkerLost
from minconvbert.grade.worker import describe

__all__ = ["grade", "MAX_SOURCE"]

MAX_SOURCE = 1024 * 1024  # bytes: a student file larger than this is not graded
STARTUP_CPU = 120  # CPU seconds a worker may spend before its first check (imports, the student's import)
IMPORT_TIMEOUT = 10.0  # seconds for the student's file to be imported, at least (a busy machine is slow)


def _read_source(path: Path) -> tuple[str, str]:
    """(source, problem): the student's file as text, or why it cannot be graded."""
    if not path.is_file():
        return "", f"no file {path.name} in the student folder"
    if path.stat().st_size > MAX_SOURCE:
        return "", f"{path.name} is larger than {MAX_SOURCE // 1024} kB"
    try:
        return path.read_text(encoding="utf-8"), ""
    except UnicodeDecodeError:
        return "", f"{path.name} is not UTF-8 text"


def _static_problem(assignment: Assignment, source: str, path: Path) -> str:
    """Why the file is refused before any of it runs: a syntax error, or an import it may not make."""
    try:
        compile(source, str(path), "exec")
        problems = forbidden_imports(source, assignment.allowed, str(path))
    except SyntaxError as error:
        return describe(error, str(path))
    except ValueError as error:  # e.g. a NUL byte in the source
        return f"{path.name} cannot be compiled ({error})"
    if not problems:
        return ""
    return (f"{path.name} imports what {assignment.key.upper()} may not use ({'; '.join(problems[:3])}): it may "
            f"import only {describe_allowed(assignment.allowed)}, because the rest of minconvbert is what it is "
            "graded against; nothing was graded")


def _judge(check: Check, student, ctx, filename: str, debug: bool) -> tuple[float, str]:
    """(points earned, reason) of one check; WorkerLost passes through."""
    try:
        returned = check.function(student, ctx) if check.wants_context else check.function(student)
    except StudentError as error:
        return 0.0, error.reason
    except AssertionError as error:
        if debug:
            traceback.print_exc()
        return 0.0, one_line(error) or "AssertionError"
    except Exception as error:  # in debug mode, the student's own exceptions arrive here
        if debug:
            traceback.print_exc()
            return 0.0, describe(error, filename)
        return 0.0, one_line(f"the check could not use what your code returned ({type(error).__name__}: {error})")
    if isinstance(returned, Score):
        fraction = min(1.0, max(0.0, float(returned.fraction)))
        return check.points * fraction, one_line(returned.reason)
    return check.points, ""


def _started_worker(assignment, source: str, path: Path, checks_left, timeout, limits, deadline) -> RemoteSubmission:
    """A worker with the submission imported, its CPU time bounded by the checks left (plus the startup);
    raises StudentError (the import failed) or WorkerLost, having closed the worker."""
    budget = STARTUP_CPU + sum(timeout or c.timeout for c in checks_left)
    limits = {**limits, "cpu_seconds": min(limits.get("cpu_seconds", budget), budget)}
    student = RemoteSubmission(str(path), assignment.allowed, assignment.preload, limits)
    try:
        student.start(source, deadline)
    except BaseException:
        student.close()
        raise
    return student


def _run_remote(assignment, checks, source, path, ctx, timeout, limits, results, report) -> str:
    """Run `checks` in workers; fills `results` and report.isolation; returns a note for the report (or "")."""
    protect_grader()
    student = None
    try:
        for index, check in enumerate(checks):
            limit = timeout if timeout is not None else check.timeout
            if student is None:
                import_limit = max(limit, IMPORT_TIMEOUT)
                try:
                    student = _started_worker(assignment, source, path, checks[index:], timeout, limits or {},
                                              time.monotonic() + import_limit)
                except (StudentError, WorkerLost) as error:
                    if isinstance(error, StudentError):
                        reason = "could not import the file: " + error.reason
                    else:
                        reason = f"importing {path.name} did not finish within {import_limit:g} s" if error.timed_out \
                            else error.reason
                    for c in checks[index:]:
                        results[c.name] = Result(c.name, c.points, c.visible, 0.0, reason)
                    return reason
                report.isolation = student.isolation
            student.deadline = time.monotonic() + limit
            started = time.perf_counter()
            try:
                earned, reason = _judge(check, student, ctx, str(path), debug=False)
            except WorkerLost as error:  # the worker cannot go on: a fresh one for the next check
                earned = 0.0
                reason = (f"timed out after {limit:g} s (an infinite loop, or far too slow)" if error.timed_out
                          else error.reason)
                student.close()
                student = None
            results[check.name] = Result(check.name, check.points, check.visible, earned, reason,
                                         time.perf_counter() - started)
    finally:
        if student is not None:
            student.close()
    return ""


def _run_local(checks, source, path, ctx, results) -> str:
    """--debug: import the file and run every check in this process, printing as it goes."""
    try:
        student = LocalSubmission(load_submission(source, str(path)))
    except Exception as error:
        traceback.print_exc()
        reason = "could not import the file: " + describe(error, str(path))
        for c in checks:
            results[c.name] = Result(c.name, c.points, c.visible, 0.0, reason)
        return reason
    for check in checks:
        print(f"----- {check.name} ({'visible' if check.visible else 'hidden'}, {check.points:g} points)", flush=True)
        started = time.perf_counter()
        earned, reason = _judge(check, student, ctx, str(path), debug=True)
        results[check.name] = Result(check.name, check.points, check.visible, earned, reason,
                                     time.perf_counter() - started)
        print(f"      {earned:g}/{check.points:g}" + (f": {reason}" if reason else ""), flush=True)
    return "debug run: the checks ran in this process, without time limits (not a grade)"


def grade(assignment, student_dir, timeout: float | None = None, only: list[str] | None = None,
          debug: bool = False, limits: dict | None = None) -> Report:
    """Run the checks of `assignment` (a key like "a1", or an Assignment) on the file in `student_dir`.

    timeout: seconds allowed per check (default: each check's own). only: names of the checks to
    run (default: all). debug: run them in this process (see the module docstring). limits: the
    worker's resource limits (see sandbox.DEFAULT_LIMITS). Never raises because of the student's
    code; raises ValueError / KeyError / NotADirectoryError only when called wrongly.
    """
    assignment = assignment if isinstance(assignment, Assignment) else get_assignment(assignment)
    student_dir = Path(student_dir)
    if not student_dir.is_dir():
        raise NotADirectoryError(f"student folder {str(student_dir)!r} does not exist or is not a directory")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout}")
    checks = assignment.ordered_checks if only is None else [assignment.get(name) for name in only]
    path = (student_dir / assignment.student_file).resolve()
    report = Report(assignment.key, assignment.title, str(path))
    results: dict[str, Result] = {}
    source, problem = _read_source(path)
    problem = problem or _static_problem(assignment, source, path)
    with backend("numpy"):  # the expected values come from the readable reference kernels (nothing to compile)
        ctx = None
        if not problem and assignment.setup is not None and any(c.wants_context for c in checks):
            try:
                ctx = assignment.setup()
            except Exception as error:
                problem = (f"the grader's setup failed (not the student's code): {type(error).__name__}: "
                           f"{one_line(error, 200)}")
        if problem:
            report.note = problem
            for c in checks:
                results[c.name] = Result(c.name, c.points, c.visible, 0.0, problem)
        elif debug:
            report.note = _run_local(checks, source, path, ctx, results)
        else:
            report.note = _run_remote(assignment, checks, source, path, ctx, timeout, limits, results, report)
    report.results = [results[c.name] for c in checks]
    return report
