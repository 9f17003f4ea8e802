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

Why restricted: unpickling runs whatever callables the pickle names -- `posix.system` is as easy to
name as `_rebuild_tensor_v2` -- so `pickle.load` on a downloaded file runs the author's code. Here
the unpickler resolves only the globals a state dict needs (the tensor rebuild functions, the
storage types, OrderedDict), each mapped to a harmless stand-in defined in this file, and refuses
every other global by name, before anything is called. No module is ever imported.

Arrays returned: contiguous, native byte order; bfloat16 widened to float32. A tensor that is a
contiguous run of its storage is a view of it (so tied weights share memory, as with torch.load);
any other layout (transposed, strided, expanded) is copied.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["TorchCheckpointError", "RefusedGlobalError", "load_file", "ALLOWED_GLOBALS"]


class TorchCheckpointError(ValueError):
    """A PyTorch checkpoint that cannot be read safely; the message names the file and the problem."""


class RefusedGlobalError(TorchCheckpointError, pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (it might run code): nothing was called."""


class _StorageType:
    """Stand-in for torch.FloatStorage and friends: only says which dtype the storage holds."""

    __slots__ = ("name", "dtype", "bf16")

    def __init__(self, name: str, dtype: str, bf16: bool = False):
        self.name, self.dtype, self.bf16 = name, np.dtype(dtype), bf16

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_STORAGE_TYPES = {t.name: t for t in [
    _StorageType("DoubleStorage", "<f8"), _StorageType("FloatStorage", "<f4"),
    _StorageType("HalfStorage", "<f2"), _StorageType("BFloat16Storage", "<u2", bf16=True),
    _StorageType("LongStorage", "<i8"), _StorageType("IntStorage", "<i4"),
    _StorageType("ShortStorage", "<i2"), _StorageType("CharStorage", "i1"),
    _StorageType("ByteStorage", "u1"), _StorageType("BoolStorage", "?"),
]}


class _StorageRef:
    """A storage named by the pickle: its key in the archive, element type and element count."""

    __slots__ = ("key", "type", "numel")

    def __init__(self, key: str, storage_type: _StorageType, numel: int):
        self.key, self.type, self.numel = key, storage_type, numel


class _TensorRef:
    """What the pickle's tensor rebuild calls produce: a view description, materialised later."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _StorageRef):
            raise TorchCheckpointError(f"a tensor's storage must be a persistent storage, got {type(storage).__name__}")
        size, stride = tuple(size), tuple(stride)
        ints = (offset, *size, *stride)
        if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in ints) or len(size) != len(stride):
            raise TorchCheckpointError(f"invalid tensor view: offset {offset!r}, size {size!r}, stride {stride!r}")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __setstate__(self, state):
        raise TorchCheckpointError("the pickle tries to set attributes on a tensor")


class _StateDict(OrderedDict):
    """OrderedDict as a state dict pickles it: BUILD may only attach torch's `_metadata` (dropped)."""

    def __setstate__(self, state):
        if state is None or (isinstance(state, dict) and set(state) <= {"_metadata"}):
            return
        raise TorchCheckpointError(f"the pickle sets unexpected attributes on an OrderedDict: {state!r:.80}")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None):
    if not isinstance(data, _TensorRef):
        raise TorchCheckpointError(f"a parameter must wrap a tensor, got {type(data).__name__}")
    return data


# (module, name) in the pickle -> what it resolves to. Nothing else can be named.
ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): _StateDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): storage_type for name, storage_type in _STORAGE_TYPES.items()},
}

