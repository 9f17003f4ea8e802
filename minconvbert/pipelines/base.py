"""Pipeline: a model and its tokenizer behind one call, as transformers' pipelines.

A task pipeline defines `run(item, **options)` for one input; calling the pipeline with a list runs
each item in turn and returns the list of results. Options given to `pipeline(...)` become the
pipeline's defaults; options given to a call override them; an option the task does not know is a
TypeError naming it. The model runs in eval mode under `no_grad()`.
"""

from __future__ import annotations

import inspect

import numpy as np

from minconvbert.tensor import no_grad

__all__ = ["Pipeline", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis, computed stably (shift by the maximum)."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class Pipeline:
    """The shared machinery: defaults, option checks, lists of inputs, and the model call."""

    task = ""

    def __init__(self, model, tokenizer, **defaults):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._check_options(defaults)
        self.defaults = defaults

    def _check_options(self, options: dict) -> None:
        known = [p for p in inspect.signature(self.run).parameters if p != "item"]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected options {unknown}; this pipeline takes {known}")

    def __call__(self, inputs, **options):
        self._check_options(options)
        options = {**self.defaults, **options}
        if isinstance(inputs, (list, tuple)):
            return [self.run(item, **options) for item in inputs]
        return self.run(inputs, **options)

    def run(self, item, **options):
        raise NotImplementedError

    def forward(self, encoding: dict):
        """The model's output record for a tokenizer batch (only the inputs the model takes are passed)."""
        names = ("input_ids", "attention_mask", "token_type_ids")
        with no_grad():
            return self.model(**{k: encoding[k] for k in names if k in encoding}, return_dict=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__})"
