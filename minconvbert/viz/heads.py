"""Heads as pictures: one attention head, one convolution head, or every head of a layer at once.

An attention head is a (T, T) matrix: row i holds the weights query i gives to each key j. A
convolution head is drawn as the same kind of matrix: its kernel at position t (K weights) is
placed on row t from column t - (K - 1) // 2 on (`analysis.kernels_to_matrix`), so it is a band
around the diagonal, zero elsewhere. Both are distributions over positions, drawn on one fixed
colour scale (0 to 1 by default), so an attention head and a conv head compare at a glance.

    out = model(input_ids=ids, output_attentions=True, output_conv_kernels=True)
    attention_map(out, layer=0, head=1, tokens=tokens, path="attn.png")
    conv_kernel_map(out, layer=0, head=1, tokens=tokens, path="conv.png")
    layer_overview(out, layer=0, tokens=tokens, path="layer0.png")
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm

from minconvbert.analysis import kernels_to_matrix
from minconvbert.viz.common import (
    check_head,
    finish,
    layer_maps,
    new_figure,
    set_token_ticks,
    token_ticks,
    token_labels,
)

__all__ = ["attention_map", "conv_kernel_map", "layer_overview"]

DEFAULT_CMAP = "viridis"


def _check_scale(vmin, vmax) -> None:
    if not vmax > vmin:
        raise ValueError(f"vmin, vmax: expected vmin < vmax, got vmin={vmin!r}, vmax={vmax!r}")


def _side(length: int) -> float:
    """Inches for a matrix of `length` rows, so that about 20 token labels stay readable."""
    return float(np.clip(0.2 * length + 2.2, 4.0, 14.0))


def _draw_matrix(ax, matrix, labels, vmin, vmax, cmap, ticks, x_ticks=True, y_ticks=True, gamma=1.0):
    """Draw a (T, T) matrix (rows top to bottom) with token ticks (ticks = (font size, step)); return the image.

    gamma != 1 maps weights to colours through (w - vmin)^gamma (matplotlib's PowerNorm): gamma < 1
    brightens small weights, on the same scale for every panel."""
    scale = dict(norm=PowerNorm(gamma, vmin=vmin, vmax=vmax)) if gamma != 1 else dict(vmin=vmin, vmax=vmax)
    image = ax.imshow(matrix, cmap=cmap, interpolation="nearest", aspect="equal", **scale)
    fontsize, step = ticks
    set_token_ticks(ax, labels, x=x_ticks, y=y_ticks, fontsize=fontsize, step=step)
    if not x_ticks:
        ax.set_xticks(np.arange(0, len(labels), step), labels=[])
    if not y_ticks:
        ax.set_yticks(np.arange(0, len(labels), step), labels=[])
    return image


def _outline_band(ax, length: int, kernel_size: int) -> None:
    """Dashed staircase lines along the band's edges: row t covers columns t - left .. t + right."""
    left = (kernel_size - 1) // 2
    right = kernel_size - 1 - left
    rows = np.arange(length)
    for edge in (rows - left - 0.5, rows + right + 0.5):  # x of the band's edge on each row
        xs = np.repeat(edge, 2)
        ys = np.stack([rows - 0.5, rows + 0.5], axis=1).reshape(-1)
        ax.plot(xs, ys, color="white", linewidth=0.8, linestyle="--", alpha=0.7)
    ax.set_xlim(-0.5, length - 0.5)
    ax.set_ylim(length - 0.5, -0.5)  # imshow's orientation: row 0 at the top


def _single(matrix, labels, title, vmin, vmax, cmap, figsize, dpi, ax):
    """A figure (or the given axes) with one matrix, token ticks, axis names and a colourbar."""
    _check_scale(vmin, vmax)
    length = len(labels)
    if ax is None:
        side = _side(length)
        fig = new_figure(figsize or (side + 1.2, side), dpi)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    inches = ax.get_position().width * fig.get_figwidth()
    image = _draw_matrix(ax, matrix, labels, vmin, vmax, cmap, token_ticks(length, inches))
    ax.set_xlabel("key position (column)")
    ax.set_ylabel("query position (row)")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="weight", shrink=0.8)
    return fig, ax


def attention_map(model_output_or_attentions, layer: int, head: int, tokens=None, *, example: int = 0,
                  vmin: float = 0.0, vmax: float = 1.0, cmap: str = DEFAULT_CMAP, figsize=None, dpi: float = 100,
                  title=None, ax=None, path=None):
    """One attention head's (T, T) map, rows = queries, columns = keys, labelled with the tokens.

    model_output_or_attentions: a model output run with output_attentions=True, its `.attentions`
    (a list of per-layer (B, H, T, T)), or an array (L, B, H, T, T). tokens: T strings (default:
    the positions). example: which sequence of the batch. The colour scale is vmin..vmax (0..1 by
    default, the same as conv_kernel_map). ax: draw into these axes instead of a new figure.
    path: save the figure there. Returns the matplotlib Figure.
    """
    maps = layer_maps(model_output_or_attentions, "attentions", layer, example)  # (H, T, T)
    check_head(head, maps.shape[0], "attention")
    labels = token_labels(tokens, maps.shape[1])
    title = f"layer {layer}, attention head {head}" if title is None else title
    fig, _ = _single(maps[head], labels, title, vmin, vmax, cmap, figsize, dpi, ax)
    return finish(fig, path)


