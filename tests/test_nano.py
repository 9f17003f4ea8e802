"""The embedded nano checkpoint: it loads by name without network and has learned from context."""

import numpy as np

from minconvbert import ConvBertForMaskedLM, ConvBertTokenizerFast
from minconvbert.data.corpus import split_train_validation, stdlib_corpus
from minconvbert.train.data import encode_lines, pack_blocks
from minconvbert.train.mlm import evaluate_mlm, unigram_baseline
from minconvbert.train.recipes import VALIDATION_STEPS, mlm_batches


def test_nano_beats_the_unigram_baseline_on_held_out_text():
    model = ConvBertForMaskedLM.from_pretrained("minconvbert/nano", strict=True)
    tokenizer = ConvBertTokenizerFast.from_pretrained("minconvbert/nano")
    assert model.config.vocab_size == tokenizer.vocab_size and model.config.num_hidden_layers >= 4
    train_lines, validation_lines = split_train_validation(stdlib_corpus(include_topics=True))
    ids = tokenizer.convert_tokens_to_ids
    special = (ids("[CLS]"), ids("[SEP]"), ids("[PAD]"))
    block = model.config.max_position_embeddings
    validation = pack_blocks(encode_lines(tokenizer, validation_lines), block, *special)
    train = pack_blocks(encode_lines(tokenizer, train_lines[:3000]), block, *special)
    batches = mlm_batches(tokenizer, validation, 32, seed=1)
    steps = VALIDATION_STEPS[:3]
    ours = evaluate_mlm(model, batches, steps)
    base = unigram_baseline(train, batches, steps, tokenizer.vocab_size, tokenizer.all_special_ids)
    assert ours["tokens"] > 1000
    assert ours["accuracy"] > 5 * base["accuracy"] and ours["accuracy"] > 0.3
    assert ours["loss"] < base["loss"] - 2.0


def test_nano_prefers_exception_names_where_an_exception_is_raised():
    model = ConvBertForMaskedLM.from_pretrained("minconvbert/nano")
    tokenizer = ConvBertTokenizerFast.from_pretrained("minconvbert/nano")
    encoded = tokenizer("Raise a [MASK] if the key is missing.", return_tensors="np")
    logits = model(**{k: encoded[k] for k in ("input_ids", "attention_mask")}).logits.data[0]
    position = list(encoded["input_ids"][0]).index(tokenizer.mask_token_id)
    exceptions = [t for t in ("valueerror", "keyerror", "typeerror", "indexerror") if t in tokenizer.get_vocab()]
    assert exceptions, "the nano vocabulary has no exception names"
    scores = logits[position]
    best_exception = max(scores[tokenizer.convert_tokens_to_ids(t)] for t in exceptions)
    assert best_exception > np.percentile(scores, 99.5)  # among the top 0.5% of 8000 tokens
