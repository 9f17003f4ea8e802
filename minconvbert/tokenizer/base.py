"""The tokenizer front end shared by ConvBertTokenizer and ConvBertTokenizerFast.

Everything except "text -> (ids, offsets)" lives here, with the reference's names and conventions:
the vocabulary and special tokens, calling the tokenizer on texts, pairs and batches (padding,
truncation, overflow, offsets, NumPy arrays), decoding, and from_pretrained / save_pretrained.
A subclass implements `_encode_plain(text, base, ids, offsets)`: append the ids (and, if `offsets` is a
list, the (start, end) character offsets shifted by `base`) of a text that holds no special token.

    tok = ConvBertTokenizer.from_pretrained("path/to/folder")      # vocab.txt (+ tokenizer_config.json)
    enc = tok(["Hello world!", "Hi"], padding=True, return_tensors="np")
    enc["input_ids"].shape                                           # (2, 5)
    tok.decode(enc["input_ids"][0], skip_special_tokens=True)        # 'hello world!'
"""

from __future__ import annotations

import gc
import json
import os
import re
import warnings

from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.chars import WHITESPACE
from minconvbert.tokenizer.encoding import (
    LARGE_INTEGER, PADDING_STRATEGIES, TRUNCATION_STRATEGIES, VERY_LARGE_INTEGER, BatchEncoding, Sequence,
    columns_without_truncation, combine, pad_columns, truncate_pair,
)
from minconvbert.tokenizer.vocab import Vocabulary, load_vocab

__all__ = ["TokenizerBase"]

VOCAB_FILE = "vocab.txt"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
SPECIAL_TOKEN_NAMES = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")

# The reference's WordPiece decoder tidies each piece; transformers' clean-up then tidies the whole text.
_PIECE_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                  (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))
_TEXT_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def _content(token):
    """A special token given as a string or as a serialized AddedToken ({"content": ...})."""
    if isinstance(token, dict):
        return token.get("content")
    return token


