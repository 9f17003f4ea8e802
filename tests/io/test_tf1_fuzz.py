"""Random damage to TF1 indexes: the reader either parses or raises TF1CheckpointError, nothing else,
and never allocates much (derandomised in CI by HYPOTHESIS_PROFILE=ci)."""

import tracemalloc
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minconvbert.io import tf1
from minconvbert.io.tf1 import TF1CheckpointError
from tests.io import tf1_builder as B

INDEX = (Path(__file__).resolve().parent.parent / "fixtures" / "tf" / "tf1_dense" / "model.ckpt-0.index").read_bytes()
_PEAK_BYTES = 8 << 20  # the real index is 6.5 kB; parsing anything made from it stays far below this
tf1.parse_index(INDEX)  # compiles (or loads) the CRC loop now, outside the measured allocations


def _parse_or_refuse(data: bytes):
    tracemalloc.start()
    try:
        return tf1.parse_index(data, "fuzz.index")
    except TF1CheckpointError:
        return None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < _PEAK_BYTES, f"parsing {len(data)} bytes allocated {peak} bytes"


_edits = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(INDEX) - 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, len(INDEX) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(INDEX)), st.integers(0, 255)),
)


@given(st.lists(_edits, min_size=1, max_size=4))
def test_damaged_real_index(edits):
    data = bytearray(INDEX)
    for kind, at, value in edits:
        at = min(at, len(data))
        if kind == "flip" and at < len(data):
            data[at] ^= value
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes([value])
    _parse_or_refuse(bytes(data))


@given(st.lists(st.tuples(st.binary(max_size=6), st.binary(max_size=40)), max_size=12), st.integers(1, 5),
       st.booleans())
def test_garbage_entries_with_valid_checksums(entries, per_block, with_header):
    """Blocks whose CRCs are right but whose keys and protobuf values are anything."""
    if with_header:
        entries = [(b"", B.header_proto())] + entries
    _parse_or_refuse(B.table(entries, per_block=per_block))


_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


@given(st.dictionaries(_names, st.tuples(st.sampled_from(["float32", "int64", "float16", "uint8", "bool"]),
                                         st.lists(st.integers(0, 3), max_size=3)), max_size=8),
       st.integers(1, 4))
def test_built_bundles_read_back(tmp_path_factory, specs, per_block):
    rng = np.random.default_rng(len(specs))
    tensors = {name: (rng.normal(size=shape) * 10).astype(dtype) for name, (dtype, shape) in specs.items()}
    prefix = B.write(tmp_path_factory.mktemp("bundle"), *B.bundle(tensors, per_block=per_block))
    loaded = tf1.load_checkpoint(prefix)
    assert set(loaded) == set(tensors)
    for name, value in tensors.items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype
