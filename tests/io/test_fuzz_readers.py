"""Fuzzing every file reader: whatever the bytes, the reader accepts the file or refuses it with its own
exception type, within a memory budget and a (generous) deadline.

The readers and their seeds are listed in tests/io/file_readers.py (one entry per reader); each case
runs in a child process (tests/io/reader_worker.py) with a capped address space, so that a hang or a
giant allocation fails the case instead of the machine. Mutations, from a valid seed directory:

- bytes: overwrite, insert, delete, duplicate a slice; truncate; random bytes (every reader);
- pytorch_model.bin: the pickle mutated opcode by opcode (tokens from a dictionary of opcodes that
  matter: globals, calls, BUILD, memo indices, huge integers), storages resized, then re-zipped with
  valid CRCs so that the mutations reach the unpickler and the view checks, not just the zip CRC;
- JSON files: values replaced, deleted or added (wrong types, huge and negative numbers, deep nesting,
  long strings), then serialised;
- vocab.txt: lines inserted (control characters, invalid UTF-8, long lines), deleted, duplicated.

The number of cases and what happened to them is printed (run with -s) and recorded as junit
properties `fuzz_cases` and `peak_bytes`.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from tests.io.file_readers import READERS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the reader worker needs select() on pipes")

CASES = {"model.safetensors": 300, "pytorch_model.bin": 500, "config.json": 300, "vocab.txt": 200,
         "tokenizer_config.json": 300, "tf_model.h5": 200, "model.ckpt-1.index": 300,
         "model.ckpt-1.data-00000-of-00001": 200}
INTERPRETER_BYTES = 16 << 20  # allowed on top of a reader's own budget: imports, caches

@pytest.fixture(scope="module")
def worker():
    from tests.io.reader_worker import ReaderWorker

    with ReaderWorker(deadline_seconds=60) as w:
        yield w


# ---------------------------------------------------------------------------------------------
# mutations


@hs.composite
def byte_mutations(draw, data: bytes):
    data = bytearray(data)
    for _ in range(draw(hs.integers(1, 6))):
        if not data:
            break
        pos = draw(hs.integers(0, len(data) - 1))
        kind = draw(hs.sampled_from(["set", "insert", "delete", "duplicate", "truncate"]))
        if kind == "set":
            data[pos] = draw(hs.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(hs.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos:pos + draw(hs.integers(1, 16))]
        elif kind == "duplicate":
            data[pos:pos] = data[pos:pos + draw(hs.integers(1, 64))] * draw(hs.integers(1, 8))
        else:
            del data[pos:]
    return bytes(data)


json_scalars = hs.one_of(
    hs.none(), hs.booleans(), hs.integers(-3, 40), hs.integers(-(1 << 70), 1 << 70),
    hs.sampled_from([10 ** 9, 2 ** 31]),
    hs.floats(allow_nan=False), hs.text(max_size=8), hs.sampled_from(["[UNK]", "0", "gelu", "right", "None", "\x00"]))
json_values = hs.recursive(json_scalars, lambda inner: hs.lists(inner, max_size=4)
                           | hs.dictionaries(hs.text(max_size=6), inner, max_size=3), max_leaves=10)


@hs.composite
def json_mutations(draw, data: bytes):
    obj = json.loads(data)
    for _ in range(draw(hs.integers(1, 3))):
        keys = sorted(obj) if isinstance(obj, dict) else []
        action = draw(hs.sampled_from(["replace", "delete", "add", "deep"]))
        if action in ("replace", "delete") and keys:
            key = draw(hs.sampled_from(keys))
            if action == "replace":
                obj[key] = draw(json_values)
            else:
                del obj[key]
        elif action == "add" and isinstance(obj, dict):
            obj[draw(hs.sampled_from(keys + ["x"]) if keys else hs.just("x"))] = draw(json_values)
        elif action == "deep" and keys:
            obj[draw(hs.sampled_from(keys))] = "<deep>"  # replaced below: json.dumps cannot nest so deep
    text = json.dumps(obj).replace('"<deep>"', "[" * 3000 + "]" * 3000)
    return text.encode("utf-8", "surrogatepass")


@hs.composite
def line_mutations(draw, data: bytes):
    lines = data.split(b"\n")
    odd = hs.one_of(hs.binary(max_size=12), hs.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
                    hs.sampled_from([b"\xff\xfe", b"\x00", b"a" * 10_000, b"\r", b" ", b"##", b"[UNK]"]))
    for _ in range(draw(hs.integers(1, 4))):
        pos = draw(hs.integers(0, len(lines)))
        kind = draw(hs.sampled_from(["insert", "delete", "duplicate"]))
        if kind == "insert":
            lines.insert(pos, draw(odd))
        elif lines and kind == "delete":
            del lines[min(pos, len(lines) - 1)]
        elif lines:
            lines.insert(pos, lines[min(pos, len(lines) - 1)])
    return b"\n".join(lines)


PICKLE_TOKENS = [b"(", b"t", b"R", b"b", b"u", b"s", b"Q", b"2", b"0", b"N", b"}", b"]", b")", b"e", b"a", b"\x85",
                 b"\x86", b"\x87", b"\x88", b"\x89", b"h\x00", b"h\x07", b"q\x00", b"r\xff\xff\xff\x3f",
                 b"j\x00\x00\x00\x00", b"K\xff", b"M\xff\xff", b"J\xff\xff\xff\x7f", b"J\x00\x00\x00\x80",
                 b"\x8a\x09" + b"\xff" * 9, b"\x8a\x01\x00", b"X\x00\x00\x00\x00", b"X\xff\xff\xff\x00",
                 b"ctorch\nFloatStorage\n", b"ctorch\nBoolStorage\n", b"ccollections\nOrderedDict\n",
                 b"ctorch._utils\n_rebuild_tensor_v2\n", b"ctorch._utils\n_rebuild_parameter\n", b"cos\nsystem\n",
                 b"\x94", b"\x93", b"\x95\x00\x00\x00\x00\x00\x00\x00\x00", b"\x80\x05", b"."]


def _rezip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@hs.composite
def bin_mutations(draw, data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    pkl = next(name for name in entries if name.endswith("data.pkl"))
    if draw(hs.booleans()):
        body = bytearray(entries[pkl])
        for _ in range(draw(hs.integers(1, 4))):
            pos = draw(hs.integers(2, len(body) - 1))
            if draw(hs.booleans()):
                body[pos:pos] = draw(hs.sampled_from(PICKLE_TOKENS))
            else:
                del body[pos:pos + draw(hs.integers(1, 3))]
        entries[pkl] = bytes(body)
    else:
        storage = draw(hs.sampled_from(sorted(n for n in entries if "/data/" in n)))
        entries[storage] = entries[storage][:draw(hs.integers(0, len(entries[storage])))] + \
            draw(hs.binary(max_size=8))
    return _rezip(entries)


@hs.composite
def tail_overwrites(draw, data: bytes):
    """Bytes overwritten among the last 64, where a safetensors file keeps its tensors' values."""
    data = bytearray(data)
    for _ in range(draw(hs.integers(1, 4))):
        data[draw(hs.integers(max(len(data) - 64, 0), len(data) - 1))] = draw(hs.integers(0, 255))
    return bytes(data)


