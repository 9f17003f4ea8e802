"""Gradient clipping by global norm, and the usual split of parameters into decay / no-decay groups."""

from __future__ import annotations

import numpy as np

__all__ = ["clip_grad_norm_", "weight_decay_groups"]


def clip_grad_norm_(parameters, max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm / (total_norm + 1e-6)), where total_norm is the 2-norm of
    all gradients together (as torch.nn.utils.clip_grad_norm_); returns total_norm before clipping."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total


def weight_decay_groups(model, weight_decay: float, no_decay=("bias", "LayerNorm.weight")) -> list:
    """Two parameter groups: weights that decay, and biases and LayerNorm weights that do not."""
    decay, plain = [], []
    for name, p in model.named_parameters():
        (plain if any(name.endswith(suffix) for suffix in no_decay) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]
