"""transformers' documentation examples for ConvBERT run on minconvbert with two edits only.

Each example below is transformers' text (its ConvBERT model docstrings, and the fill-mask pipeline's):
the test replaces "transformers" by "minconvbert" and the checkpoint name by a small local checkpoint
(a random tiny ConvBERT with the real BERT-uncased vocabulary, so that "paris" is one token, as in
YituTech/conv-bert-base), then runs it. With torch installed the examples run as written (torch
tensors in and out, torch.no_grad(), torch.sigmoid on our logits, ...); the "np" variants are the
same examples with return_tensors="np" and NumPy in place of torch (TO_NUMPY lists every edit), for a
machine without torch.

transformers 5 writes the masked-LM example with RoBERTa's "<mask>": ConvBERT's tokenizer splits it,
and transformers itself then fails at torch.where (the two encodings differ in length); the example
runs here with ConvBERT's "[MASK]", as transformers 4 wrote it. ConvBertModel's example is transformers
4's too (transformers 5 has none).
"""

import textwrap

import numpy as np
import pytest

import minconvbert
from minconvbert.data import vocab_file

CHECKPOINT = "YituTech/conv-bert-base"

EXAMPLES = {
    "model": """
        from transformers import AutoTokenizer, ConvBertModel
        import torch

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertModel.from_pretrained("YituTech/conv-bert-base")

        inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")
        outputs = model(**inputs)

        last_hidden_states = outputs.last_hidden_state
    """,
    "masked_lm": """
        from transformers import AutoTokenizer, ConvBertForMaskedLM
        import torch

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForMaskedLM.from_pretrained("YituTech/conv-bert-base")

        inputs = tokenizer("The capital of France is [MASK].", return_tensors="pt")

        with torch.no_grad():
            logits = model(**inputs).logits

        # retrieve index of [MASK]
        mask_token_index = (inputs.input_ids == tokenizer.mask_token_id)[0].nonzero(as_tuple=True)[0]

        predicted_token_id = logits[0, mask_token_index].argmax(axis=-1)
        tokenizer.decode(predicted_token_id)

        labels = tokenizer("The capital of France is Paris.", return_tensors="pt")["input_ids"]
        # mask labels of non-[MASK] tokens
        labels = torch.where(inputs.input_ids == tokenizer.mask_token_id, labels, -100)

        outputs = model(**inputs, labels=labels)
        round(outputs.loss.item(), 2)
    """,
    "sequence_classification": """
        import torch
        from transformers import AutoTokenizer, ConvBertForSequenceClassification

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForSequenceClassification.from_pretrained("YituTech/conv-bert-base")

        inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")

        with torch.no_grad():
            logits = model(**inputs).logits

        predicted_class_id = logits.argmax().item()
        model.config.id2label[predicted_class_id]

        # To train a model on `num_labels` classes, you can pass `num_labels=num_labels` to `.from_pretrained(...)`
        num_labels = len(model.config.id2label)
        model = ConvBertForSequenceClassification.from_pretrained("YituTech/conv-bert-base", num_labels=num_labels)

        labels = torch.tensor([1])
        loss = model(**inputs, labels=labels).loss
        round(loss.item(), 2)
    """,
    "multi_label_classification": """
        import torch
        from transformers import AutoTokenizer, ConvBertForSequenceClassification

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForSequenceClassification.from_pretrained("YituTech/conv-bert-base", problem_type="multi_label_classification")

        inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")

        with torch.no_grad():
            logits = model(**inputs).logits

        predicted_class_ids = torch.arange(0, logits.shape[-1])[torch.sigmoid(logits).squeeze(dim=0) > 0.5]

        # To train a model on `num_labels` classes, you can pass `num_labels=num_labels` to `.from_pretrained(...)`
        num_labels = len(model.config.id2label)
        model = ConvBertForSequenceClassification.from_pretrained(
            "YituTech/conv-bert-base", num_labels=num_labels, problem_type="multi_label_classification"
        )

        labels = torch.sum(
            torch.nn.functional.one_hot(predicted_class_ids[None, :].clone(), num_classes=num_labels), dim=1
        ).to(torch.float)
        loss = model(**inputs, labels=labels).loss
    """,
    "multiple_choice": """
        from transformers import AutoTokenizer, ConvBertForMultipleChoice
        import torch

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForMultipleChoice.from_pretrained("YituTech/conv-bert-base")

        prompt = "In Italy, pizza served in formal settings, such as at a restaurant, is presented unsliced."
        choice0 = "It is eaten with a fork and a knife."
        choice1 = "It is eaten while held in the hand."
        labels = torch.tensor(0).unsqueeze(0)  # choice0 is correct (according to Wikipedia ;)), batch size 1

        encoding = tokenizer([prompt, prompt], [choice0, choice1], return_tensors="pt", padding=True)
        outputs = model(**{k: v.unsqueeze(0) for k, v in encoding.items()}, labels=labels)  # batch size is 1

        # the linear classifier still needs to be trained
        loss = outputs.loss
        logits = outputs.logits
    """,
    "token_classification": """
        from transformers import AutoTokenizer, ConvBertForTokenClassification
        import torch

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForTokenClassification.from_pretrained("YituTech/conv-bert-base")

        inputs = tokenizer(
            "HuggingFace is a company based in Paris and New York", add_special_tokens=False, return_tensors="pt"
        )

        with torch.no_grad():
            logits = model(**inputs).logits

        predicted_token_class_ids = logits.argmax(-1)

        # Note that tokens are classified rather then input words which means that
        # there might be more predicted token classes than words.
        # Multiple token classes might account for the same word
        predicted_tokens_classes = [model.config.id2label[t.item()] for t in predicted_token_class_ids[0]]
        predicted_tokens_classes

        labels = predicted_token_class_ids
        loss = model(**inputs, labels=labels).loss
        round(loss.item(), 2)
    """,
    "question_answering": """
        from transformers import AutoTokenizer, ConvBertForQuestionAnswering
        import torch

        tokenizer = AutoTokenizer.from_pretrained("YituTech/conv-bert-base")
        model = ConvBertForQuestionAnswering.from_pretrained("YituTech/conv-bert-base")

        question, text = "Who was Jim Henson?", "Jim Henson was a nice puppet"

        inputs = tokenizer(question, text, return_tensors="pt")
        with torch.no_grad():
            outputs = model(**inputs)

        answer_start_index = outputs.start_logits.argmax()
        answer_end_index = outputs.end_logits.argmax()

        predict_answer_tokens = inputs.input_ids[0, answer_start_index : answer_end_index + 1]
        tokenizer.decode(predict_answer_tokens, skip_special_tokens=True)

        # target is "nice puppet"
        target_start_index = torch.tensor([14])
        target_end_index = torch.tensor([15])

        outputs = model(**inputs, start_positions=target_start_index, end_positions=target_end_index)
        loss = outputs.loss
        round(loss.item(), 2)
    """,
    "fill_mask_pipeline": """
        from transformers import pipeline

        fill_masker = pipeline(model="YituTech/conv-bert-base")
        fill_masker("This is a simple [MASK].")
    """,
}

