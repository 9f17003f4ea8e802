"""Assignment A1: the backward pass of nine operations.

Each class below is a minconvbert `Function`: `forward(self, *arrays, **options)` is given (it
computes the output on NumPy arrays and saves on `self` what the backward needs); you write
`backward(self, grad_y)`, which receives dL/dy (an array shaped like the output) and returns a
tuple with one gradient per input, each shaped like that input (None for an input that needs no
gradient). Options that are not tensors (an axis, eps, integer targets) are keywords, never inputs.

Use them like the engine's own operations:

    from minconvbert.tensor import Tensor
    from minconvbert.testing import gradcheck
    x = Tensor(np.random.randn(3, 4), requires_grad=True)
    y = Tanh.apply(x)
    gradcheck(lambda x: Tanh.apply(x), [x])

Only NumPy and minconvbert's `Function` / `unbroadcast` are needed: write the maths yourself. The
file may import only the standard library, numpy, minconvbert.function, minconvbert.tensor and
minconvbert.testing (the engine's own operations are what it is graded against: a file importing
them is not graded). See README.md for the formulas and what is graded.
"""

import math

import numpy as np

from minconvbert.function import Function, unbroadcast


class Mul(Function):
    """y = a * b, with NumPy broadcasting: a and b may have different shapes."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad_y):
        """(dL/da, dL/db), summed back to the shapes of a and b (hint: unbroadcast)."""
        raise NotImplementedError("Mul.backward: write this part")


class Div(Function):
    """y = a / b, with NumPy broadcasting."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad_y):
        """(dL/da, dL/db), summed back to the shapes of a and b."""
        raise NotImplementedError("Div.backward: write this part")


class Tanh(Function):
    """y = tanh(x), elementwise."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_y):
        """(dL/dx,)."""
        raise NotImplementedError("Tanh.backward: write this part")


class MatMul(Function):
    """y = a @ b for a (..., n, k) and b (..., k, m): a batch of matrix products (at least 2-D each).

    The leading (batch) axes broadcast as in NumPy: a (2, 1, n, k) @ b (3, k, m) -> (2, 3, n, m).
    """

    def forward(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"MatMul: both operands need at least 2 dimensions, got {a.shape} and {b.shape}")
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad_y):
        """(dL/da, dL/db), with the shapes of a and b."""
        raise NotImplementedError("MatMul.backward: write this part")


class Sum(Function):
    """y = x summed over `axis` (None: every axis; an int or a tuple; negative axes allowed).

    With keepdims=True the summed axes stay as size 1, as in NumPy.
    """

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    def backward(self, grad_y):
        """(dL/dx,): every element of x gets the gradient of the sum it went into."""
        raise NotImplementedError("Sum.backward: write this part")


class Softmax(Function):
    """y = softmax(x) over the last axis: y_i = exp(x_i) / sum_j exp(x_j)."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self.y = e / e.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, grad_y):
        """(dL/dx,)."""
        raise NotImplementedError("Softmax.backward: write this part")


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis (N values).

    x (..., N), weight (N,), bias (N,); var is the biased variance (divided by N).
    """

    def forward(self, x, weight, bias, eps=1e-5):
        mean = x.mean(axis=-1, keepdims=True)
        self.rstd = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
        self.x_hat = (x - mean) * self.rstd  # (..., N)
        self.weight = weight
        return self.x_hat * weight + bias

    def backward(self, grad_y):
        """(dL/dx, dL/dweight, dL/dbias)."""
        raise NotImplementedError("LayerNorm.backward: write this part")


def normal_cdf(x):
    """Phi(x), the standard normal CDF, elementwise (exact, with math.erf)."""
    return 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64) / math.sqrt(2.0)))


def normal_pdf(x):
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi), the standard normal density, elementwise."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


class Gelu(Function):
    """The exact GELU: y = x * Phi(x), Phi the standard normal CDF (transformers' "gelu")."""

    def forward(self, x):
        self.x = x
        return (x * normal_cdf(x)).astype(x.dtype)

    def backward(self, grad_y):
        """(dL/dx,), in the dtype of x."""
        raise NotImplementedError("Gelu.backward: write this part")


class CrossEntropy(Function):
    """loss = mean over the rows i with targets[i] != ignore_index of -log softmax(logits[i])[targets[i]].

    logits (N, C) floats, the one input; targets (N,) integers and ignore_index are keywords, as every
    non-tensor argument of the engine: `CrossEntropy.apply(logits, targets=targets)`. The loss is a
    0-d array. When every target is ignored, the loss is nan (0 / 0), as in PyTorch.
    """

    def forward(self, logits, *, targets, ignore_index=-100):
        shifted = logits - logits.max(axis=1, keepdims=True)
        self.log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
        self.targets, self.keep = targets, targets != ignore_index  # (N,), (N,)
        self.count = int(self.keep.sum())
        picked = self.log_probs[np.arange(len(targets)), np.where(self.keep, targets, 0)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(-(picked * self.keep).sum() / self.count, dtype=logits.dtype)

    def backward(self, grad_y):
        """(dL/dlogits,): one gradient for the one input. All zeros when every target is ignored."""
        raise NotImplementedError("CrossEntropy.backward: write this part")
