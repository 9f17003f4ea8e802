"""Malformed safetensors files: each is refused with a SafetensorsError naming the problem."""

import json
import os
import struct
import threading

import numpy as np
import pytest

from minconvbert.io import safetensors as st


def _file(header, data=b"", n=None, pad=True):
    """Raw file bytes from a header (dict, str or bytes), the data part and an optional forged length."""
    if isinstance(header, dict):
        header = json.dumps(header)
    if isinstance(header, str):
        header = header.encode("utf-8")
    if pad:
        header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header) if n is None else n) + header + data


def _f32(shape, begin=0):
    n = int(np.prod(shape)) * 4
    return {"dtype": "F32", "shape": list(shape), "data_offsets": [begin, begin + n]}


GOOD = _file({"a": _f32([2]), "b": _f32([3], 8)}, bytes(20))

CASES = [
    ("short", b"\x01\x02\x03", "too short for the 8-byte header length"),
    ("huge-length", struct.pack("<Q", 1 << 63) + b"{}", "larger than the 100000000-byte limit"),
    ("length-past-end", _file({}, n=4096), "header length 4096 is larger than the file"),
    ("utf8", _file(b'{"\xff\xfe":1}'), "not valid UTF-8"),
    ("json", _file('{"a": '), "not valid JSON"),
    ("json-nan", _file('{"__metadata__": {"x": NaN}}'), "not valid JSON"),
    ("deep", _file("[" * 100_000 + "]" * 100_000), "not valid JSON"),
    ("bigint", _file('{"a":{"dtype":"F32","shape":[' + "9" * 5000 + '],"data_offsets":[0,0]}}'), "not valid JSON"),
    ("not-object", _file("[1, 2]"), "must be a JSON object, got list"),
    ("duplicate", _file('{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},'
                        '"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'), "'a' appears more than once"),
    ("entry-type", _file({"a": [1, 2]}), "tensor 'a': entry must be a JSON object, got list"),
    ("missing-field", _file({"a": {"dtype": "F32", "shape": [1]}}, bytes(4)), "missing field 'data_offsets'"),
    ("unknown-dtype", _file({"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, bytes(4)),
     "tensor 'a': unknown dtype 'F8_E4M3'"),
    ("dtype-type", _file({"a": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "unknown dtype 4"),
    ("shape-type", _file({"a": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}, bytes(4)),
     "shape must be a list of non-negative integers"),
    ("shape-negative", _file({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)),
     "shape must be a list of non-negative integers"),
    ("shape-bool", _file({"a": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, bytes(4)),
     "shape must be a list of non-negative integers"),
    ("shape-float", _file({"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}, bytes(4)),
     "shape must be a list of non-negative integers"),
    ("too-many-dims", _file({"a": {"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}}, bytes(4)),
     "65 dimensions"),
    ("zero-but-huge", _file({"a": {"dtype": "F32", "shape": [0, 1 << 62], "data_offsets": [0, 0]}}),
     "too large for any file"),
    ("shape-vs-bytes", _file({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}, bytes(12)),
     r"shape \[2, 2\] of F32 needs 16 bytes but data_offsets \[0, 12\] hold 12"),
    ("offsets-type", _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, bytes(4)),
     "data_offsets must be two integers"),
    ("offsets-reversed", _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, bytes(4)),
     "not 0 <= begin <= end"),
    ("offsets-out-of-range", _file({"a": _f32([4])}, bytes(8)), r"out of range: the data part holds only 8 bytes"),
    ("gap-start", _file({"a": _f32([1], 4)}, bytes(8)), "gap of 4 bytes at the start of the data"),
    ("gap-middle", _file({"a": _f32([1]), "b": _f32([1], 8)}, bytes(12)), "gap of 4 bytes after tensor 'a'"),
    ("overlap", _file({"a": _f32([2]), "b": _f32([2], 4)}, bytes(12)), "tensors 'a' and 'b' overlap"),
    ("trailing", _file({"a": _f32([1])}, bytes(9)), "5 bytes after the last tensor"),
    ("truncated-data", GOOD[:-1], "out of range"),
    ("truncated-header", GOOD[:20], "larger than the file"),
    ("metadata-type", _file({"__metadata__": {"k": 1}}), "__metadata__ must be an object mapping strings to strings"),
    ("metadata-list", _file({"__metadata__": ["k"]}), "__metadata__ must be an object"),
]


def test_good_file_loads():
    assert set(st.load(GOOD)) == {"a", "b"}


@pytest.mark.parametrize("name, data, match", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_is_refused_by_name(tmp_path, name, data, match):
    with pytest.raises(st.SafetensorsError, match=match):
        st.load(data)
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(data)
    with pytest.raises(st.SafetensorsError, match=match) as info:
        st.load_file(path)
    assert str(path) in str(info.value)  # the message says which file


def test_official_reader_also_refuses_them(tmp_path):
    # We are not stricter than the format except on one point the official reader (0.8) lets
    # through: a name given twice (it keeps the last value; we refuse the ambiguity).
    # Some of the others it refuses only with a NumPy error (ndim > 64, F8 dtypes, huge empty shapes).
    sn = pytest.importorskip("safetensors.numpy")
    for name, data, _ in CASES:
        if name == "duplicate":
            continue
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        with pytest.raises(Exception):
            sn.load_file(path)


def test_unknown_fields_are_ignored_like_the_official_reader():
    data = _file({"a": {**_f32([1]), "future": [1, 2]}}, struct.pack("<f", 1.5))
    assert st.load(data)["a"].tolist() == [1.5]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        st.safe_open(tmp_path / "nope.safetensors")


def test_file_changed_under_an_open_handle(tmp_path):
    path = tmp_path / "m.safetensors"
    st.save_file({"a": np.ones(1024, dtype=np.float32)}, path)
    with st.safe_open(path) as f:
        with open(path, "r+b") as g:
            g.truncate(100)
        with pytest.raises(st.SafetensorsError, match="changed size"):
            f.get_tensor("a")


def test_bool_bytes_other_than_0_and_1_are_refused(tmp_path):
    entry = {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}
    assert st.load(_file({"m": entry}, b"\x00\x01\x01"))["m"].tolist() == [False, True, True]
    bad = _file({"m": entry}, b"\x00\x02\x01")  # NumPy would keep the 2: then `m == True` is False
    path = tmp_path / "bool.safetensors"
    path.write_bytes(bad)
    for read in (lambda: st.load(bad), lambda: st.load_file(path), lambda: st.load_file(path, mmap=False)):
        with pytest.raises(st.SafetensorsError, match="BOOL tensor 'm' holds bytes other than 0 and 1"):
            read()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "model.safetensors"
    os.mkfifo(path)
    # Should the reader block in open(), a writer comes after 10 s to release it (and the test fails).
    rescue = threading.Timer(10, lambda: os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK)))
    rescue.start()
    try:
        with pytest.raises(st.SafetensorsError, match="is a FIFO"):
            st.safe_open(path)
        with pytest.raises(st.SafetensorsError, match="is a directory"):
            st.safe_open(tmp_path)
    finally:
        rescue.cancel()
