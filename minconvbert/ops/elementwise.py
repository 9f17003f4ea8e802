"""Elementwise operations with NumPy broadcasting: arithmetic, exp/log, activations, where, casts.

Binary operations sum their gradients back over broadcast axes (`unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from minconvbert.backend import active_kernels
from minconvbert.function import Function, unbroadcast


def require_float(name: str, *arrays) -> None:
    """Differentiable maths needs floating-point input; say so instead of failing inside NumPy."""
    for a in arrays:
        if a.dtype.kind != "f":
            raise TypeError(f"{name}: expected a floating-point tensor, got dtype {a.dtype} (use .astype(np.float32))")


def broadcast_error(name: str, a, b) -> ValueError:
    return ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together")


class Add(Function):
    """y = a + b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        try:
            return a + b
        except ValueError:
            raise broadcast_error("add", a, b) from None

    def backward(self, g):
        return unbroadcast(g, self.a_shape), unbroadcast(g, self.b_shape)


class Sub(Function):
    """y = a - b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        try:
            return a - b
        except ValueError:
            raise broadcast_error("sub", a, b) from None

    def backward(self, g):
        return unbroadcast(g, self.a_shape), unbroadcast(-g, self.b_shape)


class Mul(Function):
    """y = a * b; dy/da = b, dy/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return a * b
        except ValueError:
            raise broadcast_error("mul", a, b) from None

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        grad_a = unbroadcast(g * self.b, self.a.shape) if need_a else None
        grad_b = unbroadcast(g * self.a, self.b.shape) if need_b else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b; dy/da = 1/b, dy/db = -a/b^2."""

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return a / b
        except ValueError:
            raise broadcast_error("div", a, b) from None

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        grad_a = unbroadcast(g / self.b, self.a.shape) if need_a else None
        grad_b = unbroadcast(-g * self.a / (self.b * self.b), self.b.shape) if need_b else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Pow(Function):
    """y = x ** p for a constant p; dy/dx = p * x ** (p - 1)."""

    def forward(self, x, exponent):
        require_float("pow", x)
        self.x, self.p = x, exponent
        return x**exponent

    def backward(self, g):
        if self.p == 0:  # x ** 0 is constant; p * x ** -1 would give 0 * inf = nan at x = 0
            return (np.zeros_like(g),)
        return (g * self.p * self.x ** (self.p - 1),)


class Exp(Function):
    """y = e^x; dy/dx = y."""

    def forward(self, x):
        require_float("exp", x)
        self.y = np.exp(x)
        return self.y

    def backward(self, g):
        return (g * self.y,)


class Log(Function):
    """y = ln x; dy/dx = 1/x."""

    def forward(self, x):
        require_float("log", x)
        self.x = x
        return np.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1 / (2 y)."""

    def forward(self, x):
        require_float("sqrt", x)
        self.y = np.sqrt(x)
        return self.y

    def backward(self, g):
        return (g / (2.0 * self.y),)


class Tanh(Function):
    """y = tanh x; dy/dx = 1 - y^2."""

    def forward(self, x):
        require_float("tanh", x)
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return (g * (1.0 - self.y * self.y),)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x); dy/dx = y (1 - y)."""

    def forward(self, x):
        require_float("sigmoid", x)
        # exp of a non-positive number only, so large |x| cannot overflow
        e = np.exp(-np.abs(x))
        self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self.y

    def backward(self, g):
        return (g * self.y * (1.0 - self.y),)


class Relu(Function):
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        require_float("relu", x)
        self.positive = x > 0
        return np.where(self.positive, x, 0).astype(x.dtype, copy=False)

    def backward(self, g):
        return (g * self.positive,)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Selu(Function):
    """y = scale * (x if x > 0 else alpha * (e^x - 1)) (Klambauer et al. 2017)."""

    def forward(self, x):
        require_float("selu", x)
        self.x = x
        negative = SELU_ALPHA * np.expm1(np.minimum(x, 0))
        return (SELU_SCALE * np.where(x > 0, x, negative)).astype(x.dtype, copy=False)

    def backward(self, g):
        x = self.x
        slope = np.where(x > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(x, 0)))
        return ((g * slope).astype(x.dtype, copy=False),)


class Gelu(Function):
    """Exact GELU: y = x * Phi(x) (kernel: gelu_forward / gelu_backward)."""

    def forward(self, x):
        require_float("gelu", x)
        self.x = x
        return active_kernels().gelu_forward(x)

    def backward(self, g):
        return (active_kernels().gelu_backward(self.x, g),)


class GeluNew(Function):
    """Tanh-approximated GELU, "gelu_new" (kernel: gelu_new_forward / gelu_new_backward)."""

    def forward(self, x):
        require_float("gelu_new", x)
        self.x = x
        return active_kernels().gelu_new_forward(x)

    def backward(self, g):
        return (active_kernels().gelu_new_backward(self.x, g),)


class Where(Function):
    """y = a where condition else b (condition: a boolean array, not differentiated)."""

    def forward(self, a, b, condition):
        self.a_shape, self.b_shape, self.condition = a.shape, b.shape, condition
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise ValueError(
                f"where: condition {np.shape(condition)}, a {a.shape} and b {b.shape} cannot be broadcast together"
            ) from None

    def backward(self, g):
        zero = np.zeros((), dtype=g.dtype)
        return (
            unbroadcast(np.where(self.condition, g, zero), self.a_shape),
            unbroadcast(np.where(self.condition, zero, g), self.b_shape),
        )


class AsType(Function):
    """y = x converted to another float dtype; the gradient is converted back."""

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype),)

