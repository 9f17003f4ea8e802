"""pipeline(...): the five tasks give transformers' output formats and, on the same checkpoint, its numbers.

The checkpoints are small random ConvBERTs with the real BERT-uncased vocabulary, written by
minconvbert and read by both libraries. transformers 5 has no question-answering pipeline any more:
that one is checked against a brute-force search over every span written out in the test.
"""

import numpy as np
import pytest

import minconvbert
from minconvbert import pipeline
from minconvbert.data import vocab_file

SMALL = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37,
             embedding_size=16, pad_token_id=0)
NER_LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}


def _save(directory, cls, sharpen=0.0, **config):
    model = cls(minconvbert.ConvBertConfig(**{**SMALL, **config}), rng=0)
    if sharpen:  # random heads are near-uniform: scale the classifier so that labels differ between tokens
        head = model.classifier.out_proj if hasattr(model.classifier, "out_proj") else model.classifier
        head.weight.data *= sharpen
    model.save_pretrained(directory)
    minconvbert.ConvBertTokenizerFast(vocab_file("bert-base-uncased")).save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "mlm": _save(root / "mlm", minconvbert.ConvBertForMaskedLM),
        "base": _save(root / "base", minconvbert.ConvBertModel),
        "cls": _save(root / "cls", minconvbert.ConvBertForSequenceClassification, sharpen=30.0,
                     id2label={0: "NEG", 1: "NEU", 2: "POS"}),
        "cls1": _save(root / "cls1", minconvbert.ConvBertForSequenceClassification, num_labels=1),
        "ner": _save(root / "ner", minconvbert.ConvBertForTokenClassification, sharpen=300.0, id2label=NER_LABELS),
        "qa": _save(root / "qa", minconvbert.ConvBertForQuestionAnswering),
    }


@pytest.fixture(scope="module")
def reference():
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    return transformers


def _same(ours, theirs, atol=1e-5):
    """Equal structures; floats within atol (the two libraries round differently in float32)."""
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            _same(ours[key], theirs[key], atol)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, atol)
    elif isinstance(theirs, (float, np.floating)):
        assert abs(float(ours) - float(theirs)) <= atol
    else:
        assert ours == theirs


TEXTS = ["Hello, my dog is cute", "HuggingFace is a company based in Paris and New York",
         "Unbelievably, Jim Henson lived in Manhattanville."]


@pytest.mark.parametrize("call", [
    dict(inputs="This is a simple [MASK]."),
    dict(inputs="This is a simple [MASK].", top_k=2),
    dict(inputs="Paris is the [MASK] of [MASK].", top_k=3),
    dict(inputs="This is a simple [MASK].", targets=["problem", "question", "zzzzzz"]),
    dict(inputs=["A [MASK] dog.", "The [MASK] cat."]),
])
def test_fill_mask_equals_transformers(checkpoints, reference, call):
    call = dict(call)
    inputs = call.pop("inputs")
    ours = pipeline("fill-mask", model=checkpoints["mlm"])(inputs, **call)
    theirs = reference.pipeline("fill-mask", model=checkpoints["mlm"], device="cpu")(inputs, **call)
    _same(ours, theirs)


def test_fill_mask_format_and_task_from_the_config(checkpoints):
    fill = pipeline(model=checkpoints["mlm"])  # the task comes from config.json's architectures
    out = fill("This is a simple [MASK].")
    assert len(out) == 5 and all(set(p) == {"score", "token", "token_str", "sequence"} for p in out)
    assert [p["score"] for p in out] == sorted((p["score"] for p in out), reverse=True)
    with pytest.raises(ValueError, match=r"no mask token \(\[MASK\]\)"):
        fill("nothing to fill")


def test_feature_extraction_equals_transformers(checkpoints, reference):
    ours = pipeline("feature-extraction", model=checkpoints["base"])
    theirs = reference.pipeline("feature-extraction", model=checkpoints["base"], device="cpu")
    _same(ours(TEXTS[0]), theirs(TEXTS[0]))
    _same(ours(TEXTS), theirs(TEXTS))
    assert ours(TEXTS[0], return_tensors=True).shape == (1, 8, 32)


@pytest.mark.parametrize("checkpoint,call", [
    ("cls", dict()), ("cls", dict(top_k=None)), ("cls", dict(top_k=2)), ("cls", dict(function_to_apply="sigmoid")),
    ("cls", dict(function_to_apply="none", top_k=None)), ("cls1", dict()), ("cls1", dict(top_k=None)),
])
def test_text_classification_equals_transformers(checkpoints, reference, checkpoint, call):
    ours = pipeline("text-classification", model=checkpoints[checkpoint])
    theirs = reference.pipeline("text-classification", model=checkpoints[checkpoint], device="cpu")
    _same(ours(TEXTS[0], **call), theirs(TEXTS[0], **call))
    _same(ours(TEXTS, **call), theirs(TEXTS, **call))
    pair = {"text": TEXTS[0], "text_pair": TEXTS[1]}
    _same(ours(pair, **call), theirs(pair, **call))


def test_text_classification_format(checkpoints):
    classify = pipeline("sentiment-analysis", model=checkpoints["cls"])
    (best,) = classify(TEXTS[0])
    assert set(best) == {"label", "score"} and best["label"] in {"NEG", "NEU", "POS"}
    ranked = classify(TEXTS[0], top_k=None)
    assert [r["label"] for r in ranked][0] == best["label"] and abs(sum(r["score"] for r in ranked) - 1) < 1e-6
    with pytest.raises(TypeError, match=r"unexpected options \['topk'\]"):
        classify(TEXTS[0], topk=2)


