"""Initialisers that fill a Parameter in place (normal_, uniform_, zeros_, ones_), and `deferred()`.

Each random one takes `rng` (a numpy Generator, an int seed, or None for the package default).
A layer built on its own draws its weights at once, as in PyTorch. Inside `deferred()` layers only
allocate them (zeros): a model builds all its layers that way and then draws every weight once from
one generator, and `from_pretrained` draws nothing for the weights a checkpoint provides.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from minconvbert import random as _random

__all__ = ["normal_", "uniform_", "zeros_", "ones_", "deferred", "is_deferred"]

_deferred = contextvars.ContextVar("minconvbert_init_deferred", default=False)


@contextlib.contextmanager
def deferred():
    """Scope in which layers allocate their parameters without drawing random values."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def is_deferred() -> bool:
    """True inside `deferred()`: a layer being built should leave its weights for its owner to fill."""
    return _deferred.get()


def normal_(param, std: float = 1.0, mean: float = 0.0, rng=None):
    """Fill with draws from N(mean, std^2); returns the parameter."""
    param.data = (_random.resolve(rng).standard_normal(param.shape) * std + mean).astype(param.dtype)
    return param


def uniform_(param, low: float = 0.0, high: float = 1.0, rng=None):
    """Fill with draws from U(low, high); returns the parameter."""
    param.data = _random.resolve(rng).uniform(low, high, param.shape).astype(param.dtype)
    return param


def zeros_(param):
    param.data = np.zeros(param.shape, dtype=param.dtype)
    return param


def ones_(param):
    param.data = np.ones(param.shape, dtype=param.dtype)
    return param
