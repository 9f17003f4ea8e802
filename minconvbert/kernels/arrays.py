"""Preparing arrays for fast.py's loops: the compute dtype, contiguous memory, rows, mask rows.

The loops take C-contiguous arrays in float32 or float64 and index rows; these helpers make them
without copying what already fits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["work_dtype", "contiguous", "mask_rows"]


def work_dtype(dtype) -> np.dtype:
    """The dtype the loops compute in: float32 and float64 as themselves, other widths in the nearer."""
    return np.dtype(np.float32) if np.dtype(dtype).itemsize <= 4 else np.dtype(np.float64)


def contiguous(array: np.ndarray, dtype) -> np.ndarray:
    """`array` as a C-contiguous array of `dtype` (no copy when it already is one)."""
    return np.ascontiguousarray(array, dtype=dtype)


def mask_rows(mask: np.ndarray, shape: tuple, dtype) -> tuple:
    """An additive mask as distinct rows (M, N) plus, for each of the (R, N) rows of `shape`, its mask row.

    A (B, 1, 1, T) mask against (B, H, T, T) scores has B distinct rows; the full broadcast
    (B*H*T rows) is never built.
    """
    n = shape[-1]
    mask = mask.reshape((1,) * (len(shape) - mask.ndim) + mask.shape)  # same number of axes as x
    lead = mask.shape[:-1]
    rows = contiguous(np.broadcast_to(mask, lead + (n,)), dtype).reshape(-1, n)  # (M, N)
    index = np.arange(rows.shape[0], dtype=np.int64).reshape(lead)
    row_of = contiguous(np.broadcast_to(index, shape[:-1]), np.int64).reshape(-1)  # (R,)
    return rows, row_of
