"""Invariants of the autograd engine: accumulation, no_grad, graph release, memory, dtypes, the kernel seam."""

import gc
import sys
import types
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minconvbert as mc
from minconvbert import Tensor, no_grad
from minconvbert import functional as F
from minconvbert.backend import BACKENDS, active_kernels, backend, get_backend
from minconvbert.tensor import _topological_order


# ----- gradients add up over every use -------------------------------------------------------------------
def test_diamond_graph_sums_the_gradient_of_a_node_used_twice():
    x = Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    h = x.tanh()  # used on two paths of different lengths
    y = (h * h + h.exp() * 3.0).sum()
    y.backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, (2 * t + 3 * np.exp(t)) * (1 - t * t), rtol=1e-12)


def test_leaf_used_twice_in_one_op():
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 1)


def test_gradients_accumulate_into_leaves_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()  # a second, separate graph
    np.testing.assert_array_equal(x.grad, 3.0 + 2 * x.data)


def test_leaf_gradient_is_a_private_writable_array():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()  # Sum's backward returns a read-only broadcast view
    x.grad += 1.0
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))


def test_only_leaves_keep_gradients_and_constants_get_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    h = x * c
    h.sum().backward()
    assert h.grad is None and c.grad is None
    np.testing.assert_array_equal(x.grad, c.data)


def test_backward_on_a_leaf_and_with_an_explicit_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.backward(np.array([0.5, 0.25]))
    np.testing.assert_array_equal(x.grad, [0.5, 0.25])
    y = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (y * 2.0).backward(Tensor(np.array([1.0, -1.0])))
    np.testing.assert_array_equal(y.grad, [2.0, -2.0])


def test_a_very_deep_graph_needs_no_recursion():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5 * sys.getrecursionlimit()):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


@st.composite
def _random_graphs(draw):
    """A random DAG: each new node combines one or two earlier nodes (leaves or not) with an op."""
    n_leaves = draw(st.integers(1, 3))
    steps = draw(st.lists(st.tuples(st.sampled_from(["add", "mul", "tanh", "sub"]), st.integers(0, 100),
                                    st.integers(0, 100)), min_size=1, max_size=12))
    outputs = draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))
    return n_leaves, steps, outputs


def _build(leaves, steps, outputs):
    nodes = list(leaves)
    for op, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append({"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b * 0.5,
                      "tanh": lambda: a.tanh()}[op]())
    return sum((nodes[k % len(nodes)] for k in outputs[1:]), nodes[outputs[0] % len(nodes)]).sum()


@pytest.mark.filterwarnings("ignore:gradcheck. the output does not depend on input:minconvbert.testing.GradcheckWarning")
@given(_random_graphs())  # (a random graph may leave a leaf unused: gradcheck says so, expectedly)
def test_random_graphs_are_ordered_and_differentiated_correctly(graph):
    n_leaves, steps, outputs = graph
    rng = np.random.default_rng(0)
    leaves = [Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(n_leaves)]
    loss = _build(leaves, steps, outputs)
    order = _topological_order(loss)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order) and order[-1] is loss  # each tensor once, the output last
    for t in order:
        for parent in (t._ctx.parents if t._ctx is not None else ()):
            if parent.requires_grad:  # constants are not in the order
                assert position[id(parent)] < position[id(t)]  # made-from before made
    assert mc.gradcheck(lambda *ls: _build(ls, steps, outputs), leaves)


# ----- no_grad --------------------------------------------------------------------------------------------
def test_no_grad_builds_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not mc.is_grad_enabled()
        outputs = [x * 2.0, x.exp(), F.softmax(x), x @ x, F.layer_norm(x, Tensor([1.0, 1.0]), Tensor([0.0, 0.0]))]
        outputs += [x[0], x.reshape(2, 1), F.gelu(x), F.sum(x)]
    assert mc.is_grad_enabled()
    for y in outputs:
        assert y._ctx is None and not y.requires_grad


def test_enable_grad_inside_no_grad_and_restore_after_an_exception():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        with mc.enable_grad():
            assert (x * 2.0).requires_grad
        assert not (x * 2.0).requires_grad
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0
    assert mc.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert d.is_leaf and not d.requires_grad
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# ----- releasing the graph ----------------------------------------------------------------------------------
def test_second_backward_through_a_released_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed by an earlier backward.*retain_graph=True"):
        y.backward()


def test_backward_into_a_freed_part_of_a_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="already freed"):
        (h * 2.0).sum().backward()  # a new graph on top of the freed node


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    np.testing.assert_allclose(first, 2 * np.exp(x.data))


