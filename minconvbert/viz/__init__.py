"""Plots for looking inside minconvbert (matplotlib only): heads, ablations, training curves, autograd graphs.

Each function takes what a model, `minconvbert.analysis` or the training loop returns, draws one
figure, saves it when given `path=`, and returns the matplotlib Figure. Nothing here calls
plt.show() or touches pyplot's global state; in a notebook the returned figure is displayed as
the cell's value, in a script pass `path=` (or call `fig.savefig`).

`head_explorer` is the exception: it returns an interactive HTML page of every head of every layer
(`HeadExplorer`: shown inline in Jupyter, `.save(path)` writes it; no matplotlib).
"""

from minconvbert.viz.ablation import head_ablation_plot
from minconvbert.viz.curves import training_curves
from minconvbert.viz.explorer import HeadExplorer, head_explorer
from minconvbert.viz.graph import autograd_graph, graph_layout
from minconvbert.viz.heads import attention_map, conv_kernel_map, layer_overview

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
]
