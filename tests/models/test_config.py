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
    assert (c.attention_heads, c.conv_heads, c.attention_head_size) == (4, 4, 8)
    small = ConvBertConfig(hidden_size=64, num_attention_heads=2, head_ratio=4)  # 2 // 4 == 0 -> one head
    assert (small.attention_heads, small.attention_head_size) == (1, 32)


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
    (dict(num_hidden_layers=-1), "num_hidden_layers must be a positive integer"),
    (dict(vocab_size=2.5), "vocab_size must be a positive integer"),
    (dict(hidden_size=36, num_attention_heads=8, head_ratio=2), "divisible by 2 \\* 4 = 8"),
    (dict(conv_kernel_size=8), "conv_kernel_size must be odd"),
    (dict(hidden_act="swishy"), "unknown hidden_act 'swishy'"),
    (dict(num_groups=5), "num_groups 5 must divide"),
    (dict(hidden_dropout_prob=1.5), "hidden_dropout_prob must be a probability"),
    (dict(pad_token_id=40000), "pad_token_id 40000 is outside"),
    (dict(problem_type="ranking"), "problem_type must be one of"),
    (dict(num_labels=0), "num_labels must be a positive integer"),
    (dict(is_decoder=True), "not supported"),
])
def test_validation_names_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvBertConfig(**kwargs)


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
