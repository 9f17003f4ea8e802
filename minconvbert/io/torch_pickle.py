"""PyTorch's zip checkpoints (`torch.save`, pytorch_model.bin) read without torch, and safely.

Since PyTorch 1.6, `torch.save(state_dict, path)` writes an uncompressed zip archive:

    <name>/data.pkl          a pickle of {key: tensor}; each tensor pickled as a call
                             torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
    <name>/data/<k>          the raw bytes of storage k (every element, native byte order)
    <name>/byteorder         "little" or "big" (absent in old files, which are little-endian)
    <name>/version, ...      bookkeeping we do not need

Storages are not inside the pickle: the pickle refers to them by "persistent id", a tuple
("storage", torch.FloatStorage, "k", "cpu", numel), resolved by the loader. Several tensors may view
one storage (tied weights, slices), each with its own offset, size and stride (in elements).

Unpickling runs whatever callables the pickle names -- `posix.system` is as easy to name as
`_rebuild_tensor_v2` -- so the pickle is run by `torch_unpickler`'s restricted machine, which knows
only the opcodes and globals a state dict needs. Around it, the archive is checked as hostile too:

- every entry read is stored (not compressed), not encrypted, inside the file, and overlaps no other
  entry read, so that the bytes read add up to at most the file's size;
- the whole load has one byte budget, 4x the file's size + 64 MB: the pickle's objects, the
  storages, and every copy (a transposed or expanded view) are charged to it before they are made,
  so a few hostile bytes cannot ask for gigabytes;
- views must stay inside their storage; bool storages may hold only bytes 0 and 1.

Arrays returned: contiguous, native byte order; bfloat16 widened to float32. A tensor that is a
contiguous run of its storage is a view of it (so tied weights share memory, as with torch.load);
any other layout (transposed, strided, expanded) is copied.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import zipfile
from bisect import bisect
from collections.abc import Callable
from pathlib import Path

import numpy as np

from minconvbert.io.regular_file import open_regular
from minconvbert.io.torch_unpickler import (ALLOWED_GLOBALS, RefusedGlobalError, StorageRef, TensorRef,
                                            TorchCheckpointError, unpickle_state_dict)

__all__ = ["TorchCheckpointError", "RefusedGlobalError", "load_file", "ALLOWED_GLOBALS", "BUDGET_FACTOR",
           "BUDGET_SLACK_BYTES"]

# What one load may allocate, in all: BUDGET_FACTOR x the file's size + BUDGET_SLACK_BYTES. A real
# checkpoint needs 1x (its storages), 2x with bfloat16 widened to float32, plus any transposed copies.
BUDGET_FACTOR = 4
BUDGET_SLACK_BYTES = 64 << 20
# What zipfile and struct raise on a malformed archive; wrapped in TorchCheckpointError.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
               ValueError, struct.error, UnicodeDecodeError, OverflowError)
_ZIPINFO_BYTES = 600  # memory of one parsed zipfile.ZipInfo, measured with tracemalloc
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (version .. sizes), name length, extra length


class _Budget:
    """The bytes a load may still allocate; `charge` raises once they are spent."""

    def __init__(self, source: str, file_size: int):
        self.source, self.limit, self.used = source, BUDGET_FACTOR * file_size + BUDGET_SLACK_BYTES, 0

    def charge(self, nbytes: int, what: str = "the pickle's objects") -> None:
        self.used += nbytes
        if self.used > self.limit:
            raise TorchCheckpointError(
                f"{self.source}: reading it would allocate more than {self.limit} bytes ({BUDGET_FACTOR}x the "
                f"file's size + {BUDGET_SLACK_BYTES >> 20} MB), the most a real checkpoint needs ({what})")


@contextlib.contextmanager
def _archive_errors(source: str, what: str):
    """Turn zipfile's and struct's exceptions into a TorchCheckpointError naming `what` was read."""
    try:
        yield
    except TorchCheckpointError:
        raise
    except _ZIP_ERRORS as e:
        raise TorchCheckpointError(f"{source}: {what} is corrupt ({type(e).__name__}: {str(e)[:200]})") from None


class _Archive:
    """A zip archive whose entries are read only if stored, inside the file, and not overlapping."""

    def __init__(self, file, size: int, source: str):
        self.file, self.size, self.source = file, size, source
        with _archive_errors(source, "the zip directory"):
            self.zip = zipfile.ZipFile(file)
        self.names = set(self.zip.namelist())
        self.spans: list[tuple[int, int, str]] = []  # (start, end, name) of every entry read, sorted

    def entry(self, name: str) -> zipfile.ZipInfo:
        """The entry `name`, checked: stored, unencrypted, within the file, overlapping no other entry."""
        if name not in self.names:
            raise TorchCheckpointError(f"{self.source}: the archive has no entry {name!r}")
        with _archive_errors(self.source, f"entry {name!r}"):
            info = self.zip.getinfo(name)
            if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1 or info.compress_size != info.file_size:
                # torch never compresses: refusing it bounds every read by the file's size
                raise TorchCheckpointError(f"{self.source}: entry {name!r} is compressed or encrypted")
            self.file.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(self.file.read(_LOCAL_HEADER.size))
        start, end = info.header_offset, info.header_offset + _LOCAL_HEADER.size + name_length + extra_length \
            + info.file_size
        if signature != b"PK\x03\x04" or end > self.size:
            raise TorchCheckpointError(f"{self.source}: entry {name!r} lies outside the file (truncated archive?)")
        i = bisect(self.spans, (start, end, name))
        for other_start, other_end, other in self.spans[max(i - 1, 0):i + 1]:
            if start < other_end and other_start < end:
                raise TorchCheckpointError(f"{self.source}: entries {other!r} and {name!r} overlap in the file; "
                                           "a zip written by torch.save never does")
        self.spans.insert(i, (start, end, name))
        return info

    def read(self, name: str, max_bytes: int) -> bytes:
        info = self.entry(name)
        if info.file_size > max_bytes:
            raise TorchCheckpointError(f"{self.source}: entry {name!r} has {info.file_size} bytes, more than "
                                       f"{max_bytes}")
        with _archive_errors(self.source, f"entry {name!r}"):
            return self.zip.read(info)

    def read_storage(self, info: zipfile.ZipInfo, ref: StorageRef, progress) -> np.ndarray:
        """Storage `ref`, held by the (checked) entry `info`, as a 1-D array of its stored dtype (CRC checked)."""
        nbytes = ref.numel * ref.type.dtype.itemsize
        if info.file_size < nbytes:
            raise TorchCheckpointError(f"{self.source}: storage {ref.key} should hold {ref.numel} elements ({nbytes} "
                                       f"bytes) but has {info.file_size} bytes")
        out = np.frombuffer(bytearray(nbytes), dtype=ref.type.dtype)  # plain pages: see safetensors.get_tensor
        buf = memoryview(out).cast("B")
        with _archive_errors(self.source, f"storage {ref.key}"), self.zip.open(info) as f:
            pos = 0
            while pos < nbytes:
                chunk = f.read(min(1 << 24, nbytes - pos))
                if not chunk:
                    raise TorchCheckpointError(f"{self.source}: storage {ref.key} is truncated")
                buf[pos:pos + len(chunk)] = chunk
                pos += len(chunk)
                progress(len(chunk))
            f.read()  # the rest (normally nothing), so that zipfile checks the CRC
        return out


def _check_not_legacy(file, source: str) -> None:
    file.seek(0)
    head = file.read(512)
    if head[:1] == b"\x80" or (len(head) > 262 and head[257:262] == b"ustar"):
        raise TorchCheckpointError(
            f"{source}: legacy (pre-1.6, non-zip) PyTorch format, which is not supported because reading it "
            "means unpickling arbitrary objects. Re-save it with a recent torch: "
            "torch.save(torch.load(path, weights_only=True), new_path)")
    raise TorchCheckpointError(f"{source}: not a PyTorch zip checkpoint (no zip archive found)")


def _widened(ref: StorageRef) -> np.dtype:
    return np.dtype(np.float32) if ref.type.bf16 else ref.type.dtype.newbyteorder("=")


def _plan(name: str, ref: TensorRef, source: str) -> int:
    """Check that the view `ref` stays inside its storage; the bytes its copy needs (0 for a view)."""
    where = f"{source}: tensor {name!r} (offset {ref.offset}, size {list(ref.size)}, stride {list(ref.stride)})"
    itemsize = _widened(ref.storage).itemsize
    if math.prod(max(n, 1) for n in ref.size) * itemsize >= 1 << 62:
        raise TorchCheckpointError(f"{where} has far more elements than any file")
    numel = math.prod(ref.size)
    if numel == 0:
        return 0
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if last >= ref.storage.numel:
        raise TorchCheckpointError(f"{where} reaches element {last} of a storage of {ref.storage.numel}")
    return 0 if _is_contiguous(ref) else numel * itemsize


def _is_contiguous(ref: TensorRef) -> bool:
    """Whether the view is a C-ordered run of its storage (sizes-1 dimensions' strides do not matter)."""
    expected = 1
    for n, s in zip(reversed(ref.size), reversed(ref.stride)):
        if n > 1 and s != expected:
            return False
        expected *= n
    return True


def _materialise(ref: TensorRef, storage: np.ndarray) -> np.ndarray:
    """The array `ref` describes, from its (checked) storage: a view if contiguous, else a copy."""
    numel = math.prod(ref.size)
    if numel == 0:
        return np.empty(ref.size, dtype=storage.dtype)
    if _is_contiguous(ref):  # a plain run of the storage: share it, as torch.load does
        return storage[ref.offset:ref.offset + numel].reshape(ref.size)
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[ref.offset:], shape=ref.size,
                                           strides=[s * item for s in ref.stride], writeable=False)
    return np.ascontiguousarray(view)  # transposed, strided or expanded: copy


