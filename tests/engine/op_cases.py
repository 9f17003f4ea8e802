"""The table of operations under test: how to draw inputs, how to call ours, how to call PyTorch's.

Each OpCase draws an Example: the float64 arrays that are differentiated (they become Tensors that
require grad) and keyword arguments that are not (axes, indices, masks, targets). The same table
drives the finite-difference gradient checks (test_op_gradcheck.py) and the comparisons with
PyTorch (test_op_torch_parity.py), so every op is tested both ways.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from minconvbert import functional as F
from tests.strategies import (
    MAX_SIDE,
    arrays,
    away_from_zero_arrays,
    axes_for,
    batch_shapes,
    broadcast_shapes,
    distinct_arrays,
    positive_arrays,
    shapes,
)


@contextlib.contextmanager
def empty_inputs_may_warn(arrays):
    """Silence NumPy's 0/0 RuntimeWarnings when an input is empty, and only then: the mean of no
    elements is NaN (as in PyTorch), which is what those cases test."""
    with warnings.catch_warnings():
        if any(np.size(a) == 0 for a in arrays):
            warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
            warnings.filterwarnings("ignore", "invalid value encountered in (scalar )?divide", RuntimeWarning)
        yield


@dataclass
class OpCase:
    name: str
    inputs: st.SearchStrategy  # -> (tuple of float64 arrays, dict of keyword arguments)
    ours: Callable  # (*Tensors, **kw) -> Tensor
    torch: Callable | None  # (torch, *torch tensors, **kw) -> torch tensor; None: no PyTorch counterpart
    atol: float = 1e-5
    rtol: float = 1e-4
    gradcheck: bool = True  # False where the gradient is by definition not the derivative (padding_idx)

    def __repr__(self):
        return self.name


def example(*array_strategies, **kw_strategies):
    """Strategy of (arrays, kwargs) from one strategy per array and one per keyword."""
    return st.tuples(st.tuples(*array_strategies), st.fixed_dictionaries(kw_strategies))


@st.composite
def _shaped(draw, shape_strategy, make_example):
    """Draw a shape, then an example built from it (`make_example(shape)` returns a strategy)."""
    return draw(make_example(draw(shape_strategy)))


def on_shape(shape_strategy, make_example):
    return _shaped(shape_strategy, make_example)


def _torch_axes(axis, ndim):
    """Our axis argument as torch's dim: None means every axis (explicitly, so keepdim works)."""
    return tuple(range(ndim)) if axis is None else axis


def _reduced_lengths_ok(shape, axis):
    axes = range(len(shape)) if axis is None else ([axis] if isinstance(axis, int) else axis)
    return all(shape[a] > 0 for a in axes)


CASES: list[OpCase] = []


def case(*args, **kwargs):
    CASES.append(OpCase(*args, **kwargs))


# ----- arithmetic with broadcasting: tensor (op) tensor, both operands differentiated ---------------
def _pair(make_b=arrays):
    return broadcast_shapes(2).flatmap(lambda s: example(arrays(s[0]), make_b(s[1])))


case("add", _pair(), lambda a, b: a + b, lambda t, a, b: a + b)
case("sub", _pair(), lambda a, b: a - b, lambda t, a, b: a - b)
case("mul", _pair(), lambda a, b: a * b, lambda t, a, b: a * b)
case("div", _pair(away_from_zero_arrays), lambda a, b: a / b, lambda t, a, b: a / b)
case("functional add/sub/mul/div", _pair(away_from_zero_arrays),
     lambda a, b: F.div(F.mul(F.sub(F.add(a, b), b), a), b), lambda t, a, b: (a + b - b) * a / b)

# ----- with Python numbers and NumPy arrays on either side (those are constants) ------------------
case("scalar add both sides", example(arrays(shapes())), lambda x: (x + 2.5) + (1.5 + x),
     lambda t, x: (x + 2.5) + (1.5 + x))
case("scalar sub both sides", example(arrays(shapes())), lambda x: (x - 2.5) * (1.5 - x),
     lambda t, x: (x - 2.5) * (1.5 - x))
case("scalar mul both sides", example(arrays(shapes())), lambda x: (x * 2.5) + (-1.5 * x),
     lambda t, x: (x * 2.5) + (-1.5 * x))
