"""question-answering: the span of the context that answers the question, in transformers' format.

    qa(question="Who was Jim Henson?", context="Jim Henson was a nice puppet")
    -> {"score": 0.98, "start": 17, "end": 28, "answer": "nice puppet"}

The question and context are encoded as one pair, the context cut into windows of max_seq_len tokens
overlapping by doc_stride when it is too long. In each window the start and end logits are turned
into probabilities over the context tokens only (question, padding and [SEP] get -10000 before the
softmax; [CLS] takes part in it and is then zeroed), and a span (s, e) scores p_start[s] * p_end[e]
for s <= e < s + max_answer_len. The best top_k spans of all windows are returned (one dict, or a list
for top_k > 1), as character offsets into the context, widened to whole words (align_to_words).
handle_impossible_answer adds the "no answer" candidate {"answer": ""} scored p_start[CLS] * p_end[CLS].
"""

from __future__ import annotations

import numpy as np

from minconvbert.pipelines.base import Pipeline

__all__ = ["QuestionAnsweringPipeline", "best_spans"]


def best_spans(start: np.ndarray, end: np.ndarray, allowed: np.ndarray, top_k: int, max_answer_len: int):
    """(starts, ends, scores) of the top_k spans s <= e < s + max_answer_len by start[s] * end[e], both ends
    `allowed`; start, end, allowed (T,)."""
    outer = start[:, None] * end[None, :]  # (T, T): score of the span (s, e)
    candidates = np.tril(np.triu(outer), max_answer_len - 1)  # e >= s and e - s < max_answer_len
    flat = candidates.ravel()
    order = np.argsort(-flat, kind="stable")[: max(top_k, 1)]
    starts, ends = np.unravel_index(order, candidates.shape)
    keep = allowed[starts] & allowed[ends]
    return starts[keep], ends[keep], candidates[starts[keep], ends[keep]]


class QuestionAnsweringPipeline(Pipeline):
    task = "question-answering"

    def __call__(self, *args, question=None, context=None, **options):
        if args and (question is not None or context is not None):
            raise TypeError("question-answering: pass the inputs either positionally or as question=/context=")
        if len(args) == 2 and all(isinstance(a, str) for a in args):
            items = {"question": args[0], "context": args[1]}
        elif len(args) == 1:
            items = args[0]
        elif args:
            items = list(args)
        elif question is None or context is None:
            raise ValueError("question-answering: give a question and a context")
        elif isinstance(question, list):
            contexts = context if isinstance(context, list) else [context] * len(question)
            if len(contexts) != len(question):
                raise ValueError(f"question-answering: {len(question)} questions but {len(contexts)} contexts")
            items = [{"question": q, "context": c} for q, c in zip(question, contexts)]
        else:
            items = {"question": question, "context": context}
        if isinstance(items, list) and len(items) == 1:
            items = items[0]
        return super().__call__(items, **options)

    def run(self, item, top_k: int = 1, doc_stride=None, max_answer_len: int = 15, max_seq_len=None,
            max_question_len: int = 64, handle_impossible_answer: bool = False, align_to_words: bool = True):
        if not isinstance(item, dict) or not {"question", "context"} <= set(item):
            raise ValueError(f"question-answering: expected {{'question': ..., 'context': ...}}, got {item!r}")
        for key in ("question", "context"):
            if not isinstance(item[key], str) or not item[key]:
                raise ValueError(f"question-answering: {key} must be a non-empty text, got {item[key]!r}")
        if top_k < 1 or max_answer_len < 1:
            raise ValueError(f"question-answering: top_k and max_answer_len must be >= 1, got {top_k} and "
                             f"{max_answer_len}")
        tokenizer, context = self.tokenizer, item["context"]
        max_seq_len = min(tokenizer.model_max_length, 384) if max_seq_len is None else max_seq_len
        doc_stride = min(max_seq_len // 2, 128) if doc_stride is None else doc_stride
        encoding = tokenizer(item["question"], context, truncation="only_second", max_length=max_seq_len,
                             stride=doc_stride, padding=True, return_tensors="np", return_token_type_ids=True,
                             return_overflowing_tokens=True, return_offsets_mapping=True,
                             return_special_tokens_mask=True)
        output = self.forward(encoding)
        answers, null_score = [], 1e6
        for w in range(len(encoding["input_ids"])):  # each window of the context
            in_context = ((encoding["token_type_ids"][w] == 1) & (encoding["special_tokens_mask"][w] == 0)
                          & (encoding["attention_mask"][w] == 1))  # (T,)
            scored = in_context | (encoding["input_ids"][w] == tokenizer.cls_token_id)
            start = _probabilities(output.start_logits.data[w], scored)
            end = _probabilities(output.end_logits.data[w], scored)
            null_score = min(null_score, float(start[0] * end[0]))
            start[0] = end[0] = 0.0  # [CLS] is never an answer span
            offsets, ids = encoding["offset_mapping"][w], encoding["input_ids"][w]
            for s, e, score in zip(*best_spans(start, end, in_context, top_k, max_answer_len)):
                if align_to_words:
                    s, e = self._word_bounds(ids, in_context, s, e)
                first, last = int(offsets[s][0]), int(offsets[e][1])
                answers.append({"score": float(score), "start": first, "end": last, "answer": context[first:last]})
        if handle_impossible_answer:
            answers.append({"score": null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    def _word_bounds(self, ids, in_context, s: int, e: int) -> tuple:
        """Widen the token span (s, e) to whole words: back over "##" continuations at the start, on at the end."""
        tokens = self.tokenizer.convert_ids_to_tokens([int(i) for i in ids])

        def continues(i):
            return 0 <= i < len(tokens) and in_context[i] and tokens[i].startswith("##")

        while continues(s) and in_context[s - 1]:
            s -= 1
        while continues(e + 1):
            e += 1
        return s, e


def _probabilities(logits: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """softmax over the scored positions (the others get -10000, as in transformers): (T,) float64."""
    x = np.where(scored, logits.astype(np.float64), -10000.0)
    x = np.exp(x - x.max())
    return x / x.sum()
