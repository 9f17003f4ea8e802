"""The mixed attention block as a diagram: the query feeding both branches, key-conv times query,
the kernels, the span convolution, and the concatenation.

    mixed_attention_diagram(config)   # shapes from a ConvBertConfig, or symbols (B, T, C, H, D, K) without one
"""

from __future__ import annotations

from minconvbert.viz.common import finish, new_figure

__all__ = ["mixed_attention_diagram", "BRANCH_COLORS"]

BRANCH_COLORS = {"input": "#e6e6e6", "attention": "#c6dbef", "conv": "#fdd0a2", "both": "#dadaeb", "output": "#c7e9c0"}


def _sizes(config) -> dict:
    if config is None:
        return {"C": "C", "HD": "HD", "H": "H", "D": "D", "K": "K", "HK": "HK"}
    H, D, K = config.heads_per_kind, config.attention_head_size, config.conv_kernel_size
    return {"C": str(config.hidden_size), "HD": str(H * D), "H": str(H), "D": str(D), "K": str(K), "HK": str(H * K)}


def mixed_attention_diagram(config=None, *, figsize=(13, 6.2), dpi: float = 100, title=None, path=None):
    """Draw ConvBertSelfAttention: the layer input x feeds the query (both branches), the attention
    branch (key, value, softmax(Q K^T / sqrt(D) + mask), probs @ V) and the convolution branch
    (key_conv_attn_layer, key_conv * query, conv_kernel_layer, softmax over the K taps, conv_out_layer,
    span_conv); the H attention heads and the H convolution heads are concatenated to C features.

    config: a ConvBertConfig whose sizes label the arrows (default: the symbols). Colours: blue the
    attention branch, orange the convolution branch, purple the query that both use. Returns the Figure.
    """
    n = _sizes(config)
    fig = new_figure(figsize, dpi)
    ax = fig.add_subplot()
    boxes = {}

    def box(name, x, y, text, kind):
        boxes[name] = ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3,
                              bbox=dict(boxstyle="round,pad=0.45", facecolor=BRANCH_COLORS[kind], edgecolor="black",
                                        linewidth=0.8))

    def arrow(a, b, label=None, offset=(0.0, 0.12)):
        start, end = boxes[a].get_position(), boxes[b].get_position()
        ax.annotate("", xy=end, xytext=start, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color="black", linewidth=0.9, shrinkA=2, shrinkB=2,
                                    patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch()))
        if label:
            ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], label, ha="center",
                    va="bottom", fontsize=7, color="#404040", zorder=4)

    box("x", 0, 2.3, f"x\n(B, T, {n['C']})", "input")
    box("key", 2, 4.6, "key\nLinear", "attention")
    box("value", 2, 3.7, "value\nLinear", "attention")
    box("query", 2, 2.5, "query\nLinear", "both")
    box("key_conv", 2.3, 1.25, "key_conv_attn_layer\nSeparableConv1D\n(depthwise K taps,\nthen pointwise)", "conv")
    box("conv_out", 2, -0.3, "conv_out_layer\nLinear", "conv")
    box("scores", 4.6, 4.3, "scores = Q K\u1d40 / \u221aD + mask\nsoftmax over the keys\nprobs (B, H, T, T)", "attention")
    box("context", 7.2, 4.0, f"context = probs @ V\n{n['H']} attention heads\n(B, T, {n['H']}, {n['D']})", "attention")
    box("product", 4.6, 1.6, "key_conv \u2299 query\n(elementwise)", "conv")
    box("kernels", 6.6, 1.6, f"conv_kernel_layer\nLinear \u2192 {n['HK']}\nsoftmax over {n['K']} taps\n"
        f"kernels (B, T, {n['H']}, {n['K']})", "conv")
    box("span", 8.6, 0.6, f"span_conv\nout[t] = \u03a3\u2096 kernel[t, k] V'[t + k - P]\n{n['H']} conv heads\n"
        f"(B, T, {n['H']}, {n['D']})", "conv")
    box("concat", 10.6, 2.5, f"concatenate\nattention heads,\nthen conv heads\n(B, T, {n['C']})", "output")
    box("output", 12.4, 2.5, "dense\n+ residual\nLayerNorm", "output")

    hd = f"(B, T, {n['HD']})"
    arrow("x", "key")
    arrow("x", "value")
    arrow("x", "query")
    arrow("x", "key_conv")
    arrow("x", "conv_out")
    arrow("key", "scores", "K", offset=(0.0, 0.05))
    arrow("query", "scores", "Q", offset=(-0.3, 0.0))
    arrow("scores", "context")
    arrow("value", "context", "V", offset=(0.0, -0.35))
    arrow("query", "product", "Q", offset=(-0.25, 0.0))
    arrow("key_conv", "product", hd, offset=(0.0, -0.25))
    arrow("product", "kernels")
    arrow("kernels", "span", "kernels")
    arrow("conv_out", "span", f"V' {hd}", offset=(0.0, -0.3))
    arrow("context", "concat")
    arrow("span", "concat")
    arrow("concat", "output")
    ax.text(4.6, 5.35, "attention branch: global, O(T\u00b2)", ha="center", fontsize=9, color="#08519c")
    ax.text(6.6, -0.95, "convolution branch: each position mixes its K neighbours with its own kernel",
            ha="center", fontsize=9, color="#a63603")
    ax.set_xlim(-0.9, 13.2)
    ax.set_ylim(-1.2, 5.7)
    ax.axis("off")
    ax.set_title(title if title is not None else "ConvBERT's mixed attention block (ConvBertSelfAttention): "
                 "the query feeds both branches")
    return finish(fig, path)
