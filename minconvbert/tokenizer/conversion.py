"""Tokens and ids: look-ups both ways, decoding back to text, and where [CLS]/[SEP] go around ids.

    tok.convert_tokens_to_ids(["hello", "world"])        # [7592, 2088]
    tok.convert_ids_to_tokens([101, 7592, 102])          # ['[CLS]', 'hello', '[SEP]']
    tok.decode([101, 7592, 2088, 102], skip_special_tokens=True)   # 'hello world'
"""

from __future__ import annotations

__all__ = ["ConversionMixin"]

# The reference's WordPiece decoder tidies each piece; transformers' clean-up then tidies the whole text.
_PIECE_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                  (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))
_TEXT_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


class ConversionMixin:
    """Token <-> id conversions and decoding, over `vocab`, `ids_to_tokens` and the added tokens."""

    @staticmethod
    def _check_text(text, name="text"):
        if not isinstance(text, str):
            raise TypeError(f"{name}: expected a str, got {type(text).__name__}")
        return text

    @property
    def vocab_size(self) -> int:
        """Number of distinct tokens in the vocabulary file (29,514 for the original ConvBERT file of 30,522
        lines), added tokens not included."""
        return len(self.vocab)

    def __len__(self) -> int:
        """vocab_size plus the added tokens that are not in the file, as in the reference.

        For a file with repeated tokens the largest id can be larger (see docs/tokenizer.md).
        """
        return len(self.vocab) + sum(1 for index in self._added if index >= len(self.ids_to_tokens))

    def get_vocab(self) -> dict[str, int]:
        """token -> id for every token, added tokens included."""
        return {**self.vocab, **self._added_ids}

    def convert_tokens_to_ids(self, tokens):
        """A token's id (the unknown token's id if it is not in the vocabulary); a list gives a list."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            index = self._token_id(tokens)
            return index if index is not None else self.unk_token_id
        if not isinstance(tokens, (list, tuple)):
            raise TypeError(f"tokens: expected a str or a list of str, got {type(tokens).__name__}")
        return [self.convert_tokens_to_ids(self._check_text(t, "tokens[i]")) for t in tokens]

    def _check_id(self, index, name="ids"):
        try:
            value = int(index)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: expected integer token ids, got {type(index).__name__}") from None
        if value != index or isinstance(index, bool):
            raise TypeError(f"{name}: expected integer token ids, got {index!r}")
        limit = max(len(self.ids_to_tokens), max(self._added, default=-1) + 1)
        if not 0 <= value < limit:
            raise ValueError(f"{name}: token id {value} is outside the vocabulary (0 .. {limit - 1})")
        return value

    def _id_list(self, ids, name="ids") -> list[int]:
        if hasattr(ids, "tolist"):  # NumPy arrays and scalars
            ids = ids.tolist()
        if isinstance(ids, (list, tuple)):
            return [self._check_id(i, name) for i in ids]
        return [self._check_id(ids, name)]

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        """The token of an id (None for an id whose token reappears later in a defective vocab file)."""
        single = not isinstance(ids, (list, tuple)) and not (hasattr(ids, "ndim") and ids.ndim > 0)
        ids = self._id_list(ids)
        if skip_special_tokens:
            ids = [i for i in ids if i not in self._skip_ids]
        tokens = [self._id_to_token(i) for i in ids]
        return tokens[0] if single and tokens else tokens

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Join WordPiece tokens back into text ("##" pieces glued to the previous one)."""
        return " ".join(tokens).replace(" " + self.wordpieces_prefix, "").strip()

    # ------------------------------------------------------------------------------------- decode
    def decode(self, token_ids, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool | None = None) -> str:
        """Text from token ids, as the reference decodes: "##" pieces glued, special tokens kept or skipped.

        Ids of a defective vocabulary that map to no token are skipped (as in the reference); an id
        outside the vocabulary raises ValueError.
        """
        ids = self._id_list(token_ids, "token_ids")
        tokens = [self._id_to_token(i) for i in ids if not (skip_special_tokens and i in self._skip_ids)]
        tokens = [t for t in tokens if t is not None]
        prefix = self.wordpieces_prefix
        pieces = []
        for i, token in enumerate(tokens):
            if i:
                token = token[len(prefix):] if token.startswith(prefix) else " " + token
            for old, new in _PIECE_CLEANUP:
                token = token.replace(old, new)
            pieces.append(token)
        text = "".join(pieces)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        if clean_up_tokenization_spaces:
            for old, new in _TEXT_CLEANUP:
                text = text.replace(old, new)
        return text

    def batch_decode(self, sequences, skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool | None = None) -> list[str]:
        """decode() for each row of a batch (a list of id lists or a 2-D array)."""
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        if not isinstance(sequences, (list, tuple)):
            raise TypeError(f"sequences: expected a list of id lists or a 2-D array, got {type(sequences).__name__}")
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces) for s in sequences]

    # --------------------------------------------------------------- special tokens around ids
    def build_inputs_with_special_tokens(self, token_ids_0: list[int], token_ids_1: list[int] | None = None):
        """[CLS] A [SEP]  or  [CLS] A [SEP] B [SEP]."""
        cls_id, sep_id = self._cls_sep_ids()
        out = [cls_id] + list(token_ids_0) + [sep_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [sep_id]
        return out

    def _cls_sep_ids(self) -> tuple[int, int]:
        """The ids of [CLS] and [SEP]; a clear error if this tokenizer lacks one (its vocabulary has none)."""
        for name in ("cls_token", "sep_token"):
            if self._special[name] is None:
                raise ValueError(f"add_special_tokens: this tokenizer has no {name} (its vocabulary has none), so "
                                 f"it cannot add [CLS] ... [SEP]; pass add_special_tokens=False, or set one with "
                                 f"tokenizer.add_special_tokens({{{name!r}: ...}})")
        return self.cls_token_id, self.sep_token_id

    def get_special_tokens_mask(self, token_ids_0: list[int], token_ids_1: list[int] | None = None,
                                already_has_special_tokens: bool = False) -> list[int]:
        """1 where build_inputs_with_special_tokens puts a special token (or where one already is), else 0."""
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("token_ids_1: must be None when already_has_special_tokens=True "
                                 "(pass the sequence that already holds the special tokens as token_ids_0)")
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        mask = [1] + [0] * len(token_ids_0) + [1]
        if token_ids_1 is not None:
            mask += [0] * len(token_ids_1) + [1]
        return mask

    def create_token_type_ids_from_sequences(self, token_ids_0: list[int], token_ids_1: list[int] | None = None):
        """0 for [CLS] A [SEP], 1 for B [SEP]."""
        types = [0] * (len(token_ids_0) + 2)
        if token_ids_1 is not None:
            types += [1] * (len(token_ids_1) + 1)
        return types

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2
