"""ConvBertConfig: defaults, presets and parameter counts, JSON round trips, validation."""

import json

import numpy as np
import pytest

from minconvbert import ConvBertConfig, ConvBertModel


def test_defaults_match_the_reference_class():
    transformers = pytest.importorskip("transformers")
    ref = transformers.ConvBertConfig()
    ours = ConvBertConfig()
    fields = list(transformers.ConvBertConfig.__annotations__) + ["num_labels", "id2label", "label2id", "problem_type"]
    assert len(fields) > 20
    for key in fields:
        assert getattr(ours, key) == getattr(ref, key), f"{key}: ours {getattr(ours, key)!r} != {getattr(ref, key)!r}"


def test_documented_defaults():
    c = ConvBertConfig()
    assert (c.vocab_size, c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size) == (
        30522, 768, 12, 12, 3072)
    assert (c.hidden_act, c.max_position_embeddings, c.type_vocab_size, c.initializer_range) == ("gelu", 512, 2, 0.02)
    assert (c.layer_norm_eps, c.head_ratio, c.num_groups, c.conv_kernel_size, c.embedding_size) == (
        1e-12, 2, 1, 9, 768)
    assert (c.pad_token_id, c.bos_token_id, c.eos_token_id) == (1, 0, 2)
    assert c.classifier_dropout is None and c.problem_type is None and c.num_labels == 2
    assert c.id2label == {0: "LABEL_0", 1: "LABEL_1"} and c.label2id == {"LABEL_0": 0, "LABEL_1": 1}
    assert c.mask_conv_padding is False


@pytest.mark.parametrize("name,count", [
    ("conv-bert-base", 105_680_520), ("conv-bert-medium-small", 17_475_888), ("conv-bert-small", 13_143_768)])
def test_presets_reproduce_published_parameter_counts(name, count):
    config = ConvBertConfig.from_preset(name)
    assert config.pad_token_id == 0 and config.num_hidden_layers == 12 and config.conv_kernel_size == 9
    assert ConvBertModel(config, rng=0).num_parameters() == count


def test_preset_values_and_hub_prefix():
    c = ConvBertConfig.from_preset("YituTech/conv-bert-medium-small")
    assert (c.hidden_size, c.num_attention_heads, c.intermediate_size, c.embedding_size, c.num_groups) == (
        384, 8, 1536, 128, 2)
    with pytest.raises(ValueError, match="unknown preset"):
        ConvBertConfig.from_preset("conv-bert-huge")


def test_head_arithmetic():
    c = ConvBertConfig(hidden_size=64, num_attention_heads=8, head_ratio=2)
    assert (c.heads_per_kind, c.heads_per_kind, c.attention_head_size) == (4, 4, 8)
    small = ConvBertConfig(hidden_size=64, num_attention_heads=2, head_ratio=4)  # 2 // 4 == 0 -> one head
    assert (small.heads_per_kind, small.attention_head_size) == (1, 32)


