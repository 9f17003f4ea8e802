# Source of notebooks/03_dynamic_convolution.ipynb and instructor/notebooks/03_dynamic_convolution.ipynb
# (build both with: python scripts/build_notebooks.py).

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
# 1. write down the operation, watch its window slide along a sequence, and see it as a banded
#    mixing matrix next to attention's full one;
# 2. implement it three ways in NumPy: loops straight from the formula, shifted slices (the
#    package's reference kernel), and the *unfold* formulation that transformers uses;
# 3. compile the loops with numba;
# 4. derive the backward pass, implement it, and check it every way we can;
# 5. compare the speed of everything.
#
# **Exercises.** Five cells ask you to write a piece of it (they raise `NotImplementedError` until
# you do): the banded matrix, the unfold, the forward through the unfold, and the two halves of
# the backward. The cell after each checks your answer and says what is wrong (the shape, which
# elements, a shift by one, a transpose). The notebook runs to the end either way.
#
# Runs in well under a minute on a laptop CPU. Optional: PyTorch, for the reference's own unfold.

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
import time

import matplotlib.pyplot as plt
import numba
import numpy as np

from minconvbert import Tensor, analysis, functional as F, gradcheck, viz
from minconvbert.exercises import check, exercise, summary
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
# values, with its own weights. Here is that window sliding along a sequence of 16 with $K = 5$: at
# each position $t$ the red frame holds the $K$ values it reads, coloured by their weights
# $W[t, k]$; at the two ends part of the frame hangs over the zero padding, and those weights are
# lost.
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

# %%
rng = np.random.default_rng(0)
T, K, D = 16, 5, 4


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


kernels_1 = softmax(2 * rng.standard_normal((T, K)))  # (T, K): one head's kernels, every row sums to 1
viz.conv_window_frames(kernels_1, positions=[0, 1, 7, 15])

# %% [markdown]
# **The matrix view.** Writing $M[t, s] = W[t, s - t + P]$ for $|s - t| \le P$ (and 0 elsewhere)
# gives $\text{out} = M V$, exactly the form of an attention head, $\text{out} = A V$ with
# $A = \mathrm{softmax}(QK^\top/\sqrt{D})$. The difference: $M$ is **banded**.
#
# **Exercise 3.1.** Build $M$ from the kernels: row $t$ holds $W[t, k]$ in column $t + k - P$, for
# the columns inside $[0, T)$; the weights that fall outside the sequence are dropped.

# %%
def kernels_to_band(kernels):
    """(T, K) kernels -> (T, T) banded matrix M with M[t, t + k - P] = kernels[t, k] inside [0, T), zero elsewhere."""
    # BEGIN SOLUTION
    T, K = kernels.shape
    P = (K - 1) // 2
    M = np.zeros((T, T), dtype=kernels.dtype)
    for k in range(K):
        t = np.arange(max(0, P - k), min(T, T + P - k))  # the rows whose column t + k - P is inside [0, T)
        M[t, t + k - P] = kernels[t, k]
    return M
    # END SOLUTION


# %%
band = exercise("3.1", "kernels_to_band", lambda: kernels_to_band(kernels_1),
                expected=analysis.kernels_to_matrix(kernels_1))  # (T, T)

# %% [markdown]
# Side by side, on one colour scale: an attention head (random queries and keys) mixes every
# position, the convolution head only its band (outlined).

# %%
Q, K_ = rng.standard_normal((T, D)), rng.standard_normal((T, D))
attention = softmax(Q @ K_.T / math.sqrt(D))  # (T, T): every row sums to 1
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
viz.attention_map([attention[None, None]], 0, 0, ax=left, title="attention head: softmax(Q K\u1d40 / \u221aD)")
viz.conv_kernel_map([kernels_1[None, None]], 0, 0, ax=right, title=f"conv head: K = {K}, the band outlined")
for ax in (left, right):
    ax.set_xlabel("position mixed (s)")
    ax.set_ylabel("output position (t)")
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
check(np.allclose(out_loops, out_matrix.transpose(0, 2, 1, 3)), "the loops equal the banded matrix times the values")

# %% [markdown]
# ## 3. Vectorised NumPy: one shift per kernel tap
#
# Swap the loops: for each tap $k$, *all* positions $t$ read the values shifted by $k - P$. That is
# one slice, one multiply and one add over the whole batch, so only $K$ NumPy operations in total.
# The slice bounds keep $t + k - P$ inside the sequence, which is the zero padding without ever
# building a padded copy. This is the package's readable kernel, `span_conv_forward` in
# `minconvbert/kernels/reference.py` (read it there; assignment A2 asks you to write this family of
# functions yourself, so the notebook does not print it).

# %%
check(np.allclose(reference.span_conv_forward(values, kernels), out_loops), "the reference kernel equals the loops")

