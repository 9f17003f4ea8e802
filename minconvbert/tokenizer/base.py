"""TokenizerBase: the constructor shared by ConvBertTokenizer and ConvBertTokenizerFast.

Everything except "text -> (ids, offsets)" is shared, with the reference's names and conventions,
one concern per module:

    base.py            construction: the arguments, the vocabulary, init_kwargs
    special_tokens.py  [CLS]/[SEP]/... attributes, add_tokens / add_special_tokens, finding them in text
    conversion.py      token <-> id, decode, [CLS]/[SEP] around ids
    pipeline.py        __call__ / encode / pad: texts, pairs, batches, pre-split words -> BatchEncoding
    files.py           from_pretrained / save_pretrained

A subclass implements `_setup()` (build basic_tokenizer and wordpiece_tokenizer) and
`_encode_plain(text, base, ids, offsets, words, word) -> next word`: append the ids (and, if `offsets`
is a list, the (start, end) offsets shifted by `base`; if `words` is a list, the word index of each
token counting from `word`) of a text that holds no special or added token.

    tok = ConvBertTokenizer.from_pretrained("path/to/folder")      # vocab.txt (+ tokenizer_config.json)
    enc = tok(["Hello world!", "Hi"], padding=True, return_tensors="np")
    enc["input_ids"].shape                                           # (2, 5)
    tok.decode(enc["input_ids"][0], skip_special_tokens=True)        # 'hello world!'
"""

from __future__ import annotations

import inspect
import os

from minconvbert.tokenizer.arguments import check_argument
from minconvbert.tokenizer.basic import BasicTokenizer, never_split_pattern
from minconvbert.tokenizer.conversion import ConversionMixin
from minconvbert.tokenizer.encoding import VERY_LARGE_INTEGER
from minconvbert.tokenizer.files import FilesMixin
from minconvbert.tokenizer.pipeline import CallMixin
from minconvbert.tokenizer.special_tokens import SPECIAL_TOKEN_NAMES, SpecialTokensMixin, check_encodable, token_content
from minconvbert.tokenizer.vocab import Vocabulary, load_vocab

__all__ = ["TokenizerBase"]

_VALUE_ERRORS = ("model_max_length", "padding_side", "truncation_side", "max_input_chars_per_word")


def _vocabulary(vocab_file, vocab) -> Vocabulary:
    """The Vocabulary from a file, or from `vocab` given as a Vocabulary or a dict {token: id} (ids 0..n-1)."""
    if vocab is None:
        return load_vocab(vocab_file)
    if isinstance(vocab, Vocabulary):
        return vocab
    if isinstance(vocab, (str, os.PathLike)):
        return load_vocab(vocab)
    if isinstance(vocab, dict):
        lines = sorted(vocab, key=vocab.get)
        if [vocab[t] for t in lines] != list(range(len(lines))) or not all(isinstance(t, str) for t in lines):
            raise ValueError("vocab: expected a dict {token (str): id} with the ids 0 .. n-1, each once")
        for token in lines:
            check_encodable(token, "vocab: the token")
        return Vocabulary(lines)
    raise TypeError(f"vocab: expected a path, a dict {{token: id}} or a Vocabulary, got {type(vocab).__name__}")


class TokenizerBase(SpecialTokensMixin, ConversionMixin, CallMixin, FilesMixin):
    """Shared behaviour of the two ConvBERT tokenizers; see ConvBertTokenizer for the arguments."""

    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    is_fast = False

    def __init__(self, vocab_file=None, do_lower_case: bool = True, do_basic_tokenize: bool = True,
                 never_split=None, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                 mask_token="[MASK]", tokenize_chinese_chars: bool = True, strip_accents: bool | None = None,
                 clean_up_tokenization_spaces: bool = False, model_max_length: int | None = None,
                 padding_side: str = "right", truncation_side: str = "right", clean_text: bool = True,
                 wordpieces_prefix: str = "##", max_input_chars_per_word: int = 100, bos_token=None, eos_token=None,
                 extra_special_tokens=None, additional_special_tokens=None, added_tokens_decoder=None, vocab=None):
        arguments = {name: value for name, value in locals().items() if name not in ("self", "vocab", "__class__")}
        for name, value in arguments.items():
            problem = check_argument(name, value)
            if problem:
                raise (ValueError if name in _VALUE_ERRORS else TypeError)(problem)
        self.vocab_data = _vocabulary(vocab_file, vocab)
        self.vocab_file = None if vocab is not None and vocab_file is None else vocab_file
        self.vocab = self.vocab_data.token_to_id
        self.ids_to_tokens = list(self.vocab_data.id_to_token)
        self.do_lower_case = do_lower_case
        self.do_basic_tokenize = do_basic_tokenize
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.clean_text = clean_text
        self.wordpieces_prefix = wordpieces_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else int(model_max_length)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.name_or_path = "" if vocab_file is None else os.fspath(vocab_file)
        self.never_split = None if never_split is None else list(never_split)
        self._never_split_re = never_split_pattern(self.never_split)
        self.deprecation_warnings: dict = {}  # warnings given once per tokenizer (as in the reference)
        self.init_inputs = ()

        defaults = {name: p.default for name, p in inspect.signature(TokenizerBase.__init__).parameters.items()
                    if name in SPECIAL_TOKEN_NAMES}
        given = {name: arguments[name] for name in SPECIAL_TOKEN_NAMES}
        extra = extra_special_tokens if extra_special_tokens is not None else additional_special_tokens
        self._init_special_tokens(given, defaults, added_tokens_decoder, extra)
        self._refresh()
        self.init_kwargs = {**{k: v for k, v in arguments.items() if k not in ("additional_special_tokens",)},
                            **{name: token_content(arguments[name]) for name in SPECIAL_TOKEN_NAMES},
                            "extra_special_tokens": self.extra_special_tokens,
                            "vocab_file": None if self.vocab_file is None else os.fspath(self.vocab_file)}

    def _setup(self) -> None:
        """Build basic_tokenizer, wordpiece_tokenizer and what the subclass needs (called after every change
        of the special or added tokens)."""
        raise NotImplementedError

    def _encode_plain(self, text: str, base: int, ids: list, offsets, words, word: int) -> int:
        raise NotImplementedError

    def _make_basic_tokenizer(self) -> BasicTokenizer:
        if self.do_basic_tokenize:
            return BasicTokenizer(self.do_lower_case, None, self.tokenize_chinese_chars, self.strip_accents,
                                  True, self.clean_text)
        # white space alone separates words; nothing is normalized
        return BasicTokenizer(False, None, False, False, do_split_on_punc=False, clean_text=False)

    def _normalize(self, text: str) -> str:
        return self._make_basic_tokenizer().normalize(text)[0]

    @classmethod
    def _init_argument_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "vocab_file", "vocab")]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"do_lower_case={self.do_lower_case}, strip_accents={self.strip_accents}, "
                f"model_max_length={self.model_max_length}, special_tokens={self.special_tokens_map}, "
                f"added_tokens={len(self._added)})")
