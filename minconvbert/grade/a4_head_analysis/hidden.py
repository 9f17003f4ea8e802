"""A4's hidden checks: the other layers and a second batch, padding and edges on synthetic inputs
(pooled averages, garbage in padded rows, an even kernel size, float32), an attention-head ablation,
a model handed over in train mode, the classification's boundaries, and part E on a text shorter
than the kernel."""

import numpy as np

from minconvbert import analysis
from minconvbert.grade.a4_head_analysis.spec import (
    A4,
    check_ablation,
    check_distances,
    check_padding_weights,
    compare_distances,
    compare_labels,
    expected_even_attention_distance,
    expected_even_kernel_distance,
    expected_labels,
)
from minconvbert.grade.checks import as_float, close


def _rows(rng, shape, dtype=np.float64):
    """Random distributions along the last axis."""
    logits = rng.standard_normal(shape) * 2.0
    return (np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)).astype(dtype)


def _padded_case(seed, lengths, T, H, width, dtype=np.float64):
    """(maps (B, H, T, width), mask (B, T)): real rows are distributions over the real keys (attention,
    width == T) or over all K taps (kernels); padded rows hold garbage that must not count."""
    rng = np.random.default_rng(seed)
    mask = (np.arange(T)[None, :] < np.array(lengths)[:, None]).astype(np.int64)  # (B, T)
    maps = _rows(rng, (len(lengths), H, T, width), dtype)
    if width == T:  # attention: no weight on padded keys, as the model's softmax mask gives
        maps = maps * mask[:, None, None, :]
        maps = maps / maps.sum(axis=-1, keepdims=True)
    garbage = rng.uniform(5.0, 9.0, maps.shape).astype(dtype)
    maps = np.where(mask[:, None, :, None] == 1, maps, garbage)  # padded query rows: nonsense
    return maps.astype(dtype), mask


@A4.check(points=2, visible=False)
def attention_distance_other_layers(student, ctx):
    """mean_attention_distance of layers 1, 2 and 3 on batch "b"."""
    attentions, _ = ctx.outputs("b")
    for layer in (1, 2, 3):
        check_distances(student, "mean_attention_distance", attentions[layer], ctx.mask("b"),
                        f"mean_attention_distance(layer {layer}, batch b)")


@A4.check(points=1, visible=False)
def attention_distance_pooled_over_padding(student):
    """Sequences of lengths 7, 2 and 4 (one mean over all their real queries; padded rows ignored), float32,
    and attention_mask=None."""
    maps, mask = _padded_case(3, [7, 2, 4], 7, 3, 7, np.float32)
    compare_distances(student.run("mean_attention_distance", maps, mask).value,
                      analysis.mean_attention_distance(maps, mask), "padded float32 batch")
    full, _ = _padded_case(4, [5, 5], 5, 2, 5)
    compare_distances(student.run("mean_attention_distance", full, None).value, analysis.mean_attention_distance(full),
                      "attention_mask=None")


@A4.check(points=2, visible=False)
def kernel_distance_edges_and_even_k(student):
    """Kernels with weight on taps outside the sequence, an even kernel size (K = 4), K = 1, float32, padding."""
    for seed, K, dtype in ((5, 4, np.float64), (6, 1, np.float64), (7, 5, np.float32)):
        kernels, mask = _padded_case(seed, [3, 6, 1], 6, 2, K, dtype)
        compare_distances(student.run("mean_kernel_distance", kernels, mask).value,
                          analysis.mean_kernel_distance(kernels, mask), f"K = {K}, {np.dtype(dtype).name}, padded")
    kernels, _ = _padded_case(8, [4], 4, 1, 9)  # T = 4 < K = 9: most taps fall outside the sequence
    compare_distances(student.run("mean_kernel_distance", kernels, None).value, analysis.mean_kernel_distance(kernels),
                      "T = 4, K = 9, no mask")


@A4.check(points=1, visible=False)
def kernel_distance_other_layers(student, ctx):
    """mean_kernel_distance of layers 1, 2 and 3 on batch "b"."""
    _, kernels = ctx.outputs("b")
    for layer in (1, 2, 3):
        check_distances(student, "mean_kernel_distance", kernels[layer], ctx.mask("b"),
                        f"mean_kernel_distance(layer {layer}, batch b)")


@A4.check(points=1, visible=False)
def even_distances_other_inputs(student):
    """even_attention_distance with lengths 1, 5 and 3 in T = 5; even_kernel_distance for K = 1, 3, 4, 7."""
    mask = (np.arange(5)[None, :] < np.array([1, 5, 3])[:, None]).astype(np.int64)
    got = as_float(student.run("even_attention_distance", mask).value, "even_attention_distance")
    close(got, expected_even_attention_distance(mask), "even_attention_distance(lengths 1, 5, 3)")
    for K in (1, 3, 4, 7):
        got = as_float(student.run("even_kernel_distance", K).value, "even_kernel_distance")
        close(got, expected_even_kernel_distance(K), f"even_kernel_distance({K})")


@A4.check(points=2, visible=False)
def ablation_attention_head(student, ctx):
    """ablation_loss_change(model, batch "b", "attention", 3, 1)."""
    check_ablation(student, ctx, "b", "attention", 3, 1, "ablation_loss_change(attention head 1 of layer 3, batch b)")


@A4.check(points=1, visible=False)
def ablation_from_train_mode(student, ctx):
    """A model handed over in train mode: the eval-mode loss change, and the model back in train mode."""
    outcome = check_ablation(student, ctx, "a", "conv", 2, 1,
                             "ablation_loss_change(conv head 1 of layer 2) on a model in train mode (use eval mode)",
                             train=True)
    if outcome.built[0].get("training") is not True:
        raise AssertionError("ablation_loss_change left a model that was in train mode in eval mode")
    if outcome.changed:
        raise AssertionError(f"ablation_loss_change modified the batch ({', '.join(outcome.changed)})")


@A4.check(points=1, visible=False)
def classify_boundaries(student):
    """Ratios exactly at the thresholds, other thresholds, and a (1, 7) input."""
    distances = np.array([[0.6, 0.99, 1.0, 1.2, 1.79, 1.8, 2.5]])  # / 2.0: 0.3, 0.495, 0.5, 0.6, 0.895, 0.9, 1.25
    compare_labels(student.run("classify_heads", distances, 2.0).value, expected_labels(distances, 2.0),
                   "default thresholds")
    compare_labels(student.run("classify_heads", distances, 2.0, local_below=0.3, global_above=0.6).value,
                   expected_labels(distances, 2.0, 0.3, 0.6), "local_below=0.3, global_above=0.6")


@A4.check(points=1, visible=False)
def padding_at_ends_short_text(student, ctx):
    """padding_weight_at_ends on "Stop." (T = 4 < K = 9: at [CLS] taps past the end are padding too, but
    only those before the text count), with the model handed over in train mode (use eval mode, restore it)."""
    outcome = check_padding_weights(student, ctx, "short", "padding_weight_at_ends(\"Stop.\") on a model in train mode",
                                    train=True)
    if outcome.built[0].get("training") is not True:
        raise AssertionError("padding_weight_at_ends left a model that was in train mode in eval mode")
