"""The student's code as the checks see it: `student.run(name, *args)` gives what that function returned.

Two kinds, with the same methods, so that one check runs unchanged in both:

    RemoteSubmission   grading: the code runs in a worker process (minconvbert.grade.worker), and
                       every answer is decoded as untrusted data; the checks and the expected values
                       never leave the grader's process
    LocalSubmission    --debug and pytest: the code runs right here (prints shown, breakpoint() works)

    out = student.run("span_conv_forward", values, kernels)                 # an Outcome: out.value
    out = student.run("Mul.apply", Leaf(a, "a"), Leaf(b, "b"), backward=g)   # out.grads["a"], ...
    values = student.map("span_conv_forward", [((v1, k), {}), ((v2, k), {})])

A failure in the student's code raises StudentError (remote) or the exception itself (local); a
worker that dies, overruns the check's time, or sends what is not an answer raises WorkerLost.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy

import minconvbert
from minconvbert.grade import codec
from minconvbert.grade.execute import Outcome, call, load_submission
from minconvbert.grade.report import one_line
from minconvbert.grade.sandbox import DEFAULT_LIMITS, Spawned, isolation, worker_user
from minconvbert.grade.worker import BOOTSTRAP

__all__ = ["LocalSubmission", "RemoteSubmission", "StudentError", "WorkerLost", "STARTUP_TIMEOUT"]

STARTUP_TIMEOUT = 120.0  # seconds for a worker to import NumPy and minconvbert on a loaded machine
MAX_ANSWER = 64 * 1024 * 1024  # bytes in one answer line; a longer one is garbage


class StudentError(Exception):
    """The student's code raised (in the worker); `reason` is the one-line description."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WorkerLost(BaseException):
    """The worker is gone or cannot be trusted to answer: it died, ran past the time limit, or sent
    something that is not an answer. A BaseException, so that no check's `except Exception` hides it."""

    def __init__(self, reason: str, timed_out: bool = False):
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out


class LocalSubmission:
    """The student's module in this process (see the module docstring)."""

    def __init__(self, module):
        self.module = module
        self.stored: dict = {}

    @classmethod
    def from_file(cls, path) -> "LocalSubmission":
        path = Path(path).resolve()
        return cls(load_submission(path.read_text(encoding="utf-8"), str(path)))

    def run(self, path: str, *args, backward=None, through=None, count_lines: bool = False, watch: bool = True,
            repeat: int = 1, store_as: str | None = None, **kwargs) -> Outcome:
        outcome = call(self.module, path, args, kwargs, backward=backward, through=through, count_lines=count_lines,
                       watch=watch, repeat=repeat, store=self.stored)
        if store_as:
            self.stored[store_as], outcome.value = outcome.value, None
        # through the codec and back, so that the checks see exactly what grading gives them
        outcome.value = codec.decode(codec.encode(outcome.value))
        outcome.grads = codec.decode(codec.encode(outcome.grads))
        outcome.built = codec.decode(codec.encode(outcome.built))
        return outcome

    def map(self, path: str, calls) -> list:
        return [self.run(path, *args, watch=False, **kwargs).value for args, kwargs in calls]

    def store(self, key: str, value) -> None:
        self.stored[key] = codec.decode(codec.encode(value))

    def fetch(self, key: str):
        return codec.decode(codec.encode(self.stored[key]))


def _package_link(folder: Path) -> str:
    """A folder holding only a link to this minconvbert package: the worker's one extra import path."""
    (folder / "path").mkdir()
    (folder / "path" / "minconvbert").symlink_to(Path(minconvbert.__file__).resolve().parent)
    return str(folder / "path")


