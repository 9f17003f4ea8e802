"""transformers' TokenizerTesterMixin (tests/test_tokenization_common.py, transformers 5.24), ported to both
minconvbert tokenizers (the alignment and offsets tests of its TokenizersBackendTesterMixin are in
test_tokenization_backend.py).

Upstream's assertions and expected values, on the tokenizer those mixins test BERT with: the
google-bert/bert-base-uncased folder (here the shipped vocabulary). Written as pytest functions over
both classes; `logging` warnings became Python warnings (SequenceLengthWarning).

Not ported, and why:
- test_integration_from_extractor: rebuilds the tokenizer from tokenizer.json with transformers'
  TokenizersExtractor (an internal of the `tokenizers` backend; minconvbert reads vocab.txt).
- test_chat_template* (10), test_jinja_*, test_continue_final_message* (4): chat templates belong
  to chat models' tokenizers; no BERT or ConvBERT checkpoint has one and minconvbert has none.
- test_prepare_seq2seq_batch: text_target / max_target_length label encoding for encoder-decoder
  models; ConvBERT is encoder-only.
- test_local_files_only (both mixins), test_decode_encode_roundtrip, test_additional_roundtrip_cases:
  download other models from the hub.
- test_training_new_tokenizer*, test_rust_tokenizer_add_prefix_space, test_add_bos_token_without_bos_token:
  train_new_from_iterator, add_prefix_space (byte-level BPE) and add_bos_token are features of the
  `tokenizers` backend and of decoder models; minconvbert trains WordPiece with train_wordpiece.
Changed: test_added_tokens_serialization reads `eos_token` where upstream reads the private
`_special_tokens_map`; test_bos_token_with_add_bos_token_* take upstream's "not supported" branch
(add_bos_token is refused with a TypeError), asserted instead of skipped.
"""

import inspect
import shutil
import tempfile

import numpy as np
import pytest

from minconvbert.data import vocab_file
from minconvbert.tokenizer import AddedToken, ConvBertTokenizer, ConvBertTokenizerFast, SequenceLengthWarning

CLASSES = [ConvBertTokenizer, ConvBertTokenizerFast]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """The folder upstream's setUpClass saves google-bert/bert-base-uncased into."""
    folder = tmp_path_factory.mktemp("bert-base-uncased")
    shutil.copyfile(vocab_file("bert-base-uncased"), folder / "vocab.txt")
    return folder


@pytest.fixture(params=CLASSES, ids=lambda c: c.__name__)
def get_tokenizer(request, pretrained):
    return lambda name=None, **kwargs: request.param.from_pretrained(name or pretrained, **kwargs)


def get_clean_sequence(tokenizer, with_prefix_space=False, max_length=20, min_length=5):
    """Upstream's helper: a text made of vocabulary words that encode to themselves."""
    import re

    toks = [(i, tokenizer.decode([i], clean_up_tokenization_spaces=False)) for i in set(tokenizer.get_vocab().values())]
    toks = [t for t in toks if re.match(r"^[ a-zA-Z]+$", t[1])]
    toks = [t for t in toks if [t[0]] == tokenizer.encode(t[1], add_special_tokens=False)]
    if max_length is not None and len(toks) > max_length:
        toks = toks[:max_length]
    if min_length is not None and 0 < len(toks) < min_length:
        while len(toks) < min_length:
            toks = toks + toks
    ids = [t[0] for t in toks]
    text = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
    if " " not in text and len(ids) > 1:
        text = (tokenizer.decode([ids[0]], clean_up_tokenization_spaces=False) + " "
                + tokenizer.decode(ids[1:], clean_up_tokenization_spaces=False))
    if with_prefix_space:
        text = " " + text
    return text, tokenizer.encode(text, add_special_tokens=False)


def as_rows(batch):
    return [{key: batch[key][i] for key in batch} for i in range(len(batch["input_ids"]))]


def check_no_pad_token_padding(tokenizer, sequences):
    if tokenizer.pad_token_id is None:
        with pytest.raises(ValueError):
            tokenizer(sequences, padding="longest" if isinstance(sequences, list) else True)
        tokenizer.add_special_tokens({"pad_token": "<PAD>"})


