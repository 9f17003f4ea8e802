"""ConvBERT model behaviour beyond parity: names, initialisation, inputs, masks, ablations, dropout, gradcheck."""

import numpy as np
import pytest

import minconvbert
from minconvbert import (
    ConvBertConfig,
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
    ConvBertModel,
    Tensor,
)
from tests.models import parity

CLASSES = [ConvBertModel, ConvBertForMaskedLM, ConvBertForSequenceClassification, ConvBertForMultipleChoice,
           ConvBertForTokenClassification, ConvBertForQuestionAnswering]
SMALL = dict(parity.TINY)


def small_config(**overrides):
    return ConvBertConfig(**{**SMALL, **overrides})


# ----- names and initialisation ------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_parameter_names_equal_reference_state_dict_keys(cls):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    config = dict(SMALL, num_groups=2)
    ref = getattr(transformers, cls.__name__)(transformers.ConvBertConfig(**config))
    ours = cls(ConvBertConfig(**config))
    assert list(ours.state_dict()) == list(ref.state_dict())  # same keys, same order
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert p.shape == tuple(q.shape), name


def test_masked_lm_head_is_tied_to_word_embeddings():
    model = ConvBertForMaskedLM(small_config())
    assert model.generator_lm_head.weight is model.convbert.embeddings.word_embeddings.weight
    names = [n for n, _ in model.named_parameters()]
    assert "generator_lm_head.weight" not in names and "generator_lm_head.bias" in names
    assert "generator_lm_head.weight" in model.state_dict()


def test_initialisation_follows_the_reference_distributions():
    config = ConvBertConfig.from_preset("conv-bert-small", num_hidden_layers=2, initializer_range=0.05)
    model = ConvBertForMaskedLM(config, rng=0)
    params = dict(model.named_parameters())
    for name, p in params.items():
        if name.endswith("LayerNorm.weight"):
            assert np.all(p.data == 1), name
        elif name.endswith("bias"):
            assert np.all(p.data == 0), name
        else:
            values = p.data.reshape(-1)
            if name.endswith("word_embeddings.weight"):
                assert np.all(p.data[config.pad_token_id] == 0)
                values = np.delete(p.data, config.pad_token_id, axis=0).reshape(-1)
            assert abs(values.mean()) < 4 * 0.05 / np.sqrt(values.size) + 1e-3, name
            assert abs(values.std() - 0.05) < 0.05 * 0.2, name


def test_seeded_construction_is_reproducible():
    a, b = ConvBertModel(small_config(), rng=3), ConvBertModel(small_config(), rng=3)
    c = ConvBertModel(small_config(), rng=4)
    for (name, p), (_, q), (_, r) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert any(not np.array_equal(p.data, r.data) for p, r in zip(a.parameters(), c.parameters()))


# ----- the public API ----------------------------------------------------------------------
def test_numpy_in_tensors_out_and_float64():
    model = ConvBertForSequenceClassification(small_config(num_labels=3)).eval()
    ids = np.array([[2, 5, 9, 1]])
    out = model(input_ids=ids)
    assert isinstance(out.logits, Tensor) and out.logits.dtype == np.float32
    assert np.asarray(out.logits).shape == (1, 3) and out[0] is out.logits and out["logits"] is out.logits
    assert model.to(np.float64) is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    out64 = model(input_ids=ids)
    assert out64.logits.dtype == np.float64
    np.testing.assert_allclose(out64.logits.data, out.logits.data, atol=1e-5)


def test_output_records_have_the_documented_shapes():
    config = small_config()
    model = ConvBertModel(config).eval()
    out = model(input_ids=np.ones((2, 6), dtype=np.int64), output_attentions=True, output_hidden_states=True,
                output_conv_kernels=True)
    H, K = config.heads_per_kind, config.conv_kernel_size
    assert len(out.hidden_states) == config.num_hidden_layers + 1
    assert out.hidden_states[-1] is out.last_hidden_state
    assert [a.shape for a in out.attentions] == [(2, H, 6, 6)] * config.num_hidden_layers
    assert [k.shape for k in out.conv_kernels] == [(2, H, 6, K)] * config.num_hidden_layers
    for kernels in out.conv_kernels:
        np.testing.assert_allclose(kernels.data.sum(-1), 1.0, atol=1e-6)  # softmax over the span
    plain = model(input_ids=np.ones((2, 6), dtype=np.int64))
    assert plain.hidden_states is None and plain.attentions is None and plain.conv_kernels is None


