"""Assignment A4 (conv vs attention heads on the nano model): partial and wrong work gets exactly the
marks it deserves, and the expected values are the ones minconvbert.analysis computes on the nano model.

The solution-scores-full-marks and student-version-scores-zero tests run for every assignment in
tests/test_grade.py; here, the checks are shown to tell right from plausible-but-wrong answers.
Each grading run starts a worker that loads the nano model (~1 s).
"""

import numpy as np
import pytest

from minconvbert import analysis
from minconvbert.grade import get_assignment, grade, strip_solutions
from minconvbert.grade.a4_head_analysis import spec

A4 = get_assignment("a4")


def solution_text():
    return (A4.source_dir() / A4.student_file).read_text(encoding="utf-8")


def write_student(tmp_path, text):
    folder = tmp_path / "student-a4"
    folder.mkdir()
    (folder / A4.student_file).write_text(text, encoding="utf-8")
    return folder


def replace_once(text, old, new):
    assert text.count(old) == 1, f"the solution no longer contains {old!r} exactly once"
    return text.replace(old, new)


def test_partial_work_gets_partial_marks(tmp_path):
    # the two distance functions and the even kernel distance written; everything else left out
    keep = {"mean_attention_distance", "mean_kernel_distance", "even_kernel_distance"}
    report = grade("a4", write_student(tmp_path, strip_solutions(solution_text(), keep=keep.__contains__)))
    passed = {r.name for r in report.results if r.passed}
    assert passed == {"attention_distance_layer0", "kernel_distance_layer0", "attention_distance_other_layers",
                      "attention_distance_pooled_over_padding", "kernel_distance_edges_and_even_k",
                      "kernel_distance_other_layers"}
    assert report.score == 10 and report.total == 21
    failed = {r.name: r.reason for r in report.results if not r.passed}
    assert "even_attention_distance: write this part" in failed["even_distances"]
    assert "ablation_loss_change: write this part" in failed["ablation_conv_head"]


def test_a_mean_of_per_sequence_means_fails_the_padded_checks(tmp_path):
    text = replace_once(solution_text(), '    return np.einsum("bht,bt->h", per_query, weights) / weights.sum()',
                        '    per_sequence = np.einsum("bht,bt->bh", per_query, weights) / weights.sum(axis=1)[:, None]\n'
                        '    return per_sequence.mean(axis=0)')
    report = grade("a4", write_student(tmp_path, text), only=["attention_distance_layer0",
                                                             "attention_distance_pooled_over_padding",
                                                             "kernel_distance_layer0"])
    by_name = {r.name: r for r in report.results}
    assert "wrong values" in by_name["attention_distance_layer0"].reason
    assert not by_name["attention_distance_pooled_over_padding"].passed
    assert by_name["kernel_distance_layer0"].passed


def test_the_wrong_kernel_centre_fails_only_the_even_kernel_check(tmp_path):
    # K // 2 instead of (K - 1) // 2: the same for odd K (the nano model's 9), wrong for K = 4
    text = replace_once(solution_text(), "offsets = np.abs(np.arange(K) - (K - 1) // 2)  # (K,)",
                        "offsets = np.abs(np.arange(K) - K // 2)  # (K,)")
    report = grade("a4", write_student(tmp_path, text), only=["kernel_distance_layer0", "kernel_distance_other_layers",
                                                             "kernel_distance_edges_and_even_k"])
    assert [r.passed for r in report.results] == [True, True, False]
    assert "K = 4" in report.results[2].reason


def test_renormalising_the_kernels_at_the_edges_is_wrong(tmp_path):
    # dropping the taps outside the sequence and renormalising: plausible, but not the specified measure
    text = replace_once(solution_text(), "    per_position = (kernels * offsets).sum(axis=-1)  # (B, H, T)",
                        "    inside = (np.arange(T)[:, None] + np.arange(K)[None, :] - (K - 1) // 2 >= 0) & "
                        "(np.arange(T)[:, None] + np.arange(K)[None, :] - (K - 1) // 2 < T)  # (T, K)\n"
                        "    kept = kernels * inside\n"
                        "    per_position = (kept * offsets).sum(axis=-1) / kept.sum(axis=-1)  # (B, H, T)")
    report = grade("a4", write_student(tmp_path, text), only=["kernel_distance_layer0",
                                                             "kernel_distance_edges_and_even_k"])
    assert not any(r.passed for r in report.results), [r.reason for r in report.results]


def test_ablation_without_eval_mode_or_restoring_it_fails(tmp_path):
    no_eval = replace_once(solution_text(), "    model.eval()\n    try:", "    try:")
    report = grade("a4", write_student(tmp_path, no_eval), only=["ablation_conv_head", "ablation_from_train_mode"])
    by_name = {r.name: r for r in report.results}
    assert by_name["ablation_conv_head"].passed  # the model it is given is in eval mode already
    assert "wrong values" in by_name["ablation_from_train_mode"].reason

    folder = tmp_path / "no-restore"
    folder.mkdir()
    (folder / A4.student_file).write_text(replace_once(solution_text(), "        model.train(was_training)", "        pass"))
    report = grade("a4", folder, only=["ablation_from_train_mode"])
    assert "left a model that was in train mode in eval mode" in report.results[0].reason


def test_classification_boundaries_are_checked(tmp_path):
    text = replace_once(solution_text(), "labels[ratio < local_below] = \"local\"", "labels[ratio <= local_below] = \"local\"")
    report = grade("a4", write_student(tmp_path, text), only=["classify_nano_heads", "classify_boundaries"])
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
    # the ablation is analysis.head_ablation's, and ctx hands out copies the student cannot spoil
    ablation = ctx.ablation("a")
    assert ablation.conv.shape == (config.num_hidden_layers, config.heads_per_kind)
    batch["input_ids"][:] = 0
    assert (ctx.batch("a")["input_ids"] != 0).any()
    assert ctx.student_model() is not ctx.model
    labels = spec.expected_labels(analysis.mean_attention_distance(attentions, ctx.mask("a")),
                                  spec.expected_even_attention_distance(ctx.mask("a")))
    assert set(labels.ravel()) <= {"local", "intermediate", "global"} and len(set(labels.ravel())) >= 2
