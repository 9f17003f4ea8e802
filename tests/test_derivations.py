"""docs/derivations.md stays true: each final formula, written exactly as on that page (plain NumPy,
independent of the package's kernels), equals a central finite difference of its forward in float64.

The forwards here are written from the definitions on the page too; the package's own kernels
are checked against finite differences elsewhere (tests/engine, tests/kernels).
"""

import math
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "derivations.md"
rng = np.random.default_rng(0)


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


def assert_vjp(formula, f, x, g, atol=1e-7):
    np.testing.assert_allclose(formula, numeric_vjp(f, x, g), atol=atol, rtol=1e-6)


def test_the_page_has_every_section():
    text = DOC.read_text()
    for title in ("## Softmax", "### Log-softmax", "## Cross-entropy", "## Layer normalisation", "### Exact",
                  "### Tanh approximation", "## Dynamic convolution", "## Separable convolution"):
        assert title in text


# ----- softmax, log-softmax, cross-entropy ------------------------------------------------------------------
def softmax(x, mask=0.0):
    z = x + mask
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_with_additive_mask():
    x, g = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    mask = np.array([0.0, 0.0, -1e9, 0.0, -1e9])
    y = softmax(x, mask)
    formula = y * (g - (g * y).sum(axis=-1, keepdims=True))  # y_j (g_j - <g, y>)
    assert_vjp(formula, lambda t: softmax(t, mask), x, g)
    assert np.all(formula[:, [2, 4]] == 0)  # dropped positions get no gradient


def test_log_softmax():
    x, g = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))

    def log_softmax(t):
        return t - np.log(np.exp(t).sum(axis=-1, keepdims=True))

    formula = g - np.exp(log_softmax(x)) * g.sum(axis=-1, keepdims=True)  # g_j - p_j sum_i g_i
    assert_vjp(formula, log_softmax, x, g)


def cross_entropy(z, t, ignore=-100):
    keep = t != ignore
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    with np.errstate(invalid="ignore"):
        return -(log_p[np.arange(len(t)), np.where(keep, t, 0)] * keep).sum() / keep.sum()


def test_cross_entropy_with_ignored_rows():
    z, t, g = rng.standard_normal((5, 4)), np.array([1, -100, 3, -100, 0]), 0.7
    keep = t != -100
    p = softmax(z)
    onehot = np.eye(4)[np.where(keep, t, 0)]
    formula = np.where(keep[:, None], g / keep.sum() * (p - onehot), 0.0)  # g / n_S (p - onehot) on kept rows
    assert_vjp(formula, lambda x: cross_entropy(x, t), z, g)


def test_cross_entropy_all_ignored_is_nan_with_no_gradient():
    z, t = rng.standard_normal((3, 4)), np.full(3, -100)
    assert np.isnan(cross_entropy(z, t))
    # nothing depends on the logits: the page says the gradient is zeros (the package returns zeros)
    import minconvbert
    from minconvbert import functional as F

    logits = minconvbert.Tensor(z, requires_grad=True)
    F.cross_entropy(logits, t).backward()
    assert np.array_equal(logits.grad, np.zeros_like(z))


def test_bce_with_logits():
    x, y, g = rng.standard_normal((2, 3)), rng.random((2, 3)), 1.3

    def bce(t):
        return np.mean(np.logaddexp(0, t) - t * y)  # softplus(x) - x y

    formula = g * (1 / (1 + np.exp(-x)) - y) / x.size
    assert_vjp(formula, bce, x, g)


# ----- layer norm -------------------------------------------------------------------------------------------
def layer_norm_parts(x, eps):
    mu = x.mean(-1, keepdims=True)
    r = 1 / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    return (x - mu) * r, r


@pytest.mark.parametrize("eps", [1e-12, 1e-5, 0.5])
def test_layer_norm(eps):
    x, w, b, g = (rng.standard_normal((2, 3, 6)), rng.standard_normal(6), rng.standard_normal(6),
                  rng.standard_normal((2, 3, 6)))
    x_hat, r = layer_norm_parts(x, eps)
    gt = g * w  # g~
    dx = r * (gt - gt.mean(-1, keepdims=True) - x_hat * (gt * x_hat).mean(-1, keepdims=True))
    assert_vjp(dx, lambda t: layer_norm_parts(t, eps)[0] * w + b, x, g, atol=1e-6)
    assert_vjp((g * x_hat).sum(axis=(0, 1)), lambda t: x_hat * t + b, w, g)
    assert_vjp(g.sum(axis=(0, 1)), lambda t: x_hat * w + t, b, g)
    np.testing.assert_allclose(dx.mean(-1), 0, atol=1e-12)  # always zero mean
    along = (dx * x_hat).sum(-1)
    if eps < 1e-10:
        np.testing.assert_allclose(along, 0, atol=1e-8)  # orthogonal to x_hat when eps is negligible
    elif eps >= 0.1:
        assert np.abs(along).max() > 1e-3  # ... but not with a large eps


