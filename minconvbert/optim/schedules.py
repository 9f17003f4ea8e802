"""Learning-rate schedules: lr = base_lr * factor(step), applied to every group of an optimizer.

As torch's LambdaLR (and transformers' get_*_schedule_with_warmup): creating the schedule sets
factor(0); each `step()` (after optimizer.step()) advances one step.
"""

from __future__ import annotations

import math

__all__ = ["Schedule", "ConstantSchedule", "LinearWarmupDecay", "CosineSchedule"]


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


class ConstantSchedule(Schedule):
    """factor = 1 (optionally after a linear warmup of `warmup_steps`)."""

    def __init__(self, optimizer, warmup_steps: int = 0):
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def factor(self, step):
        return min(1.0, step / self.warmup_steps) if self.warmup_steps else 1.0


def _check_steps(warmup_steps, total_steps):
    if not 0 <= warmup_steps <= total_steps or total_steps < 1:
        raise ValueError(f"schedule: need 0 <= warmup_steps <= total_steps and total_steps >= 1, "
                         f"got {warmup_steps} and {total_steps}")


class LinearWarmupDecay(Schedule):
    """factor rises linearly 0 -> 1 over warmup_steps, then falls linearly to 0 at total_steps."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int):
        _check_steps(warmup_steps, total_steps)
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        super().__init__(optimizer)

    def factor(self, step):
        if step < self.warmup_steps:
            return step / max(1, self.warmup_steps)
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps))


class CosineSchedule(Schedule):
    """Linear warmup, then half a cosine from 1 down to 0 at total_steps."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int):
        _check_steps(warmup_steps, total_steps)
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        super().__init__(optimizer)

    def factor(self, step):
        if step < self.warmup_steps:
            return step / max(1, self.warmup_steps)
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