def mutations(name: str, seed: bytes):
    kind = READERS[name].kind
    families = [byte_mutations(seed), hs.binary(max_size=256)]
    if kind == "binary":
        families += [tail_overwrites(seed)]
    elif kind == "torch zip":
        families += [bin_mutations(seed)] * 3
    elif kind == "json":
        families += [json_mutations(seed)] * 3
    elif kind == "text":
        families += [line_mutations(seed)] * 3
    return hs.one_of(families)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(READERS))
def test_fuzz_reader_refuses_with_its_own_exception_within_budget(name, worker, record_property):
    seed_files = READERS[name].seed()
    stats = {"cases": 0, "accepted": 0, "refused": 0, "peak_bytes": 0, "max_cpu_s": 0.0}
    assert worker.run(name, seed_files).kind == "accepted"  # the seed itself is valid

    @given(mutations(name, seed_files[name]))
    @settings(max_examples=CASES[name], deadline=None, suppress_health_check=list(HealthCheck))
    def run(data):
        outcome = worker.run(name, {**seed_files, name: data})
        stats["cases"] += 1
        assert outcome.kind in ("accepted", "refused"), f"{name}: {outcome.kind}: {outcome.error}"
        limit = READERS[name].memory_budget(len(data)) + INTERPRETER_BYTES
        assert outcome.peak <= limit, f"{name}: {outcome.peak} bytes held ({outcome.error})"
        stats[outcome.kind] += 1
        stats["peak_bytes"] = max(stats["peak_bytes"], outcome.peak)
        stats["max_cpu_s"] = max(stats["max_cpu_s"], round(outcome.cpu_seconds, 3))

    run()
    record_property("fuzz_cases", stats["cases"])
    record_property("peak_bytes", stats["peak_bytes"])
    print(f"\nfuzz {name}: {stats}")
    assert stats["refused"] > 0 and stats["accepted"] > 0  # both paths reached
