"""minconvbert.analysis against hand computations on small arrays, and on tiny random models."""

import math

import numpy as np
import pytest

from minconvbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertModel, Tensor
from minconvbert import analysis as A
from minconvbert import functional as F


def tiny_config(**overrides):
    values = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
                  embedding_size=8, conv_kernel_size=5, max_position_embeddings=32, pad_token_id=0,
                  initializer_range=0.3)
    values.update(overrides)
    return ConvBertConfig(**values)


def tiny_mlm(**overrides):
    return ConvBertForMaskedLM(tiny_config(**overrides), rng=0).to(np.float64).eval()


def mlm_batch(seed=0, batch=2, seq=10):
    rng = np.random.default_rng(seed)
    return {"input_ids": rng.integers(1, 40, (batch, seq)), "labels": rng.integers(1, 40, (batch, seq))}


# ----- kernels_to_matrix --------------------------------------------------------------------------
def test_kernels_to_matrix_by_hand():
    kernels = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25], [0.6, 0.3, 0.1]])  # (T=4, K=3)
    expected = np.array([
        [0.2, 0.7, 0.0, 0.0],  # kernel[0, 0] falls before the sequence
        [0.3, 0.3, 0.4, 0.0],
        [0.0, 0.5, 0.25, 0.25],
        [0.0, 0.0, 0.6, 0.3],  # kernel[3, 2] falls after it
    ])  # fmt: skip
    np.testing.assert_array_equal(A.kernels_to_matrix(kernels), expected)


def test_kernels_to_matrix_kernel_longer_than_sequence():
    kernels = np.arange(10.0).reshape(2, 5)  # T=2, K=5: offsets -2..2, only -1..1 can land
    # row 0: offsets 0, 1 -> k = 2, 3;  row 1: offsets -1, 0 -> k = 1, 2
    np.testing.assert_array_equal(A.kernels_to_matrix(kernels), [[2.0, 3.0], [6.0, 7.0]])


def test_kernels_to_matrix_k1_is_diagonal():
    kernels = np.array([[0.5], [2.0], [3.0]])  # (T=3, K=1)
    np.testing.assert_array_equal(A.kernels_to_matrix(kernels), np.diag([0.5, 2.0, 3.0]))


def test_kernels_to_matrix_single_position():
    np.testing.assert_array_equal(A.kernels_to_matrix(np.array([[0.2, 0.5, 0.3]])), [[0.5]])


def test_kernels_to_matrix_applies_like_span_conv():
    # matrix @ values must equal the model's span-based dynamic convolution, head by head
    rng = np.random.default_rng(1)
    B, T, H, D, K = 2, 6, 3, 4, 5
    values = rng.normal(size=(B, T, H, D))
    kernels = rng.normal(size=(B, T, H, K))
    conv = F.span_conv(Tensor(values), Tensor(kernels)).data  # (B, T, H, D)
    matrices = A.kernels_to_matrix(kernels.transpose(0, 2, 1, 3))  # (B, H, T, T)
    mixed = np.einsum("bhts,bshd->bthd", matrices, values)
    np.testing.assert_allclose(mixed, conv, rtol=1e-12, atol=1e-12)


def test_kernels_to_matrix_bad_input():
    with pytest.raises(ValueError, match="kernels"):
        A.kernels_to_matrix(np.ones(3))
    with pytest.raises(ValueError, match="at least 1"):
        A.kernels_to_matrix(np.ones((3, 0)))
    with pytest.raises(TypeError, match="kernels"):
        A.kernels_to_matrix(np.array([["a"]]))


# ----- distances and entropy ----------------------------------------------------------------------
def one_hot_attention(T, offset):
    """(1, 1, T, T): each query i looks only at i + offset (or i - offset where that runs off the end)."""
    assert T >= 2 * offset  # so that one of the two always lands inside
    probs = np.zeros((1, 1, T, T))
    for i in range(T):
        j = i + offset if i + offset < T else i - offset
        probs[0, 0, i, j] = 1.0
    return probs


def test_mean_attention_distance_one_hot():
    np.testing.assert_allclose(A.mean_attention_distance(one_hot_attention(7, 2)), [2.0])
    np.testing.assert_allclose(A.mean_attention_distance(one_hot_attention(7, 0)), [0.0])


def test_mean_attention_distance_uniform_by_hand():
    probs = np.full((1, 1, 3, 3), 1 / 3)
    # rows: (0+1+2)/3, (1+0+1)/3, (2+1+0)/3 -> mean 8/9
    np.testing.assert_allclose(A.mean_attention_distance(probs), [8 / 9])


