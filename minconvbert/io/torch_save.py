"""Writing pytorch_model.bin without torch: the zip + pickle layout of `torch.save(state_dict, path)`.

    save_file({"embeddings.word_embeddings.weight": w, ...}, "ckpt/pytorch_model.bin")
    torch.load("ckpt/pytorch_model.bin", weights_only=True)      # an OrderedDict of tensors

The archive (uncompressed zip; <name> is the file's stem, as torch writes it):

    <name>/data.pkl      the state dict, pickled with protocol 2 (below)
    <name>/byteorder     "little"
    <name>/data/<k>      storage k's raw bytes, little-endian, starting at a multiple of 64 in the file
    <name>/version       "3"

The pickle is written opcode by opcode; for each tensor it reads as

    name -> torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
    storage = persistent id ("storage", torch.FloatStorage, "<k>", "cpu", numel)

inside `collections.OrderedDict()` filled by SETITEMS: exactly what `torch.load(weights_only=True)`
and `torch_pickle.load_file` accept. Arrays that are one and the same (tied weights: the same
memory, shape, strides and dtype) are stored once and named twice, as torch stores a shared tensor.
Any other array is written as its own contiguous storage. The file is written atomically.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from minconvbert.io.atomic import atomic_write
from minconvbert.io.torch_unpickler import TorchCheckpointError

__all__ = ["save_file", "STORAGE_TYPES"]

# NumPy dtype -> torch storage type (the ones torch_pickle reads back).
STORAGE_TYPES = {np.dtype(k): v for k, v in {
    "float64": "DoubleStorage", "float32": "FloatStorage", "float16": "HalfStorage", "int64": "LongStorage",
    "int32": "IntStorage", "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage",
    "bool": "BoolStorage"}.items()}
_ALIGNMENT = 64  # torch aligns each storage's bytes so that they can be memory-mapped
_PADDING_ID = 0x4246  # the zip extra-field id torch pads with ("FB")


class _Pickle:
    """Protocol-2 pickle opcodes, appended to a bytearray (see pickletools for each opcode)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")  # PROTO 2

    def mark(self):
        self.out += b"("

    def global_(self, module: str, name: str):
        self.out += b"c" + f"{module}\n{name}\n".encode("ascii")

    def string(self, s: str):
        data = s.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE

    def integer(self, n: int):
        if 0 <= n < 1 << 8:
            self.out += b"K" + struct.pack("<B", n)  # BININT1
        elif 0 <= n < 1 << 16:
            self.out += b"M" + struct.pack("<H", n)  # BININT2
        elif -(1 << 31) <= n < 1 << 31:
            self.out += b"J" + struct.pack("<i", n)  # BININT
        else:
            data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            self.out += b"\x8a" + struct.pack("<B", len(data)) + data  # LONG1

    def tuple_of_ints(self, values):
        self.mark()
        for v in values:
            self.integer(v)
        self.out += b"t"  # TUPLE (from the mark)

    def empty_ordered_dict(self):
        self.global_("collections", "OrderedDict")
        self.out += b")R"  # EMPTY_TUPLE, REDUCE: OrderedDict()

    def tensor(self, storage_type: str, key: str, numel: int, shape, strides):
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.mark()  # the arguments
        self.mark()  # the persistent id
        self.string("storage")
        self.global_("torch", storage_type)
        self.string(key)
        self.string("cpu")
        self.integer(numel)
        self.out += b"tQ"  # TUPLE, BINPERSID
        self.integer(0)  # storage offset
        self.tuple_of_ints(shape)
        self.tuple_of_ints(strides)
        self.out += b"\x89"  # NEWFALSE: requires_grad
        self.empty_ordered_dict()  # backward hooks
        self.out += b"tR"  # TUPLE, REDUCE

    def stop(self) -> bytes:
        return bytes(self.out + b".")


def _storages(tensors: Mapping[str, np.ndarray]):
    """({name: storage key}, {key: contiguous little-endian array}); identical arrays share a key."""
    keys, storages, seen = {}, {}, {}
    for name, arr in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensors: names must be str, got {type(name).__name__}")
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"tensors[{name!r}]: expected a numpy array, got {type(arr).__name__}")
        if arr.dtype.newbyteorder("=") not in STORAGE_TYPES:
            raise TorchCheckpointError(f"tensors[{name!r}]: dtype {arr.dtype} cannot be stored in pytorch_model.bin "
                                       f"(supported: {', '.join(str(d) for d in STORAGE_TYPES)})")
        identity = (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype.str)
        if identity not in seen:
            seen[identity] = str(len(storages))
            storages[seen[identity]] = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        keys[name] = seen[identity]
    return keys, storages


def _pickled(tensors, keys, storages) -> bytes:
    p = _Pickle()
    p.empty_ordered_dict()
    p.mark()
    for name, arr in tensors.items():
        storage = storages[keys[name]]
        p.string(name)
        strides = [math.prod(arr.shape[i + 1:]) for i in range(arr.ndim)]  # C order, in elements
        p.tensor(STORAGE_TYPES[storage.dtype.newbyteorder("=")], keys[name], storage.size, arr.shape, strides)
    p.out += b"u"  # SETITEMS
    return p.stop()


def _write_entry(zf: zipfile.ZipFile, name: str, data, aligned: bool) -> None:
    """One stored entry; with `aligned`, padded (in the local header's extra field) so that its bytes
    start at a multiple of 64 in the file."""
    view = memoryview(data).cast("B")
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = len(view)
    zip64 = len(view) * 1.05 > zipfile.ZIP64_LIMIT  # zipfile then adds a 20-byte zip64 extra field
    if aligned:
        header = 30 + len(name.encode("utf-8")) + (20 if zip64 else 0) + 4
        padding = -(zf.fp.tell() + header) % _ALIGNMENT
        info.extra = struct.pack("<HH", _PADDING_ID, padding) + bytes(padding)
    with zf.open(info, "w", force_zip64=zip64) as f:
        assert not aligned or zf.fp.tell() % _ALIGNMENT == 0, "storage bytes not aligned"
        for start in range(0, len(view), 1 << 26):
            f.write(view[start:start + (1 << 26)])


def save_file(tensors: Mapping[str, np.ndarray], path: str | os.PathLike, *,
              on_progress: Callable[[int, int], None] | None = None) -> None:
    """Write {name: array} to `path` in torch.save's zip format, atomically (see the module docstring).

    Supported dtypes: float64/32/16, int64/32/16/8, uint8, bool. on_progress(bytes_written, total)
    is called after each storage.
    """
    path = Path(path)
    keys, storages = _storages(tensors)
    pickled = _pickled(tensors, keys, storages)
    prefix = path.name.split(".")[0] or "archive"
    total, done = sum(s.nbytes for s in storages.values()), 0
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        _write_entry(zf, f"{prefix}/data.pkl", pickled, aligned=False)
        _write_entry(zf, f"{prefix}/byteorder", b"little", aligned=False)
        for key, storage in storages.items():
            _write_entry(zf, f"{prefix}/data/{key}", storage.reshape(-1).view(np.uint8), aligned=True)
            done += storage.nbytes
            if on_progress is not None:
                on_progress(done, total)
        _write_entry(zf, f"{prefix}/version", b"3\n", aligned=False)
