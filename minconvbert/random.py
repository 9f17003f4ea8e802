"""The package's default random generator, for code that is not handed one explicitly.

Functions that draw random numbers (initialisers, dropout) take an `rng` argument; when it is
None they use this generator. `manual_seed(seed)` resets it, as `torch.manual_seed` does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "default_generator"]

_state = {"generator": np.random.default_rng(0)}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator and return it."""
    _state["generator"] = np.random.default_rng(seed)
    return _state["generator"]


def default_generator() -> np.random.Generator:
    return _state["generator"]


def resolve(rng) -> np.random.Generator:
    """`rng` itself, a new generator seeded by `rng` when it is an int, or the default generator."""
    if rng is None:
        return _state["generator"]
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    return rng
