"""The pickle inside a torch checkpoint (data.pkl), run by a small machine of our own, not by `pickle`.

A state dict pickled by `torch.save` uses about thirty opcodes: push a string or an integer, build a
tuple, name a global, call it (REDUCE), refer to a storage by persistent id (BINPERSID), fill a
dict (SETITEMS), attach `_metadata` to it (BUILD), remember and recall values (BINPUT, BINGET).
This module executes exactly those, with `pickletools.genops` decoding the bytes, and nothing else.

Why not `pickle.Unpickler` with a restricted `find_class`: its other opcodes are not restricted.

- BUILD sets attributes on whatever object is on the stack, including the stand-ins that
  `find_class` returns: a file that "builds" torch.FloatStorage changes how every later file in
  the process is decoded. Here BUILD is accepted on the state-dict container only.
- Its memo is an array indexed by the pickle: `LONG_BINPUT 2**30` (6 bytes) allocates 8 GB.
  Here the memo is a dict.
- Hashing a dict key made of tuples that DUP doubles at each step costs 2**n for 2n bytes of
  pickle. Here dict keys are strings or numbers.
- Every opcode here charges its cost to the caller's byte budget (`charge`), so a pickle cannot
  build more objects than the budget allows, and error messages describe hostile values by type and
  size (`describe`), never by `repr`, which is exponential on shared structure.

Globals resolve to stand-ins made fresh for each load and immutable (frozen dataclasses): a tensor
rebuild call only records a view description (`TensorRef`), a storage type only says which dtype
its bytes hold. No module is imported; nothing the pickle names is ever called.
"""

from __future__ import annotations

import pickle
import pickletools
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["TorchCheckpointError", "RefusedGlobalError", "StorageType", "StorageRef", "TensorRef",
           "StateDict", "ALLOWED_GLOBALS", "unpickle_state_dict", "describe"]


class TorchCheckpointError(ValueError):
    """A PyTorch checkpoint that cannot be read safely; the message names the file and the problem."""