def test_mean_attention_distance_skips_padded_queries_and_stacks_layers():
    probs = np.concatenate([one_hot_attention(7, 1), one_hot_attention(7, 3)], axis=1)  # (1, 2, 7, 7)
    probs[0, :, 6] = 0.0
    probs[0, :, 6, 0] = 1.0  # the last query looks 6 back in both heads; mask it out
    mask = np.array([[1, 1, 1, 1, 1, 1, 0]])
    np.testing.assert_allclose(A.mean_attention_distance(probs, attention_mask=mask), [1.0, 3.0])
    both = A.mean_attention_distance([probs, probs[:, ::-1]], attention_mask=mask)  # a list of layers
    np.testing.assert_allclose(both, [[1.0, 3.0], [3.0, 1.0]])


def test_mean_attention_distance_bad_input():
    with pytest.raises(ValueError, match="attentions"):
        A.mean_attention_distance(np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="attention_mask"):
        A.mean_attention_distance(np.ones((1, 1, 3, 3)), attention_mask=np.ones((1, 4)))
    with pytest.raises(ValueError, match="every position is masked"):
        A.mean_attention_distance(np.ones((1, 1, 3, 3)), attention_mask=np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"attentions\[1\]"):
        A.mean_attention_distance([np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4))])


def test_mean_kernel_distance_by_hand():
    T, K = 4, 5
    kernels = np.zeros((1, 3, T, K))
    kernels[0, 0, :, 0] = 1.0  # always two to the left
    kernels[0, 1, :, 2] = 1.0  # always the position itself
    kernels[0, 2] = 1 / K  # uniform: (2 + 1 + 0 + 1 + 2) / 5
    np.testing.assert_allclose(A.mean_kernel_distance(kernels), [2.0, 0.0, 6 / 5])


def test_conv_and_attention_distances_agree_inside_the_sequence():
    # a kernel and the attention map it expands to have the same expected distance when the
    # kernel stays inside the sequence (here: every weight on offset +1, last row on offset -1)
    T, K = 6, 3
    kernels = np.zeros((1, 1, T, K))
    kernels[0, 0, :-1, 2] = 1.0
    kernels[0, 0, -1, 0] = 1.0
    as_attention = A.kernels_to_matrix(kernels)  # (1, 1, T, T)
    np.testing.assert_allclose(A.mean_kernel_distance(kernels), A.mean_attention_distance(as_attention))


def test_attention_entropy_by_hand():
    probs = np.zeros((1, 2, 4, 4))
    probs[0, 0, np.arange(4), np.arange(4)] = 1.0  # one-hot rows: entropy 0
    probs[0, 1, :, :2] = 0.5  # two equal weights: log 2
    np.testing.assert_allclose(A.attention_entropy(probs), [0.0, math.log(2)], atol=1e-15)
    kernels = np.full((1, 1, 3, 5), 0.2)  # conv kernels work too: log 5
    np.testing.assert_allclose(A.attention_entropy(kernels), [math.log(5)])
    probs[0, 1, 3] = [0.25, 0.25, 0.25, 0.25]  # a padded query with a different entropy is left out
    np.testing.assert_allclose(A.attention_entropy(probs, attention_mask=[[1, 1, 1, 0]]), [0.0, math.log(2)],
                               atol=1e-15)


def test_distances_on_a_model_output():
    model = ConvBertModel(tiny_config(conv_kernel_size=3), rng=0).eval()
    ids = np.random.default_rng(0).integers(1, 40, (2, 9))
    out = model(input_ids=ids, output_attentions=True, output_conv_kernels=True)
    attention = A.mean_attention_distance(out.attentions)
    conv = A.mean_kernel_distance(out.conv_kernels)
    assert attention.shape == conv.shape == (2, 2)
    assert np.all((attention > 0) & (attention < 8))
    assert np.all((conv >= 0) & (conv <= 1))  # K = 3 reaches one position each way


# ----- head ablation ------------------------------------------------------------------------------
def loss_of(model, batch, **kwargs):
    return float(model(**batch, **kwargs).loss.item())


