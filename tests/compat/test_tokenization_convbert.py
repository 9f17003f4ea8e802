"""transformers' tests/models/convbert/test_tokenization_convbert.py (transformers 5), ported: the integration
values of YituTech/conv-bert-base, whose vocabulary is the original ConvBERT file shipped with the package.

Not ported, and why:
- test_tokenizer_is_bert_subclass: checks transformers' class hierarchy (ConvBertTokenizer subclassing
  BertTokenizer), an internal of transformers.
The common tests run on the BERT vocabulary in test_tokenization_common.py.
"""

import shutil
import warnings

import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
from tests.compat.test_tokenization_bert import INTEGRATION_TEXT

TOKENS = ['this', 'is', 'a', 'test', '[UNK]', 'i', 'was', 'born', 'in', '92', '##00', '##0', ',', 'and', 'this', 'is', 'false', '.', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', 'hi', 'hello', 'hi', 'hello', 'hello', '<', 's', '>', 'hi', '<', 's', '>', 'there', 'the', 'following', 'string', 'should', 'be', 'properly', 'encoded', ':', 'hello', '.', 'but', 'ir', '##d', 'and', '[UNK]', 'ir', '##d', '[UNK]', 'hey', 'how', 'are', 'you', 'doing']  # noqa: E501
IDS = [2023, 2003, 1037, 3231, 100, 1045, 2001, 2141, 1999, 6227, 8889, 2692, 1010, 1998, 2023, 2003, 6270, 1012, 100, 100, 100, 100, 100, 100, 7632, 7592, 7632, 7592, 7592, 1026, 1055, 1028, 7632, 1026, 1055, 1028, 2045, 1996, 2206, 5164, 2323, 2022, 7919, 12359, 1024, 7592, 1012, 2021, 20868, 2094, 1998, 100, 20868, 2094, 100, 4931, 2129, 2024, 2017, 2725]  # noqa: E501
DECODED = "this is a test [UNK] i was born in 92000, and this is false. [UNK] [UNK] [UNK] [UNK] [UNK] [UNK] hi hello hi hello hello < s > hi < s > there the following string should be properly encoded : hello. but ird and [UNK] ird [UNK] hey how are you doing"  # noqa: E501


@pytest.mark.parametrize("cls", [ConvBertTokenizer, ConvBertTokenizerFast])
def test_integration(cls, tmp_path):
    shutil.copyfile(vocab_file("convbert-original"), tmp_path / "vocab.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the file's 188 repeated tokens (VocabularyWarning)
        tokenizer = cls.from_pretrained(tmp_path)
    assert tokenizer.tokenize(INTEGRATION_TEXT) == TOKENS
    assert tokenizer.encode(INTEGRATION_TEXT, add_special_tokens=False) == IDS
    assert tokenizer.decode(IDS, clean_up_tokenization_spaces=False) == DECODED