case("scalar div both sides", example(away_from_zero_arrays(shapes())), lambda x: (x / 2.5) + (1.5 / x),
     lambda t, x: (x / 2.5) + (1.5 / x))
def _with_constant(x, c):
    """Every arithmetic operator with the constant `c` on the left and on the right."""
    return (c + x) * (x - c) + (c - x) / c + x / c + c * x + c / (x * x + 1.0)


case("array constant on either side",
     broadcast_shapes(2).flatmap(lambda s: example(arrays(s[0]), c=away_from_zero_arrays(s[1]))),
     _with_constant, lambda t, x, c: _with_constant(x, t.from_numpy(c)))
case("neg", example(arrays(shapes())), lambda x: -x, lambda t, x: -x)
case("functional neg", example(arrays(shapes())), F.neg, lambda t, x: t.neg(x))

# ----- pow with a constant exponent -----------------------------------------------------------------
for p in (2, 3, 2.0):
    case(f"pow {p}", example(arrays(shapes())), lambda x, p=p: x**p, lambda t, x, p=p: x**p)
for p in (-1, -2.0):
    case(f"pow {p}", example(away_from_zero_arrays(shapes())), lambda x, p=p: x**p, lambda t, x, p=p: x**p)
for p in (0.5, 1.5, -0.5):
    case(f"pow {p}", example(positive_arrays(shapes())), lambda x, p=p: F.pow(x, p), lambda t, x, p=p: x**p)
case("pow 0", example(arrays(shapes())), lambda x: x**0, lambda t, x: x**0)

# ----- elementwise maths and activations --------------------------------------------------------------
case("exp", example(arrays(shapes())), F.exp, lambda t, x: t.exp(x))
case("log", example(positive_arrays(shapes())), F.log, lambda t, x: t.log(x))
case("sqrt", example(positive_arrays(shapes())), F.sqrt, lambda t, x: t.sqrt(x))
case("tanh", example(arrays(shapes())), F.tanh, lambda t, x: t.tanh(x))
case("sigmoid", example(arrays(shapes(), -30.0, 30.0)), F.sigmoid, lambda t, x: t.sigmoid(x))
case("relu", example(away_from_zero_arrays(shapes())), F.relu, lambda t, x: t.relu(x))
case("selu", example(away_from_zero_arrays(shapes())), F.selu, lambda t, x: t.selu(x))
case("gelu", example(arrays(shapes(), -6.0, 6.0)), F.gelu, lambda t, x: t.nn.functional.gelu(x))
case("gelu_new", example(arrays(shapes(), -6.0, 6.0)), F.gelu_new,
     lambda t, x: t.nn.functional.gelu(x, approximate="tanh"))
case("Tensor methods exp/log/sqrt/tanh/sigmoid/relu", example(positive_arrays(shapes())),
     lambda x: x.exp() + x.log() + x.sqrt() + x.tanh() + x.sigmoid() + x.relu(),
     lambda t, x: x.exp() + x.log() + x.sqrt() + x.tanh() + x.sigmoid() + x.relu())


# ----- softmax and log_softmax over any axis ------------------------------------------------------------
def _any_axis(shape):
    return example(arrays(shape, -5.0, 5.0), axis=st.integers(-len(shape), len(shape) - 1))


case("softmax", on_shape(shapes(min_dims=1, empty_batch=False), _any_axis),
     lambda x, axis: F.softmax(x, axis=axis), lambda t, x, axis: t.softmax(x, dim=axis))
case("softmax empty batch", on_shape(batch_shapes((3,)), lambda s: example(arrays(s))),
     lambda x: x.softmax(-1), lambda t, x: t.softmax(x, dim=-1))
case("log_softmax", on_shape(shapes(min_dims=1, empty_batch=False), _any_axis),
     lambda x, axis: F.log_softmax(x, axis=axis), lambda t, x, axis: t.log_softmax(x, dim=axis))
case("log_softmax empty batch", on_shape(batch_shapes((3,)), lambda s: example(arrays(s))),
     lambda x: x.log_softmax(-1), lambda t, x: t.log_softmax(x, dim=-1))


