"""pytorch_model.bin written without torch (io/torch_save.py): torch.load(weights_only=True) and our reader
read back the same arrays; tied arrays are stored once; storages are 64-byte aligned in the file."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest

from minconvbert.io import torch_pickle, torch_save


def _tensors():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 3)).astype(np.float32)
    return {
        "f64": rng.standard_normal((2, 3)), "f32": w, "tied": w, "f16": rng.standard_normal(4).astype(np.float16),
        "big_endian": np.arange(6, dtype=">i4").reshape(2, 3), "i64": np.arange(-3, 9),
        "i16": np.arange(4, dtype=np.int16),
        "i8": np.array([-128, 0, 127], np.int8), "u8": np.array([0, 1, 255], np.uint8), "bool": np.array([True, False]),
        "scalar": np.array(2.5), "empty": np.zeros((0, 3), np.float32), "transposed": w.T, "strided": w[::2, 1:],
    }


def test_torch_reads_what_we_write(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = _tensors()
    path = tmp_path / "pytorch_model.bin"
    torch_save.save_file(tensors, path)
    for mmap in (False, True):
        state = torch.load(path, weights_only=True, mmap=mmap)
        assert list(state) == list(tensors)
        for name, tensor in state.items():
            assert tensor.numpy().dtype == tensors[name].dtype.newbyteorder("="), name
            np.testing.assert_array_equal(tensor.numpy(), tensors[name], err_msg=name)
        assert state["f32"].untyped_storage().data_ptr() == state["tied"].untyped_storage().data_ptr()


def test_our_reader_reads_what_we_write(tmp_path):
    tensors = _tensors()
    path = tmp_path / "pytorch_model.bin"
    calls = []
    torch_save.save_file(tensors, path, on_progress=lambda done, total: calls.append((done, total)))
    ours = torch_pickle.load_file(path)
    for name, value in tensors.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)
    assert np.shares_memory(ours["f32"], ours["tied"])  # one storage, named twice
    unique = len(tensors) - 1
    assert len(calls) == unique and calls[-1][0] == calls[-1][1] == sum(
        v.nbytes for k, v in tensors.items() if k != "tied")


def test_storages_are_aligned_and_stored_once(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    torch_save.save_file(_tensors(), path)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        storages = [info for info in zf.infolist() if "/data/" in info.filename]
        assert [i.filename for i in zf.infolist()][:2] == ["pytorch_model/data.pkl", "pytorch_model/byteorder"]
    assert len(storages) == len(_tensors()) - 1
    for info in storages:
        name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0, info.filename
        assert info.compress_type == zipfile.ZIP_STORED


@pytest.mark.parametrize("value, error, match", [
    (np.arange(3, dtype=np.uint32), torch_pickle.TorchCheckpointError, "dtype uint32 cannot be stored"),
    (np.zeros(2, np.complex64), torch_pickle.TorchCheckpointError, "dtype complex64 cannot be stored"),
    ([1.0, 2.0], TypeError, "expected a numpy array"),
])
def test_what_cannot_be_stored_is_refused_before_writing(tmp_path, value, error, match):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(b"old")
    with pytest.raises(error, match=match):
        torch_save.save_file({"w": value}, path)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["pytorch_model.bin"]
