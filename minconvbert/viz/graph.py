"""The autograd graph of a small expression, drawn with matplotlib alone (no graphviz).

Nodes are the tensors (boxes) and the Functions that made them (rounded boxes, named by their
class: Mul, Sum, MatMul, ...); arrows run from inputs to outputs, so the drawing reads left to
right the way the forward pass ran (backward() walks it right to left). The layout is layered:
an op sits one column right of its deepest input, its output one column right of it, and each
leaf just left of the first op that uses it.

    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([0.5, -1.0], requires_grad=True)
    loss = (x * w).sum()
    autograd_graph(loss, names={"x": x, "w": w, "loss": loss}, path="graph.png")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.patches import Patch

from minconvbert.tensor import Tensor
from minconvbert.viz.common import finish, new_figure

__all__ = ["GraphNode", "GraphLayout", "graph_layout", "autograd_graph", "ROLE_COLORS"]

ROLE_COLORS = {
    "leaf": "#c7e9c0",  # a leaf that requires grad (an input or a parameter): it receives .grad
    "constant": "#e6e6e6",  # a leaf that does not require grad
    "intermediate": "#deebf7",  # made by an op
    "output": "#fdd0a2",  # the tensor the graph is drawn from
    "op": "#ffffff",  # a Function node
}


@dataclass
class GraphNode:
    """One node: kind "tensor" or "op", its label, role (a ROLE_COLORS key), column (depth) and row (y)."""

    kind: str
    label: str
    role: str
    depth: int = 0
    y: float = 0.0


@dataclass
class GraphLayout:
    """nodes; edges as (input index, output index) pairs into `nodes`; uses[e]: how many times edge e's
    input is an argument of its op (2 for the Mul of `h * h`)."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    uses: list = field(default_factory=list)


def _tensor_label(tensor: Tensor, name) -> str:
    if tensor.size == 1:
        body = f"= {tensor.data.item():.4g}"
    else:
        body = str(tuple(tensor.shape))
    return body if name is None else f"{name}\n{body}"