def _graph_with_saved_arrays():
    """A small model-like graph; returns the loss, weakrefs to its intermediate Tensors and to every
    array the Function nodes saved for backward (except the leaves' own arrays)."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    g, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    h1 = F.linear(x, w)
    h2 = F.layer_norm(h1, g, b)
    h3 = F.gelu(h2) * h2.tanh()
    h4 = F.max(h3, axis=1)
    loss = F.cross_entropy(F.softmax(h3, axis=0), np.array([0, 1, -100, 2])) + h4.sum()
    intermediates = [h1, h2, h3, h4]
    leaves = {id(t.data) for t in (x, w, g, b)}
    saved, stack, seen = [], [loss], set()
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t._ctx) in seen:
            continue
        seen.add(id(t._ctx))
        saved += [v for v in vars(t._ctx).values() if isinstance(v, np.ndarray) and id(v) not in leaves]
        stack.extend(t._ctx.parents)
    refs = [weakref.ref(t) for t in intermediates] + [weakref.ref(a) for a in saved]
    assert len(saved) >= 8  # the graph did save arrays, so the test below means something
    return loss, refs, (x, w, g, b)


def test_after_backward_no_intermediate_tensor_or_saved_array_is_kept_alive():
    gc.collect()
    gc.disable()  # freed by reference counting alone: the graph holds no reference cycles
    try:
        loss, refs, leaves = _graph_with_saved_arrays()
        assert all(r() is not None for r in refs)  # alive while the graph is
        loss.backward()
        alive = [r() for r in refs if r() is not None]
        assert not alive, f"{len(alive)} objects survive backward: {[type(a).__name__ for a in alive]}"
        assert all(leaf.grad is not None for leaf in leaves)
    finally:
        gc.enable()


def test_backward_frees_each_finished_nodes_data_before_going_further_down():
    """Memory falls during backward, as in PyTorch: once a node has passed its gradient on, its output
    array is freed (here an array that no backward needs), while the nodes below it still run."""
    gc.collect()
    gc.disable()
    try:
        x = Tensor(np.arange(4.0), requires_grad=True)
        h = x * 2.0  # Mul saves x and 2.0, not its output
        top = h + 1.0  # Add saves no array: `top`'s data is held by the graph alone
        probe = weakref.ref(top.data)
        alive_when_h_ran = []
        ctx = h._ctx
        ctx.backward = lambda g, run=type(ctx).backward: alive_when_h_ran.append(probe() is not None) or run(ctx, g)
        loss = top.sum()
        del h, top
        loss.backward()
        assert alive_when_h_ran == [False]
        np.testing.assert_array_equal(x.grad, [2.0] * 4)
    finally:
        gc.enable()


def test_retain_graph_keeps_the_graph_alive_and_dropping_the_output_frees_it():
    gc.collect()
    gc.disable()
    try:
        loss, refs, _ = _graph_with_saved_arrays()
        loss.backward(retain_graph=True)
        assert all(r() is not None for r in refs)
        del loss  # without backward, the output is the only way in
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


# ----- dtypes ----------------------------------------------------------------------------------------------
def test_python_floats_default_to_float32_and_float64_is_kept_when_given():
    assert Tensor(1.5).dtype == np.float32 and Tensor([[1.0, 2.0]]).dtype == np.float32
    assert mc.tensor([1.0]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    assert Tensor(np.float64(2.0)).dtype == np.float64
    assert Tensor([1, 2]).dtype.kind == "i"


def test_float64_stays_float64_through_a_whole_computation():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    y = F.layer_norm(F.gelu(x * 0.5 + 1.0), Tensor(np.ones(3)), Tensor(np.zeros(3))).softmax(-1)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("data", [[1, 2], np.array([True, False]), np.arange(3, dtype=np.int32)])
def test_integer_and_boolean_tensors_cannot_require_grad(data):
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        Tensor(data).requires_grad_()


def test_gradient_dtype_equals_each_leafs_dtype_in_a_mixed_graph():
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0], dtype=np.float64), requires_grad=True)
    y = a * b  # float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_requires_grad_false_only_on_leaves():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only allowed on leaves"):
        (x * 2.0).requires_grad_(False)
    assert not x.requires_grad_(False).requires_grad


def test_array_protocol_and_basic_accessors():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.asarray(x) is x.data and x.numpy() is x.data
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x[1, 2].item() == 5.0 and x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


# ----- the kernel seam ------------------------------------------------------------------------------------
def test_one_switch_replaces_an_ops_kernels_without_touching_callers(monkeypatch):
    """A kernel module with the reference's names, selected by `backend(name)`, is what the ops call."""
    from minconvbert.kernels import reference

    calls = []
    fake = types.ModuleType("fake_kernels")
    for name in dir(reference):
        if name.endswith(("_forward", "_backward")):
            def traced(*args, _name=name):
                calls.append(_name)
                return getattr(reference, _name)(*args)
            setattr(fake, name, traced)
    monkeypatch.setitem(sys.modules, "fake_kernels", fake)
    monkeypatch.setitem(BACKENDS, "fake", "fake_kernels")

    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    expected = F.gelu(F.softmax(x)).data
    with backend("fake"):
        assert get_backend() == "fake" and active_kernels() is fake
        y = F.gelu(F.softmax(x))
        y.sum().backward()
    assert get_backend() != "fake"
    assert calls == ["softmax_forward", "gelu_forward", "gelu_backward", "softmax_backward"]
    np.testing.assert_array_equal(y.data, expected)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        with backend("cuda"):
            pass
