"""Initialisation: one generator per model, every weight drawn once, nothing drawn for what a checkpoint holds."""

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
    nn,
)
from minconvbert.models.convbert.pretraining import ConvBertForPreTraining
from minconvbert.random import default_generator
from minconvbert.train.electra import ElectraPretraining
from tests.models import parity

CLASSES = [ConvBertModel, ConvBertForMaskedLM, ConvBertForSequenceClassification, ConvBertForMultipleChoice,
           ConvBertForTokenClassification, ConvBertForQuestionAnswering, ConvBertForPreTraining]


def config(**overrides):
    return ConvBertConfig(**{**parity.TINY, "num_hidden_layers": 3, **overrides})


class CountingGenerator:
    """A numpy Generator that counts how many values each parameter-sized request drew."""

    def __init__(self, seed=0):
        self.generator = np.random.default_rng(seed)
        self.drawn = 0

    def standard_normal(self, shape):
        self.drawn += int(np.prod(shape))
        return self.generator.standard_normal(shape)

    def uniform(self, low, high, shape):
        self.drawn += int(np.prod(shape))
        return self.generator.uniform(low, high, shape)


def random_weights(model):
    """The parameters the reference draws at random (weight matrices, embeddings, conv filters)."""
    return [(n, p) for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]


def generator_state():
    return default_generator().bit_generator.state


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_same_shaped_weights_of_one_model_differ_under_an_int_seed(cls):
    model = cls(config(), rng=0)
    by_shape = {}
    for name, p in random_weights(model):
        by_shape.setdefault(p.shape, []).append((name, p.data))
    pairs = 0
    for group in by_shape.values():
        for i, (name_a, a) in enumerate(group):
            for name_b, b in group[i + 1:]:
                pairs += 1
                assert not np.array_equal(a, b), f"{name_a} == {name_b}"
    assert pairs > 10  # q/k/v and every layer against every other


def test_query_key_value_differ_and_layers_differ_from_each_other():
    model = ConvBertForMaskedLM(config(), rng=0)
    layers = model.convbert.encoder.layer
    attention = layers[0].attention.self
    assert not np.array_equal(attention.query.weight.data, attention.key.weight.data)
    assert not np.array_equal(attention.key.weight.data, attention.value.weight.data)
    for i in range(len(layers)):
        for j in range(i + 1, len(layers)):
            a, b = layers[i].state_dict(), layers[j].state_dict()
            differing = [k for k in a if not np.array_equal(a[k], b[k])]
            assert differing, f"layer {i} equals layer {j}"
            assert all(k.endswith("bias") or "LayerNorm" in k for k in a if k not in differing)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_weight_is_drawn_once_from_the_given_generator(cls):
    before = generator_state()
    rng = CountingGenerator()
    model = cls(config(), rng=rng)
    assert generator_state() == before  # nothing drawn from the package's default generator
    assert rng.drawn == sum(p.size for _, p in random_weights(model))  # encoder included, each value once


def test_the_same_seed_reproduces_the_model_and_another_seed_does_not():
    a, b, c = (ConvBertForSequenceClassification(config(), rng=seed) for seed in (3, 3, 4))
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert all(not np.array_equal(p.data, r.data) for (_, p), (_, r) in zip(random_weights(a), random_weights(c)))


def test_a_generator_and_its_seed_give_the_same_model():
    a = ConvBertModel(config(), rng=7)
    b = ConvBertModel(config(), rng=np.random.default_rng(7))
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_without_rng_the_default_generator_is_used_and_manual_seed_reproduces():
    minconvbert.manual_seed(11)
    a = ConvBertModel(config())
    minconvbert.manual_seed(11)
    b = ConvBertModel(config())
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_electra_generator_and_discriminator_draw_different_weights():
    model = ElectraPretraining(config(), generator=config(), rng=0)  # same sizes: every weight comparable
    disc = dict(random_weights(model.discriminator.convbert))
    gen = dict(random_weights(model.generator.convbert))
    shared = [n for n in disc if n.startswith("embeddings.")]  # the generator uses the discriminator's
    compared = [n for n in disc if n in gen and n not in shared and disc[n].shape == gen[n].shape]
    assert compared
    for name in compared:
        assert not np.array_equal(disc[name].data, gen[name].data), name


def test_a_standalone_layer_still_draws_at_construction():
    layer = nn.Linear(4, 3, rng=0)
    assert np.abs(layer.weight.data).max() > 0 and np.abs(layer.bias.data).max() > 0
    with nn.init.deferred():
        empty = nn.Linear(4, 3, rng=0)
    assert not empty.weight.data.any() and not empty.bias.data.any()
    assert not nn.init.is_deferred()


@pytest.mark.parametrize("cls", [ConvBertModel, ConvBertForMaskedLM, ConvBertForTokenClassification],
                         ids=lambda c: c.__name__)
def test_from_pretrained_draws_nothing_when_the_checkpoint_has_every_weight(cls, tmp_path):
    saved = cls(config(), rng=0)
    saved.save_pretrained(tmp_path)
    before = generator_state()
    loaded = cls.from_pretrained(tmp_path)
    assert generator_state() == before
    for (name, p), (_, q) in zip(saved.named_parameters(), loaded.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_from_pretrained_initialises_only_the_missing_head(tmp_path):
    encoder = ConvBertModel(config(), rng=0)
    encoder.save_pretrained(tmp_path)
    with pytest.warns(UserWarning, match="missing keys"):
        a = ConvBertForSequenceClassification.from_pretrained(tmp_path, rng=5)
    with pytest.warns(UserWarning, match="missing keys"):
        b = ConvBertForSequenceClassification.from_pretrained(tmp_path, rng=np.random.default_rng(5))
    rng = CountingGenerator(5)
    with pytest.warns(UserWarning, match="missing keys"):
        ConvBertForSequenceClassification.from_pretrained(tmp_path, rng=rng)
    head = dict(a.classifier.named_parameters())
    assert rng.drawn == head["dense.weight"].size + head["out_proj.weight"].size  # the head only
    np.testing.assert_array_equal(a.classifier.dense.weight.data, b.classifier.dense.weight.data)
    assert abs(a.classifier.dense.weight.data.std() - 0.02) < 0.01
    assert not a.classifier.dense.bias.data.any()
    for name, p in encoder.named_parameters():
        np.testing.assert_array_equal(p.data, dict(a.convbert.named_parameters())[name].data, err_msg=name)
