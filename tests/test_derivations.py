"""docs/derivations.md stays true: each final formula, written as on that page, equals both a central
finite difference (float64) of the package's forward and the package's own backward.

The forwards are minconvbert's (minconvbert.functional), not a second copy typed here; the formulas are
the page's. Each test draws its inputs from its own seeded generator (the `rng` fixture), so a value
does not depend on which tests ran before it.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from minconvbert import functional as F
from minconvbert.tensor import Tensor, no_grad

DOC = Path(__file__).resolve().parents[1] / "docs" / "derivations.md"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def numeric_vjp(f, x, g, eps=1e-6):
    """d/dx of sum(f(x) * g), element by element (central differences)."""
    x = x.astype(np.float64).copy()
    out = np.zeros_like(x)
    flat, grad = x.reshape(-1), out.reshape(-1)
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        plus = np.sum(f(x) * g)
        flat[j] = keep - eps
        minus = np.sum(f(x) * g)
        flat[j] = keep
        grad[j] = (plus - minus) / (2 * eps)
    return out


def forward(fn, *inputs):
    """fn (a function of Tensors) on NumPy float64 inputs, as a NumPy array."""
    with no_grad():
        return fn(*[Tensor(np.asarray(a, dtype=np.float64)) for a in inputs]).data


def assert_vjp(formula, fn, inputs, wrt, g, atol=1e-7):
    """`formula` is the gradient of sum(fn(*inputs) * g) with respect to inputs[wrt]: as a central difference of
    the package's forward, and as the package's backward computes it."""

    def f(x):
        return forward(fn, *inputs[:wrt], x, *inputs[wrt + 1:])

    np.testing.assert_allclose(formula, numeric_vjp(f, inputs[wrt], g), atol=atol, rtol=1e-6)
    tensors = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out = fn(*tensors)
    out.backward(np.broadcast_to(np.asarray(g, dtype=np.float64), out.shape).copy())
    np.testing.assert_allclose(formula, tensors[wrt].grad, atol=atol, rtol=1e-6)


def test_the_page_has_every_section():
    text = DOC.read_text()
    for title in ("## Softmax", "### Log-softmax", "## Cross-entropy", "## Layer normalisation", "### Exact",
                  "### Tanh approximation", "## Dynamic convolution", "## Separable convolution"):
        assert title in text


# ----- softmax, log-softmax, cross-entropy ------------------------------------------------------------------
def test_softmax_with_additive_mask(rng):
    x, g = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    mask = np.array([0.0, 0.0, -1e9, 0.0, -1e9])

    def softmax(t):
        return F.softmax(t, -1, mask=mask)

    y = forward(softmax, x)
    formula = y * (g - (g * y).sum(axis=-1, keepdims=True))  # y_j (g_j - <g, y>)
    assert_vjp(formula, softmax, [x], 0, g)
    assert np.all(formula[:, [2, 4]] == 0)  # dropped positions get no gradient


def test_log_softmax(rng):
    x, g = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    formula = g - np.exp(forward(F.log_softmax, x)) * g.sum(axis=-1, keepdims=True)  # g_j - p_j sum_i g_i
    assert_vjp(formula, F.log_softmax, [x], 0, g)


def test_cross_entropy_with_ignored_rows(rng):
    z, t, g = rng.standard_normal((5, 4)), np.array([1, -100, 3, -100, 0]), 0.7
    keep = t != -100
    p = forward(F.softmax, z)
    onehot = np.eye(4)[np.where(keep, t, 0)]
    formula = np.where(keep[:, None], g / keep.sum() * (p - onehot), 0.0)  # g / n_S (p - onehot) on kept rows
    assert_vjp(formula, lambda x: F.cross_entropy(x, t), [z], 0, g)


def test_cross_entropy_all_ignored_is_nan_with_no_gradient(rng):
    z, t = rng.standard_normal((3, 4)), np.full(3, -100)
    assert np.isnan(forward(lambda x: F.cross_entropy(x, t), z))
    # nothing depends on the logits: the page says the gradient is zeros
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, t).backward()
    assert np.array_equal(logits.grad, np.zeros_like(z))


def test_bce_with_logits(rng):
    x, y, g = rng.standard_normal((2, 3)), rng.random((2, 3)), 1.3
    formula = g * (1 / (1 + np.exp(-x)) - y) / x.size  # g (sigmoid(x) - y) / n
    assert_vjp(formula, lambda t: F.binary_cross_entropy_with_logits(t, y), [x], 0, g)


# ----- layer norm -------------------------------------------------------------------------------------------
def layer_norm_parts(x, eps):
    """The page's x_hat = (x - mu) r and r = 1 / sqrt(var + eps), over the last axis."""
    mu = x.mean(-1, keepdims=True)
    r = 1 / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    return (x - mu) * r, r


