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
from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

__all__ = ["ConvBertTokenizer", "encode_words"]


def encode_words(basic: BasicTokenizer, wordpiece: WordpieceTokenizer, text: str, base: int, ids: list,
                 offsets: list | None) -> None:
    """Append the ids (and offsets shifted by `base`) of `text`: basic tokenizer, then WordPiece per word."""
    for word in basic.words(text):
        for piece_id, start, end in wordpiece.tokenize(word.text):
            ids.append(piece_id)
            if offsets is not None:
                # the piece covers normalized characters start..end-1 of the word
                offsets.append((base + word.origin[start], base + word.origin[end - 1] + 1))


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
    unk_token, sep_token, pad_token, cls_token, mask_token : str
        Special tokens; each must be in the vocabulary. They are found whole anywhere in the text.
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
    """

    def _setup(self) -> None:
        self.basic_tokenizer = self._make_basic_tokenizer()
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, self.unk_token_id, self.wordpieces_prefix,
                                                      self.max_input_chars_per_word)

    def _encode_plain(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        encode_words(self.basic_tokenizer, self.wordpiece_tokenizer, text, base, ids, offsets)
