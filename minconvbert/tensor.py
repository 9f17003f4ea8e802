"""The Tensor: a NumPy array that remembers how it was made, and `backward()` through that record.

A Tensor holds `data` (a NumPy array), `grad` (a NumPy array of the same shape, filled in by
`backward()` for tensors that require grad), and `_ctx`: the Function node that produced it, or
None for a leaf (an input or a parameter). The graph is the web of Function nodes reachable
through `_ctx.parents`; `backward()` sorts it topologically and visits it once, in reverse.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from minconvbert import interop

__all__ = ["Tensor", "tensor", "data_of", "no_grad", "enable_grad", "is_grad_enabled"]

# Context-local, like torch's per-thread grad mode: a no_grad() block in one thread (or asyncio task)
# does not switch off the graph in another; a new thread starts with grad enabled.
GRAD_ENABLED = contextvars.ContextVar("minconvbert_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` (in this thread): operations record the graph only when this is True."""
    return GRAD_ENABLED.get()


@contextlib.contextmanager
def _set_grad_enabled(mode: bool):
    token = GRAD_ENABLED.set(mode)
    try:
        yield
    finally:
        GRAD_ENABLED.reset(token)


def no_grad():
    """Context manager: operations inside build no graph (inference, optimizer updates)."""
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager: record the graph again inside a `no_grad()` block."""
    return _set_grad_enabled(True)


def _to_array(data, dtype) -> np.ndarray:
    """NumPy array for `data`; Python floats default to float32, NumPy arrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64:  # a Python float or a list of them
        array = array.astype(np.float32)
    return array


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)   # float32, shape (1, 2)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([[2., 4.]], dtype=float32)

    Attributes: `data` (the NumPy array of values), `grad` (dL/d(this tensor), an array of the same
    shape that backward() fills in for leaves that require grad; None before), `requires_grad`
    (whether operations on it record a graph), `_ctx` (the Function node that made it, None for a
    leaf). Array-like properties: shape, ndim, dtype, size, is_leaf, T.

    Methods: backward(grad, retain_graph), retain_grad; arithmetic operators (+ - * / ** @, unary -)
    and comparisons (== != < <= > >=, & | ~ on booleans: boolean tensors without gradient);
    indexing; elementwise exp, log, sqrt, tanh, sigmoid, relu; reductions sum, mean, max, var and
    argmax, argmin, nonzero; softmax, log_softmax; shape changes reshape/view, flatten, permute,
    transpose/swapaxes, expand, squeeze, unsqueeze, split; masked_fill; conversions astype, to,
    float, double, half, long, int, bool, numpy, item, tolist, detach, requires_grad_. Reductions
    and shape methods take torch's `dim=` for `axis=`. Each differentiable method is an operation
    of minconvbert.functional.
    """

    __slots__ = {
        "data": "The values: a NumPy array.",
        "grad": "dL/d(this tensor), an array shaped like data, accumulated by backward() for leaves; None before.",
        "requires_grad": "True when operations on this tensor record a graph for backward().",
        "_ctx": "The Function node that made this tensor (its parents and saved arrays); None for a leaf.",
        "_retains_grad": "True after retain_grad(): backward() keeps this non-leaf's gradient in grad.",
        "__weakref__": None,
    }
    __array_priority__ = 1000  # so `ndarray + Tensor` calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        """Wrap `data` (array-like) as a leaf; Python floats become float32, NumPy arrays keep their dtype."""
        array = _to_array(data, dtype)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"Tensor: unsupported dtype {array.dtype} (expected a float, int or bool array)")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {array.dtype}")
        self.data = array
        self.grad = None
        self.requires_grad = requires_grad
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _make(cls, data: np.ndarray, ctx) -> "Tensor":
        """Fast constructor for operation outputs (data is already an array; ctx is a Function or None)."""
        out = object.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)  # 0-d arithmetic gives NumPy scalars
        out.grad = None
        out.requires_grad = ctx is not None
        out._ctx = ctx
        out._retains_grad = False
        return out

    # ----- array-like basics -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """The shape of `data`."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes of `data`."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of `data`."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements, as NumPy's `size` (torch's `numel()`)."""
        return self.data.size

    def numel(self) -> int:
        """The number of elements (torch's name for `size`)."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (torch's name for `ndim`)."""
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no recorded operation made (an input or a parameter): `_ctx` is None."""
        return self._ctx is None

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (the same memory as `data`)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(tensor): the values (no copy unless a dtype change or copy=True asks for one)."""
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: the tensor has {self.data.size} elements (shape {self.shape}); item() needs one")
        return self.data.item()

    def tolist(self):
        """The values as nested Python lists."""
        return self.data.tolist()

    def __len__(self) -> int:
        """The size of the first axis."""
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        """The rows along the first axis, each a Tensor (as torch: `for t in logits[0]: t.item()`)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __index__(self) -> int:
        """A 0-d (or one-element) integer tensor used as an index: `ids[0, start : end + 1]`."""
        if self.data.size != 1 or self.data.dtype.kind not in "iub":
            raise TypeError(f"only a one-element integer tensor can be an index, got shape {self.shape} "
                            f"and dtype {self.dtype}")
        return int(self.data.reshape(()))

    def __int__(self) -> int:
        return int(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def detach(self) -> "Tensor":
        """A new leaf sharing the same values, cut off from the graph."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set `requires_grad` in place (only floating-point tensors; only leaves may switch it off); returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, got {self.data.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use detach() instead")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in `.grad` during backward() (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad (no graph leads to it)")
        self._retains_grad = True

    def astype(self, dtype) -> "Tensor":
        """A copy converted to `dtype` (differentiable between float types)."""
        return F.astype(self, interop.numpy_dtype(dtype))

    def to(self, *args, dtype=None, device=None) -> "Tensor":
        """torch's `to`: a dtype converts (as astype); the device "cpu" is accepted and changes nothing."""
        device, dtype = interop.device_and_dtype(args, device, dtype)
        return self if dtype is None else self.astype(dtype)

    def cpu(self) -> "Tensor":
        """This tensor: every Tensor lives in CPU memory (accepted so that torch code runs)."""
        return self

    def float(self) -> "Tensor":
        """A float32 copy (differentiable)."""
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        """A float64 copy (differentiable)."""
        return self.astype(np.float64)

    def half(self) -> "Tensor":
        """A float16 copy (differentiable)."""
        return self.astype(np.float16)

    def long(self) -> "Tensor":
        """An int64 copy (no gradient flows through integers)."""
        return self.astype(np.int64)

    def int(self) -> "Tensor":
        """An int32 copy (no gradient flows through integers)."""
        return self.astype(np.int32)

    def bool(self) -> "Tensor":
        """A boolean copy (no gradient)."""
        return self.astype(np.bool_)

    def __repr__(self) -> str:
        """Tensor([...], dtype=..., requires_grad=True)."""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.data.dtype}{grad})"

    def __bool__(self):
        """The truth of a one-element tensor."""
        return bool(self.data)

    def __hash__(self):
        """Tensors hash by identity (so they can key dicts and sets)."""
        return id(self)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """torch functions take Tensors (`torch.sigmoid(out.logits)`): see interop.call_torch."""
        return interop.call_torch(func, args, kwargs)

    # ----- backward ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `leaf.grad` for every leaf that requires grad.

        `grad` is d(loss)/d(self); it may be omitted only when self holds a single value. Nodes are
        visited in reverse topological order, so each node's gradient is complete (summed over all
        its uses) before it is passed on. Unless `retain_graph`, each node frees what it saved, and
        a second backward through it raises.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad (no graph leads to it)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a single value, but the tensor has shape {self.shape}; "
                    "pass grad=... with the same shape (or reduce it, e.g. .sum())"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(data_of(grad), dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, expected {self.shape}")

        grads = {id(self): grad}  # the gradients on their way down, by tensor
        order = _topological_order(self)
        while order:  # popped, not iterated: a finished node's data is freed as soon as nothing else holds it
            node = order.pop()
            g = grads.pop(id(node), None)
            if g is None:  # no gradient reached it (an op passed None along this path)
                continue
            ctx = node._ctx
            if ctx is None:  # a leaf: accumulate
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            if node._retains_grad:  # an intermediate tensor that asked to keep its gradient
                node.grad = g.copy() if node.grad is None else node.grad + g
            parents = ctx.parents
            if parents is None:
                raise RuntimeError(
                    f"backward: the graph through {type(ctx).__name__} was already freed by an earlier backward(); "
                    "call backward(retain_graph=True) the first time to go through it twice"
                )
            for parent, parent_grad in zip(parents, _checked_gradients(ctx, ctx.backward(g))):
                if parent_grad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if parent_grad.shape != data.shape:
                    raise RuntimeError(
                        f"backward: {type(ctx).__name__}.backward returned a gradient of shape {parent_grad.shape} "
                        f"for an input of shape {data.shape}"
                    )
                if parent_grad.dtype != data.dtype:
                    parent_grad = parent_grad.astype(data.dtype)
                key = id(parent)
                previous = grads.get(key)  # a tensor used more than once: its gradients add up
                grads[key] = parent_grad if previous is None else previous + parent_grad
            if not retain_graph:
                ctx.release()

    # ----- operators (each is a Function in minconvbert.ops; see minconvbert.functional) --------
    def __add__(self, other):
        """self + other (broadcasting; F.add)."""
        return F.add(self, other)

    def __radd__(self, other):
        """other + self."""
        return F.add(other, self)

    def __sub__(self, other):
        """self - other (F.sub)."""
        return F.sub(self, other)

    def __rsub__(self, other):
        """other - self."""
        return F.sub(other, self)

    def __mul__(self, other):
        """self * other, elementwise with broadcasting (F.mul)."""
        return F.mul(self, other)

    def __rmul__(self, other):
        """other * self."""
        return F.mul(other, self)

    def __truediv__(self, other):
        """self / other (F.div)."""
        return F.div(self, other)

    def __rtruediv__(self, other):
        """other / self."""
        return F.div(other, self)

    def __neg__(self):
        """-self (F.neg)."""
        return F.neg(self)

    def __pow__(self, exponent):
        """self ** exponent, the exponent a number (F.pow)."""
        return F.pow(self, exponent)

    def __matmul__(self, other):
        """self @ other, batched (F.matmul)."""
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        """other @ self."""
        return F.matmul(other, self)

    def __getitem__(self, index):
        """self[index]: basic or integer/boolean-array indexing, differentiable (F.getitem)."""
        return F.getitem(self, interop.plain_index(index))

    # comparisons give plain boolean tensors (no gradient flows through them)
    def __eq__(self, other):
        return Tensor._make(self.data == data_of(other), None)

    def __ne__(self, other):
        return Tensor._make(self.data != data_of(other), None)

    def __lt__(self, other):
        """self < other as a boolean tensor (no gradient)."""
        return Tensor._make(self.data < data_of(other), None)

    def __le__(self, other):
        """self <= other as a boolean tensor (no gradient)."""
        return Tensor._make(self.data <= data_of(other), None)

    def __gt__(self, other):
        """self > other as a boolean tensor (no gradient)."""
        return Tensor._make(self.data > data_of(other), None)

    def __ge__(self, other):
        """self >= other as a boolean tensor (no gradient)."""
        return Tensor._make(self.data >= data_of(other), None)

    def __invert__(self):
        if self.data.dtype.kind != "b":
            raise TypeError(f"~ needs a boolean tensor, got dtype {self.dtype}")
        return Tensor._make(~self.data, None)

    def __and__(self, other):
        return Tensor._make(self.data & data_of(other), None)

    def __or__(self, other):
        return Tensor._make(self.data | data_of(other), None)

    # ----- methods mirroring the functional API (torch's `dim=` is accepted for `axis=`) -----------
    def exp(self):
        """e ** self, elementwise (F.exp)."""
        return F.exp(self)

    def log(self):
        """The natural logarithm, elementwise (F.log)."""
        return F.log(self)

    def sqrt(self):
        """The square root, elementwise (F.sqrt)."""
        return F.sqrt(self)

    def tanh(self):
        """tanh, elementwise (F.tanh)."""
        return F.tanh(self)

    def sigmoid(self):
        """1 / (1 + e ** -self), elementwise (F.sigmoid)."""
        return F.sigmoid(self)

    def relu(self):
        """max(self, 0), elementwise (F.relu)."""
        return F.relu(self)

    def sum(self, axis=None, keepdims=False, dim=None):
        """The sum over `axis` (None: every axis; an int or a tuple) (F.sum)."""
        return F.sum(self, axis=_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, dim=None):
        """The mean over `axis` (F.mean)."""
        return F.mean(self, axis=_axis(axis, dim), keepdims=keepdims)

    def max(self, axis=None, keepdims=False, dim=None):
        """The maximum over `axis`; tied maxima share the gradient (F.max)."""
        return F.max(self, axis=_axis(axis, dim), keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """The variance over `axis`, dividing by n - ddof (F.var)."""
        return F.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis=None, keepdims=False, dim=None):
        """Index of the largest value (of the flattened tensor when no axis is given), as an int64 tensor."""
        return _arg_reduce(np.argmax, self, _axis(axis, dim), keepdims)

    def argmin(self, axis=None, keepdims=False, dim=None):
        """Index of the smallest value (of the flattened tensor when no axis is given), as an int64 tensor."""
        return _arg_reduce(np.argmin, self, _axis(axis, dim), keepdims)

    def nonzero(self, as_tuple: bool = False):
        """Indices of the non-zero elements: an (N, ndim) int64 tensor, or (torch's as_tuple=True) one (N,)
        tensor per axis, as NumPy's nonzero."""
        where = np.nonzero(self.data)
        if as_tuple:
            return tuple(Tensor._make(i.astype(np.int64), None) for i in where)
        return Tensor._make(np.stack(where, axis=-1).astype(np.int64), None)

    def softmax(self, axis=-1, dim=None):
        """softmax along `axis` (F.softmax)."""
        return F.softmax(self, axis=_axis(axis, dim))

    def log_softmax(self, axis=-1, dim=None):
        """log(softmax) along `axis`, computed stably (F.log_softmax)."""
        return F.log_softmax(self, axis=_axis(axis, dim))

    def reshape(self, *shape):
        """The same values in a new shape: reshape(2, 3) or reshape((2, 3)) (F.reshape)."""
        return F.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def view(self, *shape):
        """Another name for reshape (PyTorch's)."""
        return self.reshape(*shape)

    def flatten(self):
        """The values as one axis (F.reshape to (-1,))."""
        return F.reshape(self, (-1,))

    def permute(self, *axes):
        """The axes reordered: permute(0, 2, 1) (F.permute)."""
        return F.permute(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)

    def transpose(self, axis0, axis1):
        """Swap two axes (PyTorch's `transpose(dim0, dim1)`)."""
        return F.swapaxes(self, axis0, axis1)

    def swapaxes(self, axis0, axis1):
        """Swap two axes (NumPy's name; F.swapaxes)."""
        return F.swapaxes(self, axis0, axis1)

    @property
    def T(self):
        """All axes reversed (the transpose of a matrix)."""
        return F.permute(self, tuple(reversed(range(self.ndim))))

    def expand(self, *shape):
        """Broadcast to `shape` without copying (-1 keeps a size) (F.expand)."""
        return F.expand(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def squeeze(self, axis=None, dim=None):
        """Remove size-1 axes (all, or `axis`) (F.squeeze)."""
        return F.squeeze(self, _axis(axis, dim))

    def unsqueeze(self, axis=None, dim=None):
        """Insert a size-1 axis at `axis` (F.unsqueeze)."""
        return F.unsqueeze(self, _axis(axis, dim))

    def split(self, split_size, axis=0, dim=None):
        """Pieces along `axis`: of `split_size` each, or of the sizes in a list (F.split)."""
        return F.split(self, split_size, axis=_axis(axis, dim))

    def masked_fill(self, mask, value):
        """`value` where the boolean `mask` is True, self elsewhere (F.masked_fill)."""
        return F.masked_fill(self, mask, value)


def _axis(axis, dim):
    """torch names the axis `dim`; either spelling is accepted, not both."""
    if dim is None:
        return axis
    if axis is not None and axis != -1:
        raise TypeError(f"pass the axis once: got axis={axis} and dim={dim}")
    return dim


def _arg_reduce(fn, x, axis, keepdims):
    if x.data.size == 0 and axis is None:
        raise ValueError(f"{fn.__name__}: the tensor is empty (shape {x.shape})")
    index = fn(x.data, axis=axis, keepdims=keepdims)
    return Tensor._make(np.asarray(index, dtype=np.int64), None)


def data_of(value):
    """The NumPy array a Tensor holds (no copy); any other value (an array, a list, a Python number)
    unchanged, so that NumPy converts it where it is used, with its own rules for Python scalars."""
    return value.data if isinstance(value, Tensor) else value


def _checked_gradients(ctx, grads) -> tuple:
    """What a Function's backward returned, checked: a tuple of one array (or None) per input."""
    name = f"{type(ctx).__name__}.backward"
    count = len(ctx.parents)
    if not isinstance(grads, (tuple, list)):
        one = "(grad_x,)" if count == 1 else "(" + ", ".join(f"grad_{i}" for i in range(count)) + ")"
        what = f"a bare NumPy array of shape {grads.shape}" if isinstance(grads, np.ndarray) else (
            f"a {type(grads).__name__}")
        raise TypeError(
            f"backward: {name} returned {what}, not a tuple of gradients; it must return one "
            f"gradient per input ({count} input{'s' if count != 1 else ''}) in a tuple, e.g. `return {one}`"
            + (" (with a trailing comma for a single input)" if count == 1 else "")
        )
    if len(grads) != count:
        raise RuntimeError(f"backward: {name} returned {len(grads)} gradients for {count} inputs "
                           "(one per input, None for an input that gets no gradient)")
    for i, grad in enumerate(grads):
        if grad is not None and not isinstance(grad, (np.ndarray, np.generic)):
            hint = ": backward works on NumPy arrays, return its .data" if isinstance(grad, Tensor) else ""
            raise TypeError(f"backward: {name} returned a {type(grad).__name__} as the gradient of input {i}, "
                            f"expected a NumPy array (or None){hint}")
    return grads


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Shorthand for `Tensor(data, requires_grad, dtype)`, as `torch.tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _topological_order(root: Tensor) -> list:
    """Tensors that require grad and lead to `root`, each after all the tensors it was made from.

    Iterative depth-first search (a deep model's graph is too deep for Python's recursion limit).
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:  # every tensor it was made from is already in `order`
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        ctx = node._ctx
        if ctx is None or ctx.parents is None:  # a leaf (or a node freed earlier): nothing to wait for
            order.append(node)
            continue
        stack.append((node, True))
        for parent in ctx.parents:
            if parent.requires_grad and id(parent) not in visited:
                if parent._ctx is None:  # a leaf depends on nothing: its place can be now (a shortcut)
                    visited.add(id(parent))
                    order.append(parent)
                else:
                    stack.append((parent, False))
    return order


from minconvbert import functional as F  # noqa: E402  (functional needs Tensor defined first)
