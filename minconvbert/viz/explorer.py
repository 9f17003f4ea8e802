"""The head explorer: every attention and convolution head of every layer, on one text, in one interactive page.

Point at a token and each head of the chosen layer shows where it looks from there: an attention
head its weights over all T tokens, a convolution head its K kernel weights over the window
around the token (with the zero padding past either end of the text), all on one bar scale.
Heads can be switched on and off; each head's header gives its mean distance and entropy on
this text (`minconvbert.analysis`).

The page is one self-contained HTML file: its script, style and data are inline, and its
Content-Security-Policy forbids loading anything, so it works offline, from a saved notebook and
from an e-mail attachment alike. The weights travel as base64 of little-endian uint16 holding
round(weight * 1000), exactly the DIGITS = 3 decimals the page shows: about 2.7 * L * H * T^2
bytes for the attention maps (a 128-token text on the nano model: about 0.4 MB in all).

    explorer = viz.head_explorer(model, tokenizer, "Return the number of items in the list.")
    explorer                      # in Jupyter: displayed inline (an iframe that runs the page)
    explorer.save("heads.html")   # or a file to open in any browser

The page's state is in its URL fragment, so a link can point at one view:
heads.html#layer=1&token=5&hide=conv-0&scale=0.5.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

from minconvbert import analysis
from minconvbert.tensor import data_of, no_grad
from minconvbert.viz.common import layer_maps, token_labels

__all__ = ["HeadExplorer", "head_explorer"]

DIGITS = 3  # decimals the page shows; the weights are stored as round(weight * 10**DIGITS)
_ASSETS = ("head_explorer.html", "head_explorer.css", "head_explorer.js")


def _probabilities(name: str, value, ndim: int) -> np.ndarray:
    """`value` as a float64 array of `ndim` dimensions holding weights in [0, 1]."""
    array = np.asarray(data_of(value))
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected an array of weights, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
    if array.size and not (np.isfinite(array).all() and array.min() >= -1e-6 and array.max() <= 1 + 1e-6):
        raise ValueError(f"{name}: expected probabilities in [0, 1], got values in [{array.min()}, {array.max()}]")
    return array


def _encode(weights: np.ndarray) -> str:
    """Weights in [0, 1] -> base64 of little-endian uint16 round(weight * 10**DIGITS), in C order."""
    steps = np.rint(np.clip(weights, 0.0, 1.0) * 10**DIGITS).astype("<u2")
    return base64.b64encode(steps.tobytes()).decode("ascii")


def _json_for_script(value) -> str:
    """JSON that cannot end the <script> element it sits in, whatever the tokens hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class HeadExplorer:
    """The interactive view of one text's heads; `save(path)` writes it, Jupyter displays it inline.

    attentions: (L, H, T, T) attention probabilities, attentions[l, h, i, j] = weight query i gives key j.
    conv_kernels: (L, H, T, K) softmaxed dynamic kernels, conv_kernels[l, h, t, k] = weight position t
    gives position t + k - (K - 1) // 2. tokens: T strings (default: the positions). title: shown
    on top of the page. height: the inline view's height in a notebook, in CSS pixels.
    `summary` holds (L, H) arrays from `minconvbert.analysis`: attention_distance, attention_entropy,
    conv_distance, conv_entropy, over all T positions of the text.
    """

    def __init__(self, attentions, conv_kernels, tokens=None, title: str = "", height: int = 640):
        self.attentions = _probabilities("attentions", attentions, 4)  # (L, H, T, T)
        self.conv_kernels = _probabilities("conv_kernels", conv_kernels, 4)  # (L, H, T, K)
        L, H, T, T2 = self.attentions.shape
        if T != T2 or T == 0:
            raise ValueError(f"attentions: expected (L, H, T, T) with T > 0, got shape {self.attentions.shape}")
        if self.conv_kernels.shape[:3] != (L, H, T) or self.conv_kernels.shape[3] == 0:
            raise ValueError(f"conv_kernels: expected shape ({L}, {H}, {T}, K) like attentions, "
                             f"got {self.conv_kernels.shape}")
        if not isinstance(height, (int, np.integer)) or height < 100:
            raise ValueError(f"height: expected a whole number of pixels >= 100, got {height!r}")
        self.tokens = token_labels(tokens, T)
        self.title = str(title)
        self.height = int(height)
        attention_layers = list(self.attentions[:, None])  # L x (1, H, T, T): one example per layer
        conv_layers = list(self.conv_kernels[:, None])  # L x (1, H, T, K)
        self.summary = {
            "attention_distance": analysis.mean_attention_distance(attention_layers),  # (L, H)
            "attention_entropy": analysis.attention_entropy(attention_layers),  # (L, H)
            "conv_distance": analysis.mean_kernel_distance(conv_layers),  # (L, H)
            "conv_entropy": analysis.attention_entropy(conv_layers),  # (L, H)
        }

    @classmethod
    def from_outputs(cls, outputs, tokens=None, example: int = 0, **kwargs) -> "HeadExplorer":
        """The explorer of one sequence of a model output run with output_attentions=True, output_conv_kernels=True."""
        for field, flag in (("attentions", "output_attentions=True"), ("conv_kernels", "output_conv_kernels=True")):
            if not isinstance(getattr(outputs, field, None), (list, tuple)):
                raise ValueError(f"outputs.{field}: expected one record per layer; run the model with {flag}")
        num_layers = len(outputs.attentions)
        attentions = np.stack([layer_maps(outputs, "attentions", l, example) for l in range(num_layers)])
        conv_kernels = np.stack([layer_maps(outputs, "conv_kernels", l, example) for l in range(num_layers)])
        return cls(attentions, conv_kernels, tokens, **kwargs)  # (L, H, T, T), (L, H, T, K)

    def page_data(self) -> dict:
        """What the page's script reads: shapes, tokens, the encoded weights and the per-head summary."""
        L, H, T, K = self.conv_kernels.shape
        even_attention = np.full((1, 1, T, T), 1.0 / T)  # a head that spreads its weight over all T tokens
        even_kernel = np.full((1, 1, 1, K), 1.0 / K)  # a flat kernel
        return {
            "title": self.title,
            "tokens": self.tokens,
            "num_layers": L,
            "num_heads": H,
            "kernel_size": K,
            "digits": DIGITS,
            "attentions": _encode(self.attentions),
            "conv_kernels": _encode(self.conv_kernels),
            "summary": {name: np.round(values, 4).tolist() for name, values in self.summary.items()},
            "even": {
                "attention_distance": round(float(analysis.mean_attention_distance(even_attention)[0]), 4),
                "attention_entropy": round(float(np.log(T)), 4),
                "conv_distance": round(float(analysis.mean_kernel_distance(even_kernel)[0]), 4),
                "conv_entropy": round(float(np.log(K)), 4),
            },
        }

    def to_html(self) -> str:
        """The whole page as one string: HTML with the style, the script and the data inline."""
        folder = resources.files("minconvbert.viz") / "assets"
        template, style, script = (folder.joinpath(name).read_text(encoding="utf-8") for name in _ASSETS)
        parts = {
            "title": html.escape(self.title or "head explorer"),
            "style": style,
            "script": script,
            "data": _json_for_script(self.page_data()),
        }
        # one pass, so that nothing substituted (a token, the title) is itself searched for markers
        return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], template)

    def save(self, path) -> Path:
        """Write the page to `path` (whole or not at all: via a temporary file beside it); return the path."""
        path = Path(path)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"path: the directory {str(path.parent)!r} does not exist")
        page = self.to_html()
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(page)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return path

    def _repr_html_(self) -> str:
        """Jupyter's inline view: the page in a sandboxed iframe (scripts run there, nothing else is allowed).

        Front ends that sanitise HTML outputs strip <script> from the notebook's own HTML, but the
        page inside srcdoc is a document of its own, so its script runs wherever iframes show.
        """
        return (f'<iframe srcdoc="{html.escape(self.to_html(), quote=True)}" sandbox="allow-scripts" '
                f'title="head explorer" style="width: 100%; height: {self.height}px; border: 1px solid #ddd">'
                "</iframe>")

    def __repr__(self) -> str:
        L, H, T, K = self.conv_kernels.shape
        return (f"HeadExplorer({T} tokens, {L} layers x ({H} attention + {H} convolution heads), K={K}; "
                ".save(path) writes the page)")


