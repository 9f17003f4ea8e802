"""The transformers API around the tokenizers (issue 14 items 2 and 7): tensors, special-token setters,
init_kwargs, the model_max_length warning, a vocabulary without [PAD]/[MASK], the byte-bounded word
cache (issue 16), and BasicTokenizer / WordpieceTokenizer with transformers' signatures."""

import inspect
import pickle
import sys
import warnings

import numpy as np
import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import (
    BasicTokenizer, ConvBertTokenizer, ConvBertTokenizerFast, SequenceLengthWarning, WordpieceTokenizer,
)

CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]
BERT = vocab_file("bert-base-uncased")


@pytest.mark.parametrize("cls", CLASSES)
def test_return_tensors_pt_gives_torch_tensors(cls):
    torch = pytest.importorskip("torch")
    tok = cls(BERT)
    batch = tok(["Hello world!", "Hi"], padding=True, return_tensors="pt", return_offsets_mapping=True)
    assert isinstance(batch["input_ids"], torch.Tensor) and batch["input_ids"].dtype == torch.int64
    assert batch["input_ids"].tolist() == tok(["Hello world!", "Hi"], padding=True)["input_ids"]
    assert batch["offset_mapping"].shape == (2, 5, 2)
    assert batch.to("cpu") is batch and batch.input_ids.device.type == "cpu"
    single = tok("Hello", return_tensors="pt")
    assert single["input_ids"].shape == (1, 3)
    assert isinstance(tok.pad([{"input_ids": [1, 2]}, {"input_ids": [3]}], return_tensors="pt")["input_ids"],
                      torch.Tensor)
    assert tok.decode(single["input_ids"][0]) == "[CLS] hello [SEP]"  # tensors decode as lists do


@pytest.mark.parametrize("cls", CLASSES)
def test_without_torch_pt_says_to_use_np(cls, monkeypatch):
    tok = cls(BERT)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(ImportError, match="return_tensors='pt' needs PyTorch, which is not installed; use "
                                          "return_tensors='np'"):
        tok("Hello", return_tensors="pt")
    batch = tok(["Hello", "a b"], padding=True, return_tensors="np")
    assert isinstance(batch["input_ids"], np.ndarray) and batch["input_ids"].dtype == np.int64


