"""Optimisers and learning-rate schedules with torch.optim's interface (and transformers' schedule names)."""

from minconvbert.optim.adamw import AdamW
from minconvbert.optim.clip import clip_grad_norm_, weight_decay_groups
from minconvbert.optim.optimizer import Optimizer
from minconvbert.optim.schedules import (
    ConstantSchedule,
    CosineSchedule,
    LinearWarmupDecay,
    PolynomialDecay,
    Schedule,
    WarmupDecay,
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
    get_scheduler,
)
from minconvbert.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "AdamW",
    "Schedule",
    "ConstantSchedule",
    "WarmupDecay",
    "LinearWarmupDecay",
    "CosineSchedule",
    "PolynomialDecay",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
    "clip_grad_norm_",
    "weight_decay_groups",
]
