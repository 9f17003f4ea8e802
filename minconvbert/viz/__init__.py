"""Plots for looking inside minconvbert (matplotlib only): heads, ablations, training curves, autograd graphs,
token spans, and the figures of the notebooks (the convolution window, unfold beside the band, the block).

Each function takes what a model, `minconvbert.analysis` or the training loop returns, draws one
figure, saves it when given `path=`, and returns the matplotlib Figure. Nothing here calls
plt.show() or touches pyplot's global state; in a notebook the returned figure is displayed as
the cell's value, in a script pass `path=` (or call `fig.savefig`).

`head_explorer` is the exception: it returns an interactive HTML page of every head of every layer
(`HeadExplorer`: shown inline in Jupyter, `.save(path)` writes it; no matplotlib).
"""

try:
    import matplotlib  # noqa: F401
except ImportError:
    raise ImportError("minconvbert.viz draws with matplotlib, which is not installed: "
                      "pip install 'minconvbert[viz]' (or pip install matplotlib)") from None

from minconvbert.viz.ablation import head_ablation_plot
from minconvbert.viz.conv import conv_window_frames, unfold_and_band
from minconvbert.viz.curves import training_curves
from minconvbert.viz.explorer import HeadExplorer, head_explorer
from minconvbert.viz.diagram import mixed_attention_diagram
from minconvbert.viz.graph import autograd_graph, graph_layout
from minconvbert.viz.heads import attention_map, conv_kernel_map, layer_overview
from minconvbert.viz.text import token_spans

__all__ = [
    "attention_map",
    "conv_kernel_map",
    "layer_overview",
    "head_ablation_plot",
    "training_curves",
    "autograd_graph",
    "graph_layout",
    "head_explorer",
    "HeadExplorer",
    "token_spans",
    "conv_window_frames",
    "unfold_and_band",
    "mixed_attention_diagram",
]
