"""GELU kernels: fast == reference on random shapes, gradients under both backends, torch parity."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import assert_agree, dtypes, normal, seeds

import minconvbert
from minconvbert import Tensor, functional as F, gradcheck
from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)

shapes = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=4).map(tuple)
PAIRS = [
    ("gelu", reference.gelu_forward, fast.gelu_forward, reference.gelu_backward, fast.gelu_backward),
    ("gelu_new", reference.gelu_new_forward, fast.gelu_new_forward, reference.gelu_new_backward,
     fast.gelu_new_backward),
]  # fmt: skip


@pytest.mark.parametrize("name, ref_forward, fast_forward, ref_backward, fast_backward", PAIRS)
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_fast_equals_reference(name, ref_forward, fast_forward, ref_backward, fast_backward, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, shape, dtype, scale=4.0)  # reaches both tails
    grad_y = normal(rng, shape, dtype)
    assert_agree(fast_forward(x), ref_forward(x), dtype, name=f"{name} forward")
    if dtype == np.float64:
        assert_agree(fast_backward(x, grad_y), ref_backward(x, grad_y), dtype, name=f"{name} backward")
    else:
        # In float32 the reference's 1 - tanh(u)^2 cancels near |x| ~ 5 and loses up to ~3e-6: there,
        # compare with the reference evaluated in float64 (the exact value), and loosely with float32.
        got = fast_backward(x, grad_y)
        exact = ref_backward(x.astype(np.float64), grad_y.astype(np.float64)).astype(dtype)
        assert_agree(got, exact, dtype, name=f"{name} backward vs float64 reference")
        np.testing.assert_allclose(got, ref_backward(x, grad_y), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    x = np.array([0.0, -0.0, 1e-30, -1e-30, 40.0, -40.0, 1e30, -1e30, np.inf, -np.inf, np.nan], dtype=dtype)
    ones = np.ones_like(x)
    with np.errstate(all="ignore"):
        assert_agree(fast.gelu_forward(x), reference.gelu_forward(x), dtype, name="gelu")
        assert_agree(fast.gelu_new_forward(x), reference.gelu_new_forward(x), dtype, name="gelu_new")
        assert_agree(fast.gelu_backward(x[:-3], ones[:-3]), reference.gelu_backward(x[:-3], ones[:-3]), dtype)
        assert_agree(fast.gelu_new_backward(x[:-5], ones[:-5]), reference.gelu_new_backward(x[:-5], ones[:-5]), dtype)


def test_mixed_dtypes_follow_the_reference():
    rng = np.random.default_rng(0)
    x32, g64 = normal(rng, (3, 4), np.float32), normal(rng, (3, 4), np.float64)
    assert fast.gelu_backward(x32, g64).dtype == reference.gelu_backward(x32, g64).dtype == np.float32
    assert fast.gelu_new_backward(x32, g64).dtype == reference.gelu_new_backward(x32, g64).dtype == np.float64
    x16 = x32.astype(np.float16)  # computed in float32, returned as float16 like the reference
    assert fast.gelu_forward(x16).dtype == np.float16
    np.testing.assert_allclose(fast.gelu_forward(x16), reference.gelu_forward(x16), rtol=1e-3, atol=1e-3)


def test_non_contiguous_input():
    x = normal(np.random.default_rng(1), (6, 8), np.float32)[:, ::2].T  # (4, 6), strided
    assert_agree(fast.gelu_forward(x), reference.gelu_forward(x), np.float32)


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    with pytest.raises(TypeError, match="gelu_forward: x must be a floating-point array"):
        module.gelu_forward(np.arange(3))
    with pytest.raises(ValueError, match="gelu_backward: grad_y has shape"):
        module.gelu_backward(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("op", [F.gelu, F.gelu_new])
def test_gradcheck(backend, op):
    x = Tensor(normal(np.random.default_rng(2), (3, 5), np.float64, scale=2.0), requires_grad=True)
    with minconvbert.backend(backend):
        assert gradcheck(op, [x])


@pytest.mark.parametrize("approximate, ours", [("none", fast.gelu_forward), ("tanh", fast.gelu_new_forward)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(approximate, ours, dtype):
    torch = pytest.importorskip("torch")
    x = normal(np.random.default_rng(3), (4, 7, 33), dtype, scale=4.0)
    expected = torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate).numpy()
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours(x), expected, rtol=tol, atol=tol)