def test_json_round_trip_keeps_unknown_keys(tmp_path):
    c = ConvBertConfig(hidden_size=32, num_attention_heads=4, intermediate_size=64, embedding_size=16,
                       num_labels=3, my_custom_field={"a": 1}, architectures=["ConvBertModel"])
    path = c.save_pretrained(tmp_path)
    data = json.loads(open(path).read())
    assert data["my_custom_field"] == {"a": 1} and data["model_type"] == "convbert"
    assert data["id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    back = ConvBertConfig.from_pretrained(tmp_path)
    assert back == c and back.id2label[2] == "LABEL_2" and back.num_labels == 3
    assert ConvBertConfig.from_pretrained(path) == c


def test_reads_a_transformers_config_json(tmp_path):
    transformers = pytest.importorskip("transformers")
    ref = transformers.ConvBertConfig(hidden_size=48, num_attention_heads=6, intermediate_size=96, embedding_size=24,
                                      num_groups=2, num_labels=4, conv_kernel_size=5)
    ref.save_pretrained(tmp_path)
    c = ConvBertConfig.from_pretrained(tmp_path)
    assert (c.hidden_size, c.num_attention_heads, c.num_groups, c.num_labels, c.conv_kernel_size) == (48, 6, 2, 4, 5)
    assert c.transformers_version == json.loads((tmp_path / "config.json").read_text())["transformers_version"]
    # and transformers reads ours back
    c.save_pretrained(tmp_path / "ours")
    back = transformers.ConvBertConfig.from_pretrained(tmp_path / "ours")
    assert (back.hidden_size, back.num_groups, back.num_labels, back.conv_kernel_size) == (48, 2, 4, 5)


@pytest.mark.parametrize("kwargs,message", [
    (dict(hidden_size=0), "hidden_size must be a positive integer"),
    (dict(num_attention_heads=0), "num_attention_heads must be a positive integer"),
    (dict(hidden_size=36, num_attention_heads=8, head_ratio=2), "divisible by 2 \\* 4 = 8"),
    (dict(hidden_size=37, num_attention_heads=6), "hidden_size 37 must split"),
    (dict(conv_kernel_size=8), "conv_kernel_size must be odd"),
    (dict(hidden_act="swishy"), "unknown hidden_act 'swishy'"),
    (dict(num_groups=5), "num_groups 5 must divide"),
    (dict(hidden_dropout_prob=1.5), "hidden_dropout_prob must be a probability"),
    (dict(classifier_dropout=-0.1), "classifier_dropout must be a probability"),
    (dict(layer_norm_eps=0.0), "layer_norm_eps must be positive"),
    (dict(layer_norm_eps=-1e-12), "layer_norm_eps must be positive"),
    (dict(initializer_range=-0.02), "initializer_range must be >= 0"),
    (dict(pad_token_id=40000), "pad_token_id 40000 is outside"),
    (dict(is_decoder=True), "not supported"),
    (dict(add_cross_attention=True), "not supported"),
])
def test_architecture_is_checked_when_a_model_is_built(kwargs, message):
    config = ConvBertConfig(**kwargs)  # a valid config, as in transformers (its own tests build hidden_size=37)
    with pytest.raises(ValueError, match=message):
        ConvBertModel(config)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(pad_token_id="0"), TypeError, "pad_token_id must be an integer token id or None, got '0'"),
    (dict(vocab_size=2.5), TypeError, "vocab_size must be an integer, got 2.5"),
    (dict(vocab_size=True), TypeError, "vocab_size must be an integer, got True"),
    (dict(layer_norm_eps="1e-12"), TypeError, "layer_norm_eps must be a number"),
    (dict(hidden_act=3), TypeError, "hidden_act must be an activation name or a callable"),
    (dict(is_decoder="no"), TypeError, "is_decoder must be true or false"),
    (dict(id2label=["neg", "pos"]), TypeError, "id2label must be a mapping, got list"),
    (dict(id2label={"first": "neg"}), TypeError, "id2label needs integer label ids"),
    (dict(id2label={0: 1}), TypeError, "id2label labels must be strings, got 1"),
    (dict(label2id={"neg": "zero"}), TypeError, "label2id needs integer label ids"),
    (dict(num_hidden_layers=-1), ValueError, "num_hidden_layers must be a size in \\[0, 2147483647\\], got -1"),
    (dict(hidden_size=2**40), ValueError, "hidden_size must be a size in"),
    (dict(initializer_range=float("nan")), ValueError, "initializer_range must be a finite number"),
    (dict(problem_type="ranking"), ValueError, "problem_type must be one of"),
    (dict(num_labels=0), ValueError, "num_labels must be an integer in \\[1, 100000\\], got 0"),
    (dict(num_labels=10**9), ValueError, "num_labels must be an integer in"),
    (dict(to_dict=1), ValueError, "the key 'to_dict' would shadow ConvBertConfig.to_dict"),
    (dict(save_pretrained="x"), ValueError, "would shadow ConvBertConfig.save_pretrained"),
    (dict(heads_per_kind=3), AttributeError, "has no setter"),  # a derived property
])
def test_what_cannot_be_read_safely_is_refused_by_the_config(kwargs, error, message):
    with pytest.raises(error, match=message):
        ConvBertConfig(**kwargs)


