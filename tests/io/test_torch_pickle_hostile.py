"""Hostile pytorch_model.bin files (issue 16, bugs 2 and 3): each is refused, harms no later load, and
costs little memory and time.

Bug 2: BUILD on the unpickler's stand-ins changed them for every later load in the process.
Bug 3: a few bytes made the reader spend minutes (repr of shared structure, hashing it) or gigabytes
(a memo index, expansions adding up over tensors, zip entries overlapping in the file). The costly
cases run in a child process with a capped address space and a deadline (tests/io/reader_worker.py),
and their peak memory is measured with tracemalloc.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile

import numpy as np
import pytest

from minconvbert.io import torch_pickle as tp
from tests.io.torch_archives import FLOAT, Storage, View, archive, dumps

PROTO = b"\x80\x02"


def _str(s: str) -> bytes:
    return b"X" + struct.pack("<I", len(s)) + s.encode()


def _benign(tmp_path, name="benign.bin"):
    """A float32 checkpoint {"w": [0, 1, 2, 3, 4, 5] as (2, 3)}."""
    return archive(tmp_path / name, dumps({"w": View(Storage("0", FLOAT, 6), 0, (2, 3), (3, 1))}),
                   {"0": np.arange(6, dtype="<f4").tobytes()})


# ---------------------------------------------------------------------------------------------
# bug 2: BUILD on the stand-ins


GLOBALS = [("torch", "FloatStorage"), ("torch", "BFloat16Storage"), ("torch", "BoolStorage"),
           ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"),
           ("torch._utils", "_rebuild_parameter"), ("collections", "OrderedDict")]


@pytest.mark.parametrize("module, name", GLOBALS)
@pytest.mark.parametrize("state", ["slots", "dict"])
def test_build_on_an_allowed_global_is_refused_and_later_loads_are_unharmed(tmp_path, module, name, state):
    # (None, {"bf16": True}) sets attributes through __slots__; {"x": 1} through __dict__. The old
    # reader applied the first to its shared torch.FloatStorage: every later float32 file was then
    # widened from bfloat16, i.e. garbage.
    set_state = b"N}" + _str("bf16") + b"\x88s\x86" if state == "slots" else b"}" + _str("x") + b"K\x01s"
    body = PROTO + f"c{module}\n{name}\n".encode() + set_state + b"b0}."  # GLOBAL, state, BUILD, POP, {}
    with pytest.raises(tp.TorchCheckpointError, match="set attributes on|malformed pickle"):
        tp.load_file(archive(tmp_path / "hostile.bin", body))
    np.testing.assert_array_equal(tp.load_file(_benign(tmp_path))["w"], np.arange(6.0).reshape(2, 3))


def test_build_may_only_attach_metadata_to_the_state_dict(tmp_path):
    ordered_dict = b"ccollections\nOrderedDict\n)R"
    ok = PROTO + ordered_dict + b"}" + _str("_metadata") + b"}s" + b"b."  # torch's own BUILD
    assert tp.load_file(archive(tmp_path / "ok.bin", ok)) == {}
    other = PROTO + ordered_dict + b"}" + _str("update") + b"Ns" + b"b."
    with pytest.raises(tp.TorchCheckpointError, match="unexpected attributes on the state dict"):
        tp.load_file(archive(tmp_path / "other.bin", other))


# ---------------------------------------------------------------------------------------------
# bug 3: files of a few bytes that cost minutes or gigabytes


def _shared_lists(depth: int) -> bytes:
    """A list holding the same list twice, `depth` times over: 10 bytes a level, 2**depth leaves."""
    body = b"]"
    for _ in range(depth):
        body += b"q\x00" + b"0" + b"](h\x00h\x00e"  # BINPUT 0, POP, [memo 0, memo 0]
    return body


def _shared_tuples(depth: int) -> bytes:
    return b")" + b"2\x86" * depth  # DUP, TUPLE2: ((t, t), (t, t)) ...


def _rebuild(storage: bytes, offset: bytes, size: bytes, stride: bytes) -> bytes:
    return b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage + offset + size + stride + b"\x89N" + b"tR"


def _pid(key: str, numel: int) -> bytes:
    return b"(" + _str("storage") + b"ctorch\nFloatStorage\n" + _str(key) + _str("cpu") + b"J" + \
        struct.pack("<i", numel) + b"tQ"


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def _nested_entries(n: int, payload: int) -> bytes:
    """n zip entries, each one's data holding the next one whole: the entries overlap in the file,
    so that reading every entry reads about n x payload bytes out of a file of payload + 60n bytes."""
    names = [f"archive/data/{k}" for k in range(n)]
    inner = bytes(payload)
    headers = []
    for name in reversed(names):  # innermost first
        crc = zipfile.crc32(inner)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 33, crc, len(inner), len(inner),
                            len(name), 0) + name.encode()
        headers.append((name, crc, len(inner)))
        inner = local + inner
    pickle_bytes = PROTO + b"}(" + b"".join(_str(f"t{k}") + _rebuild(_pid(str(k), 4), b"K\x00", b"K\x04\x85",
                                                                      b"K\x01\x85") for k in range(n)) + b"u."
    head = _zip([("archive/data.pkl", pickle_bytes)])
    head = head[:head.index(b"PK\x01\x02")]  # keep data.pkl's local entry; the directories are rebuilt
    body = head + inner
    offsets, position = {}, len(head)
    for name, _, size in reversed(headers):
        offsets[name] = position
        position += 30 + len(name)
    directory = b""
    with zipfile.ZipFile(io.BytesIO(_zip([("archive/data.pkl", pickle_bytes)]))) as zf:
        pkl = zf.getinfo("archive/data.pkl")
    entries = [("archive/data.pkl", pkl.CRC, pkl.file_size, 0)] + [(n_, c, s, offsets[n_]) for n_, c, s in headers]
    for name, crc, size, offset in entries:
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 33, crc, size, size, len(name),
                                 0, 0, 0, 0, 0, offset) + name.encode()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    return body + directory + end


HOSTILE = {
    # repr() of a shared structure in an error message: exponential (the old reader: minutes, GBs)
    "persistent id of shared lists": PROTO + _shared_lists(60) + b"Q.",
    "tensor offset of shared lists": PROTO + b"}" + _str("w") + _rebuild(_pid("0", 1), _shared_lists(60),
                                                                        b"K\x01\x85", b"K\x01\x85") + b"s.",
    # hashing a dict key made of shared tuples: exponential, inside pickle's C code
    "dict key of shared tuples": PROTO + b"}" + _shared_tuples(64) + b"K\x01s.",
    # LONG_BINPUT 2**26: pickle's memo is an array, resized to twice the index (1 GB)
    "memo index 2**26": PROTO + b"Nr\xff\xff\xff\x03.",
}


def _expansions(n: int) -> bytes:
    """n tensors, each one float32 storage element expanded to 2**26 elements (256 MB)."""
    tensors = b"".join(_str(f"t{k}") + _rebuild(_pid(str(k), 1), b"K\x00", b"J" + struct.pack("<i", 1 << 26) + b"\x85",
                                                 b"K\x00\x85") for k in range(n))
    return _zip([("archive/data.pkl", PROTO + b"}(" + tensors + b"u.")] +
                [(f"archive/data/{k}", bytes(4)) for k in range(n)])


@pytest.fixture(scope="module")
def worker():
    if sys.platform == "win32":
        pytest.skip("the reader worker needs select() on pipes")
    from tests.io.reader_worker import ReaderWorker

    with ReaderWorker(deadline_seconds=60) as w:
        yield w


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_costly_pickles_are_refused_cheaply(worker, case):
    data = _zip([("archive/data.pkl", HOSTILE[case])])
    outcome = worker.run("pytorch_model.bin", {"pytorch_model.bin": data})
    assert outcome.kind == "refused", (case, outcome)
    assert outcome.peak < 16 << 20, (case, outcome)


def test_expansions_share_one_budget(worker):
    data = _expansions(40)  # 9 kB asking for 40 x 256 MB
    assert len(data) < 10_000
    outcome = worker.run("pytorch_model.bin", {"pytorch_model.bin": data})
    assert outcome.kind == "refused" and "would allocate more than" in outcome.error, outcome
    assert outcome.peak < 16 << 20, outcome


def test_overlapping_entries_are_refused_before_reading(worker):
    data = _nested_entries(200, 1 << 20)  # 1.06 MB; reading every entry would read 200 MB
    assert len(data) < 1.1e6
    outcome = worker.run("pytorch_model.bin", {"pytorch_model.bin": data})
    assert outcome.kind == "refused" and "overlap" in outcome.error, outcome
    assert outcome.peak < 16 << 20, outcome


def test_two_overlapping_entries(tmp_path):
    path = tmp_path / "nested.bin"
    path.write_bytes(_nested_entries(2, 64))
    with pytest.raises(tp.TorchCheckpointError, match="entries 'archive/data/.' and 'archive/data/.' overlap"):
        tp.load_file(path)


# ---------------------------------------------------------------------------------------------
# weak spots: raw zipfile / NumPy errors, bools, FIFOs


def test_zipfile_errors_are_wrapped(tmp_path):
    good = _benign(tmp_path).read_bytes()
    renamed = good.replace(b"archive/data.pkl", b"archive/data.pkX", 1)  # local header only: names differ
    encrypted = bytearray(good)
    encrypted[good.index(b"PK\x01\x02") + 8] |= 1  # central directory's "encrypted" flag of data.pkl
    for name, data in [("renamed", renamed), ("encrypted", bytes(encrypted))]:
        path = tmp_path / f"{name}.bin"
        path.write_bytes(data)
        with pytest.raises(tp.TorchCheckpointError):  # not zipfile's BadZipFile / RuntimeError
            tp.load_file(path)


def test_too_many_dimensions_is_refused_by_name(tmp_path):
    path = archive(tmp_path / "dims.bin", dumps({"w": View(Storage("0", FLOAT, 1), 0, (1,) * 65, (1,) * 65)}),
                   {"0": bytes(4)})
    with pytest.raises(tp.TorchCheckpointError, match="at most 64"):  # not NumPy's ValueError
        tp.load_file(path)


def test_bool_storage_bytes_other_than_0_and_1_are_refused(tmp_path):
    from tests.io.torch_archives import Global

    boolean = Global("torch", "BoolStorage")
    pickled = dumps({"m": View(Storage("0", boolean, 3), 0, (3,), (1,))})
    good = archive(tmp_path / "b.bin", pickled, {"0": b"\x00\x01\x01"})
    np.testing.assert_array_equal(tp.load_file(good)["m"], [False, True, True])
    bad = archive(tmp_path / "b2.bin", pickled, {"0": b"\x00\x02\x01"})
    with pytest.raises(tp.TorchCheckpointError, match="bool storage 0 holds bytes other than 0 and 1"):
        tp.load_file(bad)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused(tmp_path):
    import os

    os.mkfifo(tmp_path / "pytorch_model.bin")
    with pytest.raises(tp.TorchCheckpointError, match="FIFO"):
        tp.load_file(tmp_path / "pytorch_model.bin")
