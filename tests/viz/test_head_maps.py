"""attention_map, conv_kernel_map and layer_overview: PNG size, token labels, data, shared colour scale."""

import numpy as np
import pytest
from matplotlib.image import AxesImage

from minconvbert.analysis import kernels_to_matrix
from minconvbert.models.convbert.outputs import BaseModelOutput
from minconvbert.viz import attention_map, conv_kernel_map, layer_overview
from tests.viz.conftest import tick_texts


def images(fig):
    return [artist for ax in fig.axes for artist in ax.get_images()]


def test_attention_map_png_labels_and_data(model_output, tokens, read_png):
    fig, _ = read_png(lambda path: attention_map(model_output, 1, 2, tokens, example=1, dpi=50, path=path))
    ax = fig.axes[0]
    assert tick_texts(ax.get_xticklabels()) == tokens
    assert tick_texts(ax.get_yticklabels()) == tokens
    (image,) = ax.get_images()
    np.testing.assert_array_equal(image.get_array(), model_output.attentions[1].data[1, 2])
    assert image.get_clim() == (0.0, 1.0)
    assert len(fig.axes) == 2  # the map and its colourbar
    assert ax.get_title() == "layer 1, attention head 2"


def test_conv_kernel_map_png_labels_band_and_scale(model_output, tokens, read_png):
    fig, _ = read_png(lambda path: conv_kernel_map(model_output, 0, 1, tokens, figsize=(6, 5), dpi=60, path=path))
    ax = fig.axes[0]
    assert tick_texts(ax.get_xticklabels()) == tokens
    assert tick_texts(ax.get_yticklabels()) == tokens
    (image,) = ax.get_images()
    kernels = model_output.conv_kernels[0].data[0, 1]  # (T, K)
    np.testing.assert_array_equal(image.get_array(), kernels_to_matrix(kernels))
    attention_image = attention_map(model_output, 0, 1, tokens).axes[0].get_images()[0]
    assert image.get_clim() == attention_image.get_clim() == (0.0, 1.0)  # the same colour scale
    assert image.get_cmap().name == attention_image.get_cmap().name
    assert len(ax.get_lines()) == 2  # the band's two edges
    assert ax.get_xlim() == (-0.5, len(tokens) - 0.5)  # the outline did not widen the view


def test_maps_accept_record_lists_and_stacked_arrays(model_output):
    stacked = np.stack([a.data for a in model_output.attentions])  # (L, B, H, T, T)
    from_list = attention_map(list(model_output.attentions), 1, 0).axes[0].get_images()[0].get_array()
    from_array = attention_map(stacked, 1, 0).axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(from_list, from_array)
    fig = conv_kernel_map(model_output.conv_kernels, -1, -1)  # negative indices count from the end
    assert tick_texts(fig.axes[0].get_xticklabels()) == [str(i) for i in range(20)]  # positions by default


def test_maps_draw_into_given_axes(model_output):
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert attention_map(model_output, 0, 0, ax=left) is fig
    assert conv_kernel_map(model_output, 0, 0, ax=right) is fig
    assert len(left.get_images()) == len(right.get_images()) == 1


def test_layer_overview_all_heads_shared_scale(model_output, tokens, read_png):
    fig, _ = read_png(lambda path: layer_overview(model_output, 1, tokens, dpi=40, path=path))
    heads = model_output.attentions[1].shape[1]
    maps = [ax for ax in fig.axes if ax.get_images()]
    colourbars = [ax for ax in fig.axes if not ax.get_images()]
    assert len(maps) == 2 * heads and len(colourbars) == 1
    assert {image.get_clim() for image in images(fig)} == {(0.0, 1.0)}
    assert {image.get_cmap().name for image in images(fig)} == {"viridis"}
    titles = [ax.get_title() for ax in maps]
    assert titles == [f"attention head {h}" for h in range(heads)] + [f"conv head {h}" for h in range(heads)]
    bottom_left = maps[heads]
    assert tick_texts(bottom_left.get_xticklabels()) == tokens
    assert tick_texts(bottom_left.get_yticklabels()) == tokens
    assert tick_texts(maps[0].get_yticklabels()) == tokens
    assert set(tick_texts(maps[0].get_xticklabels())) == {""}  # inner axes carry no labels
    np.testing.assert_array_equal(maps[heads + 2].get_images()[0].get_array(),
                                  kernels_to_matrix(model_output.conv_kernels[1].data[0, 2]))


def test_colour_scale_can_be_chosen(model_output):
    fig = layer_overview(model_output, 0, vmax=0.5)
    assert {image.get_clim() for image in images(fig)} == {(0.0, 0.5)}
    with pytest.raises(ValueError, match="vmin"):
        attention_map(model_output, 0, 0, vmin=1.0, vmax=1.0)


def test_head_map_errors(model_output, tokens):
    with pytest.raises(IndexError, match="layer"):
        attention_map(model_output, 2, 0)
    with pytest.raises(IndexError, match="head"):
        conv_kernel_map(model_output, 0, 3)
    with pytest.raises(IndexError, match="example"):
        attention_map(model_output, 0, 0, example=2)
    with pytest.raises(ValueError, match="19 labels for a sequence of 20"):
        attention_map(model_output, 0, 0, tokens[:-1])
    with pytest.raises(TypeError, match="tokens"):
        attention_map(model_output, 0, 0, "one string")
    no_kernels = BaseModelOutput(attentions=model_output.attentions)
    with pytest.raises(ValueError, match="output_conv_kernels=True"):
        layer_overview(no_kernels, 0)
    with pytest.raises(ValueError, match=r"\(L, B, H, T, X\)"):
        attention_map(np.ones((3, 4, 4)), 0, 0)
    with pytest.raises(FileNotFoundError, match="path"):
        attention_map(model_output, 0, 0, path="/nonexistent-dir/x.png")


def test_long_sequences_label_every_nth_token():
    T = 150
    rng = np.random.default_rng(0)
    probs = rng.random((1, 1, 1, T, T))
    probs /= probs.sum(-1, keepdims=True)  # (L=1, B=1, H=1, T, T)
    tokens = [f"w{i}" for i in range(T)]
    ax = attention_map(probs, 0, 0, tokens).axes[0]
    shown = tick_texts(ax.get_xticklabels())
    step = len(tokens) // len(shown) + (len(tokens) % len(shown) > 0)
    assert 1 < step and shown == tokens[::step]
    assert min(label.get_fontsize() for label in ax.get_xticklabels()) >= 5
    short = attention_map(probs[..., :20, :20], 0, 0, tokens[:20]).axes[0]
    assert tick_texts(short.get_yticklabels()) == tokens[:20]  # 20 tokens: every one