_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobalError(
                f"{self.source}: refused global {module}.{name}: a checkpoint may only name the globals that "
                "rebuild tensors and ordered dicts (torch._utils._rebuild_tensor_v2, collections.OrderedDict, "
                "torch.*Storage); loading it normally would call this one, which can run arbitrary code") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise TorchCheckpointError(f"{self.source}: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise TorchCheckpointError(f"{self.source}: persistent id names {storage_type!r:.40}, not a storage type")
        if not (isinstance(key, str) and _KEY.fullmatch(key)) or not (isinstance(numel, int) and numel >= 0):
            raise TorchCheckpointError(f"{self.source}: malformed storage reference {pid!r:.80}")
        known = self.storages.setdefault(key, _StorageRef(key, storage_type, numel))
        if known.type is not storage_type or known.numel != numel:
            raise TorchCheckpointError(f"{self.source}: storage {key} is referenced with two types or sizes")
        return known


def _check_not_legacy(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(512)
    if head[:1] == b"\x80" or (len(head) > 262 and head[257:262] == b"ustar"):
        raise TorchCheckpointError(
            f"{path}: legacy (pre-1.6, non-zip) PyTorch format, which is not supported because reading it "
            "means unpickling arbitrary objects. Re-save it with a recent torch: "
            "torch.save(torch.load(path, weights_only=True), new_path)")
    raise TorchCheckpointError(f"{path}: not a PyTorch zip checkpoint (no zip archive found)")


def _stored_entry(zf: zipfile.ZipFile, name: str, archive_size: int, source: str) -> zipfile.ZipInfo:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise TorchCheckpointError(f"{source}: the archive has no entry {name!r}") from None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > archive_size:
        # torch never compresses; refusing compression bounds every allocation by the file size.
        raise TorchCheckpointError(f"{source}: entry {name!r} is compressed or larger than the archive")
    return info


def _read_storage(zf, info, ref: _StorageRef, source: str, progress) -> np.ndarray:
    nbytes = ref.numel * ref.type.dtype.itemsize
    if info.file_size < nbytes:
        raise TorchCheckpointError(
            f"{source}: storage {ref.key} should hold {ref.numel} elements ({nbytes} bytes) but has {info.file_size} bytes")
    out = np.frombuffer(bytearray(nbytes), dtype=ref.type.dtype)  # plain pages: see safetensors.get_tensor
    buf = memoryview(out).cast("B")
    try:
        with zf.open(info) as f:  # zipfile checks the CRC once the entry is read to its end
            pos = 0
            while pos < nbytes:
                chunk = f.read(min(1 << 24, nbytes - pos))
                if not chunk:
                    raise TorchCheckpointError(f"{source}: storage {ref.key} is truncated")
                buf[pos:pos + len(chunk)] = chunk
                pos += len(chunk)
                progress(len(chunk))
            f.read()  # the rest (normally nothing), so that the CRC is checked
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise TorchCheckpointError(f"{source}: storage {ref.key} is corrupt ({e})") from None
    return out


# An expanded view (stride 0) has more elements than its storage; copying it out is allowed up to
# this many bytes, so that a few hostile bytes cannot ask for terabytes.
_MAX_EXPANSION_BYTES = 1 << 28


def _materialise(ref: _TensorRef, storage: np.ndarray, name: str, source: str) -> np.ndarray:
    where = f"{source}: tensor {name!r} (offset {ref.offset}, size {list(ref.size)}, stride {list(ref.stride)})"
    numel = math.prod(ref.size)
    if math.prod(max(n, 1) for n in ref.size) * storage.itemsize > max(storage.nbytes, _MAX_EXPANSION_BYTES):
        raise TorchCheckpointError(f"{where} has far more elements than its storage of {storage.size}")
    if numel == 0:
        return np.empty(ref.size, dtype=storage.dtype)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if last >= storage.size:
        raise TorchCheckpointError(f"{where} reaches element {last} of a storage of {storage.size}")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[ref.offset:], shape=ref.size,
                                           strides=[s * item for s in ref.stride], writeable=False)
    if view.flags.c_contiguous:  # a plain run of the storage: share it, as torch.load does
        return storage[ref.offset:ref.offset + numel].reshape(ref.size)
    return np.ascontiguousarray(view)  # transposed, strided or expanded: copy


def load_file(path: str | os.PathLike, *, on_progress: Callable[[int, int], None] | None = None
              ) -> dict[str, np.ndarray]:
    """Read a `torch.save` zip checkpoint holding a state dict: {name: array}, without torch.

    on_progress(bytes_read, total_bytes) is called while storages are read. Raises
    RefusedGlobalError if the pickle names anything but tensor-rebuilding globals, and
    TorchCheckpointError for legacy or malformed files (never executing any of their code).
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"torch_pickle.load_file: no such file {source!r}")
    if not zipfile.is_zipfile(path):
        _check_not_legacy(path)
    archive_size = path.stat().st_size
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise TorchCheckpointError(f"{source}: unreadable zip archive ({e})") from None
    with zf:
        pickles = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise TorchCheckpointError(f"{source}: expected one '<name>/data.pkl' in the archive, found {pickles}")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in zf.namelist():
            byteorder = zf.read(_stored_entry(zf, prefix + "byteorder", archive_size, source)).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise TorchCheckpointError(f"{source}: unknown byteorder {byteorder!r}")

        unpickler = _RestrictedUnpickler(io.BytesIO(zf.read(_stored_entry(zf, pickles[0], archive_size, source))), source)
        try:
            obj = unpickler.load()
        except TorchCheckpointError:
            raise
        except Exception as e:  # malformed pickle: truncated, wrong opcodes, calls with wrong arguments
            raise TorchCheckpointError(f"{source}: malformed pickle ({type(e).__name__}: {str(e):.200})") from None
        if not isinstance(obj, dict):
            raise TorchCheckpointError(f"{source}: the checkpoint holds a {type(obj).__name__}, not a state dict")
        for key, value in obj.items():
            if not isinstance(key, str) or not isinstance(value, _TensorRef):
                raise TorchCheckpointError(
                    f"{source}: entry {key!r:.60} is a {type(value).__name__}; only a flat state dict "
                    "{name: tensor} is supported")

        used = {ref.storage.key: ref.storage for ref in obj.values()}
        infos = {k: _stored_entry(zf, f"{prefix}data/{k}", archive_size, source) for k in used}
        total, done = sum(r.numel * r.type.dtype.itemsize for r in used.values()), 0

        def progress(n):
            nonlocal done
            done += n
            if on_progress is not None:
                on_progress(done, total)

        storages = {}
        for key, ref in used.items():
            raw = _read_storage(zf, infos[key], ref, source, progress)
            if byteorder == "big":
                raw = raw.view(raw.dtype.newbyteorder(">"))
            if ref.type.bf16:
                raw = (raw.astype(np.uint32) << 16).view(np.float32)
            elif not raw.dtype.isnative:
                raw = raw.astype(raw.dtype.newbyteorder("="))
            storages[key] = raw
    return {name: _materialise(ref, storages[ref.storage.key], name, source) for name, ref in obj.items()}
