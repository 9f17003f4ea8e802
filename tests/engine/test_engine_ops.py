"""Semantics of individual operations beyond their gradients: masks, ignore_index, padding, dropout, dtypes."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minconvbert as mc
from minconvbert import Tensor
from minconvbert import functional as F
from tests.strategies import arrays, shapes, tensor


# ----- softmax with an additive mask ---------------------------------------------------------------------
def test_softmax_mask_gives_masked_positions_zero_probability():
    x = tensor(np.random.default_rng(0).standard_normal((2, 3, 4)))
    keep = np.array([[True, True, False, True]])
    mask = np.where(keep, 0.0, np.finfo(np.float64).min)  # (1, 4), broadcast over (2, 3, 4)
    y = F.softmax(x, mask=mask)
    assert np.all(y.data[..., 2] == 0.0)
    e = np.exp(x.data) * keep
    np.testing.assert_allclose(y.data, e / e.sum(-1, keepdims=True), rtol=1e-12)


def test_softmax_fully_masked_row_is_uniform_as_in_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3))
    mask = np.where(np.array([[True, True, True], [False, True, True]]), np.finfo(np.float64).min, 0.0)
    ours = F.softmax(tensor(x), mask=mask).data
    theirs = torch.softmax(torch.from_numpy(x + mask), dim=-1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[0], np.full(3, 1 / 3))


def test_softmax_float32_mask_from_float64_is_cast():
    x = Tensor(np.zeros((2, 3), dtype=np.float32))
    y = F.softmax(x, mask=np.array([0.0, 0.0, np.finfo(np.float32).min]))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, [[0.5, 0.5, 0.0]] * 2)


# ----- cross-entropy with ignore_index ----------------------------------------------------------------------
def test_cross_entropy_is_the_mean_over_non_ignored_targets():
    logits = np.random.default_rng(2).standard_normal((5, 4))
    targets = np.array([1, -100, 3, 0, -100])
    loss = F.cross_entropy(tensor(logits), targets)
    log_probs = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -np.mean([log_probs[0, 1], log_probs[2, 3], log_probs[3, 0]])  # 3 counted rows, not 5
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_ignored_rows_get_no_gradient_and_custom_ignore_index():
    x = tensor(np.random.default_rng(3).standard_normal((3, 4)))
    F.cross_entropy(x, np.array([2, 7, 1]), ignore_index=7).backward()
    assert np.all(x.grad[1] == 0) and np.all(x.grad[0] != 0)
    np.testing.assert_allclose(x.grad.sum(axis=1), 0, atol=1e-15)  # softmax - onehot sums to 0


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient_as_in_torch():
    torch = pytest.importorskip("torch")
    x = tensor(np.zeros((2, 3)))
    loss = F.cross_entropy(x, np.array([-100, -100]))
    loss.backward()
    t = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor([-100, -100]))
    ref.backward()
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


# ----- embedding --------------------------------------------------------------------------------------------
def test_embedding_padding_row_is_read_but_gets_no_gradient():
    w = tensor(np.arange(12.0).reshape(4, 3))
    ids = np.array([[0, 2, 2], [1, 0, 3]])
    y = F.embedding(ids, w, padding_idx=2)
    np.testing.assert_array_equal(y.data, w.data[ids])  # the padding row is looked up like any other
    (y * 2.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [[4.0] * 3, [2.0] * 3, [0.0] * 3, [2.0] * 3])  # repeats add up


def test_embedding_accepts_tensor_ids_and_keeps_the_weight_dtype():
    w = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    y = F.embedding(Tensor(np.array([2, 0])), w)
    assert y.dtype == np.float32 and y.shape == (2, 2)


# ----- dropout ----------------------------------------------------------------------------------------------
def test_dropout_mask_is_exactly_the_seeded_generators_draw():
    x = Tensor(np.ones((4, 5), dtype=np.float32), requires_grad=True)
    y = F.dropout(x, p=0.25, training=True, rng=np.random.default_rng(7))
    keep = np.random.default_rng(7).random((4, 5)) >= 0.25
    np.testing.assert_array_equal(y.data, keep / np.float32(0.75))
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, keep / np.float32(0.75))  # the same mask scales the gradient


def test_dropout_with_an_int_seed_is_reproducible():
    x = Tensor(np.ones(50))
    np.testing.assert_array_equal(F.dropout(x, 0.5, rng=3).data, F.dropout(x, 0.5, rng=3).data)


def test_dropout_default_generator_follows_manual_seed():
    x = Tensor(np.ones(50))
    mc.manual_seed(11)
    first = F.dropout(x, 0.5).data
    mc.manual_seed(11)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    assert not np.array_equal(F.dropout(x, 0.5).data, first)  # the generator moved on


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_preserves_the_mean_and_drops_a_fraction_p(p):
    x = np.random.default_rng(0).uniform(0.5, 1.5, 200_000)
    y = F.dropout(Tensor(x), p, rng=np.random.default_rng(1)).data
    dropped = np.mean(y == 0)
    # binomial: the fraction dropped has standard deviation sqrt(p (1 - p) / n) < 0.0012
    assert abs(dropped - p) < 0.006
    # inverted scaling: E[y] = E[x]; the sample mean's standard error is below 0.0045 here
    assert abs(y.mean() - x.mean()) < 0.02 * x.mean()


@given(arrays(shapes()), st.sampled_from([0.0, 0.3, 1.0]))
def test_dropout_is_the_identity_when_not_training(x, p):
    t = tensor(x)
    assert F.dropout(t, p, training=False) is t


def test_dropout_p0_is_identity_and_p1_zeros_everything():
    x = Tensor(np.arange(1.0, 7.0), requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x.data)
    y = F.dropout(x, 1.0, rng=0)
    np.testing.assert_array_equal(y.data, np.zeros(6))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(6))


# ----- casts and dtypes ---------------------------------------------------------------------------------------
def test_astype_between_floats_is_differentiable_and_the_gradient_keeps_the_leafs_dtype():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)  # float64
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    z = Tensor([1.5], requires_grad=True)
    z.double().sum().backward()
    assert z.grad.dtype == np.float32


def test_astype_to_integers_carries_no_gradient():
    x = Tensor([1.7, -2.2], requires_grad=True)
    i = x.astype(np.int64)
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.data, [1, -2])


@pytest.mark.parametrize("number", [0.5, 2, np.float64(0.5), np.float32(0.5), np.int64(3), True])
def test_numbers_take_the_tensors_float_dtype(number):
    x = Tensor([1.0, 2.0])  # float32
    for y in (x + number, number + x, x * number, number * x, x - number, number - x, x / number):
        assert y.dtype == np.float32


def test_float64_tensors_stay_float64_with_numbers_and_float32_arrays():
    x = Tensor(np.array([1.0, 2.0]))
    assert (x * 0.5).dtype == np.float64
    assert (x + np.ones(2, dtype=np.float32)).dtype == np.float64


def test_integer_tensors_do_arithmetic_without_gradients():
    i = Tensor(np.array([1, 2, 3]))
    assert (i + 1).dtype == np.int64 and not (i * 2).requires_grad
    np.testing.assert_array_equal((i * 2 - 1).data, [1, 3, 5])
    assert (i * 0.5).dtype == np.float64  # NumPy's promotion for an integer array with a float


def test_functional_arithmetic_on_plain_numbers():
    assert F.add(1.0, 2.0).item() == 3.0
    assert F.mul(2, np.ones(2)).dtype == np.float64


# ----- shapes -------------------------------------------------------------------------------------------------
def test_split_matches_numpy_pieces_and_handles_an_empty_axis():
    x = Tensor(np.arange(14.0).reshape(7, 2))
    pieces = x.split(3)
    assert [p.shape for p in pieces] == [(3, 2), (3, 2), (1, 2)]
    for p, q in zip(pieces, np.split(x.data, [3, 6])):
        np.testing.assert_array_equal(p.data, q)
    assert [p.shape for p in F.split(x, [2, 0, 5])] == [(2, 2), (0, 2), (5, 2)]
    assert [p.shape for p in F.split(Tensor(np.zeros((0, 2))), 2)] == [(0, 2)]


def test_integer_array_indexing_scatter_adds_repeated_indices():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = x[np.array([0, 2, 0, 0])]  # row 0 picked three times
    np.testing.assert_array_equal(y.data, x.data[[0, 2, 0, 0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]])
    z = Tensor(np.zeros(4), requires_grad=True)
    (z[np.array([1, 1, 3])] * Tensor(np.array([1.0, 2.0, 5.0]))).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 3.0, 0.0, 5.0])


def test_basic_indexing_gradient_lands_in_place():
    x = Tensor(np.zeros((3, 4)), requires_grad=True)
    x[1:, ::2].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


def test_squeeze_unsqueeze_and_reshape_with_an_int():
    x = Tensor(np.zeros((1, 3, 1)))
    assert x.squeeze().shape == (3,) and x.squeeze(0).shape == (3, 1) and x.squeeze(-1).shape == (1, 3)
    assert x.unsqueeze(-1).shape == (1, 3, 1, 1) and x.unsqueeze(0).shape == (1, 1, 3, 1)
    assert F.reshape(x, 3).shape == (3,)


def test_reductions_on_0d_tensors_accept_axis_0_as_in_torch():
    x = tensor(np.array(2.5))
    assert F.sum(x, axis=0).item() == 2.5 and F.max(x, axis=-1).item() == 2.5
    assert F.softmax(x, axis=0).item() == 1.0


def test_max_shares_the_gradient_between_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    F.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_max_over_the_non_empty_axes_of_an_empty_batch():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    y = F.max(x, axis=1)
    assert y.shape == (0,)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_var_matches_numpy_with_ddof():
    x = np.random.default_rng(4).standard_normal((3, 5))
    for ddof in (0, 1):
        np.testing.assert_allclose(tensor(x).var(axis=1, ddof=ddof).data, x.var(axis=1, ddof=ddof), rtol=1e-12)


def test_where_and_masked_fill():
    x = tensor(np.array([1.0, -2.0, 3.0]))
    y = tensor(np.array([10.0, 20.0, 30.0]))
    cond = np.array([True, False, True])
    np.testing.assert_array_equal(F.where(cond, x, y).data, [1.0, 20.0, 3.0])
    np.testing.assert_array_equal(x.masked_fill(Tensor(~cond), 0.0).data, [1.0, 0.0, 3.0])
    F.where(cond, x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, cond * 1.0)
    np.testing.assert_array_equal(y.grad, ~cond * 1.0)


def test_comparisons_give_boolean_tensors_off_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in (x < 2.0, x <= 2.0, x > 2.0, x >= 2.0):
        assert c.dtype == bool and not c.requires_grad


def test_mse_loss_gradient_flows_to_both_sides():
    a, b = tensor(np.array([1.0, 2.0])), tensor(np.array([0.0, 4.0]))
    loss = F.mse_loss(a, b)
    assert loss.item() == pytest.approx((1 + 4) / 2)
    loss.backward()
    np.testing.assert_allclose(a.grad, [1.0, -2.0])
    np.testing.assert_allclose(b.grad, [-1.0, 2.0])


def test_binary_cross_entropy_with_logits_is_stable_for_large_logits():
    loss = F.binary_cross_entropy_with_logits(tensor(np.array([1000.0, -1000.0])), np.array([0.0, 1.0]))
    assert loss.item() == pytest.approx(1000.0)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise"):
        y = F.sigmoid(Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=np.float32)))
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])


# ----- GELU in float32 (the kernel's fast erf) ---------------------------------------------------------------
def test_float64_normal_cdf_uses_math_erf_exactly():
    from minconvbert.kernels.reference import gelu_forward

    x = np.random.default_rng(0).standard_normal(1000) * 3
    cdf = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])
    np.testing.assert_array_equal(gelu_forward(x), x * cdf)  # y = x Phi(x), Phi from math.erf to the last bit


def test_float32_gelu_matches_the_exact_value_and_torch():
    x = np.linspace(-10, 10, 20_001).astype(np.float32)
    x64 = x.astype(np.float64)
    exact = x64 * 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x64]))
    t = Tensor(x, requires_grad=True)
    y = F.gelu(t)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, exact, rtol=1.2e-7, atol=5e-7)  # float32 rounding of x/2 (1 + erf)
    torch = pytest.importorskip("torch")
    tx = torch.from_numpy(x).requires_grad_()
    ref = torch.nn.functional.gelu(tx)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=0, atol=1.5e-6)
    y.sum().backward()
    ref.sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=0, atol=5e-7)
