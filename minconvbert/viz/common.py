"""What every plot shares: a pyplot-free figure, saving, reading maps out of model outputs, token ticks.

Figures are made with `matplotlib.figure.Figure` directly, not through pyplot: nothing global
changes, no window opens, nothing leaks between calls, and a notebook shows the figure once as
the value of the cell. Save with `path=` (or `fig.savefig(...)`).
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

from minconvbert.models.convbert.checks import numeric_array
from minconvbert.tensor import Tensor

__all__ = ["new_figure", "finish", "layer_maps", "check_head", "token_labels", "token_ticks", "set_token_ticks"]

# which model flag records which field (for the error message when a field is missing)
_FLAGS = {"attentions": "output_attentions=True", "conv_kernels": "output_conv_kernels=True"}


def new_figure(figsize, dpi) -> Figure:
    """A Figure of figsize inches (width, height) at dpi dots per inch, laid out by matplotlib."""
    if len(figsize) != 2 or min(figsize) <= 0:
        raise ValueError(f"figsize: expected (width, height) in inches, both > 0, got {figsize!r}")
    if dpi <= 0:
        raise ValueError(f"dpi: expected a positive number, got {dpi!r}")
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def finish(fig: Figure, path=None) -> Figure:
    """Save `fig` to `path` when one is given (format from the suffix, size figsize * dpi); return it."""
    if path is not None:
        directory = os.path.dirname(os.fspath(path))
        if directory and not os.path.isdir(directory):
            raise FileNotFoundError(f"path: the directory {directory!r} does not exist")
        fig.savefig(path, dpi=fig.dpi)
    return fig


def layer_maps(source, field: str, layer: int, example: int) -> np.ndarray:
    """One layer's maps for one example: (H, T, X) from a model output or per-layer records.

    source: a model output (its `.attentions` / `.conv_kernels`), a list/tuple of per-layer
    (B, H, T, X) arrays or Tensors, or one array (L, B, H, T, X). field: "attentions" or "conv_kernels".
    """
    if hasattr(source, field) and not isinstance(source, (list, tuple, np.ndarray, Tensor)):
        records = getattr(source, field)
        if records is None:
            raise ValueError(f"{field}: the model output has none; run the model with {_FLAGS.get(field, field)}")
    else:
        records = source
    if isinstance(records, (list, tuple)):
        num_layers = len(records)
    else:
        records = numeric_array(field, records)
        if records.ndim != 5:
            raise ValueError(
                f"{field}: expected a model output, a list of per-layer (B, H, T, X) arrays, or an array "
                f"(L, B, H, T, X); got an array of shape {records.shape}"
            )
        num_layers = records.shape[0]
    if not isinstance(layer, (int, np.integer)) or not -num_layers <= layer < num_layers:
        raise IndexError(f"layer: {layer!r} is out of range for {num_layers} layers")
    maps = numeric_array(f"{field}[{layer}]", records[layer])
    if maps.ndim != 4:
        raise ValueError(f"{field}[{layer}]: expected shape (B, H, T, X), got {maps.shape}")
    if not isinstance(example, (int, np.integer)) or not -maps.shape[0] <= example < maps.shape[0]:
        raise IndexError(f"example: {example!r} is out of range for a batch of {maps.shape[0]}")
    return maps[example]  # (H, T, X)


def check_head(head, num_heads: int, kind: str) -> None:
    if not isinstance(head, (int, np.integer)) or not -num_heads <= head < num_heads:
        raise IndexError(f"head: {head!r} is out of range for {num_heads} {kind} heads")


def token_labels(tokens, length: int) -> list:
    """The tick labels: the tokens (checked to number `length`), or the positions 0..length-1."""
    if tokens is None:
        return [str(i) for i in range(length)]
    if isinstance(tokens, str):
        raise TypeError("tokens: expected a list of token strings, got one string")
    tokens = [str(t) for t in tokens]
    if len(tokens) != length:
        raise ValueError(f"tokens: {len(tokens)} labels for a sequence of {length} positions")
    return tokens


def token_ticks(length: int, inches: float) -> tuple:
    """(font size in points, step): every step-th of `length` labels fits side by side in `inches`.

    The font shrinks from 10 to 5 points as the labels get more; below 5 points only every
    step-th position is labelled instead (a long sequence shows every 2nd, 3rd, ... token).
    """
    fitting = 0.8 * 72 * inches  # points available, with a little air between labels
    size = fitting / max(length, 1)
    if size >= 5:
        return float(min(size, 10)), 1
    return 5.0, int(np.ceil(length / (fitting / 5)))


def set_token_ticks(ax, labels, x: bool = True, y: bool = True, fontsize: float = 8, step: int = 1) -> None:
    """Label the matrix's columns (x, rotated) and rows (y) with the tokens, every step-th position."""
    positions = np.arange(0, len(labels), step)
    shown = [labels[i] for i in positions]
    if x:
        ax.set_xticks(positions, labels=shown, rotation=90, fontsize=fontsize)
    if y:
        ax.set_yticks(positions, labels=shown, fontsize=fontsize)
