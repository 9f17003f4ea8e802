"""pytorch_model.bin without torch: files written by torch.save, and hostile or malformed pickles."""

import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from minconvbert.io import torch_pickle as tp
from tests.io.torch_archives import FLOAT, INT, Storage, View, archive, dumps


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _state_dict(torch):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 8, generator=g)
    base = torch.randn(5, 7, generator=g)
    sd = OrderedDict()
    sd["f32"] = torch.randn(3, 4, generator=g)
    sd["f64"] = torch.randn(2, 3, generator=g).double()
    sd["f16"] = torch.randn(4, 2, generator=g).half()
    sd["bf16"] = torch.randn(3, 5, generator=g).bfloat16()
    sd["i64"] = torch.arange(-3, 9)
    sd["i32"] = torch.arange(6, dtype=torch.int32).reshape(2, 3)
    sd["i16"] = torch.arange(4, dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["embeddings.word_embeddings.weight"] = w  # tied weights: one storage, two names
    sd["generator_lm_head.weight"] = w
    sd["transposed"] = base.t()
    sd["row_slice"] = base[2:4]  # contiguous, with a storage offset
    sd["strided_slice"] = base[1:, ::3]  # offset and strides
    sd["expanded"] = torch.randn(1, 4, generator=g).expand(3, 4)
    sd["position_ids"] = torch.arange(8).expand((1, -1))
    return sd


def _expected(t):
    t = t.float() if str(t.dtype) == "torch.bfloat16" else t
    return t.contiguous().numpy()


def test_torch_save_state_dict_roundtrip(tmp_path, torch):
    sd = _state_dict(torch)
    path = tmp_path / "pytorch_model.bin"
    torch.save(sd, path)
    ours = tp.load_file(path)
    reference = torch.load(path, weights_only=True)
    assert list(ours) == list(sd)
    for name, tensor in reference.items():
        arr = ours[name]
        want = _expected(tensor)
        assert arr.dtype == want.dtype, name
        assert arr.shape == want.shape, name
        np.testing.assert_array_equal(arr, want, err_msg=name)
        assert arr.flags.c_contiguous and arr.dtype.isnative, name
    assert ours["bf16"].dtype == np.float32
    # Tied weights share memory, as they share a storage in torch; slices of a contiguous run too.
    assert np.shares_memory(ours["embeddings.word_embeddings.weight"], ours["generator_lm_head.weight"])
    assert not np.shares_memory(ours["transposed"], ours["strided_slice"])  # non-contiguous views copied


def test_real_module_state_dict_with_metadata(tmp_path, torch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3), torch.nn.Embedding(5, 3))
    model.register_buffer("position_ids", torch.arange(7).expand((1, -1)))
    path = tmp_path / "m.bin"
    torch.save(model.state_dict(), path)  # an OrderedDict with a _metadata attribute (pickle BUILD)
    ours = tp.load_file(path)
    for name, tensor in model.state_dict().items():
        np.testing.assert_array_equal(ours[name], tensor.numpy(), err_msg=name)


def test_parameters_saved_directly(tmp_path, torch):
    p = torch.nn.Parameter(torch.arange(3.0))
    torch.save({"p": p}, tmp_path / "p.bin")  # pickled through torch._utils._rebuild_parameter
    np.testing.assert_array_equal(tp.load_file(tmp_path / "p.bin")["p"], [0.0, 1.0, 2.0])


