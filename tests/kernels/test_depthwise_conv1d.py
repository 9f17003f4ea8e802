"""Depthwise 1-D convolution kernels (first half of the separable key convolution): fast == reference,
gradcheck under both backends, and torch's Conv1d with groups=C, padding=K//2."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import assert_sums_agree, batch, dtypes, length, normal, seeds, width

import minconvbert
from minconvbert import Tensor, functional as F, gradcheck
from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)

channels = st.integers(1, 20)


@given(b=batch, t=length, c=channels, k=width, dtype=dtypes, seed=seeds)
def test_forward_equals_reference(b, t, c, k, dtype, seed):
    rng = np.random.default_rng(seed)
    x, weight = normal(rng, (b, t, c), dtype), normal(rng, (c, k), dtype)
    assert_sums_agree(fast.depthwise_conv1d_forward, reference.depthwise_conv1d_forward, (x, weight), ("y",), dtype)


@given(b=st.integers(0, 6), t=st.integers(1, 12), c=channels, k=width, dtype=dtypes, seed=seeds)
def test_backward_equals_reference(b, t, c, k, dtype, seed):
    rng = np.random.default_rng(seed)  # up to 72 positions: more than one 32-row chunk of the weight sum
    x, weight = normal(rng, (b, t, c), dtype), normal(rng, (c, k), dtype)
    grad_y = normal(rng, x.shape, dtype)
    assert_sums_agree(fast.depthwise_conv1d_backward, reference.depthwise_conv1d_backward, (x, weight, grad_y),
                      ("grad_x", "grad_weight"), dtype)  # fmt: skip


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    with pytest.raises(ValueError, match=r"depthwise_conv1d_forward: expected x \(B, T, C\) and weight \(C, K\)"):
        module.depthwise_conv1d_forward(np.zeros((2, 3, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="depthwise_conv1d_backward: grad_y has shape"):
        module.depthwise_conv1d_backward(np.zeros((2, 3, 4)), np.zeros((4, 3)), np.zeros((2, 4, 4)))
    with pytest.raises(TypeError, match="depthwise_conv1d_forward: x must be a floating-point array"):
        module.depthwise_conv1d_forward(np.zeros((2, 3, 4), dtype=np.int32), np.zeros((4, 3)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("t, k", [(6, 3), (2, 5), (4, 1)])  # T shorter than K included
def test_gradcheck(backend, t, k):
    rng = np.random.default_rng(1)
    x = Tensor(normal(rng, (2, t, 3), np.float64), requires_grad=True)
    weight = Tensor(normal(rng, (3, k), np.float64), requires_grad=True)
    with minconvbert.backend(backend):
        assert gradcheck(F.depthwise_conv1d, [x, weight])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seq, k", [(16, 9), (5, 9), (7, 1), (8, 4)])
def test_matches_torch_conv1d(dtype, seq, k):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, weight = normal(rng, (3, seq, 10), dtype), normal(rng, (10, k), dtype)
    t_x = torch.from_numpy(x).transpose(1, 2).requires_grad_(True)  # (B, C, T)
    t_weight = torch.from_numpy(weight).unsqueeze(1).requires_grad_(True)  # (C, 1, K)
    t_y = torch.nn.functional.conv1d(t_x, t_weight, groups=10, padding=k // 2)[..., :seq]  # even K: one extra
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast.depthwise_conv1d_forward(x, weight), t_y.transpose(1, 2).detach().numpy(),
                               rtol=tol, atol=4 * tol)  # fmt: skip
    grad_y = normal(rng, x.shape, dtype)
    t_y.backward(torch.from_numpy(grad_y).transpose(1, 2))
    grad_x, grad_weight = fast.depthwise_conv1d_backward(x, weight, grad_y)
    np.testing.assert_allclose(grad_x, t_x.grad.transpose(1, 2).numpy(), rtol=tol, atol=4 * tol)
    np.testing.assert_allclose(grad_weight, t_weight.grad[:, 0].numpy(), rtol=tol, atol=16 * tol)
