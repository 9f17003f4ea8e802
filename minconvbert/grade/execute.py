"""Calling the student's code: import the submission by path, resolve a name in it, call it, report.

The same functions serve the worker process (grading: requests arrive encoded, see `worker`) and the
student's own process (`--debug` and pytest: see `submission.LocalSubmission`):

    module = load_submission(source, "/home/me/a2/span_conv.py")
    outcome = call(module, "span_conv_forward", (values, kernels), {})
    outcome.value, outcome.changed          # the return value; which array arguments it modified

`call` turns the argument markers of `codec` into objects (Leaf -> a Tensor that requires grad,
Build -> a fresh nano model, ...), optionally back-propagates a given output gradient and returns
the leaves' gradients, and optionally counts the lines of the student's file that ran (A2's
"no loop over the elements" rule). Only names defined in the submission itself may be called: a
function re-exported from minconvbert (the code it is graded against) is refused.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field

import numpy as np

from minconvbert.grade.codec import Build, Const, Leaf, Stored
from minconvbert.tensor import Tensor

__all__ = ["SUBMISSION", "load_submission", "call", "Outcome", "NotYours", "BUILDERS", "count_lines"]

SUBMISSION = "student_submission"  # the module name the student's file is imported as


class NotYours(AssertionError):
    """The name the grader calls is missing from the submission, or was imported into it from elsewhere."""


def load_submission(source: str, filename: str, name: str = SUBMISSION) -> types.ModuleType:
    """Execute `source` as module `name` whose file is `filename` (nothing is put on sys.path)."""
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module  # so that dataclasses, pickling, numba etc. find the module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def _nano_model(train: bool = False):
    """A fresh copy of the embedded nano model, in train or eval mode; reports the mode it ends in."""
    from minconvbert.models.convbert import ConvBertForMaskedLM

    model = ConvBertForMaskedLM.from_pretrained("minconvbert/nano").train(bool(train))
    return model, lambda: {"training": bool(model.training)}


BUILDERS = {"nano_model": _nano_model}  # Build(what) -> builder(**options) -> (object, report of its state)


@dataclass
class Outcome:
    """What one call gave: the return value, the gradients of the Leaf arguments (by name), the
    labels of the array arguments it modified, the reports of the Build objects, and the number
    of lines of the student's file that ran (when counted)."""

    value: object = None
    grads: dict = field(default_factory=dict)
    changed: list = field(default_factory=list)
    built: list = field(default_factory=list)
    lines: int | None = None


def resolve(module: types.ModuleType, path: str):
    """module.<path> ("span_conv_forward", "Mul.apply"), whose first name must be defined in `module`."""
    head, *rest = path.split(".")
    obj = module.__dict__.get(head)
    if obj is None:
        raise NotYours(f"the student file defines no {head}")
    origin = getattr(obj, "__module__", None)
    if origin != module.__name__:
        where = f"from {origin}" if isinstance(origin, str) else "from elsewhere"
        raise NotYours(f"{head} is not defined in your file (it comes {where}): write it yourself")
    for name in rest:
        obj = getattr(obj, name)
    return obj


class _Materialiser:
    """Turns markers into objects, remembers the leaves, the built objects and copies of plain arrays."""

    def __init__(self, store: dict, watch: bool):
        self.store, self.watch = store, watch
        self.leaves: dict[str, Tensor] = {}
        self.reports: list = []
        self.arrays: list[tuple[str, np.ndarray, np.ndarray]] = []  # (label, the argument, a copy of it)

    def __call__(self, value, label: str):
        if isinstance(value, Leaf):
            tensor = Tensor(np.array(value.array), requires_grad=True)
            self.leaves[value.name or str(len(self.leaves))] = tensor
            return tensor
        if isinstance(value, Const):
            return Tensor(np.array(value.array))
        if isinstance(value, Build):
            obj, report = BUILDERS[value.what](**value.options)
            self.reports.append(report)
            return obj
        if isinstance(value, Stored):
            return self.store[value.key]
        if isinstance(value, np.ndarray):
            if self.watch:
                self.arrays.append((label, value, value.copy()))
            return value
        if isinstance(value, (list, tuple)):
            items = [self(v, f"{label}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict):
            return {k: self(v, f"{label}[{k!r}]") for k, v in value.items()}
        return value

    def changed(self) -> list[str]:
        return [label for label, now, before in self.arrays
                if now.shape != before.shape or not np.array_equal(now, before, equal_nan=True)]


class _LineCounter:
    """sys.settrace hook counting the 'call' and 'line' events of code compiled from one file."""

    def __init__(self, filename: str):
        self.filename, self.count = filename, 0

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename != self.filename:
            return None
        if event in ("call", "line"):
            self.count += 1
        return self


def count_lines(function, filename: str, *args, **kwargs) -> tuple[object, int]:
    """(function(*args, **kwargs), how many lines compiled from `filename` ran meanwhile)."""
    counter, previous = _LineCounter(filename), sys.gettrace()
    sys.settrace(counter)
    try:
        value = function(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return value, counter.count


def call(module, path: str, args=(), kwargs=None, *, backward=None, through=None, count_lines: bool = False,
         watch: bool = True, repeat: int = 1, store: dict | None = None) -> Outcome:
    """Call module.<path>(*args, **kwargs) `repeat` times and report (see Outcome).

    backward: an output gradient to back-propagate from the result (or from result[through]) into
    the Leaf arguments. count_lines: count the lines of the student's file that run. watch: record
    which array arguments the call modifies. store: the worker's stored values (Stored markers).
    """
    function = resolve(module, path)
    make = _Materialiser(store if store is not None else {}, watch)
    args = [make(a, f"argument {i}") for i, a in enumerate(args)]
    kwargs = {k: make(v, k) for k, v in (kwargs or {}).items()}
    counter = _LineCounter(module.__file__) if count_lines else None
    previous = sys.gettrace()
    if counter is not None:
        sys.settrace(counter)
    try:
        for _ in range(max(1, int(repeat))):
            value = function(*args, **kwargs)
    finally:
        if counter is not None:
            sys.settrace(previous)
    if backward is not None:
        output = value if through is None else value[through]
        if not isinstance(output, Tensor):
            raise AssertionError(f"expected a Tensor output to back-propagate from, got {type(output).__name__}")
        if not output.requires_grad:
            raise AssertionError("the output does not require grad: it was not computed with differentiable "
                                 "operations on the inputs")
        output.backward(np.asarray(backward))
    return Outcome(value=value, grads={name: leaf.grad for name, leaf in make.leaves.items()}, changed=make.changed(),
                   built=[report() for report in make.reports], lines=counter.count if counter else None)
