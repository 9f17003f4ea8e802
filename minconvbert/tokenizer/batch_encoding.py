"""BatchEncoding: what a tokenizer call returns, a dict of model inputs with transformers' helpers.

    enc = tok(["Hello world!", "Hi"], padding=True, return_tensors="np")
    enc["input_ids"].shape, enc.input_ids.shape        # (2, 5): every value is (batch, seq_len)
    enc.tokens(0)        # ['[CLS]', 'hello', 'world', '!', '[SEP]']
    enc.word_ids(0)      # [None, 0, 1, 2, None]: the word of each token (None: a special token)
    enc.char_to_token(0, 6)                            # 2: character 6 ("w") is in token 2

Values are lists (one row per text, or one list for a single text), or with return_tensors int64
NumPy arrays ("np") or torch tensors ("pt", when PyTorch is installed).

The alignment helpers (word_ids, sequence_ids, token_to_chars, char_to_token, ...) need to know which
word and which sequence each token came from. That is not computed on every call (the tokenizers'
hot path does not track words); the first helper call re-encodes the same inputs with the same
arguments once, tracking them, and keeps the result.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["BatchEncoding", "CharSpan", "TokenSpan", "TENSOR_TYPES"]

TENSOR_TYPES = ("np", "pt")


class CharSpan(NamedTuple):
    """Characters start..end-1 of the original text."""
    start: int
    end: int


class TokenSpan(NamedTuple):
    """Tokens start..end-1 of an encoded row."""
    start: int
    end: int


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("return_tensors='pt' needs PyTorch, which is not installed; use return_tensors='np' for "
                          "NumPy arrays (minconvbert's models take them as they are)") from None
    return torch


class BatchEncoding(dict):
    """A dict of model inputs ("input_ids", "attention_mask", ...) that also allows `enc.input_ids`.

    With return_tensors="np" every value is an int64 array of shape (batch, seq_len) (offset_mapping:
    (batch, seq_len, 2)), ready for `model(**enc)`; with "pt", torch tensors of the same shapes.
    """

    def __init__(self, data=None, alignment: Callable[[], list[dict]] | None = None):
        super().__init__(data or {})
        self._alignment = alignment  # () -> per row {"tokens", "word_ids", "sequence_ids", "offset_mapping"}
        self._rows = None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no field {name!r}; fields: {list(self)}") from None

    def __getstate__(self):
        return {"data": dict(self), "rows": self._aligned_rows() if self._alignment else self._rows}

    def __setstate__(self, state):
        self.update(state["data"])
        self._alignment, self._rows = None, state["rows"]

    @property
    def data(self) -> dict:
        return dict(self)

    # --------------------------------------------------------------------------------- tensors
    def convert_to_tensors(self, tensor_type="np") -> "BatchEncoding":
        """Turn every list value into an int64 NumPy array ("np") or torch tensor ("pt"); a ragged batch
        raises (pad it first). torch is imported only for "pt"."""
        if tensor_type is None:
            return self
        tensor_type = getattr(tensor_type, "value", tensor_type)  # transformers' TensorType enum
        if tensor_type not in TENSOR_TYPES:
            raise ValueError(f"return_tensors: expected 'np' (NumPy arrays) or 'pt' (torch tensors), "
                             f"got {tensor_type!r}")
        torch = _torch() if tensor_type == "pt" else None
        for key, value in self.items():
            if torch is not None and isinstance(value, torch.Tensor):
                continue
            if not isinstance(value, np.ndarray):
                value = self._array(key, value)
            self[key] = torch.from_numpy(value) if torch is not None else value
        return self

    @staticmethod
    def _array(key, value) -> np.ndarray:
        rows = value if isinstance(value, (list, tuple)) else [value]
        lengths = {len(row) for row in rows if isinstance(row, (list, tuple))}
        if len(lengths) > 1:
            raise ValueError(
                f"return_tensors: the rows of {key!r} have different lengths {sorted(lengths)}; "
                "use padding=True (or padding='max_length') to make them the same length")
        array = np.array(value, dtype=np.int64)
        if key == "offset_mapping" and array.ndim == 2 and array.size == 0:
            array = array.reshape(array.shape[0], 0, 2)
        return array

    def to(self, device) -> "BatchEncoding":
        """Move torch tensors to `device` (as transformers' BatchEncoding.to); arrays and lists stay."""
        for key, value in self.items():
            if hasattr(value, "to") and not isinstance(value, np.ndarray):
                self[key] = value.to(device)
        return self

    # ------------------------------------------------------------------------------- alignment
    def _aligned_rows(self) -> list[dict]:
        if self._rows is None:
            if self._alignment is None:
                raise ValueError("BatchEncoding: no alignment information (this encoding was not made by "
                                 "calling a tokenizer on text)")
            self._rows = self._alignment()
            self._alignment = None
        return self._rows

    def _row(self, batch_index: int) -> dict:
        rows = self._aligned_rows()
        if not isinstance(batch_index, int) or not -len(rows) <= batch_index < len(rows):
            raise IndexError(f"batch_index: {batch_index!r} is outside the batch of {len(rows)} rows")
        return rows[batch_index]

    def _split(self, batch_or_index: int, index: int | None):
        """(batch, index): one argument means (0, it), as in transformers."""
        if index is None:
            return 0, batch_or_index
        return batch_or_index, index

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The tokens of a row, special tokens and padding included."""
        return list(self._row(batch_index)["tokens"])

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token, the index of the word it comes from (None for special tokens and padding)."""
        return list(self._row(batch_index)["word_ids"])

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token, 0 (first text), 1 (the pair) or None (special tokens and padding)."""
        return list(self._row(batch_index)["sequence_ids"])

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        batch, token = self._split(batch_or_token_index, token_index)
        return self._row(batch)["sequence_ids"][token]

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None) -> int | None:
        batch, token = self._split(batch_or_token_index, token_index)
        return self._row(batch)["word_ids"][token]

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None) -> CharSpan | None:
        """The characters of the token in its own text (None for special tokens and padding)."""
        batch, token = self._split(batch_or_token_index, token_index)
        row = self._row(batch)
        if row["sequence_ids"][token] is None:
            return None
        return CharSpan(*row["offset_mapping"][token])

    def word_to_tokens(self, batch_or_word_index: int, word_index: int | None = None,
                       sequence_index: int = 0) -> TokenSpan | None:
        """The tokens of a word of sequence `sequence_index` (None if the word has no token in the row)."""
        batch, word = self._split(batch_or_word_index, word_index)
        row = self._row(batch)
        hits = [i for i, (w, s) in enumerate(zip(row["word_ids"], row["sequence_ids"]))
                if w == word and s == sequence_index]
        return TokenSpan(hits[0], hits[-1] + 1) if hits else None

    def word_to_chars(self, batch_or_word_index: int, word_index: int | None = None,
                      sequence_index: int = 0) -> CharSpan | None:
        batch, word = self._split(batch_or_word_index, word_index)
        span = self.word_to_tokens(batch, word, sequence_index)
        if span is None:
            return None
        offsets = self._row(batch)["offset_mapping"]
        return CharSpan(offsets[span.start][0], offsets[span.end - 1][1])

    def char_to_token(self, batch_or_char_index: int, char_index: int | None = None,
                      sequence_index: int = 0) -> int | None:
        """The token covering character `char_index` of sequence `sequence_index` (None: white space, or cut off)."""
        batch, char = self._split(batch_or_char_index, char_index)
        row = self._row(batch)
        for i, ((start, end), s) in enumerate(zip(row["offset_mapping"], row["sequence_ids"])):
            if s == sequence_index and start <= char < end:
                return i
        return None

    def char_to_word(self, batch_or_char_index: int, char_index: int | None = None,
                     sequence_index: int = 0) -> int | None:
        batch, char = self._split(batch_or_char_index, char_index)
        token = self.char_to_token(batch, char, sequence_index)
        return None if token is None else self._row(batch)["word_ids"][token]
