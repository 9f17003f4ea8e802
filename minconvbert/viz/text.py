"""Tokens over text: each token's span of the original characters (its offsets), drawn under them.

    encoding = tokenizer(text, return_offsets_mapping=True)
    token_spans(text, tokenizer.convert_ids_to_tokens(encoding["input_ids"]), encoding["offset_mapping"])
"""

from __future__ import annotations

import unicodedata

import numpy as np
from matplotlib.patches import Rectangle

from minconvbert.viz.common import finish, new_figure

__all__ = ["token_spans"]

_COLORS = ("#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc", "#fc9272", "#c7e9c0")


def _shown(ch: str) -> str:
    """How a character is drawn in its cell: white space as ␣, a combining mark on a dotted circle."""
    if ch.isspace():
        return "\u2423"
    if unicodedata.combining(ch):
        return "\u25cc" + ch
    if unicodedata.category(ch)[0] == "C":  # control and format characters are invisible
        return f"U+{ord(ch):04X}"
    return ch


def _checked_offsets(text: str, tokens, offsets) -> list:
    if not isinstance(text, str):
        raise TypeError(f"text: expected the original string, got {type(text).__name__}")
    tokens, offsets = [str(t) for t in tokens], [tuple(int(v) for v in pair) for pair in offsets]
    if len(tokens) != len(offsets):
        raise ValueError(f"tokens, offsets: {len(tokens)} tokens but {len(offsets)} offsets")
    for token, (start, end) in zip(tokens, offsets):
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"offsets: ({start}, {end}) of token {token!r} is not a span of a text of "
                             f"{len(text)} characters (0 <= start <= end <= {len(text)})")
    return list(zip(tokens, offsets))


def token_spans(text: str, tokens, offsets, *, figsize=None, dpi: float = 100, title=None, path=None):
    """Each token drawn as a bar under the characters of `text` it came from.

    text: the original string; tokens: the token strings; offsets: one (start, end) per token,
    end exclusive (a tokenizer's `offset_mapping`). The characters sit in a row of cells numbered
    by their index; each token with characters is a coloured bar from `start` to `end`, labelled,
    with consecutive tokens on alternating rows; tokens with an empty span (the special tokens'
    (0, 0)) are listed beside the row. Characters no token covers (white space, a removed accent)
    are shaded grey. Returns the matplotlib Figure.
    """
    spans = _checked_offsets(text, tokens, offsets)
    covered = np.zeros(len(text), dtype=bool)
    for _, (start, end) in spans:
        covered[start:end] = True
    empty = [token for token, (start, end) in spans if start == end]
    drawn = [(token, span) for token, span in spans if span[0] < span[1]]
    width = figsize[0] if figsize else float(np.clip(0.3 * len(text) + 1.5, 4.0, 30.0))
    fig = new_figure(figsize or (width, 2.6), dpi)
    ax = fig.add_subplot()
    for i, ch in enumerate(text):
        ax.add_patch(Rectangle((i, 0), 1, 1, facecolor="white" if covered[i] else "#d9d9d9", edgecolor="#969696",
                               linewidth=0.6))
        ax.text(i + 0.5, 0.5, _shown(ch), ha="center", va="center", fontsize=10 if len(_shown(ch)) <= 2 else 5,
                family="DejaVu Sans")
        ax.text(i + 0.5, 1.15, str(i), ha="center", va="bottom", fontsize=6, color="#636363")
    for k, (token, (start, end)) in enumerate(drawn):
        row = k % 2
        y = -0.35 - 0.9 * row
        ax.add_patch(Rectangle((start + 0.05, y - 0.3), end - start - 0.1, 0.6, facecolor=_COLORS[k % len(_COLORS)],
                               edgecolor="black", linewidth=0.6))
        ax.text((start + end) / 2, y, token, ha="center", va="center", fontsize=8)
    if empty:
        ax.text(len(text) + 0.4, 0.5, "no characters:\n" + " ".join(empty), ha="left", va="center", fontsize=8)
    ax.set_xlim(-0.2, len(text) + (3.5 if empty else 0.2))
    ax.set_ylim(-2.0, 1.6)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title(title if title is not None else "tokens and the characters of the original text they span "
                 "(offsets; grey: covered by no token)", fontsize=9)
    return finish(fig, path)
