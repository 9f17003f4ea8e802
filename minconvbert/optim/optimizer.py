"""Optimizer: the bookkeeping every optimizer shares (parameter groups, state, state_dict).

As in torch.optim: parameters come as an iterable of Parameters or as a list of groups
{"params": [...], "lr": ..., ...}; each group's missing settings take the optimizer's defaults;
`step()` updates `p.data` in place from `p.grad`, group by group.
"""

from __future__ import annotations

import copy

import numpy as np

from minconvbert.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        seen = set()
        for group in groups:
            group = {**self.defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{type(self).__name__}: can only optimise tensors that require grad")
                if id(p) in seen:
                    raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group")
                seen.add(id(p))
            self.param_groups.append(group)
        self.state = {}  # id(param) -> per-parameter state (arrays)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set it to None, as torch's default set_to_none=True)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def _params_with_grad(self, group):
        return [p for p in group["params"] if p.grad is not None]

    # ----- saving and resuming --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"state": {index: {name: array or number}}, "param_groups": [settings with "params": [indices]]},
        parameters numbered in order across groups, as torch.optim does."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[key]: copy.deepcopy(value) for key, value in self.state.items() if key in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore settings and state saved by `state_dict()` onto this optimizer's parameters."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)
        ):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups do not match this optimizer's")
        params = [p for group in self.param_groups for p in group["params"]]
        for group, saved in zip(self.param_groups, groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, value in state_dict["state"].items():
            p = params[int(i)]
            restored = copy.deepcopy(value)
            for name, item in restored.items():
                if isinstance(item, np.ndarray) and item.shape != p.shape and item.ndim:
                    raise ValueError(f"load_state_dict: state {name!r} of parameter {i} has shape {item.shape}, "
                                     f"expected {p.shape}")
            self.state[id(p)] = restored
