"""fill-mask: the most likely tokens at each [MASK], in transformers' format.

    [{"score": 0.042, "token": 3291, "token_str": "problem", "sequence": "this is a simple problem."}, ...]

One list of top_k proposals for a text with one mask; a list of such lists for several masks (their
sequences keep the special tokens, as transformers' do). `targets` restricts the proposals to
the given words (a word outside the vocabulary stands for its first WordPiece).
"""

from __future__ import annotations

import numpy as np

from minconvbert.pipelines.base import Pipeline, softmax

__all__ = ["FillMaskPipeline"]


class FillMaskPipeline(Pipeline):
    task = "fill-mask"

    def run(self, item, top_k: int = 5, targets=None, tokenizer_kwargs=None):
        tokenizer = self.tokenizer
        if tokenizer.mask_token_id is None:
            raise ValueError("fill-mask: the tokenizer has no mask token")
        encoding = tokenizer(item, return_tensors="np", **(tokenizer_kwargs or {}))
        ids = encoding["input_ids"][0]  # (T,)
        masked = np.nonzero(ids == tokenizer.mask_token_id)[0]
        if len(masked) == 0:
            raise ValueError(f"fill-mask: no mask token ({tokenizer.mask_token}) in the input {item!r}")
        logits = self.forward(encoding).logits.data[0, masked].astype(np.float32)  # (masks, V)
        probs = softmax(logits)
        target_ids = None if targets is None else self._target_ids(targets)
        if target_ids is not None:
            probs = probs[:, target_ids]
            top_k = min(top_k, len(target_ids))
        single = len(masked) == 1
        rows = []
        for i, row in enumerate(probs):
            best = np.argsort(-row, kind="stable")[:top_k]
            proposals = []
            for p in best:
                token = int(target_ids[p]) if target_ids is not None else int(p)
                filled = ids.copy()
                filled[masked[i]] = token
                filled = filled[filled != tokenizer.pad_token_id]
                proposals.append({"score": float(row[p]), "token": token, "token_str": tokenizer.decode([token]),
                                  "sequence": tokenizer.decode(filled.tolist(), skip_special_tokens=single)})
            rows.append(proposals)
        return rows[0] if single else rows

    def _target_ids(self, targets) -> np.ndarray:
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in [targets] if isinstance(targets, str) else targets:
            if target in vocab:
                ids.append(vocab[target])
                continue
            pieces = self.tokenizer(target, add_special_tokens=False)["input_ids"]
            if pieces:  # transformers warns and uses the first piece
                ids.append(pieces[0])
        if not ids:
            raise ValueError(f"fill-mask: none of the targets {targets!r} is in the vocabulary")
        return np.array(list(set(ids)))
