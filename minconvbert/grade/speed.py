"""Speed as the grader measures it: the student's function against a reference, in the same run.

    ratio, mine, reference_seconds = speed_ratio(student, "span_conv_forward", reference.span_conv_forward,
                                                 small_inputs, [values, kernels])
    return speed_score(ratio, "span_conv_forward", mine, reference_seconds)   # a Score, by tiers

The student's calls run in the worker and are timed here, around the request, so that the worker
cannot report its own time; a request costs milliseconds on a loaded machine, so each timed request
runs the function many times (enough for about TARGET seconds of work). In order: a first call on a
small input (it compiles a numba kernel) is not timed, and ten more tell a hopeless function
(TOO_SLOW: a Python loop) without waiting for it on the large input. The large inputs are sent to
the worker once; its first call on them is not timed and its output must equal the reference's.
Then `rounds` rounds alternate the reference's calls (here, in the grader) with the student's, the
same number of each; the best round of each counts; the output of the timed calls must equal the
reference's too. The tiers are generous (see TIERS).
"""

from __future__ import annotations

import math
import time

from minconvbert.grade.checks import close
from minconvbert.grade.codec import Stored
from minconvbert.grade.framework import Score

__all__ = ["speed_ratio", "speed_score", "TIERS"]

# (at least this fraction of the reference's speed, the marks): generous, because a busy machine shifts the
# ratio by up to 3 times (the solution measured 1.3 to 4.5 times the reference's speed on a 2-core machine
# running a dozen other jobs, 3 to 20 on a quiet one; compiled loops in the wrong order, 0.03 to 0.07)
TIERS = ((0.5, 1.0), (0.25, 2 / 3), (0.12, 1 / 3))
TOO_SLOW = 50.0  # this many times slower than the reference on the small input: not measured further
TARGET = 0.1  # seconds of the student's work per timed request (the request itself costs milliseconds)


def _outputs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def speed_ratio(student, path: str, reference, small, arrays, rounds: int = 5, **tolerances):
    """(reference time / student time, student seconds per call, reference seconds per call) on `arrays`;
    `small`: a small input of the same dtypes, to compile on and to tell a hopeless function early."""
    want = _outputs(reference(*arrays))

    def check_output(what):
        got = _outputs(student.fetch("speed:out"))
        if len(got) != len(want):
            raise AssertionError(f"{path}: expected {len(want)} output(s), got {len(got)}")
        for i, (mine, theirs) in enumerate(zip(got, want)):
            close(mine, theirs, f"{path} ({what}{', output ' + str(i) if len(want) > 1 else ''})", **tolerances)

    def student_seconds(args, repeat):  # per call, from one request
        return _seconds(lambda: student.run(path, *args, watch=False, repeat=repeat, store_as="speed:out")) / repeat

    def reference_seconds(args, repeat):
        return _seconds(lambda: [reference(*args) for _ in range(repeat)]) / repeat

    student_seconds(small, 1)  # compiles; not timed
    mine, theirs = student_seconds(small, 10), reference_seconds(small, 10)
    if mine > TOO_SLOW * theirs:
        return theirs / mine, mine, theirs
    keys = [f"speed:{path}:{i}" for i in range(len(arrays))]
    for key, array in zip(keys, arrays):
        student.store(key, array)
    stored = [Stored(key) for key in keys]
    repeat = min(100, max(3, math.ceil(TARGET / student_seconds(stored, 1))))
    check_output("its first call, on the speed inputs")
    mine = theirs = float("inf")
    for _ in range(rounds):
        theirs = min(theirs, reference_seconds(arrays, repeat))
        mine = min(mine, student_seconds(stored, repeat))
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
