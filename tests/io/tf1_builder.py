"""A small writer of TensorFlow 1 checkpoints for the tests: valid bundles to build on, pieces to break.

Follows the layout in minconvbert/io/tf1.py's docstring (checked against files TensorFlow wrote:
tests/io/test_tf1.py reads the committed fixtures, and a bundle rebuilt here from one of them is
byte-identical to TensorFlow's index).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minconvbert.io.crc32c import crc32c, masked_crc32c

DTYPES = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "int64": 9, "bool": 10,
          "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}
MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s as their two's complement, 10 bytes
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def pb_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def pb_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def pb_fixed32(number: int, value: int) -> bytes:
    return varint(number << 3 | 5) + value.to_bytes(4, "little")


def shape_proto(shape) -> bytes:
    return b"".join(pb_bytes(2, pb_varint(1, d) if d else b"") for d in shape)


def entry_proto(dtype=1, shape=(), shard_id=0, offset=0, size=0, crc=None) -> bytes:
    """A BundleEntryProto as TensorFlow writes it (default values left out)."""
    out = pb_varint(1, dtype) + pb_bytes(2, shape_proto(shape))
    for number, value in ((3, shard_id), (4, offset), (5, size)):
        if value:
            out += pb_varint(number, value)
    if crc is not None:
        out += pb_fixed32(6, crc)
    return out


def header_proto(num_shards=1, endianness=0, producer=1) -> bytes:
    out = pb_varint(1, num_shards)
    if endianness:
        out += pb_varint(2, endianness)
    return out + pb_bytes(3, pb_varint(1, producer))


def block(entries, restart_interval: int = 16) -> bytes:
    """Entries [(key, value)] with shared key prefixes, then the restart offsets and their count."""
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        previous = key
    restarts = restarts or [0]
    return bytes(out) + b"".join(r.to_bytes(4, "little") for r in restarts) + len(restarts).to_bytes(4, "little")


def with_trailer(contents: bytes, kind: int = 0) -> bytes:
    return contents + bytes([kind]) + masked_crc32c(contents + bytes([kind])).to_bytes(4, "little")


def handle(offset: int, size: int) -> bytes:
    return varint(offset) + varint(size)


def separator(last: bytes, following: bytes | None) -> bytes:
    """The short index key LevelDB writes for a block: >= its last key, < the next block's first key
    (FindShortestSeparator), or for the last block a short key >= its last (FindShortSuccessor)."""
    if following is None:
        for i, b in enumerate(last):
            if b != 0xFF:
                return last[:i] + bytes([b + 1])
        return last
    i = 0
    while i < min(len(last), len(following)) and last[i] == following[i]:
        i += 1
    if i < min(len(last), len(following)) and last[i] < 0xFF and last[i] + 1 < following[i]:
        return last[:i] + bytes([last[i] + 1])
    return last


def table(entries, per_block: int = 1000) -> bytes:
    """An SSTable of the (sorted) entries: data blocks, an empty metaindex, the index block, the footer."""
    out, index = bytearray(), []
    for start in range(0, len(entries), per_block):
        chunk = entries[start:start + per_block]
        contents = block(chunk)
        following = entries[start + per_block][0] if start + per_block < len(entries) else None
        index.append((separator(chunk[-1][0], following), handle(len(out), len(contents))))
        out += with_trailer(contents)
    meta = (len(out), len(block([])))
    out += with_trailer(block([]))
    index_contents = block(index, restart_interval=1)
    index_handle = (len(out), len(index_contents))
    out += with_trailer(index_contents)
    footer = handle(*meta) + handle(*index_handle)
    return bytes(out) + footer + bytes(40 - len(footer)) + MAGIC


def bundle(tensors: dict, per_block: int = 1000, endianness: int = 0) -> tuple[bytes, bytes]:
    """(index bytes, data bytes) of a one-shard checkpoint holding `tensors` ({name: array})."""
    data, entries = bytearray(), []
    for name in sorted(tensors, key=lambda n: n.encode()):
        array = np.asarray(tensors[name], order="C")  # (ascontiguousarray would make a scalar 1-d)
        raw = array.astype(array.dtype.newbyteorder(">" if endianness else "<")).tobytes()
        entries.append((name.encode(), entry_proto(DTYPES[array.dtype.name], array.shape, 0, len(data), len(raw),
                                                   masked_crc32c(raw))))
        data += raw
    return table([(b"", header_proto(endianness=endianness))] + entries, per_block), bytes(data)


def write(directory: Path, index: bytes, data: bytes, prefix: str = "model.ckpt-1") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{prefix}.index").write_bytes(index)
    (directory / f"{prefix}.data-00000-of-00001").write_bytes(data)
    return directory / prefix


__all__ = ["varint", "pb_varint", "pb_bytes", "pb_fixed32", "shape_proto", "entry_proto", "header_proto", "block",
           "with_trailer", "handle", "table", "bundle", "write", "crc32c", "DTYPES"]