def head_explorer(model, tokenizer, text: str, max_length: int | None = None, title: str | None = None,
                  height: int = 640) -> HeadExplorer:
    """Run `model` on `text` and return the explorer of its heads (display it in Jupyter, or `.save(path)`).

    model: a ConvBERT model (ConvBertModel or a task model: its encoder runs, in eval mode, without
    a graph; its mode is restored). tokenizer: the model's tokenizer. text: one string.
    max_length: cut the text to this many tokens (special tokens included); without it, a text
    longer than the model's max_position_embeddings is an error. title: default, the text.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected one string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text: expected some text, got an empty string")
    limit = model.config.max_position_embeddings
    encoded = tokenizer(text, return_tensors="np", truncation=max_length is not None, max_length=max_length)
    ids = encoded["input_ids"]  # (1, T)
    if ids.shape[1] > limit:
        raise ValueError(f"text: {ids.shape[1]} tokens, more than the model's max_position_embeddings {limit}; "
                         f"shorten it or pass max_length={limit} (--max-length {limit} on the command line)")
    encoder = model._base_model() if hasattr(model, "_base_model") else model
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = encoder(input_ids=ids, output_attentions=True, output_conv_kernels=True)
    finally:
        model.train(was_training)
    tokens = tokenizer.convert_ids_to_tokens(ids[0])
    return HeadExplorer.from_outputs(outputs, tokens, title=text if title is None else title, height=height)
