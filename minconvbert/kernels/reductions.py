"""Sums and maxima over one row, written for numba: eight interleaved partial results.

`total += a[j]` waits for each addition before starting the next, and without fastmath LLVM may not
reorder it. Eight interleaved partial sums are eight independent chains that run side by side; the
order of the additions is still fixed, so results do not depend on the machine or the thread count.
All three are inlined into the loops that call them (`inline="always"`); sums accumulate in float64.
"""

from __future__ import annotations

from numba import njit

__all__ = ["dot", "row_sum", "row_max"]


@njit(inline="always")
def dot(a, b):
    """sum_j a[j] * b[j], accumulated in float64; a, b (N,)."""
    n = a.shape[0]
    s0, s1, s2, s3, s4, s5, s6, s7 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    j = 0
    while j + 8 <= n:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        s4 += a[j + 4] * b[j + 4]
        s5 += a[j + 5] * b[j + 5]
        s6 += a[j + 6] * b[j + 6]
        s7 += a[j + 7] * b[j + 7]
        j += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        total += a[j] * b[j]
        j += 1
    return total


@njit(inline="always")
def row_sum(a):
    """sum_j a[j], accumulated in float64; a (N,)."""
    n = a.shape[0]
    s0, s1, s2, s3, s4, s5, s6, s7 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    j = 0
    while j + 8 <= n:
        s0 += a[j]
        s1 += a[j + 1]
        s2 += a[j + 2]
        s3 += a[j + 3]
        s4 += a[j + 4]
        s5 += a[j + 5]
        s6 += a[j + 6]
        s7 += a[j + 7]
        j += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < n:
        total += a[j]
        j += 1
    return total


@njit(inline="always")
def row_max(a):
    """max_j a[j] as eight interleaved running maxima; a (N,), N >= 1. A NaN may be skipped: the
    callers feed the values to exp and a sum, where a NaN spreads anyway."""
    n = a.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = a[0]
    j = 0
    while j + 8 <= n:
        m0 = a[j] if a[j] > m0 else m0
        m1 = a[j + 1] if a[j + 1] > m1 else m1
        m2 = a[j + 2] if a[j + 2] > m2 else m2
        m3 = a[j + 3] if a[j + 3] > m3 else m3
        m4 = a[j + 4] if a[j + 4] > m4 else m4
        m5 = a[j + 5] if a[j + 5] > m5 else m5
        m6 = a[j + 6] if a[j + 6] > m6 else m6
        m7 = a[j + 7] if a[j + 7] > m7 else m7
        j += 8
    for m in (m1, m2, m3, m4, m5, m6, m7):
        m0 = m if m > m0 else m0
    while j < n:
        m0 = a[j] if a[j] > m0 else m0
        j += 1
    return m0