@pytest.mark.parametrize("eps", [1e-12, 1e-5, 0.5])
def test_layer_norm(eps, rng):
    x, w, b, g = (rng.standard_normal((2, 3, 6)), rng.standard_normal(6), rng.standard_normal(6),
                  rng.standard_normal((2, 3, 6)))

    def layer_norm(x_, w_, b_):
        return F.layer_norm(x_, w_, b_, eps=eps)

    x_hat, r = layer_norm_parts(x, eps)
    gt = g * w  # g~
    dx = r * (gt - gt.mean(-1, keepdims=True) - x_hat * (gt * x_hat).mean(-1, keepdims=True))
    assert_vjp(dx, layer_norm, [x, w, b], 0, g, atol=1e-6)
    assert_vjp((g * x_hat).sum(axis=(0, 1)), layer_norm, [x, w, b], 1, g)
    assert_vjp(g.sum(axis=(0, 1)), layer_norm, [x, w, b], 2, g)
    np.testing.assert_allclose(dx.mean(-1), 0, atol=1e-12)  # always zero mean
    along = (dx * x_hat).sum(-1)
    if eps < 1e-10:
        np.testing.assert_allclose(along, 0, atol=1e-8)  # orthogonal to x_hat when eps is negligible
    elif eps >= 0.1:
        assert np.abs(along).max() > 1e-3  # ... but not with a large eps


# ----- GELU ----------------------------------------------------------------------------------------------
PHI = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))


def test_gelu_exact(rng):
    x, g = np.linspace(-6, 6, 13), rng.standard_normal(13)
    phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    assert_vjp(g * (PHI(x) + x * phi), F.gelu, [x], 0, g)  # g (Phi(x) + x phi(x))


def test_gelu_tanh(rng):
    x, g, c = np.linspace(-6, 6, 13), rng.standard_normal(13), 0.044715
    t = np.tanh(math.sqrt(2 / math.pi) * (x + c * x**3))
    formula = g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * c * x * x))
    assert_vjp(formula, F.gelu_new, [x], 0, g)


# ----- the two convolutions ------------------------------------------------------------------------------
def span_conv(V, W):
    """out[t, d] = sum_k W[t, k] V[t + k - P, d] for one sequence and head: V (T, D), W (T, K) -> (T, D)."""
    return F.span_conv(F.reshape(V, (1, V.shape[0], 1, V.shape[1])),
                       F.reshape(W, (1, W.shape[0], 1, W.shape[1]))).reshape(V.shape)


@pytest.mark.parametrize("T, K", [(7, 5), (2, 7), (5, 1)])
def test_span_conv(T, K, rng):
    D, P = 3, (K - 1) // 2
    V, W, G = rng.standard_normal((T, D)), rng.standard_normal((T, K)), rng.standard_normal((T, D))
    dW = np.zeros((T, K))
    dV = np.zeros((T, D))
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                dW[t, k] = G[t] @ V[t + k - P]
    for s in range(T):
        for k in range(K):
            if 0 <= s - k + P < T:
                dV[s] += W[s - k + P, k] * G[s - k + P]
    assert_vjp(dW, span_conv, [V, W], 1, G)
    assert_vjp(dV, span_conv, [V, W], 0, G)
    # the matrix view: M[t, t + k - P] = W[t, k]; out = M V, dV = M^T G, dW[t, k] = (G V^T)[t, t + k - P]
    M = np.zeros((T, T))
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                M[t, t + k - P] = W[t, k]
    np.testing.assert_allclose(M @ V, forward(span_conv, V, W), atol=1e-12)
    np.testing.assert_allclose(M.T @ G, dV, atol=1e-12)
    GV = G @ V.T
    banded = np.array([[GV[t, t + k - P] if 0 <= t + k - P < T else 0.0 for k in range(K)] for t in range(T)])
    np.testing.assert_allclose(banded, dW, atol=1e-12)


def test_separable_convolution(rng):
    B, T, C, O, K = 2, 6, 3, 4, 3
    P = K // 2  # m[b, t, c] = sum_k W[c, k] x[b, t + k - P, c]; out = m A^T + beta
    x, W, A, beta = (rng.standard_normal((B, T, C)), rng.standard_normal((C, K)), rng.standard_normal((O, C)),
                     rng.standard_normal(O))
    G = rng.standard_normal((B, T, O))

    def separable(x_, W_, A_, beta_):
        return F.linear(F.depthwise_conv1d(x_, W_), A_, beta_)

    inputs = [x, W, A, beta]
    m = forward(F.depthwise_conv1d, x, W)
    H = G @ A  # dm = G A
    assert_vjp(H, F.linear, [m, A, beta], 0, G)
    assert_vjp(np.einsum("bto,btc->oc", G, m), separable, inputs, 2, G)  # dA = G^T m
    assert_vjp(G.sum(axis=(0, 1)), separable, inputs, 3, G)
    dW = np.zeros((C, K))
    dx = np.zeros_like(x)
    for k in range(K):
        for t in range(T):
            if 0 <= t + k - P < T:
                dW[:, k] += (H[:, t] * x[:, t + k - P]).sum(axis=0)
        for s in range(T):
            if 0 <= s - k + P < T:
                dx[:, s] += W[:, k] * H[:, s - k + P]
    assert_vjp(dW, separable, inputs, 1, G)
    assert_vjp(dx, separable, inputs, 0, G)
    # the input gradient is the depthwise operation with the kernel reversed
    np.testing.assert_allclose(forward(F.depthwise_conv1d, H, W[:, ::-1].copy()), dx, atol=1e-12)
