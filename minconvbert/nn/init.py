"""Initialisers that fill a Parameter in place: normal_, uniform_, zeros_, ones_.

Each random one takes `rng` (a numpy Generator, an int seed, or None for the package default).
"""

from __future__ import annotations

import numpy as np

from minconvbert import random as _random

__all__ = ["normal_", "uniform_", "zeros_", "ones_"]


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