@st.composite
def _bool_array_broadcasting_to(draw, shape):
    """A boolean array that broadcasts to `shape` (some axes 1, leading axes possibly dropped)."""
    keep = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    mask_shape = tuple(n if k else 1 for n, k in zip(shape, keep))[draw(st.integers(0, len(shape))):]
    flags = draw(st.lists(st.booleans(), min_size=math.prod(mask_shape), max_size=math.prod(mask_shape)))
    return np.array(flags, dtype=bool).reshape(mask_shape)


@st.composite
def _masked_softmax(draw):
    shape = draw(shapes(min_dims=1, max_dims=4))
    masked = draw(_bool_array_broadcasting_to(shape))
    if masked.ndim and masked.shape[-1]:  # keep one position per row (fully masked rows: test_engine_ops.py)
        masked[..., 0] = False
    else:
        masked = np.zeros_like(masked)
    mask = np.where(masked, np.finfo(np.float64).min, 0.0)  # additive: 0 keeps, the most negative float drops
    return draw(example(arrays(shape, -5.0, 5.0), mask=st.just(mask)))


case("softmax with additive mask", _masked_softmax(), lambda x, mask: F.softmax(x, mask=mask),
     lambda t, x, mask: t.softmax(x + t.from_numpy(mask), dim=-1))


# ----- reductions ---------------------------------------------------------------------------------------
@st.composite
def _reduction(draw, values=arrays, nonempty_axes=False):
    shape = draw(shapes())
    axis = draw(axes_for(len(shape)))
    if nonempty_axes:
        assume(_reduced_lengths_ok(shape, axis))
    return draw(example(values(shape), axis=st.just(axis), keepdims=st.booleans()))


def _torch_reduce(name):
    def call(t, x, axis, keepdims):
        dim = _torch_axes(axis, x.ndim)
        if name == "amax" and x.ndim == 0:
            return x.clone()
        return getattr(t, name)(x, dim=dim, keepdim=keepdims)

    return call


case("sum", _reduction(), lambda x, axis, keepdims: F.sum(x, axis=axis, keepdims=keepdims), _torch_reduce("sum"))
case("mean", _reduction(), lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims), _torch_reduce("mean"))
case("max", _reduction(distinct_arrays, nonempty_axes=True),
     lambda x, axis, keepdims: F.max(x, axis=axis, keepdims=keepdims), _torch_reduce("amax"))


