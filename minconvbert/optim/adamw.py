"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as torch.optim.AdamW."""

from __future__ import annotations

import math

import numpy as np

from minconvbert.optim.optimizer import Optimizer

__all__ = ["AdamW"]


class AdamW(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...:

        p = p * (1 - lr * weight_decay)                   (decay decoupled from the gradient)
        m = beta1 * m + (1 - beta1) * g                   (first moment)
        v = beta2 * v + (1 - beta2) * g^2                 (second moment)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)   (bias-corrected)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"AdamW: lr, eps and weight_decay must be >= 0, got {lr}, {eps}, {weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"AdamW: betas must be in [0, 1), got {betas}")
        if amsgrad:
            raise ValueError("AdamW: amsgrad is not implemented (only the standard AdamW update)")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in self._params_with_grad(group):
                g = p.grad
                state = self.state.setdefault(id(p), {})
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
                state["step"] += 1
                m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
                if wd:
                    p.data *= 1 - lr * wd
                m += (1 - beta1) * (g - m)
                v *= beta2
                v += (1 - beta2) * g * g
                step_size = lr / (1 - beta1**t)
                denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
                p.data -= step_size * (m / denom)
