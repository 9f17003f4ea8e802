"""The README's demo: build a tiny ConvBERT, run a forward and a backward pass, check gradients."""

from __future__ import annotations

import time

import numpy as np

from minconvbert import functional as F
from minconvbert.models.convbert import ConvBertConfig, ConvBertForMaskedLM
from minconvbert.tensor import Tensor
from minconvbert.testing import gradcheck


def run_engine_demo(seed: int = 0, out=print) -> None:
    """Forward + backward through a tiny ConvBertForMaskedLM, then float64 gradient checks."""
    rng = np.random.default_rng(seed)
    config = ConvBertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, embedding_size=16, max_position_embeddings=64, pad_token_id=0)
    model = ConvBertForMaskedLM(config, rng=seed).eval()
    ids = rng.integers(1, 100, (2, 12))
    labels = np.where(rng.random((2, 12)) < 0.3, ids, -100)
    start = time.perf_counter()
    out_ = model(input_ids=ids, labels=labels, output_attentions=True, output_conv_kernels=True)
    out_.loss.backward()
    elapsed = time.perf_counter() - start
    out(f"tiny ConvBertForMaskedLM: {model.num_parameters():,} parameters, "
        f"{config.attention_heads} attention + {config.conv_heads} convolution heads per layer")
    out(f"  forward + backward on input_ids {ids.shape}: loss {out_.loss.item():.4f} in {elapsed * 1000:.1f} ms")
    out(f"  attentions[0] {out_.attentions[0].shape}, conv_kernels[0] {out_.conv_kernels[0].shape}")
    norms = sorted(((float(np.linalg.norm(p.grad)), name) for name, p in model.named_parameters()), reverse=True)
    for norm, name in norms[:3]:
        out(f"  |grad| {norm:.3e}  {name}")

    out("gradient checks (float64, central differences):")
    checks = {
        "gelu": (lambda x: F.gelu(x), [(3, 5)]),
        "softmax + mask": (lambda x: F.softmax(x, mask=np.array([0.0, 0.0, -1e9, 0.0, 0.0])), [(3, 5)]),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, w, b, eps=1e-12), [(2, 3, 6), (6,), (6,)]),
        "span_conv": (lambda v, k: F.span_conv(v, k), [(2, 6, 2, 3), (2, 6, 2, 5)]),
        "depthwise_conv1d": (lambda x, w: F.depthwise_conv1d(x, w), [(2, 6, 4), (4, 3)]),
    }
    for name, (fn, shapes) in checks.items():
        inputs = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
        ok = gradcheck(fn, inputs, raise_exception=False)
        out(f"  {name:<18} {'ok' if ok else 'FAILED'}")
    micro = ConvBertForMaskedLM(ConvBertConfig(vocab_size=12, hidden_size=8, num_hidden_layers=1,
                                               num_attention_heads=4, intermediate_size=8, embedding_size=4,
                                               max_position_embeddings=8, conv_kernel_size=3, pad_token_id=0),
                                rng=seed).to(np.float64).eval()
    micro_ids, micro_labels = np.array([[1, 5, 7, 2]]), np.array([[-100, 3, 9, -100]])
    params = list(micro.parameters())
    ok = gradcheck(lambda *_: micro(input_ids=micro_ids, labels=micro_labels).loss, params, raise_exception=False)
    count = sum(p.size for p in params)
    out(f"  {'whole micro model':<18} {'ok' if ok else 'FAILED'} ({count} parameters checked)")