# %% [markdown]
# ## 4. The unfold formulation (what transformers does)
#
# Another way: first gather, for every position, the whole span it reads,
# $S[b, t, h, d, k] = V[b, t + k - P, h, d]$, then contract it with the kernel:
# $\text{out}[b,t,h,d] = \sum_k S[b,t,h,d,k]\, W[b,t,h,k]$. Building $S$ is called *unfolding*
# ("im2col" in image convolutions). It turns the convolution into one batched matrix product, at
# the price of a tensor $K$ times larger than the values. Row $t$ of the unfolded spans and row $t$
# of the band hold the same weights, arranged differently:

# %%
viz.unfold_and_band(kernels_1, row=7)

# %% [markdown]
# **Exercise 3.2.** Write `unfold_spans` without a Python loop over positions: pad the sequence
# axis with $P$ zeros at each end (`np.pad`), then take a sliding window of width $K$ along it
# (`np.lib.stride_tricks.sliding_window_view(padded, K, axis=1)` returns it as a *view*: no copy,
# just strides; the window axis comes last).

# %%
def unfold_spans(values, K):
    """(B, T, H, D) -> (B, T, H, D, K) with spans[b, t, h, d, k] = values[b, t + k - P, h, d] (zero outside)."""
    # BEGIN SOLUTION
    P = (K - 1) // 2
    padded = np.pad(values, ((0, 0), (P, K - 1 - P), (0, 0), (0, 0)))  # (B, T + K - 1, H, D)
    return np.lib.stride_tricks.sliding_window_view(padded, K, axis=1)  # (B, T, H, D, K), a view
    # END SOLUTION


# %%
# the expected spans, another way: tap k of every span is the values shifted by k - P, which is the
# band matrix of the kernel that puts all its weight on tap k
shift_by_tap = [analysis.kernels_to_matrix(np.tile(np.eye(K)[k], (T, 1))) for k in range(K)]  # K of (T, T)
expected_spans = np.stack([np.einsum("ts,bshd->bthd", shift, values) for shift in shift_by_tap], axis=-1)
exercise("3.2", "unfold_spans", lambda: unfold_spans(values, K), expected=expected_spans);

# %% [markdown]
# **Exercise 3.3.** The forward through the unfold: contract the spans with the kernels over $k$
# (one `np.einsum`).

# %%
def span_conv_unfold(values, kernels):
    """out[b, t, h, d] = sum_k spans[b, t, h, d, k] * kernels[b, t, h, k], spans = unfold_spans(values, K)."""
    # BEGIN SOLUTION
    spans = unfold_spans(values, kernels.shape[-1])  # (B, T, H, D, K)
    return np.einsum("bthdk,bthk->bthd", spans, kernels)  # (B, T, H, D)
    # END SOLUTION


# %%
exercise("3.3", "span_conv_unfold", lambda: span_conv_unfold(values, kernels), expected=out_loops);

# %% [markdown]
# transformers works on channels-first tensors and uses torch's `nn.functional.unfold`, written for
# images: the values, $(B, T, C)$ with $C = H D$, become a $(B, C, T, 1)$ "image", and an unfold
# with a $(K, 1)$ window and padding $(P, 0)$ returns $(B, C K, T)$ with the channel as the slow
# index and the tap as the fast one. It then transposes to $(B, T, C, K)$, reshapes to
# $(BTH, D, K)$, and multiplies by the kernels reshaped to $(BTH, K, 1)$: a batched matrix-vector
# product per (position, head). Here is the same layout in NumPy, built on your `unfold_spans`, and
# checked against torch when it is installed:

# %%
def unfold_like_torch(x, K):
    """x (B, C, T) -> (B, C * K, T): row c * K + k holds x[:, c, t + k - P] (zero outside)."""
    B, C, T = x.shape
    spans = unfold_spans(x.transpose(0, 2, 1)[:, :, None, :], K)  # (B, T, 1, C, K)
    return spans.reshape(B, T, C * K).transpose(0, 2, 1)  # (B, C*K, T)


def span_conv_reference_layout(values, kernels):
    """The reference's sequence of reshapes, in NumPy."""
    B, T, H, D = values.shape
    K = kernels.shape[-1]
    channels_first = values.reshape(B, T, H * D).transpose(0, 2, 1)  # (B, C, T)
    unfolded = unfold_like_torch(channels_first, K)  # (B, C*K, T)
    unfolded = unfolded.transpose(0, 2, 1).reshape(B * T * H, D, K)  # (BTH, D, K)
    out = unfolded @ kernels.reshape(B * T * H, K, 1)  # (BTH, D, 1)
    return out.reshape(B, T, H, D)


