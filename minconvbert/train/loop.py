"""The training loop: batches in, loss, backward, clip, step, schedule; evaluation, checkpoints, resume.

Written out in full rather than hidden in a framework. Every step is reproducible from (seed, step):
the batch comes from `make_batch(step)` and dropout draws from a generator reseeded at each step,
so a run resumed from a checkpoint continues exactly as if it had never stopped. Ctrl-C finishes
the current step, saves a checkpoint and returns (press it twice to stop at once).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np

from minconvbert import random as _random
from minconvbert.optim import clip_grad_norm_
from minconvbert.train.state import latest_checkpoint, load_training_state, save_training_state

__all__ = ["train_loop", "step_seed"]


def step_seed(seed: int, step: int) -> int:
    """The seed of step `step`'s random draws (dropout, masking) in a run seeded `seed`."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


@contextmanager
def _graceful_interrupt():
    """Inside: the first Ctrl-C sets flag["stop"] instead of raising; a second one raises as usual."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class _StepLines:
    """The part of a tqdm bar train_loop uses, for when tqdm is not installed: a stderr line every
    twentieth of the run (step/total and the postfix); `write` prints a message, as tqdm.write does."""

    def __init__(self, total, initial, enabled):
        self.n, self.total, self.enabled, self.postfix = initial, total, enabled, ""
        self.every = max(1, total // 20)

    def update(self, n: int) -> None:
        self.n += n
        if self.enabled and (self.n % self.every == 0 or self.n == self.total):
            print(f"step {self.n}/{self.total}" + (f" ({self.postfix})" if self.postfix else ""), file=sys.stderr,
                  flush=True)

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{name} {value}" for name, value in values.items())

    def write(self, message: str) -> None:
        print(message, flush=True)

    def close(self) -> None:
        pass


def _progress(total, initial, enabled):
    """A tqdm bar over the steps when tqdm is installed (the `progress` extra), else plain lines."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _StepLines(total, initial, enabled)
    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True)


def train_loop(model, make_batch, optimizer, schedule, total_steps: int, out_dir=None, *, seed: int = 0,
               clip_norm: float | None = 1.0, compute_loss=None, evaluate=None, eval_every: int = 0,
               checkpoint_every: int = 0, resume: bool = True, progress: bool = True, tokenizer=None,
               extra_state: dict | None = None) -> dict:
    """Train `model` for `total_steps` optimizer steps; returns the history.

    make_batch(step) -> dict of model inputs (including labels). compute_loss(model, batch, step)
    -> (loss Tensor, number of tokens) overrides the default `model(**batch).loss`. evaluate(model)
    -> dict of numbers, run every `eval_every` steps and at the end. With `out_dir`, a checkpoint is
    written every `checkpoint_every` steps, at the end, and on Ctrl-C; with `resume`, training
    continues from the newest checkpoint there. History: {"step", "loss", "lr", "tokens_per_s",
    "eval": [(step, metrics)], "interrupted"}.
    """
    history = {"step": [], "loss": [], "lr": [], "tokens_per_s": [], "eval": [], "interrupted": False}
    start = 0
    found = latest_checkpoint(out_dir) if out_dir is not None and resume else None
    if found is not None:
        state = load_training_state(found, model, optimizer, schedule)
        start = state["step"]
        history.update({k: v for k, v in state.get("history", {}).items() if k in history})
        history["interrupted"] = False

    def save(step):
        if out_dir is not None:
            extra = {"history": history, "seed": seed, **(extra_state or {})}
            save_training_state(out_dir, model, optimizer, schedule, step, extra=extra, tokenizer=tokenizer)

    def run_eval(step):
        if evaluate is not None:
            metrics = evaluate(model)
            history["eval"].append((step, metrics))
            return metrics
        return None

    bar = _progress(total_steps, start, progress)
    step = start
    with _graceful_interrupt() as interrupt:
        while step < total_steps:
            _random.manual_seed(step_seed(seed, step))  # dropout stream of this step
            batch = make_batch(step)
            started = time.perf_counter()
            model.train()
            if compute_loss is None:
                loss = model(**batch).loss
                tokens = int(np.asarray(batch.get("attention_mask", batch["input_ids"])).astype(bool).sum())
            else:
                loss, tokens = compute_loss(model, batch, step)
            optimizer.zero_grad()
            loss.backward()
            if clip_norm:
                clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            if schedule is not None:
                schedule.step()
            step += 1
            elapsed = time.perf_counter() - started
            history["step"].append(step)
            history["loss"].append(float(loss.item()))
            history["lr"].append(float(optimizer.param_groups[0]["lr"]))
            history["tokens_per_s"].append(tokens / elapsed if elapsed > 0 else 0.0)
            bar.update(1)
            bar.set_postfix(loss=f"{history['loss'][-1]:.4f}", tok_s=f"{history['tokens_per_s'][-1]:.0f}")
            if eval_every and step % eval_every == 0 and step < total_steps:
                metrics = run_eval(step)
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            if interrupt["stop"]:
                history["interrupted"] = True
                bar.write(f"interrupted: saving a checkpoint at step {step}")
                break
            if checkpoint_every and step % checkpoint_every == 0 and step < total_steps:
                save(step)
    bar.close()
    if not history["interrupted"]:
        run_eval(step)
    save(step)
    return history

