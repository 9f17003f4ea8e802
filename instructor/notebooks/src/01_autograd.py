# Source of notebooks/01_autograd.ipynb and instructor/notebooks/01_autograd.ipynb
# (build both with: python scripts/build_notebooks.py).
# (build both with: python scripts/build_notebooks.py).

# %% [markdown]
# # 1. Autograd from scratch
#
# Every number a neural network computes is the end of a chain of small operations. Training needs
# the derivative of the loss with respect to every weight, and *reverse-mode automatic
# differentiation* gets all of them for about the cost of one more forward pass: record the
# operations while computing, then walk the record backwards, applying the chain rule once per
# operation.
#
# In this notebook you will
#
# 1. write a reverse-mode engine for single numbers in 30 lines;
# 2. see the same idea in minconvbert's `Tensor`, on NumPy arrays: the graph, `backward()`, and
#    how gradients are summed when a value is used twice;
# 3. learn how **broadcasting** shapes gradients, and write `unbroadcast`, which sums a gradient back
#    to its input's shape (the bias of a linear layer is the first place you need it);
# 4. write a differentiable operation of your own (a `Function` with `forward` and `backward`);
# 5. check gradients with finite differences (`gradcheck`), and understand its tolerances;
# 6. derive layer normalisation's backward, and watch `gradcheck` catch a real-looking bug in it
#    that a simpler test misses;
# 7. gradient-check every parameter of a tiny ConvBERT at once.
#
# **Exercises.** Six cells ask you to complete a piece of code (they raise `NotImplementedError`
# until you do). The cell after each checks your answer and says exactly what is wrong: the shape,
# which elements, a constant factor. Until an exercise is done the notebook still runs to the end,
# on the expected answer.
#
# Runs on a laptop CPU in well under a minute. Optional: PyTorch, for one extra comparison.

# %%
# Setup: import minconvbert, whether it is installed (pip install -e .) or not (run from inside a clone).
# %matplotlib inline
import sys
from pathlib import Path

try:
    import minconvbert
except ImportError:  # not installed: use the clone this notebook lives in
    sys.path.insert(0, str(next(p for p in Path.cwd().resolve().parents if (p / "minconvbert").is_dir())))
    import minconvbert

import math

import matplotlib.pyplot as plt
import numpy as np

from minconvbert import Tensor, functional as F, gradcheck, viz
from minconvbert.exercises import check, exercise, summary

print("minconvbert", minconvbert.__version__, "| numpy", np.__version__)

# %% [markdown]
# ## 1. A reverse-mode engine for single numbers
#
# Take $L = \tanh(w x + b)$. The chain rule says
# $\frac{\partial L}{\partial w} = \frac{\partial L}{\partial z}\frac{\partial z}{\partial w}$
# with $z = wx + b$: the derivative of the output with respect to an intermediate value ($z$),
# times the *local* derivative of that value with respect to its input. Reverse mode computes the
# first factor for every intermediate value, starting from $\partial L / \partial L = 1$ at the end
# and moving towards the inputs.
#
# So each value needs to remember which values it was made from (its *parents*) and the local
# derivative with respect to each. That record is the **computation graph**.

# %%
class Scalar:
    """A number that remembers its parents and the local derivative with respect to each."""

    def __init__(self, value, parents=(), local_grads=(), op=""):
        self.value = float(value)
        self.parents = parents  # the Scalars this one was computed from
        self.local_grads = local_grads  # d(self)/d(parent), one per parent, known at forward time
        self.op = op
        self.grad = 0.0  # dL/d(self), filled in by backward()

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value + other.value, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.value * other.value, (self, other), (other.value, self.value), "*")

    def tanh(self):
        t = math.tanh(self.value)
        return Scalar(t, (self,), (1.0 - t * t,), "tanh")

    def backward(self):
        # 1. order the graph so that every value comes after the values it was made from
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
        # 2. walk it backwards: when a node is reached, all its uses have sent their share of dL/d(node)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad  # chain rule; += because a parent may have several uses

    def __repr__(self):
        return f"Scalar({self.value:.4f}, grad={self.grad:.4f})"


