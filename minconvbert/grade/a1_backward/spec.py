"""Assignment A1 (the backward pass of nine operations): its definition, the maths of each forward,
and the two comparisons its checks make.

`gradient_check` compares the student's backward with central differences of the operation's
specification (computed here, in float64); `against_engine` compares it with the engine's own
operation (minconvbert.functional), in float64 or float32.
"""

import numpy as np

from minconvbert.grade.checks import close, numeric_gradients
from minconvbert.grade.codec import Leaf
from minconvbert.grade.framework import Assignment
from minconvbert.kernels import reference
from minconvbert.tensor import Tensor

A1 = Assignment(
    key="a1",
    name="a1_backward",
    title="the backward pass of nine operations",
    student_file="backward_ops.py",
    package=__package__,
    allowed=("minconvbert.function", "minconvbert.tensor", "minconvbert.testing"),
)


def cross_entropy(logits, targets, ignore_index=-100):
    """Mean over the kept rows of -log softmax(logits)[target] (0 / 0 = nan when none is kept)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    keep = targets != ignore_index
    picked = log_probs[np.arange(len(targets)), np.where(keep, targets, 0)]
    with np.errstate(invalid="ignore"):
        return np.asarray(-(picked * keep).sum() / keep.sum())


SPEC = {  # the forward of each operation, on float64 arrays
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Tanh": np.tanh,
    "MatMul": lambda a, b: a @ b,
    "Sum": lambda x, axis=None, keepdims=False: np.asarray(x.sum(axis=axis, keepdims=keepdims)),
    "Softmax": reference.softmax_forward,
    "LayerNorm": lambda x, w, b, eps=1e-5: reference.layer_norm_forward(x, w, b, eps)[0],
    "Gelu": reference.gelu_forward,
    "CrossEntropy": cross_entropy,
}


def gradient_check(student, name: str, arrays, what: str, sizes=None, **options) -> None:
    """<name>.apply(*leaves, **options) of the student, back-propagated along a fixed random output
    gradient: its input gradients must equal central differences of SPEC[name]."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    expected = SPEC[name](*arrays, **options)
    direction = np.random.default_rng(5).standard_normal(np.shape(expected))
    outcome = student.run(f"{name}.apply", *[Leaf(a, str(i)) for i, a in enumerate(arrays)], backward=direction,
                          **options)
    close(outcome.value, expected, f"{what}: the (given) forward")
    numeric = numeric_gradients(lambda *xs: SPEC[name](*xs, **options), arrays, direction)
    for i, want in enumerate(numeric):
        got = outcome.grads.get(str(i))
        if got is None:
            raise AssertionError(f"{what}: input {i} received no gradient (backward returned None for it?)")
        close(got, want, f"{what}: gradient of input {i} (yours vs finite differences)", atol=1e-5, rtol=1e-4,
              sizes=sizes)


def against_engine(student, name: str, engine_fn, arrays, what: str, dtype=np.float64, atol=1e-6, rtol=1e-5,
                   sizes=None, **options) -> None:
    """Same inputs, same output gradient: the student's input gradients must equal the engine's, in `dtype`."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    theirs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    expected = engine_fn(*theirs, **options)
    direction = np.random.default_rng(3).standard_normal(expected.shape).astype(dtype)
    expected.backward(direction)
    outcome = student.run(f"{name}.apply", *[Leaf(a, str(i)) for i, a in enumerate(arrays)], backward=direction,
                          **options)
    close(outcome.value, expected, f"{what}: forward", atol=atol, rtol=rtol)
    for i, engine in enumerate(theirs):
        mine = outcome.grads.get(str(i))
        if mine is None:
            raise AssertionError(f"{what}: input {i} received no gradient")
        close(mine, engine.grad, f"{what}: gradient of input {i}", atol=atol, rtol=rtol, sizes=sizes)
        if mine.dtype != np.dtype(dtype):
            raise AssertionError(f"{what}: gradient of input {i} is {mine.dtype}, expected {np.dtype(dtype)}")