def _decode(raw: np.ndarray, ref: StorageRef, byteorder: str, source: str) -> np.ndarray:
    """Stored elements -> native-endian values (bfloat16 widened to float32; bools checked)."""
    if ref.type.dtype == np.bool_ and raw.view(np.uint8).max(initial=0) > 1:
        raise TorchCheckpointError(f"{source}: bool storage {ref.key} holds bytes other than 0 and 1")
    if byteorder == "big":
        raw = raw.view(raw.dtype.newbyteorder(">"))
    if ref.type.bf16:
        wide = raw.astype(np.uint32)
        wide <<= 16  # bfloat16 is the top half of a float32
        return wide.view(np.float32)
    return raw if raw.dtype.isnative else raw.astype(raw.dtype.newbyteorder("="))


def load_file(path: str | os.PathLike, *, on_progress: Callable[[int, int], None] | None = None
              ) -> dict[str, np.ndarray]:
    """Read a `torch.save` zip checkpoint holding a state dict: {name: array}, without torch.

    on_progress(bytes_read, total_bytes) is called while storages are read. Raises
    RefusedGlobalError if the pickle names anything but tensor-rebuilding globals, and
    TorchCheckpointError for legacy, malformed or oversized files (never executing any of their code).
    """
    source = str(path)
    with open_regular(path, TorchCheckpointError, "torch_pickle.load_file") as file:
        size = os.fstat(file.fileno()).st_size
        with _archive_errors(source, "the zip directory"):
            is_zip = zipfile.is_zipfile(file)
        if not is_zip:
            _check_not_legacy(file, source)
        archive = _Archive(file, size, source)
        budget = _Budget(source, size)
        # zipfile has parsed the central directory already (about 600 bytes of objects per entry, at
        # most 12x the directory's size); charged now, so that a huge directory stops the load here.
        budget.charge(len(archive.names) * _ZIPINFO_BYTES, "the zip directory")
        with archive.zip:
            return _load(archive, budget, source, on_progress)