w, x, b = Scalar(0.5), Scalar(-1.5), Scalar(0.2)
L = (w * x + b).tanh()
L.backward()
print("L =", L)
print("dL/dw =", w.grad, " expected (1 - L^2) * x =", (1 - L.value**2) * x.value)
print("dL/dx =", x.grad, " expected (1 - L^2) * w =", (1 - L.value**2) * w.value)
print("dL/db =", b.grad, " expected (1 - L^2)     =", 1 - L.value**2)

# %% [markdown]
# Two details matter already.
#
# * **The order.** A node may pass its gradient on only once it is *complete*, that is once every
#   node that used it has contributed. Visiting the nodes in reverse *topological* order (each node
#   after everything computed from it) guarantees this.
# * **Accumulation.** In $y = x \cdot x + x$, the value $x$ is used three times; its gradient is
#   the sum of the three contributions, $2x + 1$. That is the `+=` above.

# %%
x = Scalar(3.0)
y = x * x + x
y.backward()
print("dy/dx =", x.grad, "expected 2x + 1 =", 2 * 3.0 + 1)

# %% [markdown]
# **Exercise 1.1.** Give `Scalar` a sigmoid, $\sigma(v) = 1 / (1 + e^{-v})$: a new `Scalar` whose
# only parent is `s`, with the local derivative $d\sigma/dv$ (write it in terms of $\sigma$ itself:
# differentiate $(1 + e^{-v})^{-1}$). `backward()` needs nothing else.

# %%
def scalar_sigmoid(s):
    """sigma(s) as a Scalar whose parent is s, with the local derivative d sigma / d s."""
    # BEGIN SOLUTION
    value = 1.0 / (1.0 + math.exp(-s.value))
    return Scalar(value, (s,), (value * (1.0 - value),), "sigmoid")
    # END SOLUTION


# %%
def sigmoid_gradients():
    """(L, dL/dw, dL/dx, dL/db) for L = sigmoid(w x + b), through your scalar_sigmoid."""
    w, x, b = Scalar(0.5), Scalar(-1.5), Scalar(0.2)
    L = scalar_sigmoid(w * x + b)
    L.backward()
    return np.array([L.value, w.grad, x.grad, b.grad])


def sigmoid_at(w, x, b):
    return 1 / (1 + math.exp(-(w * x + b)))


h = 1e-6  # the expected values by central differences (section 5 explains why they are this accurate)
point = np.array([0.5, -1.5, 0.2])
numeric = [(sigmoid_at(*(point + h * e)) - sigmoid_at(*(point - h * e))) / (2 * h) for e in np.eye(3)]
exercise("1.1", "scalar_sigmoid", sigmoid_gradients, expected=np.array([sigmoid_at(*point), *numeric]), rtol=1e-6,
         atol=1e-9);

# %% [markdown]
# ## 2. The same idea on arrays: `minconvbert.Tensor`
#
# minconvbert does exactly this, with three changes:
#
# * values are NumPy arrays, so an operation's "local derivative" is not a number but a rule that
#   turns the gradient of its output into the gradient of each input (for `y = x @ W.T`,
#   `grad_x = grad_y @ W`): this rule is the operation's **backward**;
# * each operation is a `Function` subclass (in `minconvbert/ops/`) with a `forward` and a
#   `backward` on arrays; the graph node of a tensor, `tensor._ctx`, *is* the Function instance that
#   made it, holding its inputs (`parents`) and whatever `forward` saved for `backward`;
# * the graph is sorted without recursion (a 12-layer model's graph is deeper than Python's
#   recursion limit).
#
# A small two-layer computation:

# %%
rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)  # (N, in): a NumPy float64 array keeps its dtype
W = Tensor(rng.standard_normal((2, 3)), requires_grad=True)  # (out, in), PyTorch's layout
b = Tensor(np.zeros(2), requires_grad=True)  # (out,)

z = F.linear(x, W, b)  # (4, 2) = x @ W.T + b
h = z.tanh()  # (4, 2)
loss = (h * h).mean()  # ()
print(loss)
print("loss._ctx is a", type(loss._ctx).__name__, "node; its parents have shapes",
      [p.shape for p in loss._ctx.parents])
print("x is a leaf:", x.is_leaf, "| h is a leaf:", h.is_leaf)

# %% [markdown]
# `viz.autograd_graph` draws the recorded graph: tensors as boxes (leaves you created, parameters,
# intermediate results, the output), operations named by their `Function` class, arrows from inputs
# to outputs. Note `h` feeding `Mul` twice (`h * h`): its gradient will be the sum of both uses.

