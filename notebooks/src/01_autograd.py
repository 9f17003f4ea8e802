# Source of notebooks/01_autograd.ipynb (build with: python scripts/build_notebooks.py).

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
# 3. write a differentiable operation of your own (a `Function` with `forward` and `backward`);
# 4. check gradients with finite differences (`gradcheck`), and understand its tolerances;
# 5. watch `gradcheck` catch a real-looking bug in a layer-norm backward that a simpler test misses;
# 6. gradient-check every parameter of a tiny ConvBERT at once.
#
# Runs on a laptop CPU in well under a minute. Optional: PyTorch, for one extra comparison.

# %%
# Setup: import minconvbert, whether it is installed (pip install -e .) or not (run from notebooks/ in a clone).
# %matplotlib inline
import sys
from pathlib import Path

try:
    import minconvbert
except ImportError:  # not installed: use the repository this notebook lives in
    sys.path.insert(0, str(Path.cwd().resolve().parent))
    import minconvbert

import math

import matplotlib.pyplot as plt
import numpy as np

from minconvbert import Tensor, functional as F, gradcheck, viz

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
# Check it by hand. With $n = 8$ elements, $L = \frac1n\sum h^2$, $h = \tanh z$, $z = x W^\top + b$:
#
# $$\frac{\partial L}{\partial h} = \frac{2h}{n},\qquad
#   \frac{\partial L}{\partial z} = \frac{\partial L}{\partial h}(1 - h^2),\qquad
#   \frac{\partial L}{\partial W} = \Big(\frac{\partial L}{\partial z}\Big)^{\!\top} x,\qquad
#   \frac{\partial L}{\partial b} = \sum_{\text{rows}} \frac{\partial L}{\partial z},\qquad
#   \frac{\partial L}{\partial x} = \frac{\partial L}{\partial z}\, W.$$

# %%
h_ = np.tanh(x.data @ W.data.T + b.data)
g_z = 2 * h_ / h_.size * (1 - h_**2)  # (4, 2)
print("dW matches:", np.allclose(W.grad, g_z.T @ x.data))
print("db matches:", np.allclose(b.grad, g_z.sum(axis=0)))
print("dx matches:", np.allclose(x.grad, g_z @ W.data))

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
print("accumulated: W.grad == 2 * first gradient?", np.allclose(W.grad, 2 * before))
for t in (x, W, b):
    t.grad = None  # what optimizer.zero_grad() does

# %% [markdown]
# ## 3. Writing an operation: a `Function` with `forward` and `backward`
#
# An operation gets arrays in `forward`, stores what `backward` will need on `self`, and returns
# its output. `backward(grad_out)` returns one gradient per input, each with that input's shape.
# `Op.apply(*tensors)` runs it and records the node.
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
# ## 4. Checking gradients: `gradcheck`
#
# A backward is easy to get subtly wrong, and a wrong gradient does not crash: training just goes
# worse. The cure is to compare it with a **finite difference**. For each input element $x_j$,
#
# $$\frac{\partial f}{\partial x_j} \approx \frac{f(x + \varepsilon e_j) - f(x - \varepsilon e_j)}{2\varepsilon},$$
#
# whose error is $O(\varepsilon^2)$ (the even terms of the Taylor series cancel). Smaller
# $\varepsilon$ is not always better: the two values of $f$ are rounded, to about $10^{-16}$
# relative in float64 and $10^{-7}$ in float32, and their difference is divided by $2\varepsilon$.
# The total error is about $\varepsilon^2 |f'''| / 6 + \text{rounding} / \varepsilon$. Measure it:

# %%
def central_difference(f, x, eps, dtype):
    x = dtype(x)
    eps = dtype(eps)
    return float((f(x + eps) - f(x - eps)) / (dtype(2) * eps))


softplus = lambda v: np.logaddexp(v, v * 0)  # log(1 + e^v) in the dtype of v
exact = 1 / (1 + math.exp(-0.7))  # sigmoid(0.7)
epsilons = np.logspace(-12, -1, 45)
fig, ax = plt.subplots(figsize=(6, 3.2))
for dtype in (np.float64, np.float32):
    errors = [abs(central_difference(softplus, 0.7, e, dtype) - exact) + 1e-18 for e in epsilons]
    ax.loglog(epsilons, errors, label=np.dtype(dtype).name)
ax.set_xlabel("epsilon")
ax.set_ylabel("|numeric - exact|")
ax.set_title("central difference error for softplus'(0.7)")
ax.legend()
plt.show()

# %% [markdown]
# In float64 the error falls to about $10^{-11}$ for $\varepsilon$ between $10^{-6}$ and $10^{-5}$.
# In float32 it is of order $10^{-2}$ at those $\varepsilon$, and only comes down to about
# $10^{-6}$ with $\varepsilon \approx 10^{-2}$, where the truncation error of a less smooth function
# would take over: float32 finite differences cannot check a gradient to a tolerance of $10^{-5}$.
# That is why `minconvbert.gradcheck` insists on float64 inputs (a float32 input raises) and uses
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
# ## 5. A bug that only `gradcheck` finds
#
# Layer normalisation over the last axis of size $N$:
#
# $$\mu = \tfrac1N \textstyle\sum_i x_i,\quad r = (\tfrac1N \textstyle\sum_i (x_i-\mu)^2 + \epsilon)^{-1/2},\quad
#   \hat x = (x - \mu)\, r,\quad y = \hat x \odot w + b.$$
#
# With $g = \partial L/\partial y$ and $\tilde g = g \odot w$, the correct backward (derived in
# [docs/derivations.md](../docs/derivations.md)) is
#
# $$\frac{\partial L}{\partial x} = r\Big(\tilde g - \overline{\tilde g} - \hat x\, \overline{\tilde g \hat x}\Big),$$
#
# where the bars are means over the last axis. The last term comes from the dependence of $r$ on
# $x$, and is the one people forget. Here is a LayerNorm whose backward forgets it:

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
        gw = g * self.w
        grad_x = self.r * (gw - gw.mean(axis=-1, keepdims=True))  # BUG: - x_hat * mean(gw * x_hat) is missing
        lead = tuple(range(g.ndim - 1))
        return grad_x, (g * self.x_hat).sum(axis=lead), g.sum(axis=lead)

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
# Add the missing term and it passes, on the same inputs and on random weights:

# %%
class FixedLayerNorm(BuggyLayerNorm):
    def backward(self, g):
        grad_x, grad_w, grad_b = super().backward(g)
        missing = -self.r * self.x_hat * (g * self.w * self.x_hat).mean(axis=-1, keepdims=True)
        return grad_x + missing, grad_w, grad_b


w_random = Tensor(rng.standard_normal(6), requires_grad=True)
print(gradcheck(lambda x, w, b: FixedLayerNorm.apply(x, w, b), [x, w, b]))
print(gradcheck(lambda x, w, b: FixedLayerNorm.apply(x, w, b), [x, w_random, b]))
# and it agrees with the engine's own layer_norm
out_ours = FixedLayerNorm.apply(x, w_random, b)
out_engine = F.layer_norm(x, w_random, b, eps=1e-5)
print("forward agrees with F.layer_norm:", np.allclose(out_ours.data, out_engine.data))

# %% [markdown]
# Lessons: test a backward with a random output gradient, never only with `sum()`; test with
# parameters away from their initial values; and test in float64.

# %% [markdown]
# ## 6. Every parameter of a model at once
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
# ## 7. Optional: the same gradients from PyTorch
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
