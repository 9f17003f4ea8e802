"""Calling a tokenizer: texts, pairs, batches or pre-split words in; a BatchEncoding of model inputs out.

    tok("Hello world")                                   # {'input_ids': [101, 7592, 2088, 102], ...}
    tok(["a", "b c"], padding=True, return_tensors="np") # (2, 4) int64 arrays
    tok(["Hello", "world"], is_split_into_words=True).word_ids()     # [None, 0, 1, None]
    tok.pad([{"input_ids": [1, 2, 3]}, {"input_ids": [4]}])           # pad already-encoded rows

The steps (encoding.py has the rules): each text -> (ids, offsets) by the subclass; truncation
(with stride and overflowing windows); [CLS] A [SEP] (B [SEP]); padding; lists or arrays.
"""

from __future__ import annotations

import gc
import warnings

from minconvbert.tokenizer.batch_encoding import BatchEncoding
from minconvbert.tokenizer.encoding import (
    LARGE_INTEGER, PADDING_STRATEGIES, TRUNCATION_STRATEGIES, Sequence, columns_without_truncation, combine,
    pad_columns, truncate_pair,
)

__all__ = ["CallMixin", "SequenceLengthWarning"]

_KINDS = "a str, a list of str, or a list of (str, str) pairs"
_WORD_KINDS = "a list of words (str), or a batch of such lists"


class SequenceLengthWarning(UserWarning):
    """An encoding is longer than model_max_length (the model's position embeddings cannot take it)."""


def _check_side(name, side):
    if side not in ("right", "left"):
        raise ValueError(f"{name}: expected 'right' or 'left', got {side!r}")
    return side


def _is_words(item) -> bool:
    return isinstance(item, (list, tuple)) and all(isinstance(w, str) for w in item)


