# Source of notebooks/04_mixed_attention_block.ipynb and instructor/notebooks/04_mixed_attention_block.ipynb
# (build both with: python scripts/build_notebooks.py).

# %% [markdown]
# # 4. The mixed attention block, step by step
#
# A ConvBERT layer is a BERT layer whose self-attention is replaced by **mixed attention**: $H$
# ordinary self-attention heads side by side with $H$ span-based dynamic convolution heads
# (notebook 3), their outputs concatenated. In this notebook you will compute one whole
# `ConvBertLayer` by hand, in plain NumPy, printing every shape, and check the result
#
# * against minconvbert's `ConvBertLayer` with the same weights;
# * against transformers' `ConvBertLayer`, when transformers and PyTorch are installed.
#
# On the way: the head arithmetic (`head_ratio`), the separable convolution that makes kernels
# depend on a span, the attention mask, the padding leak of the convolution branch, and what each
# kind of head costs. Runs in seconds.
#
# **Exercises.** Five cells ask you to write one step of the block (they raise
# `NotImplementedError` until you do): the additive mask, the depthwise convolution, the dynamic
# kernels, the attention probabilities and the concatenation of the heads. The cell after each
# compares your result with the package's layer on the same weights and says what is wrong; the
# notebook then goes on with the right values, so it runs to the end either way.

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
import types
import warnings

import numpy as np

from minconvbert import ConvBertConfig, Tensor, functional as F, viz
from minconvbert.exercises import check, exercise, summary
from minconvbert.kernels import reference
from minconvbert.models.convbert.layers import ConvBertLayer, ConvBertSelfAttention, additive_attention_mask
from minconvbert.tensor import no_grad

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Sizes: how the heads are split
#
# From the config: `num_attention_heads` $= 4$ and `head_ratio` $= 2$ give
# $H = 4 / 2 = 2$ self-attention heads **and** $H = 2$ convolution heads. Each head has size
# $D = C / H / 2$, so that the $2H$ heads together fill the hidden size $C$. With `head_ratio` $= 1$
# there would be 4 + 4 heads of half the size; if $4 / \text{head\_ratio}$ rounds down to 0, the
# reference uses a single head of each kind.

