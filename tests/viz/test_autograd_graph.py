"""autograd_graph / graph_layout: the graph's nodes and edges by hand, a left-to-right layout, PNG, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minconvbert import Tensor
from minconvbert import functional as F
from minconvbert.viz import autograd_graph, graph_layout


def test_graph_layout_by_hand():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0])  # a constant
    out = (a * b + a).sum()
    layout = graph_layout(out, names={"a": a, "b": b, "out": out})
    ops = sorted(node.label for node in layout.nodes if node.kind == "op")
    assert ops == ["Add", "Mul", "Sum"]
    tensors = [node for node in layout.nodes if node.kind == "tensor"]
    assert len(tensors) == 5  # a, b, a*b, a*b + a, out
    roles = {node.label.split("\n")[0]: node.role for node in tensors if "\n" in node.label}
    assert roles == {"a": "leaf", "b": "constant", "out": "output"}
    label = {i: node.label.split("\n")[0] for i, node in enumerate(layout.nodes)}
    edges = {(label[i], label[j]) for i, j in layout.edges}
    assert ("a", "Mul") in edges and ("b", "Mul") in edges and ("a", "Add") in edges and ("Sum", "out") in edges
    assert len(layout.edges) == 8  # a->Mul, b->Mul, Mul->ab, ab->Add, a->Add, Add->s, s->Sum, Sum->out
    assert next(n for n in layout.nodes if n.role == "output").label == "out\n= 14"


def test_repeated_input_counted_once_with_its_uses():
    x = Tensor([1.0, 2.0], requires_grad=True)
    layout = graph_layout(x * x)
    (edge_uses,) = [u for (i, j), u in zip(layout.edges, layout.uses) if layout.nodes[i].role == "leaf"]
    assert edge_uses == 2
    fig = autograd_graph(x * x)
    assert "\u00d72" in [t.get_text() for t in fig.axes[0].texts]


@st.composite
def expressions(draw):
    """A random small expression over two leaves, built from a few ops."""
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([1.5, 0.25, -0.5]), requires_grad=True)
    pool = [x, y]
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["add", "mul", "tanh", "exp", "neg"]))
        a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        pool.append({"add": lambda: a + b, "mul": lambda: a * b, "tanh": lambda: F.tanh(a),
                     "exp": lambda: F.exp(a * 0.1), "neg": lambda: -a}[op]())
    return pool[-1].sum()


@given(expressions())
def test_layout_reads_left_to_right_without_overlaps(out):
    layout = graph_layout(out)
    for i, j in layout.edges:
        assert layout.nodes[i].depth < layout.nodes[j].depth  # inputs left of outputs
    for column in {node.depth for node in layout.nodes}:
        ys = sorted(node.y for node in layout.nodes if node.depth == column)
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(ys, ys[1:]))  # boxes one row apart
    root = [node for node in layout.nodes if node.role == "output"]
    assert len(root) == 1 and root[0].depth == max(node.depth for node in layout.nodes)


def test_autograd_graph_png_and_labels(read_png):
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([[0.5, -1.0], [0.3, 0.2]], requires_grad=True)
    loss = F.tanh(x @ w).sum()
    fig, _ = read_png(lambda path: autograd_graph(loss, names={"x": x, "w": w}, dpi=50, path=path))
    texts = [t.get_text() for t in fig.axes[0].texts]
    for expected in ("MatMul", "Tanh", "Sum", "x\n(2,)", "w\n(2, 2)"):
        assert expected in texts
    arrows = [child for child in fig.axes[0].get_children() if type(child).__name__ == "Annotation"]
    assert len(arrows) == len(graph_layout(loss).edges)


def test_a_leaf_alone_and_errors():
    leaf = Tensor([1.0], requires_grad=True)
    assert len(graph_layout(leaf).nodes) == 1
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = (x * 2.0).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        autograd_graph(out)
    with pytest.raises(TypeError, match="tensor"):
        autograd_graph(np.ones(3))
    with pytest.raises(TypeError, match="names"):
        autograd_graph((x * 2.0).sum(), names={"x": [1.0]})
    deep = x
    for _ in range(30):
        deep = deep * 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        autograd_graph(deep.sum(), max_nodes=20)
