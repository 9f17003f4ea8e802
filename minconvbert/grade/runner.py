"""Grade a student folder: run every check in a worker process, with a time limit per check.

    report = grade("a1", "my_work/")          # a Report; print(report.format())

The student's code runs in a separate Python process (`minconvbert.grade.worker`), never in the
grader's: an infinite loop, a crash of the interpreter, `sys.exit()` or `os._exit()` in the
student's code fails the check it happened in, and a fresh worker carries on with the checks that
are left. A syntax error, or an exception while importing the file, fails every check with the
reason. Nothing here is a security sandbox: it protects the grader from mistakes, not from malice.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import minconvbert
from minconvbert.grade.framework import Assignment
from minconvbert.grade.registry import get_assignment
from minconvbert.grade.report import Report, Result

__all__ = ["grade", "STARTUP_TIMEOUT"]

STARTUP_TIMEOUT = 120.0  # seconds for the worker to import NumPy and minconvbert and run the setup


class _Worker:
    """One worker process and a thread that turns its answers into a queue of events."""

    def __init__(self, assignment: Assignment, student_file: Path, names: list[str]):
        package_root = str(Path(minconvbert.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "minconvbert.grade.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, env=env, cwd=str(student_file.parent),
        )
        job = {"module": assignment.module, "student_file": str(student_file), "checks": names}
        self.process.stdin.write(json.dumps(job).encode())
        self.process.stdin.close()
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                continue  # not ours (the worker keeps this channel to itself; be tolerant anyway)
        self.events.put(None)  # end of stream: the process is gone

    def next_event(self, timeout: float):
        """The next event, None if the worker died, or "timeout"."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return "timeout"

    def death_reason(self, who: str = "the student's code") -> str:
        code = self.process.wait(timeout=10)
        self.stderr.seek(0)
        tail = self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        detail = f": {tail[0][:200]}" if tail[0] else ""
        return f"{who} ended the grading process (exit code {code}){detail}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.stderr.close()


def grade(assignment, student_dir, timeout: float | None = None, only: list[str] | None = None) -> Report:
    """Run the checks of `assignment` (a key like "a1", or an Assignment) on the file in `student_dir`.

    timeout: seconds allowed per check (default: each check's own). only: names of the checks to
    run (default: all). Never raises because of the student's code; raises ValueError / KeyError
    / NotADirectoryError only when the grader itself is called wrongly.
    """
    assignment = assignment if isinstance(assignment, Assignment) else get_assignment(assignment)
    if not assignment.module:
        raise ValueError(f"assignment {assignment.key!r}: its `module` (where the worker finds ASSIGNMENT) is not set")
    student_dir = Path(student_dir)
    if not student_dir.is_dir():
        raise NotADirectoryError(f"student folder {str(student_dir)!r} does not exist or is not a directory")
    checks = assignment.ordered_checks if only is None else [assignment.get(name) for name in only]
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout}")
    student_file = (student_dir / assignment.student_file).resolve()
    report = Report(assignment.key, assignment.title, str(student_file))
    results: dict[str, Result] = {}

    def fail_all(names, reason):
        for name in names:
            c = assignment.get(name)
            results[name] = Result(name, c.points, c.visible, False, reason)

    pending = [c.name for c in checks]
    if not student_file.is_file():
        report.note = f"{assignment.student_file} is missing from {student_dir}"
        fail_all(pending, f"no file {assignment.student_file} in the student folder")
        pending = []
    while pending:
        worker = _Worker(assignment, student_file, pending)
        try:
            pending = _run(worker, assignment, pending, timeout, results, fail_all, report)
        finally:
            worker.close()
    report.results = [results[c.name] for c in checks]
    return report


def _run(worker: _Worker, assignment: Assignment, pending: list[str], timeout, results, fail_all, report) -> list:
    """Drive one worker through `pending`; returns the checks still to run if it had to be stopped."""
    event = worker.next_event(STARTUP_TIMEOUT)
    if event is None or event == "timeout" or event.get("event") != "setup_done":
        if event is None:
            reason = worker.death_reason("the grader's setup (not the student's code)")
        else:
            reason = f"the grader's worker did not start within {STARTUP_TIMEOUT:g} s"
        fail_all(pending, reason)
        report.note = reason
        return []
    first = assignment.get(pending[0])
    import_limit = timeout if timeout is not None else first.timeout
    event = worker.next_event(import_limit)
    if event == "timeout" or event is None:
        reason = (f"importing {assignment.student_file} did not finish within {import_limit:g} s"
                  if event == "timeout" else worker.death_reason() + " while importing the file")
        fail_all(pending, reason)
        report.note = reason
        return []
    if event.get("event") == "import_failed":
        fail_all(pending, "could not import the file: " + event["reason"])
        report.note = "could not import " + assignment.student_file + ": " + event["reason"]
        return []
    for index, name in enumerate(pending):
        check = assignment.get(name)
        limit = timeout if timeout is not None else check.timeout
        event = worker.next_event(STARTUP_TIMEOUT)  # "start" comes at once
        if event is None or event == "timeout":
            results[name] = Result(name, check.points, check.visible, False, "the grader's worker stopped unexpectedly")
            return pending[index + 1 :]
        started = time.perf_counter()
        event = worker.next_event(limit)
        if event == "timeout":
            results[name] = Result(name, check.points, check.visible, False,
                                   f"timed out after {limit:g} s (an infinite loop, or far too slow)", limit)
            return pending[index + 1 :]
        if event is None:
            results[name] = Result(name, check.points, check.visible, False, worker.death_reason(),
                                   time.perf_counter() - started)
            return pending[index + 1 :]
        results[name] = Result(name, check.points, check.visible, bool(event["passed"]), event["reason"],
                               float(event.get("seconds", 0.0)))
    return []
