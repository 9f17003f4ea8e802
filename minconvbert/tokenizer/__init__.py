"""WordPiece tokenizers for ConvBERT: a readable one and a fast one, identical to the reference.

    from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
    tok = ConvBertTokenizerFast.from_pretrained("folder/with/vocab.txt")
    batch = tok(["Hello world!", "Hi"], padding=True, return_tensors="np")   # arrays for the model
"""

from minconvbert.tokenizer.encoding import BatchEncoding
from minconvbert.tokenizer.fast import ConvBertTokenizerFast
from minconvbert.tokenizer.slow import ConvBertTokenizer
from minconvbert.tokenizer.vocab import VocabularyWarning

__all__ = ["ConvBertTokenizer", "ConvBertTokenizerFast", "BatchEncoding", "VocabularyWarning"]