def test_attention_mask_of_ones_equals_no_mask():
    model = ConvBertModel(small_config()).eval()
    ids = np.array([[3, 4, 5, 6, 7]])
    a = model(input_ids=ids).last_hidden_state.data
    b = model(input_ids=ids, attention_mask=np.ones((1, 5), dtype=np.int64)).last_hidden_state.data
    np.testing.assert_array_equal(a, b)


# ----- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,error,message", [
    (dict(input_ids=np.array([[1, 40]])), ValueError, "input_ids: value 40 is outside \\[0, 40\\)"),
    (dict(input_ids=np.array([[1, -1]])), ValueError, "input_ids: value -1 is outside"),
    (dict(input_ids=np.array([1, 2, 3])), ValueError, "input_ids: expected shape \\(batch, seq\\)"),
    (dict(input_ids=np.array([[1.0, 2.0]])), TypeError, "input_ids: expected integers"),
    (dict(input_ids=np.ones((1, 33), dtype=np.int64)), ValueError, "sequence length 33 exceeds max_position"),
    (dict(), ValueError, "exactly one of input_ids"),
    (dict(input_ids=np.ones((1, 3), dtype=np.int64), inputs_embeds=np.zeros((1, 3, 8))), ValueError,
     "exactly one of input_ids"),
    (dict(inputs_embeds=np.zeros((1, 3, 7))), ValueError, "inputs_embeds: expected shape \\(batch, seq, 8\\)"),
    (dict(input_ids=np.ones((2, 3), dtype=np.int64), attention_mask=np.ones((2, 4))), ValueError,
     "attention_mask: expected shape \\(2, 3\\)"),
    (dict(input_ids=np.ones((2, 3), dtype=np.int64), token_type_ids=np.full((2, 3), 2)), ValueError,
     "token_type_ids: value 2 is outside \\[0, 2\\)"),
    (dict(input_ids=np.ones((2, 3), dtype=np.int64), token_type_ids=np.zeros((2, 4), np.int64)), ValueError,
     "token_type_ids: expected shape \\(2, 3\\)"),
    (dict(input_ids=np.ones((1, 3), dtype=np.int64), position_ids=np.array([[0, 1, 32]])), ValueError,
     "position_ids: value 32 is outside"),
    (dict(input_ids=np.ones((1, 3), dtype=np.int64), head_mask=np.ones(3)), ValueError,
     "head_mask: expected shape \\(2,\\) or \\(2, 2\\)"),
])
def test_bad_inputs_raise_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        ConvBertModel(small_config())(**kwargs)


def test_bad_labels_and_arguments():
    mlm = ConvBertForMaskedLM(small_config())
    with pytest.raises(ValueError, match="labels: expected shape \\(1, 3\\)"):
        mlm(input_ids=np.ones((1, 3), np.int64), labels=np.ones((1, 4), np.int64))
    with pytest.raises(ValueError, match="target 99 is outside"):
        mlm(input_ids=np.ones((1, 3), np.int64), labels=np.array([[1, 99, -100]]))
    with pytest.raises(TypeError, match="unexpected arguments \\['lables'\\]"):
        mlm(input_ids=np.ones((1, 3), np.int64), lables=np.ones((1, 3), np.int64))
    with pytest.raises(ValueError, match="num_labels must be 2"):
        ConvBertForQuestionAnswering(small_config(num_labels=3))
    with pytest.raises(ValueError, match="expected 3 dimensions"):
        ConvBertForMultipleChoice(small_config())(input_ids=np.ones((2, 3), np.int64))
    with pytest.raises(TypeError, match="config must be a ConvBertConfig"):
        ConvBertModel(dict(SMALL))


