"""The grader's worker process: import the student file, run checks, report each result.

Started by `minconvbert.grade.runner` as `python -m minconvbert.grade.worker`, with a job on stdin:

    {"module": "minconvbert.grade.a1_backward", "student_file": "/path/backward_ops.py",
     "checks": ["mul_gradcheck", ...]}

`module` is the module whose `ASSIGNMENT` holds the checks.

It answers with one JSON object per line on its *original* standard output, which it keeps for
itself: file descriptor 1 is pointed at /dev/null first, so whatever the student's code prints
cannot garble the answers. Events, in order:

    {"event": "setup_done"}                                  (assignment setup finished)
    {"event": "imported"} | {"event": "import_failed", "reason": "..."}
    {"event": "start", "name": ...}, {"event": "result", "name": ..., "passed": ..., "reason": ...}  per check
    {"event": "done"}

The runner kills the worker when a check takes too long, and starts a new one for the checks left.
Kernels run on the readable NumPy backend: nothing to compile, and the same maths.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback

MAX_REASON = 400


def _send(channel, **event) -> None:
    channel.write(json.dumps(event) + "\n")
    channel.flush()


def _where(error: BaseException, student_file: str) -> str:
    """' (at file.py:42 in name)' for the deepest traceback frame inside the student's file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(f.filename) == os.path.abspath(student_file)]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {os.path.basename(frame.filename)}:{frame.lineno} in {frame.name})"


def describe(error: BaseException, student_file: str) -> str:
    """A one-line reason for a failed check."""
    if isinstance(error, NotImplementedError):  # the stub says where already
        return f"not implemented ({error})" if str(error) else "not implemented"
    elif isinstance(error, AssertionError) and str(error):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = " ".join(text.split()) + _where(error, student_file)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def import_student(path: str, module_name: str = "student_submission"):
    """Import the student's file by path (not installed, not on sys.path)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so that dataclasses, pickling etc. inside it work
    spec.loader.exec_module(module)
    return module


def main() -> int:
    job = json.loads(sys.stdin.read())
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # the student's prints go nowhere
    os.dup2(devnull, 0)  # and input() finds nothing to read

    import minconvbert

    minconvbert.set_default_backend("numpy")
    assignment = importlib.import_module(job["module"]).ASSIGNMENT
    ctx = assignment.setup() if assignment.setup is not None else None
    _send(channel, event="setup_done")

    student_file = job["student_file"]
    try:
        student = import_student(student_file)
    except BaseException as error:  # SyntaxError, anything raised at import, even SystemExit
        reason = describe(error, student_file)
        if isinstance(error, SyntaxError):
            reason = f"SyntaxError in {os.path.basename(student_file)} line {error.lineno}: {error.msg}"
        _send(channel, event="import_failed", reason=reason)
        return 0
    _send(channel, event="imported")

    for name in job["checks"]:
        check = assignment.get(name)
        _send(channel, event="start", name=name)
        start = time.perf_counter()
        try:
            if check.wants_context:
                check.function(student, ctx)
            else:
                check.function(student)
            passed, reason = True, ""
        except BaseException as error:  # a student's sys.exit() or KeyboardInterrupt fails the check, nothing more
            passed, reason = False, describe(error, student_file)
        _send(channel, event="result", name=name, passed=passed, reason=reason,
              seconds=time.perf_counter() - start)
    _send(channel, event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
