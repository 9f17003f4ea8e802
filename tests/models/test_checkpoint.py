"""from_pretrained / save_pretrained in the published layout, and round trips with transformers."""

import importlib.util
import json
import os
import sys
import warnings

import numpy as np
import pytest

import minconvbert
from minconvbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertForSequenceClassification, ConvBertModel
from minconvbert.io import safetensors
from tests.models import parity

TASKS = ["model", "masked_lm", "seq_single", "multiple_choice", "token", "qa"]
PUBLISHED = {name: parity.CASES[name] for name in ("conv_bert_base", "conv_bert_medium_small", "conv_bert_small")}


def _outputs(task, model, inputs):
    out = model(**{k: v for k, v in inputs.items() if k not in ("labels", "start_positions", "end_positions")})
    return [np.asarray(v) for v in out.to_tuple() if not isinstance(v, tuple)]


def _reference_outputs(task, model, inputs):
    import torch

    args = {k: torch.tensor(v) for k, v in inputs.items() if k not in ("labels", "start_positions", "end_positions")}
    with torch.no_grad():
        out = model(**args)
    return [v.numpy() for v in out.to_tuple() if not isinstance(v, tuple)]


def _assert_same(ours, theirs, atol=1e-5):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= atol


@pytest.mark.parametrize("size", list(PUBLISHED))
@pytest.mark.parametrize("task", TASKS)
def test_round_trip_with_transformers(size, task, tmp_path):
    """ours save -> transformers load -> same outputs; transformers save -> ours load -> same outputs."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    case = PUBLISHED[size]
    config = parity.task_config(case, task)
    inputs = parity.make_inputs(case, task)
    cls = getattr(minconvbert, parity.TASK_CLASS[task])

    ours = cls(ConvBertConfig(**config), rng=1).eval()
    ours.save_pretrained(tmp_path / "ours")
    assert sorted(os.listdir(tmp_path / "ours")) == ["config.json", "model.safetensors"]
    theirs = getattr(transformers, parity.TASK_CLASS[task]).from_pretrained(tmp_path / "ours").eval()
    _assert_same(_reference_outputs(task, theirs, inputs), _outputs(task, ours, inputs))

    reference = parity.build_reference(task, config, seed=2)
    reference.save_pretrained(tmp_path / "theirs")
    loaded = cls.from_pretrained(tmp_path / "theirs", strict=True)
    _assert_same(_outputs(task, loaded, inputs), _reference_outputs(task, reference, inputs))


def _tiny(cls=ConvBertForMaskedLM, **overrides):
    return cls(ConvBertConfig(**{**parity.TINY, **overrides}), rng=0).eval()


IDS = np.array([[2, 7, 9, 4, 11]])


def test_base_checkpoint_into_task_model_and_back(tmp_path):
    base = _tiny(ConvBertModel)
    base.save_pretrained(tmp_path / "base")
    keys = list(safetensors.load_file(tmp_path / "base" / "model.safetensors"))
    assert all(not k.startswith("convbert.") for k in keys)
    with pytest.warns(UserWarning, match=r"missing keys \['classifier.dense.weight'"):
        task = ConvBertForSequenceClassification.from_pretrained(tmp_path / "base", num_labels=3)
    np.testing.assert_array_equal(task.convbert(input_ids=IDS).last_hidden_state.data,
                                  base(input_ids=IDS).last_hidden_state.data)
    with pytest.raises(KeyError, match="classifier.out_proj.weight"):
        ConvBertForSequenceClassification.from_pretrained(tmp_path / "base", strict=True)

    task.save_pretrained(tmp_path / "task")
    with pytest.warns(UserWarning, match=r"unexpected keys \['classifier.dense.bias'"):
        back = ConvBertModel.from_pretrained(tmp_path / "task")
    np.testing.assert_array_equal(back(input_ids=IDS).last_hidden_state.data, base(input_ids=IDS).last_hidden_state.data)


def test_tied_head_saved_once_and_buffers_accepted(tmp_path):
    model = _tiny()
    model.save_pretrained(tmp_path / "a")
    stored = safetensors.load_file(tmp_path / "a" / "model.safetensors")
    assert "generator_lm_head.weight" not in stored and "convbert.embeddings.word_embeddings.weight" in stored
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["architectures"] == ["ConvBertForMaskedLM"] and config["model_type"] == "convbert"
    # an older checkpoint: explicit tied key and the position_ids / token_type_ids buffers
    stored = dict(stored)
    stored["generator_lm_head.weight"] = stored["convbert.embeddings.word_embeddings.weight"]
    stored["convbert.embeddings.position_ids"] = np.arange(32)[None]
    stored["convbert.embeddings.token_type_ids"] = np.zeros((1, 32), np.int64)
    safetensors.save_file(stored, tmp_path / "a" / "model.safetensors", {"format": "pt"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = ConvBertForMaskedLM.from_pretrained(tmp_path / "a", strict=True)
    assert loaded.generator_lm_head.weight is loaded.convbert.embeddings.word_embeddings.weight
    np.testing.assert_array_equal(loaded(input_ids=IDS).logits.data, model(input_ids=IDS).logits.data)


def test_float16_storage(tmp_path):
    model = _tiny()
    model.save_pretrained(tmp_path, dtype=np.float16)
    stored = safetensors.load_file(tmp_path / "model.safetensors")
    assert all(v.dtype == np.float16 for v in stored.values())
    assert sum(v.nbytes for v in stored.values()) == 2 * sum(p.size for p in model.parameters())
    loaded = ConvBertForMaskedLM.from_pretrained(tmp_path)
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded(input_ids=IDS).logits.data, model(input_ids=IDS).logits.data, atol=1e-2)
    assert ConvBertForMaskedLM.from_pretrained(tmp_path, dtype=np.float64).dtype == np.float64


def test_pytorch_bin_and_sharded_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    config = parity.task_config(parity.CASES["tiny"], "masked_lm")
    reference = parity.build_reference("masked_lm", config, seed=3)
    ids = torch.tensor(IDS)
    with torch.no_grad():
        expected = reference(ids).logits.numpy()
    # pytorch_model.bin written by torch.save
    (tmp_path / "bin").mkdir()
    torch.save(reference.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    reference.config.to_json_file(tmp_path / "bin" / "config.json")
    from_bin = ConvBertForMaskedLM.from_pretrained(tmp_path / "bin", strict=True)
    np.testing.assert_allclose(from_bin(input_ids=IDS).logits.data, expected, atol=1e-5)
    # sharded safetensors written by transformers
    reference.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").is_file()
    sharded = ConvBertForMaskedLM.from_pretrained(tmp_path / "sharded", strict=True)
    np.testing.assert_allclose(sharded(input_ids=IDS).logits.data, expected, atol=1e-5)


def test_save_is_atomic(tmp_path, monkeypatch):
    first = _tiny()
    first.save_pretrained(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in ("config.json", "model.safetensors")}
    second = _tiny(hidden_act="relu")
    second.convbert.embeddings.word_embeddings.weight.data += 1

    def explode(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(safetensors, "_write", explode)
    with pytest.raises(OSError, match="disk full"):
        second.save_pretrained(tmp_path)
    after = {name: (tmp_path / name).read_bytes() for name in ("config.json", "model.safetensors")}
    assert after == before
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]  # no temporary files left


def test_shape_mismatch_and_missing_files(tmp_path):
    _tiny(hidden_size=32, num_attention_heads=4).save_pretrained(tmp_path / "wide")
    config = ConvBertConfig(**parity.TINY)
    with pytest.raises(ValueError, match=r"shape mismatch for 45 tensors.*convbert.embeddings_project.weight: checkpoint \(32, 8\) vs model \(16, 8\)"):
        ConvBertForMaskedLM.from_pretrained(tmp_path / "wide", config=config)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        ConvBertModel.from_pretrained(tmp_path / "empty")
    ConvBertConfig(**parity.TINY).save_pretrained(tmp_path / "config_only")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        ConvBertModel.from_pretrained(tmp_path / "config_only")


@pytest.mark.parametrize("with_hub_library", [True, False], ids=["huggingface_hub", "no-huggingface_hub"])
def test_hub_id_resolves_from_a_local_cache_without_network(tmp_path, monkeypatch, with_hub_library):
    if not with_hub_library:  # a learner's machine: the cache is read by our own code
        monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    elif importlib.util.find_spec("huggingface_hub") is None:
        pytest.skip("huggingface_hub is not installed")
    model = _tiny()
    commit = "0123456789abcdef0123456789abcdef01234567"  # refs/main holds a full 40-hex commit hash
    snapshot = tmp_path / "hub" / "models--YituTech--conv-bert-base" / "snapshots" / commit
    model.save_pretrained(snapshot)
    (tmp_path / "hub" / "models--YituTech--conv-bert-base" / "refs").mkdir()
    (tmp_path / "hub" / "models--YituTech--conv-bert-base" / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = ConvBertForMaskedLM.from_pretrained("YituTech/conv-bert-base")
    np.testing.assert_array_equal(loaded(input_ids=IDS).logits.data, model(input_ids=IDS).logits.data)
