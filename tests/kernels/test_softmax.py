"""Softmax kernels (last axis, additive mask): fast == reference, gradients under both backends, torch parity."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import assert_agree, batch, dtypes, length, normal, seeds

import minconvbert
from minconvbert import Tensor, functional as F, gradcheck
from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)

# (B, H, Tq, T) scores and the mask layouts a model uses, plus a few odd ones
MASK_LAYOUTS = ("none", "key padding (B,1,1,T)", "full (B,H,Tq,T)", "per key (T,)", "per query (B,1,Tq,1)", "scalar")
MASK_VALUES = ("zero", "finfo.min", "-1e4", "-inf")


def make_mask(rng, layout, shape, dtype, kind):
    """An additive mask for scores of `shape` (B, H, Tq, T): 0 keeps, the `kind` of large negative drops."""
    b, h, tq, t = shape
    mask_shape = {"key padding (B,1,1,T)": (b, 1, 1, t), "full (B,H,Tq,T)": shape, "per key (T,)": (t,),
                  "per query (B,1,Tq,1)": (b, 1, tq, 1), "scalar": ()}[layout]  # fmt: skip
    drop = {"zero": 0.0, "finfo.min": np.finfo(dtype).min, "-1e4": -1e4, "-inf": -np.inf}[kind]
    return np.where(rng.random(mask_shape) < 0.4, drop, 0.0).astype(dtype)


@given(b=batch, h=st.integers(1, 3), tq=length, t=length, layout=st.sampled_from(MASK_LAYOUTS),
       kind=st.sampled_from(MASK_VALUES), dtype=dtypes, seed=seeds)  # fmt: skip
def test_forward_equals_reference(b, h, tq, t, layout, kind, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, (b, h, tq, t), dtype, scale=3.0)
    mask = None if layout == "none" else make_mask(rng, layout, x.shape, dtype, kind)
    with np.errstate(invalid="ignore"):  # rows masked everywhere with -inf are NaN in both
        expected = reference.softmax_forward(x, mask)
    assert_agree(fast.softmax_forward(x, mask), expected, dtype, name=f"softmax mask={layout} {kind}")


@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple), n=st.integers(1, 40), dtype=dtypes,
       seed=seeds)  # fmt: skip
def test_backward_equals_reference(shape, n, dtype, seed):
    rng = np.random.default_rng(seed)
    y = reference.softmax_forward(normal(rng, shape + (n,), dtype, scale=3.0))
    grad_y = normal(rng, y.shape, dtype)
    assert_agree(fast.softmax_backward(y, grad_y), reference.softmax_backward(y, grad_y), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fully_masked_rows(dtype):
    x = normal(np.random.default_rng(0), (2, 1, 3, 5), dtype)
    very_negative = np.full((2, 1, 1, 5), np.finfo(dtype).min, dtype=dtype)
    np.testing.assert_array_equal(fast.softmax_forward(x, very_negative), reference.softmax_forward(x, very_negative))
    np.testing.assert_allclose(fast.softmax_forward(x, very_negative), 0.2)  # uniform, as the reference
    minus_inf = np.full((2, 1, 1, 5), -np.inf, dtype=dtype)
    with np.errstate(invalid="ignore"):
        assert np.isnan(reference.softmax_forward(x, minus_inf)).all()
    assert np.isnan(fast.softmax_forward(x, minus_inf)).all()


def test_nan_and_inf_spread_like_the_reference():
    x = np.array([[0.0, np.nan, 1.0], [0.0, np.inf, 1.0], [0.0, 1.0, 2.0]])
    with np.errstate(invalid="ignore"):
        assert_agree(fast.softmax_forward(x), reference.softmax_forward(x), np.float64)


def test_mask_dtype_and_scalar_follow_numpy_promotion():
    rng = np.random.default_rng(1)
    x = normal(rng, (2, 4), np.float32)
    mask64 = np.zeros((2, 4))
    assert fast.softmax_forward(x, mask64).dtype == reference.softmax_forward(x, mask64).dtype == np.float64
    assert fast.softmax_forward(x, 0.0).dtype == reference.softmax_forward(x, 0.0).dtype == np.float32
    bool_mask = np.array([True, False, True, True])
    assert_agree(fast.softmax_forward(x, bool_mask), reference.softmax_forward(x, bool_mask), np.float32)
    # a mask with more axes than x broadcasts x up, as x + mask does
    assert_agree(fast.softmax_forward(x, np.zeros((3, 1, 4), np.float32)),
                 reference.softmax_forward(x, np.zeros((3, 1, 4), np.float32)), np.float32)  # fmt: skip


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    with pytest.raises(ValueError, match="softmax_forward: mask of shape"):
        module.softmax_forward(np.zeros((2, 3)), np.zeros((4,)))
    with pytest.raises(ValueError, match="softmax_forward: the last axis"):
        module.softmax_forward(np.zeros((2, 0)))
    with pytest.raises(TypeError, match="softmax_forward: x must be a floating-point array"):
        module.softmax_forward(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="softmax_backward: grad_y has shape"):
        module.softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck(backend, masked):
    rng = np.random.default_rng(2)
    x = Tensor(normal(rng, (2, 2, 3, 4), np.float64), requires_grad=True)
    mask = None
    if masked:
        mask = np.zeros((2, 1, 1, 4))
        mask[0, ..., 3] = mask[1, ..., 0] = np.finfo(np.float64).min
    with minconvbert.backend(backend):
        assert gradcheck(lambda t: F.softmax(t, axis=-1, mask=mask), [x])
        if not masked:
            assert gradcheck(lambda t: F.softmax(t, axis=1), [x])  # another axis goes through the same kernel


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = normal(rng, (2, 3, 5, 7), dtype, scale=3.0)
    mask = make_mask(rng, "key padding (B,1,1,T)", x.shape, dtype, "finfo.min")
    expected = torch.softmax(torch.from_numpy(x) + torch.from_numpy(mask), dim=-1).numpy()
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast.softmax_forward(x, mask), expected, rtol=tol, atol=tol)