# ----- GELU ----------------------------------------------------------------------------------------------
PHI = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))


def test_gelu_exact():
    x, g = np.linspace(-6, 6, 13), rng.standard_normal(13)
    phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    assert_vjp(g * (PHI(x) + x * phi), lambda t: t * PHI(t), x, g)


def test_gelu_tanh():
    x, g, c = np.linspace(-6, 6, 13), rng.standard_normal(13), 0.044715

    def gelu_new(t):
        return 0.5 * t * (1 + np.tanh(math.sqrt(2 / math.pi) * (t + c * t**3)))

    t = np.tanh(math.sqrt(2 / math.pi) * (x + c * x**3))
    formula = g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * c * x * x))
    assert_vjp(formula, gelu_new, x, g)


# ----- the two convolutions ------------------------------------------------------------------------------
def span_conv(V, W):
    """out[t, d] = sum_k W[t, k] V[t + k - P, d] for one sequence and head."""
    T, K = W.shape
    P = (K - 1) // 2
    out = np.zeros_like(V)
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                out[t] += W[t, k] * V[t + k - P]
    return out


@pytest.mark.parametrize("T, K", [(7, 5), (2, 7), (5, 1)])
def test_span_conv(T, K):
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
    assert_vjp(dW, lambda w: span_conv(V, w), W, G)
    assert_vjp(dV, lambda v: span_conv(v, W), V, G)
    # the matrix view: M[t, t + k - P] = W[t, k]; out = M V, dV = M^T G, dW[t, k] = (G V^T)[t, t + k - P]
    M = np.zeros((T, T))
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                M[t, t + k - P] = W[t, k]
    np.testing.assert_allclose(M @ V, span_conv(V, W), atol=1e-12)
    np.testing.assert_allclose(M.T @ G, dV, atol=1e-12)
    GV = G @ V.T
    banded = np.array([[GV[t, t + k - P] if 0 <= t + k - P < T else 0.0 for k in range(K)] for t in range(T)])
    np.testing.assert_allclose(banded, dW, atol=1e-12)


def depthwise(x, W):
    """m[b, t, c] = sum_k W[c, k] x[b, t + k - P, c], P = K // 2."""
    B, T, C = x.shape
    K = W.shape[1]
    P = K // 2
    m = np.zeros_like(x)
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                m[:, t] += W[:, k] * x[:, t + k - P]
    return m


def test_separable_convolution():
    B, T, C, O, K = 2, 6, 3, 4, 3
    P = K // 2
    x, W, A, beta = (rng.standard_normal((B, T, C)), rng.standard_normal((C, K)), rng.standard_normal((O, C)),
                     rng.standard_normal(O))
    G = rng.standard_normal((B, T, O))

    def separable(x_, W_=W, A_=A, beta_=beta):
        return depthwise(x_, W_) @ A_.T + beta_

    m = depthwise(x, W)
    H = G @ A  # dm = G A
    assert_vjp(H, lambda m_: m_ @ A.T + beta, m, G)
    assert_vjp(np.einsum("bto,btc->oc", G, m), lambda a: separable(x, A_=a), A, G)  # dA = G^T m
    assert_vjp(G.sum(axis=(0, 1)), lambda b: separable(x, beta_=b), beta, G)
    dW = np.zeros((C, K))
    dx = np.zeros_like(x)
    for k in range(K):
        for t in range(T):
            if 0 <= t + k - P < T:
                dW[:, k] += (H[:, t] * x[:, t + k - P]).sum(axis=0)
        for s in range(T):
            if 0 <= s - k + P < T:
                dx[:, s] += W[:, k] * H[:, s - k + P]
    assert_vjp(dW, lambda w: separable(x, W_=w), W, G)
    assert_vjp(dx, separable, x, G)
    # the input gradient is the depthwise operation with the kernel reversed
    np.testing.assert_allclose(depthwise(H, W[:, ::-1]), dx, atol=1e-12)
