"""Layer norm kernels: fast == reference (outputs, saved statistics, all three gradients), gradcheck, torch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import assert_agree, dtypes, normal, seeds

import minconvbert
from minconvbert import Tensor, functional as F, gradcheck
from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)

lead_shapes = st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple)
sizes = st.integers(1, 70)  # around the 8-wide partial sums, and more rows than one chunk of 32
eps_values = st.sampled_from([1e-12, 1e-5, 0.1])


@given(lead=lead_shapes, n=sizes, eps=eps_values, offset=st.sampled_from([0.0, 5.0]), dtype=dtypes, seed=seeds)
def test_forward_equals_reference(lead, n, eps, offset, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, lead + (n,), dtype, scale=2.0) + dtype(offset)
    weight, bias = normal(rng, (n,), dtype), normal(rng, (n,), dtype)
    got, expected = fast.layer_norm_forward(x, weight, bias, eps), reference.layer_norm_forward(x, weight, bias, eps)
    # x_hat is O(1); the statistics scale with x, and rstd with 1/std (up to 1/sqrt(eps) for constant rows)
    for name, a, b, scale in zip(("y", "mean", "rstd"), got, expected, (4.0, 8.0, 1.0)):
        assert_agree(a, b, dtype, scale=scale, name=name)


@given(lead=lead_shapes, n=sizes, dtype=dtypes, seed=seeds)
def test_backward_equals_reference(lead, n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, lead + (n,), dtype, scale=2.0)
    weight, bias = normal(rng, (n,), dtype), normal(rng, (n,), dtype)
    _, mean, rstd = reference.layer_norm_forward(x, weight, bias, 1e-5)
    grad_y = normal(rng, x.shape, dtype)
    rows = max(1, x.size // n)
    got = fast.layer_norm_backward(grad_y, x, weight, mean, rstd)
    expected = reference.layer_norm_backward(grad_y, x, weight, mean, rstd)
    # grad_weight and grad_bias add up `rows` terms of size ~|grad_y| * |x_hat|
    scales = (10.0, 4.0 * rows, 4.0 * rows)
    for name, a, b, scale in zip(("grad_x", "grad_weight", "grad_bias"), got, expected, scales):
        assert_agree(a, b, dtype, scale=scale, name=name)


def test_statistics_shapes_and_dtypes():
    x = normal(np.random.default_rng(0), (2, 3, 4), np.float32)
    w, b = np.ones(4, np.float32), np.zeros(4, np.float32)
    for got, expected in zip(fast.layer_norm_forward(x, w, b, 1e-5), reference.layer_norm_forward(x, w, b, 1e-5)):
        assert got.shape == expected.shape and got.dtype == expected.dtype
    w64 = w.astype(np.float64)
    got = fast.layer_norm_forward(x, w64, b, np.float64(1e-5))
    expected = reference.layer_norm_forward(x, w64, b, np.float64(1e-5))
    assert [a.dtype for a in got] == [a.dtype for a in expected]


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    x = np.zeros((2, 4))
    with pytest.raises(ValueError, match="layer_norm_forward: weight has shape"):
        module.layer_norm_forward(x, np.ones(3), np.zeros(4), 1e-5)
    with pytest.raises(ValueError, match="layer_norm_forward: bias has shape"):
        module.layer_norm_forward(x, np.ones(4), np.zeros(5), 1e-5)
    with pytest.raises(ValueError, match="non-empty last axis"):
        module.layer_norm_forward(np.zeros((2, 0)), np.ones(0), np.zeros(0), 1e-5)
    with pytest.raises(ValueError, match="layer_norm_backward: mean has shape"):
        module.layer_norm_backward(x, x, np.ones(4), np.zeros((3, 1)), np.ones((2, 1)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_gradcheck(backend):
    rng = np.random.default_rng(1)
    x = Tensor(normal(rng, (2, 3, 6), np.float64), requires_grad=True)
    weight = Tensor(normal(rng, (6,), np.float64), requires_grad=True)
    bias = Tensor(normal(rng, (6,), np.float64), requires_grad=True)
    with minconvbert.backend(backend):
        assert gradcheck(lambda a, w, b: F.layer_norm(a, w, b, eps=1e-5), [x, weight, bias])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = normal(rng, (4, 9, 768), dtype, scale=2.0)
    weight, bias = normal(rng, (768,), dtype), normal(rng, (768,), dtype)
    expected = torch.nn.functional.layer_norm(torch.from_numpy(x), (768,), torch.from_numpy(weight),
                                              torch.from_numpy(bias), 1e-12).numpy()  # fmt: skip
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast.layer_norm_forward(x, weight, bias, 1e-12)[0], expected, rtol=tol, atol=4 * tol)