# %%
viz.autograd_graph(loss, names={"x": x, "W": W, "b": b, "z": z, "h": h, "loss": loss}, figsize=(9, 3.2))

# %% [markdown]
# `loss.backward()` sorts the graph (the order it will visit is printed below, output first), seeds
# $\partial L/\partial L = 1$, and calls each node's `backward` once. Leaves accumulate into `.grad`.

# %%
from minconvbert.tensor import _topological_order  # internal: shown here only to see the order

names = {id(x): "x", id(W): "W", id(b): "b", id(z): "z", id(h): "h", id(loss): "loss"}
print(" -> ".join(names.get(id(t), type(t._ctx).__name__) for t in reversed(_topological_order(loss))))
loss.backward()
print("dL/dW =\n", W.grad)

# %% [markdown]
# **Exercise 1.2.** Derive these gradients by hand and compute them in NumPy. With $n = 8$
# elements, $L = \frac1n\sum h^2$, $h = \tanh z$, $z = x W^\top + b$: go backwards one step at a
# time, $\partial L/\partial h$, then $\partial L/\partial z$ (the derivative of $\tanh$ is
# $1 - \tanh^2$), then the three leaves. Each gradient has the shape of its tensor: `W` is
# $(2, 3)$, `b` is $(2,)$, `x` is $(4, 3)$.

# %%
def hand_gradients(x, W, b):
    """(dL/dW, dL/db, dL/dx) for L = mean(tanh(x @ W.T + b) ** 2), in NumPy; x (4, 3), W (2, 3), b (2,)."""
    # BEGIN SOLUTION
    h = np.tanh(x @ W.T + b)  # (4, 2)
    g_z = 2 * h / h.size * (1 - h**2)  # (4, 2): dL/dz
    return g_z.T @ x, g_z.sum(axis=0), g_z @ W
    # END SOLUTION


# %%
exercise("1.2", "hand_gradients", lambda: hand_gradients(x.data, W.data, b.data), expected=(W.grad, b.grad, x.grad),
         mistakes={"the 1/n of the mean is missing (a factor n = 8)": lambda: (8 * W.grad, 8 * b.grad, 8 * x.grad)});

# %% [markdown]
# After `backward()` each node frees what it saved (memory comes back as soon as possible), so a
# second `backward()` through the same graph is an error, with a message saying what to do.
# Gradients of leaves *accumulate* across calls, as in PyTorch, until you reset them.

# %%
try:
    loss.backward()
except RuntimeError as error:
    print("RuntimeError:", error)

before = W.grad.copy()
loss2 = (F.linear(x, W, b).tanh() ** 2).mean()  # the same computation, a fresh graph
loss2.backward()
check(np.allclose(W.grad, 2 * before), "a second backward adds to W.grad: it holds twice the first gradient")
for t in (x, W, b):
    t.grad = None  # what optimizer.zero_grad() does

# %% [markdown]
# ## 3. Broadcasting, and the gradient of a bias
#
# In $z = x W^\top + b$ the bias $b$ has shape $(2,)$ but is added to a $(4, 2)$ matrix. NumPy
# **broadcasts**: it lines the shapes up from the right, treats a missing leading axis as size 1,
# and stretches every size-1 axis to the other operand's size (without copying). So $b$ is used
# once per row: $z_{ij} = (xW^\top)_{ij} + b_j$ for every $i$.
#
# A value used several times gets the **sum** of the gradients of its uses (section 1). So
# $\partial L/\partial b_j = \sum_i \partial L/\partial z_{ij}$: the gradient of the output, summed
# over the axis that broadcasting added. In general, when an input of shape `shape` was broadcast
# to the output's shape, its gradient is the output's gradient summed
#
# * over the leading axes broadcasting **added** (they disappear), and
# * over the axes it **stretched** from size 1 (they stay, with size 1).
#
# For $a$ of shape $(3, 1)$ broadcast to $(2, 3, 4)$: sum over axis 0 (added) and axis 2 (stretched),
# giving $(3, 1)$ again. Every binary operation of the engine (`+`, `-`, `*`, `/`, `where`) does
# this with one helper, `unbroadcast(grad, shape)` in `minconvbert/function.py`; assignment A1's
# hidden checks give your backwards exactly these shapes.
#
# **Exercise 1.3.** Write `unbroadcast`. `np.sum(..., axis=..., keepdims=True)` keeps a summed axis.