def test_tokenize_special_tokens(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=True)
    tokenizer.add_tokens(["[SPECIAL_TOKEN_1]"], special_tokens=True)
    tokenizer.add_special_tokens({"extra_special_tokens": ["[SPECIAL_TOKEN_2]"]}, replace_extra_special_tokens=False)
    token_1, token_2 = tokenizer.tokenize("[SPECIAL_TOKEN_1]"), tokenizer.tokenize("[SPECIAL_TOKEN_2]")
    assert len(token_1) == 1 and len(token_2) == 1
    assert token_1[0] == "[SPECIAL_TOKEN_1]"
    assert token_2[0] == "[SPECIAL_TOKEN_2]"  # upstream comments this one out ("failing for almost all")


def test_model_input_names_signature(get_tokenizer):
    assert get_tokenizer().model_input_names[0] in ["input_ids", "input_values"]


def test_tokenizer_store_full_signature(get_tokenizer):
    tokenizer = get_tokenizer()
    for name, parameter in inspect.signature(type(tokenizer).__init__).parameters.items():
        if parameter.default != inspect.Parameter.empty and name not in [
                "vocab_file", "merges_file", "tokenizer_file", "vocab", "merges", "legacy",
                "_spm_precompiled_charsmap", "additional_special_tokens"]:
            assert name in tokenizer.init_kwargs


def test_tokenizers_common_properties(get_tokenizer):
    tokenizer = get_tokenizer()
    for attr in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]:
        assert hasattr(tokenizer, attr) and hasattr(tokenizer, attr + "_id")
    assert hasattr(tokenizer, "extra_special_tokens") and hasattr(tokenizer, "extra_special_tokens_ids")
    for attr in ["model_max_length", "init_inputs", "init_kwargs", "added_tokens_encoder", "added_tokens_decoder"]:
        assert hasattr(tokenizer, attr)


def test_tokenizers_common_ids_setters(get_tokenizer):
    tokenizer = get_tokenizer()
    token_id = next(iter(tokenizer.get_vocab().values()))
    token = tokenizer.convert_ids_to_tokens(token_id, skip_special_tokens=False)
    for attr in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]:
        setattr(tokenizer, attr + "_id", None)
        assert getattr(tokenizer, attr) is None and getattr(tokenizer, attr + "_id") is None
        setattr(tokenizer, attr + "_id", token_id)
        assert getattr(tokenizer, attr) == token and getattr(tokenizer, attr + "_id") == token_id
    tokenizer.extra_special_tokens_ids = []
    assert tokenizer.extra_special_tokens == [] and tokenizer.extra_special_tokens_ids == []
    tokenizer.extra_special_tokens_ids = [token_id]
    assert tokenizer.extra_special_tokens == [token] and tokenizer.extra_special_tokens_ids == [token_id]


def test_save_and_load_tokenizer(get_tokenizer):
    assert get_tokenizer().model_max_length != 42
    sample_text = " He is very happy, UNwant\u00e9d,running"
    tokenizer = get_tokenizer()
    with tempfile.TemporaryDirectory() as folder:
        before_tokens, before_vocab = tokenizer.encode(sample_text, add_special_tokens=False), tokenizer.get_vocab()
        tokenizer.save_pretrained(folder)
        after = type(tokenizer).from_pretrained(folder)
        assert after.encode(sample_text, add_special_tokens=False) == before_tokens
        assert after.get_vocab() == before_vocab
    for _ in range(2):  # upstream repeats it for "the non-legacy saving format"
        tokenizer = get_tokenizer(model_max_length=42)
        with tempfile.TemporaryDirectory() as folder:
            tokenizer.add_tokens(["bim", "bambam"])
            extra = tokenizer.extra_special_tokens
            extra.append("new_extra_special_token")
            tokenizer.add_special_tokens({"extra_special_tokens": extra}, replace_extra_special_tokens=False)
            before_tokens, before_vocab = tokenizer.encode(sample_text, add_special_tokens=False), tokenizer.get_vocab()
            tokenizer.save_pretrained(folder)
            after = type(tokenizer).from_pretrained(folder)
            assert after.encode(sample_text, add_special_tokens=False) == before_tokens
            assert after.get_vocab() == before_vocab
            assert "bim" in after.get_vocab() and "bambam" in after.get_vocab()
            assert "new_extra_special_token" in after.extra_special_tokens
            assert after.model_max_length == 42
            assert type(tokenizer).from_pretrained(folder, model_max_length=43).model_max_length == 43


