"""Module: a container of Parameters and sub-Modules with PyTorch's naming and state-dict rules.

Assigning a Parameter or a Module to an attribute registers it, in assignment order, so that
`named_parameters()` yields dotted names ("encoder.layer.0.attention.self.query.weight") in the
same order PyTorch would. A Parameter shared by two modules (tied weights) is listed once.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple

import numpy as np

from minconvbert import interop
from minconvbert.tensor import Tensor, data_of

__all__ = ["Parameter", "Module", "ModuleList", "IncompatibleKeys", "StateDictShapeError"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])  # as torch's


class StateDictShapeError(RuntimeError, ValueError):
    """A state dict's array does not have its parameter's shape (a RuntimeError, as in torch)."""


class Parameter(Tensor):
    """A Tensor that is a model's learnable weight: requires grad, and is found by Module.parameters()."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models. Subclasses set attributes in `__init__` and define `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, modules = self._parameters, self._modules
        # Re-assigning a name keeps its place in the order, as in PyTorch; None keeps the slot empty.
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
        elif name in params or name in modules:
            if value is not None:
                kind = "Parameter" if name in params else "Module"
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to {name!r}, "
                    f"which holds a {kind} (assign a {kind} or None)"
                )
            (params if name in params else modules)[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----- walking the tree --------------------------------------------------------------------
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, depth first in registration order;
        a module registered under two names appears once (under its first) unless `remove_duplicate` is False.
        """
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, Parameter) pairs; a tied Parameter appears once, under its first name
        (every name, and every name of a shared module, with remove_duplicate=False, as in a state dict).
        """
        seen = set()
        for module_name, module in self.named_modules(prefix, remove_duplicate):
            for name, param in module._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Number of distinct learnable values (tied weights counted once); only_trainable counts the
        parameters that require grad, exclude_embeddings leaves out every Embedding's weight."""
        from minconvbert.nn.layers import Embedding

        skip = {id(m.weight) for m in self.modules() if isinstance(m, Embedding)} if exclude_embeddings else set()
        return int(sum(p.size for p in self.parameters()
                       if id(p) not in skip and (p.requires_grad or not only_trainable)))

    def named_buffers(self, prefix: str = ""):
        """(name, array) of the non-parameter state: none in minconvbert (position ids are computed)."""
        return iter(())

    def buffers(self):
        return iter(())

    # ----- state -----------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter's values by dotted name (tied weights under each of their names), as arrays."""
        return OrderedDict((name, p.data) for name, p in self.named_parameters(remove_duplicate=False))

    def mismatched_shapes(self, state_dict) -> list:
        """[(name, given shape, parameter shape)] for every name of `state_dict` whose array does not fit."""
        own = dict(self.named_parameters(remove_duplicate=False))
        out = []
        for name, value in state_dict.items():
            if name in own:
                shape = tuple(np.shape(data_of(value)))
                if shape != own[name].shape:
                    out.append((name, shape, own[name].shape))
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters of the same names, checking every shape.

        Returns (missing_keys, unexpected_keys). With strict=True any missing or unexpected key
        raises KeyError listing them; otherwise they are reported with a warning. A shape mismatch
        raises StateDictShapeError. Values are cast to each parameter's dtype.
        """
        own = dict(self.named_parameters(remove_duplicate=False))
        provided = {id(own[k]) for k in state_dict if k in own}  # a tied weight needs only one of its names
        missing = [k for k, p in own.items() if id(p) not in provided]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = self.mismatched_shapes(state_dict)
        if mismatched:
            raise StateDictShapeError("load_state_dict: shape mismatch for " + "; ".join(
                f"{name}: checkpoint {given} vs model {shape}" for name, given, shape in mismatched))
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}; unexpected keys {unexpected}")
        if missing or unexpected:
            warnings.warn(f"load_state_dict: missing keys {missing}; unexpected keys {unexpected}", stacklevel=2)
        for name, value in state_dict.items():
            if name in own:
                param = own[name]
                array = np.asarray(data_of(value))
                param.data = np.array(array, dtype=param.data.dtype)  # a private copy
                param.grad = None
        return IncompatibleKeys(missing, unexpected)

    # ----- modes and bookkeeping -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for this module and all descendants; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, *args, dtype=None, device=None) -> "Module":
        """Convert every parameter to a float dtype (np.float64, "float64" or torch.float64, as PyTorch's
        .double()); the device "cpu" is accepted (minconvbert computes on the CPU). Returns self."""
        _, dtype = interop.device_and_dtype(args, device, dtype)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"to: parameters must stay floating point, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def cpu(self) -> "Module":
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self.named_children():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


class ModuleList(Module):
    """A list of modules registered as children "0", "1", ... (names as in PyTorch)."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        return ModuleList(items[index]) if isinstance(index, slice) else items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
