"""Optimisers and learning-rate schedules with torch.optim's interface."""

from minconvbert.optim.adamw import AdamW
from minconvbert.optim.clip import clip_grad_norm_, weight_decay_groups
from minconvbert.optim.optimizer import Optimizer
from minconvbert.optim.schedules import ConstantSchedule, CosineSchedule, LinearWarmupDecay, Schedule
from minconvbert.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "AdamW",
    "Schedule",
    "ConstantSchedule",
    "LinearWarmupDecay",
    "CosineSchedule",
    "clip_grad_norm_",
    "weight_decay_groups",
]
