"""TensorFlow 1 checkpoints ("tensor bundles"), read with NumPy alone: no TensorFlow, no protobuf library.

`tf.train.Saver().save(sess, "model.ckpt", global_step=N)`, as the original ConvBERT code trains, writes

    model.ckpt-N.index                  a sorted table: tensor name -> dtype, shape, where its bytes are
    model.ckpt-N.data-00000-of-00001    the tensors' raw bytes (C order, little-endian), back to back
    model.ckpt-N.meta, checkpoint       the graph, and the name of the latest checkpoint (not needed here)

The index is a LevelDB-style table (an "SSTable"), every integer little-endian:

    [data block][trailer] ... [data block][trailer] [metaindex block][trailer] [index block][trailer] [footer]

    footer     the last 48 bytes: metaindex handle, index handle (each a varint offset and a varint
               size), zero padding up to 40 bytes, then the magic number 0xdb4775248b80fb57 (8 bytes)
    block      entries, then the restart offsets (uint32 each), then how many there are (uint32)
    entry      varint shared, varint unshared, varint value_length, the key's last `unshared` bytes
               (its first `shared` bytes are the previous key's), the value
    trailer    1 byte compression type (0: none), 4 bytes masked CRC-32C of the block and that byte
    index      one entry per data block: a key >= every key in the block -> the block's handle

Keys are byte strings in strictly increasing order. The key "" holds a BundleHeaderProto (field 1
num_shards, 2 endianness, 3 version); every other key is a tensor's name, its value a BundleEntryProto:

    1 dtype (1 float32, 2 float64, 3 int32, 9 int64, 19 float16, ...)   2 shape: TensorShapeProto,
    repeated field 2 `dim`, each with field 1 `size`    3 shard_id    4 offset    5 size (bytes)
    6 crc32c (4 bytes, masked CRC of the tensor's bytes)    7 slices (partitioned variables: refused)

A protobuf message is a run of fields: a varint key (field_number << 3 | wire_type), then a varint
(wire type 0), 8 bytes (1), a varint length and that many bytes (2, nested messages and strings), or
4 bytes (5). A varint stores 7 bits per byte, low bits first; the top bit says another byte follows.

Everything in the index is checked before it is trusted (sizes bounded by the file, offsets inside
their blocks and shards, keys in order, varints at most 10 bytes, block checksums); every problem is a
`TF1CheckpointError` naming the file, the tensor and what is wrong. A tensor's bytes are read only
when asked for, after its extent is checked against the shard's size, and their CRC is verified.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minconvbert.io.crc32c import masked_crc32c
from minconvbert.io.regular_file import open_regular, read_regular
from minconvbert.io.safetensors import _read_into

__all__ = ["TF1CheckpointError", "TensorEntry", "TF1Checkpoint", "parse_index", "resolve_prefix",
           "load_checkpoint", "list_variables", "MAX_INDEX_BYTES"]

MAX_INDEX_BYTES = 1 << 28  # a real index holds ~100 bytes per tensor: conv-bert-base's is ~60 kB
_MAX_SHARDS = 10_000
_MAX_KEY_BYTES = 1 << 16  # TensorFlow variable names are a few hundred bytes at most
# Prefix compression lets n entries of a few bytes each rebuild keys of 1, 2, ..., n bytes (n^2 / 2 in
# all); real indexes rebuild ~2x their size in keys. Refuse more than this many times the file's size.
_KEY_BYTES_PER_INDEX_BYTE = 64
_MAX_NDIM = 64  # NumPy's limit
_FOOTER_BYTES = 48
_MAGIC = 0xDB4775248B80FB57
_TRAILER_BYTES = 5

# TensorFlow's DataType enum -> (name, stored dtype). bfloat16 is read as uint16 and widened.
_DTYPES = {1: ("float32", "<f4"), 2: ("float64", "<f8"), 3: ("int32", "<i4"), 4: ("uint8", "u1"),
           5: ("int16", "<i2"), 6: ("int8", "i1"), 9: ("int64", "<i8"), 10: ("bool", "?"),
           14: ("bfloat16", "<u2"), 17: ("uint16", "<u2"), 19: ("float16", "<f2"), 22: ("uint32", "<u4"),
           23: ("uint64", "<u8")}
_STORAGE = dict(_DTYPES.values())


class TF1CheckpointError(ValueError):
    """A TensorFlow 1 checkpoint is malformed or unsupported; the message names the file and the problem."""


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the index: its name, dtype name ("float32"), shape and where its bytes lie."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None  # masked, as stored; None when the entry has none


# ---------------------------------------------------------------------------------------------
# varints and protobuf fields


def _varint(buf, pos: int, end: int, what: str, max_bytes: int = 10) -> tuple[int, int]:
    """Decode the varint at buf[pos:end]; returns (value, position after it)."""
    value = 0
    for i in range(max_bytes):
        if pos >= end:
            raise TF1CheckpointError(f"{what}: truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value >> (64 if max_bytes == 10 else 32):
                raise TF1CheckpointError(f"{what}: varint overflows {64 if max_bytes == 10 else 32} bits")
            return value, pos
    raise TF1CheckpointError(f"{what}: varint longer than {max_bytes} bytes")


def _fields(buf, what: str):
    """Yield (field number, wire type, value) of a protobuf message: ints for wire types 0, 1 and 5,
    a bytes slice for 2. Unknown fields are yielded too; the caller ignores the ones it does not know."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos, end, what)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise TF1CheckpointError(f"{what}: protobuf field number 0 is invalid")
        if wire == 0:
            value, pos = _varint(buf, pos, end, what)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if end - pos < width:
                raise TF1CheckpointError(f"{what}: field {number} truncated")
            value, pos = int.from_bytes(buf[pos:pos + width], "little"), pos + width
        elif wire == 2:
            length, pos = _varint(buf, pos, end, what)
            if length > end - pos:
                raise TF1CheckpointError(f"{what}: field {number} claims {length} bytes, {end - pos} remain")
            value, pos = buf[pos:pos + length], pos + length
        else:  # 3 and 4 are the deprecated groups, 6 and 7 do not exist
            raise TF1CheckpointError(f"{what}: unsupported protobuf wire type {wire} (field {number})")
        yield number, wire, value