try:
    check(np.allclose(span_conv_reference_layout(values, kernels), out_loops), "the reference's layout equals the loops")
    if torch is not None:
        x = values.reshape(B, T, H * D).transpose(0, 2, 1)  # (B, C, T)
        theirs = torch.nn.functional.unfold(torch.tensor(x).unsqueeze(-1), kernel_size=(K, 1),
                                            padding=((K - 1) // 2, 0))
        check(np.allclose(unfold_like_torch(x, K), theirs.numpy()), "unfold_like_torch equals torch.nn.functional.unfold")
except NotImplementedError as error:
    print(f"(this needs exercise 3.2 first: {error})")

# %% [markdown]
# ## 5. Compiling the loops with numba
#
# The loops of section 2 are slow only because Python interprets them. numba compiles a function
# like that to machine code: the very same source, decorated. The package's fast kernel
# (`span_conv_forward` in `minconvbert/kernels/fast.py`) is such a loop, also run in parallel over
# (batch, position) with `prange`; with the environment variable `NUMBA_DISABLE_JIT=1` numba hands
# back the plain Python function, so you can step through it in a debugger.

# %%
start = time.perf_counter()
span_conv_numba = numba.njit(cache=False)(span_conv_loops)  # the function of section 2, compiled
span_conv_numba(values, kernels)  # the first call compiles for these argument types
print(f"compiled in {time.perf_counter() - start:.2f} s")
check(np.allclose(span_conv_numba(values, kernels), out_loops), "numba's compiled loops equal the loops")
check(np.allclose(fast.span_conv_forward(values, kernels), out_loops), "the package's fast kernel equals the loops")

# %% [markdown]
# ## 6. The backward pass
#
# Let $G = \partial L / \partial\, \text{out}$, of shape $(B, T, H, D)$. Drop $b$ and $h$ (they
# just come along). Since $\text{out}[t, d] = \sum_k W[t,k]\, V[t+k-P, d]$:
#
# * **Kernels.** $W[t, k]$ multiplies the whole vector $V[t + k - P]$ into $\text{out}[t]$, so
#   $$\frac{\partial L}{\partial W[t,k]} = \sum_d G[t, d]\; V[t + k - P, d] = \sum_d G[t, d]\; S[t, d, k]$$
#   (zero when $t + k - P$ falls outside the sequence): the unfolded spans again.
# * **Values.** $V[s]$ is read by every output $t$ whose span covers it: $t + k - P = s$, that is
#   $t = s - k + P$ for each tap $k$. Summing those uses,
#   $$\frac{\partial L}{\partial V[s, d]} = \sum_k W[s - k + P, k]\; G[s - k + P, d]$$
#   (only the $t$ inside $[0, T)$). In the matrix view $\text{out} = M V$ this is the familiar rule
#   for a matrix product, $\partial L/\partial V = M^\top G$: a position receives gradient from the
#   outputs that read it, through the *column* of $M$ it sits in.
#
# **Exercise 3.4.** $\partial L/\partial W$ through the unfold (one `np.einsum` over $d$).

# %%
def grad_kernels(values, grad_out, K):
    """dL/dkernels (B, T, H, K) = sum_d grad_out[b, t, h, d] * values[b, t + k - P, h, d]."""
    # BEGIN SOLUTION
    return np.einsum("bthd,bthdk->bthk", grad_out, unfold_spans(values, K))
    # END SOLUTION


# %%
grad_out = rng.standard_normal(values.shape)
want_V, want_W = reference.span_conv_backward(values, kernels, grad_out)
exercise("3.4", "grad_kernels", lambda: grad_kernels(values, grad_out, K), expected=want_W);

# %% [markdown]
# **Exercise 3.5.** $\partial L/\partial V = M^\top G$, per (batch, head): build the band matrices
# of every (batch, head) with `analysis.kernels_to_matrix` (it takes any leading axes: kernels
# $(B, H, T, K)$ give $(B, H, T, T)$), and mind the order of the axes.

# %%
def grad_values_by_band(kernels, grad_out):
    """dL/dvalues (B, T, H, D) = M^T @ G for each (batch, head), M the band of that head's kernels."""
    # BEGIN SOLUTION
    M = analysis.kernels_to_matrix(kernels.transpose(0, 2, 1, 3))  # (B, H, T, T)
    G = grad_out.transpose(0, 2, 1, 3)  # (B, H, T, D)
    return (np.swapaxes(M, -1, -2) @ G).transpose(0, 2, 1, 3)  # (B, T, H, D)
    # END SOLUTION


# %%
band_matrices = analysis.kernels_to_matrix(kernels.transpose(0, 2, 1, 3))  # (B, H, T, T)
exercise("3.5", "grad_values_by_band", lambda: grad_values_by_band(kernels, grad_out), expected=want_V,
         mistakes={"this is M @ G: the gradient flows back through the transpose of M": lambda:
                   (band_matrices @ grad_out.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)});

# %% [markdown]
# Both kernels (the NumPy reference and numba's) must give these gradients:

# %%
for name, module in (("reference (NumPy)", reference), ("fast (numba)", fast)):
    got_V, got_W = module.span_conv_backward(values, kernels, grad_out)
    check(np.allclose(got_V, want_V) and np.allclose(got_W, want_W), f"the {name} backward agrees with the reference")

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
            check(gradcheck(F.span_conv, [v, w]), f"gradcheck of F.span_conv on the {backend} backend, T = {T_}")

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
    check(np.allclose(out_t.detach().numpy(), out_loops), "torch's forward equals the loops")
    check(np.allclose(vt.grad.numpy(), want_V) and np.allclose(wt.grad.numpy(), want_W),
          "torch's autograd gives the same dL/dV and dL/dW")

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

forward = {}  # name -> seconds
one_row = best_time(lambda: span_conv_loops(values32[:1, :16], kernels32[:1, :16]), repeat=1)
forward["Python loops (scaled from 1 x 16 positions)"] = one_row * B * T / 16
forward["numba-compiled loops, 1 thread"] = best_time(lambda: span_conv_numba(values32, kernels32))
for name, fn in (("unfold + einsum (your exercise 3.3)", span_conv_unfold),
                 ("reference layout: unfold + batched matmul", span_conv_reference_layout)):
    try:
        forward[name] = best_time(lambda: fn(values32, kernels32))
    except NotImplementedError:
        print(f"({name}: not timed, the exercise is not done)")
forward["reference kernel (NumPy shifts)"] = best_time(lambda: reference.span_conv_forward(values32, kernels32))
forward["fast kernel (numba, parallel)"] = best_time(lambda: fast.span_conv_forward(values32, kernels32))
if torch is not None:
    vt, wt = torch.tensor(values32), torch.tensor(kernels32)

    def torch_unfold():
        padded = torch.nn.functional.pad(vt, (0, 0, 0, 0, (K - 1) // 2, (K - 1) // 2))
        return torch.einsum("bthdk,bthk->bthd", padded.unfold(1, K, 1), wt)

    forward["torch: unfold + einsum"] = best_time(torch_unfold)
backward = {"reference kernel (NumPy shifts)": best_time(lambda: reference.span_conv_backward(values32, kernels32, grad32)),
            "fast kernel (numba, parallel)": best_time(lambda: fast.span_conv_backward(values32, kernels32, grad32))}

base = forward["reference kernel (NumPy shifts)"]
print(f"{'implementation':45} {'forward':>10} {'backward':>10} {'forward speed-up vs reference':>30}")
for name, seconds in forward.items():
    back = f"{backward[name] * 1e3:8.2f}ms" if name in backward else f"{'':>10}"
    print(f"{name:45} {seconds * 1e3:8.2f}ms {back} {base / seconds:29.2f}x")
for kind, times in (("forward", forward), ("backward", backward)):
    ratio = times["reference kernel (NumPy shifts)"] / times["fast kernel (numba, parallel)"]
    print(f"{kind}: here the numba kernel is {ratio if ratio >= 1 else 1 / ratio:.1f}x "
          f"{'faster' if ratio >= 1 else 'slower'} than the NumPy reference")

# %% [markdown]
# Reading the table (your numbers will differ; on a machine shared with other jobs they also vary
# from run to run):
#
# * the formula is the same everywhere; the implementations differ only in how they walk memory;
# * interpreted Python loops are over a hundred times slower than either of the package's kernels
#   (checked below): never loop over elements in Python;
# * the shifted-slice reference does $K$ big vectorised operations and never builds the $K$-times
#   larger span tensor; `einsum` over the strided span *view* is in the same league;
# * whether the package's numba kernel beats the NumPy reference depends on the size and on the
#   machine: it runs in parallel, but starting threads, checking arguments and making arrays
#   contiguous cost time that a bigger batch would hide, and the backward (two outputs, one
#   accumulated across taps) gains less than the forward. The two lines under the table say
#   which way it went here; `benchmarks/` measures the kernels properly, across sizes.

# %%
kernels_time = max(forward["reference kernel (NumPy shifts)"], forward["fast kernel (numba, parallel)"])
check(forward["Python loops (scaled from 1 x 16 positions)"] > 100 * kernels_time,
      "the Python loops are over 100 times slower than either of the package's kernels")

# %% [markdown]
# **Try it.** Change $K$ (must be odd) and $T$ above and see which implementation scales how.
# Assignment A2 ([docs/assignments/a2_span_conv](../docs/assignments/a2_span_conv/README.md)) asks you
# to write `unfold_spans`, the forward and the backward as fast vectorised NumPy (no O(T²) matrix),
# and grades them against the kernels.

# %%
summary();