def conv_kernel_map(conv_kernels, layer: int, head: int, tokens=None, *, example: int = 0, vmin: float = 0.0,
                    vmax: float = 1.0, cmap: str = DEFAULT_CMAP, show_band: bool = True, figsize=None,
                    dpi: float = 100, title=None, ax=None, path=None):
    """One convolution head's dynamic kernels as a banded (T, T) matrix, comparable with attention_map.

    conv_kernels: a model output run with output_conv_kernels=True, its `.conv_kernels` (a list of
    per-layer (B, H, T, K)), or an array (L, B, H, T, K). Row t, column t + k - (K - 1) // 2 holds
    kernel[t, k]; weights that fall outside the sequence are dropped and the rest is 0. show_band
    outlines the K-wide band the head can reach. Colour scale vmin..vmax (0..1 by default, the
    same as attention_map). Returns the matplotlib Figure.
    """
    kernels = layer_maps(conv_kernels, "conv_kernels", layer, example)  # (H, T, K)
    check_head(head, kernels.shape[0], "convolution")
    length, kernel_size = kernels.shape[1:]
    labels = token_labels(tokens, length)
    title = f"layer {layer}, conv head {head} (K={kernel_size})" if title is None else title
    fig, axes = _single(kernels_to_matrix(kernels[head]), labels, title, vmin, vmax, cmap, figsize, dpi, ax)
    if show_band:
        _outline_band(axes, length, kernel_size)
    return finish(fig, path)


def layer_overview(outputs, layer: int, tokens=None, example: int = 0, *, vmin: float = 0.0, vmax: float = 1.0,
                   gamma: float = 1.0, cmap: str = DEFAULT_CMAP, show_band: bool = True, panel_size: float = None,
                   dpi: float = 100, title=None, path=None):
    """Every head of one layer on one canvas: attention heads on the top row, conv heads below.

    outputs: a model output run with output_attentions=True and output_conv_kernels=True. All
    2 * H panels share one colour scale (vmin..vmax) and one colourbar; rows and columns are
    labelled with the tokens on the left column and the bottom row, and every panel names its axes
    (query / key for attention, position / position mixed for convolution). panel_size: inches
    per panel (default grows with T). gamma < 1 brightens small weights (a power colour scale, still
    shared: the convolution heads' spread-out kernels stay visible beside peaked attention heads).
    title: the figure's title (default: the layer and its heads). Returns the matplotlib Figure.
    """
    _check_scale(vmin, vmax)
    if not gamma > 0:
        raise ValueError(f"gamma: expected a positive exponent, got {gamma!r}")
    attentions = layer_maps(outputs, "attentions", layer, example)  # (H, T, T)
    kernels = layer_maps(outputs, "conv_kernels", layer, example)  # (H, T, K)
    if attentions.shape[:2] != kernels.shape[:2]:
        raise ValueError(f"outputs: attention maps {attentions.shape} and conv kernels {kernels.shape} do not match "
                         "in heads and sequence length")
    heads, length, kernel_size = kernels.shape
    labels = token_labels(tokens, length)
    side = panel_size if panel_size is not None else float(np.clip(0.13 * length + 1.2, 2.2, 6.0))
    fig = new_figure((side * heads + 1.2, 2 * side + 0.6), dpi)
    axes = fig.subplots(2, heads, squeeze=False)
    ticks = token_ticks(length, 0.8 * side)
    rows = (("attention", attentions), ("conv", kernels_to_matrix(kernels)))
    for row, (kind, matrices) in enumerate(rows):
        for head in range(heads):
            ax = axes[row, head]
            image = _draw_matrix(ax, matrices[head], labels, vmin, vmax, cmap, ticks,
                                 x_ticks=(row == 1), y_ticks=(head == 0), gamma=gamma)
            if kind == "conv" and show_band:
                _outline_band(ax, length, kernel_size)
            ax.set_title(f"{kind} head {head}", fontsize=10)
            ax.set_xlabel("key (column)" if kind == "attention" else "position mixed (column)", fontsize=8)
    axes[0, 0].set_ylabel("query (row)", fontsize=9)
    axes[1, 0].set_ylabel(f"position (row); K = {kernel_size}", fontsize=9)
    fig.suptitle(f"layer {layer}: {heads} attention heads and {heads} convolution heads" if title is None else title)
    fig.colorbar(image, ax=axes, label="weight" if gamma == 1 else f"weight (power scale, gamma = {gamma:g})",
                 shrink=0.8)
    return finish(fig, path)
