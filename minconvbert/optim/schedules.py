"""Learning-rate schedules: lr = base_lr * factor(step), applied to every group of an optimizer.

As torch's LambdaLR (and transformers' get_*_schedule_with_warmup): creating the schedule sets
factor(0); each `step()` (after optimizer.step()) advances one step. The warmup schedules rise
linearly from 0 to 1 over `warmup_steps`, then follow their decay d(progress), where progress goes
from 0 at the end of the warmup to 1 at `total_steps`:

    LinearWarmupDecay     d = max(0, 1 - progress)
    CosineSchedule        d = max(0, (1 + cos(2 pi num_cycles progress)) / 2)   (half a cosine by default)
    PolynomialDecay       d = ((lr - lr_end) (1 - progress)^power + lr_end) / lr, constant after total_steps

transformers' names (get_linear_schedule_with_warmup, ..., get_scheduler) build the same objects.
"""

from __future__ import annotations

import math

__all__ = [
    "Schedule", "ConstantSchedule", "WarmupDecay", "LinearWarmupDecay", "CosineSchedule", "PolynomialDecay",
    "get_constant_schedule", "get_constant_schedule_with_warmup", "get_linear_schedule_with_warmup",
    "get_cosine_schedule_with_warmup", "get_polynomial_decay_schedule_with_warmup", "get_scheduler",
]  # fmt: skip


class Schedule:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def factor(self, step: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        f = self.factor(self.last_step)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * f

    def step(self) -> None:
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_step, self.base_lrs = int(state["last_step"]), list(state["base_lrs"])
        self._apply()


def _warmup(step: int, warmup_steps: int) -> float:
    return step / max(1, warmup_steps)


class ConstantSchedule(Schedule):
    """factor = 1 (optionally after a linear warmup of `warmup_steps`)."""

    def __init__(self, optimizer, warmup_steps: int = 0):
        if warmup_steps < 0:
            raise ValueError(f"schedule: warmup_steps must be >= 0, got {warmup_steps}")
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def factor(self, step):
        return _warmup(step, self.warmup_steps) if step < self.warmup_steps else 1.0


class WarmupDecay(Schedule):
    """Linear warmup over warmup_steps, then decay(progress) with progress 0 -> 1 by total_steps."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int):
        if not 0 <= warmup_steps <= total_steps or total_steps < 1:
            raise ValueError(f"schedule: need 0 <= warmup_steps <= total_steps and total_steps >= 1, "
                             f"got {warmup_steps} and {total_steps}")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        super().__init__(optimizer)

    def factor(self, step):
        if step < self.warmup_steps:
            return _warmup(step, self.warmup_steps)
        return self.decay((step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))

    def decay(self, progress: float) -> float:
        raise NotImplementedError


class LinearWarmupDecay(WarmupDecay):
    """factor rises linearly 0 -> 1 over warmup_steps, then falls linearly to 0 at total_steps."""

    def decay(self, progress):
        return max(0.0, 1.0 - progress)


class CosineSchedule(WarmupDecay):
    """Linear warmup, then a cosine from 1 down (num_cycles=0.5: half a period, to 0 at total_steps)."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, num_cycles: float = 0.5):
        self.num_cycles = num_cycles
        super().__init__(optimizer, warmup_steps, total_steps)

    def decay(self, progress):
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * self.num_cycles * progress)))


class PolynomialDecay(WarmupDecay):
    """Linear warmup, then lr falls as (1 - progress)^power from the optimizer's lr to lr_end, and stays there."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, lr_end: float = 1e-7, power: float = 1.0):
        lr = optimizer.defaults["lr"]
        if not lr > lr_end:
            raise ValueError(f"schedule: lr_end ({lr_end}) must be smaller than the optimizer's lr ({lr})")
        self.lr, self.lr_end, self.power = lr, lr_end, power
        super().__init__(optimizer, warmup_steps, total_steps)

    def decay(self, progress):
        remaining = 1.0 - min(progress, 1.0)
        return ((self.lr - self.lr_end) * remaining**self.power + self.lr_end) / self.lr


# ----- transformers' names --------------------------------------------------------------------------
def _fresh(last_epoch: int) -> None:
    if last_epoch != -1:
        raise ValueError(f"last_epoch={last_epoch}: to resume a schedule, build it fresh and load_state_dict() it")


def get_constant_schedule(optimizer, last_epoch: int = -1) -> ConstantSchedule:
    _fresh(last_epoch)
    return ConstantSchedule(optimizer)


def get_constant_schedule_with_warmup(optimizer, num_warmup_steps: int, last_epoch: int = -1) -> ConstantSchedule:
    _fresh(last_epoch)
    return ConstantSchedule(optimizer, num_warmup_steps)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps: int, num_training_steps: int,
                                    last_epoch: int = -1) -> LinearWarmupDecay:
    _fresh(last_epoch)
    return LinearWarmupDecay(optimizer, num_warmup_steps, num_training_steps)


def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps: int, num_training_steps: int,
                                    num_cycles: float = 0.5, last_epoch: int = -1) -> CosineSchedule:
    _fresh(last_epoch)
    return CosineSchedule(optimizer, num_warmup_steps, num_training_steps, num_cycles)


def get_polynomial_decay_schedule_with_warmup(optimizer, num_warmup_steps: int, num_training_steps: int,
                                              lr_end: float = 1e-7, power: float = 1.0,
                                              last_epoch: int = -1) -> PolynomialDecay:
    _fresh(last_epoch)
    return PolynomialDecay(optimizer, num_warmup_steps, num_training_steps, lr_end, power)


_BY_NAME = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
}


def get_scheduler(name, optimizer, num_warmup_steps=None, num_training_steps=None, scheduler_specific_kwargs=None):
    """transformers' get_scheduler: one of "linear", "cosine", "polynomial", "constant", "constant_with_warmup"."""
    name = getattr(name, "value", name)  # transformers' SchedulerType enum
    if name not in _BY_NAME:
        raise ValueError(f"get_scheduler: unknown schedule {name!r}; choose one of {sorted(_BY_NAME)}")
    if name == "constant":
        return get_constant_schedule(optimizer)
    if num_warmup_steps is None:
        raise ValueError(f"get_scheduler: the {name!r} schedule needs num_warmup_steps")
    if name == "constant_with_warmup":
        return get_constant_schedule_with_warmup(optimizer, num_warmup_steps)
    if num_training_steps is None:
        raise ValueError(f"get_scheduler: the {name!r} schedule needs num_training_steps")
    return _BY_NAME[name](optimizer, num_warmup_steps, num_training_steps, **(scheduler_specific_kwargs or {}))