# %%
config = ConvBertConfig(vocab_size=50, hidden_size=64, num_hidden_layers=1, num_attention_heads=4, head_ratio=2,
                        intermediate_size=128, conv_kernel_size=5, hidden_act="gelu", layer_norm_eps=1e-12,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
C, H, D, K = config.hidden_size, config.heads_per_kind, config.attention_head_size, config.conv_kernel_size
print(f"hidden C = {C}; H = {H} attention heads + {config.heads_per_kind} convolution heads; head size D = {D}; "
      f"H*D = {H * D}; kernel K = {K}")

# %% [markdown]
# The whole block, which the rest of this notebook computes one box at a time. The **query** feeds
# both branches: the attention heads compare it with the keys; the convolution heads multiply it
# elementwise with `key_conv`, a convolution of the input over the sequence, and turn the product
# into one $K$-tap kernel per position and head.

# %%
viz.mixed_attention_diagram(config)

# %% [markdown]
# ## 2. The layer and its weights
#
# We build minconvbert's `ConvBertLayer` and give every parameter random values (fresh layers have
# zero biases and unit LayerNorm weights, which would hide mistakes). Every name is the name of the
# same tensor in transformers' state dict.

# %%
minconvbert.manual_seed(0)
layer = ConvBertLayer(config).eval()
rng = np.random.default_rng(0)
for name, p in layer.named_parameters():
    base = 1.0 if name.endswith("LayerNorm.weight") else 0.0
    p.data[...] = base + rng.normal(0, 0.2, p.shape)
W = {name: p.data.astype(np.float64) for name, p in layer.named_parameters()}  # float64 copies for the hand computation
for name, value in W.items():
    print(f"{name:52} {value.shape}")
layer64 = ConvBertLayer(config).eval()  # the same weights in float64: the checks compare with it
layer64.load_state_dict({name: value for name, value in W.items()})
layer64 = layer64.to(np.float64)

# %% [markdown]
# ## 3. The input and the mask
#
# Two sequences of $T = 10$ positions; the second is padded: its last 3 positions are not tokens.
# The attention mask is turned into an *additive* mask, 0 where a key may be attended to and the
# most negative float where it may not, shaped $(B, 1, 1, T)$ to broadcast over heads and queries.

# %%
B, T = 2, 10
x = rng.standard_normal((B, T, C))  # (B, T, C): the layer input (hidden states)
attention_mask = np.ones((B, T), dtype=np.int64)
attention_mask[1, -3:] = 0
print("x", x.shape, "| attention mask", attention_mask.shape, "| sequence 1:", attention_mask[1])

# %% [markdown]
# **Exercise 4.1.** Turn the (B, T) mask of 1 and 0 into the additive $(B, 1, 1, T)$ mask: 0 where
# the key is a token, `np.finfo(dtype).min` (the most negative finite number) where it is padding.
# Why not `-inf`? A row whose keys are all masked would give $-\infty - (-\infty) = $ NaN in the
# softmax; a finite minimum gives a uniform row instead.

# %%
def additive_mask(attention_mask, dtype):
    """(B, T) of 1 (a token) / 0 (padding) -> (B, 1, 1, T) of 0 / np.finfo(dtype).min, in dtype."""
    # BEGIN SOLUTION
    return np.where(attention_mask[:, None, None, :] == 1, 0.0, np.finfo(dtype).min).astype(dtype)
    # END SOLUTION


# %%
lowest = np.finfo(np.float64).min
additive = exercise("4.1", "additive_mask", lambda: additive_mask(attention_mask, np.float64),
                    expected=additive_attention_mask(attention_mask, np.float64),  # (B, 1, 1, T)
                    mistakes={"0 and the minimum are swapped: the tokens get the minimum, the padding 0": lambda:
                              np.where(attention_mask[:, None, None, :] == 1, lowest, 0.0),
                              "-inf instead of the most negative finite number": lambda:
                              np.where(attention_mask[:, None, None, :] == 1, 0.0, -np.inf)})
print("row of sequence 1:", additive[1, 0, 0])

# %% [markdown]
# ## 4. Step by step
#
# ### 4.1 Projections
# Query, key and value, as in BERT, but only to $H \cdot D = C/2$ features: the other half of the
# output will come from the convolution heads.

# %%
def linear(x, name):
    return x @ W[f"{name}.weight"].T + W[f"{name}.bias"]


query = linear(x, "attention.self.query")  # (B, T, H*D)
key = linear(x, "attention.self.key")  # (B, T, H*D)
value = linear(x, "attention.self.value")  # (B, T, H*D)
print("query", query.shape, "key", key.shape, "value", value.shape)

# %% [markdown]
# ### 4.2 The span-aware "key" of the convolution: a separable convolution
#
# `key_conv_attn_layer` is a **depthwise** convolution over the sequence (each of the $C$ channels
# has its own $K$-tap filter, weight $(C, 1, K)$, zero padding $K // 2$), then a **pointwise**
# one (a $1 \times 1$ convolution, i.e. a linear map $C \to H D$ at each position, weight
# $(HD, C, 1)$), plus a bias $(HD, 1)$. Far fewer weights than a full convolution
# ($CK + C \cdot HD$ instead of $C \cdot HD \cdot K$), and each output position sees a span of $K$ tokens.

# %% [markdown]
# **Exercise 4.2.** The depthwise part: $\text{out}[b, t, c] = \sum_k w[c, k]\, x[b, t + k - K/\!/2, c]$ with
# $x$ zero outside the sequence (so the output keeps $T$ positions). One shifted slice per tap, as
# in notebook 3, or `np.pad` and a loop over the $K$ taps.

# %%
def depthwise_conv(x, dw):
    """x (B, T, C), dw (C, K) -> (B, T, C): out[b, t, c] = sum_k dw[c, k] * x[b, t + k - K // 2, c], zero padding."""
    # BEGIN SOLUTION
    T, K = x.shape[1], dw.shape[1]
    padded = np.pad(x, ((0, 0), (K // 2, K - 1 - K // 2), (0, 0)))  # (B, T + K - 1, C)
    return sum(padded[:, k : k + T, :] * dw[:, k] for k in range(K))  # tap k reads position t + k - K//2
    # END SOLUTION


# %%
dw = W["attention.self.key_conv_attn_layer.depthwise.weight"][:, 0, :]  # (C, K)
pw = W["attention.self.key_conv_attn_layer.pointwise.weight"][:, :, 0]  # (H*D, C)
bias = W["attention.self.key_conv_attn_layer.bias"][:, 0]  # (H*D,)
depthwise = exercise("4.2", "depthwise_conv", lambda: depthwise_conv(x, dw),
                     expected=F.depthwise_conv1d(Tensor(x), Tensor(dw)).data,  # (B, T, C)
                     mistakes={"the filter is flipped: tap k reads position t + k - K//2 (a correlation, as the "
                               "reference computes), not t - k + K//2": lambda:
                               F.depthwise_conv1d(Tensor(x), Tensor(dw[:, ::-1].copy())).data})
key_conv = depthwise @ pw.T + bias  # (B, T, H*D): the pointwise convolution is a linear map at each position
print("depthwise", depthwise.shape, "-> pointwise + bias: key_conv", key_conv.shape)
with no_grad():
    check(np.allclose(key_conv, layer64.attention.self.key_conv_attn_layer(Tensor(x)).data),
          "depthwise, pointwise and bias give the layer's key_conv_attn_layer")

# %% [markdown]
# ### 4.3 Dynamic kernels
#
# The span-aware key, multiplied elementwise by the query, goes through `conv_kernel_layer`
# (a Linear to $H \cdot K$), and a softmax over the $K$ taps: one kernel per (sequence, position, head).

# %%
def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


with no_grad():  # what the package's layer computes on the same input, to check the exercises against
    want_mixed, want_probs, want_kernels = (t.data for t in layer64.attention.self(Tensor(x), additive))

# %% [markdown]
# **Exercise 4.3.** The kernels: multiply `key_conv` by the query elementwise, apply
# `conv_kernel_layer` (`linear(..., "attention.self.conv_kernel_layer")`, to $H K$ features),
# reshape to $(B, T, H, K)$ and take the softmax over the $K$ taps.

# %%
def dynamic_kernels(key_conv, query):
    """key_conv, query (B, T, H*D) -> kernels (B, T, H, K), a softmax over the last axis."""
    # BEGIN SOLUTION
    kernel_logits = linear(key_conv * query, "attention.self.conv_kernel_layer")  # (B, T, H*K)
    return softmax(kernel_logits.reshape(B, T, H, K))  # (B, T, H, K)
    # END SOLUTION


# %%
logits = linear(key_conv * query, "attention.self.conv_kernel_layer").reshape(B, T, H, K)
kernels = exercise("4.3", "dynamic_kernels", lambda: dynamic_kernels(key_conv, query), expected=want_kernels,
                   mistakes={"the softmax is over the heads, not the K taps": lambda: softmax(logits, axis=2),
                             "the query is missing: the kernels come from key_conv * query": lambda:
                             softmax(linear(key_conv, "attention.self.conv_kernel_layer").reshape(B, T, H, K))})
print("kernels", kernels.shape, "| sums:", kernels.sum(-1)[0, :3, 0])

# %% [markdown]
# ### 4.4 The convolution heads
#
# Their values come from another Linear of the layer input (`conv_out_layer`), split into heads;
# then the span convolution of notebook 3: $\text{out}[t] = \sum_k W[t, k]\, V[t + k - P]$.

# %%
conv_values = linear(x, "attention.self.conv_out_layer").reshape(B, T, H, D)  # (B, T, H, D)
conv_out = reference.span_conv_forward(conv_values, kernels)  # (B, T, H, D)
print("conv values", conv_values.shape, "-> conv heads' output", conv_out.shape)

# %% [markdown]
# ### 4.5 The attention heads
#
# Exactly BERT's: scores $Q K^\top / \sqrt{D}$ per head, plus the additive mask, softmax over the
# keys, times the values.

# %% [markdown]
# **Exercise 4.4.** The attention probabilities: split the query and the key into heads,
# $(B, T, HD) \to (B, H, T, D)$, then $\mathrm{softmax}(q k^\top / \sqrt{D} + \text{mask})$ over the keys.

# %%
def attention_probs(query, key, additive):
    """query, key (B, T, H*D), additive mask (B, 1, 1, T) -> probs (B, H, T, T), rows summing to 1."""
    # BEGIN SOLUTION
    q = query.reshape(B, T, H, D).transpose(0, 2, 1, 3)  # (B, H, T, D)
    k = key.reshape(B, T, H, D).transpose(0, 2, 1, 3)  # (B, H, T, D)
    return softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(D) + additive)  # (B, H, T, T)
    # END SOLUTION


# %%
heads = lambda a: a.reshape(B, T, H, D).transpose(0, 2, 1, 3)  # (B, T, H*D) -> (B, H, T, D)
raw_scores = heads(query) @ heads(key).transpose(0, 1, 3, 2)  # (B, H, T, T), not yet scaled
probs = exercise("4.4", "attention_probs", lambda: attention_probs(query, key, additive), expected=want_probs,
                 mistakes={"the scores are not divided by sqrt(D)": lambda: softmax(raw_scores + additive),
                           "the mask is not added: the padded keys get weight": lambda:
                           softmax(raw_scores / math.sqrt(D)),
                           "the softmax is over the queries (axis -2), not the keys": lambda:
                           softmax(raw_scores / math.sqrt(D) + additive, axis=-2)})
context = (probs @ heads(value)).transpose(0, 2, 1, 3)  # (B, T, H, D)
print("probs", probs.shape, "-> context", context.shape)
print("attention paid to the 3 padded keys by sequence 1:", probs[1, :, :, -3:].sum())

# %% [markdown]
# ### 4.6 Mix, then the usual residual blocks
#
# Concatenate per position: first the $H$ attention heads, then the $H$ convolution heads, back to
# $C$ features. The rest is BERT: a dense layer, residual connection and LayerNorm; then the
# feed-forward network (dense to the intermediate size, GELU, dense back), residual and LayerNorm.

# %%
def layer_norm(x, name, eps=config.layer_norm_eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * W[f"{name}.weight"] + W[f"{name}.bias"]


def gelu(x):  # exact GELU: x * Phi(x)
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


# %% [markdown]
# **Exercise 4.5.** Concatenate the heads: per position, first the $H$ attention heads, then the $H$
# convolution heads, each of $D$ features, back to $C = 2HD$ features. Mind *which* axis: the
# heads axis, so that each head's $D$ features stay together.

# %%
def mix(context, conv_out):
    """context, conv_out (B, T, H, D) -> (B, T, C): attention heads first, then convolution heads."""
    # BEGIN SOLUTION
    return np.concatenate([context, conv_out], axis=2).reshape(B, T, C)  # (B, T, 2H, D) -> (B, T, C)
    # END SOLUTION


# %%
mixed = exercise("4.5", "mix", lambda: mix(context, conv_out), expected=want_mixed,
                 mistakes={"the convolution heads come first; the reference puts the attention heads first": lambda:
                           np.concatenate([conv_out, context], axis=2).reshape(B, T, C),
                           "joined along the features: each attention head is interleaved with a conv head": lambda:
                           np.concatenate([context, conv_out], axis=3).reshape(B, T, C)})
attention_output = layer_norm(linear(mixed, "attention.output.dense") + x, "attention.output.LayerNorm")  # (B, T, C)
intermediate = gelu(linear(attention_output, "intermediate.dense"))  # (B, T, I)
layer_output = layer_norm(linear(intermediate, "output.dense") + attention_output, "output.LayerNorm")  # (B, T, C)
print("mixed", mixed.shape, "-> attention output", attention_output.shape, "-> intermediate", intermediate.shape,
      "-> layer output", layer_output.shape)

# %% [markdown]
# ## 5. Check against the package's `ConvBertLayer`
#
# The package's layer returns the output, the attention probabilities and the kernels. In float64
# everything must agree to rounding error; in float32 (the model's usual dtype) to about $10^{-6}$.

# %%
ours, ours_probs, ours_kernels = layer64(Tensor(x), additive)
print("float64: output", np.abs(ours.data - layer_output).max(), "| probs", np.abs(ours_probs.data - probs).max(),
      "| kernels", np.abs(ours_kernels.data - kernels).max())
out32, _, _ = layer(Tensor(x.astype(np.float32)), additive_attention_mask(attention_mask, np.float32))
print("float32: output", np.abs(out32.data - layer_output).max())
check(np.abs(ours.data - layer_output).max() < 1e-12, "in float64 the hand computation equals the layer")
check(np.abs(out32.data - layer_output).max() < 1e-5, "in float32 it agrees to better than 1e-5")

# %% [markdown]
# `viz.layer_overview` draws every head of the layer for the padded sequence 1, on one colour
# scale: the attention heads on top (row = query, column = key; the last 3 columns, the padded
# keys, are dark: weight 0, the mask), the convolution heads below, each kernel placed on its band. The
# bands run over the padded positions too: the convolution branch does not look at the mask,
# which section 6 measures.

# %%
heads_of_layer = types.SimpleNamespace(attentions=[ours_probs.data],  # (B, H, T, T)
                                       conv_kernels=[ours_kernels.data.transpose(0, 2, 1, 3)])  # (B, H, T, K)
viz.layer_overview(heads_of_layer, layer=0, example=1,
                   tokens=[f"t{i}" if keep else "pad" for i, keep in enumerate(attention_mask[1])], vmax=0.6)

# %% [markdown]
# ## 6. The padding leak of the convolution branch
#
# The attention heads never look at padded keys (the mask), so whatever sits at padded positions
# cannot change the real tokens' attention outputs. The convolution heads have no mask: the
# separable convolution and the span convolution read neighbours, padding included. Change only
# the hidden states at the padded positions of sequence 1 and watch the real tokens:

# %%
x_changed = x.copy()
x_changed[1, -3:] += rng.standard_normal((3, C))  # only padded positions change
real = attention_mask[1] == 1


def real_token_change(conv_keep=None):
    a, _, _ = layer64(Tensor(x), additive, conv_keep=conv_keep)
    b, _, _ = layer64(Tensor(x_changed), additive, conv_keep=conv_keep)
    return np.abs(a.data[1, real] - b.data[1, real]).max(axis=-1)  # per real position


print("as the reference does it      :", real_token_change())
keep = attention_mask[:, :, None].astype(np.float64)  # (B, T, 1): 1 for tokens, 0 for padding
print("with padding masked (ours only):", real_token_change(conv_keep=keep))

# %% [markdown]
# Only the real tokens within $K // 2 = 2$ positions of the padding (here the last two) change,
# but they do: the same sentence gives different outputs depending on how much padding follows it.
# transformers behaves the same way, and parity means matching it, so minconvbert does too by
# default. `ConvBertConfig(mask_conv_padding=True)` (our own option, not in the reference) zeroes
# the padded positions before both convolutions, which removes the leak, as the second line shows.
# Notebook 7 measures the effect on a trained model.

# %% [markdown]
# ## 7. Check against transformers
#
# If transformers and PyTorch are installed, build its `ConvBertLayer` from the same config, load
# the same state dict (the names are identical, no mapping needed) and compare the outputs, in
# float64 and in float32.

# %%
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice when ipywidgets is absent
try:
    import torch
    import transformers
except ImportError:
    torch = transformers = None
    print("transformers and PyTorch are not installed: skipping the comparison "
          "(pip install torch transformers).")

if transformers is not None:
    reference_config = transformers.ConvBertConfig(**{k: v for k, v in config.to_dict().items()
                                                      if k not in ("mask_conv_padding", "model_type")})
    their_layer = transformers.models.convbert.modeling_convbert.ConvBertLayer(reference_config).eval()
    their_layer.load_state_dict({name: torch.tensor(value) for name, value in W.items()})
    for dtype, ours_out in ((torch.float32, out32.data), (torch.float64, layer_output)):
        their_layer.to(dtype)
        mask = torch.tensor(additive_attention_mask(attention_mask, np.float32 if dtype == torch.float32 else np.float64))
        with torch.no_grad():
            theirs = their_layer(torch.tensor(x, dtype=dtype), mask)
        theirs = theirs[0] if isinstance(theirs, tuple) else theirs
        print(f"{str(dtype):14} max |ours - transformers| = {np.abs(theirs.numpy() - ours_out).max():.2e}")
    with torch.no_grad():  # the layer is in float64 now
        _, their_probs = their_layer.attention.self(torch.tensor(x), torch.tensor(additive))
    print("attention probabilities:", np.abs(their_probs.numpy() - probs).max())

# %% [markdown]
# ## 8. What each kind of head costs
#
# Per layer of conv-bert-base ($C = 768$, 12 heads, so $H = 6$ of each kind, $D = 64$, $K = 9$):
# first the weights of the mixed attention block, by module; then the multiply-adds of the mixing
# itself, which is where the two kinds differ (the projections cost the same per token for both).
# An attention head computes $T \times T$ scores ($T^2 D$) and mixes $T$ values per position
# ($T^2 D$); a convolution head mixes $K$ values per position ($T K D$).

# %%
base = ConvBertConfig.from_preset("conv-bert-base")
block = ConvBertSelfAttention(base)
for name, module in block.named_children():
    count = sum(p.size for p in module.parameters())
    if count:
        print(f"{name:22} {count:>9,}")
Hb, Db, Kb = base.heads_per_kind, base.attention_head_size, base.conv_kernel_size
print(f"\n{'T':>6} {'attention heads: 2 T^2 H D':>28} {'convolution heads: T H D K':>28}")
for T_ in (128, 512, 4096):
    print(f"{T_:>6} {2 * T_ * T_ * Hb * Db:>28,} {T_ * Hb * Db * Kb:>28,}")

# %% [markdown]
# The convolution heads cost a few extra weight matrices (the separable convolution, the kernel
# generator, their own value projection), but their mixing grows linearly in $T$, while
# attention's grows quadratically. Half of the heads of a ConvBERT layer are of this cheap, local
# kind, in the same hidden size as BERT.
#
# ## What next
#
# * Assignment A3 ([docs/assignments/a3_mixed_attention](../docs/assignments/a3_mixed_attention/README.md))
#   asks you to write this block yourself with minconvbert's differentiable operations; the grader
#   compares your outputs *and gradients* with the model's `ConvBertSelfAttention`.
# * Notebook 5 saves and loads these weights in the published checkpoint format.

# %%
summary();