# %%
def unbroadcast(grad, shape):
    """Sum grad (the output's shape) back to `shape`: over the added leading axes, and the stretched size-1 axes."""
    # BEGIN SOLUTION
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))  # the added leading axes disappear
    stretched = tuple(axis for axis, n in enumerate(shape) if n == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=stretched, keepdims=True)  # the stretched axes stay, with size 1
    # END SOLUTION


# %%
from minconvbert.function import unbroadcast as engine_unbroadcast

g = rng.standard_normal((2, 3, 4))  # the gradient of a (2, 3, 4) output
targets = [(3, 1), (4,), (1, 3, 1), (2, 3, 4), ()]  # shapes that broadcast to (2, 3, 4)
exercise("1.3", "unbroadcast", lambda: tuple(unbroadcast(g, shape) for shape in targets),
         expected=tuple(engine_unbroadcast(g, shape) for shape in targets));

# %% [markdown]
# The engine does the same inside `backward()`: here the bias gets the column sums of the output's
# gradient, whatever the number of rows.

# %%
bias = Tensor(np.zeros(2), requires_grad=True)
grad_out = rng.standard_normal((4, 2))
(Tensor(rng.standard_normal((4, 2))) + bias).backward(grad_out)  # (4, 2) + (2,)
check(np.allclose(bias.grad, grad_out.sum(axis=0)), "the bias's gradient is the output's gradient summed over the rows")

# %% [markdown]
# ## 4. Writing an operation: a `Function` with `forward` and `backward`
#
# An operation gets arrays in `forward`, stores what `backward` will need on `self`, and returns
# its output. `backward(grad_out)` returns **a tuple** with one gradient per input, each with that
# input's shape. `Op.apply(*tensors)` runs it and records the node.
#
# Softplus, $y = \log(1 + e^x)$, has derivative $\sigma(x) = 1 / (1 + e^{-x})$. We write it in the
# stable form $y = \max(x, 0) + \log(1 + e^{-|x|})$ so that large $|x|$ cannot overflow.

# %%
from minconvbert.function import Function


class Softplus(Function):
    """y = log(1 + e^x); dy/dx = sigmoid(x)."""

    def forward(self, x):
        self.x = x  # saved for backward
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad_y):
        sigmoid = 0.5 * (1 + np.tanh(0.5 * self.x))  # = 1 / (1 + e^-x), without overflow
        return (grad_y * sigmoid,)  # a tuple: one gradient per input


t = Tensor(np.array([-30.0, -1.0, 0.0, 2.0, 800.0]), requires_grad=True)
y = Softplus.apply(t)
y.sum().backward()
print("softplus:", y.data)
print("gradient:", t.grad)

# %% [markdown]
# The most common slip is to return the array itself instead of a one-element tuple. The engine
# names that mistake:

# %%
class SoftplusBareArray(Softplus):
    def backward(self, grad_y):
        return grad_y * 0.5 * (1 + np.tanh(0.5 * self.x))  # no tuple


try:
    SoftplusBareArray.apply(Tensor(np.ones((3, 2)), requires_grad=True)).sum().backward()
except TypeError as error:
    print("TypeError:", error)

# %% [markdown]
# **Exercise 1.4.** An operation with broadcasting: `Affine` computes $y = x \odot a + c$ for $x$
# of shape $(N, F)$ and a scale $a$ and shift $c$ that broadcast against it (a $(F,)$ vector, a
# $(1, F)$ row, a number...), as LayerNorm's weight and bias do. Write its backward: one gradient
# per input, each with its input's shape (your `unbroadcast` of section 3, or the engine's
# `engine_unbroadcast`). The check runs `gradcheck` (section 5) on it.

# %%
class Affine(Function):
    """y = x * a + c, a and c broadcast against x."""

    def forward(self, x, a, c):
        self.x, self.a, self.c_shape = x, a, c.shape
        return x * a + c

    def backward(self, grad_y):
        # BEGIN SOLUTION
        return (grad_y * self.a, engine_unbroadcast(grad_y * self.x, self.a.shape),
                engine_unbroadcast(grad_y, self.c_shape))
        # END SOLUTION


