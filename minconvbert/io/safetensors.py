"""The safetensors format, read and written with NumPy alone.

A file is three parts, all integers little-endian:

    bytes [0, 8)          N: uint64, the length of the JSON header
    bytes [8, 8 + N)      the header: UTF-8 JSON, padded with spaces to a multiple of 8 bytes
    bytes [8 + N, end)    the data: every tensor's raw bytes (C order, little-endian), back to back

    header = {"__metadata__": {"format": "pt"},                              # optional, str -> str
              "embeddings.word_embeddings.weight":
                  {"dtype": "F32", "shape": [30522, 768], "data_offsets": [0, 93763584]}, ...}

`data_offsets` are [begin, end) byte positions relative to the start of the data part. The tensors
must cover the data part exactly: no gap, no overlap, nothing after the last one. Nothing in the file
is executable; a reader only has to check the header before trusting it, which `parse_header` does.

Reading is lazy: `safe_open` reads the header only, and maps the file into memory; a tensor's bytes
are touched when `get_tensor` is called (and then page by page, as NumPy reads them). Arrays are
copy-on-write views of the mapping: writable, but writes never reach the file.

Writing follows the official library byte for byte: tensors sorted by decreasing alignment of their
dtype, then by name (so every tensor starts at a multiple of its item size), compact JSON with
`__metadata__` first, spaces up to a multiple of 8. The file is written atomically.
"""

from __future__ import annotations

import io
import json
import math
import mmap as mmap_module
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from minconvbert.io.atomic import atomic_write
from minconvbert.io.regular_file import open_regular

__all__ = [
    "SafetensorsError",
    "TensorInfo",
    "SafeOpen",
    "safe_open",
    "load_file",
    "load",
    "save_file",
    "save",
    "parse_header",
    "MAX_HEADER_BYTES",
]

# The official reader refuses headers above 100 MB; a real model's header is a few tens of kB.
MAX_HEADER_BYTES = 100_000_000
_MAX_NDIM = 64  # NumPy's limit on the number of dimensions

# Format dtype -> how its bytes are stored (always little-endian). BF16 is read as raw uint16 and
# widened to float32: NumPy has no bfloat16.
_STORAGE = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
# The order the official writer lays tensors out in: its dtype enum, largest alignment first.
_WRITE_ORDER = ["U64", "I64", "F64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16", "I8", "U8", "BOOL"]
_WRITE_RANK = {code: rank for rank, code in enumerate(_WRITE_ORDER)}
# NumPy kind + itemsize -> format dtype, for writing.
_CODE_OF = {("f", 8): "F64", ("f", 4): "F32", ("f", 2): "F16", ("i", 8): "I64", ("i", 4): "I32",
            ("i", 2): "I16", ("i", 1): "I8", ("u", 8): "U64", ("u", 4): "U32", ("u", 2): "U16",
            ("u", 1): "U8", ("b", 1): "BOOL"}


class SafetensorsError(ValueError):
    """A safetensors file (or the data to write into one) breaks the format; the message says how."""


