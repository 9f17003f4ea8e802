"""The alignment and offsets tests of transformers' TokenizersBackendTesterMixin
(tests/test_tokenizers_backend_mixin.py, transformers 5.24), ported to both minconvbert tokenizers, on the
tokenizer upstream runs them with (google-bert/bert-base-uncased; here the shipped vocabulary).

Not ported, and why: see test_tokenization_common.py (training, add_prefix_space, add_bos_token, the hub
round trips).
"""

from tests.compat.test_tokenization_common import get_tokenizer, pretrained  # noqa: F401 (fixtures)


def test_alignment_methods(get_tokenizer):
    tokenizer_r = get_tokenizer()
    words = ["Wonderful", "no", "inspiration", "example", "with", "subtoken"]
    text = " ".join(words)
    encoding = tokenizer_r(text, add_special_tokens=False)
    batch_encoding = tokenizer_r([text] * 3, add_special_tokens=False)
    num_tokens = len(encoding["input_ids"])
    last_word, last_token, last_batch, last_char = len(words) - 1, num_tokens - 1, 2, len(text) - 1

    assert len(encoding.word_ids(0)) == num_tokens
    word_ids = [w for w in encoding.word_ids(0) if w is not None]
    assert max(word_ids) == last_word and min(word_ids) == 0
    batch_word_ids = [w for w in batch_encoding.word_ids(last_batch) if w is not None]
    assert len(batch_encoding.word_ids(last_batch)) == num_tokens
    assert max(batch_word_ids) == last_word and min(batch_word_ids) == 0
    assert len(encoding.tokens(0)) == num_tokens

    for single, batched, first_value, last_index, last_value in (
            ("token_to_word", "token_to_word", 0, last_token, last_word),
            ("char_to_token", "char_to_token", 0, last_char, last_token),
            ("char_to_word", "char_to_word", 0, last_char, last_word)):
        f, g = getattr(encoding, single), getattr(batch_encoding, batched)
        assert f(0) == first_value and f(0, 0) == first_value
        assert f(last_index) == last_value and f(0, last_index) == last_value
        assert g(1, 0) == first_value and g(0, last_index) == last_value and g(last_batch, last_index) == last_value
    for name, last_index, end in (("word_to_tokens", last_word, last_token + 1),
                                  ("token_to_chars", last_token, last_char + 1),
                                  ("word_to_chars", last_word, last_char + 1)):
        f, g = getattr(encoding, name), getattr(batch_encoding, name)
        assert f(0).start == 0 and f(0, 0).start == 0
        assert f(last_index).end == end and f(0, last_index).end == end
        assert g(1, 0).start == 0 and g(0, last_index).end == end and g(last_batch, last_index).end == end
    assert encoding.token_to_sequence(num_tokens // 2) == 0 and encoding.token_to_sequence(0, num_tokens // 2) == 0
    for b in (1, 0, last_batch):
        assert batch_encoding.token_to_sequence(b, num_tokens // 2) == 0

    pair_words = ["Amazing", "example", "full", "of", "inspiration"]
    pair_text = " ".join(pair_words)
    word_0, word_1 = words.index("inspiration"), pair_words.index("inspiration")
    char_0, char_1 = text.find("inspiration"), pair_text.find("inspiration")
    pair_encoding = tokenizer_r(text, pair_text, add_special_tokens=False)
    pair_batch = tokenizer_r([text] * 3, [pair_text] * 3, add_special_tokens=False)
    for enc, ids, args in ((pair_encoding, pair_encoding["input_ids"], ()), (pair_batch, pair_batch["input_ids"][1],
                                                                             (1,))):
        a, b = enc.word_to_tokens(*args, word_0, sequence_index=0), enc.word_to_tokens(*args, word_1, sequence_index=1)
        assert a.start != b.start and ids[a.start] == ids[b.start]
        a, b = enc.char_to_token(*args, char_0, sequence_index=0), enc.char_to_token(*args, char_1, sequence_index=1)
        assert a != b and ids[a] == ids[b]
        a, b = enc.char_to_word(*args, char_0, sequence_index=0), enc.char_to_word(*args, char_1, sequence_index=1)
        assert a != b and words[a] == pair_words[b]
        a, b = enc.word_to_chars(*args, word_0, sequence_index=0), enc.word_to_chars(*args, word_1, sequence_index=1)
        assert a.start != b.start and text[a.start] == pair_text[b.start]

    pair_encoding = tokenizer_r(text, pair_text, add_special_tokens=True)
    ids = [pair_encoding.token_to_sequence(i) for i in range(len(pair_encoding["input_ids"]))]
    assert 0 in ids and 1 in ids and tokenizer_r.num_special_tokens_to_add(pair=True) and None in ids
    pair_batch = tokenizer_r([text] * 3, [pair_text] * 3, add_special_tokens=True)
    ids = [pair_batch.token_to_sequence(1, i) for i in range(len(pair_batch["input_ids"][0]))]
    assert 0 in ids and 1 in ids and None in ids


def test_offsets_mapping(get_tokenizer):
    tokenizer_r = get_tokenizer()
    text, pair = "Wonderful no inspiration example with subtoken", "Along with an awesome pair"
    for inputs, pair_flag in (((text,), False), ((text, pair), True)):
        tokens = tokenizer_r(*inputs, return_special_tokens_mask=True, return_offsets_mapping=True,
                             add_special_tokens=True)
        assert len(tokens["offset_mapping"]) == len(tokens["input_ids"])
        assert sum(tokens["special_tokens_mask"]) == tokenizer_r.num_special_tokens_to_add(pair_flag)

