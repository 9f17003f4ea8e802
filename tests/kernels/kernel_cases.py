"""Shared pieces of the kernel tests: hypothesis strategies, seeded inputs, tolerances, subprocesses.

Shapes are drawn by hypothesis; values come from a NumPy generator seeded by a drawn integer, so
every failing example is reproducible from hypothesis's report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

DTYPES = (np.float32, np.float64)

# fast == reference within these: float32 rounding in either implementation (the reference itself
# rounds in float32), float64 close to the last bit.
TOLERANCE = {np.float32: 2e-6, np.float64: 1e-12}

seeds = st.integers(min_value=0, max_value=2**32 - 1)
dtypes = st.sampled_from(DTYPES)
batch = st.integers(min_value=0, max_value=3)  # 0: an empty batch
length = st.integers(min_value=1, max_value=12)  # often shorter than the kernel
width = st.integers(min_value=1, max_value=9)  # kernel size, 1 included, even sizes too


def normal(rng, shape, dtype, scale=1.0):
    """Standard normal values times `scale`, as `dtype`."""
    return (rng.standard_normal(shape) * scale).astype(dtype)


def abs_scale(function, *arrays):
    """The largest entry of `function` applied to |arrays|: a bound on the sums' terms, for tolerances."""
    results = function(*[np.abs(a) for a in arrays])
    results = results if isinstance(results, tuple) else (results,)
    return [max(1.0, float(np.max(r, initial=0.0))) for r in results]


def assert_agree(fast, reference, dtype, scale=1.0, name="result"):
    """Same shape and dtype, and |fast - reference| <= tol * (scale + |reference|); NaN where NaN."""
    fast, reference = np.asarray(fast), np.asarray(reference)
    assert fast.shape == reference.shape, f"{name}: shape {fast.shape} != reference {reference.shape}"
    assert fast.dtype == reference.dtype, f"{name}: dtype {fast.dtype} != reference {reference.dtype}"
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(
        fast.astype(np.float64), reference.astype(np.float64), rtol=tol, atol=tol * scale, equal_nan=True,
        err_msg=name,
    )  # fmt: skip


def assert_sums_agree(fast_function, reference_function, args, names, dtype):
    """Every output of the two functions on `args` agrees, each scaled by abs_scale (for sums of terms)."""
    scales = abs_scale(reference_function, *args)
    got, expected = fast_function(*args), reference_function(*args)
    if not isinstance(got, tuple):
        got, expected = (got,), (expected,)
    for name, a, e, scale in zip(names, got, expected, scales):
        assert_agree(a, e, dtype, scale, name=name)


ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def run_python(code, **env):
    """Run `code` in a new interpreter with the worktree importable; return the completed process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    environment.update(env)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          timeout=300, cwd=ROOT)  # fmt: skip