@st.composite
def _variance(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(axes_for(len(shape)))
    ddof = draw(st.sampled_from([0, 1]))
    axes = range(len(shape)) if axis is None else ([axis] if isinstance(axis, int) else axis)
    assume(math.prod(shape[a] for a in axes) > ddof)
    return draw(example(arrays(shape), axis=st.just(axis), keepdims=st.booleans(), ddof=st.just(ddof)))


case("var", _variance(), lambda x, axis, keepdims, ddof: x.var(axis=axis, keepdims=keepdims, ddof=ddof),
     lambda t, x, axis, keepdims, ddof: t.var(x, dim=_torch_axes(axis, x.ndim), keepdim=keepdims, correction=ddof))


# ----- matrix products ------------------------------------------------------------------------------------
@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm"]))
    batch_a, batch_b = draw(broadcast_shapes(2, max_dims=2))
    aligned = len(batch_b) - len(batch_a)  # b's axis under a's first batch axis (broadcasting aligns right)
    if batch_a and (aligned < 0 or batch_b[aligned] == 1) and draw(st.integers(0, 4)) == 0:  # an empty batch
        batch_a = (0,) + batch_a[1:]
    a_shape = (k,) if kind[0] == "v" else batch_a + (n, k)
    b_shape = (k,) if kind[1] == "v" else batch_b + (k, m)
    if kind == "vm":  # a 1-D first operand with a batched second: batch only on b
        a_shape = (k,)
    return draw(example(arrays(a_shape), arrays(b_shape)))


case("matmul", _matmul(), lambda a, b: a @ b, lambda t, a, b: a @ b)
case("functional matmul", _matmul(), F.matmul, lambda t, a, b: t.matmul(a, b))
_linear_shapes = st.tuples(batch_shapes(()), st.integers(1, 4), st.integers(1, 4))
case("linear", _linear_shapes.flatmap(lambda s: example(arrays(s[0] + (s[1],)), arrays((s[2], s[1])), arrays((s[2],)))),
     F.linear, lambda t, x, w, b: t.nn.functional.linear(x, w, b))
case("linear without bias", _linear_shapes.flatmap(lambda s: example(arrays(s[0] + (s[1],)), arrays((s[2], s[1])))),
     F.linear, lambda t, x, w: t.nn.functional.linear(x, w))


# ----- movement ---------------------------------------------------------------------------------------------
@st.composite
def _reshape(draw):
    shape = draw(shapes())
    size = math.prod(shape)
    targets = [(size,), tuple(reversed(shape)), (1,) + shape + (1,), (-1,)]
    if size and shape:
        targets.append((shape[0], -1))
    return draw(example(arrays(shape), shape=st.sampled_from(targets)))


case("reshape", _reshape(), lambda x, shape: x.reshape(shape), lambda t, x, shape: x.reshape(shape))
case("functional reshape / view", _reshape(), lambda x, shape: F.reshape(x, shape).view(*shape),
     lambda t, x, shape: x.reshape(shape).view(shape))
case("permute", shapes().flatmap(lambda s: example(arrays(s), axes=st.permutations(range(len(s))))),
     lambda x, axes: x.permute(*axes), lambda t, x, axes: x.permute(tuple(axes)))
_two_axes = shapes(min_dims=1).flatmap(
    lambda s: example(arrays(s), a0=st.integers(-len(s), len(s) - 1), a1=st.integers(-len(s), len(s) - 1)))
case("transpose", _two_axes, lambda x, a0, a1: x.transpose(a0, a1), lambda t, x, a0, a1: x.transpose(a0, a1))
case("swapaxes", _two_axes, lambda x, a0, a1: F.swapaxes(x, a0, a1), lambda t, x, a0, a1: t.swapaxes(x, a0, a1))
case(".T", shapes().flatmap(lambda s: example(arrays(s))), lambda x: x.T,
     lambda t, x: x.permute(tuple(reversed(range(x.ndim)))))


@st.composite
def _expand(draw):
    shape = draw(shapes(min_side=1, empty_batch=False))
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    target = lead + tuple(draw(st.sampled_from([-1, n] if n != 1 else [-1, 1, 0, 2, 3])) for n in shape)
    return draw(example(arrays(shape), shape=st.just(target)))


case("expand", _expand(), lambda x, shape: x.expand(*shape), lambda t, x, shape: x.expand(shape))


@st.composite
def _squeeze(draw):
    shape = draw(shapes(max_dims=4, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.one_of(st.none(), st.sampled_from(ones) if ones else st.none()))
    return draw(example(arrays(shape), axis=st.just(axis)))


case("squeeze", _squeeze(), lambda x, axis: x.squeeze(axis),
     lambda t, x, axis: x.squeeze() if axis is None else x.squeeze(axis))
case("unsqueeze", shapes().flatmap(lambda s: example(arrays(s), axis=st.integers(-len(s) - 1, len(s)))),
     lambda x, axis: x.unsqueeze(axis), lambda t, x, axis: x.unsqueeze(axis))


@st.composite
def _join(draw, same_shape):
    shape = draw(shapes(min_dims=1))
    count = draw(st.integers(1, 3))
    if same_shape:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        pieces = [shape] * count
    else:
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        pieces = [shape[:axis % len(shape)] + (draw(st.integers(0, 3)),) + shape[axis % len(shape) + 1:]
                  for _ in range(count)]
    return draw(st.tuples(st.tuples(*[arrays(p) for p in pieces]), st.just({"axis": axis})))


case("concatenate", _join(same_shape=False), lambda *xs, axis: F.concatenate(xs, axis=axis),
     lambda t, *xs, axis: t.cat(xs, dim=axis))
case("stack", _join(same_shape=True), lambda *xs, axis: F.stack(xs, axis=axis),
     lambda t, *xs, axis: t.stack(xs, dim=axis))


@st.composite
def _split(draw):
    shape = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    if draw(st.booleans()):
        sizes = draw(st.integers(1, 4))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [length])]
    return draw(example(arrays(shape), sizes=st.just(sizes), axis=st.just(axis)))


def _weighted_join(pieces, join, axis):
    """Scale piece i by (i + 1) and join them again: one output that depends on every piece."""
    return join([p * float(i + 1) for i, p in enumerate(pieces)], axis)


