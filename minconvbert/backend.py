"""The one switch between kernel implementations.

Every hot operation (GELU, softmax, layer norm, the two ConvBERT convolutions) calls its kernel
through `active_kernels()`, which returns a module of plain functions on NumPy arrays:
    "numpy": minconvbert.kernels.reference  (vectorised NumPy, reads like the maths)
    "numba": minconvbert.kernels.fast       (numba-compiled loops, same names and signatures)
Both implement the kernels declared in minconvbert.kernels.contract. Model code never names a
backend; a scope chooses one:

    with minconvbert.backend("numpy"):
        out = model(input_ids)

A scope is context-local, like torch's grad mode: it applies to the thread (or asyncio task) that
entered it, and a new thread starts on the default backend (`set_default_backend`, process-wide).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib

__all__ = ["backend", "active_kernels", "get_backend", "set_default_backend", "BACKENDS"]

BACKENDS = {"numpy": "minconvbert.kernels.reference", "numba": "minconvbert.kernels.fast"}
DEFAULT_BACKEND = "numba"

_default = {"name": None, "module": None}  # the process-wide default, loaded on first use
_scope = contextvars.ContextVar("minconvbert_backend", default=None)  # (name, module) of the innermost scope


def _load(name: str):
    if name not in BACKENDS:
        raise ValueError(f"backend: unknown backend {name!r}; choose one of {sorted(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])


def _active() -> tuple:
    scoped = _scope.get()
    if scoped is not None:
        return scoped
    if _default["module"] is None:
        set_default_backend(DEFAULT_BACKEND)
    return _default["name"], _default["module"]


def active_kernels():
    """The active kernel module: the innermost `backend(...)` scope's, else the default backend's."""
    scoped = _scope.get()
    return scoped[1] if scoped is not None else _active()[1]


def get_backend() -> str:
    """Name of the active backend: "numpy" or "numba"."""
    return _active()[0]


def set_default_backend(name: str) -> None:
    """Select the backend outside any scope, for every thread (the package default is "numba")."""
    module = _load(name)
    _default["name"], _default["module"] = name, module


@contextlib.contextmanager
def backend(name: str):
    """Scope in which every kernel comes from backend `name` ("numpy" or "numba"), in this thread."""
    module = _load(name)
    token = _scope.set((name, module))
    try:
        yield module
    finally:
        _scope.reset(token)