class TokenizerBase:
    """Shared behaviour of the two ConvBERT tokenizers; see ConvBertTokenizer for the arguments."""

    vocab_files_names = {"vocab_file": VOCAB_FILE}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(self, vocab_file=None, do_lower_case: bool = True, do_basic_tokenize: bool = True,
                 never_split=None, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                 mask_token="[MASK]", tokenize_chinese_chars: bool = True, strip_accents: bool | None = None,
                 clean_up_tokenization_spaces: bool = False, model_max_length: int | None = None,
                 padding_side: str = "right", truncation_side: str = "right", clean_text: bool = True,
                 wordpieces_prefix: str = "##", max_input_chars_per_word: int = 100, vocab: Vocabulary | None = None):
        self.vocab_file = None if vocab is not None else vocab_file
        self.vocab_data = vocab if vocab is not None else load_vocab(vocab_file)
        self.vocab = self.vocab_data.token_to_id
        self.ids_to_tokens = self.vocab_data.id_to_token
        for name, value in (("do_lower_case", do_lower_case), ("do_basic_tokenize", do_basic_tokenize),
                            ("tokenize_chinese_chars", tokenize_chinese_chars), ("clean_text", clean_text),
                            ("clean_up_tokenization_spaces", clean_up_tokenization_spaces)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: expected True or False, got {value!r}")
        if strip_accents is not None and not isinstance(strip_accents, bool):
            raise TypeError(f"strip_accents: expected True, False or None, got {strip_accents!r}")
        if not isinstance(wordpieces_prefix, str):
            raise TypeError(f"wordpieces_prefix: expected a str, got {type(wordpieces_prefix).__name__}")
        self.do_lower_case = do_lower_case
        self.do_basic_tokenize = do_basic_tokenize
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.clean_text = clean_text
        self.wordpieces_prefix = wordpieces_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = self._check_side("padding_side", padding_side)
        self.truncation_side = self._check_side("truncation_side", truncation_side)
        self.name_or_path = "" if vocab_file is None else os.fspath(vocab_file)

        given = {"unk_token": unk_token, "sep_token": sep_token, "pad_token": pad_token, "cls_token": cls_token,
                 "mask_token": mask_token}
        for name, token in given.items():
            token = _content(token)
            if token is None and name in ("unk_token", "sep_token", "cls_token"):
                raise ValueError(f"{name}: a ConvBERT tokenizer needs one, got None")
            if token is not None and not isinstance(token, str):
                raise TypeError(f"{name}: expected a str, got {type(token).__name__}")
            if token is not None and token not in self.vocab:
                raise ValueError(f"{name}: {token!r} is not in the vocabulary ({self.vocab_data.source})")
            setattr(self, name, token)
        if never_split is not None and (isinstance(never_split, str) or
                                        not all(isinstance(t, str) and t for t in never_split)):
            raise TypeError("never_split: expected a list of non-empty str")
        self.never_split = None if never_split is None else list(never_split)
        self._special_ids = {token: self.vocab[token] for token in self.all_special_tokens}
        self._splitter = self._build_splitter()
        self._setup()

    def _setup(self) -> None:
        """Build what the subclass needs to turn text into ids (called at the end of __init__)."""

    def _make_basic_tokenizer(self) -> BasicTokenizer:
        if self.do_basic_tokenize:
            return BasicTokenizer(self.do_lower_case, self.strip_accents, self.tokenize_chinese_chars, self.clean_text)
        # white space alone separates words; nothing is normalized
        return BasicTokenizer(False, False, False, False, split_on_punctuation=False)

    # ----------------------------------------------------------------------------- special tokens
    @staticmethod
    def _check_side(name, side):
        if side not in ("right", "left"):
            raise ValueError(f"{name}: expected 'right' or 'left', got {side!r}")
        return side

    @property
    def all_special_tokens(self) -> list[str]:
        """The special tokens in the reference's order: unk, sep, pad, cls, mask."""
        return [getattr(self, name) for name in SPECIAL_TOKEN_NAMES if getattr(self, name) is not None]

    @property
    def all_special_ids(self) -> list[int]:
        return [self.vocab[token] for token in self.all_special_tokens]

    @property
    def special_tokens_map(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SPECIAL_TOKEN_NAMES if getattr(self, name) is not None}

    unk_token_id = property(lambda self: self.vocab[self.unk_token])
    sep_token_id = property(lambda self: self.vocab[self.sep_token])
    cls_token_id = property(lambda self: self.vocab[self.cls_token])
    pad_token_id = property(lambda self: None if self.pad_token is None else self.vocab[self.pad_token])
    mask_token_id = property(lambda self: None if self.mask_token is None else self.vocab[self.mask_token])
    pad_token_type_id = 0

    def _build_splitter(self):
        """Regexes finding special tokens anywhere (longest first), and never_split words between spaces."""
        self._never_split_re = None
        if self.never_split:
            space = "".join(re.escape(c) for c in sorted(WHITESPACE))
            words = "|".join(re.escape(t) for t in sorted(set(self.never_split), key=len, reverse=True))
            self._never_split_re = re.compile(f"(?<![^{space}])(?:{words})(?![^{space}])")
        if not self._special_ids:
            return None
        tokens = sorted(self._special_ids, key=len, reverse=True)
        return re.compile("|".join(re.escape(t) for t in tokens))

    # ------------------------------------------------------------------------- text -> ids, offsets
    def _encode_plain(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        raise NotImplementedError

    def _encode_text(self, text: str, with_offsets: bool = False):
        """(ids, offsets or None) of one text, special tokens in it kept whole, no [CLS]/[SEP] added."""
        ids: list[int] = []
        offsets = [] if with_offsets else None
        position = 0
        if self._splitter is not None:
            for match in self._splitter.finditer(text):
                start, end = match.span()
                if start > position:
                    self._encode_segment(text[position:start], position, ids, offsets)
                ids.append(self._special_ids[match.group()])
                if with_offsets:
                    offsets.append((start, end))
                position = end
        if position < len(text):
            self._encode_segment(text[position:] if position else text, position, ids, offsets)
        return ids, offsets

    def _encode_segment(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        """A text between special tokens: never_split words (between white space) stay whole."""
        if self._never_split_re is None:
            self._encode_plain(text, base, ids, offsets)
            return
        position = 0
        for match in self._never_split_re.finditer(text):
            start, end = match.span()
            if start > position:
                self._encode_plain(text[position:start], base + position, ids, offsets)
            ids.append(self.vocab.get(match.group(), self.unk_token_id))
            if offsets is not None:
                offsets.append((base + start, base + end))
            position = end
        if position < len(text):
            self._encode_plain(text[position:], base + position, ids, offsets)

    @staticmethod
    def _check_text(text, name="text"):
        if not isinstance(text, str):
            raise TypeError(f"{name}: expected a str, got {type(text).__name__}")
        return text

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """The WordPiece tokens of `text` (and `pair`): "Hello world" -> ["hello", "world"]."""
        ids = self.encode(text, pair, add_special_tokens=add_special_tokens)
        return [self.ids_to_tokens[i] for i in ids]

    # ---------------------------------------------------------------------------- token <-> id
    @property
    def vocab_size(self) -> int:
        """Number of distinct tokens (29,514 for the original ConvBERT file of 30,522 lines)."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def convert_tokens_to_ids(self, tokens):
        """A token's id (the unknown token's id if it is not in the vocabulary); a list gives a list."""
        if tokens is None:
            return None
        if isinstance(tokens, str):
            return self.vocab.get(tokens, self.unk_token_id)
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
        if not 0 <= value < len(self.ids_to_tokens):
            raise ValueError(f"{name}: token id {value} is outside the vocabulary (0 .. {len(self.ids_to_tokens) - 1})")
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
        tokens = [self.ids_to_tokens[i] for i in self._id_list(ids)]
        if skip_special_tokens:
            tokens = [t for t in tokens if t not in self._special_ids]
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
        tokens = [self.ids_to_tokens[i] for i in self._id_list(token_ids, "token_ids")]
        tokens = [t for t in tokens if t is not None and not (skip_special_tokens and t in self._special_ids)]
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
        out = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out

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

    # -------------------------------------------------------------------------------- __call__
    @staticmethod
    def _examples(text, text_pair):
        """[(text, pair or None), ...] and whether the input was a batch; clear errors for bad input."""
        kinds = "a str, a list of str, or a list of (str, str) pairs"
        if text is None:
            raise ValueError("text: nothing to tokenize (got None)")
        if isinstance(text, str):
            if text_pair is not None and not isinstance(text_pair, str):
                raise TypeError(f"text_pair: with a single text, expected a str, got {type(text_pair).__name__}")
            return [(text, text_pair)], False
        if not isinstance(text, (list, tuple)):
            raise TypeError(f"text: expected {kinds}, got {type(text).__name__}")
        if text_pair is not None:
            if not isinstance(text_pair, (list, tuple)) or len(text_pair) != len(text):
                raise ValueError("text_pair: with a batch of texts, expected a list of str of the same length "
                                 f"({len(text)})")
            for name, items in (("text", text), ("text_pair", text_pair)):
                for i, item in enumerate(items):
                    if not isinstance(item, str):
                        raise TypeError(f"{name}[{i}]: expected a str, got {type(item).__name__}")
            return list(zip(text, text_pair)), True
        examples = []
        for i, item in enumerate(text):
            if isinstance(item, str):
                examples.append((item, None))
            elif isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
                examples.append((item[0], item[1]))
            else:
                raise TypeError(f"text[{i}]: expected a str or a (str, str) pair, got {type(item).__name__}"
                                + (f" {item!r}" if isinstance(item, (list, tuple)) else ""))
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
                                  stacklevel=3)
                    padding = "do_not_pad"
                else:
                    max_length = self.model_max_length
            if truncation != "do_not_truncate":
                if self.model_max_length > LARGE_INTEGER:
                    truncation = "do_not_truncate"
                else:
                    max_length = self.model_max_length
        if padding != "do_not_pad" and self.pad_token is None:
            raise ValueError("padding: this tokenizer has no pad_token")
        if pad_to_multiple_of is not None:
            if isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) \
                    or pad_to_multiple_of <= 0:
                raise ValueError(f"pad_to_multiple_of: expected a positive int or None, got {pad_to_multiple_of!r}")
            if truncation != "do_not_truncate" and padding != "do_not_pad" and max_length is not None \
                    and max_length % pad_to_multiple_of:
                raise ValueError(f"pad_to_multiple_of: truncation length max_length={max_length} is not a multiple "
                                 f"of pad_to_multiple_of={pad_to_multiple_of}")
        return padding, truncation, max_length

    def _encode_many(self, texts: list[str], with_offsets: bool):
        """(ids, offsets) of each text; the fast tokenizer overrides this for speed."""
        return [self._encode_text(t, with_offsets) for t in texts]

    def __call__(self, text=None, text_pair=None, add_special_tokens: bool = True, padding=False, truncation=None,
                 max_length: int | None = None, stride: int = 0, is_split_into_words: bool = False,
                 pad_to_multiple_of: int | None = None, padding_side: str | None = None, return_tensors=None,
                 return_token_type_ids: bool | None = None, return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False, return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False, verbose: bool = True):
        """Tokenize a text, a pair, or a batch of either, into model inputs (a BatchEncoding).

        A single text gives lists (input_ids: [101, ..., 102]); a batch gives lists of lists, or with
        return_tensors="np" int64 arrays of shape (batch, seq_len) (a single text gets batch 1).
        With return_overflowing_tokens, every window cut off by truncation becomes a row of its own
        and "overflow_to_sample_mapping" says which input each row came from.
        """
        # Encoding a batch allocates millions of small lists and tuples but never a reference cycle, so
        # the cyclic garbage collector is paused meanwhile (it would otherwise cost up to half the time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._call(text, text_pair, add_special_tokens, padding, truncation, max_length, stride,
                              is_split_into_words, pad_to_multiple_of, padding_side, return_tensors,
                              return_token_type_ids, return_attention_mask, return_overflowing_tokens,
                              return_special_tokens_mask, return_offsets_mapping, return_length)
        finally:
            if collecting:
                gc.enable()

    def _call(self, text, text_pair, add_special_tokens, padding, truncation, max_length, stride,
              is_split_into_words, pad_to_multiple_of, padding_side, return_tensors, return_token_type_ids,
              return_attention_mask, return_overflowing_tokens, return_special_tokens_mask, return_offsets_mapping,
              return_length):
        if is_split_into_words:
            raise NotImplementedError("is_split_into_words=True: pre-tokenized input is not supported; "
                                      "pass the text as one str")
        if return_tensors is not None and return_tensors != "np":
            raise ValueError(f"return_tensors: only 'np' (NumPy arrays) is supported, got {return_tensors!r}")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
            raise ValueError(f"stride: expected a non-negative int, got {stride!r}")
        examples, batched = self._examples(text, text_pair)
        padding, truncation, max_length = self._strategies(padding, truncation, max_length, pad_to_multiple_of)
        side = self._check_side("padding_side", padding_side) if padding_side is not None else self.padding_side

        with_offsets = bool(return_offsets_mapping)
        firsts = self._encode_many([a for a, _ in examples], with_offsets)
        pair_texts = [b for _, b in examples if b is not None]
        seconds = iter(self._encode_many(pair_texts, with_offsets)) if pair_texts else None

        cls_id, sep_id = self.cls_token_id, self.sep_token_id
        if truncation == "do_not_truncate":  # nothing overflows: build the columns directly
            paired = any(pair is not None for _, pair in examples)
            if paired and not all(pair is not None for _, pair in examples):
                # a batch mixing single texts and pairs: go through the general path below
                truncation_needed = True
            else:
                truncation_needed = False
                columns = columns_without_truncation(
                    firsts, list(seconds) if paired else None, cls_id, sep_id, add_special_tokens, with_offsets,
                    return_special_tokens_mask)
                sample_of_row = list(range(len(examples)))
        else:
            truncation_needed = True
        if truncation_needed:
            rows, sample_of_row = [], []
            for index, ((_, pair), (ids, offsets)) in enumerate(zip(examples, firsts)):
                first = Sequence(ids, offsets)
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

        columns["attention_mask"] = [[1] * len(ids) for ids in columns["input_ids"]]
        if padding != "do_not_pad" and columns["input_ids"]:
            target = max(map(len, columns["input_ids"])) if padding == "longest" else max_length
            if pad_to_multiple_of is not None and target % pad_to_multiple_of:
                target += pad_to_multiple_of - target % pad_to_multiple_of
            pad_columns(columns, target, self.pad_token_id, self.pad_token_type_id, side)

        keys = ["input_ids"]
        if return_token_type_ids or (return_token_type_ids is None and "token_type_ids" in self.model_input_names):
            keys.append("token_type_ids")
        if return_attention_mask or (return_attention_mask is None and "attention_mask" in self.model_input_names):
            keys.append("attention_mask")
        if return_special_tokens_mask:
            keys.append("special_tokens_mask")
        if with_offsets:
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
        return out.convert_to_tensors(return_tensors)

    def encode(self, text, text_pair=None, add_special_tokens: bool = True, padding=False, truncation=None,
               max_length: int | None = None, stride: int = 0, return_tensors=None) -> list[int]:
        """The input_ids of one text (or pair): "Hello world" -> [101, 7592, 2088, 102]."""
        self._check_text(text)
        if text_pair is not None:
            self._check_text(text_pair, "text_pair")
        out = self(text, text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
                   max_length=max_length, stride=stride, return_tensors=return_tensors,
                   return_token_type_ids=False, return_attention_mask=False)
        return out["input_ids"]

    # ------------------------------------------------------------------------ saving and loading
    def _config(self) -> dict:
        return {
            "tokenizer_class": type(self).__name__,
            "do_lower_case": self.do_lower_case,
            "do_basic_tokenize": self.do_basic_tokenize,
            "never_split": self.never_split,
            **self.special_tokens_map,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "strip_accents": self.strip_accents,
            "clean_text": self.clean_text,
            "wordpieces_prefix": self.wordpieces_prefix,
            "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
            "model_max_length": self.model_max_length,
            "padding_side": self.padding_side,
            "truncation_side": self.truncation_side,
        }

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str]:
        """Write vocab.txt (every line of the file read, so ids are kept even for a defective file)."""
        save_directory = os.fspath(save_directory)
        if not os.path.isdir(save_directory):
            raise NotADirectoryError(f"save_directory: {save_directory!r} is not a directory")
        name = (filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE
        return (self.vocab_data.save(os.path.join(save_directory, name)),)

    def save_pretrained(self, save_directory) -> tuple[str, ...]:
        """Write vocab.txt, tokenizer_config.json and special_tokens_map.json into `save_directory`."""
        save_directory = os.fspath(save_directory)
        if os.path.isfile(save_directory):
            raise NotADirectoryError(f"save_directory: {save_directory!r} is a file, expected a directory")
        os.makedirs(save_directory, exist_ok=True)
        config_path = os.path.join(save_directory, CONFIG_FILE)
        with open(config_path, "w", encoding="utf-8") as f:
            json.dump(self._config(), f, indent=2, ensure_ascii=False)
            f.write("\n")
        special_path = os.path.join(save_directory, SPECIAL_TOKENS_FILE)
        with open(special_path, "w", encoding="utf-8") as f:
            json.dump(self.special_tokens_map, f, indent=2, ensure_ascii=False)
            f.write("\n")
        return (config_path, special_path) + self.save_vocabulary(save_directory)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load from a folder holding vocab.txt (and optionally tokenizer_config.json, special_tokens_map.json),
        an embedded name ("minconvbert/nano") or a hub id (resolved as for the models).

        Keyword arguments override what the folder's files say (e.g. do_lower_case=False).
        """
        from minconvbert.io.hub import resolve_checkpoint

        path = os.fspath(resolve_checkpoint(pretrained_model_name_or_path, required=(VOCAB_FILE,), weights=False))
        vocab_file = os.path.join(path, VOCAB_FILE)
        if not os.path.isfile(vocab_file):
            raise FileNotFoundError(f"pretrained_model_name_or_path: {path!r} holds no {VOCAB_FILE}")
        known = set(cls._init_argument_names())
        init = {}
        for name in (CONFIG_FILE, SPECIAL_TOKENS_FILE):
            file = os.path.join(path, name)
            if not os.path.isfile(file):
                continue
            try:
                with open(file, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as error:
                raise ValueError(f"{file}: not a readable JSON file ({error})") from error
            if not isinstance(data, dict):
                raise ValueError(f"{file}: expected a JSON object, got {type(data).__name__}")
            init.update({k: _content(v) if k in SPECIAL_TOKEN_NAMES else v for k, v in data.items() if k in known})
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"from_pretrained: unknown arguments {sorted(unknown)}")
        init.update(kwargs)
        tokenizer = cls(vocab_file, **init)
        tokenizer.name_or_path = path
        return tokenizer

    @classmethod
    def _init_argument_names(cls):
        import inspect

        return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "vocab_file", "vocab")]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"do_lower_case={self.do_lower_case}, strip_accents={self.strip_accents}, "
                f"model_max_length={self.model_max_length}, special_tokens={self.special_tokens_map})")