# ----- the convolution branch and padding --------------------------------------------------------
def _padded_vs_unpadded(mask_conv_padding, left=False):
    """Max difference on the real tokens between a sequence alone and the same sequence padded by 3."""
    model = ConvBertModel(small_config(mask_conv_padding=mask_conv_padding), rng=1).eval()
    ids = np.array([[5, 6, 7, 8, 9]])
    alone = model(input_ids=ids).last_hidden_state.data[0]  # (5, C)
    pad = np.array([[11, 12, 13]])  # non-zero ids, so the padding embeddings are not zero
    if left:
        padded, mask, positions, real = np.concatenate([pad, ids], 1), [0, 0, 0, 1, 1, 1, 1, 1], [5, 6, 7, 0, 1, 2, 3, 4], slice(3, 8)
    else:
        padded, mask, positions, real = np.concatenate([ids, pad], 1), [1, 1, 1, 1, 1, 0, 0, 0], list(range(8)), slice(0, 5)
    out = model(input_ids=padded, attention_mask=np.array([mask]), position_ids=np.array([positions]))
    return np.abs(out.last_hidden_state.data[0, real] - alone).max()


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
def test_padding_leaks_into_the_convolution_branch_like_the_reference(left):
    assert _padded_vs_unpadded(False, left) > 1e-3  # the reference's behaviour, kept by default


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
def test_mask_conv_padding_makes_padding_invisible(left):
    assert _padded_vs_unpadded(True, left) < 1e-5