class RefusedGlobalError(TorchCheckpointError, pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (it might run code): nothing was called."""


@dataclass(frozen=True)
class StorageType:
    """Stand-in for torch.FloatStorage and friends: the dtype of the storage's bytes as stored."""

    name: str
    dtype: np.dtype
    bf16: bool = False  # stored as raw uint16, widened to float32 when read

    def __repr__(self) -> str:
        return f"torch.{self.name}"


@dataclass(frozen=True)
class StorageRef:
    """A storage named by a persistent id: its key in the archive (data/<key>), type and element count."""

    key: str
    type: StorageType
    numel: int


@dataclass(frozen=True)
class TensorRef:
    """A tensor as the pickle describes it: a view (offset, size, stride in elements) of a storage."""

    storage: StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


class StateDict(OrderedDict):
    """The state-dict container (collections.OrderedDict in the pickle): the only BUILD target."""


_STORAGE_DTYPES = {"DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "BFloat16Storage": "<u2",
                   "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
                   "ByteStorage": "u1", "BoolStorage": "?"}
_MAX_INDEX = 1 << 62  # offsets, sizes, strides and element counts: anything larger is not a real tensor
_MAX_NDIM = 64  # NumPy's limit
_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_OP_BYTES = 128  # what one opcode may cost in Python objects (a dict, a tuple, a dict entry): charged
_KEY_TYPES = (str, int, float, bool, type(None))  # dict keys whose hash is cheap


def describe(value) -> str:
    """A short description of a value from an untrusted pickle: bounded in length and in time."""
    if isinstance(value, str):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 1 << 63 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, (tuple, list, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, (StorageType, _Callable)):
        return repr(value)
    return f"a {type(value).__name__}"


def _index(value, what: str) -> int:
    if not (type(value) is int and 0 <= value < _MAX_INDEX):
        raise TorchCheckpointError(f"{what} must be an integer in [0, 2**62), got {describe(value)}")
    return value


def _indices(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or len(value) > _MAX_NDIM:
        raise TorchCheckpointError(f"{what} must be a tuple of at most {_MAX_NDIM} integers, got {describe(value)}")
    return tuple(_index(v, f"{what} entry") for v in value)


def _tensor(storage, offset, size, stride) -> TensorRef:
    if not isinstance(storage, StorageRef):
        raise TorchCheckpointError(f"a tensor's storage must be a persistent storage, got {describe(storage)}")
    size, stride = _indices(size, "tensor size"), _indices(stride, "tensor stride")
    if len(size) != len(stride):
        raise TorchCheckpointError(f"tensor size {size} and stride {stride} differ in length")
    return TensorRef(storage, _index(offset, "tensor offset"), size, stride)


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _tensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None):
    if not isinstance(data, TensorRef):
        raise TorchCheckpointError(f"a parameter must wrap a tensor, got {describe(data)}")
    return data


@dataclass(frozen=True)
class _Callable:
    """An allowed global that REDUCE may call: its name, our function, how many arguments it takes."""

    name: str
    function: Callable
    min_args: int
    max_args: int

    def __call__(self, args: tuple):
        if not self.min_args <= len(args) <= self.max_args:
            raise TorchCheckpointError(f"{self.name} called with {len(args)} arguments "
                                       f"(expected {self.min_args} to {self.max_args})")
        return self.function(*args)

    def __repr__(self) -> str:
        return self.name


def _allowed_globals() -> dict[tuple[str, str], object]:
    """(module, name) -> a stand-in; built anew for every load."""
    table = {
        ("collections", "OrderedDict"): _Callable("collections.OrderedDict", StateDict, 0, 0),
        ("torch._utils", "_rebuild_tensor_v2"): _Callable("torch._utils._rebuild_tensor_v2", _rebuild_tensor_v2, 4, 7),
        ("torch._utils", "_rebuild_tensor"): _Callable("torch._utils._rebuild_tensor", _tensor, 4, 4),
        ("torch._utils", "_rebuild_parameter"): _Callable("torch._utils._rebuild_parameter", _rebuild_parameter, 1, 3),
    }
    for name, dtype in _STORAGE_DTYPES.items():
        table[("torch", name)] = StorageType(name, np.dtype(dtype), bf16=name == "BFloat16Storage")
    return table


ALLOWED_GLOBALS = frozenset(_allowed_globals())  # the names a checkpoint may use; nothing else resolves


class _Machine:
    """The pickle virtual machine, restricted: a stack, marks, a memo, and one method per opcode."""

    def __init__(self, charge: Callable[[int], None]):
        self.charge = charge
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.globals = _allowed_globals()
        self.storages: dict[str, StorageRef] = {}

    def run(self, data: bytes):
        try:
            for opcode, arg, position in pickletools.genops(data):
                self.charge(_OP_BYTES + (len(arg) if isinstance(arg, (str, bytes)) else 0))
                if opcode.name == "STOP":
                    return self.pop()
                handler = getattr(self, "op_" + opcode.name, None)
                if handler is None:
                    raise TorchCheckpointError(f"opcode {opcode.name} at byte {position} is not used by torch.save "
                                               "state dicts and is refused")
                handler(arg)
        except TorchCheckpointError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError, OverflowError) as e:
            # genops on truncated or invalid bytes; our stack and memo on an inconsistent pickle
            raise TorchCheckpointError(f"malformed pickle ({type(e).__name__}: {str(e)[:200]})") from None
        raise TorchCheckpointError("malformed pickle: no STOP opcode")

    # -- the stack ---------------------------------------------------------------------------
    def push(self, value) -> None:
        self.stack.append(value)

    def pop(self):
        if not self.stack or (self.marks and len(self.stack) <= self.marks[-1]):
            raise TorchCheckpointError("malformed pickle: stack underflow")
        return self.stack.pop()

    def pop_mark(self) -> list:
        if not self.marks:
            raise TorchCheckpointError("malformed pickle: no MARK")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    # -- values ------------------------------------------------------------------------------
    def op_PROTO(self, arg):
        if not 2 <= arg <= 5:
            raise TorchCheckpointError(f"pickle protocol {arg} is not supported (torch.save writes 2)")

    def op_FRAME(self, arg):
        pass

    def op_MARK(self, arg):
        self.marks.append(len(self.stack))

    def op_POP(self, arg):
        self.pop()

    def op_POP_MARK(self, arg):
        self.pop_mark()

    def op_DUP(self, arg):
        value = self.pop()
        self.push(value)
        self.push(value)

    def push_arg(self, arg):
        self.push(arg)

    op_BININT = op_BININT1 = op_BININT2 = op_LONG1 = op_BINFLOAT = push_arg
    op_BINUNICODE = op_SHORT_BINUNICODE = op_BINUNICODE8 = push_arg

    def op_NONE(self, arg):
        self.push(None)

    def op_NEWTRUE(self, arg):
        self.push(True)

    def op_NEWFALSE(self, arg):
        self.push(False)

    # -- containers --------------------------------------------------------------------------
    def op_EMPTY_TUPLE(self, arg):
        self.push(())

    def op_TUPLE(self, arg):
        self.push(tuple(self.pop_mark()))

    def op_TUPLE1(self, arg):
        self.push((self.pop(),))

    def op_TUPLE2(self, arg):
        b, a = self.pop(), self.pop()
        self.push((a, b))

    def op_TUPLE3(self, arg):
        c, b, a = self.pop(), self.pop(), self.pop()
        self.push((a, b, c))

    def op_EMPTY_LIST(self, arg):
        self.push([])

    def op_EMPTY_DICT(self, arg):
        self.push({})

    def target(self, kind):
        target = self.pop()
        if type(target) not in kind:
            raise TorchCheckpointError(f"malformed pickle: cannot add items to {describe(target)}")
        self.push(target)
        return target

    def op_APPEND(self, arg):
        value = self.pop()
        self.target((list,)).append(value)

    def op_APPENDS(self, arg):
        items = self.pop_mark()
        self.target((list,)).extend(items)

    def set_items(self, items: list):
        if len(items) % 2:
            raise TorchCheckpointError("malformed pickle: SETITEMS with an odd number of items")
        target = self.target((dict, StateDict))
        for key, value in zip(items[::2], items[1::2]):
            if type(key) not in _KEY_TYPES:
                raise TorchCheckpointError(f"dict key {describe(key)}: only strings and numbers are accepted")
            target[key] = value

    def op_SETITEM(self, arg):
        value, key = self.pop(), self.pop()
        self.set_items([key, value])

    def op_SETITEMS(self, arg):
        self.set_items(self.pop_mark())

    # -- memo --------------------------------------------------------------------------------
    def put(self, index):
        value = self.pop()
        self.push(value)
        self.memo[index] = value

    op_BINPUT = op_LONG_BINPUT = put

    def op_MEMOIZE(self, arg):
        self.put(len(self.memo))

    def get(self, index):
        if index not in self.memo:
            raise TorchCheckpointError(f"malformed pickle: memo entry {index} is read before it is written")
        self.push(self.memo[index])

    op_BINGET = op_LONG_BINGET = get

    # -- globals, calls, storages ------------------------------------------------------------
    def resolve(self, module, name):
        found = self.globals.get((module, name)) if isinstance(module, str) and isinstance(name, str) else None
        if found is None:
            shown = f"{module[:80]}.{name[:80]}" if isinstance(module, str) and isinstance(name, str) else \
                f"({describe(module)}, {describe(name)})"
            raise RefusedGlobalError(
                f"refused global {shown}: a checkpoint may only name the "
                "globals that rebuild tensors and ordered dicts (torch._utils._rebuild_tensor_v2, "
                "collections.OrderedDict, torch.*Storage); loading it normally would call this one, which can run "
                "arbitrary code")
        self.push(found)

    def op_GLOBAL(self, arg):
        module, _, name = arg.partition(" ")
        self.resolve(module, name)

    def op_STACK_GLOBAL(self, arg):
        name, module = self.pop(), self.pop()
        self.resolve(module, name)

    def op_REDUCE(self, arg):
        args, function = self.pop(), self.pop()
        if not isinstance(function, _Callable):
            raise TorchCheckpointError(f"malformed pickle: {describe(function)} is not callable")
        if not isinstance(args, tuple):
            raise TorchCheckpointError(f"malformed pickle: {function.name} called with {describe(args)}")
        self.push(function(args))

    def op_BUILD(self, arg):
        state, target = self.pop(), self.pop()
        if not isinstance(target, StateDict):
            raise TorchCheckpointError(f"the pickle tries to set attributes on {describe(target)}; only the state "
                                       "dict's _metadata may be set")
        if not (state is None or (type(state) is dict and set(state) <= {"_metadata"})):
            raise TorchCheckpointError(f"the pickle sets unexpected attributes on the state dict: {describe(state)}")
        self.push(target)  # _metadata (torch's module versions) is not needed: dropped

    def op_BINPERSID(self, arg):
        pid = self.pop()
        if not (type(pid) is tuple and len(pid) == 5 and pid[0] == "storage"):
            raise TorchCheckpointError(f"unexpected persistent id {describe(pid)} (expected ('storage', type, key, "
                                       "location, numel))")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, StorageType):
            raise TorchCheckpointError(f"persistent id names {describe(storage_type)}, not a storage type")
        if not (isinstance(key, str) and _KEY.fullmatch(key)):
            raise TorchCheckpointError(f"storage key {describe(key)} is not 1 to 64 letters, digits or _")
        ref = StorageRef(key, storage_type, _index(numel, f"storage {key}: element count"))
        known = self.storages.setdefault(key, ref)
        if known != ref:
            raise TorchCheckpointError(f"storage {key} is referenced with two types or sizes")
        self.push(known)


def unpickle_state_dict(data: bytes, charge: Callable[[int], None]) -> dict[str, TensorRef]:
    """Run a state dict's pickle: {name: TensorRef}, in the pickle's order.

    charge(nbytes) is called for every opcode with what it may cost; it raises to stop the load.
    Raises RefusedGlobalError for a global outside the allow-list and TorchCheckpointError for
    anything else that is not a flat {str: tensor} state dict.
    """
    obj = _Machine(charge).run(data)
    if not isinstance(obj, dict):
        raise TorchCheckpointError(f"the checkpoint holds {describe(obj)}, not a state dict")
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, TensorRef):
            raise TorchCheckpointError(f"entry {describe(key)} holds {describe(value)}, not a tensor; only a flat "
                                       "state dict {name: tensor} is supported")
    return dict(obj)
