"""Fuzzing the safetensors reader: whatever the bytes, only SafetensorsError may escape.

Four families of inputs, each from a valid seed file: structural mutations of the JSON header,
byte-level mutations (overwrite, insert, delete), truncations, and random bytes. A file we accept
must give the same arrays through every read path, and the same bits as the official reader when
it accepts the file too; and we refuse a file the official reader accepts only when a tensor
name appears twice (it silently keeps the last one). The number of cases tried is printed (run with -s) and recorded as a
junit property `fuzz_cases`.
"""

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from minconvbert.io import safetensors as st
from tests.io.file_readers import SEED_TENSORS

SEED = st.save(SEED_TENSORS, {"format": "pt"})
SEED_N = struct.unpack("<Q", SEED[:8])[0]
SEED_HEADER = json.loads(SEED[8:8 + SEED_N])
SEED_DATA = SEED[8 + SEED_N:]

json_scalars = hs.one_of(
    hs.none(), hs.booleans(), hs.integers(-5, 40), hs.integers(-(1 << 70), 1 << 70), hs.floats(allow_nan=False),
    hs.text(max_size=6), hs.sampled_from(["F32", "F16", "BF16", "I64", "BOOL", "U8", "F8_E5M2", "C64", "f32"]))
json_values = hs.recursive(json_scalars, lambda inner: hs.lists(inner, max_size=4)
                           | hs.dictionaries(hs.text(max_size=5), inner, max_size=3), max_leaves=8)


def _path_to_random_node(draw, obj):
    """A path (list of keys/indices) to some node inside obj."""
    path = []
    while isinstance(obj, (dict, list)) and obj and draw(hs.booleans()):
        key = draw(hs.sampled_from(sorted(obj) if isinstance(obj, dict) else range(len(obj))))
        path.append(key)
        obj = obj[key]
    return path


@hs.composite
def mutated_headers(draw):
    header = json.loads(json.dumps(SEED_HEADER))  # a fresh deep copy
    for _ in range(draw(hs.integers(1, 3))):
        path = _path_to_random_node(draw, header)
        parent = header
        for key in path[:-1]:
            parent = parent[key]
        action = draw(hs.sampled_from(["replace", "delete", "add", "offset-shift"]))
        if not path:
            if action == "add":
                header[draw(hs.text(max_size=5))] = draw(json_values)
            continue
        key = path[-1]
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(hs.text(max_size=5))] = draw(json_values)
        elif action == "offset-shift" and isinstance(parent, list) and isinstance(parent[key], int):
            parent[key] += draw(hs.integers(-9, 9))
    text = json.dumps(header, separators=draw(hs.sampled_from([(",", ":"), (", ", ": ")]))).encode()
    text += b" " * draw(hs.integers(0, 9))
    n = len(text) if draw(hs.integers(0, 9)) else draw(hs.integers(0, (1 << 64) - 1))
    data = SEED_DATA[:draw(hs.integers(0, len(SEED_DATA)))] if draw(hs.integers(0, 4)) == 0 else SEED_DATA
    return struct.pack("<Q", n) + text + data


@hs.composite
def byte_mutations(draw):
    data = bytearray(SEED)
    for _ in range(draw(hs.integers(1, 4))):
        kind = draw(hs.sampled_from(["set", "insert", "delete"]))
        # Mostly in the length and header: that is where the parsing happens.
        pos = draw(hs.integers(0, len(data) - 1 if draw(hs.integers(0, 3)) == 0 else 8 + SEED_N - 1))
        if kind == "set":
            data[pos] = draw(hs.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(hs.binary(min_size=1, max_size=4))
        else:
            del data[pos:pos + draw(hs.integers(1, 4))]
    return bytes(data)


truncations = hs.integers(0, len(SEED) - 1).map(lambda k: SEED[:k])
random_bytes = hs.one_of(
    hs.binary(max_size=64),
    hs.tuples(hs.integers(0, 80), hs.binary(max_size=80)).map(lambda t: struct.pack("<Q", t[0]) + t[1]),
)


def _official(data):
    """('ok', arrays) / ('format-error', None) / ('other-error', None) from the official reader."""
    try:
        import safetensors
        from safetensors.numpy import load as official_load
    except ImportError:
        return "absent", None
    try:
        return "ok", official_load(data)
    except safetensors.SafetensorError:
        return "format-error", None
    except Exception:  # e.g. BF16 or F8, which safetensors.numpy cannot turn into arrays
        return "other-error", None


def _check(data, tmp_path, stats):
    stats["cases"] += 1
    verdict, theirs = _official(data)
    try:
        ours = st.load(data)
    except st.SafetensorsError as e:
        stats["refused"] += 1
        # Refusing what the official reader accepts is allowed for one reason only.
        assert verdict != "ok" or "appears more than once" in str(e), f"official reader accepts: {e}"
        return
    stats["accepted"] += 1
    assert verdict != "format-error", "the official reader refuses a file we accept"
    path = tmp_path / "case.safetensors"
    path.write_bytes(data)
    for mmap in (True, False):
        again = st.load_file(path, mmap=mmap)
        assert list(again) == list(ours)
        assert all(np.array_equal(again[k], ours[k]) for k in ours)
    if verdict == "ok":
        stats["compared"] += 1
        assert set(theirs) == set(ours)
        for name, arr in ours.items():
            assert theirs[name].dtype == arr.dtype and theirs[name].tobytes() == arr.tobytes(), name


@pytest.mark.parametrize("family, strategy, n", [
    ("mutated-header", mutated_headers(), 1500), ("byte-mutation", byte_mutations(), 1500),
    ("truncation", truncations, 300), ("random-bytes", random_bytes, 500),
])
def test_fuzz_only_safetensors_error_escapes(family, strategy, n, tmp_path, record_property):
    stats = {"cases": 0, "accepted": 0, "refused": 0, "compared": 0}

    @given(strategy)
    @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck))
    def run(data):
        _check(data, tmp_path, stats)

    run()
    record_property("fuzz_cases", stats["cases"])
    print(f"\nfuzz {family}: {stats}")
    assert stats["cases"] >= 100
    assert stats["refused"] > 0
    if family == "mutated-header":
        assert stats["accepted"] > 0  # the mutations also reach the success path
