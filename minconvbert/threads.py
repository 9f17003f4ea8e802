"""How minconvbert uses the cores: one thread count, one pool of threads, and BLAS kept to one thread.

    import minconvbert
    minconvbert.set_num_threads(1)     # everything on the calling thread
    minconvbert.get_num_threads()      # default: MINCONVBERT_NUM_THREADS, else the cores this process may use

The policy (docs/performance.md, "Threads", has the measurements behind it):
- Work is split only when it is large: `parallel_range` cuts a loop into pieces of at least
  `piece` units of work (how many depends on the work alone, never on the thread count, so the
  results do not either), which the calling thread and the pool's threads take one at a time from a
  shared counter. A thread that another process keeps off its core delays nobody: the others take
  the pieces it did not start. Small work runs on the calling thread alone, because waking a thread
  costs more than it saves.
- minconvbert's numba kernels and large matrix products are what gets split (kernels/loops.py,
  ops/matmul.py). The kernels are compiled serial and without the GIL; numba's own thread pool is
  never started.
- Inside minconvbert's matrix products NumPy's BLAS runs on one thread (`blas_on_one_thread`, set
  through threadpoolctl and put back as found when the product ends). OpenBLAS's own threads spin
  on their core for ~0.1 s after every product they share; those spinning threads are what numba's
  threads and a neighbouring process used to fight over. Outside minconvbert's calls, every
  library keeps the thread settings its user chose.
- The pool's threads sleep while there is no work; the pool is started on first use and forgotten in
  a forked child (threads do not survive a fork).
"""

from __future__ import annotations

import itertools
import os
import queue
import threading

__all__ = ["set_num_threads", "get_num_threads", "parallel_range", "blas_on_one_thread"]

MAX_PIECES = 16  # pieces of a split loop at most: several per thread, so that a delayed thread's share is
#                 taken over by the others, yet each piece large enough to amortise its hand-over


def _default_num_threads() -> int:
    value = os.environ.get("MINCONVBERT_NUM_THREADS")
    if value is not None:
        try:
            return _checked(int(value), "MINCONVBERT_NUM_THREADS")
        except ValueError:
            raise ValueError(f"MINCONVBERT_NUM_THREADS: expected a positive integer, got {value!r}") from None
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on (a container may allow fewer)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _checked(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name}: expected a positive integer, got {n!r}")
    return n


_num_threads = None  # resolved on first use, so that the environment variable is read then, not at import


def get_num_threads() -> int:
    """How many threads minconvbert's kernels and matrix products use (the calling thread included)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_num_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use `n` threads (the calling thread included) for minconvbert's kernels and matrix products.

    The one thread setting of minconvbert; 1 runs everything on the calling thread. It does not change
    NumPy's, numba's or torch's own settings.
    """
    global _num_threads
    _num_threads = _checked(n, "set_num_threads")


# ----- the pool ---------------------------------------------------------------------------------
class _Task:
    """One split loop: `run(start, stop)` over `bounds`, pieces claimed in order by whoever comes first."""

    __slots__ = ("run", "bounds", "claim", "finished", "done", "error")

    def __init__(self, run, bounds):
        self.run, self.bounds = run, bounds
        self.claim = itertools.count()  # next() on a count is atomic under the GIL: one claimant per piece
        self.finished = itertools.count(1)
        self.done = threading.Event()
        self.error = None

    def work(self) -> None:
        """Run unclaimed pieces until none is left (called by the caller and by each pool thread)."""
        pieces = len(self.bounds) - 1
        while True:
            i = next(self.claim)
            if i >= pieces:
                return
            try:
                self.run(self.bounds[i], self.bounds[i + 1])
            except BaseException as error:  # re-raised by the caller once every piece has ended
                self.error = error
            if next(self.finished) == pieces:
                self.done.set()


_inside = threading.local()  # .active: this thread is running pieces, so a nested loop runs inline
_workers: list = []  # one queue per pool thread, the thread blocked in queue.get() until a task comes
_workers_lock = threading.Lock()


def _serve(tasks: queue.SimpleQueue) -> None:
    _inside.active = True
    while True:
        tasks.get().work()


def _pool(size: int) -> list:
    """The queues of `size` pool threads (started when first needed)."""
    if len(_workers) < size:
        with _workers_lock:
            while len(_workers) < size:
                tasks = queue.SimpleQueue()
                threading.Thread(target=_serve, args=(tasks,), name=f"minconvbert-{len(_workers) + 1}",
                                 daemon=True).start()  # fmt: skip
                _workers.append(tasks)
    return _workers[:size]


def _forget_pool() -> None:
    _workers.clear()  # a forked child has none of the parent's threads


os.register_at_fork(after_in_child=_forget_pool)


def parallel_range(n: int, run, *, work: float, piece: float) -> None:
    """Call run(start, stop) for consecutive ranges covering [0, n), on up to get_num_threads() threads.

    `work` is the loop's size in any unit (elements, multiply-adds) and `piece` the least work worth
    handing to another thread, in the same unit: the loop is cut into min(n, work // piece, MAX_PIECES)
    ranges. The ranges do not depend on the number of threads, and each `run` must write only its own
    range, so results are the same on any number of threads. Exceptions from any range are re-raised
    here once every range has ended.
    """
    pieces = max(1, min(n, int(work // piece) if piece > 0 else n, MAX_PIECES))
    bounds = [i * n // pieces for i in range(pieces + 1)]
    threads = get_num_threads()
    if pieces == 1 or threads == 1 or getattr(_inside, "active", False):
        for start, stop in zip(bounds[:-1], bounds[1:]):
            if start < stop:
                run(start, stop)
        return
    task = _Task(run, bounds)
    for tasks in _pool(min(threads, pieces) - 1):
        tasks.put(task)
    _inside.active = True
    try:
        task.work()
    finally:
        _inside.active = False
    task.done.wait()
    if task.error is not None:
        raise task.error


# ----- BLAS on one thread inside minconvbert's products -----------------------------------------
class _BlasHold:
    """Process-wide and reentrant: the first to enter sets every BLAS library to one thread, the last to
    leave puts back the counts found (so concurrent products from several threads restore correctly)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = []  # (library controller, its thread count before)
        self._libraries = None

    def libraries(self) -> list:
        """threadpoolctl's controllers of the BLAS libraries loaded in this process (found once)."""
        if self._libraries is None:
            import numpy  # noqa: F401  (NumPy's BLAS must be loaded before it is looked for)
            from threadpoolctl import ThreadpoolController

            self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        return self._libraries

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._saved = [(lib, lib.get_num_threads()) for lib in self.libraries()]
                self._set([(lib, 1) for lib, count in self._saved if count != 1])
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._set([(lib, count) for lib, count in self._saved if count != 1])

    @staticmethod
    def _set(counts) -> None:
        for lib, count in counts:
            lib.set_num_threads(count)
            # threadpoolctl lets one Python thread at a time set OpenBLAS's count: let go of it at once,
            # so that whichever thread ends the last product can put the user's count back
            getattr(lib, "clear_controlling_thread", lambda: None)()


_BLAS_HOLD = _BlasHold()


def blas_on_one_thread():
    """Context manager: NumPy's BLAS on one thread inside, its previous thread count restored after."""
    return _BLAS_HOLD