# The same examples without torch: NumPy in place of torch, edit by edit (in this order).
TO_NUMPY = [
    ('return_tensors="pt"', 'return_tensors="np"'),
    ("import torch", "import numpy as np\nfrom transformers import no_grad"),
    ("torch.no_grad()", "no_grad()"),
    (".nonzero(as_tuple=True)", ".nonzero()"),
    ("torch.where(", "np.where("),
    ("torch.tensor(0).unsqueeze(0)", "np.array([0])"),
    ("torch.tensor(", "np.array("),
    ("v.unsqueeze(0)", "v[None]"),
    ("torch.arange(0, logits.shape[-1])[torch.sigmoid(logits).squeeze(dim=0) > 0.5]",
     "np.arange(0, logits.shape[-1])[logits.sigmoid().squeeze(dim=0) > 0.5]"),
    ("torch.sum(\n    torch.nn.functional.one_hot(predicted_class_ids[None, :].clone(), num_classes=num_labels), dim=1\n"
     ").to(torch.float)", "np.eye(num_labels)[predicted_class_ids].sum(axis=0, keepdims=True).astype(np.float32)"),
]


def _numpy_version(example: str) -> str:
    example = textwrap.dedent(example)
    for old, new in TO_NUMPY:
        example = example.replace(old, new)
    assert "torch" not in example, example
    return example