def _needed_paths(preload) -> list[str]:
    """The folders the worker reads after it has dropped privileges: NumPy, minconvbert, what it preloads."""
    paths = [os.path.dirname(numpy.__file__), os.path.dirname(minconvbert.__file__)]
    for name in preload:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            paths.append(os.path.dirname(spec.origin))
    return paths


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class RemoteSubmission:
    """A worker process running the student's file, and the requests the checks make of it."""

    def __init__(self, filename: str, allowed=(), preload=(), limits: dict | None = None):
        self.filename = filename
        self.limits = {**DEFAULT_LIMITS, **(limits or {}), "user": worker_user(_needed_paths(preload))}
        self.deadline = float("inf")  # time.monotonic() by which the current check must be done
        self._next_id = 0
        self.folder = Path(tempfile.mkdtemp(prefix="minconvbert-grade-"))
        config = {"allowed": list(allowed), "preload": list(preload), "limits": self.limits}
        env = {"PATH": os.defpath, "HOME": str(self.folder), "TMPDIR": str(self.folder), "LC_ALL": "C.UTF-8",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
               "NUMBA_CACHE_DIR": str(self.folder)}
        argv = [sys.executable, "-I", "-c", BOOTSTRAP, _package_link(self.folder), json.dumps(config)]
        if self.limits["user"]:
            os.chown(self.folder, *self.limits["user"])
        self.stderr = tempfile.TemporaryFile()
        self.worker = Spawned(argv, env, str(self.folder), self.stderr)
        self._answers: queue.Queue = queue.Queue()
        self._requests: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=target, daemon=True) for target in (self._read, self._write)]
        for thread in self._threads:
            thread.start()
        self.started = False
        self.isolation = ""

    # ----- the channel -----------------------------------------------------------------------------
    def _read(self) -> None:
        stream = self.worker.process.stdout
        while True:
            line = stream.readline(MAX_ANSWER + 1)
            if not line:
                self._answers.put(None)
                return
            if len(line) > MAX_ANSWER or not line.endswith(b"\n"):
                self._answers.put(f"a message longer than {MAX_ANSWER} bytes")
                return
            self._answers.put(line)

    def _write(self) -> None:
        stream = self.worker.process.stdin
        while (data := self._requests.get()) is not None:
            try:
                stream.write(data)
                stream.flush()
            except OSError:  # the worker is gone; the reader reports it
                return

    def death_reason(self, who: str = "the student's code") -> str:
        try:
            code = self.worker.process.wait(timeout=10)
        except Exception:  # still running: it stopped answering instead
            return f"{who} stopped answering"
        cpu = getattr(signal, "SIGXCPU", 24)
        if code in (-cpu, 128 + cpu):
            how = f"the CPU time limit ({self.limits['cpu_seconds']:g} s) was reached"
        elif code == -signal.SIGKILL:
            how = "killed by SIGKILL: the end of its CPU time, its memory, or a signal"
        elif code < 0 and -code == signal.SIGSEGV:
            how = "it crashed with a segmentation fault (in compiled code: an index out of bounds?)"
        elif code < 0:
            how = f"killed by {_signal_name(-code)}"
        else:
            how = f"exit code {code}"
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - 4096))
        tail = self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"{who} ended the grading process ({how})" + (f": {one_line(tail[0], 200)}" if tail[0].strip() else "")

    def _receive(self, deadline: float, who: str) -> dict:
        try:
            item = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise WorkerLost("time limit", timed_out=True) from None
        if item is None:
            raise WorkerLost(self.death_reason(who))
        if isinstance(item, str):
            raise WorkerLost(f"the worker sent malformed data ({item})")
        try:
            return codec.loads(item)
        except codec.DecodeError as error:
            raise WorkerLost(f"the worker sent malformed data ({error})") from None

    def request(self, op: str, deadline: float | None = None, **fields) -> dict:
        """Send one request and wait (until the deadline) for its answer; StudentError if it says "error"."""
        self._next_id += 1
        self._requests.put(codec.dumps({"id": self._next_id, "op": op, **fields}))
        answer = self._receive(self.deadline if deadline is None else deadline, "the student's code")
        if answer.get("id") != self._next_id:
            raise WorkerLost("the worker sent malformed data (an answer to no request)")
        if "error" in answer:
            raise StudentError(one_line(answer["error"]))
        return answer

    # ----- life ----------------------------------------------------------------------------------------
    def start(self, source: str, import_deadline: float) -> None:
        """Wait for the worker to be ready, then import the submission (StudentError if that fails)."""
        ready = self._receive(time.monotonic() + STARTUP_TIMEOUT, "the grader's worker (not the student's code)")
        if ready.get("ready") is not True:
            raise WorkerLost("the grader's worker did not start properly")
        self.started = True  # what it said so far came before any student code: to be believed
        self.isolation = isolation(self.limits["user"], bool(ready.get("pid_namespace")))
        self.request("import", deadline=import_deadline, source=source, filename=self.filename)

    def close(self) -> None:
        """Kill the worker and everything it started; remove its folder."""
        self._requests.put(None)
        self.worker.kill()
        for thread in self._threads:
            thread.join(timeout=5)
        self.worker.process.stdin.close()
        self.worker.process.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ----- what checks call -------------------------------------------------------------------------------
    def _value(self, data):
        try:
            return codec.decode(data)
        except codec.DecodeError as error:
            raise WorkerLost(f"the worker sent malformed data ({error})") from None

    def run(self, path: str, *args, backward=None, through=None, count_lines: bool = False, watch: bool = True,
            repeat: int = 1, store_as: str | None = None, **kwargs) -> Outcome:
        answer = self.request("call", path=path, args=codec.encode(list(args)), kwargs=codec.encode(kwargs),
                              backward=None if backward is None else codec.encode(backward), through=through,
                              count_lines=count_lines, watch=watch, repeat=repeat, store_as=store_as)
        grads, built, changed, lines = (self._value(answer.get("grads")), self._value(answer.get("built")),
                                        answer.get("changed"), answer.get("lines"))
        if not (isinstance(grads, dict) and isinstance(built, list) and isinstance(changed, list)
                and all(isinstance(c, str) for c in changed) and (lines is None or type(lines) is int)):
            raise WorkerLost("the worker sent malformed data (an answer of the wrong form)")
        return Outcome(self._value(answer.get("value")), grads, [one_line(c, 80) for c in changed], built, lines)

    def map(self, path: str, calls) -> list:
        values = self._value(self.request("map", path=path, calls=codec.encode([[list(a), k] for a, k in calls]))
                             .get("value"))
        if not isinstance(values, list) or len(values) != len(calls):
            raise WorkerLost("the worker sent malformed data (not one value per call)")
        return values

    def store(self, key: str, value) -> None:
        self.request("store", key=key, value=codec.encode(value))

    def fetch(self, key: str):
        return self._value(self.request("fetch", key=key).get("value"))
