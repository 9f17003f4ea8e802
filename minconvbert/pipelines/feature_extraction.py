"""feature-extraction: the last hidden states of the bare encoder, as nested lists [1][T][hidden]
(or, with return_tensors=True, as a (1, T, hidden) Tensor), as transformers returns them."""

from __future__ import annotations

from minconvbert.pipelines.base import Pipeline

__all__ = ["FeatureExtractionPipeline"]


class FeatureExtractionPipeline(Pipeline):
    task = "feature-extraction"

    def run(self, item, return_tensors: bool = False, truncation=None, tokenize_kwargs=None):
        kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            kwargs["truncation"] = truncation
        output = self.forward(self.tokenizer(item, return_tensors="np", **kwargs))
        hidden = output[0]  # (1, T, C): last_hidden_state for ConvBertModel, logits for a head
        return hidden if return_tensors else hidden.tolist()