def _collect(root: Tensor, names: dict, max_nodes: int) -> GraphLayout:
    """Walk the graph from `root` through `_ctx.parents`: tensor and op nodes, edges input -> output."""
    label_of = {id(t): name for name, t in names.items()}
    layout = GraphLayout()
    index = {}  # id(tensor or Function) -> node index
    edges = []  # (id(input), id(output))
    stack = [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in index:
            continue
        ctx = tensor._ctx
        role = "output" if tensor is root else "intermediate" if ctx is not None else (
            "leaf" if tensor.requires_grad else "constant")
        index[id(tensor)] = len(layout.nodes)
        layout.nodes.append(GraphNode("tensor", _tensor_label(tensor, label_of.get(id(tensor))), role))
        if ctx is not None:
            if ctx.parents is None:
                raise RuntimeError("tensor: its graph was freed by backward(); draw it before calling backward(), "
                                   "or call backward(retain_graph=True)")
            index[id(ctx)] = len(layout.nodes)
            layout.nodes.append(GraphNode("op", type(ctx).__name__, "op"))
            edges.append((id(ctx), id(tensor)))
            for parent in ctx.parents:
                edges.append((id(parent), id(ctx)))
                stack.append(parent)
        if len(layout.nodes) > max_nodes:
            raise ValueError(f"tensor: the graph has more than max_nodes={max_nodes} nodes; draw a smaller "
                             "expression (a whole model's graph is unreadable as a picture) or raise max_nodes")
    counts = {}
    for a, b in edges:  # a dict keeps the first-seen order
        counts[(index[a], index[b])] = counts.get((index[a], index[b]), 0) + 1
    layout.edges, layout.uses = list(counts), list(counts.values())
    return layout


def _place(layout: GraphLayout) -> None:
    """Set each node's depth (column) and y (row) in place."""
    n = len(layout.nodes)
    inputs = [[] for _ in range(n)]
    outputs = [[] for _ in range(n)]
    for a, b in layout.edges:
        inputs[b].append(a)
        outputs[a].append(b)
    # topological order (Kahn): a node after all of its inputs
    waiting = [len(inputs[i]) for i in range(n)]
    order = [i for i in range(n) if waiting[i] == 0]
    for node in order:  # the list grows while we walk it
        for out in outputs[node]:
            waiting[out] -= 1
            if waiting[out] == 0:
                order.append(out)
    depth = [0] * n
    for node in order:
        depth[node] = max((depth[i] + 1 for i in inputs[node]), default=0)
    for node in reversed(order):  # leaves move right, next to the first op that uses them
        if not inputs[node] and outputs[node]:
            depth[node] = min(depth[o] for o in outputs[node]) - 1
    # rows: from the output backwards, each node near the mean row of the nodes it feeds
    y = [0.0] * n
    for column in range(max(depth), -1, -1):
        members = [i for i in order if depth[i] == column]
        wanted = [float(np.mean([y[o] for o in outputs[i]])) if outputs[i] else 0.0 for i in members]
        ranked = sorted(range(len(members)), key=lambda k: wanted[k])
        rows = [wanted[k] for k in ranked]
        for k in range(1, len(rows)):  # at least one row apart
            rows[k] = max(rows[k], rows[k - 1] + 1.0)
        shift = float(np.mean([wanted[k] for k in ranked]) - np.mean(rows))
        for k, row in zip(ranked, rows):
            y[members[k]] = row + shift
    for i, node in enumerate(layout.nodes):
        node.depth, node.y = depth[i], y[i]


def graph_layout(tensor: Tensor, names: dict = None, max_nodes: int = 200) -> GraphLayout:
    """The nodes, edges and layered positions of the autograd graph that ends in `tensor`.

    names: {label: Tensor} to name tensors in the drawing (the others show their shape, or their
    value when they hold one number). Raises when the graph was freed by backward().
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a minconvbert Tensor, got {type(tensor).__name__}")
    names = {} if names is None else names
    if not isinstance(names, dict) or not all(isinstance(t, Tensor) for t in names.values()):
        raise TypeError("names: expected a dict {label: Tensor}")
    layout = _collect(tensor, names, max_nodes)
    _place(layout)
    return layout


def autograd_graph(tensor: Tensor, names: dict = None, *, max_nodes: int = 200, figsize=None, dpi: float = 100,
                   title=None, path=None):
    """Draw the autograd graph that ends in `tensor`: tensors and ops as boxes, arrows from inputs to outputs.

    names: {label: Tensor} to name tensors. Colours: green leaves that get a gradient, grey
    constants, blue intermediates, orange the output; ops are white rounded boxes. Returns the
    matplotlib Figure (the layout itself: `graph_layout`).
    """
    layout = graph_layout(tensor, names, max_nodes)
    columns = 1 + max(node.depth for node in layout.nodes)
    rows = max(sum(1 for node in layout.nodes if node.depth == d) for d in range(columns))
    ys = [node.y for node in layout.nodes]
    if figsize is None:
        figsize = (float(np.clip(1.2 * columns + 1.0, 4, 30)), float(np.clip(0.9 * rows + 1.5, 3, 20)))
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    boxes = []
    for node in layout.nodes:
        style = "round,pad=0.4" if node.kind == "op" else "square,pad=0.3"
        text = ax.text(node.depth, node.y, node.label, ha="center", va="center", fontsize=9,
                       fontweight="bold" if node.kind == "op" else "normal",
                       bbox=dict(boxstyle=style, facecolor=ROLE_COLORS[node.role], edgecolor="black", linewidth=0.8))
        boxes.append(text)
    for (a, b), uses in zip(layout.edges, layout.uses):  # after the boxes, which clip the arrows
        start, end = layout.nodes[a], layout.nodes[b]
        ax.annotate("", xy=(end.depth, end.y), xytext=(start.depth, start.y),
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.8, shrinkA=1, shrinkB=1,
                                    patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch()))
        if uses > 1:  # the same tensor passed several times to one op (x * x)
            ax.text((start.depth + end.depth) / 2, (start.y + end.y) / 2 + 0.12, f"\u00d7{uses}", ha="center",
                    va="bottom", fontsize=8)
    ax.set_xlim(-0.7, columns - 0.3)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    legend = [Patch(facecolor=ROLE_COLORS[r], edgecolor="black", label=text) for r, text in (
        ("leaf", "leaf (gets .grad)"), ("constant", "constant"), ("intermediate", "intermediate"),
        ("output", "output"), ("op", "op (Function)"))]
    ax.legend(handles=legend, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=5, fontsize=8, frameon=False)
    if title is not None:
        fig.suptitle(title)
    return finish(fig, path)
