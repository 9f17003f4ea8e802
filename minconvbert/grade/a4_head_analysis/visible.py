"""A4's visible checks: each function on layer 0 / one head of the nano model with the fixed batch "a", and
part E on the explorer's sentence."""

from minconvbert import analysis
from minconvbert.grade.a4_head_analysis.spec import (
    A4,
    check_ablation,
    check_distances,
    check_padding_weights,
    compare_labels,
    expected_even_attention_distance,
    expected_even_kernel_distance,
    expected_labels,
)
from minconvbert.grade.checks import as_float, close


@A4.check(points=2, visible=True)
def attention_distance_layer0(student, ctx):
    """mean_attention_distance of layer 0's attention heads on batch "a" (padded)."""
    attentions, _ = ctx.outputs("a")
    check_distances(student, "mean_attention_distance", attentions[0], ctx.mask("a"), "mean_attention_distance(layer 0)")


@A4.check(points=2, visible=True)
def kernel_distance_layer0(student, ctx):
    """mean_kernel_distance of layer 0's convolution heads on batch "a" (padded)."""
    _, kernels = ctx.outputs("a")
    check_distances(student, "mean_kernel_distance", kernels[0], ctx.mask("a"), "mean_kernel_distance(layer 0)")


@A4.check(points=2, visible=True)
def even_distances(student, ctx):
    """even_attention_distance of batch "a"'s mask, and even_kernel_distance(9)."""
    got = as_float(student.run("even_attention_distance", ctx.mask("a")).value, "even_attention_distance")
    close(got, expected_even_attention_distance(ctx.mask("a")), "even_attention_distance(mask of batch a)")
    got = as_float(student.run("even_kernel_distance", 9).value, "even_kernel_distance")
    close(got, expected_even_kernel_distance(9), "even_kernel_distance(9)")


@A4.check(points=2, visible=True)
def ablation_conv_head(student, ctx):
    """ablation_loss_change(model, batch "a", "conv", 1, 0)."""
    check_ablation(student, ctx, "a", "conv", 1, 0, "ablation_loss_change(conv head 0 of layer 1)")


@A4.check(points=2, visible=True)
def classify_nano_heads(student, ctx):
    """classify_heads of every attention head, then every conv head, on batch "a" (default thresholds)."""
    attentions, kernels = ctx.outputs("a")
    mask = ctx.mask("a")
    for kind, distances, even in (
        ("attention", analysis.mean_attention_distance(attentions, mask), expected_even_attention_distance(mask)),
        ("conv", analysis.mean_kernel_distance(kernels, mask), expected_even_kernel_distance(kernels[0].shape[-1])),
    ):
        compare_labels(student.run("classify_heads", distances, even).value, expected_labels(distances, even),
                       f"classify_heads({kind} heads)")


@A4.check(points=2, visible=True)
def padding_at_ends(student, ctx):
    """padding_weight_at_ends(model, ids of "Return the number of items in the queue."): every layer and head."""
    check_padding_weights(student, ctx, "visible", "padding_weight_at_ends(\"Return the number of items in the queue.\")")