def test_padding_leak_matches_the_reference_behaviour():
    """The reference, too, changes real tokens' outputs when padding is appended (measured live)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    ref = transformers.ConvBertModel(transformers.ConvBertConfig(**SMALL)).eval()
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    padded = torch.tensor([[5, 6, 7, 8, 9, 11, 12, 13]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0, 0]])
    with torch.no_grad():
        leak = (ref(ids).last_hidden_state[0] - ref(padded, attention_mask=mask).last_hidden_state[0, :5]).abs().max()
    assert float(leak) > 1e-3


# ----- head ablations --------------------------------------------------------------------------
def _zero_rows(model, layer, module, head):
    """Zero the output rows of `module` (value or conv_out_layer) that feed head `head` of `layer`."""
    attention = model.encoder.layer[layer].attention.self
    D = attention.attention_head_size
    linear = getattr(attention, module)
    linear.weight.data[head * D:(head + 1) * D] = 0
    linear.bias.data[head * D:(head + 1) * D] = 0


@pytest.mark.parametrize("kind,module", [("head_mask", "value"), ("conv_head_mask", "conv_out_layer")])
def test_head_masks_switch_single_heads_off(kind, module):
    config = small_config(num_attention_heads=8)  # 4 attention heads, 4 conv heads, D = 2
    ids = np.array([[3, 9, 4, 7, 1, 6]])
    model = ConvBertModel(config, rng=2).eval()
    mask = np.ones((config.num_hidden_layers, config.heads_per_kind))
    mask[1, 2] = 0
    masked = model(input_ids=ids, **{kind: mask}).last_hidden_state.data
    full = model(input_ids=ids).last_hidden_state.data
    ones = model(input_ids=ids, **{kind: np.ones(config.heads_per_kind)}).last_hidden_state.data
    np.testing.assert_array_equal(ones, full)
    assert np.abs(masked - full).max() > 1e-4
    # switching the head off equals zeroing the weights that produce its values
    _zero_rows(model, 1, module, 2)
    np.testing.assert_allclose(model(input_ids=ids).last_hidden_state.data, masked, atol=1e-6)


# ----- dropout -----------------------------------------------------------------------------------
def test_eval_is_deterministic_and_train_is_not():
    model = ConvBertForMaskedLM(small_config(hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2), rng=0)
    ids = np.array([[3, 9, 4, 7, 1, 6]])
    model.eval()
    np.testing.assert_array_equal(model(input_ids=ids).logits.data, model(input_ids=ids).logits.data)
    model.train()
    minconvbert.manual_seed(0)
    a = model(input_ids=ids).logits.data
    b = model(input_ids=ids).logits.data
    minconvbert.manual_seed(0)
    np.testing.assert_array_equal(model(input_ids=ids).logits.data, a)  # seeded: reproducible
    assert np.abs(a - b).max() > 1e-4
    zero = ConvBertForMaskedLM(small_config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0), rng=0)
    np.testing.assert_array_equal(zero.train()(input_ids=ids).logits.data, zero.eval()(input_ids=ids).logits.data)


def test_train_mode_loss_distribution_matches_the_reference():
    """Dropout streams differ, so compare statistics: the mean train-mode loss over many draws."""
    torch = pytest.importorskip("torch")
    case = parity.Case({**SMALL, "hidden_dropout_prob": 0.3, "attention_probs_dropout_prob": 0.3}, batch=4, seq=8)
    inputs = parity.make_inputs(case, "masked_lm")
    ref = parity.build_reference("masked_lm", case.config).train()
    ours = parity.build_ours("masked_lm", case.config, parity.reference_weights(ref), np.float32).train()
    torch.manual_seed(0)
    minconvbert.manual_seed(0)
    args = {k: torch.tensor(v) for k, v in inputs.items()}
    with torch.no_grad():
        ref_losses = np.array([ref(**args).loss.item() for _ in range(300)])
    our_losses = np.array([ours(**inputs).loss.item() for _ in range(300)])
    eval_loss = ours.eval()(**inputs).loss.item()
    assert ref_losses.std() > 1e-3 and our_losses.std() > 1e-3  # dropout is active on both sides
    stderr = np.sqrt(ref_losses.var() / 300 + our_losses.var() / 300)
    assert abs(ref_losses.mean() - our_losses.mean()) < 4 * stderr
    assert abs(np.log(our_losses.std() / ref_losses.std())) < 0.25
    assert abs(our_losses.mean() - eval_loss) < 10 * our_losses.std()


# ----- gradients of whole models -------------------------------------------------------------
MICRO = dict(vocab_size=12, hidden_size=8, num_hidden_layers=1, num_attention_heads=4, intermediate_size=8,
             embedding_size=4, max_position_embeddings=8, conv_kernel_size=3, pad_token_id=0, num_groups=2)


def _micro_loss(cls):
    config = ConvBertConfig(**MICRO, **({"num_labels": 2} if cls is not ConvBertModel else {}))
    model = cls(config, rng=5).to(np.float64).eval()
    for p in model.parameters():  # non-trivial LayerNorm and bias values
        p.data = p.data + np.random.default_rng(7).normal(0, 0.3, p.shape)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 12, (2, 3, 4) if cls is ConvBertForMultipleChoice else (2, 4))
    mask = np.ones(ids.shape, dtype=np.int64)
    mask[..., -1] = 0
    labels = {
        ConvBertForMaskedLM: dict(labels=np.array([[1, -100, 3, 4], [5, 6, -100, 8]])),
        ConvBertForSequenceClassification: dict(labels=np.array([0, 1])),
        ConvBertForMultipleChoice: dict(labels=np.array([2, 0])),
        ConvBertForTokenClassification: dict(labels=np.array([[0, 1, -100, 1], [1, 1, 0, 0]])),
        ConvBertForQuestionAnswering: dict(start_positions=np.array([1, 9]), end_positions=np.array([3, 0])),
    }.get(cls, {})
    direction = rng.standard_normal((2, 4, 8))

    def loss(*_params):
        out = model(input_ids=ids, attention_mask=mask, **labels)
        return out.loss if cls is not ConvBertModel else (out.last_hidden_state * direction).sum()

    return model, loss


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_whole_model_gradcheck(cls):
    model, loss = _micro_loss(cls)
    assert minconvbert.gradcheck(loss, list(model.parameters()), atol=1e-7, rtol=1e-5)