@dataclass(frozen=True)
class TensorInfo:
    """One header entry: the tensor's name, format dtype ("F32"), shape and [begin, end) data offsets."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


# ---------------------------------------------------------------------------------------------
# header


def _reject_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise SafetensorsError(f"header: key {dup!r} appears more than once")
    return dict(pairs)


def _reject_constant(name):
    raise SafetensorsError(f"header: {name} is not valid JSON")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_entry(name: str, entry, data_size: int) -> TensorInfo:
    where = f"tensor {name!r}"
    if not isinstance(entry, dict):
        raise SafetensorsError(f"{where}: entry must be a JSON object, got {type(entry).__name__}")
    # Fields other than these three are ignored, as the official reader does.
    for field in ("dtype", "shape", "data_offsets"):
        if field not in entry:
            raise SafetensorsError(f"{where}: missing field {field!r}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _STORAGE:
        raise SafetensorsError(f"{where}: unknown dtype {dtype!r} (supported: {', '.join(_STORAGE)})")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise SafetensorsError(f"{where}: shape must be a list of non-negative integers, got {shape!r:.80}")
    if len(shape) > _MAX_NDIM:
        raise SafetensorsError(f"{where}: {len(shape)} dimensions, more than NumPy's {_MAX_NDIM}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
        raise SafetensorsError(f"{where}: data_offsets must be two integers [begin, end], got {offsets!r:.80}")
    begin, end = offsets
    if not 0 <= begin <= end:
        raise SafetensorsError(f"{where}: data_offsets [{begin}, {end}] are not 0 <= begin <= end")
    if end > data_size:
        raise SafetensorsError(
            f"{where}: data_offsets [{begin}, {end}] out of range: the data part holds only {data_size} bytes "
            "(truncated file?)")
    # NumPy refuses shapes whose element count (zeros aside) overflows a 64-bit index, even for an
    # empty tensor; refuse them here, by name, before any arithmetic on the data.
    if any(d >= 1 << 62 for d in shape) or math.prod(max(d, 1) for d in shape) * _STORAGE[dtype].itemsize >= 1 << 62:
        raise SafetensorsError(f"{where}: shape {shape!r:.80} is too large for any file")
    nbytes = math.prod(shape) * _STORAGE[dtype].itemsize
    if nbytes != end - begin:
        raise SafetensorsError(
            f"{where}: shape {shape} of {dtype} needs {nbytes} bytes but data_offsets [{begin}, {end}] "
            f"hold {end - begin}")
    return TensorInfo(name, dtype, tuple(shape), begin, end)


def parse_header(header: bytes, data_size: int) -> tuple[dict[str, str] | None, dict[str, TensorInfo]]:
    """Validate a header against a data part of `data_size` bytes.

    Returns (metadata or None, {name: TensorInfo} in data order). Raises SafetensorsError naming the
    first problem: invalid UTF-8 or JSON, wrong JSON types, unknown dtype, a shape that does not match
    its byte length, offsets out of range, overlapping or gapped data, bytes after the last tensor.
    """
    try:
        text = bytes(header).decode("utf-8")
    except UnicodeDecodeError as e:
        raise SafetensorsError(f"header is not valid UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        obj = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except SafetensorsError:
        raise
    except json.JSONDecodeError as e:
        raise SafetensorsError(f"header is not valid JSON: {e.msg} at character {e.pos}") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer with 5000 digits, or [[[[...]]]]
        raise SafetensorsError(f"header is not valid JSON: {type(e).__name__}: {str(e):.100}") from None
    if not isinstance(obj, dict):
        raise SafetensorsError(f"header must be a JSON object, got {type(obj).__name__}")

    metadata = obj.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise SafetensorsError("header: __metadata__ must be an object mapping strings to strings")

    infos = sorted((_check_entry(name, entry, data_size) for name, entry in obj.items()),
                   key=lambda t: (t.begin, t.end))
    position, previous = 0, None
    for info in infos:
        if info.begin > position:
            after = f"after tensor {previous.name!r}" if previous else "at the start of the data"
            raise SafetensorsError(f"gap of {info.begin - position} bytes {after} (before tensor {info.name!r})")
        if info.begin < position:
            raise SafetensorsError(
                f"tensors {previous.name!r} and {info.name!r} overlap: [{previous.begin}, {previous.end}) "
                f"and [{info.begin}, {info.end})")
        position, previous = info.end, info
    if position != data_size:
        raise SafetensorsError(f"{data_size - position} bytes after the last tensor are not covered by the header")
    return metadata, {info.name: info for info in infos}


def _read_header(read_at: Callable[[int, int], bytes], file_size: int, source: str):
    """Read and check the 8-byte length and the header; returns (metadata, infos, data_start).

    read_at(offset, n) returns up to n bytes at offset: only the header's bytes are ever asked for.
    """
    if file_size < 8:
        raise SafetensorsError(f"{source}: {file_size} bytes, too short for the 8-byte header length (truncated file?)")
    n = int.from_bytes(read_at(0, 8), "little")
    if n > MAX_HEADER_BYTES:
        raise SafetensorsError(f"{source}: header length {n} is larger than the {MAX_HEADER_BYTES}-byte limit")
    if 8 + n > file_size:
        raise SafetensorsError(
            f"{source}: header length {n} is larger than the file ({file_size} bytes; truncated file?)")
    header = read_at(8, n)
    if len(header) != n:
        raise SafetensorsError(f"{source}: file ended inside the header")
    try:
        metadata, infos = parse_header(header, file_size - 8 - n)
    except SafetensorsError as e:
        raise SafetensorsError(f"{source}: {e}") from None
    return metadata, infos, 8 + n


# ---------------------------------------------------------------------------------------------
# reading


def _to_array(raw: np.ndarray, info: TensorInfo, dtype, source: str) -> np.ndarray:
    """Raw stored elements (1-D, storage dtype) -> the array the caller asked for, shaped."""
    if info.dtype == "BOOL" and raw.view(np.uint8).max(initial=0) > 1:
        # NumPy would keep the byte: `x == True` is then False for a "true" element
        raise SafetensorsError(f"{source}: BOOL tensor {info.name!r} holds bytes other than 0 and 1")
    if info.dtype == "BF16":
        # bfloat16 is the top half of a float32: shift the 16 bits up and reinterpret.
        raw = (raw.astype(np.uint32) << 16).view(np.float32)
    elif not raw.dtype.isnative:
        raw = raw.astype(raw.dtype.newbyteorder("="))
    elif raw.ctypes.data % raw.dtype.alignment:
        raw = raw.copy()  # a file from a writer that did not align its data: make it aligned
    out = raw.reshape(info.shape)
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    return out


def _read_into(file, offset: int, view: memoryview) -> int:
    """Fill `view` from the file at `offset` (one pread per call where the OS has it); bytes read."""
    done = 0
    while done < len(view):
        if hasattr(os, "preadv"):
            n = os.preadv(file.fileno(), [view[done:]], offset + done)
        else:
            file.seek(offset + done)
            n = file.readinto(view[done:])
        if not n:
            break
        done += n
    return done


def _requested_dtype(dtype):
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: {dtype!r} is not a NumPy dtype") from None


class SafeOpen:
    """An open safetensors file: the header is parsed, the data read on demand.

        with safe_open("model.safetensors") as f:
            f.keys()                      # sorted tensor names
            f.info("encoder.layer.0.attention.self.query.weight").shape
            w = f.get_tensor("embeddings.word_embeddings.weight")   # (30522, 768) float32

    mmap=True (default): tensors are copy-on-write views of a memory map (no copy, pages read as
    used). mmap=False: each get_tensor reads its bytes into a new array (no mapping stays alive,
    e.g. on Windows where a mapped file cannot be replaced).
    """

    def __init__(self, path: str | os.PathLike, mmap: bool = True):
        self.path = Path(path)
        self._use_mmap = bool(mmap)
        self._map = None
        self._file = open_regular(self.path, SafetensorsError, "safe_open", buffering=0)  # not a FIFO
        try:
            self._size = os.fstat(self._file.fileno()).st_size
            self._metadata, self._infos, self._data_start = _read_header(self._read_at, self._size, str(self.path))
        except BaseException:
            self._file.close()
            raise

    def _read_at(self, offset: int, n: int) -> bytes:
        buffer = bytearray(n)
        return bytes(buffer[:_read_into(self._file, offset, memoryview(buffer))])

    def keys(self) -> list[str]:
        """Tensor names, sorted (as the official library returns them)."""
        return sorted(self._infos)

    def metadata(self) -> dict[str, str] | None:
        """The header's `__metadata__` (None when the file has none)."""
        return None if self._metadata is None else dict(self._metadata)

    def info(self, name: str) -> TensorInfo:
        """A tensor's dtype, shape and offsets, without reading its data."""
        try:
            return self._infos[name]
        except KeyError:
            raise KeyError(f"{self.path.name}: no tensor named {name!r}") from None

    def __contains__(self, name) -> bool:
        return name in self._infos

    def __len__(self) -> int:
        return len(self._infos)

    def get_tensor(self, name: str, dtype=None) -> np.ndarray:
        """The tensor `name` as an array: BF16 widened to float32, any other dtype as stored,
        unless `dtype` is given (then converted with `astype`)."""
        info = self.info(name)
        dtype = _requested_dtype(dtype)
        if self._file is None:
            raise ValueError(f"{self.path.name}: file is closed")
        if os.fstat(self._file.fileno()).st_size != self._size:
            raise SafetensorsError(f"{self.path}: the file changed size since it was opened")
        storage = _STORAGE[info.dtype]
        count = info.nbytes // storage.itemsize
        if count == 0:
            raw = np.empty(0, dtype=storage)
        elif self._use_mmap:
            if self._map is None:
                self._map = mmap_module.mmap(self._file.fileno(), 0, access=mmap_module.ACCESS_COPY)
            raw = np.frombuffer(self._map, dtype=storage, count=count, offset=self._data_start + info.begin)
        else:
            # Backed by a bytearray rather than np.empty: NumPy asks for transparent huge pages on
            # large arrays, and their first touch can stall in memory compaction (measured: 0.13 to
            # 0.5 s for 420 MB from run to run, against a steady 0.25 s with plain pages).
            raw = np.frombuffer(bytearray(info.nbytes), dtype=storage)
            if _read_into(self._file, self._data_start + info.begin, memoryview(raw).cast("B")) != info.nbytes:
                raise SafetensorsError(f"{self.path}: file ended inside tensor {name!r}")
        return _to_array(raw, info, dtype, str(self.path))

    def close(self) -> None:
        """Close the file. Arrays already returned stay valid (they keep the mapping alive)."""
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # arrays still view the mapping; it is unmapped when the last one goes away
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "SafeOpen":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SafeOpen({str(self.path)!r}, {len(self._infos)} tensors)"


