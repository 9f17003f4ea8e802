"""The TF1 checkpoint reader: files TensorFlow wrote, bundles built here, and hostile files.

Every malformed file must give one TF1CheckpointError naming the problem, never a NumPy error, a
RecursionError or a large allocation. tests/io/test_tf1_fuzz.py throws random damage at it.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from minconvbert.io import tf1
from minconvbert.io.crc32c import _TABLES, _update_by8_plain, _update_bytewise, crc32c, mask, masked_crc32c
from minconvbert.io.tf1 import TF1Checkpoint, TF1CheckpointError
from tests.io import tf1_builder as B
from tests.tf_fixtures import FIXTURES, unpacked


# ----- CRC-32C ---------------------------------------------------------------------------------


def test_crc32c_check_value_and_mask():
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    assert crc32c(b"") == 0
    assert mask(0) == 0xA282EAD8
    # a value TensorFlow stored: the masked CRC of the float32 tensor [[0, 1, 2], [3, 4, 5]]
    assert masked_crc32c(np.arange(6, dtype="<f4")) == 0x173DDBC0


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 63, 1000])
def test_crc32c_by8_equals_the_bytewise_definition(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    expected = _update_bytewise(0xFFFFFFFF, data, _TABLES)
    assert _update_by8_plain(0xFFFFFFFF, data, _TABLES) == expected  # the loop numba compiles
    assert crc32c(data) == expected ^ 0xFFFFFFFF  # the compiled loop


# ----- files TensorFlow wrote ------------------------------------------------------------------


def test_reads_a_checkpoint_tensorflow_wrote(tmp_path):
    directory = unpacked("tf1_grouped", tmp_path)
    with TF1Checkpoint(directory) as ckpt:  # the directory's `checkpoint` file names model.ckpt-0
        assert ckpt.prefix.name == "model.ckpt-0"
        assert ckpt.header == {"num_shards": 1, "endianness": 0, "producer": 1, "min_consumer": 0}
        assert ckpt.keys() == sorted(ckpt.keys(), key=str.encode)
        table = ckpt.get_tensor("electra/embeddings/word_embeddings")
        assert table.dtype == np.float32 and table.shape == (40, 8) and np.abs(table).max() > 0
        assert ckpt.info("electra/encoder/layer_1/intermediate/g_dense/kernel").shape == (2, 8, 16)
        assert ckpt.get_tensor("global_step").dtype == np.int64 and int(ckpt.get_tensor("global_step")) == 0
        slot = ckpt.get_tensor("electra/embeddings/word_embeddings/adam_m")
        assert slot.shape == (40, 8) and not slot.any()
    names = dict(tf1.list_variables(directory / "model.ckpt-0.index"))
    assert names["generator/encoder/layer_0/attention/self/query/kernel"] == (12, 6)


def test_builder_reproduces_tensorflows_index_bytes():
    """The test writer below builds byte-identical tables, so the hostile files it builds are realistic."""
    data = (FIXTURES / "tf1_dense" / "model.ckpt-0.index").read_bytes()
    assert B.table(tf1._table_entries(data, "index")) == data


def test_load_checkpoint_reports_progress(tmp_path):
    prefix = unpacked("tf1_dense", tmp_path) / "model.ckpt-0"
    seen = []
    arrays = tf1.load_checkpoint(prefix, ["electra/embeddings/word_embeddings", "global_step"],
                                 on_progress=lambda done, total: seen.append((done, total)))
    assert set(arrays) == {"electra/embeddings/word_embeddings", "global_step"}
    assert seen[-1] == (40 * 16 * 4 + 8, 40 * 16 * 4 + 8)


def test_bundles_of_every_dtype_big_endian_and_many_blocks(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {f"v/{i:03d}": rng.normal(size=(i % 4, 3)).astype(np.float32) for i in range(40)}
    tensors.update({f"t/{name}": np.arange(6).astype(name).reshape(2, 3) for name in B.DTYPES})
    tensors["t/scalar"] = np.float64(2.5)
    for endianness in (0, 1):
        prefix = B.write(tmp_path / str(endianness), *B.bundle(tensors, per_block=7, endianness=endianness))
        loaded = tf1.load_checkpoint(prefix)
        assert list(loaded) == sorted(tensors, key=str.encode)
        for name, value in tensors.items():
            assert loaded[name].dtype == np.asarray(value).dtype and loaded[name].dtype.isnative
            assert loaded[name].shape == np.shape(value)
            np.testing.assert_array_equal(loaded[name], value)


def test_bfloat16_is_widened_to_float32(tmp_path):
    values = np.array([1.0, -2.5, 3.140625], np.float32)
    raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    entries = [(b"", B.header_proto()), (b"x", B.entry_proto(14, (3,), size=6, crc=masked_crc32c(raw)))]
    prefix = B.write(tmp_path, B.table(entries), raw)
    np.testing.assert_array_equal(tf1.load_checkpoint(prefix)["x"], values)


def test_resolve_prefix(tmp_path):
    index, data = B.bundle({"a": np.zeros(2, np.float32)})
    prefix = B.write(tmp_path, index, data, "model.ckpt-7")
    assert tf1.resolve_prefix(prefix) == prefix
    assert tf1.resolve_prefix(prefix.with_name("model.ckpt-7.index")) == prefix
    assert tf1.resolve_prefix(tmp_path) == prefix  # the only one
    # the `checkpoint` file holds the training machine's absolute paths: only the file name counts
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "/mnt/tpu/run/model.ckpt-7"\n')
    B.write(tmp_path, index, data, "model.ckpt-3")
    assert tf1.resolve_prefix(tmp_path) == prefix
    (tmp_path / "checkpoint").unlink()
    with pytest.raises(FileNotFoundError, match="holds 2 checkpoints"):
        tf1.resolve_prefix(tmp_path)
    with pytest.raises(FileNotFoundError, match="no TensorFlow checkpoint"):
        tf1.resolve_prefix(tmp_path / "model.ckpt-9")


# ----- hostile files: each a TF1CheckpointError naming the problem --------------------------------


def _entries(**entry):
    return [(b"", B.header_proto()), (b"w", B.entry_proto(**{"dtype": 1, "shape": (2,), "size": 8, **entry}))]


def _parse(data):
    return tf1.parse_index(data, "test.index")


def test_real_index_truncated_anywhere_is_refused():
    data = (FIXTURES / "tf1_dense" / "model.ckpt-0.index").read_bytes()
    for cut in list(range(0, len(data), 97)) + [len(data) - 1, len(data) - 48, len(data) - 49]:
        with pytest.raises(TF1CheckpointError):
            _parse(data[:cut])


@pytest.mark.parametrize("damage, message", [
    (lambda d: d[:-8] + bytes(8), "no table magic number"),
    (lambda d: d[:20] + bytes([d[20] ^ 0x40]) + d[21:], "fails its CRC-32C check"),
    (lambda d: d[:-48] + B.handle(0, 0) + B.handle(10**9, 5) + bytes(40 - 2 - 6) + d[-8:],
     "runs past the end"),
    (lambda d: d[:-48] + B.handle(10**6, 8) + B.handle(0, 5) + bytes(40 - 4 - 2) + d[-8:], "metaindex block"),
    (lambda d: d[:-48] + b"\xff" * 40 + d[-8:], "varint longer than 10 bytes"),
])
def test_damaged_table(damage, message):
    data = B.table(_entries())
    with pytest.raises(TF1CheckpointError, match=message):
        _parse(damage(data))


def test_compressed_block_is_refused():
    contents = B.block(_entries())
    data = B.with_trailer(contents, kind=1)  # snappy
    index = B.block([(b"x", B.handle(0, len(contents)))], 1)
    data += B.with_trailer(B.block([])) + B.with_trailer(index)
    footer = B.handle(len(contents) + 5, 8) + B.handle(len(contents) + 18, len(index))
    with pytest.raises(TF1CheckpointError, match="compressed with type 1"):
        _parse(data + footer + bytes(40 - len(footer)) + B.MAGIC)


def _raw_block_table(contents: bytes) -> bytes:
    """A table whose single data block has exactly these (possibly malformed) contents."""
    index = B.block([(b"\xff", B.handle(0, len(contents)))], 1)
    out = B.with_trailer(contents) + B.with_trailer(B.block([]))
    footer = B.handle(len(contents) + 5, len(B.block([]))) + B.handle(len(out), len(index))
    out += B.with_trailer(index)
    return out + footer + bytes(40 - len(footer)) + B.MAGIC


def _entry_bytes(shared, key, value):
    return B.varint(shared) + B.varint(len(key)) + B.varint(len(value)) + key + value


@pytest.mark.parametrize("contents, message", [
    (b"\x01", "too short for its restart count"),
    (b"\x00" * 4 + (10**6).to_bytes(4, "little"), "cannot hold 1000000 restart offsets"),
    (_entry_bytes(5, b"k", b"") + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"),
     "shares 5 bytes with a previous key of 0"),
    (B.varint(0) + B.varint(50) + B.varint(0) + b"abc" + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"),
     "runs past the end of its block"),
    (b"\x80\x80\x80\x80\x80\x01" + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"),
     "varint longer than 5 bytes"),
    (b"\x80" + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"), "truncated varint|runs past"),
    (_entry_bytes(0, b"", B.header_proto()) + _entry_bytes(0, b"b", b"") + _entry_bytes(0, b"a", b"")
     + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"), r"key b'a' is not after b'b'"),
    (_entry_bytes(0, b"", B.header_proto()) + _entry_bytes(0, b"b", b"") + _entry_bytes(0, b"b", b"")
     + (0).to_bytes(4, "little") + (1).to_bytes(4, "little"), "sorted and unique"),
    (_entry_bytes(0, b"", b"") + (3).to_bytes(4, "little") + (1).to_bytes(4, "little"),
     "restart offset 3 is not the start of a full key"),
])
def test_malformed_blocks(contents, message):
    with pytest.raises(TF1CheckpointError, match=message):
        _parse(_raw_block_table(contents))


def test_prefix_chain_cannot_rebuild_quadratic_keys():
    """n entries of 4 bytes, each sharing all of the previous key and adding a byte: keys of 1..n bytes."""
    n = 40_000  # 160 kB of entries would rebuild 800 MB of keys
    chain = b"".join(_entry_bytes(i, b"a", b"") for i in range(n))
    contents = _entry_bytes(0, b"", B.header_proto()) + chain + (0).to_bytes(4, "little") + (1).to_bytes(4, "little")
    with pytest.raises(TF1CheckpointError, match="keys are limited to 65536 bytes"):
        _parse(_raw_block_table(contents))
    short = b"".join(_entry_bytes(i, b"a", b"") for i in range(3000))  # 4.5 MB of keys from 12 kB
    contents = _entry_bytes(0, b"", B.header_proto()) + short + (0).to_bytes(4, "little") + (1).to_bytes(4, "little")
    with pytest.raises(TF1CheckpointError, match="64x the file in all"):
        _parse(_raw_block_table(contents))


def test_key_beyond_its_index_key():
    contents = B.block([(b"", B.header_proto()), (b"zz", b"")])
    data = B.with_trailer(contents) + B.with_trailer(B.block([]))
    index = B.block([(b"m", B.handle(0, len(contents)))], 1)
    footer = B.handle(len(contents) + 5, len(B.block([]))) + B.handle(len(data), len(index))
    data += B.with_trailer(index)
    with pytest.raises(TF1CheckpointError, match="beyond its block's index key"):
        _parse(data + footer + bytes(40 - len(footer)) + B.MAGIC)


@pytest.mark.parametrize("value, message", [
    (B.entry_proto(1, (2,), size=9), "needs 8 bytes, the entry says 9"),
    (B.entry_proto(1, (1 << 62, 4), size=0), "too large for any file"),
    (B.entry_proto(1, (1 << 40, 1 << 40), size=0), "too large for any file"),
    (B.entry_proto(7, (2,), size=8), "holds strings"),
    (B.entry_proto(99, (2,), size=8), "dtype enum 99"),
    (B.entry_proto(1, (2,), size=8) + B.pb_bytes(7, b""), "partitioned"),
    (B.pb_varint(1, 1) + B.pb_bytes(2, B.pb_bytes(2, B.pb_varint(1, -1))), "unknown or negative dimension"),
    (B.pb_varint(1, 1) + B.pb_bytes(2, B.pb_varint(3, 1)), "unknown rank"),
    (B.pb_varint(1, 1) + B.pb_bytes(2, B.pb_bytes(2, b"") * 65), "more than 64 dimensions"),
    (B.entry_proto(1, (2,), size=8, shard_id=3), "in shard 3, but the checkpoint has 1"),
    (B.pb_varint(1, 1) + B.pb_varint(4, -5), "negative offset"),
    (B.pb_varint(1, 1) + b"\x13", "unsupported protobuf wire type 3"),  # a group
    (B.pb_varint(1, 1) + b"\x12\x64", "claims 100 bytes"),
    (B.pb_varint(1, 1) + b"\x35\x01\x02", "field 6 truncated"),
    (B.pb_varint(1, 1) + b"\x00\x01", "field number 0"),
    (B.pb_bytes(1, b"x"), "field 1 has wire type 2, expected 0"),
    (B.pb_varint(1, 1) + B.varint(2 << 3) + b"\xff" * 9 + b"\x7f", "varint overflows 64 bits"),
])
def test_hostile_entries(value, message):
    with pytest.raises(TF1CheckpointError, match=message):
        _parse(B.table([(b"", B.header_proto()), (b"w", value)]))


def test_deep_garbage_protobuf_is_skipped_without_recursion():
    """Unknown nested fields are skipped by their length, never parsed: 20 000 levels cost nothing."""
    deep = bytearray()
    for _ in range(20_000):  # built inside out: each level is a field 9 holding the previous ones
        deep[:0] = B.varint(9 << 3 | 2) + B.varint(len(deep))
    deep = bytes(deep)
    header, tensors = _parse(B.table(_entries() + [(b"x", B.entry_proto(1, (1,), size=4) + B.pb_bytes(15, deep))]))
    assert tensors["x"].shape == (1,)


@pytest.mark.parametrize("header, message", [
    (B.header_proto(num_shards=0), r"num_shards 0 is not in \[1, 10000\]"),
    (B.header_proto(num_shards=10**9), "num_shards 1000000000"),
    (B.header_proto(endianness=2), "unknown endianness 2"),
    (B.pb_varint(1, 1) + B.pb_bytes(3, B.pb_varint(2, 2)), "needs a reader of bundle version 2"),
])
def test_hostile_headers(header, message):
    with pytest.raises(TF1CheckpointError, match=message):
        _parse(B.table([(b"", header)]))


def test_missing_header_and_non_utf8_names():
    with pytest.raises(TF1CheckpointError, match="no bundle header"):
        _parse(B.table([(b"a", B.entry_proto())]))
    with pytest.raises(TF1CheckpointError, match="not UTF-8"):
        _parse(B.table([(b"", B.header_proto()), (b"\xff\xfe", B.entry_proto())]))


def test_data_file_problems(tmp_path):
    index, data = B.bundle({"a": np.arange(4, dtype=np.float32), "b": np.ones(3, np.float64)})
    prefix = B.write(tmp_path / "short", index, data[:-1])
    with pytest.raises(TF1CheckpointError, match=r"tensor 'b' lies at bytes \[16, 40\).*holds 39"):
        TF1Checkpoint(prefix)
    prefix = B.write(tmp_path / "corrupt", index, data[:3] + bytes([data[3] ^ 1]) + data[4:])
    with TF1Checkpoint(prefix) as ckpt:
        np.testing.assert_array_equal(ckpt.get_tensor("b"), np.ones(3))
        with pytest.raises(TF1CheckpointError, match="tensor 'a' fails its CRC-32C check"):
            ckpt.get_tensor("a")
    with TF1Checkpoint(prefix, verify_checksums=False) as ckpt:
        assert ckpt.get_tensor("a").shape == (4,)
    (tmp_path / "corrupt" / "model.ckpt-1.data-00000-of-00001").unlink()
    with pytest.raises(TF1CheckpointError, match="data file model.ckpt-1.data-00000-of-00001 is missing"):
        TF1Checkpoint(prefix)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("which, error", [(".index", FileNotFoundError), (".data-00000-of-00001", TF1CheckpointError)])
def test_a_fifo_in_place_of_a_file_is_refused_without_blocking(tmp_path, which, error):
    prefix = B.write(tmp_path, *B.bundle({"a": np.arange(4, dtype=np.float32)}))
    path = prefix.with_name(prefix.name + which)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(error, match="FIFO" if error is TF1CheckpointError else "no TensorFlow checkpoint"):
        TF1Checkpoint(prefix)


def test_data_file_shrinking_after_open(tmp_path):
    prefix = B.write(tmp_path, *B.bundle({"a": np.arange(4, dtype=np.float32)}))
    with TF1Checkpoint(prefix) as ckpt:
        Path(f"{prefix}.data-00000-of-00001").write_bytes(b"")
        with pytest.raises(TF1CheckpointError, match="data file ended inside tensor 'a'"):
            ckpt.get_tensor("a")


def test_index_larger_than_the_limit(tmp_path, monkeypatch):
    prefix = B.write(tmp_path, *B.bundle({"a": np.zeros(1, np.float32)}))
    monkeypatch.setattr(tf1, "MAX_INDEX_BYTES", 64)
    with pytest.raises(TF1CheckpointError, match="larger than 64 bytes, the limit for a TF1 index"):
        TF1Checkpoint(prefix)