def test_torch_is_imported_only_for_pt():
    import subprocess

    code = ("import sys; from minconvbert.tokenizer import ConvBertTokenizerFast as T; from minconvbert.data import "
            "vocab_file; t = T(vocab_file('bert-base-uncased')); t(['a b', 'c'], padding=True, return_tensors='np'); "
            "print(sys.modules.get('torch') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("cls", CLASSES)
def test_special_tokens_and_their_ids_can_be_set(cls):
    tok = cls(BERT)
    assert tok.bos_token is None and tok.eos_token is None and tok.bos_token_id is None
    tok.eos_token_id = 102
    assert tok.eos_token == "[SEP]" and tok.eos_token_id == 102
    tok.pad_token = None
    assert tok.pad_token_id is None
    with pytest.raises(ValueError, match="padding: this tokenizer has no pad_token"):
        tok(["a", "b c"], padding=True)
    tok.pad_token_id = 0
    assert tok(["a", "b c"], padding=True)["input_ids"][0][-1] == 0
    with pytest.raises(ValueError, match=r"mask_token: '<m>' is not in the vocabulary; add it with"):
        tok.mask_token = "<m>"
    with pytest.raises(ValueError, match="mask_token_id: token id 99999 is outside the vocabulary"):
        tok.mask_token_id = 99999
    tok.extra_special_tokens_ids = [1]
    assert tok.extra_special_tokens == ["[unused0]"] and "[unused0]" in tok.all_special_tokens
    assert tok.tokenize("x[unused0]y") == ["x", "[unused0]", "y"]  # special tokens are found whole


@pytest.mark.parametrize("cls", CLASSES)
def test_init_kwargs_hold_every_argument(cls, tmp_path):
    tok = cls(BERT, do_lower_case=False, model_max_length=64)
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if parameter.default is not inspect.Parameter.empty and name not in ("vocab", "additional_special_tokens"):
            assert name in tok.init_kwargs, name
    assert tok.init_kwargs["do_lower_case"] is False and tok.init_kwargs["model_max_length"] == 64
    tok.save_pretrained(tmp_path)
    assert cls.from_pretrained(tmp_path).init_kwargs["do_lower_case"] is False


@pytest.mark.parametrize("cls", CLASSES)
def test_the_length_warning_is_given_once(cls):
    tok = cls(BERT, model_max_length=8)
    long_text = "one two three four five six seven eight nine"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tok(long_text)
        tok([long_text, "a"])
        tok(long_text, truncation=True)
    messages = [str(w.message) for w in caught if w.category is SequenceLengthWarning]
    assert len(messages) == 1 and messages[0].startswith(
        "Token indices sequence length is longer than the specified maximum sequence length for this model (11 > 8)")
    tok.deprecation_warnings = {}
    with pytest.warns(SequenceLengthWarning):
        tok(long_text)


@pytest.mark.parametrize("cls", CLASSES)
def test_a_vocabulary_without_pad_and_mask_works_until_they_are_needed(cls, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[UNK]\n[CLS]\n[SEP]\nwant\n##ed\nun\n", encoding="utf-8")
    tok = cls(path)
    assert tok.pad_token is None and tok.mask_token is None and tok.all_special_tokens == ["[UNK]", "[SEP]", "[CLS]"]
    assert tok("unwanted")["input_ids"] == [1, 0, 2]  # no "##want" piece: the whole word is [UNK]
    assert tok(["un", "want ed"])["input_ids"] == [[1, 5, 2], [1, 3, 0, 2]]
    with pytest.raises(ValueError, match=r"padding: this tokenizer has no pad_token \(its vocabulary has no"):
        tok(["un", "want ed"], padding=True)
    assert tok.add_special_tokens({"pad_token": "[PAD]"}) == 1 and tok.pad_token_id == 6
    assert tok(["un", "want ed"], padding=True)["input_ids"] == [[1, 5, 2, 6], [1, 3, 0, 2]]


@pytest.mark.parametrize("cls", CLASSES)
def test_without_unk_an_unknown_word_raises_clearly(cls, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    tok = cls(path)
    assert tok("hello")["input_ids"] == [0, 2, 1]
    with pytest.raises(ValueError, match="unk_token: the word 'xyz' cannot be split into vocabulary pieces"):
        tok("hello xyz")


def test_the_word_cache_is_bounded_in_bytes(monkeypatch):
    slow, fast = ConvBertTokenizer(BERT), ConvBertTokenizerFast(BERT)
    monkeypatch.setattr(fast, "word_cache_bytes", 200_000)
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    texts = [" ".join("".join(rng.choice(letters, 8)) for _ in range(50)) for _ in range(400)]  # 20k new words
    peak = 0
    for start in range(0, len(texts), 20):
        chunk = texts[start:start + 20]
        assert fast(chunk, return_offsets_mapping=True) == slow(chunk, return_offsets_mapping=True)
        peak = max(peak, fast._ids_cache.nbytes)
    one_call = 20 * 50 * 1500  # what one call of 1,000 new words can add (an upper bound per word)
    assert peak <= 200_000 + one_call
    assert len(fast._ids_cache) < 20_000  # it was emptied on the way


@pytest.mark.parametrize("cls", CLASSES)
def test_encodings_pickle_with_their_alignment(cls):
    enc = cls(BERT)(["Hello world", "Hi"], padding=True)
    again = pickle.loads(pickle.dumps(enc))
    assert dict(again) == dict(enc) and again.word_ids(0) == enc.word_ids(0) == [None, 0, 1, None]


def test_basic_and_wordpiece_tokenizers_take_transformers_arguments():
    assert list(inspect.signature(BasicTokenizer).parameters)[:5] == [
        "do_lower_case", "never_split", "tokenize_chinese_chars", "strip_accents", "do_split_on_punc"]
    assert list(inspect.signature(WordpieceTokenizer).parameters)[:3] == [
        "vocab", "unk_token", "max_input_chars_per_word"]
    basic = BasicTokenizer(True, ["[KEEP]"], True, False, True)
    assert basic.tokenize("Héllo [KEEP] can't") == ["héllo", "[KEEP]", "can", "'", "t"]
    assert basic.tokenize("a [X] b", never_split=["[X]"]) == ["a", "[X]", "b"]
    assert BasicTokenizer(do_split_on_punc=False).tokenize("can't stop!") == ["can't", "stop!"]
    wordpiece = WordpieceTokenizer({"[UNK]": 0, "un": 1, "##want": 2, "##ed": 3}, "[UNK]", 8)
    assert wordpiece.tokenize("unwanted unwantedx") == ["un", "##want", "##ed", "[UNK]"]  # 9 characters: too long
    assert wordpiece.tokenize("unwan") == ["[UNK]"]  # "##wan" is missing
    assert wordpiece.pieces("unwanted") == [(1, 0, 2), (2, 2, 6), (3, 6, 8)]
