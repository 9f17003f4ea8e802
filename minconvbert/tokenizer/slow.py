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

    def __init__(self, vocab_file=None, do_lower_case: bool = True, do_basic_tokenize: bool = True,
                 never_split=None, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                 mask_token="[MASK]", tokenize_chinese_chars: bool = True, strip_accents: bool | None = None,
                 clean_up_tokenization_spaces: bool = False, model_max_length: int | None = None,
                 padding_side: str = "right", truncation_side: str = "right", clean_text: bool = True,
                 wordpieces_prefix: str = "##", max_input_chars_per_word: int = 100, vocab=None):
        super().__init__(vocab_file, do_lower_case, do_basic_tokenize, never_split, unk_token, sep_token,
                         pad_token, cls_token, mask_token, tokenize_chinese_chars, strip_accents,
                         clean_up_tokenization_spaces, model_max_length, padding_side, truncation_side,
                         clean_text, wordpieces_prefix, max_input_chars_per_word, vocab)
        if do_basic_tokenize:
            self.basic_tokenizer = BasicTokenizer(do_lower_case, strip_accents, tokenize_chinese_chars, clean_text)
        else:  # white space alone separates words; nothing is normalized
            self.basic_tokenizer = BasicTokenizer(False, False, False, False, split_on_punctuation=False)
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, self.unk_token_id, wordpieces_prefix,
                                                      max_input_chars_per_word)

    def _encode_plain(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        for word in self.basic_tokenizer.words(text):
            for piece_id, start, end in self.wordpiece_tokenizer.tokenize(word.text):
                ids.append(piece_id)
                if offsets is not None:
                    # the piece covers normalized characters start..end-1 of the word
                    offsets.append((base + word.origin[start], base + word.origin[end - 1] + 1))
