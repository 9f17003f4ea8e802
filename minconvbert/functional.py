"""The functional API: lowercase wrappers around the operations in minconvbert.ops.

Each wrapper turns Python numbers and NumPy arrays into constant Tensors (numbers take the other
operand's dtype, so `x * 0.5` stays float32) and calls `SomeOp.apply`. Composite functions
(var, mse_loss, dropout, split, ...) are written from the primitives and need no backward of
their own.
"""

from __future__ import annotations

import builtins

import numpy as np

from minconvbert import random as _random
from minconvbert.ops import conv, elementwise, embedding as _embedding, loss, matmul as _matmul, movement, norm
from minconvbert.ops import reduce, softmax as _softmax
from minconvbert.tensor import Tensor, data_of

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "selu",
    "gelu", "gelu_new", "softmax", "log_softmax", "sum", "mean", "max", "var", "matmul", "linear",
    "reshape", "permute", "swapaxes", "expand", "squeeze", "unsqueeze", "concatenate", "stack", "split",
    "getitem", "where", "masked_fill", "astype", "embedding", "layer_norm", "dropout", "cross_entropy",
    "mse_loss", "binary_cross_entropy_with_logits", "depthwise_conv1d", "span_conv", "as_tensor",
]  # fmt: skip


def as_tensor(x, like=None) -> Tensor:
    """`x` if it is a Tensor, else a constant Tensor.

    A number (Python or NumPy scalar) next to a Tensor `like` takes the dtype NumPy gives a Python
    number there, so `x * 0.5` and `x / np.sqrt(d)` stay float32 for a float32 `x`.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(like, Tensor) and isinstance(x, (int, float, bool, np.number, np.bool_)):
        value = x.item() if isinstance(x, np.generic) else x
        return Tensor._make(np.asarray(value, dtype=np.result_type(like.data.dtype, value)), None)
    return Tensor(x)


def _pair(a, b):
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    return a, b


# ----- arithmetic ------------------------------------------------------------------------------
def add(a, b) -> Tensor:
    return elementwise.Add.apply(*_pair(a, b))


def sub(a, b) -> Tensor:
    return elementwise.Sub.apply(*_pair(a, b))


def mul(a, b) -> Tensor:
    return elementwise.Mul.apply(*_pair(a, b))


def div(a, b) -> Tensor:
    return elementwise.Div.apply(*_pair(a, b))


def neg(x) -> Tensor:
    return elementwise.Neg.apply(as_tensor(x))


def pow(x, exponent) -> Tensor:  # noqa: A001 (mirrors torch.pow)
    if isinstance(exponent, Tensor):
        raise TypeError("pow: the exponent must be a number (x ** 2.0), not a tensor")
    return elementwise.Pow.apply(as_tensor(x), exponent=exponent)


# ----- elementwise maths and activations ---------------------------------------------------------
def exp(x) -> Tensor:
    return elementwise.Exp.apply(as_tensor(x))


def log(x) -> Tensor:
    return elementwise.Log.apply(as_tensor(x))


def sqrt(x) -> Tensor:
    return elementwise.Sqrt.apply(as_tensor(x))


def tanh(x) -> Tensor:
    return elementwise.Tanh.apply(as_tensor(x))


def sigmoid(x) -> Tensor:
    return elementwise.Sigmoid.apply(as_tensor(x))


def relu(x) -> Tensor:
    return elementwise.Relu.apply(as_tensor(x))


def selu(x) -> Tensor:
    return elementwise.Selu.apply(as_tensor(x))


def gelu(x) -> Tensor:
    """Exact GELU, x * Phi(x) (transformers' "gelu")."""
    return elementwise.Gelu.apply(as_tensor(x))


def gelu_new(x) -> Tensor:
    """Tanh-approximated GELU (transformers' "gelu_new")."""
    return elementwise.GeluNew.apply(as_tensor(x))


def softmax(x, axis: int = -1, mask=None) -> Tensor:
    """softmax(x + mask) along `axis`; `mask` is an additive constant array (last axis only)."""
    mask = data_of(mask)
    return _softmax.Softmax.apply(as_tensor(x), axis=axis, mask=mask)


def log_softmax(x, axis: int = -1) -> Tensor:
    return _softmax.LogSoftmax.apply(as_tensor(x), axis=axis)


def where(condition, a, b) -> Tensor:
    """a where condition else b; condition is a boolean array (not differentiated)."""
    condition = np.asarray(data_of(condition), dtype=bool)
    a, b = _pair(a, b)
    return elementwise.Where.apply(a, b, condition=condition)


def masked_fill(x, mask, value) -> Tensor:
    """x with `value` wherever the boolean `mask` is True (as torch's masked_fill)."""
    return where(mask, value, x)


def astype(x, dtype) -> Tensor:
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if x.data.dtype.kind == "f" and dtype.kind == "f":
        return elementwise.AsType.apply(x, dtype=dtype)
    return Tensor._make(x.data.astype(dtype), None)  # casts to/from integers carry no gradient


# ----- reductions --------------------------------------------------------------------------------
def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return reduce.Sum.apply(as_tensor(x), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    return reduce.Mean.apply(as_tensor(x), axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return reduce.Max.apply(as_tensor(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance, sum((x - mean)^2) / (n - ddof); ddof=0 as in NumPy (torch.var defaults to ddof=1)."""
    x = as_tensor(x)
    centred = x - mean(x, axis=axis, keepdims=True)
    axes = reduce.normalize_axes(axis, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes]))
    return sum(centred * centred, axis=axis, keepdims=keepdims) / (count - ddof)


# ----- products ----------------------------------------------------------------------------------
def matmul(a, b) -> Tensor:
    return _matmul.MatMul.apply(as_tensor(a), as_tensor(b))


def linear(x, weight, bias=None) -> Tensor:
    """x @ weight^T + bias: x (..., in), weight (out, in), bias (out,) -> (..., out)."""
    if bias is None:
        return _matmul.Linear.apply(as_tensor(x), as_tensor(weight))
    return _matmul.Linear.apply(as_tensor(x), as_tensor(weight), as_tensor(bias))


# ----- shapes and indexing -----------------------------------------------------------------------
def _as_tuple(shape) -> tuple:
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)


def reshape(x, shape) -> Tensor:
    return movement.Reshape.apply(as_tensor(x), shape=_as_tuple(shape))


def permute(x, axes) -> Tensor:
    return movement.Permute.apply(as_tensor(x), axes=_as_tuple(axes))


def swapaxes(x, axis0: int, axis1: int) -> Tensor:
    x = as_tensor(x)
    axes = list(range(x.ndim))
    i, j = reduce.normalize_axis(axis0, x.ndim, "swapaxes"), reduce.normalize_axis(axis1, x.ndim, "swapaxes")
    axes[i], axes[j] = axes[j], axes[i]
    return permute(x, axes)


def expand(x, shape) -> Tensor:
    return movement.Expand.apply(as_tensor(x), shape=_as_tuple(shape))


def squeeze(x, axis=None) -> Tensor:
    """Remove size-1 axes (all of them, or the ones named)."""
    x = as_tensor(x)
    axes = reduce.normalize_axes(axis, x.ndim)
    drop = [a for a in axes if x.shape[a] == 1]
    if axis is not None and len(drop) != len(axes):
        raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have size 1")
    return reshape(x, [n for i, n in enumerate(x.shape) if i not in drop])


def unsqueeze(x, axis: int) -> Tensor:
    """Insert a size-1 axis at `axis`."""
    x = as_tensor(x)
    shape = list(x.shape)
    shape.insert(reduce.normalize_axis(axis, x.ndim + 1, "unsqueeze"), 1)
    return reshape(x, shape)


def concatenate(tensors, axis: int = 0) -> Tensor:
    return movement.Concatenate.apply(*[as_tensor(t) for t in tensors], axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    return movement.Stack.apply(*[as_tensor(t) for t in tensors], axis=axis)


def split(x, split_size, axis: int = 0) -> list:
    """Pieces of `x` along `axis`: of `split_size` each (the last may be shorter), or of the listed sizes."""
    x = as_tensor(x)
    axis = reduce.normalize_axis(axis, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(split_size, (int, np.integer)):
        if split_size < 1:
            raise ValueError(f"split: split_size must be a positive integer, got {split_size}")
        count = builtins.max(1, -(-length // split_size))  # an empty axis still gives one (empty) piece
        sizes = [split_size] * (count - 1) + [length - split_size * (count - 1)]
    else:
        sizes = [int(s) for s in split_size]
    if builtins.sum(sizes) != length or builtins.min(sizes, default=0) < 0:
        raise ValueError(f"split: sizes {sizes} must be >= 0 and add up to {length}, the length of axis {axis}")
    pieces, start = [], 0
    for size in sizes:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + size)
        pieces.append(getitem(x, tuple(index)))
        start += size
    return pieces


def getitem(x, index) -> Tensor:
    """x[index]: basic indexing, or integer/boolean arrays (backward adds up repeated picks)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(data_of(i) for i in index)
    return movement.GetItem.apply(as_tensor(x), index=index)


# ----- layers ------------------------------------------------------------------------------------
def embedding(ids, weight, padding_idx=None) -> Tensor:
    """weight[ids]: ids (...) integers in [0, V), weight (V, D) -> (..., D)."""
    weight = as_tensor(weight)
    ids = np.asarray(data_of(ids))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= weight.shape[0]):
        bad = ids.max() if ids.max() >= weight.shape[0] else ids.min()
        raise ValueError(f"embedding: id {bad} is outside [0, {weight.shape[0]}), the number of embeddings")
    return _embedding.Embedding.apply(weight, ids=ids, padding_idx=padding_idx)


def layer_norm(x, weight, bias, eps: float = 1e-5) -> Tensor:
    """Normalise over the last axis, then scale by weight and shift by bias."""
    return norm.LayerNorm.apply(as_tensor(x), as_tensor(weight), as_tensor(bias), eps=eps)


def dropout(x, p: float = 0.5, training: bool = True, rng=None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); the identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    mask = (_random.resolve(rng).random(x.shape) >= p).astype(x.dtype)  # 1 where kept, in x's dtype
    mask *= 0.0 if p == 1.0 else 1.0 / (1.0 - p)  # in place: no float64 copy of a mask as large as x
    return mul(x, Tensor._make(mask, None))


def depthwise_conv1d(x, weight) -> Tensor:
    """One K-wide filter per channel along the sequence: x (B, T, C), weight (C, K) -> (B, T, C)."""
    return conv.DepthwiseConv1d.apply(as_tensor(x), as_tensor(weight))


def span_conv(values, conv_kernel) -> Tensor:
    """Span-based dynamic convolution: values (B, T, H, D), conv_kernel (B, T, H, K) -> (B, T, H, D)."""
    return conv.SpanConv.apply(as_tensor(values), as_tensor(conv_kernel))


# ----- losses ------------------------------------------------------------------------------------
def cross_entropy(logits, targets, ignore_index: int = -100) -> Tensor:
    """Mean of -log softmax(logits)[target] over targets != ignore_index: logits (N, C), targets (N,)."""
    targets = np.asarray(data_of(targets))
    return loss.CrossEntropy.apply(as_tensor(logits), targets=targets, ignore_index=ignore_index)


def mse_loss(prediction, target) -> Tensor:
    """mean((prediction - target)^2)."""
    prediction, target = _pair(prediction, target)
    if prediction.shape != target.shape:
        raise ValueError(f"mse_loss: prediction {prediction.shape} and target {target.shape} must match")
    diff = prediction - target
    return mean(diff * diff)


def binary_cross_entropy_with_logits(logits, targets) -> Tensor:
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably."""
    logits = as_tensor(logits)
    targets = np.asarray(data_of(targets), dtype=logits.dtype)
    return loss.BCEWithLogits.apply(logits, targets=targets)

