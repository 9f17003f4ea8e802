"""Values between the grader and its worker: one JSON line each, with typed arrays, nothing executable.

    line = dumps({"id": 3, "value": encode(array)})      # in one process
    value = decode(loads(line)["value"])                # in the other

`encode` turns a value into JSON-able data: None, bool, int, float (NaN and infinities included),
str, list, tuple, dict with str keys, NumPy arrays and scalars of bool / int / uint / float dtype
(their bytes in base64), arrays of str, minconvbert Tensors (the array and `requires_grad`), and the
call markers below. Anything else becomes `Unsupported("<type name>")`, so that a check can say what
came back. `decode` builds nothing but these types, and refuses malformed data with `DecodeError`:
the grader decodes what a submission's process sends, so it must hold against any line.

Markers, the arguments the grader asks the worker to build before a call:
    Leaf(array, name)    a Tensor that requires grad (its gradient is returned under `name`)
    Const(array)         a Tensor that does not
    Build(what, **opts)  an object built in the worker (e.g. a fresh nano model, see `execute`)
    Stored(key)          a value kept in the worker by an earlier `store` request
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field

import numpy as np

from minconvbert.tensor import Tensor

__all__ = ["encode", "decode", "dumps", "loads", "DecodeError", "Unsupported", "Leaf", "Const", "Build", "Stored"]

MAX_DEPTH = 32  # nesting of lists, tuples and dicts
MAX_NDIM = 16
_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248])$")


class DecodeError(ValueError):
    """The data is not a value this codec writes (wrong tag, bad dtype, bytes that do not fit the shape, ...)."""


@dataclass(frozen=True)
class Unsupported:
    """Stands for a returned value of a type the codec does not carry (a function, a set, a model, ...)."""

    type_name: str

    def __repr__(self) -> str:
        return f"<a {self.type_name}>"


@dataclass
class Leaf:
    """Argument marker: a Tensor holding a copy of `array`, requiring grad; its gradient comes back as `name`."""

    array: np.ndarray
    name: str = ""


@dataclass
class Const:
    """Argument marker: a Tensor holding a copy of `array`, not requiring grad."""

    array: np.ndarray


@dataclass
class Build:
    """Argument marker: an object the worker builds by name (see minconvbert.grade.execute.BUILDERS)."""

    what: str
    options: dict = field(default_factory=dict)


@dataclass
class Stored:
    """Argument marker: the value stored in the worker under `key`."""

    key: str


def _array(array: np.ndarray) -> dict:
    if array.dtype.kind in "US" or (array.dtype.kind == "O" and all(isinstance(x, str) for x in array.flat)):
        return {"$": "strings", "shape": list(array.shape), "items": [str(x) for x in array.flat]}
    if not _DTYPE.match(array.dtype.str):
        return {"$": "unsupported", "type": f"array of dtype {array.dtype}"}
    data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
    return {"$": "array", "dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def encode(value, depth: int = 0):
    """JSON-able data for `value` (see the module docstring); never raises for an odd type."""
    if depth > MAX_DEPTH:
        return {"$": "unsupported", "type": "value nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"$": "scalar", "array": _array(np.asarray(value))}
    if isinstance(value, Tensor):
        return {"$": "tensor", "array": _array(np.asarray(value.data)), "requires_grad": bool(value.requires_grad)}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"$": "tuple", "items": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list) and type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict) and type(value) is dict and all(isinstance(k, str) for k in value):
        return {"$": "dict", "items": [[k, encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, Leaf):
        return {"$": "leaf", "array": _array(np.asarray(value.array)), "name": value.name}
    if isinstance(value, Const):
        return {"$": "const", "array": _array(np.asarray(value.array))}
    if isinstance(value, Build):
        return {"$": "build", "what": value.what, "options": encode(dict(value.options), depth + 1)}
    if isinstance(value, Stored):
        return {"$": "stored", "key": value.key}
    if isinstance(value, Unsupported):
        return {"$": "unsupported", "type": value.type_name}
    return {"$": "unsupported", "type": type(value).__name__}


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise DecodeError(what)


def _decode_array(data) -> np.ndarray:
    _need(isinstance(data, dict), "an array must be an object")
    tag = data.get("$")
    shape = data.get("shape")
    _need(isinstance(shape, list) and len(shape) <= MAX_NDIM
          and all(type(n) is int and 0 <= n for n in shape), f"bad array shape {str(shape)[:60]}")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if tag == "strings":
        items = data.get("items")
        _need(isinstance(items, list) and len(items) == count and all(isinstance(s, str) for s in items),
              "a string array's items do not fit its shape")
        return np.array(items, dtype=object).reshape(shape) if items else np.empty(shape, dtype=object)
    _need(tag == "array", f"expected an array, got tag {str(tag)[:40]!r}")
    dtype = data.get("dtype")
    _need(isinstance(dtype, str) and bool(_DTYPE.match(dtype)), f"unsupported dtype {str(dtype)[:40]!r}")
    raw = data.get("data")
    _need(isinstance(raw, str), "an array's data must be a base64 string")
    try:
        buffer = base64.b64decode(raw, validate=True)
    except ValueError:
        raise DecodeError("an array's data is not valid base64") from None
    dtype = np.dtype(dtype)
    _need(len(buffer) == count * dtype.itemsize, f"{len(buffer)} bytes do not fill an array {tuple(shape)} of {dtype}")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape).copy()


def decode(data, markers: bool = False, depth: int = 0):
    """The value `data` stands for. markers: whether Leaf / Const / Build / Stored are accepted
    (the worker's requests hold them; the worker's answers must not)."""
    _need(depth <= MAX_DEPTH, "value nested too deeply")
    if data is None or isinstance(data, (bool, str)) or type(data) in (int, float):
        return data
    if isinstance(data, list):
        return [decode(v, markers, depth + 1) for v in data]
    _need(isinstance(data, dict), f"unexpected {type(data).__name__}")
    tag = data.get("$")
    if tag in ("array", "strings"):
        return _decode_array(data)
    if tag == "scalar":
        array = _decode_array(data.get("array"))
        _need(array.shape == () and array.dtype != object, "a scalar must be a 0-d numeric array")
        return array[()]
    if tag == "tensor":
        array = _decode_array(data.get("array"))
        _need(array.dtype != object, "a tensor must hold numbers")
        tensor = Tensor(array)
        tensor.requires_grad = bool(data.get("requires_grad")) and array.dtype.kind == "f"
        return tensor
    if tag == "tuple":
        items = data.get("items")
        _need(isinstance(items, list), "a tuple needs a list of items")
        return tuple(decode(v, markers, depth + 1) for v in items)
    if tag == "dict":
        items = data.get("items")
        _need(isinstance(items, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                              for p in items), "a dict needs [key, value] pairs with str keys")
        return {k: decode(v, markers, depth + 1) for k, v in items}
    if tag == "unsupported":
        return Unsupported(str(data.get("type"))[:80])
    if markers and tag in ("leaf", "const"):
        array = _decode_array(data.get("array"))
        return Leaf(array, str(data.get("name", ""))) if tag == "leaf" else Const(array)
    if markers and tag == "build":
        options = decode(data.get("options"), markers, depth + 1)
        _need(isinstance(data.get("what"), str) and isinstance(options, dict), "a build marker needs what and options")
        return Build(data["what"], options)
    if markers and tag == "stored":
        _need(isinstance(data.get("key"), str), "a stored marker needs a key")
        return Stored(data["key"])
    raise DecodeError(f"unknown tag {str(tag)[:40]!r}")


def dumps(message: dict) -> bytes:
    """One message as a line of JSON (the values in it already encoded)."""
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def loads(line: bytes) -> dict:
    """The message of one line; DecodeError for anything but a JSON object."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise DecodeError(f"not a JSON line ({type(error).__name__})") from None
    _need(isinstance(message, dict), "a message must be a JSON object")
    return message
