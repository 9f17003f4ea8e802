"""Where torch-shaped code meets minconvbert: torch tensors, dtypes and devices in, NumPy out.

minconvbert never imports torch itself; these helpers recognise torch objects by their module name,
so code written for transformers (`torch.tensor([1])` labels, `dtype=torch.float16`, `model.to("cpu")`,
`torch.sigmoid(out.logits)`) runs unchanged.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_torch", "to_numpy", "plain_index", "numpy_dtype", "check_device", "device_and_dtype", "call_torch"]


def is_torch(value) -> bool:
    """True for a torch object (a tensor, dtype or device), without importing torch."""
    return type(value).__module__.startswith("torch")


def to_numpy(value) -> np.ndarray:
    """A torch tensor's values as a NumPy array (detached, on the CPU)."""
    return value.detach().cpu().numpy()


def plain_index(index):
    """An index with torch tensors in it (from a return_tensors="pt" batch) with NumPy arrays instead."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    return to_numpy(index) if is_torch(index) else index


def numpy_dtype(dtype) -> np.dtype:
    """A NumPy dtype from a NumPy dtype, its name ("float32") or a torch dtype (torch.float16 -> float16)."""
    if is_torch(dtype):  # torch.float16 prints as "torch.float16"
        dtype = str(dtype).removeprefix("torch.")
    if isinstance(dtype, str) and dtype == "bfloat16":
        raise TypeError("dtype: NumPy has no bfloat16; use float32 (or float16)")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a NumPy or torch dtype or its name, got {dtype!r}") from None


def check_device(device) -> None:
    """minconvbert computes on the CPU with NumPy: None, "cpu", -1 and torch.device("cpu") are accepted."""
    if device is not None and str(device) not in ("cpu", "-1"):
        raise ValueError(f"device: minconvbert computes on the CPU with NumPy; got {str(device)!r} (use 'cpu')")


def device_and_dtype(args, device=None, dtype=None) -> tuple:
    """(device, NumPy dtype or None) from torch-style `.to(...)` arguments: strings and torch.device objects
    are devices, anything else a dtype."""
    for arg in args:
        if isinstance(arg, str) or type(arg).__name__ == "device":
            device = arg
        else:
            dtype = arg
    check_device(device)
    return device, None if dtype is None else numpy_dtype(dtype)


def call_torch(func, args, kwargs):
    """Run the torch function `func` with every minconvbert Tensor among its arguments replaced by a torch
    copy of its values (the result is torch's; no gradient flows back into minconvbert's graph)."""
    import torch

    from minconvbert.tensor import Tensor

    def convert(x):
        if isinstance(x, Tensor):
            return torch.tensor(x.data)
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v) for v in x)
        return x

    return func(*convert(tuple(args)), **{k: convert(v) for k, v in (kwargs or {}).items()})
