"""Assignment A4 (conv vs attention heads on the nano model): partial and wrong work gets exactly the
marks it deserves, and the expected values are the ones minconvbert.analysis computes on the nano model,
live (never numbers copied from one training of it).

The grader's context (the nano model, two batches, the ablations) is built once per session.
"""

import numpy as np
import pytest

from minconvbert import analysis
from minconvbert.grade import grade
from minconvbert.grade.a4_head_analysis import spec
from tests.grade.helpers import by_name, replace_once, solution_text, write_student


def test_partial_work_gets_partial_marks(tmp_path):
    keep = {"mean_attention_distance", "mean_kernel_distance", "even_kernel_distance"}
    report = grade("a4", write_student(tmp_path / "a4", "a4", solution_text("a4", only=keep)),
                   only=["attention_distance_layer0", "kernel_distance_layer0", "even_distances",
                         "attention_distance_pooled_over_padding", "kernel_distance_edges_and_even_k",
                         "ablation_conv_head"])
    passed = {r.name for r in report.results if r.passed}
    assert passed == {"attention_distance_layer0", "kernel_distance_layer0", "attention_distance_pooled_over_padding",
                      "kernel_distance_edges_and_even_k"}
    results = by_name(report)
    assert "even_attention_distance: write this part" in results["even_distances"].reason
    assert "ablation_loss_change: write this part" in results["ablation_conv_head"].reason


def test_a_mean_of_per_sequence_means_fails_the_padded_checks(tmp_path):
    text = replace_once(solution_text("a4"), '    return np.einsum("bht,bt->h", per_query, weights) / weights.sum()',
                        '    per_sequence = np.einsum("bht,bt->bh", per_query, weights) / weights.sum(axis=1)[:, None]\n'
                        '    return per_sequence.mean(axis=0)')
    report = grade("a4", write_student(tmp_path / "a4", "a4", text), only=[
        "attention_distance_layer0", "attention_distance_pooled_over_padding", "kernel_distance_layer0"])
    results = by_name(report)
    assert "elements differ" in results["attention_distance_layer0"].reason
    assert not results["attention_distance_pooled_over_padding"].passed and results["kernel_distance_layer0"].passed


def test_the_wrong_kernel_centre_fails_only_the_even_kernel_check(tmp_path):
    # K // 2 instead of (K - 1) // 2: the same for odd K (the nano model's 9), wrong for K = 4
    text = replace_once(solution_text("a4"), "offsets = np.abs(np.arange(K) - (K - 1) // 2)  # (K,)",
                        "offsets = np.abs(np.arange(K) - K // 2)  # (K,)")
    report = grade("a4", write_student(tmp_path / "a4", "a4", text), only=[
        "kernel_distance_layer0", "kernel_distance_other_layers", "kernel_distance_edges_and_even_k"])
    assert [r.passed for r in report.results] == [True, True, False]
    assert "K = 4" in report.results[2].reason


def test_renormalising_the_kernels_at_the_edges_is_wrong(tmp_path):
    text = replace_once(solution_text("a4"), "    per_position = (kernels * offsets).sum(axis=-1)  # (B, H, T)",
                        "    inside = (np.arange(T)[:, None] + np.arange(K)[None, :] - (K - 1) // 2 >= 0) & "
                        "(np.arange(T)[:, None] + np.arange(K)[None, :] - (K - 1) // 2 < T)  # (T, K)\n"
                        "    kept = kernels * inside\n"
                        "    per_position = (kept * offsets).sum(axis=-1) / kept.sum(axis=-1)  # (B, H, T)")
    report = grade("a4", write_student(tmp_path / "a4", "a4", text),
                   only=["kernel_distance_layer0", "kernel_distance_edges_and_even_k"])
    assert not any(r.passed for r in report.results), [r.reason for r in report.results]


def test_ablation_without_eval_mode_or_restoring_it_fails(tmp_path):
    no_eval = replace_once(solution_text("a4"), "    model.eval()\n    try:", "    try:")
    report = grade("a4", write_student(tmp_path / "no-eval", "a4", no_eval),
                   only=["ablation_conv_head", "ablation_from_train_mode"])
    results = by_name(report)
    assert results["ablation_conv_head"].passed  # the model it is given is in eval mode already
    assert "ablation_loss_change(conv head 1 of layer 2) on a model in train mode" in \
        results["ablation_from_train_mode"].reason
    no_restore = replace_once(solution_text("a4"), "        model.train(was_training)", "        pass")
    report = grade("a4", write_student(tmp_path / "no-restore", "a4", no_restore), only=["ablation_from_train_mode"])
    assert "left a model that was in train mode in eval mode" in report.results[0].reason


