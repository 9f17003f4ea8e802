"""Span-based dynamic convolution kernels: fast == reference, gradcheck, and transformers' unfold formulation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kernel_cases import assert_agree, assert_sums_agree, batch, dtypes, length, normal, seeds, width

import minconvbert
from minconvbert import Tensor, functional as F, gradcheck
from minconvbert.kernels import fast, reference

pytestmark = pytest.mark.usefixtures("loop_path")  # as shipped and split on two threads (conftest.py)

heads = st.integers(1, 3)
head_size = st.integers(1, 6)


@given(b=batch, t=length, h=heads, d=head_size, k=width, dtype=dtypes, seed=seeds)
def test_forward_equals_reference(b, t, h, d, k, dtype, seed):
    rng = np.random.default_rng(seed)
    values, conv_kernel = normal(rng, (b, t, h, d), dtype), normal(rng, (b, t, h, k), dtype)
    assert_sums_agree(fast.span_conv_forward, reference.span_conv_forward, (values, conv_kernel), ("out",), dtype)


@given(b=batch, t=length, h=heads, d=head_size, k=width, dtype=dtypes, seed=seeds)
def test_backward_equals_reference(b, t, h, d, k, dtype, seed):
    rng = np.random.default_rng(seed)
    values, conv_kernel = normal(rng, (b, t, h, d), dtype), normal(rng, (b, t, h, k), dtype)
    grad_out = normal(rng, values.shape, dtype)
    assert_sums_agree(fast.span_conv_backward, reference.span_conv_backward, (values, conv_kernel, grad_out),
                      ("grad_values", "grad_conv_kernel"), dtype)  # fmt: skip


def test_mixed_dtypes_and_strides():
    rng = np.random.default_rng(0)
    values = normal(rng, (2, 7, 2, 6), np.float32)[..., ::2]  # strided
    conv_kernel = normal(rng, (2, 7, 2, 5), np.float64)
    assert_agree(fast.span_conv_forward(values, conv_kernel), reference.span_conv_forward(values, conv_kernel),
                 np.float64, scale=10.0)  # fmt: skip
    grad_out = normal(rng, values.shape, np.float32)
    for got, expected in zip(fast.span_conv_backward(values, conv_kernel, grad_out),
                             reference.span_conv_backward(values, conv_kernel, grad_out)):  # fmt: skip
        assert_agree(got, expected, np.float32, scale=10.0)


@pytest.mark.parametrize("module", [fast, reference], ids=["numba", "numpy"])  # both refuse alike
def test_bad_input_raises(module):
    with pytest.raises(ValueError, match=r"span_conv_forward: expected values \(B, T, H, D\)"):
        module.span_conv_forward(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="span_conv_forward: expected"):
        module.span_conv_forward(np.zeros((2, 3, 1, 4)), np.zeros((2, 4, 1, 3)))
    with pytest.raises(ValueError, match="span_conv_backward: grad_out has shape"):
        module.span_conv_backward(np.zeros((2, 3, 1, 4)), np.zeros((2, 3, 1, 3)), np.zeros((2, 3, 1, 5)))
    with pytest.raises(TypeError, match="span_conv_forward: conv_kernel must be a floating-point array"):
        module.span_conv_forward(np.zeros((2, 3, 1, 4)), np.zeros((2, 3, 1, 3), dtype=int))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("t, k", [(5, 3), (2, 5), (4, 1)])  # T shorter than K included
def test_gradcheck(backend, t, k):
    rng = np.random.default_rng(1)
    values = Tensor(normal(rng, (2, t, 2, 3), np.float64), requires_grad=True)
    conv_kernel = Tensor(normal(rng, (2, t, 2, k), np.float64), requires_grad=True)
    with minconvbert.backend(backend):
        assert gradcheck(F.span_conv, [values, conv_kernel])


def torch_unfold_span_conv(torch, values, conv_kernel):
    """transformers' ConvBertSelfAttention steps from conv_out_layer to the conv output, conv_kernel given.

    values (B, T, H*D); conv_kernel (B*T*H, K, 1), already softmaxed -> (B*T, H*D). The sequence is
    unfolded into a (B, T, H*D, K) copy, then each head's (D, K) block times its kernel.
    """
    batch, seq, channels = values.shape
    width = conv_kernel.shape[1]
    heads = conv_kernel.shape[0] // (batch * seq)
    size = channels // heads
    columns = values.transpose(1, 2).contiguous().unsqueeze(-1)  # (B, H*D, T, 1)
    columns = torch.nn.functional.unfold(columns, kernel_size=[width, 1], dilation=1,
                                         padding=[(width - 1) // 2, 0], stride=1)  # (B, H*D*K, T)  # fmt: skip
    columns = columns.transpose(1, 2).reshape(batch, seq, channels, width)  # (B, T, H*D, K)
    out = torch.matmul(columns.reshape(-1, size, width), conv_kernel)  # (B*T*H, D, 1)
    return out.reshape(-1, channels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seq, width", [(11, 9), (4, 9), (6, 1), (7, 3)])
def test_matches_transformers_unfold(dtype, seq, width):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    batch, heads, size = 2, 3, 4
    values = normal(rng, (batch, seq, heads * size), dtype)  # conv_out_layer's output
    logits = normal(rng, (batch, seq, heads * width), dtype, scale=2.0)  # conv_kernel_layer's output
    tol = 2e-6 if dtype == np.float32 else 1e-12

    # forward, the kernel softmax included: torch.softmax over K, as transformers does
    t_kernels = torch.softmax(torch.from_numpy(logits).reshape(-1, width, 1), dim=1)  # (B*T*H, K, 1)
    expected = torch_unfold_span_conv(torch, torch.from_numpy(values), t_kernels)
    conv_kernel = fast.softmax_forward(logits.reshape(batch, seq, heads, width))  # (B, T, H, K)
    ours = fast.span_conv_forward(values.reshape(batch, seq, heads, size), conv_kernel)  # (B, T, H, D)
    np.testing.assert_allclose(ours.reshape(-1, heads * size), expected.numpy(), rtol=tol, atol=tol)

    # gradients with respect to the values and the kernel weights, by autograd through the unfold
    t_values = torch.from_numpy(values).requires_grad_(True)
    t_leaf = torch.from_numpy(conv_kernel.reshape(-1, width, 1).copy()).requires_grad_(True)
    grad_out = normal(rng, (batch * seq, heads * size), dtype)
    torch_unfold_span_conv(torch, t_values, t_leaf).backward(torch.from_numpy(grad_out))
    grad_values, grad_kernels = fast.span_conv_backward(values.reshape(batch, seq, heads, size), conv_kernel,
                                                        grad_out.reshape(batch, seq, heads, size))  # fmt: skip
    np.testing.assert_allclose(grad_values.reshape(batch, seq, -1), t_values.grad.numpy(), rtol=tol, atol=4 * tol)
    np.testing.assert_allclose(grad_kernels.reshape(-1, width, 1), t_leaf.grad.numpy(), rtol=tol, atol=8 * tol)
