"""The one switch between kernel implementations.

Every hot operation (GELU, softmax, layer norm, the two ConvBERT convolutions) calls its kernel
through `kernels()`, which returns a module of plain functions on NumPy arrays:
    "numpy": minconvbert.kernels.reference  (vectorised NumPy, reads like the maths)
    "numba": minconvbert.kernels.fast       (numba-compiled loops, same names and signatures)
Model code never names a backend; a scope chooses one:

    with minconvbert.backend("numpy"):
        out = model(input_ids)
"""

from __future__ import annotations

import contextlib
import importlib

__all__ = ["backend", "kernels", "get_backend", "set_default_backend", "BACKENDS"]

BACKENDS = {"numpy": "minconvbert.kernels.reference", "numba": "minconvbert.kernels.fast"}
DEFAULT_BACKEND = "numba"

_active = {"name": None, "module": None}


def _load(name: str):
    if name not in BACKENDS:
        raise ValueError(f"backend: unknown backend {name!r}; choose one of {sorted(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])


def kernels():
    """The active kernel module (the default backend until a `backend(...)` scope says otherwise)."""
    module = _active["module"]
    if module is None:
        set_default_backend(DEFAULT_BACKEND)
        module = _active["module"]
    return module


def get_backend() -> str:
    """Name of the active backend: "numpy" or "numba"."""
    kernels()
    return _active["name"]


def set_default_backend(name: str) -> None:
    """Select the backend outside any scope (the package default is "numba")."""
    module = _load(name)
    _active["name"], _active["module"] = name, module


@contextlib.contextmanager
def backend(name: str):
    """Scope in which every kernel comes from backend `name` ("numpy" or "numba")."""
    module = _load(name)
    previous = dict(_active)
    _active["name"], _active["module"] = name, module
    try:
        yield module
    finally:
        _active.update(previous)