# %%
affine_inputs = [Tensor(rng.standard_normal(s), requires_grad=True) for s in ((5, 3), (3,), (1, 3))]
exercise("1.4", "Affine.backward", lambda: gradcheck(Affine.apply, affine_inputs), expected=True);

# %% [markdown]
# ## 5. Checking gradients: `gradcheck`
#
# A backward is easy to get subtly wrong, and a wrong gradient does not crash: training just goes
# worse. The cure is to compare it with a **finite difference**. For each input element $x_j$,
#
# $$\frac{\partial f}{\partial x_j} \approx \frac{f(x + \varepsilon e_j) - f(x - \varepsilon e_j)}{2\varepsilon},$$
#
# whose error is $O(\varepsilon^2)$: in the Taylor series
# $f(x \pm \varepsilon) = f(x) \pm \varepsilon f'(x) + \tfrac{\varepsilon^2}{2} f''(x) \pm \tfrac{\varepsilon^3}{6} f'''(x) + \dots$
# the even terms cancel in the difference. The one-sided $(f(x + \varepsilon) - f(x))/\varepsilon$
# keeps the $\varepsilon^2 f''/2$ term, and its error is only $O(\varepsilon)$.
#
# **Exercise 1.5.** Write the central difference of a function of one number. The check measures
# how your error shrinks when $\varepsilon$ does.

# %%
def central_difference(f, x, eps):
    """(f(x + eps) - f(x - eps)) / (2 eps): the derivative of f at x, with an error O(eps^2)."""
    # BEGIN SOLUTION
    return (f(x + eps) - f(x - eps)) / (2 * eps)
    # END SOLUTION


# %%
def error_order(derivative):
    """None if derivative(f, x, eps) is a central difference; else what is wrong with it."""
    errors = [abs(derivative(math.sin, 0.3, eps) - math.cos(0.3)) for eps in (1e-3, 1e-4)]
    if errors[1] < 1e-8 and errors[0] / max(errors[1], 1e-300) > 30:
        return None
    if abs(derivative(math.sin, 0.3, 1e-4) / math.cos(0.3) - 2) < 1e-3:
        return "it gives twice the derivative: the difference spans 2 eps"
    if 5 < errors[0] / max(errors[1], 1e-300) < 20:
        return (f"its error shrinks like eps, not eps^2 ({errors[0]:.1e} at eps = 1e-3, {errors[1]:.1e} at 1e-4): "
                "a one-sided difference?")
    return f"at eps = 1e-4 it is off by {errors[1]:.2e} from the derivative of sin at 0.3"


exercise("1.5", "central_difference", lambda: central_difference, test=error_order);

# %% [markdown]
# Smaller $\varepsilon$ is not always better: the two values of $f$ are rounded, to about
# $10^{-16}$ relative in float64 and $10^{-7}$ in float32, and their difference is divided by
# $2\varepsilon$. The total error is about $\varepsilon^2 |f'''| / 6 + \text{rounding} / \varepsilon$.
# Measure it, for softplus at $x = 0.7$, in both precisions:

# %%
def central_difference_in(dtype, f, x, eps):
    """The central difference computed entirely in `dtype` (x, eps and every intermediate)."""
    x, eps = dtype(x), dtype(eps)
    return float((f(x + eps) - f(x - eps)) / (dtype(2) * eps))


softplus = lambda v: np.logaddexp(v, v * 0)  # log(1 + e^v) in the dtype of v
exact = 1 / (1 + math.exp(-0.7))  # sigmoid(0.7)
epsilons = np.logspace(-12, -1, 45)
errors = {dtype: np.array([abs(central_difference_in(dtype, softplus, 0.7, e) - exact) for e in epsilons])
          for dtype in (np.float64, np.float32)}
half_spacing = float(np.spacing(np.float32(0.7))) / 2  # below this, 0.7 +- eps rounds back to 0.7 in float32
fig, ax = plt.subplots(figsize=(7, 3.6))
for dtype, values in errors.items():
    ax.loglog(epsilons, values + 1e-18, marker=".", label=np.dtype(dtype).name)