def test_internal_consistency(get_tokenizer):
    tokenizer = get_tokenizer()
    input_text, output_text = "UNwant\u00e9d,running", "unwanted, running"  # BertTokenizationTest's texts
    tokens = tokenizer.tokenize(input_text)
    ids = tokenizer.convert_tokens_to_ids(tokens)
    assert ids == tokenizer.encode(input_text, add_special_tokens=False)
    assert len(tokenizer.convert_ids_to_tokens(ids)) != 0
    text = tokenizer.decode(ids)
    assert isinstance(text, str) and text == output_text


def test_mask_output_token_type_ids_and_sequence_ids(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    information = tokenizer("Test this method.", "With these inputs.", add_special_tokens=True,
                            return_token_type_ids=True)
    assert len(information["input_ids"]) == len(information["token_type_ids"])
    assert 0 in get_tokenizer()("Test this method.", return_token_type_ids=True)["token_type_ids"]
    tokenizer = get_tokenizer()
    assert 0 in tokenizer("Test this method.").sequence_ids()
    output = tokenizer("Test this method.", "With these inputs.")
    assert 0 in output.sequence_ids() and 1 in output.sequence_ids()
    assert tokenizer.num_special_tokens_to_add(pair=True) and None in output.sequence_ids()


def test_number_of_added_tokens(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    sequences = tokenizer.encode("Test this method.", "With these inputs.", add_special_tokens=False)
    attached = tokenizer.encode("Test this method.", "With these inputs.", add_special_tokens=True)
    assert len(attached) != 2
    assert tokenizer.num_special_tokens_to_add(pair=True) == len(attached) - len(sequences)


def test_maximum_encoding_length_single_input(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False, model_max_length=100)
    seq_0, _ = get_clean_sequence(tokenizer, max_length=20)
    sequence = tokenizer.encode(seq_0, add_special_tokens=False)
    total_length = len(sequence)
    assert total_length > 4
    assert tokenizer.model_max_length == 100
    seq_1 = seq_0 * 100
    assert len(tokenizer(seq_1, add_special_tokens=False)["input_ids"]) > 100
    for padding in [False, True, "longest"]:
        for truncation in [True, "longest_first", "only_first"]:
            assert len(tokenizer(seq_1, padding=padding, truncation=truncation)["input_ids"]) == 100
            assert len(tokenizer([seq_1], padding=padding, truncation=truncation)["input_ids"][0]) == 100
        for text in (seq_1, [seq_1]):
            tokenizer.deprecation_warnings = {}
            with pytest.warns(SequenceLengthWarning) as caught:
                output = tokenizer(text, padding=padding, truncation=False)
            ids = output["input_ids"] if isinstance(text, str) else output["input_ids"][0]
            assert len(ids) != 100
            assert len(caught) == 1 and str(caught[0].message).startswith(
                "Token indices sequence length is longer than the specified maximum sequence length for this model")
    information = tokenizer(seq_0, max_length=total_length - 2, add_special_tokens=False, stride=2,
                            truncation="longest_first", return_overflowing_tokens=True)
    truncated = information["input_ids"][0]  # upstream's TokenizersBackend branch
    assert len(truncated) == total_length - 2 and truncated == sequence[:-2]


def test_maximum_encoding_length_pair_input(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False, model_max_length=100)
    stride = 2
    seq_0, ids = get_clean_sequence(tokenizer, max_length=20)
    if len(ids) <= 2 + stride:
        seq_0 = (seq_0 + " ") * (2 + stride)
    seq0_tokens = tokenizer.encode(seq_0, add_special_tokens=False)
    assert len(seq0_tokens) > 2 + stride
    seq_1 = "This is another sentence to be encoded."
    seq1_tokens = tokenizer.encode(seq_1, add_special_tokens=False)
    if abs(len(seq0_tokens) - len(seq1_tokens)) <= 2:
        seq_1 = tokenizer.decode(seq1_tokens + seq1_tokens, clean_up_tokenization_spaces=False)
    seq1_tokens = tokenizer.encode(seq_1, add_special_tokens=False)
    assert len(seq1_tokens) > 2 + stride
    sequence = tokenizer.encode(seq_0, seq_1, add_special_tokens=False)
    seq_2 = seq_0 * 100
    assert len(tokenizer(seq_1, add_special_tokens=False)["input_ids"]) < 90
    assert len(tokenizer(seq_2, seq_1, add_special_tokens=False)["input_ids"]) > 100
    for padding in [False, True, "longest"]:
        for truncation in [True, "longest_first", "only_first"]:
            assert len(tokenizer(seq_2, seq_1, padding=padding, truncation=truncation)["input_ids"]) == 100
            assert len(tokenizer([seq_2], [seq_1], padding=padding, truncation=truncation)["input_ids"][0]) == 100
        assert len(tokenizer(seq_1, seq_2, padding=padding, truncation="only_second")["input_ids"]) == 100
        assert len(tokenizer([seq_1], [seq_2], padding=padding, truncation="only_second")["input_ids"][0]) == 100
        for single in (True, False):
            tokenizer.deprecation_warnings = {}
            with pytest.warns(SequenceLengthWarning) as caught:
                output = tokenizer(seq_1, seq_2, padding=padding, truncation=False) if single else \
                    tokenizer([seq_1], [seq_2], padding=padding, truncation=False)
            assert len(output["input_ids"] if single else output["input_ids"][0]) != 100
            assert len(caught) == 1
    first, second = tokenizer.encode(seq_0, add_special_tokens=False), tokenizer.encode(seq_1, add_special_tokens=False)
    truncated_first, truncated_second = first[:-2] + second, first + second[:-2]
    truncated_longest = truncated_first if len(seq0_tokens) > len(seq1_tokens) else truncated_second
    common = dict(max_length=len(sequence) - 2, add_special_tokens=False, stride=stride,
                  return_overflowing_tokens=True)
    for truncation in ("longest_first", True):
        truncated = tokenizer(seq_0, seq_1, truncation=truncation, **common)["input_ids"][0]
        assert len(truncated) == len(sequence) - 2 and truncated == truncated_longest
    information = tokenizer(seq_0, seq_1, truncation="only_first", **common)
    assert len(information["input_ids"]) == 2
    assert information["input_ids"][0] == truncated_first and len(information["input_ids"][0]) == len(sequence) - 2
    assert information["input_ids"][1] == first[-(2 + stride):] + second
    assert len(information["input_ids"][1]) == 2 + stride + len(seq1_tokens)
    information = tokenizer(seq_0, seq_1, truncation="only_second", **common)
    assert len(information["input_ids"]) == 2
    assert information["input_ids"][0] == truncated_second and len(information["input_ids"][0]) == len(sequence) - 2
    assert information["input_ids"][1] == first + second[-(2 + stride):]
    assert len(information["input_ids"][1]) == 2 + stride + len(seq0_tokens)


def test_special_tokens_mask(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    encoded = tokenizer.encode("Encode this.", add_special_tokens=False)
    output = tokenizer("Encode this.", add_special_tokens=True, return_special_tokens_mask=True)
    mask = output["special_tokens_mask"]
    assert len(mask) == len(output["input_ids"])
    assert [x for x, m in zip(output["input_ids"], mask) if not m] == encoded
    encoded = encoded + tokenizer.encode("This one too please.", add_special_tokens=False)
    output = tokenizer("Encode this.", "This one too please.", add_special_tokens=True,
                       return_special_tokens_mask=True)
    mask = output["special_tokens_mask"]
    assert len(mask) == len(output["input_ids"])
    assert [x for x, m in zip(output["input_ids"], mask) if not m] == encoded


@pytest.mark.parametrize("side", ["padding_side", "truncation_side"])
def test_sides_in_kwargs(get_tokenizer, side):
    assert getattr(get_tokenizer(**{side: "left"}), side) == "left"
    assert getattr(get_tokenizer(**{side: "right"}), side) == "right"
    with pytest.raises(ValueError):
        get_tokenizer(**{side: "unauthorized"})


def test_encode_basic_padding(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    check_no_pad_token_padding(tokenizer, "Sequence")
    pad = tokenizer.pad_token_id
    for side in ("right", "left"):
        tokenizer.padding_side = side
        encoded = tokenizer.encode("Sequence")
        padded = tokenizer.encode("Sequence", max_length=len(encoded) + 10, padding="max_length")
        assert len(padded) == len(encoded) + 10
        assert padded == (encoded + [pad] * 10 if side == "right" else [pad] * 10 + encoded)


def test_right_and_left_truncation(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    sequence = "This is a test sequence"
    tokenizer.truncation_side = "right"
    encoded = tokenizer.encode(sequence, add_special_tokens=False)
    n = len(encoded)
    truncated = tokenizer.encode(sequence, max_length=n - 3, truncation=True, add_special_tokens=False)
    assert n == len(truncated) + 3 and truncated == encoded[:-3]
    tokenizer.truncation_side = "left"
    truncated = tokenizer.encode(sequence, max_length=n - 3, truncation=True, add_special_tokens=False)
    assert n == len(truncated) + 3 and truncated == encoded[3:]
    for side, kwargs in (("right", {"truncation": True}), ("left", {"truncation": "longest_first"}), ("right", {}),
                         ("left", {"truncation": False})):
        tokenizer.truncation_side = side
        assert tokenizer.encode(sequence, add_special_tokens=False, **kwargs) == encoded


def test_padding_to_multiple_of(get_tokenizer):
    tokenizer = get_tokenizer()
    assert tokenizer.pad_token is not None
    for output in (tokenizer("", padding=True, pad_to_multiple_of=8),
                   tokenizer("This is a sample input", padding=True, pad_to_multiple_of=8),
                   tokenizer("This", padding=True, truncation=True, pad_to_multiple_of=8)):
        assert all(len(value) % 8 == 0 for value in output.values())
    assert all(len(value) % 8 != 0 for value in tokenizer("This", pad_to_multiple_of=8).values())
    with pytest.raises(ValueError):
        tokenizer("This", padding=True, truncation=True, max_length=12, pad_to_multiple_of=8)


def test_padding_with_attention_mask(get_tokenizer):
    tokenizer = get_tokenizer()
    assert tokenizer.pad_token is not None and "attention_mask" in tokenizer.model_input_names
    features = [{"input_ids": [1, 2, 3, 4, 5, 6], "attention_mask": [1, 1, 1, 1, 1, 0]},
                {"input_ids": [1, 2, 3], "attention_mask": [1, 1, 0]}]
    padded = tokenizer.pad(features)
    expected = [[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0]] if tokenizer.padding_side == "right" else \
        [[1, 1, 1, 1, 1, 0], [0, 0, 0, 1, 1, 0]]
    assert padded["attention_mask"] == expected


@pytest.mark.parametrize("use_padding_as_call_kwarg", [True, False])
def test_encode_plus_with_padding(get_tokenizer, use_padding_as_call_kwarg):
    tokenizer = get_tokenizer(do_lower_case=False)
    sequence = "Sequence"
    check_no_pad_token_padding(tokenizer, sequence)
    pad, pad_type = tokenizer.pad_token_id, tokenizer.pad_token_type_id
    encoded = tokenizer(sequence, return_special_tokens_mask=True)
    ids, mask, n = encoded["input_ids"], encoded["special_tokens_mask"], len(encoded["input_ids"])
    for padding in (True, False):
        same = tokenizer(sequence, padding=padding, return_special_tokens_mask=True)
        assert len(same["input_ids"]) == n and same["input_ids"] == ids and same["special_tokens_mask"] == mask
    padded = {}
    for side in ("right", "left"):
        kwargs = {"max_length": n + 10, "padding": "max_length", "return_special_tokens_mask": True}
        if use_padding_as_call_kwarg:
            kwargs["padding_side"] = side
        else:
            tokenizer.padding_side = side
        padded[side] = tokenizer(sequence, **kwargs)
        assert len(padded[side]["input_ids"]) == n + 10
    assert padded["right"]["input_ids"] == ids + [pad] * 10
    assert padded["right"]["special_tokens_mask"] == mask + [1] * 10
    assert padded["left"]["input_ids"] == [pad] * 10 + ids
    assert padded["left"]["special_tokens_mask"] == [1] * 10 + mask
    types, attention = encoded["token_type_ids"], encoded["attention_mask"]
    assert padded["right"]["token_type_ids"] == types + [pad_type] * 10
    assert padded["left"]["token_type_ids"] == [pad_type] * 10 + types
    assert padded["right"]["attention_mask"] == attention + [0] * 10
    assert padded["left"]["attention_mask"] == [0] * 10 + attention


def test_get_vocab(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    vocab = tokenizer.get_vocab()
    assert isinstance(vocab, dict) and len(tokenizer) >= len(vocab)
    assert len([tokenizer.convert_ids_to_tokens(i) for i in range(len(tokenizer))]) == len(tokenizer)
    tokenizer.add_tokens(["asdfasdfasdfasdf"])
    assert len([tokenizer.convert_ids_to_tokens(i) for i in range(len(tokenizer))]) == len(tokenizer)


def test_conversion_reversible(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    for word, index in tokenizer.get_vocab().items():
        if word != tokenizer.unk_token:
            assert tokenizer.convert_tokens_to_ids(word) == index
            assert tokenizer.convert_ids_to_tokens(index) == word


SEQUENCES = ["Testing batch encode plus", "Testing batch encode plus with different sequence lengths",
             "Testing batch encode plus with different sequence lengths correctly pads"]


def test_call(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    assert tokenizer(SEQUENCES[0]) == tokenizer(SEQUENCES[0])
    assert tokenizer(SEQUENCES[0], SEQUENCES[1]) == tokenizer(SEQUENCES[0], SEQUENCES[1])
    assert tokenizer(SEQUENCES) == tokenizer(SEQUENCES)
    assert tokenizer(list(zip(SEQUENCES, SEQUENCES))) == tokenizer(SEQUENCES, SEQUENCES)


def test_batch_encode_plus_batch_sequence_length(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    singles = [tokenizer(s) for s in SEQUENCES]
    assert singles == as_rows(tokenizer(SEQUENCES, padding=False))
    longest = len(max((s["input_ids"] for s in singles), key=len))
    check_no_pad_token_padding(tokenizer, SEQUENCES)
    assert [tokenizer(s, max_length=longest, padding="max_length") for s in SEQUENCES] == \
        as_rows(tokenizer(SEQUENCES, padding=True))
    for padding in (True, False):
        one = tokenizer(SEQUENCES, padding=padding)
        two = tokenizer(SEQUENCES, max_length=longest + 10, padding="longest" if padding else False)
        assert all(one[key] == two[key] for key in one)


@pytest.mark.parametrize("side", ["right", "left"])
def test_batch_encode_plus_padding(get_tokenizer, side):
    tokenizer = get_tokenizer(do_lower_case=False)
    tokenizer.padding_side = side
    check_no_pad_token_padding(tokenizer, SEQUENCES)
    assert [tokenizer(s, max_length=100, padding="max_length") for s in SEQUENCES] == \
        as_rows(tokenizer(SEQUENCES, max_length=100, padding="max_length"))


def test_pretokenized_inputs(get_tokenizer):
    tokenizer = get_tokenizer(do_lower_case=False)
    sequence, _ = get_clean_sequence(tokenizer, with_prefix_space=True, max_length=20)
    words = sequence.split()
    for special in (False, True):
        for split, joined in (((words,), (sequence,)), ((words, words), (sequence, sequence))):
            output = tokenizer(*split, is_split_into_words=True, add_special_tokens=special)
            expected = tokenizer(*joined, add_special_tokens=special)
            assert all(output[key] == expected[key] for key in output)
    batch = [sequence.strip()] * 2 + [sequence.strip() + " " + sequence.strip()]
    word_batch = [s.split() for s in batch]
    cleaned = [" " + " ".join(s) for s in word_batch]
    pairs = [(sequence.strip(), sequence.strip())] * 2 + [(sequence.strip() + " " + sequence.strip(),
                                                          sequence.strip())]
    word_pairs = [tuple(s.split() for s in pair) for pair in pairs]
    cleaned_pairs = [tuple(" " + " ".join(s) for s in pair) for pair in word_pairs]
    for special in (False, True):
        for split, joined in ((word_batch, cleaned), (word_pairs, cleaned_pairs)):
            output = tokenizer(split, is_split_into_words=True, add_special_tokens=special)
            expected = tokenizer(joined, add_special_tokens=special)
            assert all(output[key] == expected[key] for key in output)


def test_batch_encode_dynamic_overflowing(get_tokenizer):
    pytest.importorskip("torch")
    tokenizer = get_tokenizer()
    assert tokenizer.pad_token and tokenizer.pad_token_id >= 0
    text = "HuggingFace is solving NLP one commit at a time"
    for inputs, truncation, width in ((text, True, None), ([text], "only_first", 6),
                                      ([text, "Very tiny input"], "only_first", 6)):
        tokens = tokenizer(inputs, max_length=6, padding=True, truncation=truncation, return_tensors="pt",
                           return_overflowing_tokens=True)
        for key in (k for k in tokens if "overflow_to_sample_mapping" not in k):
            assert len(tokens[key].shape) == 2
            assert width is None or tokens[key].shape[-1] == width


def test_added_tokens_serialization(get_tokenizer, pretrained):
    new_eos = AddedToken("[NEW_EOS]", rstrip=False, lstrip=True, normalized=False, special=True)
    tokenizer_r = get_tokenizer(eos_token=new_eos)
    assert tokenizer_r.eos_token == "[NEW_EOS]"
    assert str(new_eos) in [str(t) for t in tokenizer_r.added_tokens_decoder.values()]
    expected = {str(t) for t in tokenizer_r.added_tokens_decoder.values()}
    with tempfile.TemporaryDirectory() as folder:
        tokenizer_r.save_pretrained(folder)
        tokenizer = type(tokenizer_r).from_pretrained(folder)
        assert str(new_eos) not in tokenizer.extra_special_tokens
        assert str(new_eos) in [str(t) for t in tokenizer.added_tokens_decoder.values()]
        assert str(tokenizer.added_tokens_decoder[tokenizer.eos_token_id]) == str(new_eos)
        assert expected <= {str(t) for t in tokenizer.added_tokens_decoder.values()}


def test_tokenizer_initialization_with_conflicting_key(get_tokenizer):
    with pytest.raises(AttributeError, match="conflicts with the method"):
        get_tokenizer(add_special_tokens=True)
    with pytest.raises(AttributeError, match="conflicts with the method"):
        get_tokenizer(get_vocab=True)


def test_empty_input_string(get_tokenizer):
    torch = pytest.importorskip("torch")
    tokenizer = get_tokenizer()
    for return_type, dtype in (("pt", torch.int64), ("np", np.int64)):
        assert tokenizer("", return_tensors=return_type).input_ids.dtype == dtype


def test_pad_token_initialization(get_tokenizer):
    tokenizer = get_tokenizer(pad_token="[PAD]")
    assert tokenizer.pad_token == "[PAD]" and tokenizer.pad_token_id is not None
    seq_0, seq_1 = "Test this method.", "With these inputs and some extra tokens here."
    output = tokenizer([seq_0, seq_1], padding=True, return_attention_mask=True)
    assert len(output["input_ids"][0]) == len(output["input_ids"][1])
    lengths = [len(tokenizer(s, add_special_tokens=True)["input_ids"]) for s in (seq_0, seq_1)]
    assert 0 in output["attention_mask"][0 if lengths[0] < lengths[1] else 1]


@pytest.mark.parametrize("add_bos_token", [True, False])
def test_bos_token_with_add_bos_token(get_tokenizer, add_bos_token):
    with pytest.raises(TypeError, match="add_bos_token"):  # upstream: "might not support add_bos_token"
        get_tokenizer(bos_token="<BOS>", add_bos_token=add_bos_token)