def test_classification_boundaries_are_checked(tmp_path):
    text = replace_once(solution_text("a4"), 'labels[ratio < local_below] = "local"', 'labels[ratio <= local_below] = "local"')
    report = grade("a4", write_student(tmp_path / "a4", "a4", text), only=["classify_nano_heads", "classify_boundaries"])
    assert [r.passed for r in report.results] == [True, False]
    assert "wrong label" in report.results[1].reason


def test_the_expected_values_are_the_analysis_module_on_the_nano_model():
    ctx = spec.setup()
    batch = ctx.batch("a")
    assert batch["input_ids"].shape[0] == len(spec.SENTENCES["a"])
    lengths = batch["attention_mask"].sum(axis=1)
    assert len(set(lengths)) > 1 and (batch["attention_mask"] == 0).any()  # padded, different lengths
    assert (batch["labels"] != -100).sum() >= 10
    attentions, kernels = ctx.outputs("a")
    config = ctx.model.config
    assert len(attentions) == config.num_hidden_layers
    assert kernels[0].shape == (len(lengths), config.heads_per_kind, batch["input_ids"].shape[1], config.conv_kernel_size)
    # the even-head helpers against closed forms: (T^2 - 1) / 3T without padding, 20/9 for K = 9
    assert spec.expected_even_attention_distance(np.ones((2, 7))) == pytest.approx((49 - 1) / 21)
    assert spec.expected_even_kernel_distance(9) == pytest.approx(20 / 9)
    batch["input_ids"][:] = 0  # ctx hands out copies
    assert (ctx.batch("a")["input_ids"] != 0).any()
    labels = spec.expected_labels(analysis.mean_attention_distance(attentions, ctx.mask("a")),
                                  spec.expected_even_attention_distance(ctx.mask("a")))
    assert set(labels.ravel()) <= {"local", "intermediate", "global"} and len(set(labels.ravel())) >= 2


def test_part_e_counts_only_the_padding_taps_at_each_end(tmp_path):
    # [CLS]'s own tap counted as padding: the visible check names the [CLS] column of every layer and head
    with_self = replace_once(solution_text("a4"), "at_cls = kernels.data[0, :, 0, :left].sum(axis=-1)",
                             "at_cls = kernels.data[0, :, 0, :left + 1].sum(axis=-1)")
    report = grade("a4", write_student(tmp_path / "self", "a4", with_self), only=["padding_at_ends", "padding_at_ends_short_text"])
    results = by_name(report)
    assert not results["padding_at_ends"].passed and not results["padding_at_ends_short_text"].passed
    assert "all at e = 0" in results["padding_at_ends"].reason, results["padding_at_ends"].reason
    # every padding tap of [CLS] (also those past [SEP] in a text shorter than the kernel): only the hidden check sees it
    both_sides = replace_once(solution_text("a4"), "at_cls = kernels.data[0, :, 0, :left].sum(axis=-1)",
                              "at_cls = kernels.data[0, :, 0, :left].sum(axis=-1) + "
                              "kernels.data[0, :, 0, left + kernels.shape[2]:].sum(axis=-1)")
    report = grade("a4", write_student(tmp_path / "both", "a4", both_sides),
                   only=["padding_at_ends", "padding_at_ends_short_text"])
    assert [r.passed for r in report.results] == [True, False], [r.reason for r in report.results]
    assert 'padding_weight_at_ends("Stop.")' in report.results[1].reason
    # the model left in eval mode: the hidden check says so
    no_restore = replace_once(solution_text("a4"), "    model.train(was_training)\n    left =", "    left =")
    report = grade("a4", write_student(tmp_path / "mode", "a4", no_restore), only=["padding_at_ends_short_text"])
    assert "left a model that was in train mode in eval mode" in report.results[0].reason


def test_part_e_expected_values_are_the_kernels_the_explorer_shows():
    from minconvbert import viz

    ctx = spec.setup()
    want = ctx.padding_weights("visible")  # (L, H, 2)
    explorer = viz.head_explorer(ctx.model, ctx.tokenizer, spec.EXPLORER_TEXTS["visible"])
    left = (explorer.conv_kernels.shape[-1] - 1) // 2
    np.testing.assert_allclose(want[..., 0], explorer.conv_kernels[:, :, 0, :left].sum(axis=-1), atol=1e-6)
    np.testing.assert_allclose(want[..., 1], explorer.conv_kernels[:, :, -1, left + 1:].sum(axis=-1), atol=1e-6)
    assert explorer.tokens[0] == "[CLS]" and explorer.tokens[-1] == "[SEP]"
    assert want.shape == (ctx.model.config.num_hidden_layers, ctx.model.config.heads_per_kind, 2)
    assert (want > 0).all() and (want < 1).all()
    assert ctx.explorer_ids("short").shape[1] < ctx.model.config.conv_kernel_size // 2 + 1  # [CLS]'s window passes [SEP]
