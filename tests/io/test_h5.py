"""Malformed and hostile tf_model.h5 files: one H5FormatError naming the problem, no large allocation."""

import os

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="tf_model.h5 needs h5py: pip install minconvbert[tf]")

from minconvbert.io.h5 import H5FormatError, KerasH5, write_weights  # noqa: E402
from minconvbert.models import convbert as ours  # noqa: E402
from minconvbert.models.convbert.tf_weights import read_tf_weights, to_pt_name, to_tf_name  # noqa: E402
from tests.tf_fixtures import unpacked  # noqa: E402

_MODEL = "tf_conv_bert_model"
_BIAS = f"{_MODEL}/convbert/embeddings/LayerNorm/beta:0"


def _file(path, build):
    """Write an h5 file laid out by `build(f)` and return its path."""
    with h5py.File(path, "w") as f:
        build(f)
    return path


def _keras(f, layers):
    """Keras's layout for {layer: {weight name: array or h5py-dataset maker}}."""
    f.attrs["layer_names"] = np.array([name.encode() for name in layers])
    for layer, weights in layers.items():
        group = f.create_group(layer)
        group.attrs["weight_names"] = np.array([name.encode() for name in weights])
        for name, value in weights.items():
            value(group, name) if callable(value) else group.create_dataset(name, data=value)


def test_names_and_layouts_round_trip():
    for name, shape in ours.ConvBertForMaskedLM(ours.ConvBertConfig(
            vocab_size=20, hidden_size=8, num_attention_heads=2, intermediate_size=16, embedding_size=4,
            num_hidden_layers=1, num_groups=2)).state_dict().items():
        assert to_pt_name(to_tf_name(name)) == name
    assert to_tf_name("convbert.encoder.layer.11.attention.self.key_conv_attn_layer.bias") == \
        "convbert/encoder/layer_._11/attention/self/key_conv_attn_layer/bias"


def test_writer_and_reader_agree(tmp_path):
    layers = [("a", [("m/a/kernel:0", np.arange(6, dtype=np.float32).reshape(2, 3))]), ("empty", [])]
    seen = []
    path = write_weights(tmp_path / "w.h5", layers, on_progress=lambda d, t: seen.append((d, t)))
    with KerasH5(path) as f:
        assert f.layer_names == ["a", "empty"] and f.weight_names("empty") == []
        np.testing.assert_array_equal(f.read("a", "m/a/kernel:0"), layers[0][1][0][1])
    assert seen == [(24, 24)]


@pytest.mark.parametrize("build, message", [
    (lambda f: None, "no 'layer_names' attribute: not a Keras weights file"),
    (lambda f: f.attrs.create("layer_names", np.array([1, 2])), "expected a list of strings"),
    (lambda f: f.attrs.create("layer_names", np.array([b"convbert"])), "lists 'convbert', but the file has no such group"),
    (lambda f: f.attrs.create("layer_names", np.array([b"a", b"a"])), "appears more than once"),
    (lambda f: f.attrs.create("layer_names", np.array([b"\xff\xfe"])), "is not UTF-8"),
    (lambda f: _keras(f, {"convbert": {}}) or f["convbert"].attrs.create("weight_names", np.array([b"x:0"])),
     "weight 'x:0': listed in weight_names but there is no such dataset"),
    (lambda f: _keras(f, {"convbert": {_BIAS: np.arange(8)}}), "dtype int64; weights must be float"),
    (lambda f: _keras(f, {"convbert": {_BIAS: lambda g, n: g.create_dataset(n, data=np.ones(8, np.float32),
                                                                             compression="gzip")}}),
     "stored with filters"),
    # declares 4 TB but stores nothing: refused before any read
    (lambda f: _keras(f, {"convbert": {_BIAS: lambda g, n: g.create_dataset(n, shape=(1 << 20, 1 << 20), dtype="f4",
                                                                             chunks=(64, 64))}}),
     r"needs 4398046511104 bytes but the file stores 0"),
])
def test_malformed_layouts(tmp_path, build, message):
    path = _file(tmp_path / "bad.h5", build)
    with pytest.raises(H5FormatError, match=message):
        KerasH5(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "tf_model.h5")
    with pytest.raises(H5FormatError, match="FIFO"):
        KerasH5(tmp_path / "tf_model.h5")


def test_not_hdf5_and_truncated(tmp_path):
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n" + bytes(200))
    with pytest.raises(H5FormatError, match="not a readable HDF5 file"):
        KerasH5(tmp_path / "junk.h5")
    real = (unpacked("h5_masked_lm", tmp_path) / "tf_model.h5").read_bytes()
    for keep in (len(real) // 3, len(real) // 2, len(real) - 100):
        (tmp_path / "cut.h5").write_bytes(real[:keep])
        with pytest.raises(H5FormatError):
            read_tf_weights(tmp_path / "cut.h5")


@pytest.mark.parametrize("weights, message", [
    ({"no-colon-zero": np.ones(8, np.float32)}, "is not '<model>/<path>:0'"),
    ({f"{_MODEL}/convbert/embeddings/LayerNorm/moving_mean:0": np.ones(8, np.float32)}, "is not a ConvBERT TF weight"),
])
def test_weights_no_convbert_class_has(tmp_path, weights, message):
    path = _file(tmp_path / "odd.h5", lambda f: _keras(f, {"convbert": weights}))
    with pytest.raises(H5FormatError, match=message):
        read_tf_weights(path)


def test_shared_embedding_copies_must_agree(tmp_path):
    directory = unpacked("h5_masked_lm", tmp_path)
    with h5py.File(directory / "tf_model.h5", "r+") as f:
        name = "tf_conv_bert_for_masked_lm/convbert/embeddings/word_embeddings/weight:0"
        f["generator_lm_head"][name][0, 0] += 1.0
    with pytest.raises(H5FormatError, match="stored twice .* with different values"):
        ours.TFConvBertForMaskedLM.from_pretrained(directory)


def test_shapes_checked_against_the_config_before_reading(tmp_path):
    directory = unpacked("h5_model", tmp_path)
    with pytest.raises(H5FormatError, match=r"word_embeddings/weight:0' has shape \(40, 8\).*convbert.embeddings."
                                            r"word_embeddings.weight is \(41, 8\)"):
        ours.TFConvBertModel.from_pretrained(directory, vocab_size=41)


def test_missing_weights(tmp_path):
    directory = unpacked("h5_model", tmp_path)
    name = "tf_conv_bert_model/convbert/encoder/layer_._1/output/dense/bias:0"
    with h5py.File(directory / "tf_model.h5", "r+") as f:
        group = f["convbert"]
        kept = [n if isinstance(n, str) else n.decode() for n in group.attrs["weight_names"]]
        group.attrs["weight_names"] = np.array([n.encode() for n in kept if n != name])
        del group[name]
    with pytest.raises(KeyError, match=r"missing keys \['encoder.layer.1.output.dense.bias'\]"):
        ours.TFConvBertModel.from_pretrained(directory, strict=True)
    with pytest.warns(UserWarning, match="missing keys"):
        ours.TFConvBertModel.from_pretrained(directory)