ax.axvline(half_spacing, color="grey", linestyle=":", linewidth=1)
ax.annotate("float32 plateau: x + eps == x, the difference is 0,\nso the error is the whole derivative f'(x)",
            (1e-10, exact), fontsize=8, xytext=(2e-12, 2e-3), arrowprops=dict(arrowstyle="->", color="grey"))
ax.set_xlabel("epsilon")
ax.set_ylabel("|numeric - exact|")
ax.set_title("central difference error for softplus'(0.7)")
ax.legend()
plt.show()

# %% [markdown]
# Read the curves from the right. For large $\varepsilon$ both precisions follow the truncation
# error $\varepsilon^2 |f'''| / 6$, a line of slope 2. Going left, the rounding error
# $\approx \text{ulp}(f) / \varepsilon$ takes over and the error *grows* again, a jagged line of
# slope $-1$ (the difference of the two rounded values of $f$ is a small whole number of ulps, so
# it jumps). In float64 the best error, about $10^{-11}$, is reached for $\varepsilon$ between
# $10^{-6}$ and $10^{-5}$. In float32 the error never falls below $10^{-6}$: its smallest values, a
# few $10^{-6}$, need $\varepsilon$ of $10^{-4}$ or more (where a less smooth function would already
# suffer from truncation), and which of those $\varepsilon$ wins is luck in the rounding.
#
# The flat **plateau** of float32 on the left is the end of the story: when $\varepsilon$ is below
# half the spacing of float32 numbers near 0.7 (the dotted line, $3 \cdot 10^{-8}$),
# $0.7 + \varepsilon$ and $0.7 - \varepsilon$ both round back to $0.7$, the difference of the two
# values of $f$ is exactly 0, and the error is the whole derivative, $\sigma(0.7) = 0.668$, for
# every smaller $\varepsilon$. float64 has the same plateau, below $6 \cdot 10^{-17}$, off this plot.

# %%
errors64, errors32 = errors[np.float64], errors[np.float32]
check(np.allclose(errors32[epsilons < half_spacing], exact, rtol=1e-6),
      "float32 plateau: for every eps below half the float32 spacing at 0.7, the error is the whole derivative")
check(errors64[(epsilons >= 1e-6) & (epsilons <= 1e-5)].max() < 1e-10,
      "float64: the error is below 1e-10 for eps between 1e-6 and 1e-5")
check(errors32.min() > 1e-6 and errors32[epsilons < 1e-4].min() > 1e-5,
      "float32: no eps gets the error below 1e-6, and none below 1e-4 gets it below 1e-5")
check(errors32[(epsilons >= 1e-6) & (epsilons <= 1e-5)].min() > 1e-4,
      "float32: at the eps that suit float64 (1e-6 .. 1e-5) the error is above 1e-4")

# %% [markdown]
# Float32 finite differences cannot check a gradient to a tolerance of $10^{-5}$. That is why
# `minconvbert.gradcheck` insists on float64 inputs (a float32 input raises) and uses
# $\varepsilon = 10^{-6}$ with tolerances `atol=1e-5, rtol=1e-4`.
#
# When the output is not a single number, `gradcheck` does not check the full Jacobian $J$; it
# projects the output on a fixed **random direction** $v$, computes $J^\top v$ with one backward,
# and compares it element by element with the finite differences of $\sum f(x)\,v$. A random
# direction exercises every output element with a different weight, which matters, as the next
# section shows.

# %%
x64 = Tensor(np.random.default_rng(1).standard_normal((3, 5)), requires_grad=True)  # float64
print("Softplus:", gradcheck(lambda t: Softplus.apply(t), [x64]))
print("GELU    :", gradcheck(F.gelu, [x64]))
print("softmax :", gradcheck(lambda t: F.softmax(t, axis=-1), [x64]))

