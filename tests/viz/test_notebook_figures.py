"""The notebooks' figures: token spans, the convolution window frames, unfold beside the band, the block
diagram, and layer_overview's axis names, power scale and title. PNG sizes, what is drawn, bad input."""

import numpy as np
import pytest
from matplotlib.colors import PowerNorm
from matplotlib.patches import Rectangle

from minconvbert import ConvBertConfig
from minconvbert.analysis import kernels_to_matrix
from minconvbert.viz import conv_window_frames, layer_overview, mixed_attention_diagram, token_spans, unfold_and_band


def kernels(T=12, K=5, seed=0):
    z = 2 * np.random.default_rng(seed).standard_normal((T, K))
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_token_spans_draws_each_token_under_its_characters(read_png):
    text = "cafe\u0301 ok"
    tokens, offsets = ["[CLS]", "cafe", "ok", "[SEP]"], [(0, 0), (0, 4), (6, 8), (0, 0)]
    fig, _ = read_png(lambda path: token_spans(text, tokens, offsets, dpi=40, path=path))
    ax = fig.axes[0]
    cells = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() == 1]
    assert len(cells) == len(text)
    grey = [int(p.get_x()) for p in cells if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert grey == [4, 5]  # the combining accent and the space: no token covers them
    bars = {t.get_text(): t.get_position()[0] for t in ax.texts if t.get_text() in ("cafe", "ok")}
    assert bars == {"cafe": 2.0, "ok": 7.0}  # centred on their spans
    assert any("no characters:\n[CLS] [SEP]" == t for t in texts(fig))
    assert "\u25cc\u0301" in texts(fig)  # the mark is drawn on a dotted circle


def test_token_spans_refuses_offsets_that_do_not_fit():
    with pytest.raises(ValueError, match=r"tokens, offsets: 2 tokens but 1 offsets"):
        token_spans("ab", ["a", "b"], [(0, 1)])
    with pytest.raises(ValueError, match=r"offsets: \(1, 5\) of token 'b' is not a span of a text of 2 characters"):
        token_spans("ab", ["a", "b"], [(0, 1), (1, 5)])
    with pytest.raises(TypeError, match="text: expected the original string"):
        token_spans(["ab"], ["a"], [(0, 1)])


def test_conv_window_frames_one_frame_per_position_with_the_weights(read_png):
    w = kernels()
    fig, _ = read_png(lambda path: conv_window_frames(w, positions=[0, 6], dpi=40, path=path))
    assert len(fig.axes) == 2
    first, middle = fig.axes
    assert "(part of the window is zero padding)" in first.get_title() and "padding" not in middle.get_title()
    weights = [t.get_text() for t in middle.texts if t.get_position()[1] == 1.75 and t.get_position()[0] >= 0]
    assert weights == [f"{v:.2f}" for v in w[6]]
    frames = [p for p in middle.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] != (0.588, 0.588, 0.588)
              and not p.get_fill()]
    assert len(frames) == 1 and frames[0].get_x() == 6 - 2 - 0.5 and frames[0].get_width() == 5  # the red window


def test_conv_window_frames_and_unfold_refuse_bad_input():
    with pytest.raises(ValueError, match=r"kernels: expected one head's weights of shape \(T, K\), got \(2, 3, 4\)"):
        conv_window_frames(np.ones((2, 3, 4)))
    with pytest.raises(IndexError, match="positions: 12 is not a position of a sequence of 12"):
        conv_window_frames(kernels(), positions=[12])
    with pytest.raises(IndexError, match="row: -1 is not a position"):
        unfold_and_band(kernels(), row=-1)


def test_unfold_and_band_show_the_same_weights(read_png):
    w = kernels()
    fig, _ = read_png(lambda path: unfold_and_band(w, row=3, dpi=40, path=path))
    left, right = fig.axes[:2]
    spans = left.get_images()[0].get_array()
    assert np.ma.getmaskarray(spans)[0, :2].all() and np.allclose(spans[5], w[5])  # padding left out, the rest weights
    np.testing.assert_array_equal(right.get_images()[0].get_array(), kernels_to_matrix(w))
    assert [t.get_text() for t in left.texts][:5] == ["pad", "pad", "0", "1", "2"]  # row 0 reads V[-2 .. 2]
    assert left.get_images()[0].get_clim() == right.get_images()[0].get_clim()  # one colour scale


def test_the_block_diagram_names_every_part_with_the_config_sizes(read_png):
    config = ConvBertConfig(vocab_size=50, hidden_size=64, num_hidden_layers=1, num_attention_heads=4, head_ratio=2,
                            intermediate_size=128, conv_kernel_size=5)
    fig, _ = read_png(lambda path: mixed_attention_diagram(config, dpi=40, path=path))
    drawn = "\n".join(texts(fig))
    for part in ("query\nLinear", "key_conv_attn_layer", "key_conv \u2299 query", "conv_kernel_layer",
                 "softmax over 5 taps", "span_conv", "concatenate", "(B, T, 2, 16)", "(B, T, 64)"):
        assert part in drawn, part
    assert len(fig.axes[0].texts) >= 13 and len([c for c in fig.axes[0].get_children()
                                                 if type(c).__name__ == "Annotation"]) == 17  # every arrow


def test_layer_overview_names_its_axes_and_takes_a_power_scale_and_a_title(model_output, tokens, read_png):
    fig, _ = read_png(lambda path: layer_overview(model_output, 0, tokens, gamma=0.5, title="on a sentence", dpi=40,
                                                  path=path))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert {ax.get_xlabel() for ax in panels} == {"key (column)", "position mixed (column)"}
    assert panels[0].get_ylabel() == "query (row)"
    assert all(isinstance(ax.get_images()[0].norm, PowerNorm) for ax in panels)
    assert fig._suptitle.get_text() == "on a sentence"
    with pytest.raises(ValueError, match="gamma: expected a positive exponent"):
        layer_overview(model_output, 0, tokens, gamma=0)
