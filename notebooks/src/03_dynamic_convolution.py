# Source of notebooks/03_dynamic_convolution.ipynb (build with: python scripts/build_notebooks.py).

# %% [markdown]
# # 3. Span-based dynamic convolution
#
# In self-attention every token mixes the values of *all* positions, with weights computed from
# query-key dot products: global, and $O(T^2)$ in the sequence length $T$. Many BERT heads end up
# attending mostly to their neighbours anyway. ConvBERT (Jiang et al., 2020) replaces half of the
# heads with **convolution heads**: each position mixes only the $K$ positions around it, with
# weights that are *generated* for that position, from the span of text around it.
#
# In this notebook you will
#
# 1. write down the operation and see it as a banded mixing matrix, next to attention's full one;
# 2. implement it three ways in NumPy: loops straight from the formula, shifted slices (the
#    package's reference kernel), and the *unfold* formulation that transformers uses;
# 3. compile the loops with numba;
# 4. derive the backward pass, implement it, and check it every way we can;
# 5. compare the speed of everything.
#
# Runs in well under a minute on a laptop CPU. Optional: PyTorch, for the reference's own unfold.

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

import inspect
import time

import matplotlib.pyplot as plt
import numba
import numpy as np

from minconvbert import Tensor, analysis, functional as F, gradcheck
from minconvbert.kernels import fast, reference

try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: the cells that compare with torch's unfold are skipped (pip install torch).")

# %% [markdown]
# ## 1. The operation
#
# Take one convolution head. Its **values** $V \in \mathbb{R}^{T \times D}$ are a linear map of the
# layer input (`conv_out_layer`). Its **kernels** $W \in \mathbb{R}^{T \times K}$ hold one row of $K$
# weights per position, a softmax (so each row sums to 1). With $P = (K-1)/2$ ($K$ is odd),
#
# $$\text{out}[t] = \sum_{k=0}^{K-1} W[t, k]\; V[t + k - P],$$
#
# where $V$ is zero outside $0 \le s < T$. So position $t$ mixes the span $t-P, \dots, t+P$ of the
# values, with its own weights.
#
# Where do the kernels come from? In *dynamic* convolution (Wu et al., 2019) from the token alone:
# $W[t] = \mathrm{softmax}(\text{Linear}(x_t))$. ConvBERT's **span-based** version generates them
# from the token's neighbourhood: a separable convolution over the sequence (the "key" of the
# convolution, `key_conv_attn_layer`) multiplied elementwise by the query,
#
# $$W[t] = \mathrm{softmax}\big(W_\text{kernel}\,(Q[t] \odot \mathrm{SepConv}(x)[t])\big),$$
#
# so the same word gets different kernels in different contexts. Notebook 4 builds that part; here
# we take the kernels as given. In the model there are $H$ heads and a batch of $B$ sequences, so
# `values` is $(B, T, H, D)$ and `kernels` is $(B, T, H, K)$.
#
# **The matrix view.** Writing $M[t, s] = W[t, s - t + P]$ for $|s - t| \le P$ (and 0 elsewhere)
# gives $\text{out} = M V$, exactly the form of an attention head, $\text{out} = A V$ with
# $A = \mathrm{softmax}(QK^\top/\sqrt{D})$. The difference: $M$ is **banded**.

# %%
rng = np.random.default_rng(0)
T, K, D = 16, 5, 4


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


