"""How fast.py's loops are compiled and run: once, serial and without the GIL, split across threads.

Each kernel of `minconvbert.kernels.fast` is a plain Python loop over a range of rows,
`_name_plain(*arrays, start, stop)`, wrapped in a `Loop`:

    _GELU_FORWARD = Loop(_gelu_forward_plain)      # njit(nogil=True, cache=True, error_model="numpy")
    _GELU_FORWARD(rows, size, x, out)              # runs _gelu_forward_plain(x, out, start, stop) piece by piece

A call with `size` (elements touched) of at least 2 * PIECE is cut into pieces of rows that
`minconvbert.threads.parallel_range` hands to its threads; a smaller call runs on the calling thread
(waking a thread costs tens of microseconds, more than a small array takes). There is one
compilation per loop and dtype, no `parallel=True` one: numba's own thread pool never starts, so it
cannot spin against BLAS's, and a cold start compiles half as much.

Compilation: `cache=True` compiles once per machine (the machine code lands in
minconvbert/kernels/__pycache__). The first compilation in a process prints one line to stderr,
because it takes seconds and a learner should know why the first forward waits. With
NUMBA_DISABLE_JIT=1 numba hands back the plain function, so every loop can be stepped through.
"""

from __future__ import annotations

import sys

from numba import njit
from numba.core import event

from minconvbert import threads

__all__ = ["Loop", "PIECE", "COMPILE_SECONDS", "OPTIONS"]

PIECE = 32_768  # elements: the least work worth handing to another thread (docs/kernels.md, "Threads")
COMPILE_SECONDS = 20  # the first compilation of the kernels a training step uses, on an idle 2-core machine
# (49-58 s measured beside other work, docs/performance.md)
OPTIONS = {"nogil": True, "fastmath": False, "error_model": "numpy"}  # and cache=True


class Loop:
    """A plain loop `plain(*arrays, start, stop)` over rows [start, stop), compiled once and run split."""

    def __init__(self, plain):
        self.plain = plain
        self.compiled = njit(cache=True, **OPTIONS)(plain)

    def __call__(self, rows: int, size: int, *arrays) -> None:
        """Run the loop over rows [0, rows); `size` is the elements it touches (decides the split)."""
        compiled = self.compiled
        if size < 2 * PIECE:  # the common case of small arrays: no pieces to cut
            compiled(*arrays, 0, rows)
        else:
            threads.parallel_range(rows, lambda start, stop: compiled(*arrays, start, stop), work=size, piece=PIECE)


class _CompileNotice(event.Listener):
    """Prints one line when numba starts compiling one of these kernels, once per process."""

    said = False

    def on_start(self, event_):
        function = getattr(event_.data["dispatcher"], "py_func", None)
        if not _CompileNotice.said and getattr(function, "__module__", "").startswith("minconvbert.kernels"):
            _CompileNotice.said = True
            print(f"compiling minconvbert's kernels, once per machine, ~{COMPILE_SECONDS} s "
                  "(longer on a busy machine)", file=sys.stderr, flush=True)

    def on_end(self, event_):
        pass


event.register("numba:compile", _CompileNotice())
