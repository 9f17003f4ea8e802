"""head_ablation_plot and training_curves: PNG size, bars and lines carry the given numbers, errors."""

import numpy as np
import pytest

from minconvbert.analysis import HeadAblation
from minconvbert.viz import head_ablation_plot, training_curves
from minconvbert.viz.ablation import KIND_COLORS
from minconvbert.viz.curves import smoothed
from tests.viz.conftest import tick_texts


def ablation():
    attention = np.array([[0.1, -0.02, 0.3], [0.0, 0.05, 0.2]])  # (L=2, H=3)
    conv = np.array([[0.4, 0.01, -0.1], [0.07, 0.0, 0.02]])
    return HeadAblation(base_loss=3.5, attention=attention, conv=conv)


def test_head_ablation_plot_bars_match_results(read_png):
    result = ablation()
    fig, _ = read_png(lambda path: head_ablation_plot(result, dpi=50, path=path))
    ax = fig.axes[0]
    attention_bars, conv_bars = ax.containers
    np.testing.assert_allclose([bar.get_height() for bar in attention_bars], result.attention.reshape(-1))
    np.testing.assert_allclose([bar.get_height() for bar in conv_bars], result.conv.reshape(-1))
    from matplotlib.colors import to_rgba

    assert {bar.get_facecolor() for bar in attention_bars} == {to_rgba(KIND_COLORS["attention"])}
    assert {bar.get_facecolor() for bar in conv_bars} == {to_rgba(KIND_COLORS["conv"])}
    assert tick_texts(ax.get_xticklabels()) == ["L0 H0", "L0 H1", "L0 H2", "L1 H0", "L1 H1", "L1 H2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["attention head", "convolution head"]
    assert "3.5000" in ax.get_title()


def test_head_ablation_plot_from_a_dict():
    fig = head_ablation_plot({("attention", 0, 0): 0.5, ("conv", 0, 0): -0.25, ("conv", 0, 1): 0.1})
    attention_bars, conv_bars = fig.axes[0].containers
    assert [b.get_height() for b in conv_bars] == [-0.25, 0.1]
    assert attention_bars[0].get_height() == 0.5 and np.isnan(attention_bars[1].get_height())  # not measured


def test_head_ablation_plot_errors():
    with pytest.raises(TypeError, match="results"):
        head_ablation_plot([0.1, 0.2])
    with pytest.raises(ValueError, match="kind"):
        head_ablation_plot({("value", 0, 0): 0.1})


def history(steps=30, with_eval=True):
    rng = np.random.default_rng(0)
    step = list(range(1, steps + 1))
    evals = [(s, {"loss": 2.0 / s, "accuracy": s / 100, "tokens": 512}) for s in (10, 20, 30)] if with_eval else []
    return {"step": step, "loss": list(3 - np.arange(steps) * 0.05 + rng.normal(0, 0.1, steps)),
            "lr": [1e-3 * (1 - s / steps) for s in step], "tokens_per_s": [100.0] * steps, "eval": evals}


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_training_curves_lines_carry_the_history(read_png):
    h = history()
    fig, _ = read_png(lambda path: training_curves(h, figsize=(7, 4), dpi=50, path=path))
    loss_ax, lr_ax, metric_ax = fig.axes[0], fig.axes[2], fig.axes[1]
    lines = lines_by_label(loss_ax)
    np.testing.assert_array_equal(lines["train loss"].get_xdata(), h["step"])
    np.testing.assert_array_equal(lines["train loss"].get_ydata(), h["loss"])
    np.testing.assert_array_equal(lines["eval loss"].get_xdata(), [10, 20, 30])
    np.testing.assert_allclose(lines["eval loss"].get_ydata(), [0.2, 0.1, 2 / 30])
    np.testing.assert_allclose(lines_by_label(lr_ax)["learning rate"].get_ydata(), h["lr"])
    assert lr_ax.get_ylabel() == "learning rate"
    metric_lines = lines_by_label(metric_ax)
    assert set(metric_lines) == {"eval accuracy"}  # the integer count "tokens" is left out by default
    np.testing.assert_allclose(metric_lines["eval accuracy"].get_ydata(), [0.1, 0.2, 0.3])


def test_training_curves_options():
    h = history(with_eval=False)
    fig = training_curves(h, lr=False, smooth=0.5)
    assert len(fig.axes) == 1  # no lr axis, no metrics panel
    lines = lines_by_label(fig.axes[0])
    np.testing.assert_allclose(lines["train loss (EMA 0.5)"].get_ydata(), smoothed(h["loss"], 0.5))
    fig = training_curves(history(), metrics=["tokens"], lr=False)
    assert set(lines_by_label(fig.axes[1])) == {"eval tokens"}
    fig = training_curves({"step": [1, 2], "loss": [1.0, 0.5]}, log_loss=True)  # no lr, no eval in the history
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes) == 1


def test_smoothed_by_hand():
    # weight 0.5: s1 = 0.5*1 / (1-0.5) = 1;  s2 = (0.25 + 0.5*3) / (1 - 0.25) = 7/3
    np.testing.assert_allclose(smoothed([1.0, 3.0], 0.5), [1.0, 7 / 3])
    np.testing.assert_allclose(smoothed([2.0, 2.0, 2.0], 0.9), [2.0, 2.0, 2.0])


def test_training_curves_errors():
    with pytest.raises(TypeError, match="history"):
        training_curves([1, 2, 3])
    with pytest.raises(ValueError, match="3 steps but 2 losses"):
        training_curves({"step": [1, 2, 3], "loss": [1.0, 2.0]})
    with pytest.raises(ValueError, match="smooth"):
        training_curves(history(), smooth=1.0)
    with pytest.raises(ValueError, match="'bleu'"):
        training_curves(history(), metrics=["bleu"])
    with pytest.raises(ValueError, match="no steps"):
        training_curves({"step": [], "loss": [], "eval": []})
    with pytest.raises(ValueError, match="learning rates"):
        training_curves({"step": [1, 2], "loss": [1.0, 0.5], "lr": [0.1]})
