"""Linear's backward skips the all-zero rows of its output gradient (a loss scored on some positions
only): the gradients are those of the dense computation, and the dense path still runs when most
rows carry a gradient."""

import numpy as np
import pytest

import minconvbert as mc
from minconvbert import Tensor, functional as F
from minconvbert.ops import matmul


def scored_loss(x, w, b, scored):
    """sum over the scored rows of linear(x, w, b) * weights: the other rows' gradient is exactly zero."""
    y = F.linear(x, w, b)  # (B, T, out)
    weights = np.linspace(0.5, 1.5, y.shape[-1]) * scored[..., None]
    return (y * Tensor(weights.astype(y.dtype))).sum()


def leaves(rng, dtype, batch=(3, 5), inner=4, out=6):
    x = Tensor(rng.standard_normal(batch + (inner,)).astype(dtype), requires_grad=True)
    w = Tensor(rng.standard_normal((out, inner)).astype(dtype), requires_grad=True)
    b = Tensor(rng.standard_normal(out).astype(dtype), requires_grad=True)
    return x, w, b


@pytest.mark.parametrize("fraction, sparse", [(0.2, True), (0.0, True), (0.8, False)])
def test_gradients_equal_the_dense_path_and_the_skip_runs_only_when_most_rows_are_zero(monkeypatch, fraction,
                                                                                         sparse):
    monkeypatch.setattr(matmul, "PIECE", 1)  # check every product, even these small ones
    ran = []
    original = matmul._mostly_zero_rows
    monkeypatch.setattr(matmul, "_mostly_zero_rows", lambda *a: ran.append(original(*a)) or ran[-1])
    rng = np.random.default_rng(0)
    scored = (rng.random((3, 5)) < fraction).astype(np.float64)
    if fraction == 0.8:
        scored[:, :4] = 1.0  # at least 12 of 15 rows scored
    x, w, b = leaves(rng, np.float64)
    assert mc.gradcheck(lambda *t: scored_loss(*t, scored), [x, w, b])
    assert (ran[-1] is not None) == sparse
    got = [t.grad.copy() for t in (x, w, b)]
    monkeypatch.setattr(matmul, "_mostly_zero_rows", lambda *a: None)  # the dense path
    for t in (x, w, b):
        t.grad = None
    scored_loss(x, w, b, scored).backward()
    for g, t in zip(got, (x, w, b)):
        np.testing.assert_allclose(g, t.grad, rtol=1e-12, atol=1e-12)
        assert g.dtype == t.grad.dtype and g.shape == t.grad.shape


def test_a_masked_lm_step_sends_only_the_scored_rows_through_the_vocabulary_head(monkeypatch):
    """The MLM loss reads the labelled rows alone: the vocabulary head's backward gets an (M, vocab) gradient,
    never a (B*T, vocab) one that is zero on most rows, and every gradient equals that of cross-entropy over
    the full logits."""
    seen = []
    backward = matmul.Linear.backward
    monkeypatch.setattr(matmul.Linear, "backward", lambda self, g: seen.append(g.shape) or backward(self, g))
    config = mc.ConvBertConfig(vocab_size=4000, hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=128, embedding_size=64, max_position_embeddings=128)  # fmt: skip
    model = mc.ConvBertForMaskedLM(config, rng=0).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 4000, (4, 128))
    labels = np.where(rng.random((4, 128)) < 0.15, ids, -100)
    scored = np.flatnonzero(labels.reshape(-1) != -100)
    output = model(input_ids=ids, labels=labels)
    output.loss.backward()
    assert seen[0] == (len(scored), config.vocab_size)
    assert all(shape[-1] != config.vocab_size or shape[0] == len(scored) for shape in seen)
    got = {name: p.grad.copy() for name, p in model.named_parameters()}

    model.zero_grad()
    full = F.cross_entropy(model(input_ids=ids).logits.reshape(-1, config.vocab_size), labels.reshape(-1))
    np.testing.assert_allclose(output.loss.item(), full.item(), rtol=1e-6)
    full.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(got[name], p.grad, rtol=1e-4, atol=1e-7, err_msg=name)