def _load(archive: _Archive, budget: _Budget, source: str, on_progress) -> dict[str, np.ndarray]:
    pickles = sorted(n for n in archive.names if n.endswith("/data.pkl") and n.count("/") == 1)
    if len(pickles) != 1:
        raise TorchCheckpointError(f"{source}: expected one '<name>/data.pkl' in the archive, found "
                                   f"{len(pickles)}: {pickles[:5]}")
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = "little"
    if prefix + "byteorder" in archive.names:
        byteorder = archive.read(prefix + "byteorder", 16).decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise TorchCheckpointError(f"{source}: unknown byteorder {byteorder[:16]!r}")
    data = archive.read(pickles[0], archive.size)
    budget.charge(len(data), "the pickle")
    try:
        tensors = unpickle_state_dict(data, budget.charge)
    except TorchCheckpointError as e:
        raise type(e)(f"{source}: {e}") from None

    used = {ref.storage.key: ref.storage for ref in tensors.values()}
    entries = {key: archive.entry(f"{prefix}data/{key}") for key in used}
    for ref in used.values():  # the storage as read, plus its widened or byte-swapped copy
        raw = ref.numel * ref.type.dtype.itemsize
        budget.charge(raw + (ref.numel * _widened(ref).itemsize if ref.type.bf16 or byteorder == "big" else 0),
                      f"storage {ref.key}")
    for name, ref in tensors.items():
        budget.charge(_plan(name, ref, source), f"a copy of tensor {name!r}")

    total, done = sum(r.numel * r.type.dtype.itemsize for r in used.values()), 0

    def progress(n):
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, total)

    storages = {key: _decode(archive.read_storage(entries[key], ref, progress), ref, byteorder, source)
                for key, ref in used.items()}
    return {name: _materialise(ref, storages[ref.storage.key]) for name, ref in tensors.items()}
