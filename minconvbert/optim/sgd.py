"""Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay (torch.optim.SGD)."""

from __future__ import annotations

from minconvbert.optim.optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """For each parameter p with gradient g:

        d = g + weight_decay * p
        buf = d on the first step, then momentum * buf + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf        (when momentum > 0)
        p = p - lr * d
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got {lr}, {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in self._params_with_grad(group):
                d = p.grad if wd == 0 else p.grad + wd * p.data
                if momentum:
                    state = self.state.setdefault(id(p), {})
                    if "momentum_buffer" not in state:
                        buf = state["momentum_buffer"] = d.copy()
                    else:
                        buf = state["momentum_buffer"]
                        buf *= momentum
                        buf += (1 - group["dampening"]) * d
                    d = d + momentum * buf if group["nesterov"] else buf
                p.data -= lr * d
