"""The Tensor methods that code written for torch touches: reductions to indices, comparisons, indexing
with 0-d tensors, iteration, dtype casts, retain_grad, and torch functions applied to Tensors."""

import operator

import numpy as np
import pytest

import minconvbert as mc

X = np.array([[1.0, 5.0, 2.0], [0.0, -1.0, 5.0]], dtype=np.float32)


def test_argmax_argmin_as_numpy_on_the_flat_array_or_an_axis():
    t = mc.Tensor(X)
    assert t.argmax().item() == np.argmax(X) == 1 and t.argmin().item() == np.argmin(X) == 4
    np.testing.assert_array_equal(t.argmax(-1).data, [1, 2])
    np.testing.assert_array_equal(t.argmax(dim=0).data, np.argmax(X, axis=0))
    np.testing.assert_array_equal(t.argmin(axis=1, keepdims=True).data, np.argmin(X, axis=1, keepdims=True))
    assert t.argmax().dtype == np.int64 and t.argmax(0).requires_grad is False
    with pytest.raises(TypeError, match="pass the axis once"):
        t.argmax(axis=0, dim=1)


def test_comparisons_give_boolean_tensors_outside_the_graph():
    t = mc.Tensor(X, requires_grad=True)
    for result, expected in ((t == 5.0, X == 5), (t != 5.0, X != 5), (t > 1, X > 1), (t <= 0, X <= 0),
                             (t == mc.Tensor(X), np.ones_like(X, bool)), (~(t > 1), ~(X > 1))):
        assert isinstance(result, mc.Tensor) and result.dtype == bool and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    assert hash(t) == id(t) and t in {t}  # still hashable by identity, as torch tensors


def test_nonzero_both_forms():
    t = mc.Tensor(X) > 1
    np.testing.assert_array_equal(t.nonzero().data, np.argwhere(X > 1))
    rows, cols = t.nonzero(as_tuple=True)
    np.testing.assert_array_equal(rows.data, np.nonzero(X > 1)[0])
    np.testing.assert_array_equal(cols.data, np.nonzero(X > 1)[1])


def test_index_int_and_float_of_one_element():
    ids = np.arange(10)
    start, end = mc.Tensor(np.int64(2)), mc.Tensor(np.array([5]))
    np.testing.assert_array_equal(ids[start: end + 1], [2, 3, 4, 5])
    assert int(mc.Tensor(3.7)) == 3 and float(mc.Tensor([2.5])) == 2.5
    for bad in (mc.Tensor(2.0), mc.Tensor([1, 2])):
        with pytest.raises(TypeError, match="only a one-element integer tensor can be an index"):
            operator.index(bad)
    with pytest.raises(ValueError, match="item: the tensor has 6 elements"):
        mc.Tensor(X).item()


def test_iteration_yields_tensors():
    rows = list(mc.Tensor(X).argmax(-1))
    assert all(isinstance(r, mc.Tensor) for r in rows) and [r.item() for r in rows] == [1, 2]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(mc.Tensor(1.0))
    t = mc.Tensor(X, requires_grad=True)
    sum(row.sum() for row in t).backward()  # rows stay in the graph
    np.testing.assert_array_equal(t.grad, np.ones_like(X))


def test_torch_style_shapes_and_casts():
    t = mc.Tensor(X)
    assert t.unsqueeze(0).shape == (1, 2, 3) and t.unsqueeze(dim=-1).shape == (2, 3, 1)
    assert t.unsqueeze(0).squeeze(dim=0).shape == (2, 3) and t.flatten().shape == (6,) and t.sum(dim=1).shape == (2,)
    assert (t.float().dtype, t.double().dtype, t.half().dtype, t.long().dtype, t.int().dtype, t.bool().dtype) == (
        np.float32, np.float64, np.float16, np.int64, np.int32, np.bool_)
    assert t.numel() == 6 and t.dim() == 2 and t.to("cpu") is t and t.cpu() is t
    assert t.to(np.float64).dtype == np.float64 and t.to(dtype="float16").dtype == np.float16
    with pytest.raises(ValueError, match="computes on the CPU"):
        t.to("cuda:0")


def test_retain_grad_keeps_an_intermediate_gradient():
    x = mc.Tensor(X, requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * 3.0 * X)  # d(h^2)/dh
    np.testing.assert_allclose(x.grad, 2 * 9.0 * X)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mc.Tensor(X).retain_grad()


def test_torch_functions_and_torch_indices():
    torch = pytest.importorskip("torch")
    t = mc.Tensor(X)
    result = torch.sigmoid(t)
    assert isinstance(result, torch.Tensor)
    np.testing.assert_allclose(result.numpy(), 1 / (1 + np.exp(-X)), rtol=1e-6)
    picked = torch.arange(3)[torch.sigmoid(t)[0] > 0.8]
    np.testing.assert_array_equal(picked.numpy(), [1, 2])
    np.testing.assert_array_equal(t[torch.tensor([1, 0])].data, X[[1, 0]])
    assert torch.tensor([10, 11, 12, 13])[t.argmax(): t.argmax() + 2].tolist() == [11, 12]
    assert t.to(torch.float64).dtype == np.float64