def test_head_ablation_changes_the_loss_and_matches_single_runs():
    model, batch = tiny_mlm(), mlm_batch()
    result = A.head_ablation(model, batch)
    L, H = 2, 2
    assert result.attention.shape == result.conv.shape == (L, H)
    assert result.base_loss == pytest.approx(loss_of(model, batch), rel=1e-12)
    assert np.all(np.abs(result.attention) > 1e-6) and np.all(np.abs(result.conv) > 1e-6)
    mask = np.ones((L, H))
    mask[1, 0] = 0
    assert result["attention", 1, 0] == pytest.approx(loss_of(model, batch, head_mask=mask) - result.base_loss)
    assert result["conv", 1, 0] == pytest.approx(loss_of(model, batch, conv_head_mask=mask) - result.base_loss)
    keys = [key for key, _ in result.items()]
    assert keys[0] == ("attention", 0, 0) and keys[-1] == ("conv", 1, 1) and len(keys) == 2 * L * H


def test_head_ablation_same_as_zeroing_the_heads_output_weights():
    # switching a head off by mask and by zeroing the weights that produce its values must agree
    batch = mlm_batch(seed=3)
    model = tiny_mlm()
    result = A.head_ablation(model, batch)
    D = model.config.attention_head_size
    for kind, module_name in (("attention", "value"), ("conv", "conv_out_layer")):
        zeroed = tiny_mlm()
        linear = getattr(zeroed.convbert.encoder.layer[0].attention.self, module_name)
        linear.weight.data[1 * D : 2 * D] = 0.0  # head 1's rows
        linear.bias.data[1 * D : 2 * D] = 0.0
        expected = loss_of(zeroed, batch) - result.base_loss
        assert result[kind, 0, 1] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_head_ablation_dead_heads_change_nothing():
    model = tiny_mlm()
    self_attention = model.convbert.encoder.layer[1].attention.self
    D = model.config.attention_head_size
    self_attention.value.weight.data[:D] = 0.0  # attention head 0 of layer 1 outputs zeros
    self_attention.value.bias.data[:D] = 0.0
    self_attention.conv_out_layer.weight.data[D:] = 0.0  # conv head 1 of layer 1 outputs zeros
    self_attention.conv_out_layer.bias.data[D:] = 0.0
    result = A.head_ablation(model, mlm_batch())
    assert abs(result["attention", 1, 0]) < 1e-12
    assert abs(result["conv", 1, 1]) < 1e-12
    assert abs(result["attention", 1, 1]) > 1e-6 and abs(result["conv", 1, 0]) > 1e-6


def test_head_ablation_custom_loss_and_mode_restored():
    model = ConvBertModel(tiny_config(), rng=0).to(np.float64)
    model.train()
    batch = {"input_ids": mlm_batch()["input_ids"]}
    result = A.head_ablation(model, batch, loss_fn=lambda out, b: (out.last_hidden_state ** 2).mean())
    assert model.training  # restored
    assert result.attention.shape == (2, 2) and np.all(np.abs(result.attention) > 0)


def test_head_ablation_errors():
    model = tiny_mlm()
    with pytest.raises(ValueError, match="no loss"):
        A.head_ablation(model, {"input_ids": mlm_batch()["input_ids"]})
    with pytest.raises(ValueError, match="head_mask"):
        A.head_ablation(model, {**mlm_batch(), "head_mask": np.ones(2)})
    with pytest.raises(TypeError, match="batch"):
        A.head_ablation(model, [1, 2, 3])
    with pytest.raises(KeyError, match="kind"):
        A.head_ablation(model, mlm_batch())["value", 0, 0]


# ----- the padding leak ---------------------------------------------------------------------------
def test_padding_leak_by_default_and_gone_with_mask_conv_padding():
    ids = mlm_batch()["input_ids"]
    leaky = tiny_mlm()
    assert A.padding_leak(leaky, ids, pad_length=3) > 1e-4
    sealed = tiny_mlm(mask_conv_padding=True)
    assert A.padding_leak(sealed, ids, pad_length=3) < 1e-10
    assert A.padding_leak(sealed, ids[0], pad_length=1) < 1e-10  # a single (T,) sequence


def test_padding_leak_reaches_only_through_the_convolution():
    # with kernel size 1 the convolution sees no neighbours: the padding cannot leak, even unmasked
    model = tiny_mlm(conv_kernel_size=1)
    assert A.padding_leak(model, mlm_batch()["input_ids"], pad_length=4) < 1e-10


def test_padding_leak_errors():
    model = tiny_mlm()
    with pytest.raises(ValueError, match="pad_length"):
        A.padding_leak(model, np.ones((1, 3), dtype=np.int64), pad_length=0)
    with pytest.raises(ValueError, match="input_ids"):
        A.padding_leak(model, np.ones((1, 1, 3), dtype=np.int64), pad_length=2)
