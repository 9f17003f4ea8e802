"""Speed as the grader measures it: the student's function against a reference, in the same run.

    ratio, mine, reference_seconds = speed_ratio(student, "span_conv_forward", reference.span_conv_forward,
                                                 [values, kernels])
    return speed_score(ratio, "span_conv_forward")     # a Score: partial credit by tiers

On a loaded machine a single timing says little, so: the inputs are sent to the worker once, the
first call (which compiles a numba kernel) is not timed and its output must equal the reference's;
then `rounds` rounds alternate `repeat` calls of the reference (here, in the grader) with `repeat`
calls of the student's function (one request to the worker, timed from here, so that the worker
cannot report its own time); the best round of each counts, and the output of the timed calls
must equal the reference's too. The tiers are generous: the solution runs 3 to 20 times faster
than the NumPy reference, a plain Python loop about a thousand times slower.
"""

from __future__ import annotations

import time

from minconvbert.grade.checks import close
from minconvbert.grade.codec import Stored
from minconvbert.grade.framework import Score

__all__ = ["speed_ratio", "speed_score", "TIERS"]

TIERS = ((1.0, 1.0), (0.5, 2 / 3), (0.25, 1 / 3))  # (at least this fraction of the reference's speed, the marks)
TOO_SLOW = 50.0  # a first timed call this many times slower than the reference ends the measurement


def _outputs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def speed_ratio(student, path: str, reference, arrays, rounds: int = 5, repeat: int = 3, **tolerances):
    """(reference time / student time, student seconds per call, reference seconds per call)."""
    keys = [f"speed:{path}:{i}" for i in range(len(arrays))]
    for key, array in zip(keys, arrays):
        student.store(key, array)
    stored = [Stored(key) for key in keys]
    want = _outputs(reference(*arrays))

    def check_output(what):
        got = _outputs(student.fetch("speed:out"))
        if len(got) != len(want):
            raise AssertionError(f"{path}: expected {len(want)} output(s), got {len(got)}")
        for i, (mine, theirs) in enumerate(zip(got, want)):
            close(mine, theirs, f"{path} ({what}{', output ' + str(i) if len(want) > 1 else ''})", **tolerances)

    student.run(path, *stored, watch=False, store_as="speed:out")  # compiles; not timed
    check_output("its first call, on the speed inputs")
    mine = theirs = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            reference(*arrays)
        theirs = min(theirs, (time.perf_counter() - start) / repeat)
        start = time.perf_counter()
        student.run(path, *stored, watch=False, repeat=repeat, store_as="speed:out")
        mine = min(mine, (time.perf_counter() - start) / repeat)
        if mine > TOO_SLOW * theirs:
            break
    check_output("the timed calls")
    return theirs / mine, mine, theirs


def speed_score(ratio: float, what: str, mine: float, theirs: float) -> Score:
    """The marks for running at `ratio` times the reference's speed (TIERS), and why not all."""
    text = (f"{what} took {mine * 1e3:.3g} ms per call, the NumPy reference {theirs * 1e3:.3g} ms: {ratio:.2f} times "
            f"its speed (full marks from {TIERS[0][0]:g})")
    for at_least, fraction in TIERS:
        if ratio >= at_least:
            return Score(fraction, text)
    return Score(0.0, text + ": is the loop compiled (@njit), with the innermost loop over the last axis?")