def test_a_config_dict_with_its_model_type_constructs():
    assert ConvBertConfig(**ConvBertConfig(hidden_size=64).to_dict()) == ConvBertConfig(hidden_size=64)
    with pytest.raises(ValueError, match="model_type 'bert', expected 'convbert'"):
        ConvBertConfig(model_type="bert")


def test_assignments_are_type_checked_and_sizes_can_be_set_freely():
    config = ConvBertConfig()
    with pytest.raises(TypeError, match="pad_token_id"):
        config.pad_token_id = "0"
    config.hidden_size = 0  # transformers' ConfigTester sets each size to a small number
    assert config.hidden_size == 0


def test_absurd_sizes_from_a_config_json_are_refused_before_any_allocation(tmp_path):
    import tracemalloc

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "convbert", "num_hidden_layers": 100_000}))
    config = ConvBertConfig.from_pretrained(tmp_path)  # readable: a number of layers
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="the config asks for 682,051,637,184 parameters .*100,000 layers"):
            ConvBertModel(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # refused from the sizes alone (before the fix: 3.9 GB, then MemoryError)
    (tmp_path / "config.json").write_text(json.dumps({"num_labels": 10**9}))
    with pytest.raises(ValueError, match="num_labels must be an integer in"):
        ConvBertConfig.from_pretrained(tmp_path)


@pytest.mark.parametrize("text,error,message", [
    ('{"pad_token_id": "0"}', TypeError, "pad_token_id must be an integer token id"),
    ('{"id2label": [1, 2]}', TypeError, "id2label must be a mapping"),
    ('{"to_json_string": 1}', ValueError, "would shadow"),
    ("[" * 100_000 + "]" * 100_000, ValueError, "not valid JSON"),
    ("[1, 2]", ValueError, "must hold a JSON object"),
])
def test_hostile_config_json_is_refused_naming_the_problem(tmp_path, text, error, message):
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(error, match=message):
        ConvBertConfig.from_pretrained(tmp_path)


def test_oversized_config_json_is_refused_before_reading(tmp_path, monkeypatch):
    from minconvbert.models.convbert import config as config_module

    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 100)
    (tmp_path / "config.json").write_text(json.dumps({"vocab_size": 10, "padding": "x" * 200}))
    with pytest.raises(ValueError, match="is 2.. bytes, larger than 100 bytes"):
        ConvBertConfig.from_pretrained(tmp_path)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_in_place_of_config_json_is_refused_instead_of_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "config.json")
    with pytest.raises(ValueError, match="not a regular file"):
        ConvBertConfig.from_pretrained(tmp_path)


def test_parameter_count_from_the_sizes_is_exact():
    from minconvbert.models.convbert.checks import encoder_parameter_count

    for config in (ConvBertConfig.from_preset(name, num_hidden_layers=2) for name in
                   ("conv-bert-base", "conv-bert-medium-small", "conv-bert-small")):
        assert encoder_parameter_count(config) == ConvBertModel(config, rng=0).num_parameters()


def test_callable_activation_is_accepted():
    c = ConvBertConfig(hidden_size=16, num_attention_heads=2, intermediate_size=16, embedding_size=8,
                       num_hidden_layers=1, vocab_size=10, hidden_act=lambda x: x * 2.0)
    out = ConvBertModel(c)(input_ids=np.array([[1, 2, 3]]))
    assert out.last_hidden_state.shape == (1, 3, 16)


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        ConvBertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ConvBertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match="model_type 'bert'"):
        ConvBertConfig.from_pretrained(tmp_path)
