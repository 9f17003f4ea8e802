"""The README's main job: the embedded nano ConvBERT fills in masked words and shows its heads.

1. load the nano checkpoint (trained by this project on Python's docstrings, shipped in the package);
2. fill the [MASK] of a few sentences, top-5 predictions each;
3. draw one layer's attention heads beside its dynamic-convolution heads to a PNG;
   the head explorer of that sentence (every layer, interactive) goes to an HTML page beside it;
4. gradient-check the engine on a tiny copy of the architecture (float64 finite differences).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SENTENCES = (
    "Return a [MASK] of the list.",
    "Raise a [MASK] if the file does not exist.",
    "The default value is [MASK].",
    "This function is deprecated and will be [MASK] in a future version.",
    "Return True if the string is a valid [MASK] name.",
)


def gradient_check_summary(out=print, seed: int = 0) -> bool:
    """Forward + backward through a micro ConvBertForMaskedLM in float64 and gradcheck every parameter."""
    from minconvbert import functional as F
    from minconvbert.models.convbert import ConvBertConfig, ConvBertForMaskedLM
    from minconvbert.tensor import Tensor
    from minconvbert.testing import gradcheck

    rng = np.random.default_rng(seed)
    results = {}
    checks = {
        "gelu": (lambda x: F.gelu(x), [(3, 5)]),
        "softmax + mask": (lambda x: F.softmax(x, mask=np.array([0.0, 0.0, -1e9, 0.0, 0.0])), [(3, 5)]),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, w, b, eps=1e-12), [(2, 3, 6), (6,), (6,)]),
        "span_conv": (lambda v, k: F.span_conv(v, k), [(2, 6, 2, 3), (2, 6, 2, 5)]),
        "depthwise_conv1d": (lambda x, w: F.depthwise_conv1d(x, w), [(2, 6, 4), (4, 3)]),
    }
    for name, (fn, shapes) in checks.items():
        inputs = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
        results[name] = gradcheck(fn, inputs, raise_exception=False)
    micro = ConvBertForMaskedLM(ConvBertConfig(vocab_size=12, hidden_size=8, num_hidden_layers=1,
                                               num_attention_heads=4, intermediate_size=8, embedding_size=4,
                                               max_position_embeddings=8, conv_kernel_size=3, pad_token_id=0),
                                rng=seed).to(np.float64).eval()
    ids, labels = np.array([[1, 5, 7, 2]]), np.array([[-100, 3, 9, -100]])
    params = list(micro.parameters())
    results[f"whole micro model ({sum(p.size for p in params)} parameters)"] = gradcheck(
        lambda *_: micro(input_ids=ids, labels=labels).loss, params, raise_exception=False)
    out("gradient checks (float64, central differences): " + ", ".join(
        f"{name} {'ok' if ok else 'FAILED'}" for name, ok in results.items()))
    return all(results.values())


def run_demo(model_name: str = "minconvbert/nano", figure: str = "convbert_heads.png", out=print,
             explorer_page=None) -> int:
    """The whole demo; returns 0 when every step worked. explorer_page: default, the figure's path with .html."""
    from minconvbert import viz
    from minconvbert.analysis import mean_attention_distance, mean_kernel_distance
    from minconvbert.inference import fill_mask
    from minconvbert.models.convbert import ConvBertForMaskedLM
    from minconvbert.tensor import no_grad
    from minconvbert.tokenizer import ConvBertTokenizerFast

    started = time.perf_counter()
    model = ConvBertForMaskedLM.from_pretrained(model_name)
    tokenizer = ConvBertTokenizerFast.from_pretrained(model_name)
    config = model.config
    out(f"{model_name}: ConvBertForMaskedLM, {model.num_parameters():,} parameters, {config.num_hidden_layers} "
        f"layers x ({config.heads_per_kind} attention + {config.heads_per_kind} convolution heads), "
        f"vocabulary {tokenizer.vocab_size}")
    for sentence in SENTENCES:
        predictions = fill_mask(model, tokenizer, sentence, top_k=5)[0]
        out(f"  {sentence}\n      -> " + ", ".join(f"{token} {p:.2f}" for token, p in predictions))

    text = "Return the number of items in the list, or zero if the list is empty."
    encoded = tokenizer(text, return_tensors="np")
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    with no_grad():
        outputs = model(input_ids=encoded["input_ids"], output_attentions=True, output_conv_kernels=True)
    layer = config.num_hidden_layers - 1
    viz.layer_overview(outputs, layer, tokens, gamma=0.5, path=figure,
                       title=f'{model_name}, layer {layer}: attention heads (top), convolution heads (bottom)\n'
                             f'on "{text}"')
    attention = mean_attention_distance(outputs.attentions)  # (L, H)
    convolution = mean_kernel_distance(outputs.conv_kernels)  # (L, H)
    out(f'heads of layer {layer} on "{text}" drawn to {figure}: attention heads look on average '
        f"{attention[layer].mean():.1f} tokens away, convolution heads {convolution[layer].mean():.1f} "
        f"(their span is +-{config.conv_kernel_size // 2})")
    explorer = viz.HeadExplorer.from_outputs(outputs, tokens, title=f"{model_name}: {text}")
    page = explorer.save(Path(figure).with_suffix(".html") if explorer_page is None else explorer_page)
    out(f"every head of every layer on that sentence, interactive: {page} (open it in a browser)")
    ok = gradient_check_summary(out)
    out(f"done in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1
