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

__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled"]

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
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_priority__ = 1000  # so `ndarray + Tensor` calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        array = _to_array(data, dtype)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"Tensor: unsupported dtype {array.dtype} (expected a float, int or bool array)")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {array.dtype}")
        self.data = array
        self.grad = None
        self.requires_grad = requires_grad
        self._ctx = None

    @classmethod
    def _make(cls, data: np.ndarray, ctx) -> "Tensor":
        """Fast constructor for operation outputs (data is already an array; ctx is a Function or None)."""
        out = object.__new__(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = ctx is not None
        out._ctx = ctx
        return out

    # ----- array-like basics -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (the same memory as `data`)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __len__(self) -> int:
        return len(self.data)

    def detach(self) -> "Tensor":
        """A new leaf sharing the same values, cut off from the graph."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating-point tensors can require grad, got {self.data.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use detach() instead")
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype) -> "Tensor":
        """A copy converted to `dtype` (differentiable between float types)."""
        return F.astype(self, dtype)

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.data.dtype}{grad})"

    def __bool__(self):
        return bool(self.data)

    def __hash__(self):
        return id(self)

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
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, expected {self.shape}")

        grads = {id(self): grad}  # the gradients on their way down, by tensor
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:  # no gradient reached it (an op passed None along this path)
                continue
            ctx = node._ctx
            if ctx is None:  # a leaf: accumulate
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            parents = ctx.parents
            if parents is None:
                raise RuntimeError(
                    f"backward: the graph through {type(ctx).__name__} was already freed by an earlier backward(); "
                    "call backward(retain_graph=True) the first time to go through it twice"
                )
            for parent, parent_grad in zip(parents, ctx.backward(g)):
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
        return F.add(self, other)

    def __radd__(self, other):
        return F.add(other, self)

    def __sub__(self, other):
        return F.sub(self, other)

    def __rsub__(self, other):
        return F.sub(other, self)

    def __mul__(self, other):
        return F.mul(self, other)

    def __rmul__(self, other):
        return F.mul(other, self)

    def __truediv__(self, other):
        return F.div(self, other)

    def __rtruediv__(self, other):
        return F.div(other, self)

    def __neg__(self):
        return F.neg(self)

    def __pow__(self, exponent):
        return F.pow(self, exponent)

    def __matmul__(self, other):
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        return F.matmul(other, self)

    def __getitem__(self, index):
        return F.getitem(self, index)

    # comparisons give plain boolean tensors (no gradient flows through them)
    def __lt__(self, other):
        return Tensor._make(self.data < _data(other), None)

    def __le__(self, other):
        return Tensor._make(self.data <= _data(other), None)

    def __gt__(self, other):
        return Tensor._make(self.data > _data(other), None)

    def __ge__(self, other):
        return Tensor._make(self.data >= _data(other), None)

    # ----- methods mirroring the functional API --------------------------------------------------
    def exp(self):
        return F.exp(self)

    def log(self):
        return F.log(self)

    def sqrt(self):
        return F.sqrt(self)

    def tanh(self):
        return F.tanh(self)

    def sigmoid(self):
        return F.sigmoid(self)

    def relu(self):
        return F.relu(self)

    def sum(self, axis=None, keepdims=False):
        return F.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return F.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return F.max(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return F.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def softmax(self, axis=-1):
        return F.softmax(self, axis=axis)

    def log_softmax(self, axis=-1):
        return F.log_softmax(self, axis=axis)

    def reshape(self, *shape):
        return F.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def permute(self, *axes):
        return F.permute(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)

    def transpose(self, axis0, axis1):
        """Swap two axes (PyTorch's `transpose(dim0, dim1)`)."""
        return F.swapaxes(self, axis0, axis1)

    def swapaxes(self, axis0, axis1):
        return F.swapaxes(self, axis0, axis1)

    @property
    def T(self):
        return F.permute(self, tuple(reversed(range(self.ndim))))

    def expand(self, *shape):
        return F.expand(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def squeeze(self, axis=None):
        return F.squeeze(self, axis)

    def unsqueeze(self, axis):
        return F.unsqueeze(self, axis)

    def split(self, split_size, axis=0):
        return F.split(self, split_size, axis=axis)

    def masked_fill(self, mask, value):
        return F.masked_fill(self, mask, value)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


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
