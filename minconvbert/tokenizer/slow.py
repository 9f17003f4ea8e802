"""ConvBertTokenizer: the readable tokenizer (basic tokenizer, then WordPiece), in plain Python.

    tok = ConvBertTokenizer("vocab.txt")
    tok.tokenize("Unaffable, héllo!")   # ['una', '##ffa', '##ble', ',', 'hello', '!']
    tok("Hello world")["input_ids"]     # [101, 7592, 2088, 102]

Text -> special tokens cut out whole -> for each other part: normalize character by character,
cut into words (basic.py) -> WordPiece each word (wordpiece.py) -> ids, with each piece's offsets
(start, end) into the original text. Identical results to ConvBertTokenizerFast, just slower.
"""

from __future__ import annotations

from minconvbert.tokenizer.base import TokenizerBase
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer, encode_words

__all__ = ["ConvBertTokenizer"]


class ConvBertTokenizer(TokenizerBase):
    """WordPiece tokenizer for ConvBERT, with the reference's arguments and behaviour.

    Parameters
    ----------
    vocab_file : str | os.PathLike
        vocab.txt, one token per line (a defective file loads as the reference loads it, with a warning).
    do_lower_case : bool, default True
    do_basic_tokenize : bool, default True
        False: no normalization and no punctuation split; only white space separates words.
    never_split : list[str] | None
        Words (between white space) kept as one token, not normalized or split.
    unk_token, sep_token, pad_token, cls_token, mask_token, bos_token, eos_token : str | AddedToken | None
        Special tokens, found whole anywhere in the text. A str must be in the vocabulary (a default one
        missing from it means "no such token": an error only when it is needed, e.g. [PAD] for padding);
        an AddedToken is added to the vocabulary if it is new.
    tokenize_chinese_chars : bool, default True
        Each CJK ideograph becomes a word of its own.
    strip_accents : bool | None, default None
        Remove accents (NFD, then drop nonspacing marks); None means "as do_lower_case".
    clean_up_tokenization_spaces : bool, default False
        decode() removes the space before punctuation and in contractions ("do n't" stays).
    model_max_length : int | None
        Used by truncation=True / padding="max_length" when max_length is not given.
    clean_text : bool, default True
        Remove control characters and turn every white space into a space.
    wordpieces_prefix : str, default "##"
    max_input_chars_per_word : int, default 100
        Longer words are one unknown token.
    extra_special_tokens : list[str | AddedToken] | None
        More special tokens (transformers 4's additional_special_tokens, also accepted).
    added_tokens_decoder : dict[int, AddedToken] | None
        Added tokens by id, as tokenizer_config.json records them.
    vocab : dict[str, int] | Vocabulary | None
        The vocabulary itself, instead of vocab_file.
    """

    def _setup(self) -> None:
        self.basic_tokenizer = self._make_basic_tokenizer()
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, self.unk_token, self.max_input_chars_per_word,
                                                      self.wordpieces_prefix, unk_id=self.unk_token_id)

    def _encode_plain(self, text: str, base: int, ids: list, offsets, words, word: int) -> int:
        return encode_words(self.basic_tokenizer, self.wordpiece_tokenizer, text, base, ids, offsets, words, word)
