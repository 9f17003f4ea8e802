"""Checkpoint directories: every weight layout, shard validation, saving, and .bin -> safetensors."""

import json
import sys

import numpy as np
import pytest

from minconvbert import Tensor
from minconvbert.io import checkpoint_files as cf
from minconvbert.io import safetensors as st


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"embeddings.word_embeddings.weight": rng.standard_normal((11, 4)).astype(np.float32),
            "encoder.layer.0.output.dense.bias": rng.standard_normal(4).astype(np.float32),
            "embeddings.position_ids": np.arange(8, dtype=np.int64)[None]}


def _assert_same(a, b):
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _write_shards(directory, weights, split):
    """weights split over shard files as {shard name: [names]}, plus the index."""
    directory.mkdir(exist_ok=True)
    weight_map = {}
    for shard, names in split.items():
        st.save_file({n: weights[n] for n in names}, directory / shard)
        weight_map.update({n: shard for n in names})
    (directory / cf.SAFE_WEIGHTS_INDEX_NAME).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


def test_single_safetensors_file(tmp_path):
    w = _weights()
    path = cf.save_weights(tmp_path, w)
    assert path == tmp_path / "model.safetensors"
    assert cf.find_weights(tmp_path) == path
    _assert_same(cf.load_weights(tmp_path), w)
    with st.safe_open(path) as f:
        assert f.metadata() == {"format": "pt"}


def test_sharded_safetensors(tmp_path):
    w = _weights()
    names = list(w)
    _write_shards(tmp_path, w, {"model-00001-of-00002.safetensors": names[:2],
                                "model-00002-of-00002.safetensors": names[2:]})
    assert cf.find_weights(tmp_path).name == "model.safetensors.index.json"
    _assert_same(cf.load_weights(tmp_path), w)