case("split", _split(),
     lambda x, sizes, axis: _weighted_join(x.split(sizes, axis=axis), lambda ps, a: F.concatenate(ps, axis=a), axis),
     lambda t, x, sizes, axis: _weighted_join(t.split(x, sizes, dim=axis), lambda ps, a: t.cat(ps, dim=a), axis))


# ----- indexing -------------------------------------------------------------------------------------------
@st.composite
def _basic_index(draw, shape, positive_steps=True):
    parts = []
    for n in shape:
        options = ["slice"] + (["int"] if n else []) + ["none"]
        kind = draw(st.sampled_from(options))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "none":
            parts.append(None)
            parts.append(slice(None))
        else:
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.sampled_from([None, 1, 2] if positive_steps else [-1, -2, 1, 2]))
            parts.append(slice(start, stop, step))
    if shape and draw(st.booleans()):  # replace the leading parts by an Ellipsis
        cut = draw(st.integers(1, len(parts)))
        parts = [Ellipsis] + parts[cut:]
    return tuple(parts)


def _torch_index(t, index):
    convert = (lambda p: t.from_numpy(p) if isinstance(p, np.ndarray) else p)
    return tuple(convert(p) for p in index) if isinstance(index, tuple) else convert(index)


case("basic indexing", shapes().flatmap(lambda s: example(arrays(s), index=_basic_index(s))),
     lambda x, index: x[index], lambda t, x, index: x[_torch_index(t, index)])
case("basic indexing, negative steps", shapes().flatmap(lambda s: example(arrays(s), index=_basic_index(s, False))),
     lambda x, index: x[index], None)


@st.composite
def _array_index(draw):
    shape = draw(shapes(min_dims=1, empty_batch=False))
    n = shape[0]
    rows = np.array(draw(st.lists(st.integers(-n, n - 1), max_size=6)), dtype=np.int64)  # repeats allowed
    kind = draw(st.sampled_from(["rows", "rows, then a slice", "two arrays", "2-D array", "mask"]))
    if kind == "rows":
        index = rows
    elif kind == "rows, then a slice":
        index = (rows, slice(None, None, 2)) if len(shape) > 1 else (rows,)
    elif kind == "two arrays" and len(shape) > 1:
        cols = np.array(draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(rows), max_size=len(rows))),
                        dtype=np.int64)
        index = (rows, cols)
    elif kind == "2-D array":
        index = np.array(draw(st.lists(st.integers(0, n - 1), min_size=4, max_size=4)), dtype=np.int64).reshape(2, 2)
    else:
        flags = draw(st.lists(st.booleans(), min_size=math.prod(shape), max_size=math.prod(shape)))
        index = np.array(flags, dtype=bool).reshape(shape)
    return draw(example(arrays(shape), index=st.just(index)))


case("integer-array and mask indexing", _array_index(), lambda x, index: x[index],
     lambda t, x, index: x[_torch_index(t, index)])


def _where_example(make_b=arrays):
    return broadcast_shapes(3).flatmap(lambda s: example(
        arrays(s[0]), make_b(s[1]), condition=st.lists(st.booleans(), min_size=math.prod(s[2]),
                                                        max_size=math.prod(s[2])).map(
            lambda c, shape=s[2]: np.array(c, dtype=bool).reshape(shape))))


case("where", _where_example(), lambda a, b, condition: F.where(condition, a, b),
     lambda t, a, b, condition: t.where(t.from_numpy(condition), a, b))
case("masked_fill", shapes().flatmap(lambda s: example(arrays(s), mask=_bool_array_broadcasting_to(s))),
     lambda x, mask: x.masked_fill(mask, -7.5), lambda t, x, mask: x.masked_fill(t.from_numpy(mask), -7.5))
case("astype float64 -> float64", example(arrays(shapes())), lambda x: F.astype(x, np.float64) * 3.0,
     lambda t, x: x.to(t.float64) * 3.0)


# ----- layers -----------------------------------------------------------------------------------------------
@st.composite
def _embedding(draw, padding):
    vocab, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    ids_shape = draw(shapes(max_dims=2))
    ids = np.array(draw(st.lists(st.integers(0, vocab - 1), min_size=math.prod(ids_shape),
                                 max_size=math.prod(ids_shape))), dtype=np.int64).reshape(ids_shape)  # repeats
    padding_idx = draw(st.integers(0, vocab - 1)) if padding else None
    return draw(example(arrays((vocab, dim)), ids=st.just(ids), padding_idx=st.just(padding_idx)))