def _signed(value: int) -> int:
    """A varint-encoded int64 (negative numbers are stored as their 64-bit two's complement)."""
    return value - (1 << 64) if value >> 63 else value


def _expect_wire(number, wire, expected, what):
    if wire != expected:
        raise TF1CheckpointError(f"{what}: field {number} has wire type {wire}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# the table: footer, blocks, entries


def _read_block(data: bytes, offset: int, size: int, limit: int, what: str) -> bytes:
    """The block at [offset, offset + size) of the index, checked against its trailer."""
    if offset + size + _TRAILER_BYTES > limit:
        raise TF1CheckpointError(f"{what}: block [{offset}, {offset + size}) runs past the end of its "
                                 f"region ({limit} bytes; truncated file?)")
    block = data[offset:offset + size]
    kind, stored = data[offset + size], int.from_bytes(data[offset + size + 1:offset + size + 5], "little")
    if kind != 0:
        raise TF1CheckpointError(f"{what}: block compressed with type {kind}; only uncompressed blocks "
                                 "(type 0, what TensorFlow writes) are supported")
    if masked_crc32c(data[offset:offset + size + 1]) != stored:
        raise TF1CheckpointError(f"{what}: block at offset {offset} fails its CRC-32C check (corrupted file)")
    return block


def _block_entries(block: bytes, what: str, budget: list[int]) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of a block, keys rebuilt from their shared prefixes. budget: [bytes of
    keys the whole table may still rebuild], decreased here."""
    if len(block) < 4:
        raise TF1CheckpointError(f"{what}: block of {len(block)} bytes is too short for its restart count")
    count = int.from_bytes(block[-4:], "little")
    if count < 1 or 4 * (count + 1) > len(block):
        raise TF1CheckpointError(f"{what}: block of {len(block)} bytes cannot hold {count} restart offsets")
    end = len(block) - 4 * (count + 1)
    restarts = np.frombuffer(block, dtype="<u4", count=count, offset=end).tolist()
    entries, starts, previous, pos = [], {}, b"", 0
    while pos < end:
        start = pos
        shared, pos = _varint(block, pos, end, what, max_bytes=5)
        unshared, pos = _varint(block, pos, end, what, max_bytes=5)
        length, pos = _varint(block, pos, end, what, max_bytes=5)
        if shared > len(previous):
            raise TF1CheckpointError(f"{what}: entry at {start} shares {shared} bytes with a previous key "
                                     f"of {len(previous)}")
        if unshared > end - pos or length > end - pos - unshared:
            raise TF1CheckpointError(f"{what}: entry at {start} runs past the end of its block")
        if shared + unshared > _MAX_KEY_BYTES or shared + unshared > budget[0]:
            raise TF1CheckpointError(f"{what}: entry at {start} rebuilds a key of {shared + unshared} bytes; keys "
                                     f"are limited to {_MAX_KEY_BYTES} bytes, {_KEY_BYTES_PER_INDEX_BYTE}x the file in all")
        budget[0] -= shared + unshared
        key = previous[:shared] + block[pos:pos + unshared]
        value = block[pos + unshared:pos + unshared + length]
        pos += unshared + length
        starts[start] = shared
        entries.append((key, value))
        previous = key
    for restart in restarts:
        if (restart != 0 or end != 0) and starts.get(restart) != 0:
            raise TF1CheckpointError(f"{what}: restart offset {restart} is not the start of a full key")
    return entries


def _handle(value: bytes, what: str) -> tuple[int, int]:
    offset, pos = _varint(value, 0, len(value), what)
    size, pos = _varint(value, pos, len(value), what)
    return offset, size


def _table_entries(data: bytes, source: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of the table in `data`, in order, after checking the order and the layout."""
    if len(data) < _FOOTER_BYTES:
        raise TF1CheckpointError(f"{source}: {len(data)} bytes, too short for the 48-byte footer (truncated file?)")
    footer = data[-_FOOTER_BYTES:]
    if int.from_bytes(footer[40:], "little") != _MAGIC:
        raise TF1CheckpointError(f"{source}: no table magic number at the end (not a TensorFlow index file, "
                                 "or truncated)")
    pos = 0
    meta_offset, pos = _varint(footer, pos, 40, f"{source}: footer")
    meta_size, pos = _varint(footer, pos, 40, f"{source}: footer")
    index_offset, pos = _varint(footer, pos, 40, f"{source}: footer")
    index_size, pos = _varint(footer, pos, 40, f"{source}: footer")
    limit = len(data) - _FOOTER_BYTES
    if meta_offset + meta_size + _TRAILER_BYTES > limit:
        raise TF1CheckpointError(f"{source}: metaindex block [{meta_offset}, {meta_offset + meta_size}) is "
                                 f"outside the file's {limit} bytes of blocks")
    budget = [_KEY_BYTES_PER_INDEX_BYTE * len(data)]
    index = _block_entries(_read_block(data, index_offset, index_size, limit, f"{source}: index block"),
                           f"{source}: index block", budget)
    entries, previous, block_end = [], None, 0
    for separator, value in index:
        offset, size = _handle(value, f"{source}: index entry")
        if offset < block_end:
            raise TF1CheckpointError(f"{source}: data block at {offset} overlaps the previous block")
        block_end = offset + size + _TRAILER_BYTES
        where = f"{source}: data block at {offset}"
        block = _read_block(data, offset, size, min(index_offset, limit), where)
        for key, entry in _block_entries(block, where, budget):
            if previous is not None and key <= previous:
                raise TF1CheckpointError(f"{source}: key {key[:80]!r} is not after {previous[:80]!r} (keys must "
                                         "be sorted and unique)")
            if key > separator:
                raise TF1CheckpointError(f"{source}: key {key[:80]!r} lies beyond its block's index key")
            entries.append((key, entry))
            previous = key
    return entries


# ---------------------------------------------------------------------------------------------
# the bundle's protobuf messages


def _parse_header(value: bytes, source: str) -> dict:
    what = f"{source}: bundle header"
    header = {"num_shards": 0, "endianness": 0, "producer": 0, "min_consumer": 0}
    for number, wire, v in _fields(value, what):
        if number in (1, 2):
            _expect_wire(number, wire, 0, what)
            header["num_shards" if number == 1 else "endianness"] = v
        elif number == 3:  # VersionDef: 1 producer, 2 min_consumer, 3 bad_consumers
            _expect_wire(number, wire, 2, what)
            for n, w, x in _fields(v, f"{what}: version"):
                if n in (1, 2) and w == 0:
                    header["producer" if n == 1 else "min_consumer"] = _signed(x)
    if not 1 <= header["num_shards"] <= _MAX_SHARDS:
        raise TF1CheckpointError(f"{what}: num_shards {header['num_shards']} is not in [1, {_MAX_SHARDS}]")
    if header["endianness"] not in (0, 1):
        raise TF1CheckpointError(f"{what}: unknown endianness {header['endianness']}")
    if header["min_consumer"] > 1:
        raise TF1CheckpointError(f"{what}: needs a reader of bundle version {header['min_consumer']} (this one reads 1)")
    return header


def _parse_shape(value: bytes, what: str) -> tuple[int, ...]:
    dims = []
    for number, wire, v in _fields(value, f"{what}: shape"):
        if number == 2:
            _expect_wire(number, wire, 2, f"{what}: shape")
            size = 0
            for n, w, x in _fields(v, f"{what}: shape dim"):
                if n == 1:
                    _expect_wire(n, w, 0, f"{what}: shape dim")
                    size = _signed(x)
            if size < 0:
                raise TF1CheckpointError(f"{what}: shape has an unknown or negative dimension ({size})")
            dims.append(size)
            if len(dims) > _MAX_NDIM:
                raise TF1CheckpointError(f"{what}: shape has more than {_MAX_NDIM} dimensions")
        elif number == 3 and wire == 0 and v:
            raise TF1CheckpointError(f"{what}: shape of unknown rank")
    return tuple(dims)


def _parse_entry(name: str, value: bytes, source: str) -> TensorEntry:
    what = f"{source}: tensor {name!r}"
    fields = {"dtype": 0, "shard_id": 0, "offset": 0, "size": 0}
    numbers = {1: "dtype", 3: "shard_id", 4: "offset", 5: "size"}
    shape, crc = (), None
    for number, wire, v in _fields(value, what):
        if number in numbers:
            _expect_wire(number, wire, 0, what)
            fields[numbers[number]] = _signed(v)
        elif number == 2:
            _expect_wire(number, wire, 2, what)
            shape = _parse_shape(v, what)
        elif number == 6:
            _expect_wire(number, wire, 5, what)
            crc = v
        elif number == 7:
            raise TF1CheckpointError(f"{what}: a partitioned (sliced) variable; not supported")
    if fields["dtype"] not in _DTYPES:
        kind = "strings" if fields["dtype"] == 7 else f"dtype enum {fields['dtype']}"
        raise TF1CheckpointError(f"{what}: holds {kind}; supported: {sorted(n for n, _ in _DTYPES.values())}")
    dtype_name, storage = _DTYPES[fields["dtype"]]
    for field in ("shard_id", "offset", "size"):
        if fields[field] < 0:
            raise TF1CheckpointError(f"{what}: negative {field} {fields[field]}")
    if any(d >= 1 << 62 for d in shape) or math.prod(max(d, 1) for d in shape) >= 1 << 60:
        raise TF1CheckpointError(f"{what}: shape {shape} is too large for any file")
    nbytes = math.prod(shape) * np.dtype(storage).itemsize
    if nbytes != fields["size"]:
        raise TF1CheckpointError(f"{what}: shape {shape} of {dtype_name} needs {nbytes} bytes, the entry says "
                                 f"{fields['size']}")
    return TensorEntry(name, dtype_name, shape, fields["shard_id"], fields["offset"], fields["size"], crc)


def parse_index(data: bytes, source: str = "index") -> tuple[dict, dict[str, TensorEntry]]:
    """Parse the bytes of a .index file: (header, {tensor name: TensorEntry} in sorted order).

    header: {"num_shards", "endianness" (0 little, 1 big), "producer", "min_consumer"}.
    Raises TF1CheckpointError naming the first problem found.
    """
    entries = _table_entries(bytes(data), source)
    if not entries or entries[0][0] != b"":
        raise TF1CheckpointError(f"{source}: no bundle header (the entry with the empty key)")
    header = _parse_header(entries[0][1], source)
    tensors = {}
    for key, value in entries[1:]:
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError:
            raise TF1CheckpointError(f"{source}: tensor name {key[:80]!r} is not UTF-8") from None
        entry = _parse_entry(name, value, source)
        if entry.shard_id >= header["num_shards"]:
            raise TF1CheckpointError(f"{source}: tensor {name!r} is in shard {entry.shard_id}, but the "
                                     f"checkpoint has {header['num_shards']}")
        tensors[name] = entry
    return header, tensors


# ---------------------------------------------------------------------------------------------
# files


def resolve_prefix(path: str | os.PathLike) -> Path:
    """The checkpoint prefix ("dir/model.ckpt-1000") for a prefix, its .index file, or a directory (the
    one its `checkpoint` file names, else its only .index file)."""
    path = Path(path)
    if path.suffix == ".index" and path.is_file():
        return path.with_suffix("")
    if path.is_dir():
        state = path / "checkpoint"
        if state.is_file():  # text protobuf: model_checkpoint_path: "model.ckpt-1000"
            found = re.search(r'^model_checkpoint_path:\s*"([^"]+)"', state.read_text("utf-8", "replace"), re.M)
            if found:
                # Written with the training machine's paths: only the file name is meaningful here.
                prefix = path / Path(found.group(1)).name
                if prefix.with_name(prefix.name + ".index").is_file():
                    return prefix
        indexes = sorted(path.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_suffix("")
        if indexes:
            raise FileNotFoundError(f"{path}: holds {len(indexes)} checkpoints ({', '.join(p.name for p in indexes)}); "
                                    "pass the prefix of one, e.g. dir/model.ckpt-1000")
        raise FileNotFoundError(f"{path}: no TensorFlow checkpoint (*.index) in this directory")
    if path.with_name(path.name + ".index").is_file():
        return path
    raise FileNotFoundError(f"no TensorFlow checkpoint at {str(path)!r} (expected {path.name}.index beside it)")


class TF1Checkpoint:
    """An open TensorFlow 1 checkpoint: the index parsed and checked, tensors read on demand.

        with TF1Checkpoint("convbert_base/model.ckpt-1000000") as ckpt:
            ckpt.keys()                                      # sorted names, optimizer slots included
            ckpt.info("electra/embeddings/word_embeddings").shape     # (30522, 768)
            table = ckpt.get_tensor("electra/embeddings/word_embeddings")   # float32 array

    `path`: the prefix, its .index file or a directory holding one checkpoint. verify_checksums=False
    skips the per-tensor CRC (the index's block CRCs are always checked).
    """

    def __init__(self, path: str | os.PathLike, verify_checksums: bool = True):
        self.prefix = resolve_prefix(path)
        self.verify_checksums = verify_checksums
        index_path = self.prefix.with_name(self.prefix.name + ".index")
        index = read_regular(index_path, MAX_INDEX_BYTES, TF1CheckpointError, "TF1Checkpoint", "TF1 index")
        self.header, self._entries = parse_index(index, str(index_path))
        n = self.header["num_shards"]
        self._files = []
        try:
            for shard in range(n):
                shard_path = self.prefix.with_name(f"{self.prefix.name}.data-{shard:05d}-of-{n:05d}")
                if not shard_path.exists():
                    raise TF1CheckpointError(f"{self.prefix}: data file {shard_path.name} is missing")
                self._files.append(open_regular(shard_path, TF1CheckpointError, "TF1Checkpoint", buffering=0))
            sizes = [os.fstat(f.fileno()).st_size for f in self._files]
            for entry in self._entries.values():
                if entry.offset + entry.size > sizes[entry.shard_id]:
                    raise TF1CheckpointError(
                        f"{self.prefix}: tensor {entry.name!r} lies at bytes [{entry.offset}, {entry.offset + entry.size}) "
                        f"of {self._files[entry.shard_id].name}, which holds {sizes[entry.shard_id]} (truncated file?)")
        except BaseException:
            self.close()
            raise

    def keys(self) -> list[str]:
        return list(self._entries)

    def info(self, name: str) -> TensorEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"{self.prefix.name}: no tensor named {name!r}") from None

    def __contains__(self, name) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor `name` as a native-endian array of its shape (bfloat16 widened to float32)."""
        entry = self.info(name)
        if not self._files:
            raise ValueError(f"{self.prefix.name}: checkpoint is closed")
        buffer = bytearray(entry.size)
        if _read_into(self._files[entry.shard_id], entry.offset, memoryview(buffer)) != entry.size:
            raise TF1CheckpointError(f"{self.prefix}: data file ended inside tensor {name!r} (it shrank?)")
        if self.verify_checksums and entry.crc32c is not None and masked_crc32c(buffer) != entry.crc32c:
            raise TF1CheckpointError(f"{self.prefix}: tensor {name!r} fails its CRC-32C check (corrupted data file)")
        storage = np.dtype(_STORAGE[entry.dtype])
        if self.header["endianness"] == 1:
            storage = storage.newbyteorder(">")
        array = np.frombuffer(buffer, dtype=storage).reshape(entry.shape)
        if entry.dtype == "bfloat16":
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    def __enter__(self) -> "TF1Checkpoint":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def list_variables(path) -> list[tuple[str, tuple[int, ...]]]:
    """[(name, shape)] of a checkpoint, sorted by name (as tf.train.list_variables gives them)."""
    with TF1Checkpoint(path) as ckpt:
        return [(name, ckpt.info(name).shape) for name in ckpt.keys()]


def load_checkpoint(path, names=None, *, on_progress: Callable[[int, int], None] | None = None
                    ) -> dict[str, np.ndarray]:
    """{name: array} for `names` (default: every tensor) of a checkpoint. on_progress(done, total bytes)."""
    with TF1Checkpoint(path) as ckpt:
        names = ckpt.keys() if names is None else list(names)
        total, done, out = sum(ckpt.info(n).size for n in names), 0, {}
        for name in names:
            out[name] = ckpt.get_tensor(name)
            done += ckpt.info(name).size
            if on_progress is not None:
                on_progress(done, total)
        return out