def _tiny_reference_model():
    """A small transformers ConvBertForMaskedLM (tied LM head), seeded, in eval mode."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.ConvBertConfig(vocab_size=99, hidden_size=32, embedding_size=16, num_hidden_layers=2,
                                         num_attention_heads=4, intermediate_size=37, max_position_embeddings=64)
    torch.manual_seed(0)
    return transformers.ConvBertForMaskedLM(config).eval()


def test_sharded_checkpoint_written_by_transformers(tmp_path):
    model = _tiny_reference_model()
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    ours = cf.load_weights(tmp_path)
    reference = model.state_dict()
    assert set(ours) <= set(reference) and len(ours) >= len(reference) - 1  # the tied head is not saved
    for name, arr in ours.items():
        np.testing.assert_array_equal(arr, reference[name].numpy(), err_msg=name)


def test_shard_index_problems_are_named(tmp_path):
    w = _weights()
    names = list(w)
    _write_shards(tmp_path, w, {"a.safetensors": names[:2], "b.safetensors": names[2:]})
    index_path = tmp_path / cf.SAFE_WEIGHTS_INDEX_NAME
    good = json.loads(index_path.read_text())

    (tmp_path / "b.safetensors").unlink()
    with pytest.raises(cf.CheckpointLayoutError, match=r"shard 'b.safetensors' .* is missing"):
        cf.load_weights(tmp_path)
    st.save_file({names[2]: w[names[2]], "stray": np.zeros(1)}, tmp_path / "b.safetensors")
    with pytest.raises(cf.CheckpointLayoutError, match=r"present but not listed \['stray'\]"):
        cf.load_weights(tmp_path)
    st.save_file({}, tmp_path / "b.safetensors")
    with pytest.raises(cf.CheckpointLayoutError, match=r"listed but absent \['embeddings.position_ids'\]"):
        cf.load_weights(tmp_path)

    bad = dict(good, weight_map={**good["weight_map"], names[0]: "../a.safetensors"})
    index_path.write_text(json.dumps(bad))
    with pytest.raises(cf.CheckpointLayoutError, match="not a plain file name"):
        cf.load_weights(tmp_path)
    for text in ("{", json.dumps({"weight_map": [1]}), json.dumps({"weight_map": {"a": 1}}), "[]"):
        index_path.write_text(text)
        with pytest.raises(cf.CheckpointLayoutError):
            cf.load_weights(tmp_path)


def test_pytorch_model_bin_single_and_sharded(tmp_path):
    torch = pytest.importorskip("torch")
    w = _weights()
    single = tmp_path / "single"
    single.mkdir()
    torch.save({k: torch.from_numpy(v) for k, v in w.items()}, single / "pytorch_model.bin")
    _assert_same(cf.load_weights(single), w)

    sharded = tmp_path / "sharded"
    sharded.mkdir()
    names = list(w)
    torch.save({k: torch.from_numpy(w[k]) for k in names[:1]}, sharded / "pytorch_model-00001-of-00002.bin")
    torch.save({k: torch.from_numpy(w[k]) for k in names[1:]}, sharded / "pytorch_model-00002-of-00002.bin")
    weight_map = {k: "pytorch_model-00001-of-00002.bin" for k in names[:1]}
    weight_map.update({k: "pytorch_model-00002-of-00002.bin" for k in names[1:]})
    (sharded / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    _assert_same(cf.load_weights(sharded), w)


def test_safetensors_preferred_over_bin(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"not even a zip")
    cf.save_weights(tmp_path, _weights())
    assert cf.find_weights(tmp_path).name == "model.safetensors"
    _assert_same(cf.load_weights(tmp_path), _weights())


def test_no_weights_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "flax_model.msgpack").write_bytes(b"")  # (tf_model.h5 is read: tests/models/test_tf_h5.py)
    with pytest.raises(cf.NoWeightsFoundError, match=r"no weights found.*holds \['config.json', 'flax_model.msgpack'\]"
                       r".*Flax weights"):
        cf.load_weights(tmp_path)
    with pytest.raises(NotADirectoryError, match="does not exist"):
        cf.load_weights(tmp_path / "nope")


def test_save_weights_accepts_tensors_and_is_atomic(tmp_path, monkeypatch):
    w = _weights()
    cf.save_weights(tmp_path / "new" / "dir", {k: Tensor(v) for k, v in w.items()})
    _assert_same(cf.load_weights(tmp_path / "new" / "dir"), w)

    before = (tmp_path / "new" / "dir" / "model.safetensors").read_bytes()
    with pytest.raises(TypeError, match=r"state_dict\['x'\]: expected a numpy array or a Tensor"):
        cf.save_weights(tmp_path / "new" / "dir", {"x": [1, 2]})

    def fail(done, total):
        raise KeyboardInterrupt  # even an interrupt mid-write leaves the old file
    with pytest.raises(KeyboardInterrupt):
        cf.save_weights(tmp_path / "new" / "dir", _weights(1), on_progress=fail)
    assert (tmp_path / "new" / "dir" / "model.safetensors").read_bytes() == before
    assert [p.name for p in (tmp_path / "new" / "dir").iterdir()] == ["model.safetensors"]


def test_saved_file_loads_in_transformers_stack(tmp_path):
    torch = pytest.importorskip("torch")
    stt = pytest.importorskip("safetensors.torch")
    w = _weights()
    cf.save_weights(tmp_path, w)
    theirs = stt.load_file(tmp_path / "model.safetensors")
    for k, v in w.items():
        assert torch.equal(theirs[k], torch.from_numpy(v)), k


def test_shared_groups():
    a = np.zeros((3, 4))
    sd = {"x": a, "y": np.ones(2), "z": a, "w": a[1:]}
    assert cf.shared_groups(sd) == [["x", "z", "w"]]
    assert cf.shared_groups({"p": np.ones(2), "q": np.ones(2)}) == []


def _tiny_bin_checkpoint(directory):
    torch = pytest.importorskip("torch")
    model = _tiny_reference_model()
    directory.mkdir()
    torch.save(model.state_dict(), directory / "pytorch_model.bin")  # as published repositories ship it
    model.config.save_pretrained(directory)
    (directory / "vocab.txt").write_text("\n".join(f"tok{i}" for i in range(99)) + "\n")
    (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    return model


def test_convert_bin_to_safetensors_loads_in_transformers(tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = _tiny_bin_checkpoint(tmp_path / "src")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain stderr display
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    report = cf.convert_bin_to_safetensors(tmp_path / "src", tmp_path / "out", progress=True)
    err = capsys.readouterr().err
    assert "reading pytorch_model.bin: 100%" in err and "writing model.safetensors: 100%" in err

    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    assert report.copied == ["config.json", "vocab.txt", "tokenizer_config.json"]
    assert ["convbert.embeddings.word_embeddings.weight", "generator_lm_head.weight"] in report.shared
    assert report.n_tensors == len(model.state_dict())

    loaded = transformers.ConvBertForMaskedLM.from_pretrained(tmp_path / "out").eval()
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    ids = torch.tensor([[1, 5, 7, 42, 2]])
    with torch.no_grad():
        assert torch.equal(loaded(ids).logits, model(ids).logits)


def test_convert_with_tqdm_and_quiet(tmp_path, capsys):
    pytest.importorskip("tqdm")
    _tiny_bin_checkpoint(tmp_path / "src")
    cf.convert_bin_to_safetensors(tmp_path / "src", tmp_path / "out", progress=True)
    assert "writing model.safetensors" in capsys.readouterr().err
    cf.convert_bin_to_safetensors(tmp_path / "src", tmp_path / "out2", progress=False)
    assert capsys.readouterr().err == ""


def test_convert_needs_a_bin(tmp_path):
    cf.save_weights(tmp_path, _weights())
    with pytest.raises(cf.NoWeightsFoundError, match="no pytorch_model.bin to convert"):
        cf.convert_bin_to_safetensors(tmp_path, tmp_path / "out")