def _torch_embedding(t, w, ids, padding_idx):
    return t.nn.functional.embedding(t.from_numpy(ids), w, padding_idx)


case("embedding", _embedding(padding=False), lambda w, ids, padding_idx: F.embedding(ids, w), _torch_embedding)
# the padding row is read by the forward pass but gets no gradient (by design, as in PyTorch)
case("embedding with padding_idx", _embedding(padding=True),
     lambda w, ids, padding_idx: F.embedding(ids, w, padding_idx), _torch_embedding, gradcheck=False)


@st.composite
def _layer_norm(draw):
    shape = draw(batch_shapes((draw(st.integers(1, MAX_SIDE)),)))
    n = shape[-1]
    return draw(example(distinct_arrays(shape), arrays((n,)), arrays((n,)), eps=st.sampled_from([1e-5, 0.1])))


case("layer_norm", _layer_norm(), lambda x, w, b, eps: F.layer_norm(x, w, b, eps=eps),
     lambda t, x, w, b, eps: t.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps=eps))
case("dropout (seeded)", shapes().flatmap(lambda s: example(arrays(s), p=st.sampled_from([0.0, 0.3, 0.5, 1.0]))),
     lambda x, p: F.dropout(x, p, training=True, rng=1234), None)


@st.composite
def _cross_entropy(draw):
    n, classes = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    targets = draw(st.lists(st.one_of(st.integers(0, classes - 1), st.just(-100)), min_size=n, max_size=n))
    if n:
        assume(any(t != -100 for t in targets))  # all ignored: nan, tested separately
    return draw(example(arrays((n, classes), -5.0, 5.0), targets=st.just(np.array(targets, dtype=np.int64))))


case("cross_entropy", _cross_entropy(), lambda x, targets: F.cross_entropy(x, targets),
     lambda t, x, targets: t.nn.functional.cross_entropy(x, t.from_numpy(targets), ignore_index=-100))
case("mse_loss", shapes().flatmap(lambda s: example(arrays(s), arrays(s))), F.mse_loss,
     lambda t, a, b: t.nn.functional.mse_loss(a, b))
case("binary_cross_entropy_with_logits",
     shapes().flatmap(lambda s: example(arrays(s, -20.0, 20.0), targets=positive_arrays(s, 0.0, 1.0))),
     lambda x, targets: F.binary_cross_entropy_with_logits(x, targets),
     lambda t, x, targets: t.nn.functional.binary_cross_entropy_with_logits(x, t.from_numpy(targets)))


@st.composite
def _conv_shapes(draw):
    b, time = draw(st.integers(0, 2)), draw(st.integers(1, 5))
    return b, time, draw(st.integers(1, 3)), draw(st.sampled_from([1, 3, 5, 7]))


case("depthwise_conv1d",
     _conv_shapes().flatmap(lambda s: example(arrays((s[0], s[1], s[2])), arrays((s[2], s[3])))),
     F.depthwise_conv1d,
     lambda t, x, w: t.nn.functional.conv1d(x.transpose(1, 2), w[:, None, :], padding=w.shape[1] // 2,
                                             groups=w.shape[0]).transpose(1, 2))


def _torch_span_conv(t, values, kernels):
    """out[b, t, h] = sum_k kernels[b, t, h, k] * values[b, t + k - (K-1)//2, h], zeros outside."""
    k = kernels.shape[-1]
    pad = (k - 1) // 2
    padded = t.nn.functional.pad(values, (0, 0, 0, 0, pad, k - 1 - pad))  # pad the T axis
    spans = padded.unfold(1, k, 1)  # (B, T, H, D, K)
    return t.einsum("bthdk,bthk->bthd", spans, kernels)


case("span_conv",
     st.tuples(_conv_shapes(), st.integers(1, 3)).flatmap(lambda s: example(
         arrays((s[0][0], s[0][1], s[0][2], s[1])), arrays((s[0][0], s[0][1], s[0][2], s[0][3])))),
     F.span_conv, _torch_span_conv)
