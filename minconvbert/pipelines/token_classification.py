"""token-classification (ner): a label per token, or per entity, in transformers' format.

aggregation_strategy="none" (default): one dict per token whose label is not ignored ("O"):
    {"entity": "B-PER", "score": 0.99, "index": 1, "word": "jean", "start": 0, "end": 4}
"simple": neighbouring tokens of one entity are grouped (B-/I- prefixes; a label without one is an
"I-"): {"entity_group": "PER", "score": mean, "word": decoded text, "start": ..., "end": ...};
"first" / "max" / "average": each word (a token and its "##" continuations) first gets one label
(its first token's, its most confident token's, or the best of the averaged scores), then words are
grouped as in "simple". start / end are character offsets into the text.
"""

from __future__ import annotations

import numpy as np

from minconvbert.pipelines.base import Pipeline, softmax

__all__ = ["TokenClassificationPipeline"]

_STRATEGIES = ("none", "simple", "first", "max", "average")


class TokenClassificationPipeline(Pipeline):
    task = "token-classification"

    def run(self, item, aggregation_strategy="none", ignore_labels=None):
        strategy = str(getattr(aggregation_strategy, "value", aggregation_strategy)).lower()
        if strategy not in _STRATEGIES:
            raise ValueError(f"token-classification: aggregation_strategy must be one of {_STRATEGIES}, "
                             f"got {aggregation_strategy!r}")
        if not isinstance(item, str):
            raise ValueError(f"token-classification: expected a text, got {type(item).__name__} (pre-split words "
                             "are not supported)")
        encoding = self.tokenizer(item, return_tensors="np", truncation=True, return_special_tokens_mask=True,
                                  return_offsets_mapping=True)
        scores = softmax(self.forward(encoding).logits.data[0].astype(np.float32))  # (T, num_labels)
        tokens = self._tokens(item, encoding, scores)
        if strategy in ("none", "simple"):
            entities = [self._labelled(t["scores"], t, index=t["index"]) for t in tokens]
        else:
            entities = [self._word(group, strategy) for group in _words(tokens)]
        if strategy != "none":
            entities = self._groups(entities)
        ignore = ["O"] if ignore_labels is None else ignore_labels
        return [e for e in entities if e.get("entity") not in ignore and e.get("entity_group") not in ignore]

    def _tokens(self, text: str, encoding, scores) -> list:
        """One record per non-special token: word (its WordPiece), scores, index, start, end, is_subword."""
        ids, special = encoding["input_ids"][0], encoding["special_tokens_mask"][0]
        offsets = encoding["offset_mapping"][0]
        out = []
        for index, token_scores in enumerate(scores):
            if special[index]:
                continue
            word = self.tokenizer.convert_ids_to_tokens(int(ids[index]))
            start, end = int(offsets[index][0]), int(offsets[index][1])
            piece = text[start:end]
            is_subword = len(word) != len(piece)  # "##ing" covers "ing": a continuation
            if int(ids[index]) == self.tokenizer.unk_token_id:
                word, is_subword = piece, False
            out.append(dict(word=word, scores=token_scores, index=index, start=start, end=end, is_subword=is_subword))
        return out

    def _labelled(self, scores, token, **extra) -> dict:
        best = int(scores.argmax())
        return {"entity": self.model.config.id2label[best], "score": scores[best], **extra, "word": token["word"],
                "start": token["start"], "end": token["end"]}

    def _word(self, group: list, strategy: str) -> dict:
        if strategy == "first":
            scores = group[0]["scores"]
        elif strategy == "max":
            scores = max(group, key=lambda t: t["scores"].max())["scores"]
        else:
            scores = np.nanmean(np.stack([t["scores"] for t in group]), axis=0)
        word = self.tokenizer.convert_tokens_to_string([t["word"] for t in group])
        return self._labelled(scores, {"word": word, "start": group[0]["start"], "end": group[-1]["end"]})

    def _groups(self, entities: list) -> list:
        """Neighbouring entities with the same tag (the second not a "B-") become one entity group."""
        groups, current = [], []
        for entity in entities:
            if current:
                bi, tag = _tag(entity["entity"])
                if tag != _tag(current[-1]["entity"])[1] or bi == "B":
                    groups.append(self._group(current))
                    current = []
            current.append(entity)
        if current:
            groups.append(self._group(current))
        return groups

    def _group(self, entities: list) -> dict:
        return {"entity_group": entities[0]["entity"].split("-", 1)[-1],
                "score": np.mean(np.nanmean([e["score"] for e in entities])),
                "word": self.tokenizer.convert_tokens_to_string([e["word"] for e in entities]),
                "start": entities[0]["start"], "end": entities[-1]["end"]}


def _tag(label: str) -> tuple:
    """("B" or "I", tag): "B-PER" -> ("B", "PER"); a label without a prefix counts as inside."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def _words(tokens: list) -> list:
    """Tokens grouped into words: a token that is not a continuation starts a new word."""
    words = []
    for token in tokens:
        if words and token["is_subword"]:
            words[-1].append(token)
        else:
            words.append([token])
    return words