def safe_open(path: str | os.PathLike, *, mmap: bool = True) -> SafeOpen:
    """Open a safetensors file, reading only its header. See `SafeOpen`."""
    return SafeOpen(path, mmap=mmap)


def load_file(path: str | os.PathLike, *, dtype=None, mmap: bool = True) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file, {name: array} in data order. See `SafeOpen.get_tensor`."""
    with safe_open(path, mmap=mmap) as f:
        return {name: f.get_tensor(name, dtype=dtype) for name in f._infos}


def load(data: bytes | bytearray | memoryview, *, dtype=None) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file held in memory, as independent writable arrays."""
    view = memoryview(data).cast("B")
    _, infos, start = _read_header(lambda offset, n: bytes(view[offset:offset + n]), len(view), "<bytes>")
    dtype = _requested_dtype(dtype)
    out = {}
    for name, info in infos.items():
        storage = _STORAGE[info.dtype]
        raw = np.frombuffer(view, dtype=storage, count=info.nbytes // storage.itemsize, offset=start + info.begin)
        arr = _to_array(raw, info, dtype, "<bytes>")
        out[name] = arr.copy() if np.may_share_memory(arr, raw) else arr
    return out


# ---------------------------------------------------------------------------------------------
# writing


def _format_dtype(name: str, arr: np.ndarray) -> str:
    code = _CODE_OF.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise SafetensorsError(
            f"tensors[{name!r}]: dtype {arr.dtype} cannot be stored in safetensors "
            "(supported: float64/32/16, int64/32/16/8, uint64/32/16/8, bool)")
    return code


def _plan(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None):
    """The header bytes (padded) and the tensors in the order their bytes follow it."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors: expected a dict of name -> numpy array, got {type(tensors).__name__}")
    entries = []
    for name, arr in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensors: names must be str, got {name!r}")
        if name == "__metadata__":
            raise SafetensorsError("tensors: '__metadata__' is reserved for the header's metadata")
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"tensors[{name!r}]: expected a numpy array, got {type(arr).__name__}")
        entries.append((_WRITE_RANK[_format_dtype(name, arr)], name.encode("utf-8", "strict"), name, arr))
    entries.sort(key=lambda e: (e[0], e[1]))

    header: dict = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"metadata: expected a dict of str -> str, got {metadata!r:.80}")
        header["__metadata__"] = dict(metadata)
    offset = 0
    for _, _, name, arr in entries:
        header[name] = {"dtype": _format_dtype(name, arr), "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return text, [(name, arr) for _, _, name, arr in entries], offset


def _write(f: BinaryIO, tensors, metadata, on_progress) -> None:
    header, ordered, total = _plan(tensors, metadata)
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    done = 0
    chunk = 1 << 26  # 64 MB: progress moves on big tensors, and nothing is copied whole twice
    for _, arr in ordered:
        arr = np.ascontiguousarray(arr)  # copies only a non-contiguous view
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        flat = arr.reshape(-1).view(np.uint8)
        for start in range(0, flat.size, chunk):
            piece = flat[start:start + chunk]
            f.write(memoryview(piece))
            done += piece.size
            if on_progress is not None:
                on_progress(done, total)
    if on_progress is not None and total == 0:
        on_progress(0, 0)


def save(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding `tensors` (see `save_file`)."""
    buffer = io.BytesIO()
    _write(buffer, tensors, metadata, None)
    return buffer.getvalue()


def save_file(tensors: Mapping[str, np.ndarray], path: str | os.PathLike,
              metadata: Mapping[str, str] | None = None, *,
              on_progress: Callable[[int, int], None] | None = None) -> None:
    """Write `tensors` ({name: array}) to `path` as safetensors, atomically.

    Non-contiguous arrays are written in C order and big-endian ones as little-endian. Two names
    whose arrays share memory (tied weights) are both written, each with its own bytes: the format
    has no aliasing. `on_progress(bytes_written, total_bytes)` is called as data is written.
    Writes go to a temporary file renamed over `path` at the end, so an error mid-write leaves any
    earlier file at `path` intact.
    """
    _plan(tensors, metadata)  # validate before creating any file
    with atomic_write(path) as f:
        _write(f, tensors, metadata, on_progress)