def _glued_punctuation(word: str) -> str:
    for mark in ".,?!":
        word = word.replace(" " + mark, mark)
    return word


@pytest.mark.parametrize("strategy", ["none", "simple", "first", "max", "average"])
def test_token_classification_equals_transformers(checkpoints, reference, strategy):
    """Equal entities. The grouped words are joined by the tokenizer's convert_tokens_to_string; transformers'
    fast tokenizer glues punctuation there ("manhattanville."), its slow one and ours do not
    ("manhattanville ."): until our fast tokenizer does, words are compared with the punctuation glued."""
    ours = pipeline("ner", model=checkpoints["ner"], aggregation_strategy=strategy)
    theirs = reference.pipeline("token-classification", model=checkpoints["ner"], aggregation_strategy=strategy,
                                device="cpu")
    pieces = ["manhattan", "##ville", "."]
    glues = ours.tokenizer.convert_tokens_to_string(pieces) == theirs.tokenizer.convert_tokens_to_string(pieces)
    for text in TEXTS:
        expected = theirs(text)
        got = ours(text)
        if not glues:
            for entity in got:
                entity["word"] = _glued_punctuation(entity["word"])
        _same(got, expected)
    assert any(theirs(text) for text in TEXTS), "the sharpened head should find some entity"


def _best_span_by_brute_force(model, tokenizer, question, context, max_answer_len=15):
    """Every (start, end) over the context tokens, scored p_start * p_end with the softmax over the context
    and [CLS] (then [CLS] excluded), as transformers' question-answering pipeline defines the answer."""
    enc = tokenizer(question, context, return_offsets_mapping=True, return_special_tokens_mask=True)
    out = model(input_ids=np.array([enc["input_ids"]]), token_type_ids=np.array([enc["token_type_ids"]]))
    context_tokens = [i for i, (t, s) in enumerate(zip(enc["token_type_ids"], enc["special_tokens_mask"]))
                      if t == 1 and not s]
    scored = [0] + context_tokens

    def probabilities(logits):
        values = np.exp(logits[scored].astype(np.float64) - logits[scored].max())
        return dict(zip(scored, values / values.sum()))

    p_start, p_end = probabilities(out.start_logits.data[0]), probabilities(out.end_logits.data[0])
    spans = [(p_start[s] * p_end[e], s, e) for s in context_tokens for e in context_tokens if 0 <= e - s < max_answer_len]
    score, s, e = max(spans)
    return score, enc["offset_mapping"][s][0], enc["offset_mapping"][e][1], p_start[0] * p_end[0]


def test_question_answering_finds_the_best_span(checkpoints):
    qa = pipeline("question-answering", model=checkpoints["qa"])
    question, context = "Who was Jim Henson?", "Jim Henson was a nice puppet from Mississippi"
    answer = qa(question=question, context=context, align_to_words=False)
    score, start, end, null_score = _best_span_by_brute_force(qa.model, qa.tokenizer, question, context)
    assert set(answer) == {"score", "start", "end", "answer"}
    assert (answer["start"], answer["end"], answer["answer"]) == (start, end, context[start:end])
    assert abs(answer["score"] - score) < 1e-6
    assert qa(question, context, align_to_words=False) == answer  # positional form
    three = qa(question=question, context=context, top_k=3)
    assert len(three) == 3 and [a["score"] for a in three] == sorted((a["score"] for a in three), reverse=True)
    with_null = qa(question=question, context=context, top_k=50, handle_impossible_answer=True)
    (null,) = [a for a in with_null if a["answer"] == ""]
    assert (null["start"], null["end"]) == (0, 0) and abs(null["score"] - null_score) < 1e-9


def test_question_answering_long_context_uses_overlapping_windows(checkpoints):
    qa = pipeline("question-answering", model=checkpoints["qa"])
    context = " ".join(f"word{i}" for i in range(300))  # ~900 tokens: several windows of 128
    answer = qa(question="Which word?", context=context, max_seq_len=128, doc_stride=32)
    assert context[answer["start"]:answer["end"]] == answer["answer"] and answer["answer"]
    # aligned to whole words: the answer starts and ends at word boundaries
    assert answer["start"] == 0 or context[answer["start"] - 1] == " "
    assert answer["end"] == len(context) or context[answer["end"]] == " "


def test_pipeline_arguments(checkpoints):
    with pytest.raises(KeyError, match="unknown task 'summarization'"):
        pipeline("summarization", model=checkpoints["mlm"])
    with pytest.raises(ValueError, match="minconvbert computes on the CPU"):
        pipeline("fill-mask", model=checkpoints["mlm"], device=0)
    with pytest.raises(ValueError, match="pass model="):
        pipeline("fill-mask")
    model = minconvbert.ConvBertForMaskedLM.from_pretrained(checkpoints["mlm"])
    fill = pipeline("fill-mask", model=model, top_k=2)  # a model object knows where it was loaded from
    assert len(fill("A [MASK] dog.")) == 2
    fill64 = pipeline("fill-mask", model=checkpoints["mlm"], dtype="float64")
    assert fill64.model.dtype == np.float64
