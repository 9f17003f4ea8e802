"""Killing a process that writes files, and checking what it leaves: for crash-consistency tests.

    kill_loop(work, check, kills=20, seed=0)
        Forks a child running work() (say, saving a checkpoint over and over), SIGKILLs it after a
        random delay, calls check() on what is left, and repeats. Returns how many kills there were.

    kill_at_each_step(reset, work, check)
        For k = 1, 2, ...: reset() the files, then fork a child running work() that SIGKILLs itself
        just before its k-th change to the file system (a rename, replace, unlink, rmdir or
        directory exchange; rmtree counts each file it removes), and check() what is left; until
        work() finishes untouched. Returns the number of crash points tried.

The children are forked (POSIX only): cheap, and they inherit what the parent imported, compiled
and built. A child leaves with os._exit, never through pytest's own exit path. The random delays
are seeded; where a kill lands still depends on the machine's speed, so a check must hold whatever
moment the kill came at (which is the point).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable

from minconvbert.io import atomic_dir

__all__ = ["kill_loop", "kill_at_each_step", "CHANGES"]

# (module, function) pairs that change the file system; kill_at_each_step counts calls to them.
CHANGES = [(os, "rename"), (os, "replace"), (os, "unlink"), (os, "rmdir"), (atomic_dir, "_exchange")]


def _fork(work: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            work()
        except BaseException:  # noqa: BLE001 -- reported through the exit code
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)
    return pid


def _wait(pid: int) -> int:
    """The child's exit status: its exit code, or minus the signal that killed it."""
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def kill_loop(work: Callable[[], None], check: Callable[[], None], kills: int = 20, seed: int = 0,
              delay: tuple[float, float] = (0.01, 0.15)) -> int:
    """SIGKILL a child running work() after a random delay in `delay` seconds, `kills` times."""
    rng = random.Random(seed)
    for _ in range(kills):
        pid = _fork(work)
        time.sleep(rng.uniform(*delay))
        os.kill(pid, signal.SIGKILL)
        status = _wait(pid)
        assert status == -signal.SIGKILL, f"the child ended by itself (status {status}) before it was killed"
        check()
    return kills


def _die_before_change(k: int) -> None:
    """In the child: replace each function of CHANGES by one that kills the process at the k-th call."""
    calls = [0]

    def wrap(function):
        def changing(*args, **kwargs):
            calls[0] += 1
            if calls[0] == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)
        return changing

    for module, name in CHANGES:
        setattr(module, name, wrap(getattr(module, name)))


def kill_at_each_step(reset: Callable[[], None], work: Callable[[], None], check: Callable[[], None],
                      limit: int = 200) -> int:
    """Crash work() just before each of its file-system changes in turn; check() after each crash."""
    for k in range(1, limit + 1):
        reset()
        def crashing():
            _die_before_change(k)
            work()

        status = _wait(_fork(crashing))
        if status == 0:
            return k - 1  # work() made fewer than k changes: every crash point has been tried
        assert status == -signal.SIGKILL, f"the child failed (status {status}); see its stderr"
        check()
    raise AssertionError(f"work() still had changes to make after {limit} crash points")
