"""Run a file reader on untrusted bytes in a child process, with a memory cap and a deadline.

    with ReaderWorker() as worker:
        outcome = worker.run("pytorch_model.bin", {"pytorch_model.bin": data})
        outcome.kind    # "accepted", "refused" (the reader's own exception), "escaped" (any other
                        # exception, MemoryError included), "timeout" or "died"
        outcome.peak    # the most memory the reader held at once (tracemalloc), in bytes

The child (`python -m tests.io.reader_worker`) imports the readers of tests/io/file_readers.py once;
for each case it writes the files into a fresh directory, calls the reader there under tracemalloc
and replies with what happened. Its address space is capped (RLIMIT_AS, 2 GB above what the imports
take), so a reader that asks for gigabytes gets a MemoryError instead of taking the machine down. A
case that runs past the (generous) deadline, in C code or in Python, is reported as "timeout" and
the child is replaced. No wall-clock time is asserted; CPU seconds are reported for information.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP_BYTES = 2 << 30


@dataclass
class Outcome:
    kind: str
    error: str = ""  # "module.Class: message" of the exception raised, if any
    peak: int = 0  # bytes, tracemalloc's peak during the case
    cpu_seconds: float = 0.0


def _send(stream, obj) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    return pickle.loads(stream.read(struct.unpack("<Q", head)[0]))


class ReaderWorker:
    """The parent's end: one child process, restarted after a timeout or a crash."""

    def __init__(self, deadline_seconds: float = 60.0):
        self.deadline = deadline_seconds
        self.process = None
        self._start()

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.io.reader_worker"], cwd=ROOT, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if _receive(self.process.stdout) != "ready":
            raise RuntimeError("the reader worker did not start (see its stderr)")

    def _restart(self) -> None:
        self.process.kill()
        self.process.wait()
        self._start()

    def run(self, reader: str, files: dict[str, bytes]) -> Outcome:
        """Read `files` (name -> bytes, written into one directory) with the reader named `reader`."""
        _send(self.process.stdin, (reader, files))
        ready, _, _ = select.select([self.process.stdout], [], [], self.deadline)
        if not ready:
            self._restart()
            return Outcome("timeout", f"no answer within {self.deadline} s")
        reply = _receive(self.process.stdout)
        if reply is None:
            code = self.process.wait()
            self._start()
            return Outcome("died", f"the reader's process ended with code {code}")
        return Outcome(**reply)

    def close(self) -> None:
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
            self.process = None

    def __enter__(self) -> "ReaderWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read(reader, directory: Path) -> Outcome:
    import time
    import tracemalloc

    tracemalloc.start()
    cpu = time.process_time()
    try:
        reader.read(directory)
        kind, error = "accepted", ""
    except reader.refuses_with as e:
        kind, error = "refused", f"{type(e).__module__}.{type(e).__name__}: {str(e)[:300]}"
    except Exception as e:  # noqa: BLE001 -- anything else is what the fuzzer looks for
        kind, error = "escaped", f"{type(e).__module__}.{type(e).__name__}: {str(e)[:300]}"
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Outcome(kind, error, peak, time.process_time() - cpu)


def _serve() -> None:
    import resource
    import warnings

    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a reader prints goes to stderr, not into the protocol
    warnings.simplefilter("ignore")
    from tests.io.file_readers import READERS

    try:  # the cap counts from what the imports mapped (Linux); elsewhere tracemalloc alone measures
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY_CAP_BYTES, resource.RLIM_INFINITY))
    except OSError:
        pass
    _send(protocol_out, "ready")
    while (message := _receive(sys.stdin.buffer)) is not None:
        name, files = message
        with tempfile.TemporaryDirectory() as tmp:
            for filename, data in files.items():
                Path(tmp, filename).write_bytes(data)
            outcome = _read(READERS[name], Path(tmp))
        _send(protocol_out, vars(outcome))


if __name__ == "__main__":
    _serve()