def test_corrupt_storage_bytes_fail_the_crc(tmp_path, torch):
    path = tmp_path / "x.bin"
    torch.save({"w": torch.zeros(64)}, path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("x/data/0")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len  # the data follows the local file header
    assert data[start:start + 256] == bytes(256)
    data[start + 10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(tp.TorchCheckpointError, match="storage 0 is corrupt.*CRC"):
        tp.load_file(path)


def test_progress_reports_every_byte(tmp_path, torch):
    torch.save({"a": torch.zeros(1000), "b": torch.zeros(10, dtype=torch.float16)}, tmp_path / "x.bin")
    calls = []
    tp.load_file(tmp_path / "x.bin", on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (4020, 4020)


# ---------------------------------------------------------------------------------------------
# hand-made archives (tests/io/torch_archives.py): the same layout as torch.save, with any pickle we like


def test_hand_made_archive_matches_torch_load(tmp_path, torch):
    s = Storage("0", FLOAT, 6)
    path = archive(tmp_path / "h.bin", dumps({"w": View(s, 1, (2, 2), (1, 2))}),
                    {"0": np.arange(6, dtype="<f4").tobytes()})
    want = torch.load(path, weights_only=True)["w"].numpy()
    np.testing.assert_array_equal(tp.load_file(path)["w"], want)


def test_big_endianarchive(tmp_path):
    s = Storage("0", INT, 3)
    path = archive(tmp_path / "be.bin", dumps({"w": View(s, 0, (3,), (1,))}),
                    {"0": np.array([1, 2, 300], dtype=">i4").tobytes()}, byteorder=b"big")
    out = tp.load_file(path)["w"]
    np.testing.assert_array_equal(out, [1, 2, 300])
    assert out.dtype.isnative


@pytest.mark.parametrize("size, stride, offset", [((10,), (1,), 0), ((2, 3), (3, 1), 1), ((3,), (5,), 0)])
def test_view_outside_its_storage_is_refused(tmp_path, size, stride, offset):
    s = Storage("0", FLOAT, 6)
    path = archive(tmp_path / "oob.bin", dumps({"w": View(s, offset, size, stride)}), {"0": bytes(24)})
    with pytest.raises(tp.TorchCheckpointError, match="reaches element"):
        tp.load_file(path)


def test_huge_expansion_is_refused(tmp_path):
    s = Storage("0", FLOAT, 1)
    path = archive(tmp_path / "x.bin", dumps({"w": View(s, 0, (1 << 20, 1 << 20), (0, 0))}), {"0": bytes(4)})
    with pytest.raises(tp.TorchCheckpointError, match="would allocate more than"):
        tp.load_file(path)


def test_storage_shorter_than_declared(tmp_path):
    s = Storage("0", FLOAT, 6)
    path = archive(tmp_path / "short.bin", dumps({"w": View(s, 0, (6,), (1,))}), {"0": bytes(20)})
    with pytest.raises(tp.TorchCheckpointError, match="should hold 6 elements"):
        tp.load_file(path)


def test_missing_storage_entry(tmp_path):
    s = Storage("7", FLOAT, 1)
    path = archive(tmp_path / "m.bin", dumps({"w": View(s, 0, (1,), (1,))}), {})
    with pytest.raises(tp.TorchCheckpointError, match="no entry 'archive/data/7'"):
        tp.load_file(path)


def test_compressed_entries_are_refused(tmp_path):
    s = Storage("0", FLOAT, 1)
    path = archive(tmp_path / "c.bin", dumps({"w": View(s, 0, (1,), (1,))}), {"0": bytes(4)},
                    compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(tp.TorchCheckpointError, match="compressed"):
        tp.load_file(path)


# ---------------------------------------------------------------------------------------------
# hostile pickles


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_hostile_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _RunsCommand(f"touch {marker}")}, protocol=2)
    # The payload is real: plain pickle, in another process, runs the command.
    demo = tmp_path / "demo"
    demo_payload = pickle.dumps(_RunsCommand(f"touch {demo}"), protocol=2)
    subprocess.run([sys.executable, "-c", "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=demo_payload, check=True)
    assert demo.exists()

    path = archive(tmp_path / "pytorch_model.bin", payload)
    with pytest.raises(tp.RefusedGlobalError, match=rf"refused global {os.system.__module__}\.system"):
        tp.load_file(path)
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [
    ("builtins", "eval"), ("builtins", "exec"), ("os", "system"), ("subprocess", "Popen"),
    ("torch", "load"), ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("numpy.core.multiarray", "_reconstruct"), ("collections", "defaultdict"), ("builtins", "getattr"),
])
@pytest.mark.parametrize("opcode", ["GLOBAL", "STACK_GLOBAL"])
def test_every_other_global_is_refused_by_name(tmp_path, module, name, opcode):
    if opcode == "GLOBAL":
        body = b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n."
    else:  # protocol 4: module and name pushed as strings, then STACK_GLOBAL
        body = (b"\x80\x04\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)])
                + name.encode() + b"\x93.")
    path = archive(tmp_path / "g.bin", body)
    with pytest.raises(tp.RefusedGlobalError, match=rf"refused global {module}\.{name}"):
        tp.load_file(path)


def test_storage_type_is_not_callable_and_reduce_on_it_fails_cleanly(tmp_path):
    body = b"\x80\x02ctorch\nFloatStorage\n)R."  # torch.FloatStorage() -- would allocate in torch
    with pytest.raises(tp.TorchCheckpointError, match="malformed pickle"):
        tp.load_file(archive(tmp_path / "s.bin", body))


@pytest.mark.parametrize("body, match", [
    (b"\x80\x02]q\x00.", "holds a list of 0 items, not a state dict"),
    (b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.", "entry 'a' holds 1, not a tensor"),
    (b"\x80\x02}q\x00(", "malformed pickle"),
    (b"not a pickle", "malformed pickle"),
    (b"\x80\x02X\x07\x00\x00\x00storageQ.", "unexpected persistent id"),
])
def test_malformed_pickles(tmp_path, body, match):
    with pytest.raises(tp.TorchCheckpointError, match=match):
        tp.load_file(archive(tmp_path / "bad.bin", body))


def test_legacy_and_non_checkpoint_files(tmp_path, torch):
    legacy = tmp_path / "legacy.bin"
    torch.save({"a": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(tp.TorchCheckpointError, match="legacy .*non-zip"):
        tp.load_file(legacy)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world")
    with pytest.raises(tp.TorchCheckpointError, match="not a PyTorch zip checkpoint"):
        tp.load_file(junk)
    with pytest.raises(FileNotFoundError, match="no such file"):
        tp.load_file(tmp_path / "absent.bin")


def test_nested_checkpoint_is_a_clear_error(tmp_path, torch):
    torch.save({"model": {"w": torch.zeros(1)}, "step": 3}, tmp_path / "n.bin")
    with pytest.raises(tp.TorchCheckpointError, match="only a flat state dict"):
        tp.load_file(tmp_path / "n.bin")