attention = softmax(rng.standard_normal((T, D)) @ rng.standard_normal((D, T)))  # (T, T): every row sums to 1
kernels_1 = softmax(2 * rng.standard_normal((T, K)))  # (T, K): every row sums to 1
band = analysis.kernels_to_matrix(kernels_1)  # (T, T)

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, matrix, title in zip(axes, (attention, band), ("attention head: softmax(Q K^T)", f"conv head: K = {K}")):
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    ax.set_title(title)
    ax.set_xlabel("position mixed (s)")
    ax.set_ylabel("output position (t)")
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()
print("row sums of the band matrix at the ends (weights on the zero padding are lost):",
      band.sum(axis=1)[[0, 1, T // 2, T - 1]].round(3))

# %% [markdown]
# ## 2. Straight from the formula: loops
#
# Loops over batch, position, head, kernel tap and feature. Slow in Python, but impossible to
# misread, which makes it the yardstick for everything else.

# %%
def span_conv_loops(values, kernels):
    """out[b, t, h, :] = sum_k kernels[b, t, h, k] * values[b, t + k - P, h, :], zero outside [0, T)."""
    B, T, H, D = values.shape
    K = kernels.shape[3]
    P = (K - 1) // 2
    out = np.zeros((B, T, H, D), dtype=values.dtype)
    for b in range(B):
        for t in range(T):
            for h in range(H):
                for k in range(K):
                    s = t + k - P
                    if 0 <= s < T:
                        for d in range(D):
                            out[b, t, h, d] += kernels[b, t, h, k] * values[b, s, h, d]
    return out


B, T, H, D, K = 2, 12, 3, 4, 5
values = rng.standard_normal((B, T, H, D))
kernels = softmax(rng.standard_normal((B, T, H, K)))
out_loops = span_conv_loops(values, kernels)
out_matrix = analysis.kernels_to_matrix(kernels.transpose(0, 2, 1, 3)) @ values.transpose(0, 2, 1, 3)  # (B, H, T, D)
print("loops == banded matrix @ values:", np.allclose(out_loops, out_matrix.transpose(0, 2, 1, 3)))

# %% [markdown]
# ## 3. Vectorised NumPy: one shift per kernel tap
#
# Swap the loops: for each tap $k$, *all* positions $t$ read the values shifted by $k - P$. That is
# one slice, one multiply and one add over the whole batch, so only $K$ NumPy operations in total.
# The slice bounds `lo:hi` keep $t + k - P$ inside the sequence, which is the zero padding without
# ever building a padded copy. This is the package's readable kernel, `minconvbert.kernels.reference`:

# %%
print(inspect.getsource(reference.span_conv_forward))
print("reference == loops:", np.allclose(reference.span_conv_forward(values, kernels), out_loops))

# %% [markdown]
# ## 4. The unfold formulation (what transformers does)
#
# Another way: first gather, for every position, the whole span it reads,
# $S[b, t, h, d, k] = V[b, t + k - P, h, d]$, then contract it with the kernel:
# $\text{out}[b,t,h,d] = \sum_k S[b,t,h,d,k]\, W[b,t,h,k]$. Building $S$ is called *unfolding*
# ("im2col" in image convolutions). It turns the convolution into one batched matrix product, at
# the price of a tensor $K$ times larger than the values.
#
# In NumPy, pad the sequence axis with $P$ zeros at each end, then take a sliding window of width
# $K$: `sliding_window_view` returns it as a *view* (no copy, just strides), and `einsum` contracts.

# %%
def unfold_spans(values, K):
    """(B, T, H, D) -> (B, T, H, D, K) with spans[b, t, h, d, k] = values[b, t + k - P, h, d] (zero outside)."""
    P = (K - 1) // 2
    padded = np.pad(values, ((0, 0), (P, K - 1 - P), (0, 0), (0, 0)))  # (B, T + K - 1, H, D)
    return np.lib.stride_tricks.sliding_window_view(padded, K, axis=1)  # (B, T, H, D, K), a view


def span_conv_unfold(values, kernels):
    spans = unfold_spans(values, kernels.shape[-1])  # (B, T, H, D, K)
    return np.einsum("bthdk,bthk->bthd", spans, kernels)  # (B, T, H, D)


spans = unfold_spans(values, K)
print("spans:", spans.shape, "| a view of the padded values:", spans.base is not None)
print("unfold == loops:", np.allclose(span_conv_unfold(values, kernels), out_loops))

# %% [markdown]
# transformers works on channels-first tensors and uses torch's `nn.functional.unfold`, written for
# images: the values, $(B, T, C)$ with $C = H D$, become a $(B, C, T, 1)$ "image", and an unfold
# with a $(K, 1)$ window and padding $(P, 0)$ returns $(B, C K, T)$ with the channel as the slow
# index and the tap as the fast one. It then transposes to $(B, T, C, K)$, reshapes to
# $(BTH, D, K)$, and multiplies by the kernels reshaped to $(BTH, K, 1)$: a batched matrix-vector
# product per (position, head). Here is the same layout in NumPy, checked against torch when it is
# installed:

# %%
def unfold_like_torch(x, K):
    """x (B, C, T) -> (B, C * K, T): row c * K + k holds x[:, c, t + k - P] (zero outside)."""
    B, C, T = x.shape
    P = (K - 1) // 2
    padded = np.pad(x, ((0, 0), (0, 0), (P, K - 1 - P)))  # (B, C, T + K - 1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, K, axis=2)  # (B, C, T, K)
    return windows.transpose(0, 1, 3, 2).reshape(B, C * K, T)  # (B, C*K, T)


def span_conv_reference_layout(values, kernels):
    """The reference's sequence of reshapes, in NumPy."""
    B, T, H, D = values.shape
    K = kernels.shape[-1]
    channels_first = values.reshape(B, T, H * D).transpose(0, 2, 1)  # (B, C, T)
    unfolded = unfold_like_torch(channels_first, K)  # (B, C*K, T)
    unfolded = unfolded.transpose(0, 2, 1).reshape(B * T * H, D, K)  # (BTH, D, K)
    out = unfolded @ kernels.reshape(B * T * H, K, 1)  # (BTH, D, 1)
    return out.reshape(B, T, H, D)


print("reference layout == loops:", np.allclose(span_conv_reference_layout(values, kernels), out_loops))
if torch is not None:
    x = values.reshape(B, T, H * D).transpose(0, 2, 1)  # (B, C, T)
    theirs = torch.nn.functional.unfold(torch.tensor(x).unsqueeze(-1), kernel_size=(K, 1), padding=((K - 1) // 2, 0))
    print("unfold_like_torch == torch.nn.functional.unfold:", np.allclose(unfold_like_torch(x, K), theirs.numpy()))

# %% [markdown]
# ## 5. Compiling the loops with numba
#
# The loops of section 2 are slow only because Python interprets them. numba compiles a function
# like that to machine code: the very same source, decorated. The package's fast kernel
# (`minconvbert.kernels.fast`) is such a loop, also run in parallel over (batch, position) with
# `prange`; with the environment variable `NUMBA_DISABLE_JIT=1` numba hands back the plain Python
# function, so you can step through it in a debugger.

# %%
start = time.perf_counter()
span_conv_numba = numba.njit(cache=False)(span_conv_loops)  # the function of section 2, compiled
span_conv_numba(values, kernels)  # the first call compiles for these argument types
print(f"compiled in {time.perf_counter() - start:.2f} s")
print("numba(loops) == loops:", np.allclose(span_conv_numba(values, kernels), out_loops))
print("package's fast kernel == loops:", np.allclose(fast.span_conv_forward(values, kernels), out_loops))
print(inspect.getsource(fast._span_conv_forward_plain))

# %% [markdown]
# ## 6. The backward pass
#
# Let $G = \partial L / \partial\, \text{out}$, of shape $(B, T, H, D)$. Drop $b$ and $h$ (they
# just come along). Since $\text{out}[t, d] = \sum_k W[t,k]\, V[t+k-P, d]$:
#
# * **Kernels.** $W[t, k]$ multiplies the whole vector $V[t + k - P]$ into $\text{out}[t]$, so
#   $$\frac{\partial L}{\partial W[t,k]} = \sum_d G[t, d]\; V[t + k - P, d]$$
#   (zero when $t + k - P$ falls outside the sequence).
# * **Values.** $V[s]$ is read by every output $t$ whose span covers it: $t + k - P = s$, that is
#   $t = s - k + P$ for each tap $k$. Summing those uses,
#   $$\frac{\partial L}{\partial V[s, d]} = \sum_k W[s - k + P, k]\; G[s - k + P, d]$$
#   (only the $t$ inside $[0, T)$).
#
# In the matrix view $\text{out} = M V$, these are the familiar rules for a matrix product:
# $\partial L/\partial V = M^\top G$ and $\partial L/\partial M = G V^\top$, of which only the band
# matters: $\partial L/\partial W[t,k] = (G V^\top)[t, t+k-P]$. That gives an independent
# implementation, slow ($O(T^2)$) but short, to check the kernels against:

# %%
def span_conv_backward_matrix(values, kernels, grad_out):
    """(dL/dvalues, dL/dkernels) through the banded matrix M: out = M @ V per (batch, head)."""
    B, T, H, D = values.shape
    K = kernels.shape[-1]
    P = (K - 1) // 2
    M = analysis.kernels_to_matrix(kernels.transpose(0, 2, 1, 3))  # (B, H, T, T)
    V = values.transpose(0, 2, 1, 3)  # (B, H, T, D)
    G = grad_out.transpose(0, 2, 1, 3)  # (B, H, T, D)
    grad_V = np.swapaxes(M, -1, -2) @ G  # (B, H, T, D)
    grad_M = G @ np.swapaxes(V, -1, -2)  # (B, H, T, T)
    grad_W = np.zeros((B, H, T, K))
    for t in range(T):
        for k in range(K):
            if 0 <= t + k - P < T:
                grad_W[:, :, t, k] = grad_M[:, :, t, t + k - P]
    return grad_V.transpose(0, 2, 1, 3), grad_W.transpose(0, 2, 1, 3)


grad_out = rng.standard_normal(values.shape)
want_V, want_W = span_conv_backward_matrix(values, kernels, grad_out)
for name, module in (("reference (NumPy)", reference), ("fast (numba)", fast)):
    got_V, got_W = module.span_conv_backward(values, kernels, grad_out)
    print(f"{name:18} dV ok: {np.allclose(got_V, want_V)}, dW ok: {np.allclose(got_W, want_W)}")

# %% [markdown]
# And the decisive test: finite differences (notebook 1) through the differentiable operation
# `F.span_conv`, with both kernel implementations, including a sequence shorter than the kernel
# (every position then touches the padding):

# %%
for backend in ("numpy", "numba"):
    with minconvbert.backend(backend):
        for T_ in (7, 2):
            v = Tensor(rng.standard_normal((2, T_, 2, 3)), requires_grad=True)
            w = Tensor(rng.standard_normal((2, T_, 2, 5)), requires_grad=True)
            print(f"{backend:5} T={T_}: gradcheck", gradcheck(F.span_conv, [v, w]))

# %% [markdown]
# With PyTorch, autograd through the unfold formulation must give the same gradients:

# %%
if torch is None:
    print("PyTorch is not installed: skipped.")
else:
    vt = torch.tensor(values, requires_grad=True)
    wt = torch.tensor(kernels, requires_grad=True)
    padded = torch.nn.functional.pad(vt, (0, 0, 0, 0, (K - 1) // 2, (K - 1) // 2))  # pad the T axis
    spans_t = padded.unfold(1, K, 1)  # (B, T, H, D, K)
    out_t = torch.einsum("bthdk,bthk->bthd", spans_t, wt)
    out_t.backward(torch.tensor(grad_out))
    print("forward ok:", np.allclose(out_t.detach().numpy(), out_loops))
    print("dV ok:", np.allclose(vt.grad.numpy(), want_V), "| dW ok:", np.allclose(wt.grad.numpy(), want_W))

# %% [markdown]
# ## 7. Speed
#
# Forward and backward at the size of one conv-bert-base layer (12 heads, of which $H = 6$ are
# convolution heads, $D = 64$, $K = 9$) on a batch of 8 sequences of 128 tokens, in float32. The
# Python loops are timed on 16 positions of one sequence and scaled up. Timings on a shared
# machine are noisy; the ratios are what matter.

# %%
def best_time(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


B, T, H, D, K = 8, 128, 6, 64, 9
values32 = rng.standard_normal((B, T, H, D)).astype(np.float32)
kernels32 = softmax(rng.standard_normal((B, T, H, K))).astype(np.float32)
grad32 = rng.standard_normal((B, T, H, D)).astype(np.float32)

rows = []
one_row = best_time(lambda: span_conv_loops(values32[:1, :16], kernels32[:1, :16]), repeat=1)
rows.append(("Python loops (scaled from 1 x 16 positions)", one_row * B * T / 16, None))
rows.append(("numba-compiled loops, 1 thread", best_time(lambda: span_conv_numba(values32, kernels32)), None))
rows.append(("unfold + einsum (NumPy)", best_time(lambda: span_conv_unfold(values32, kernels32)), None))
rows.append(("reference layout: unfold + batched matmul", best_time(lambda: span_conv_reference_layout(values32, kernels32)),
             None))
rows.append(("reference kernel (NumPy shifts)", best_time(lambda: reference.span_conv_forward(values32, kernels32)),
             best_time(lambda: reference.span_conv_backward(values32, kernels32, grad32))))
rows.append(("fast kernel (numba, parallel)", best_time(lambda: fast.span_conv_forward(values32, kernels32)),
             best_time(lambda: fast.span_conv_backward(values32, kernels32, grad32))))
if torch is not None:
    vt, wt = torch.tensor(values32), torch.tensor(kernels32)

    def torch_unfold():
        padded = torch.nn.functional.pad(vt, (0, 0, 0, 0, (K - 1) // 2, (K - 1) // 2))
        return torch.einsum("bthdk,bthk->bthd", padded.unfold(1, K, 1), wt)

    rows.append(("torch: unfold + einsum", best_time(torch_unfold), None))

reference_forward = rows[4][1]
print(f"{'implementation':45} {'forward':>10} {'backward':>10} {'forward speed-up vs reference':>30}")
for name, forward, backward in rows:
    back = f"{backward * 1e3:8.2f}ms" if backward is not None else f"{'':>10}"
    print(f"{name:45} {forward * 1e3:8.2f}ms {back} {reference_forward / forward:29.2f}x")

# %% [markdown]
# Reading the table (your numbers will differ; on a machine shared with other jobs they also vary
# from run to run):
#
# * the formula is the same everywhere; the implementations differ only in how they walk memory;
# * interpreted Python loops are about a thousand times slower than anything else: never loop
#   over elements in Python;
# * the shifted-slice reference does $K$ big vectorised operations and never builds the $K$-times
#   larger span tensor; `einsum` over the strided span *view* is competitive too;
# * the reference's layout (many tiny $(D, K) \times (K, 1)$ matrix products) pays for its generality:
#   a batched matmul is efficient for big matrices, not for millions of tiny ones;
# * compiled loops touch each value once per tap with no temporaries. At this size, a plain
#   single-threaded compiled loop can even beat the package's parallel kernel: starting threads,
#   checking arguments and making arrays contiguous cost time that a bigger batch would hide.
#
# **Try it.** Change $K$ (must be odd) and $T$ above and see which implementation scales how.
# Assignment A2 ([docs/assignments/a2_span_conv](../docs/assignments/a2_span_conv/README.md)) asks you
# to write `unfold_spans`, the forward and the backward yourself, and grades them against the kernels.
