"""The span convolution in pictures: its window sliding along the sequence, and unfold beside the band.

A convolution head mixes, at each position t, the K values around it with its own K weights:
out[t] = sum_k W[t, k] * V[t + k - P], P = (K - 1) // 2, V zero outside the sequence.

    conv_window_frames(kernels, positions=[0, 5, 15])   # one frame per position: window, weights, output
    unfold_and_band(kernels)                              # the same weights as unfolded spans and as a band

`kernels` is one head's (T, K) array of weights (rows usually sum to 1).
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_rgb
from matplotlib.patches import Rectangle

from minconvbert.analysis import kernels_to_matrix
from minconvbert.viz.common import finish, new_figure
from minconvbert.viz.heads import DEFAULT_CMAP, _outline_band

__all__ = ["conv_window_frames", "unfold_and_band"]


def _kernels(kernels) -> np.ndarray:
    array = np.asarray(getattr(kernels, "data", kernels), dtype=np.float64)
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"kernels: expected one head's weights of shape (T, K), got {array.shape}")
    return array


def _quarter(inches) -> float:
    """Inches rounded to a quarter: a whole number of pixels at any whole dpi."""
    return round(float(inches) * 4) / 4


def _ink(face) -> str:
    """Black or white text, whichever reads on a cell of colour `face`."""
    red, green, blue = to_rgb(face)
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def _cell(ax, x, y, text, face, edge="#969696", hatch=None, fontsize=7, linewidth=0.6):
    ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=face, edgecolor=edge, hatch=hatch, linewidth=linewidth))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=_ink(face))


def conv_window_frames(kernels, positions=None, *, vmax: float = None, cmap: str = DEFAULT_CMAP, figsize=None,
                       dpi: float = 100, title=None, path=None):
    """The convolution window at a few positions t, one frame (row) each: which values it reads, with which weight.

    kernels: (T, K) weights of one head. positions: the t to draw (default: the first, the second,
    the middle and the last, where the window hangs over the zero padding). In each frame the top
    row is the value sequence V[s] with P zero-padding cells on either side (hatched), the window
    V[t - P .. t + P] is outlined in red and coloured by its weights W[t, k] (printed above each
    cell), and lines carry each weighted value to out[t] in the bottom row. Returns the Figure.
    """
    weights = _kernels(kernels)
    T, K = weights.shape
    P = (K - 1) // 2
    positions = sorted({0, min(1, T - 1), T // 2, T - 1}) if positions is None else list(positions)
    for t in positions:
        if not isinstance(t, (int, np.integer)) or not 0 <= t < T:
            raise IndexError(f"positions: {t!r} is not a position of a sequence of {T}")
    colour = colormaps[cmap]
    norm = Normalize(0.0, float(weights.max()) if vmax is None else vmax)
    width = _quarter(np.clip(0.42 * (T + 2 * P) + 1.8, 5.0, 24.0))
    fig = new_figure(figsize or (width, 2.0 * len(positions) + 0.5), dpi)
    axes = fig.subplots(len(positions), 1, squeeze=False)[:, 0]
    for ax, t in zip(axes, positions):
        for s in range(-P, T + K - 1 - P):
            inside = 0 <= s < T
            k = s - t + P
            in_window = 0 <= k < K
            face = colour(norm(weights[t, k])) if in_window else ("white" if inside else "#f0f0f0")
            _cell(ax, s, 1.0, f"V{s}" if inside else "0", face, hatch=None if inside else "///")
            if in_window:
                ax.text(s, 1.75, f"{weights[t, k]:.2f}", ha="center", va="center", fontsize=7)
                ax.plot([s, t], [0.5, -0.5], color="black", linewidth=0.4 + 3 * weights[t, k] / max(norm.vmax, 1e-12),
                        alpha=0.25 if not inside else 0.8)
        ax.add_patch(Rectangle((t - P - 0.5, 0.5), K, 1, fill=False, edgecolor="tab:red", linewidth=2))
        for s in range(T):
            _cell(ax, s, -1.0, f"out{t}" if s == t else "", "tab:orange" if s == t else "white")
        ax.text(-P - 1.0, 1.0, "values", ha="right", va="center", fontsize=8)
        ax.text(-P - 1.0, -1.0, "output", ha="right", va="center", fontsize=8)
        ax.text(-P - 1.0, 1.75, "W[t, k]", ha="right", va="center", fontsize=8)
        ax.set_title(f"t = {t}: out[{t}] = sum over k of W[{t}, k] * V[{t} + k - {P}]"
                     + (" (part of the window is zero padding)" if t < P or t > T - 1 - P else ""), fontsize=9)
        ax.set_xlim(-P - 3.2, T + K - 1 - P)
        ax.set_ylim(-1.6, 2.1)
        ax.axis("off")
    fig.suptitle(title if title is not None else f"the convolution window (K = {K}) sliding along a sequence of {T}")
    return finish(fig, path)


def unfold_and_band(kernels, row: int = None, *, vmax: float = None, cmap: str = DEFAULT_CMAP, figsize=None,
                    dpi: float = 100, title=None, path=None):
    """The same kernel weights two ways: as unfolded spans (T, K) and as the banded (T, T) mixing matrix.

    Left: row t, column k is the weight W[t, k] (colour) of the value V[t + k - P] it multiplies
    (the index printed in the cell; "pad" where it falls outside the sequence). Right: the banded
    matrix M[t, t + k - P] = W[t, k], the band outlined, zero elsewhere; out = M @ V. `row` (default
    the middle) is outlined in red in both. One colour scale for both panels. Returns the Figure.
    """
    weights = _kernels(kernels)
    T, K = weights.shape
    P = (K - 1) // 2
    row = T // 2 if row is None else row
    if not isinstance(row, (int, np.integer)) or not 0 <= row < T:
        raise IndexError(f"row: {row!r} is not a position of a sequence of {T}")
    top = float(weights.max()) if vmax is None else vmax
    side = float(np.clip(0.32 * T + 1.5, 3.5, 10.0))
    fig = new_figure(figsize or (_quarter(side * (K / T) + side + 2.2), _quarter(side)), dpi)
    left, right = fig.subplots(1, 2, width_ratios=[max(K, 2), T])
    sources = np.arange(T)[:, None] + np.arange(K)[None, :] - P  # (T, K): the position each weight multiplies
    padding = (sources < 0) | (sources >= T)
    left.imshow(np.where(padding, np.nan, weights), vmin=0, vmax=top, cmap=cmap, aspect="equal",
                interpolation="nearest")
    colour = colormaps[cmap]
    for t in range(T):
        for k in range(K):
            text = "pad" if padding[t, k] else str(sources[t, k])
            left.text(k, t, text, ha="center", va="center", fontsize=6 if T > 12 else 7,
                      color="grey" if padding[t, k] else _ink(colour(weights[t, k] / max(top, 1e-12))))
    left.set_xticks(range(K), labels=[f"{k - P:+d}" if k != P else "0" for k in range(K)], fontsize=7)
    left.set_xlabel("tap k (offset k - P)")
    left.set_ylabel("position t")
    left.set_title("unfolded spans:\ncell (t, k) reads V[t + k - P]", fontsize=9)
    image = right.imshow(kernels_to_matrix(weights), vmin=0, vmax=top, cmap=cmap, aspect="equal",
                         interpolation="nearest")
    _outline_band(right, T, K)
    right.set_xlabel("position mixed s")
    right.set_ylabel("output position t")
    right.set_title("banded matrix: M[t, t + k - P] = W[t, k]\nout = M @ V", fontsize=9)
    left.add_patch(Rectangle((-0.5, row - 0.5), K, 1, fill=False, edgecolor="tab:red", linewidth=2))
    right.add_patch(Rectangle((row - P - 0.5, row - 0.5), K, 1, fill=False, edgecolor="tab:red", linewidth=2))
    fig.colorbar(image, ax=[left, right], label="weight W[t, k]", shrink=0.8)
    fig.suptitle(title if title is not None else f"the same {T} x {K} weights, unfolded and as a band "
                 f"(row {row} outlined in both)", fontsize=10)
    return finish(fig, path)
