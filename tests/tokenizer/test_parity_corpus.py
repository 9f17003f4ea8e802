"""Token ids and offsets identical to the reference on every line of the corpus.

Both real vocabularies (BERT-uncased, and the defective original ConvBERT file), do_lower_case True
and False, strip_accents None / True / False: 12 configurations, 12,000 lines each, against
transformers' ConvBertTokenizer (from_pretrained on a folder, the way transformers 5 reads vocab.txt).
"""

import warnings

import pytest

from minconvbert.tokenizer import ConvBertTokenizer, ConvBertTokenizerFast
from tests.tokenizer.helpers import reference_tokenizer

CONFIGS = [(lower, strip) for lower in (True, False) for strip in (None, True, False)]


def _ours(cls, folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.from_pretrained(folder, **kwargs)


def _first_mismatch(lines, expected, got, what):
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return f"{what} differ on line {i}: {lines[i]!r}\n  reference {a}\n  ours      {b}"
    return None


@pytest.mark.parametrize("vocab", ["bert", "convbert"])
@pytest.mark.parametrize("do_lower_case,strip_accents", CONFIGS)
def test_corpus_ids_and_offsets_match_reference(vocab_folders, corpus, vocab, do_lower_case, strip_accents):
    assert len(corpus) >= 10000
    folder = vocab_folders[vocab]
    ref = reference_tokenizer(folder, do_lower_case=do_lower_case, strip_accents=strip_accents)
    expected = ref(corpus, return_offsets_mapping=True)
    for cls in (ConvBertTokenizer, ConvBertTokenizerFast):
        ours = _ours(cls, folder, do_lower_case=do_lower_case, strip_accents=strip_accents)
        got = ours(corpus, return_offsets_mapping=True)
        assert _first_mismatch(corpus, expected["input_ids"], got["input_ids"], f"{cls.__name__} ids") is None
        assert _first_mismatch(corpus, expected["offset_mapping"], got["offset_mapping"],
                               f"{cls.__name__} offsets") is None
        if cls is ConvBertTokenizerFast:  # a second pass hits the per-word cache: still the same
            assert ours(corpus, return_offsets_mapping=True) == got
    # the corpus exercises what it claims to: unknown words, multi-piece words, non-ASCII lines
    flat = [i for row in got["input_ids"] for i in row]
    assert ours.unk_token_id in flat and sum(not line.isascii() for line in corpus) > 1500


def test_both_references_agree_and_so_do_we(vocab_folders, corpus):
    """tokenizers' BertWordPieceTokenizer (reading the file itself) gives the same ids as transformers."""
    tokenizers = pytest.importorskip("tokenizers")
    for vocab in ("bert", "convbert"):
        folder = vocab_folders[vocab]
        wordpiece = tokenizers.BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
        expected = [e.ids for e in wordpiece.encode_batch(corpus[::4])]
        for cls in (ConvBertTokenizer, ConvBertTokenizerFast):
            assert _ours(cls, folder)(corpus[::4])["input_ids"] == expected


def test_defective_vocab_loads_as_reference(vocab_folders, convbert_vocab_file):
    from minconvbert.tokenizer import VocabularyWarning

    with pytest.warns(VocabularyWarning, match="188 tokens appear on more than one line") as record:
        ours = ConvBertTokenizer(convbert_vocab_file)
    assert len([w for w in record if issubclass(w.category, VocabularyWarning)]) == 1  # once, naming the count
    ref = reference_tokenizer(vocab_folders["convbert"])
    assert ours.vocab_size == ref.vocab_size == len(ours) == len(ref) == 29514
    assert ours.get_vocab() == ref.get_vocab()
    ids = list(range(30522))
    assert ours.convert_ids_to_tokens(ids) == ref.convert_ids_to_tokens(ids)  # None for shadowed lines
    assert ours("Hello world")["input_ids"] == ref("Hello world")["input_ids"]