class CallMixin:
    """tokenize / __call__ / encode / pad, on top of `_encode_text` / `_encode_many` (text -> ids)."""

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """The WordPiece tokens of `text` (and `pair`): "Hello world" -> ["hello", "world"]."""
        ids = self.encode(text, pair, add_special_tokens=add_special_tokens)
        return [self._id_to_token(i) for i in ids]

    # ------------------------------------------------------------------------------ arguments
    @staticmethod
    def _examples(text, text_pair, is_split_into_words: bool = False):
        """[(first, pair or None), ...] and whether the input was a batch; clear errors for bad input.

        With is_split_into_words, each first / pair is a list of words instead of a str.
        """
        if text is None:
            raise ValueError("text: nothing to tokenize (got None)")
        single, kinds = (_is_words, _WORD_KINDS) if is_split_into_words else \
            ((lambda x: isinstance(x, str)), _KINDS)
        if single(text) and not (is_split_into_words and text and all(_is_words(t) for t in text)):
            if text_pair is not None and not single(text_pair):
                raise TypeError(f"text_pair: with a single text, expected {'a list of str' if is_split_into_words else 'a str'}, "
                                f"got {type(text_pair).__name__}")
            return [(list(text) if is_split_into_words else text, text_pair)], False
        if not isinstance(text, (list, tuple)):
            raise TypeError(f"text: expected {kinds}, got {type(text).__name__}")
        if text_pair is not None:
            if not isinstance(text_pair, (list, tuple)) or len(text_pair) != len(text):
                raise ValueError("text_pair: with a batch of texts, expected a list of the same length "
                                 f"({len(text)})")
            for name, items in (("text", text), ("text_pair", text_pair)):
                for i, item in enumerate(items):
                    if not single(item):
                        raise TypeError(f"{name}[{i}]: expected {'a list of str' if is_split_into_words else 'a str'}, "
                                        f"got {type(item).__name__}")
            return list(zip(text, text_pair)), True
        examples = []
        for i, item in enumerate(text):
            if single(item):
                examples.append((item, None))
            elif isinstance(item, (list, tuple)) and len(item) == 2 and all(single(x) for x in item):
                examples.append((item[0], item[1]))
            else:
                raise TypeError(f"text[{i}]: expected {'a list of str' if is_split_into_words else 'a str'} or a "
                                f"pair of them, got {type(item).__name__}"
                                + (f" {item!r}"[:80] if isinstance(item, (list, tuple)) else ""))
        return examples, True

    def _strategies(self, padding, truncation, max_length, pad_to_multiple_of):
        """Resolve padding / truncation arguments the way the reference does."""
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                       or max_length < 0):
            raise ValueError(f"max_length: expected a non-negative int or None, got {max_length!r}")
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"  # the reference truncates when only max_length is given
        if padding is True:
            padding = "longest"
        elif padding is False or padding is None:
            padding = "do_not_pad"
        if padding not in PADDING_STRATEGIES:
            raise ValueError(f"padding: expected True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}")
        if truncation is True:
            truncation = "longest_first"
        elif truncation is False or truncation is None:
            truncation = "do_not_truncate"
        if truncation not in TRUNCATION_STRATEGIES:
            raise ValueError("truncation: expected True, False, 'longest_first', 'only_first', 'only_second' or "
                             f"'do_not_truncate', got {truncation!r}")
        if max_length is None:
            if padding == "max_length":
                if self.model_max_length > LARGE_INTEGER:
                    warnings.warn("padding='max_length' without max_length and no model_max_length: not padding",
                                  stacklevel=4)
                    padding = "do_not_pad"
                else:
                    max_length = self.model_max_length
            if truncation != "do_not_truncate":
                if self.model_max_length > LARGE_INTEGER:
                    truncation = "do_not_truncate"
                else:
                    max_length = self.model_max_length
        if padding != "do_not_pad":
            self._require_pad_token("padding")
        if pad_to_multiple_of is not None:
            if isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) \
                    or pad_to_multiple_of <= 0:
                raise ValueError(f"pad_to_multiple_of: expected a positive int or None, got {pad_to_multiple_of!r}")
            if truncation != "do_not_truncate" and padding != "do_not_pad" and max_length is not None \
                    and max_length % pad_to_multiple_of:
                raise ValueError(f"pad_to_multiple_of: truncation length max_length={max_length} is not a multiple "
                                 f"of pad_to_multiple_of={pad_to_multiple_of}")
        return padding, truncation, max_length

    def _require_pad_token(self, what: str) -> None:
        if self.pad_token is None:
            raise ValueError(f"{what}: this tokenizer has no pad_token (its vocabulary has no [PAD]); set one with "
                             "tokenizer.add_special_tokens({'pad_token': '[PAD]'}) or tokenizer.pad_token = ...")

    def _encode_many(self, texts: list[str], with_offsets: bool):
        """(ids, offsets) of each text; the fast tokenizer overrides this for speed."""
        return [self._encode_text(t, with_offsets)[:2] for t in texts]

    def _encode_words(self, words: list[str], with_offsets: bool, with_words: bool):
        """(ids, offsets, word indices) of pre-split words: each word on its own, offsets within the word."""
        ids, offsets, indices = [], [] if with_offsets else None, [] if with_words else None
        for index, word in enumerate(words):
            word_ids, word_offsets, _ = self._encode_text(word, with_offsets)
            ids += word_ids
            if with_offsets:
                offsets += word_offsets
            if with_words:
                indices += [index] * len(word_ids)
        return ids, offsets, indices

    def _encode_inputs(self, inputs: list, with_offsets: bool, with_words: bool, split_into_words: bool):
        """(ids, offsets or None) per input text, or (ids, offsets, words) for pre-split words or when tracking
        words."""
        if split_into_words:
            return [self._encode_words(x, with_offsets, with_words) for x in inputs]
        if with_words:
            return [self._encode_text(t, with_offsets, True) for t in inputs]
        return self._encode_many(inputs, with_offsets)

    # ---------------------------------------------------------------------------------- calling
    def __call__(self, text=None, text_pair=None, add_special_tokens: bool = True, padding=False, truncation=None,
                 max_length: int | None = None, stride: int = 0, is_split_into_words: bool = False,
                 pad_to_multiple_of: int | None = None, padding_side: str | None = None, return_tensors=None,
                 return_token_type_ids: bool | None = None, return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False, return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False, verbose: bool = True):
        """Tokenize a text, a pair, or a batch of either, into model inputs (a BatchEncoding).

        A single text gives lists (input_ids: [101, ..., 102]); a batch gives lists of lists, or with
        return_tensors="np" int64 arrays of shape (batch, seq_len) (a single text gets batch 1), with
        "pt" torch tensors. With return_overflowing_tokens, every window cut off by truncation becomes
        a row of its own and "overflow_to_sample_mapping" says which input each row came from. With
        is_split_into_words, each text is a list of words (word_ids() then gives their indices).
        """
        arguments = dict(text=text, text_pair=text_pair, add_special_tokens=add_special_tokens, padding=padding,
                         truncation=truncation, max_length=max_length, stride=stride,
                         is_split_into_words=is_split_into_words, pad_to_multiple_of=pad_to_multiple_of,
                         padding_side=padding_side, return_tensors=return_tensors,
                         return_token_type_ids=return_token_type_ids, return_attention_mask=return_attention_mask,
                         return_overflowing_tokens=return_overflowing_tokens,
                         return_special_tokens_mask=return_special_tokens_mask,
                         return_offsets_mapping=return_offsets_mapping, return_length=return_length, verbose=verbose)
        # Encoding a batch allocates millions of small lists and tuples but never a reference cycle, so
        # the cyclic garbage collector is paused meanwhile (it would otherwise cost up to half the time).
        # (The alignment helpers' closure is made before the collector is back on: allocating it after would
        # start, inside this call, the collection that the millions of new objects are due.)
        collecting = gc.isenabled()
        gc.disable()
        try:
            out, _ = self._call(**arguments)
            out._alignment = lambda: self._call(**arguments, track_words=True)[1]
        finally:
            if collecting:
                gc.enable()
        return out

    def _call(self, text, text_pair, add_special_tokens, padding, truncation, max_length, stride,
              is_split_into_words, pad_to_multiple_of, padding_side, return_tensors, return_token_type_ids,
              return_attention_mask, return_overflowing_tokens, return_special_tokens_mask, return_offsets_mapping,
              return_length, verbose, track_words=False):
        """(BatchEncoding, alignment rows or None); track_words also computes word_ids / sequence_ids."""
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride: expected a non-negative int, got {stride!r}")
        examples, batched = self._examples(text, text_pair, is_split_into_words)
        padding, truncation, max_length = self._strategies(padding, truncation, max_length, pad_to_multiple_of)
        side = _check_side("padding_side", padding_side) if padding_side is not None else self.padding_side
        cls_id, sep_id = self._cls_sep_ids() if add_special_tokens else (None, None)

        with_offsets = bool(return_offsets_mapping) or track_words
        firsts = self._encode_inputs([a for a, _ in examples], with_offsets, track_words, is_split_into_words)
        pair_inputs = [b for _, b in examples if b is not None]
        seconds = iter(self._encode_inputs(pair_inputs, with_offsets, track_words, is_split_into_words)) \
            if pair_inputs else None

        paired = [pair is not None for _, pair in examples]
        if truncation == "do_not_truncate" and not track_words and not is_split_into_words and (
                all(paired) or not any(paired)):
            # nothing overflows: build the columns directly (the common, hot case)
            columns = columns_without_truncation(firsts, list(seconds) if any(paired) else None, cls_id, sep_id,
                                                 add_special_tokens, with_offsets, return_special_tokens_mask)
            sample_of_row = list(range(len(examples)))
        else:
            rows, sample_of_row = [], []
            for index, ((_, pair), encoded) in enumerate(zip(examples, firsts)):
                first = Sequence(*encoded)
                second = Sequence(*next(seconds)) if pair is not None else None
                if truncation != "do_not_truncate":
                    n_special = (3 if second is not None else 2) if add_special_tokens else 0
                    if max_length < n_special:
                        raise ValueError(f"max_length: {max_length} is smaller than the {n_special} special tokens "
                                         "each sequence needs ([CLS] ... [SEP])")
                    first, second = truncate_pair(first, second, max_length - n_special, truncation, stride,
                                                  self.truncation_side)
                example_rows = combine(first, second, cls_id, sep_id, add_special_tokens, with_offsets)
                if not return_overflowing_tokens:
                    example_rows = example_rows[:1]
                rows += example_rows
                sample_of_row += [index] * len(example_rows)
            columns = {key: [row[key] for row in rows] for key in rows[0]} if rows else {
                "input_ids": [], "token_type_ids": [], "special_tokens_mask": []}
            if with_offsets and "offset_mapping" not in columns:
                columns["offset_mapping"] = []

        if truncation == "do_not_truncate" and verbose:
            self._warn_if_too_long(columns["input_ids"])
        columns["attention_mask"] = [[1] * len(ids) for ids in columns["input_ids"]]
        if padding != "do_not_pad" and columns["input_ids"]:
            target = max(map(len, columns["input_ids"])) if padding == "longest" else max_length
            if pad_to_multiple_of is not None and target % pad_to_multiple_of:
                target += pad_to_multiple_of - target % pad_to_multiple_of
            pad_columns(columns, target, self.pad_token_id, self.pad_token_type_id, side)

        alignment = None
        if track_words:
            alignment = [{"tokens": [self._id_to_token(i) for i in ids], "word_ids": words, "sequence_ids": seqs,
                          "offset_mapping": offsets} for ids, words, seqs, offsets in
                         zip(columns["input_ids"], columns["word_ids"], columns["sequence_ids"],
                             columns["offset_mapping"])]
        keys = ["input_ids"]
        if return_token_type_ids or (return_token_type_ids is None and "token_type_ids" in self.model_input_names):
            keys.append("token_type_ids")
        if return_attention_mask or (return_attention_mask is None and "attention_mask" in self.model_input_names):
            keys.append("attention_mask")
        if return_special_tokens_mask:
            keys.append("special_tokens_mask")
        if return_offsets_mapping:
            keys.append("offset_mapping")
        out = BatchEncoding({key: columns[key] for key in keys})
        if return_length:
            out["length"] = list(map(len, columns["input_ids"]))
        if return_overflowing_tokens:
            out["overflow_to_sample_mapping"] = sample_of_row
        if not batched and return_tensors is None and not return_overflowing_tokens:
            for key in list(out):
                if key != "length":  # the reference keeps "length" a list even for one text
                    out[key] = out[key][0]
        return out.convert_to_tensors(return_tensors), alignment

    def _warn_if_too_long(self, rows) -> None:
        """Warn once per tokenizer (as the reference) when an encoding exceeds model_max_length."""
        limit = self.model_max_length
        if limit > LARGE_INTEGER or self.deprecation_warnings.get("sequence-length-is-longer-than-the-specified-"
                                                                  "maximum"):
            return
        longest = max(map(len, rows), default=0)
        if longest > limit:
            self.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
            warnings.warn(f"Token indices sequence length is longer than the specified maximum sequence length for "
                          f"this model ({longest} > {limit}). Running this sequence through the model will result "
                          "in indexing errors; use truncation=True", SequenceLengthWarning, stacklevel=4)

    def encode(self, text, text_pair=None, add_special_tokens: bool = True, padding=False, truncation=None,
               max_length: int | None = None, stride: int = 0, is_split_into_words: bool = False,
               return_tensors=None) -> list[int]:
        """The input_ids of one text (or pair): "Hello world" -> [101, 7592, 2088, 102]."""
        if not is_split_into_words:
            self._check_text(text)
            if text_pair is not None:
                self._check_text(text_pair, "text_pair")
        out = self(text, text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
                   max_length=max_length, stride=stride, is_split_into_words=is_split_into_words,
                   return_tensors=return_tensors, return_token_type_ids=False, return_attention_mask=False)
        return out["input_ids"]

    def encode_plus(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        """One text or pair (transformers 4's name; the same as calling the tokenizer)."""
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs, **kwargs) -> BatchEncoding:
        """A batch of texts or (text, pair) tuples (transformers 4's name; the same as calling the tokenizer)."""
        return self(list(batch_text_or_text_pairs), **kwargs)

    # ------------------------------------------------------------------------------------ pad
    def pad(self, encoded_inputs, padding=True, max_length: int | None = None, pad_to_multiple_of: int | None = None,
            padding_side: str | None = None, return_attention_mask: bool | None = None,
            return_tensors=None, verbose: bool = True) -> BatchEncoding:
        """Pad encoded rows: a list of features ({"input_ids": [...], ...} each), a dict of batched lists,
        or one encoding. input_ids get pad_token_id, token_type_ids pad_token_type_id, attention_mask 0
        (created if absent, unless return_attention_mask=False), special_tokens_mask 1."""
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], dict):
            keys = list(encoded_inputs[0])
            for i, feature in enumerate(encoded_inputs):
                if not isinstance(feature, dict) or list(feature) != keys:
                    raise ValueError(f"encoded_inputs[{i}]: every feature must be a dict with the keys {keys}")
            encoded_inputs = {key: [feature[key] for feature in encoded_inputs] for key in keys}
        if not isinstance(encoded_inputs, dict) or "input_ids" not in encoded_inputs:
            raise TypeError("encoded_inputs: expected a dict with 'input_ids' (or a list of such dicts), got "
                            f"{type(encoded_inputs).__name__}")
        columns = {key: (value.tolist() if hasattr(value, "tolist") else list(value))
                   for key, value in encoded_inputs.items()}
        single = bool(columns["input_ids"]) and not isinstance(columns["input_ids"][0], (list, tuple))
        if single:
            columns = {key: [value] for key, value in columns.items()}
        columns = {key: [list(row) for row in rows] for key, rows in columns.items()}
        padding, _, max_length = self._strategies(padding, False, max_length, pad_to_multiple_of)
        side = _check_side("padding_side", padding_side) if padding_side is not None else self.padding_side
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if return_attention_mask and "attention_mask" not in columns:
            columns["attention_mask"] = [[1] * len(ids) for ids in columns["input_ids"]]
        if padding != "do_not_pad" and columns["input_ids"]:
            target = max(map(len, columns["input_ids"])) if padding == "longest" else max_length
            if pad_to_multiple_of is not None and target % pad_to_multiple_of:
                target += pad_to_multiple_of - target % pad_to_multiple_of
            unknown = set(columns) - {"input_ids", "token_type_ids", "attention_mask", "special_tokens_mask",
                                      "offset_mapping"}
            padded = {key: columns[key] for key in columns if key not in unknown}
            pad_columns(padded, target, self.pad_token_id, self.pad_token_type_id, side)
            columns.update(padded)
        out = BatchEncoding({key: rows[0] for key, rows in columns.items()} if single and return_tensors is None
                            else columns)
        return out.convert_to_tensors(return_tensors)
