"""text-classification: labels and scores per text, in transformers' format and conventions.

    classifier("a text")                 -> [{"label": "POSITIVE", "score": 0.99}]        (the best label)
    classifier(["a", "b"])               -> [{"label": ..., "score": ...}, {...}]          (one per text)
    classifier("a text", top_k=None)     -> every label, best first (top_k=2: the best two)

Scores: softmax over the labels, a sigmoid for one label or problem_type "multi_label_classification",
the raw logits for "regression" (function_to_apply="softmax" / "sigmoid" / "none" overrides).
A {"text": ..., "text_pair": ...} dict classifies a pair.
"""

from __future__ import annotations

import numpy as np

from minconvbert.pipelines.base import Pipeline, softmax

__all__ = ["TextClassificationPipeline"]

_UNSET = object()  # top_k not given: transformers' legacy single-label answer
_FUNCTIONS = ("softmax", "sigmoid", "none")


class TextClassificationPipeline(Pipeline):
    task = "text-classification"

    def __call__(self, inputs, **options):
        result = super().__call__(inputs, **options)
        legacy = "top_k" not in {**self.defaults, **options}
        return [result] if isinstance(inputs, str) and legacy else result

    def run(self, item, top_k=_UNSET, function_to_apply=None, truncation=None, max_length=None, padding=False):
        kwargs = dict(truncation=truncation, max_length=max_length, padding=padding)
        if isinstance(item, dict):
            encoding = self.tokenizer(item["text"], item.get("text_pair"), return_tensors="np", **kwargs)
        elif isinstance(item, str):
            encoding = self.tokenizer(item, return_tensors="np", **kwargs)
        else:
            raise ValueError(f"text-classification: expected a text or a {{'text', 'text_pair'}} dict, got "
                             f"{type(item).__name__} (send a pair as a dict)")
        logits = self.forward(encoding).logits.data[0].astype(np.float32)  # (num_labels,)
        scores = self._scores(logits, function_to_apply)
        id2label = self.model.config.id2label
        if top_k is _UNSET:
            best = int(scores.argmax())
            return {"label": id2label[best], "score": float(scores[best])}
        ranked = sorted(({"label": id2label[i], "score": float(s)} for i, s in enumerate(scores)),
                        key=lambda d: d["score"], reverse=True)
        return ranked if top_k is None else ranked[:top_k]

    def _scores(self, logits: np.ndarray, function) -> np.ndarray:
        config = self.model.config
        if function is None:
            if config.problem_type == "regression":
                function = "none"
            elif config.problem_type == "multi_label_classification" or config.num_labels == 1:
                function = "sigmoid"
            else:
                function = "softmax"
        function = str(getattr(function, "value", function)).lower()
        if function not in _FUNCTIONS:
            raise ValueError(f"text-classification: function_to_apply must be one of {_FUNCTIONS}, got {function!r}")
        if function == "softmax":
            return softmax(logits)
        if function == "sigmoid":
            return 1.0 / (1.0 + np.exp(-logits))
        return logits