# %% [markdown]
# ## 6. Layer normalisation's backward, derived, and a bug only `gradcheck` finds
#
# Layer normalisation over the last axis of size $N$:
#
# $$\mu = \tfrac1N \textstyle\sum_i x_i,\quad v = \tfrac1N \textstyle\sum_i (x_i-\mu)^2,\quad r = (v + \epsilon)^{-1/2},\quad
#   \hat x = (x - \mu)\, r,\quad y = \hat x \odot w + b.$$
#
# **The weight and the bias** are used once per row (broadcast over the leading axes), so their
# gradients are sums over the rows: $\partial L/\partial w = \sum_\text{rows} g \odot \hat x$ and
# $\partial L/\partial b = \sum_\text{rows} g$, with $g = \partial L/\partial y$.
#
# **The input** reaches $\hat x$ three ways: directly, through $\mu$, and through $r$. First through
# the scale, $\tilde g = \partial L/\partial \hat x = g \odot w$. Then, with $\hat x_i = (x_i - \mu) r$,
#
# $$\frac{\partial \hat x_i}{\partial x_j} = r\Big(\delta_{ij} - \frac1N\Big) + (x_i - \mu)\frac{\partial r}{\partial x_j}.$$
#
# For the last factor: $\partial v/\partial x_j = \frac2N \sum_i (x_i - \mu)(\delta_{ij} - \frac1N) = \frac2N (x_j - \mu)$
# (the $\frac1N$ part vanishes because the deviations sum to zero), so
# $\partial r/\partial x_j = -\frac12 (v + \epsilon)^{-3/2}\, \frac2N (x_j - \mu) = -\frac{r^2}{N} \hat x_j$, and
# $(x_i - \mu)\,\partial r/\partial x_j = -\frac rN \hat x_i \hat x_j$. Altogether
# $\partial \hat x_i / \partial x_j = \frac rN \big(N\delta_{ij} - 1 - \hat x_i \hat x_j\big)$, and summing against $\tilde g$:
#
# $$\frac{\partial L}{\partial x_j} = \sum_i \tilde g_i \frac{\partial \hat x_i}{\partial x_j}
#   = r\Big(\tilde g_j - \overline{\tilde g} - \hat x_j\, \overline{\tilde g \hat x}\Big),$$
#
# where the bars are means over the last axis. The three terms are the three ways: $\tilde g$
# directly, $-\overline{\tilde g}$ through the mean, $-\hat x\,\overline{\tilde g \hat x}$ through $r$.
# The last one is the one people forget. Here is a LayerNorm whose backward forgets it:

# %%
class BuggyLayerNorm(Function):
    """y = x_hat * w + b over the last axis; the backward forgets that the variance depends on x."""

    def forward(self, x, w, b, eps=1e-5):
        mean = x.mean(axis=-1, keepdims=True)
        self.r = 1 / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps)
        self.x_hat = (x - mean) * self.r
        self.w = w
        return self.x_hat * w + b

    def backward(self, g):
        g_hat = g * self.w  # dL/dx_hat
        direct = self.r * g_hat  # the way through x itself
        through_mean = -self.r * g_hat.mean(axis=-1, keepdims=True)  # the way through the mean
        # BUG: the way through r (the variance depends on x too) is missing
        rows = tuple(range(g.ndim - 1))  # w and b are used once per row: their gradients sum over the rows
        return direct + through_mean, (g * self.x_hat).sum(axis=rows), g.sum(axis=rows)

# %% [markdown]
# The tempting test: a freshly initialised layer ($w = 1$, $b = 0$), the loss `y.sum()`, and a
# comparison with a finite difference of that loss. It passes:

# %%
rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((2, 6)), requires_grad=True)
w = Tensor(np.ones(6), requires_grad=True)
b = Tensor(np.zeros(6), requires_grad=True)
print("y.sum() test passes:", gradcheck(lambda x, w, b: BuggyLayerNorm.apply(x, w, b).sum(), [x, w, b],
                                        raise_exception=False))

# %% [markdown]
# It passes because it cannot fail: the sum of a normalised row is always $N \cdot 0 + \sum b$, whatever
# $x$ is, so the true $\partial L/\partial x$ is zero, and with $g = 1$, $w = 1$ the buggy formula
# also gives zero (the missing term is $\hat x \cdot \overline{\hat x} = 0$). `gradcheck` on the
# layer's whole output uses a random direction $v$ instead of all ones, and the bug shows at once,
# with the input, the element, and both values:

# %%
from minconvbert import GradcheckError

try:
    gradcheck(lambda x, w, b: BuggyLayerNorm.apply(x, w, b), [x, w, b])
except GradcheckError as error:
    print("GradcheckError:", error)

