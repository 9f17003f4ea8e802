"""WordPiece tokenizers for ConvBERT: a readable one and a fast one, identical to the reference.

    from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
    tok = ConvBertTokenizerFast.from_pretrained("folder/with/vocab.txt")
    batch = tok(["Hello world!", "Hi"], padding=True, return_tensors="np")   # arrays for the model

Errors a file reader raises: VocabFileError (vocab.txt), TokenizerConfigError (tokenizer_config.json,
special_tokens_map.json); both are ValueErrors.
"""

from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.tokenizer.batch_encoding import BatchEncoding, CharSpan, TokenSpan
from minconvbert.tokenizer.fast import ConvBertTokenizerFast
from minconvbert.tokenizer.files import TokenizerConfigError
from minconvbert.tokenizer.pipeline import SequenceLengthWarning
from minconvbert.tokenizer.slow import ConvBertTokenizer
from minconvbert.tokenizer.special_tokens import AddedToken
from minconvbert.tokenizer.vocab import VocabFileError, VocabularyWarning
from minconvbert.tokenizer.wordpiece import WordpieceTokenizer

__all__ = ["ConvBertTokenizer", "ConvBertTokenizerFast", "BatchEncoding", "CharSpan", "TokenSpan", "AddedToken",
           "BasicTokenizer", "WordpieceTokenizer", "VocabularyWarning", "VocabFileError", "TokenizerConfigError",
           "SequenceLengthWarning"]
