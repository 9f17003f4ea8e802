"""Training curves: the loss per step, the evaluation metrics, and the learning rate on a second axis.

    history = train_loop(...)
    training_curves(history, path="curves.png")
"""

from __future__ import annotations

import numbers

import numpy as np

from minconvbert.viz.common import finish, new_figure

__all__ = ["training_curves", "smoothed"]


def smoothed(values, weight: float) -> np.ndarray:
    """Bias-corrected exponential moving average: (T,) -> (T,).

    m_t = weight * m_{t-1} + (1 - weight) * v_t with m_0 = 0, and s_t = m_t / (1 - weight^t), so the
    first values are not pulled towards 0.
    """
    values = np.asarray(values, dtype=float)
    out = np.empty_like(values)
    running = 0.0
    for t, value in enumerate(values):
        running = weight * running + (1 - weight) * value
        out[t] = running / (1 - weight ** (t + 1))
    return out


def _eval_series(history, metrics) -> dict:
    """{metric: (steps, values)} from history["eval"] = [(step, {metric: value})]."""
    records = history.get("eval") or []
    if metrics is None:  # every float metric; integer counts (e.g. "tokens") only when asked for
        metrics = []
        for _, values in records:
            for name, value in values.items():
                is_float = isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
                if is_float and name not in metrics:
                    metrics.append(name)
    series = {}
    for name in metrics:
        points = [(step, values[name]) for step, values in records if name in values]
        if not points:
            raise ValueError(f"metrics: {name!r} is in none of the evaluations in history['eval']")
        if not all(isinstance(v, numbers.Real) for _, v in points):
            raise TypeError(f"metrics: {name!r} has values that are not numbers")
        series[name] = tuple(np.array(column, dtype=float) for column in zip(*points))
    return series


def training_curves(history: dict, *, lr: bool = True, metrics=None, smooth: float = None, log_loss: bool = False,
                    figsize=(8, 4.5), dpi: float = 100, title="training", path=None):
    """Loss against step, the evaluation metrics, and (optionally) the learning rate on a right-hand axis.

    history: what train_loop returns, {"step": [...], "loss": [...], "lr": [...], "eval": [(step,
    {metric: value})]}. Evaluation metrics whose name contains "loss" share the training loss's
    axes (as points joined by a line); the others (accuracy, ...) get a second panel below.
    metrics: names of the evaluation metrics to draw (default: every one whose value is a float;
    integer counts such as "tokens" are left out). lr: draw history["lr"] when it is there.
    smooth: an exponential moving average weight in [0, 1) drawn over the raw loss (e.g. 0.9).
    log_loss: a logarithmic loss axis. Returns the matplotlib Figure.
    """
    if not isinstance(history, dict) or "step" not in history or "loss" not in history:
        raise TypeError("history: expected the dict that train_loop returns, with 'step' and 'loss' lists")
    steps, losses = np.asarray(history["step"], dtype=float), np.asarray(history["loss"], dtype=float)
    if steps.shape != losses.shape:
        raise ValueError(f"history: {steps.size} steps but {losses.size} losses")
    if smooth is not None and not 0 <= smooth < 1:
        raise ValueError(f"smooth: expected a weight in [0, 1), got {smooth!r}")
    series = _eval_series(history, metrics)
    loss_like = {name: s for name, s in series.items() if "loss" in name}
    others = {name: s for name, s in series.items() if "loss" not in name}
    if steps.size == 0 and not series:
        raise ValueError("history: no steps and no evaluations to draw")

    fig = new_figure(figsize, dpi)
    if others:
        ax, ax_metrics = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    else:
        ax, ax_metrics = fig.add_subplot(), None

    ax.plot(steps, losses, color="tab:blue", linewidth=1, alpha=0.4 if smooth else 1.0, label="train loss")
    if smooth and steps.size:
        ax.plot(steps, smoothed(losses, smooth), color="tab:blue", linewidth=2, label=f"train loss (EMA {smooth})")
    for i, (name, (eval_steps, values)) in enumerate(loss_like.items()):
        ax.plot(eval_steps, values, marker="o", color=f"C{i + 1}", label=f"eval {name}")
    ax.set_ylabel("loss")
    if log_loss:
        ax.set_yscale("log")
    handles, labels = ax.get_legend_handles_labels()

    lr_values = history.get("lr")
    if lr and lr_values is not None and len(lr_values):
        if len(lr_values) != steps.size:
            raise ValueError(f"history: {steps.size} steps but {len(lr_values)} learning rates")
        ax_lr = ax.twinx()
        ax_lr.plot(steps, lr_values, color="grey", linestyle="--", linewidth=1, label="learning rate")
        ax_lr.set_ylabel("learning rate")
        ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        more_handles, more_labels = ax_lr.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper right", fontsize=8)

    if ax_metrics is not None:
        for i, (name, (eval_steps, values)) in enumerate(others.items()):
            ax_metrics.plot(eval_steps, values, marker="o", color=f"C{len(loss_like) + i + 1}", label=f"eval {name}")
        ax_metrics.set_ylabel("metric")
        ax_metrics.legend(loc="best", fontsize=8)
        ax_metrics.set_xlabel("step")
    else:
        ax.set_xlabel("step")
    ax.set_title(title)
    return finish(fig, path)