# %% [markdown]
# **Exercise 1.6.** Add the missing way: `FixedLayerNorm.backward` takes the buggy gradients and
# adds the part of $\partial L/\partial x$ that flows through $r$, the third term of the formula
# (the forward saved `self.r`, `self.x_hat` and `self.w`). The check runs `gradcheck` on random
# weights, away from $w = 1$.

# %%
class FixedLayerNorm(BuggyLayerNorm):
    def backward(self, g):
        grad_x, grad_w, grad_b = super().backward(g)
        # BEGIN SOLUTION
        through_r = -self.r * self.x_hat * (g * self.w * self.x_hat).mean(axis=-1, keepdims=True)
        grad_x = grad_x + through_r
        # END SOLUTION
        return grad_x, grad_w, grad_b


# %%
w_random = Tensor(rng.standard_normal(6), requires_grad=True)
exercise("1.6", "FixedLayerNorm.backward", lambda: gradcheck(FixedLayerNorm.apply, [x, w_random, b]), expected=True);
out_ours, out_engine = FixedLayerNorm.apply(x, w_random, b), F.layer_norm(x, w_random, b, eps=1e-5)
check(np.allclose(out_ours.data, out_engine.data), "its forward agrees with the engine's F.layer_norm")

# %% [markdown]
# Lessons: test a backward with a random output gradient, never only with `sum()`; test with
# parameters away from their initial values; and test in float64.
#
# `gradcheck` also says when a check proves nothing: if the output does not depend on an input at
# all, the input passes, with a warning.

# %%
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    gradcheck(lambda x, w: x * 2.0, [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)])
print(caught[0].category.__name__ + ":", caught[0].message)

# %% [markdown]
# ## 7. Every parameter of a model at once
#
# Because `gradcheck` takes any function of any tensors, it can check a whole model: here a ConvBERT
# masked-LM with one layer and hidden size 8 (674 parameters, so 1,348 forward passes for the
# finite differences), converted to float64. This exercises every operation of the real model:
# embeddings, LayerNorm, the separable convolution, the dynamic kernels and their softmax, the span
# convolution, attention, GELU, the tied LM head and the cross-entropy.

# %%
import time

from minconvbert import ConvBertConfig, ConvBertForMaskedLM

config = ConvBertConfig(vocab_size=12, hidden_size=8, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=8, embedding_size=4, max_position_embeddings=8, conv_kernel_size=3,
                        pad_token_id=0)
micro = ConvBertForMaskedLM(config, rng=0).to(np.float64).eval()
ids, labels = np.array([[1, 5, 7, 2]]), np.array([[-100, 3, 9, -100]])
params = list(micro.parameters())
start = time.perf_counter()
ok = gradcheck(lambda *_: micro(input_ids=ids, labels=labels).loss, params)
print(f"all {sum(p.size for p in params)} parameters: {ok} ({time.perf_counter() - start:.1f} s)")

# %% [markdown]
# ## 8. Optional: the same gradients from PyTorch
#
# If PyTorch is installed, its autograd must give the numbers of section 2.

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison (pip install torch to run it).")

if torch is not None:
    rng = np.random.default_rng(0)
    x_np, W_np = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    xt, Wt = torch.tensor(x_np, requires_grad=True), torch.tensor(W_np, requires_grad=True)
    bt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (torch.tanh(xt @ Wt.T + bt) ** 2).mean().backward()
    x, W, b = (Tensor(v, requires_grad=True) for v in (x_np, W_np, np.zeros(2)))
    (F.linear(x, W, b).tanh() ** 2).mean().backward()
    for name, ours, theirs in (("x", x, xt), ("W", W, Wt), ("b", b, bt)):
        print(f"d/d{name}: max |ours - torch| = {np.abs(ours.grad - theirs.grad.numpy()).max():.2e}")

# %% [markdown]
# ## What next
#
# * [docs/autograd.md](../docs/autograd.md) lists every operation's forward and backward formula;
#   [docs/derivations.md](../docs/derivations.md) derives the hard ones.
# * Assignment A1 ([docs/assignments/a1_backward](../docs/assignments/a1_backward/README.md)) asks you
#   to write the backward of nine operations yourself; `python -m minconvbert.grade a1 <your folder>`
#   marks them with `gradcheck` and against the engine.
# * Notebook 3 applies all of this to ConvBERT's span-based dynamic convolution.

# %%
summary();