NUMPY_EXAMPLES = {name: _numpy_version(example) for name, example in EXAMPLES.items()}


def _tokenizer_returns_torch() -> bool:
    """Whether the tokenizer takes return_tensors="pt" yet (it lands with the tokenizer branch)."""
    tokenizer = minconvbert.ConvBertTokenizerFast(vocab_file("bert-base-uncased"))
    try:
        tokenizer("a", return_tensors="pt")
        return True
    except ValueError:
        return False


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A small random ConvBERT masked LM with the BERT-uncased vocabulary, saved with its tokenizer."""
    directory = tmp_path_factory.mktemp("conv-bert-tiny")
    config = minconvbert.ConvBertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                                        intermediate_size=37, embedding_size=16, pad_token_id=0)
    minconvbert.ConvBertForMaskedLM(config, rng=0).save_pretrained(directory)
    minconvbert.ConvBertTokenizerFast(vocab_file("bert-base-uncased")).save_pretrained(directory)
    return str(directory)


def _run(example: str, checkpoint: str) -> dict:
    code = textwrap.dedent(example).replace("transformers", "minconvbert").replace(CHECKPOINT, checkpoint)
    namespace = {}
    exec(compile(code, f"<example with {checkpoint}>", "exec"), namespace)  # noqa: S102 (our own test text)
    return namespace


def _check(name: str, namespace: dict) -> None:
    """What each example computes has the shape and kind transformers' example gives."""
    if name == "model":
        assert namespace["last_hidden_states"].shape == (1, 8, 32)  # [CLS] hello , my dog is cute [SEP]
    elif name == "masked_lm":
        assert np.isfinite(namespace["outputs"].loss.item()) and len(namespace["predicted_token_id"]) == 1
    elif name == "question_answering":
        # "Who was Jim Henson?" + "Jim Henson was a nice puppet" is 14 tokens with this vocabulary: the targets
        # 14 and 15 lie past the input, both are ignored, and the loss is NaN -- as transformers gives for the
        # same checkpoint (its example's positions fit another checkpoint's tokenization)
        assert namespace["outputs"].start_logits.shape == (1, 14) and np.isnan(namespace["loss"].item())
    else:
        if name != "fill_mask_pipeline":
            assert np.isfinite(float(np.asarray(namespace["loss"])))
        if name == "token_classification":
            assert len(namespace["predicted_tokens_classes"]) == 11  # hugging ##face is a company ... york
            assert set(namespace["predicted_tokens_classes"]) <= {"LABEL_0", "LABEL_1"}
        if name == "multiple_choice":
            assert namespace["logits"].shape == (1, 2)
        if name == "fill_mask_pipeline":
            proposals = namespace["fill_masker"]("This is a simple [MASK].")
            assert len(proposals) == 5 and set(proposals[0]) == {"score", "token", "token_str", "sequence"}
            assert proposals[0]["sequence"].startswith("this is a simple ")


@pytest.fixture
def torch_batches(monkeypatch):
    """Until the tokenizer takes return_tensors="pt" (it lands with the tokenizer branch), a stand-in: the
    tokenizer encodes with "np" and the arrays become torch tensors (torch.from_numpy). Once the tokenizer
    returns torch tensors itself, the stand-in is not installed and the examples run exactly as written."""
    torch = pytest.importorskip("torch")
    if _tokenizer_returns_torch():
        return
    from minconvbert.tokenizer.base import TokenizerBase

    encode = TokenizerBase.__call__

    def call(self, *args, return_tensors=None, **kwargs):
        if return_tensors != "pt":
            return encode(self, *args, return_tensors=return_tensors, **kwargs)
        out = encode(self, *args, return_tensors="np", **kwargs)
        for key in list(out):
            out[key] = torch.from_numpy(out[key])
        return out

    monkeypatch.setattr(TokenizerBase, "__call__", call)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_runs_as_written_with_torch(name, checkpoint, torch_batches):
    _check(name, _run(EXAMPLES[name], checkpoint))


@pytest.mark.parametrize("name", list(NUMPY_EXAMPLES))
def test_example_runs_with_numpy_in_place_of_torch(name, checkpoint, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # a machine without torch: `import torch` fails
    _check(name, _run(NUMPY_EXAMPLES[name], checkpoint))
