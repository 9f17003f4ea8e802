"""Each layer against a hand computation in NumPy, its parameter names and shapes, its gradients
(float64 finite differences) and, where available, PyTorch / transformers with the same weights."""

import numpy as np
import pytest

import minconvbert as mc
from minconvbert import Tensor, gradcheck, nn
from minconvbert.nn import init


def names_and_shapes(module):
    return [(n, p.shape) for n, p in module.named_parameters()]


def float64_input(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def check_gradients(module, x):
    """gradcheck of module(x) with respect to x and every parameter (module converted to float64)."""
    module.to(np.float64)
    params = list(module.parameters())
    assert gradcheck(lambda x, *ps: module(x), [x, *params])


# ----- Linear ------------------------------------------------------------------------------------------
def test_linear_is_x_times_weight_transposed_plus_bias():
    lin = nn.Linear(3, 5, rng=0)
    assert names_and_shapes(lin) == [("weight", (5, 3)), ("bias", (5,))]
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-6)
    assert lin(x).dtype == np.float32


def test_linear_without_bias_and_its_initialisation_range():
    lin = nn.Linear(16, 8, bias=False, rng=0)
    assert names_and_shapes(lin) == [("weight", (8, 16))] and lin.bias is None
    assert np.abs(lin.weight.data).max() <= 1 / 4  # U(-1/sqrt(in), 1/sqrt(in)), as PyTorch
    x = np.ones((2, 16), dtype=np.float32)
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T, rtol=1e-6)


def test_linear_seeding_is_reproducible_and_weight_and_bias_are_independent_draws():
    a, b = nn.Linear(4, 4, rng=7), nn.Linear(4, 4, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.allclose(a.bias.data, a.weight.data.reshape(-1)[:4])  # not the same stream restarted


def test_linear_gradients():
    check_gradients(nn.Linear(3, 2, rng=0), float64_input(0, 3))
    check_gradients(nn.Linear(3, 2, rng=0), float64_input(2, 2, 3))


def test_linear_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(3, 4, rng=0)
    ref = torch.nn.Linear(3, 4)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in lin.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    ours_x = Tensor(x, requires_grad=True)
    out, ref_out = lin(ours_x), ref(tx)
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref_out.sum().backward()
    np.testing.assert_allclose(lin.weight.grad, ref.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lin.bias.grad, ref.bias.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----- Embedding ---------------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_the_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(6, 3, padding_idx=2, rng=0)
    assert names_and_shapes(emb) == [("weight", (6, 3))]
    assert np.all(emb.weight.data[2] == 0) and np.all(emb.weight.data[[0, 1, 3]] != 0)
    ids = np.array([[2, 5, 5], [0, 2, 1]])
    y = emb(ids)
    np.testing.assert_array_equal(y.data, emb.weight.data[ids])
    y.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [1, 1, 0, 0, 0, 2])


def test_embedding_negative_padding_idx_counts_from_the_end_and_bad_ones_are_refused():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    with pytest.raises(ValueError, match=r"Embedding: padding_idx 5 is outside \[0, 5\)"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_matches_torch_gradients_with_padding():
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(5, 3, padding_idx=1, rng=0)
    ref = torch.nn.Embedding(5, 3, padding_idx=1)
    ref.load_state_dict({"weight": torch.from_numpy(emb.weight.data.copy())})
    ids = np.array([[1, 4, 4, 0], [3, 1, 2, 2]])
    out, ref_out = emb(ids), ref(torch.from_numpy(ids))
    grad = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(grad)
    ref_out.backward(torch.from_numpy(grad))
    np.testing.assert_array_equal(out.data, ref_out.detach().numpy())
    np.testing.assert_allclose(emb.weight.grad, ref.weight.grad.numpy(), rtol=1e-6)


# ----- LayerNorm ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [1e-5, 1e-12, 0.5])
def test_layer_norm_hand_computation_with_eps(eps):
    ln = nn.LayerNorm(4, eps=eps)
    assert names_and_shapes(ln) == [("weight", (4,)), ("bias", (4,))]
    rng = np.random.default_rng(0)
    ln.weight.data = rng.standard_normal(4).astype(np.float32)
    ln.bias.data = rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x64 = x.astype(np.float64)
    mean, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    expected = (x64 - mean) / np.sqrt(var + eps) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-5, atol=1e-6)


def test_layer_norm_gradients_and_int_or_tuple_shape():
    check_gradients(nn.LayerNorm(3), float64_input(2, 3))
    assert nn.LayerNorm((3,)).weight.shape == (3,) and repr(nn.LayerNorm((3,))) == "LayerNorm((3,), eps=1e-05)"


def test_layer_norm_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(3).standard_normal((4, 8)) * 5 + 2).astype(np.float32)
    ln, ref = nn.LayerNorm(8, eps=1e-12), torch.nn.LayerNorm(8, eps=1e-12)
    tx, ox = torch.from_numpy(x).requires_grad_(), Tensor(x, requires_grad=True)
    out, ref_out = ln(ox), ref(tx)
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), atol=2e-6)
    grad = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    out.backward(grad)
    ref_out.backward(torch.from_numpy(grad))
    np.testing.assert_allclose(ox.grad, tx.grad.numpy(), atol=2e-6)
    np.testing.assert_allclose(ln.weight.grad, ref.weight.grad.numpy(), atol=1e-5)


