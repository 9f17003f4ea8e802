"""The head-ablation bar chart: how much the loss rises when each head is switched off.

    result = analysis.head_ablation(model, batch)
    head_ablation_plot(result, path="ablation.png")
"""

from __future__ import annotations

import numpy as np

from minconvbert.analysis import HeadAblation
from minconvbert.viz.common import finish, new_figure

__all__ = ["head_ablation_plot", "KIND_COLORS"]

KIND_COLORS = {"attention": "tab:blue", "conv": "tab:orange"}


def _deltas(results) -> tuple:
    """(attention (L, H), conv (L, H), base loss or None) from a HeadAblation or a dict
    {(kind, layer, head): change}; heads missing from the dict are NaN (no bar)."""
    if isinstance(results, HeadAblation):
        return np.asarray(results.attention, float), np.asarray(results.conv, float), results.base_loss
    if not isinstance(results, dict) or not results:
        raise TypeError("results: expected a HeadAblation (from analysis.head_ablation) or a non-empty dict "
                        f"{{(kind, layer, head): loss change}}, got {type(results).__name__}")
    for key in results:
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] in KIND_COLORS):
            raise ValueError(f"results: key {key!r} is not (kind, layer, head) with kind 'attention' or 'conv'")
    layers = 1 + max(layer for _, layer, _ in results)
    heads = 1 + max(head for _, _, head in results)
    arrays = {kind: np.full((layers, heads), np.nan) for kind in KIND_COLORS}
    for (kind, layer, head), change in results.items():
        arrays[kind][layer, head] = float(change)
    return arrays["attention"], arrays["conv"], None


def head_ablation_plot(results, *, figsize=None, dpi: float = 100, title=None, path=None):
    """Bar chart of the loss change per head: for each (layer, head) an attention bar and a conv bar.

    results: the HeadAblation that analysis.head_ablation returns, or a dict
    {(kind, layer, head): loss change} with kind "attention" or "conv" (missing heads are left
    out). A positive bar means the model needs that head (the loss rises without it). Returns the
    matplotlib Figure; the bars are in `fig.axes[0].containers` (attention first, then conv).
    """
    attention, conv, base = _deltas(results)
    layers, heads = attention.shape
    count = layers * heads
    width = figsize[0] if figsize else float(np.clip(0.45 * count + 2.5, 6.0, 24.0))
    fig = new_figure(figsize or (width, 4.5), dpi)
    ax = fig.add_subplot()
    x = np.arange(count)
    bar = 0.4
    ax.bar(x - bar / 2, attention.reshape(-1), bar, color=KIND_COLORS["attention"], label="attention head")
    ax.bar(x + bar / 2, conv.reshape(-1), bar, color=KIND_COLORS["conv"], label="convolution head")
    ax.axhline(0.0, color="black", linewidth=0.8)
    labels = [f"L{layer} H{head}" for layer in range(layers) for head in range(heads)]
    ax.set_xticks(x, labels=labels, rotation=90 if count > 12 else 0, fontsize=8 if count > 24 else 9)
    for boundary in np.arange(heads, count, heads) - 0.5:  # separate the layers
        ax.axvline(boundary, color="grey", linewidth=0.5, linestyle=":")
    ax.set_xlim(-0.6, count - 0.4)
    ax.set_ylabel("loss change with the head off")
    ax.set_xlabel("layer, head")
    if title is None:
        title = "head ablation" + (f" (loss with every head: {base:.4f})" if base is not None else "")
    ax.set_title(title)
    ax.legend(loc="best")
    return finish(fig, path)