# ----- Dropout --------------------------------------------------------------------------------------------
def test_dropout_module_draws_a_new_mask_each_call_from_its_own_seeded_generator():
    x = Tensor(np.ones(1000, dtype=np.float32))
    a, b = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    first, second = a(x).data, a(x).data
    assert not np.array_equal(first, second)  # a new mask every call
    np.testing.assert_array_equal(b(x).data, first)  # the same seed, the same sequence
    np.testing.assert_array_equal(first, (np.random.default_rng(3).random(1000) >= 0.5) * 2.0)


def test_dropout_module_in_eval_is_the_identity_and_has_no_parameters():
    d = nn.Dropout(0.9).eval()
    x = Tensor(np.arange(5.0))
    assert d(x) is x and list(d.parameters()) == []
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ----- SeparableConv1D ---------------------------------------------------------------------------------------
def separable_by_hand(x, depthwise, pointwise, bias):
    """x (B, T, C); depthwise (C, 1, K); pointwise (O, C, 1); bias (O, 1): loops, zero padding K // 2."""
    b, t, c = x.shape
    k = depthwise.shape[2]
    padded = np.zeros((b, t + 2 * (k // 2), c))
    padded[:, k // 2: k // 2 + t] = x
    mixed = np.zeros((b, t, c))
    for i in range(t):
        for j in range(k):
            mixed[:, i] += depthwise[:, 0, j] * padded[:, i + j]
    return mixed @ pointwise[:, :, 0].T + bias[:, 0]


def test_separable_conv_names_shapes_and_hand_computation():
    conv = nn.SeparableConv1D(4, 6, 3, rng=0)
    assert names_and_shapes(conv) == [("bias", (6, 1)), ("depthwise.weight", (4, 1, 3)),
                                      ("pointwise.weight", (6, 4, 1))]
    conv.bias.data = np.random.default_rng(1).standard_normal((6, 1)).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((2, 5, 4)).astype(np.float32)
    expected = separable_by_hand(x, conv.depthwise.weight.data, conv.pointwise.weight.data, conv.bias.data)
    np.testing.assert_allclose(conv(x).data, expected, rtol=1e-5, atol=1e-6)


def test_separable_conv_gradients_and_even_kernels_refused():
    check_gradients(nn.SeparableConv1D(3, 2, 5, std=0.5, rng=0), float64_input(2, 4, 3))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        nn.SeparableConv1D(3, 2, 4)


def test_separable_conv_matches_torch_conv1d_depthwise_then_pointwise():
    torch = pytest.importorskip("torch")
    conv = nn.SeparableConv1D(4, 6, 5, std=0.5, rng=0)
    conv.bias.data = np.random.default_rng(1).standard_normal((6, 1)).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((2, 7, 4)).astype(np.float32)
    depthwise = torch.nn.Conv1d(4, 4, 5, groups=4, padding=2, bias=False)
    pointwise = torch.nn.Conv1d(4, 6, 1, bias=False)
    depthwise.weight.data = torch.from_numpy(conv.depthwise.weight.data.copy())
    pointwise.weight.data = torch.from_numpy(conv.pointwise.weight.data.copy())
    ref = pointwise(depthwise(torch.from_numpy(x).transpose(1, 2))) + torch.from_numpy(conv.bias.data)
    np.testing.assert_allclose(conv(x).data, ref.transpose(1, 2).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_separable_conv_and_grouped_linear_load_into_transformers_modules_and_agree():
    torch = pytest.importorskip("torch")
    modeling = pytest.importorskip("transformers.models.convbert.modeling_convbert")
    config = pytest.importorskip("transformers").ConvBertConfig(initializer_range=0.5)
    x = np.random.default_rng(0).standard_normal((2, 7, 8)).astype(np.float32)

    conv = nn.SeparableConv1D(8, 4, 3, std=0.5, rng=1)
    conv.bias.data = np.random.default_rng(2).standard_normal((4, 1)).astype(np.float32)
    ref = modeling.SeparableConv1D(config, 8, 4, 3)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in conv.state_dict().items()}, strict=True)
    expected = ref(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2)  # transformers works on (B, C, T)
    np.testing.assert_allclose(conv(x).data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)

    grouped = nn.GroupedLinear(8, 12, 4, std=0.5, rng=3)
    grouped.bias.data = np.random.default_rng(4).standard_normal(12).astype(np.float32)
    ref = modeling.GroupedLinearLayer(8, 12, 4)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in grouped.state_dict().items()}, strict=True)
    np.testing.assert_allclose(grouped(x).data, ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ----- GroupedLinear ---------------------------------------------------------------------------------------
def test_grouped_linear_names_shapes_and_hand_computation():
    layer = nn.GroupedLinear(6, 4, 2, std=1.0, rng=0)
    assert names_and_shapes(layer) == [("weight", (2, 3, 2)), ("bias", (4,))]
    layer.bias.data = np.arange(4.0, dtype=np.float32)
    x = np.random.default_rng(1).standard_normal((2, 5, 6)).astype(np.float32)
    w = layer.weight.data
    expected = np.concatenate([x[..., :3] @ w[0], x[..., 3:] @ w[1]], axis=-1) + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-5, atol=1e-6)
    assert layer.num_parameters() == 6 * 4 // 2 + 4


def test_grouped_linear_gradients_and_indivisible_sizes_refused():
    check_gradients(nn.GroupedLinear(4, 6, 2, std=1.0, rng=0), float64_input(2, 3, 4))
    with pytest.raises(ValueError, match="input_size 5 and output_size 6 must both divide into num_groups=2"):
        nn.GroupedLinear(5, 6, 2)


# ----- init helpers ----------------------------------------------------------------------------------------
def test_normal_init_statistics_dtype_and_reproducibility():
    p = nn.Parameter(np.zeros((300, 300), dtype=np.float32))
    assert init.normal_(p, std=0.02, mean=1.0, rng=0) is p and p.dtype == np.float32
    assert abs(p.data.mean() - 1.0) < 0.001 and abs(p.data.std() - 0.02) < 0.001
    q = init.normal_(nn.Parameter(np.zeros((300, 300), dtype=np.float32)), std=0.02, mean=1.0, rng=0)
    np.testing.assert_array_equal(p.data, q.data)


def test_uniform_zeros_ones_and_the_default_generator():
    p = init.uniform_(nn.Parameter(np.zeros(10_000)), -0.5, 0.25, rng=1)
    assert p.data.min() >= -0.5 and p.data.max() < 0.25 and abs(p.data.mean() + 0.125) < 0.01
    assert np.all(init.zeros_(p).data == 0) and np.all(init.ones_(p).data == 1) and p.dtype == np.float64
    mc.manual_seed(5)
    a = init.normal_(nn.Parameter(np.zeros(4)), 1.0).data
    mc.manual_seed(5)
    np.testing.assert_array_equal(init.normal_(nn.Parameter(np.zeros(4)), 1.0).data, a)


def test_identity_returns_its_input():
    x = Tensor([1.0])
    assert nn.Identity()(x) is x
