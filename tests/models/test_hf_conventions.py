"""transformers' conventions on the ConvBERT models: outputs as ModelOutput, loader arguments, embeddings,
inputs of any array kind, and the checks that name a bad argument (see also tests/compat)."""

import doctest
import json
import warnings
from collections.abc import Mapping

import numpy as np
import pytest

import minconvbert
from minconvbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertForQuestionAnswering, ConvBertModel
from minconvbert.models import convbert
from tests.models import parity

IDS = np.array([[2, 7, 9, 4, 11], [3, 5, 6, 1, 8]])
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
TASK_CLASSES = [getattr(convbert, name) for name in convbert.__all__ if name.startswith("ConvBertFor")]


def _config(**overrides):
    return ConvBertConfig(**{**parity.TINY, **overrides})


def _saved(tmp_path, cls=ConvBertForMaskedLM, **overrides):
    cls(_config(**overrides), rng=0).save_pretrained(tmp_path)
    return tmp_path


# ----- outputs ------------------------------------------------------------------------------------
def test_outputs_are_mappings_of_the_fields_that_are_set():
    model = ConvBertForMaskedLM(_config(), rng=0).eval()
    out = model(IDS, labels=IDS, output_hidden_states=True)
    assert isinstance(out, Mapping) and list(out) == out.keys() == ["loss", "logits", "hidden_states"]
    assert len(out) == 3 and dict(out).keys() == {"loss", "logits", "hidden_states"} and "attentions" not in out
    assert out[0] is out["loss"] is out.loss and out[1] is out.logits and out[-1] is out.hidden_states
    assert out[:2] == (out.loss, out.logits) and out.to_tuple() == tuple(out.values())
    with pytest.raises(KeyError, match="no field 'attentions' set"):
        out["attentions"]


def test_return_dict_false_and_the_config_switches():
    model = ConvBertForMaskedLM(_config(), rng=0).eval()
    as_tuple = model(IDS, labels=IDS, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    np.testing.assert_array_equal(as_tuple[1].data, model(IDS).logits.data)
    model.config.return_dict = False
    assert isinstance(model(IDS), tuple)
    model.config.return_dict, model.config.output_attentions, model.config.output_hidden_states = True, True, True
    out = model(IDS)
    assert len(out.attentions) == 2 and len(out.hidden_states) == 3
    out = model(IDS, output_attentions=False)  # an explicit argument wins over the config
    assert out.attentions is None and out.hidden_states is not None


def test_question_answering_loss_is_an_array():
    """The bug: np.asarray(loss) raised "object __array__ method not producing an array" (a NumPy scalar
    inside the Tensor). Every Tensor now holds an ndarray."""
    model = ConvBertForQuestionAnswering(_config(), rng=0)
    loss = model(IDS, start_positions=[1, 2], end_positions=[3, 4]).loss
    assert type(loss.data) is np.ndarray and np.asarray(loss).shape == ()
    assert type((minconvbert.Tensor(np.float32(2)) * minconvbert.Tensor(np.float32(3))).data) is np.ndarray


# ----- loading ------------------------------------------------------------------------------------
def test_loader_arguments_and_config_overrides(tmp_path):
    directory = _saved(tmp_path / "mlm")
    model, info = ConvBertForMaskedLM.from_pretrained(directory, output_loading_info=True, local_files_only=True,
                                                      hidden_dropout_prob=0.3, revision=None, cache_dir=None,
                                                      force_download=False)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": [], "error_msgs": []}
    assert model.config.hidden_dropout_prob == 0.3 and not model.training
    for bad in (dict(foo=1), dict(device_map="auto"), dict(trust_remote_code=True)):
        # before: silently stored in the config (and written to config.json on save)
        with pytest.raises(TypeError, match=f"unexpected keyword arguments \\['{next(iter(bad))}'\\]"):
            ConvBertForMaskedLM.from_pretrained(directory, **bad)
    (tmp_path / "repo" / "sub").mkdir(parents=True)
    _saved(tmp_path / "repo" / "sub")
    assert ConvBertForMaskedLM.from_pretrained(tmp_path / "repo", subfolder="sub").config.vocab_size == 40
    with pytest.raises(FileNotFoundError, match="no config.json"):
        ConvBertForMaskedLM.from_pretrained(tmp_path / "repo")


def test_missing_keys_are_spelled_as_in_the_checkpoint(tmp_path):
    directory = _saved(tmp_path, ConvBertModel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = convbert.ConvBertForSequenceClassification.from_pretrained(directory, output_loading_info=True)
        _, back = ConvBertModel.from_pretrained(_saved(tmp_path / "task", convbert.ConvBertForTokenClassification),
                                                output_loading_info=True)
    assert info["missing_keys"] == ["classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                                    "classifier.out_proj.bias"] and info["unexpected_keys"] == []
    assert back["missing_keys"] == [] and sorted(back["unexpected_keys"]) == ["classifier.bias", "classifier.weight"]


@pytest.mark.parametrize("dtype", ["float64", np.float64, "auto"])
def test_dtype_argument(tmp_path, dtype):
    directory = tmp_path / "ckpt"
    ConvBertForMaskedLM(_config(), rng=0).save_pretrained(directory, dtype=np.float64 if dtype == "auto" else None)
    assert ConvBertForMaskedLM.from_pretrained(directory, dtype=dtype).dtype == np.float64


def test_torch_dtype_and_device_names():
    torch = pytest.importorskip("torch")
    model = ConvBertModel(_config(), rng=0)
    assert model.to("cpu") is model and model.cpu() is model and model.to(torch.device("cpu")) is model
    assert model.to(torch.float64).dtype == np.float64
    with pytest.raises(ValueError, match="computes on the CPU with NumPy; got 'cuda'"):
        model.to("cuda")


def test_config_from_the_embedded_checkpoint_and_json_files(tmp_path):
    config = ConvBertConfig.from_pretrained("minconvbert/nano")  # failed before: not a directory
    assert config.vocab_size == 8000
    config.to_json_file(tmp_path / "c.json")
    assert ConvBertConfig.from_json_file(tmp_path / "c.json") == config
    data = json.loads((tmp_path / "c.json").read_text())
    assert {"output_attentions", "output_hidden_states", "return_dict"} <= set(data)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['not_a_field'\]"):
        ConvBertConfig.from_pretrained("minconvbert/nano", not_a_field=1)


def test_fields_are_declared_and_typed():
    import dataclasses

    names = {f.name: f.type for f in dataclasses.fields(ConvBertConfig)}
    assert names["hidden_size"] == "int" and names["pad_token_id"] == "int | None" and len(names) == 28


# ----- embeddings and bookkeeping -------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ConvBertModel] + TASK_CLASSES, ids=lambda c: c.__name__)
def test_embeddings_accessors(cls):
    model = cls(_config(), rng=0)
    assert model.get_input_embeddings() is model.base_model.embeddings.word_embeddings
    head = model.get_output_embeddings()
    assert (head is model.generator_lm_head) if cls is ConvBertForMaskedLM else head is None
    assert cls.main_input_name == "input_ids" and cls.can_generate() is False
    with pytest.raises(NotImplementedError, match="does not upload.*save_pretrained"):
        model.push_to_hub("me/model")


def test_resize_keeps_the_tie_and_untied_heads_resize_too():
    model = ConvBertForMaskedLM(_config(), rng=0)
    model.resize_token_embeddings(50)
    assert model.generator_lm_head.weight is model.convbert.embeddings.word_embeddings.weight
    assert model.generator_lm_head.bias.shape == (50,) and model(np.array([[45, 49]])).logits.shape == (1, 2, 50)
    untied = ConvBertForMaskedLM(_config(tie_word_embeddings=False), rng=0)
    assert untied.generator_lm_head.weight is not untied.convbert.embeddings.word_embeddings.weight
    untied.resize_token_embeddings(30)
    assert untied.generator_lm_head.weight.shape == (30, 8) and untied.config.vocab_size == 30


def test_num_parameters_only_trainable_and_without_embeddings():
    model = ConvBertModel(_config(), rng=0)
    total = model.num_parameters()
    embeddings = sum(m.weight.size for m in model.modules() if isinstance(m, minconvbert.nn.Embedding))
    assert model.num_parameters(exclude_embeddings=True) == total - embeddings
    model.embeddings.requires_grad_(False)
    assert model.num_parameters(only_trainable=True) == total - model.embeddings.num_parameters()


def test_masked_logits_are_the_rows_of_the_full_logits():
    model = ConvBertForMaskedLM(_config(), rng=0).eval()
    labels = np.full(IDS.shape, -100)
    labels[0, 1], labels[1, 3] = 5, 7
    logits, targets = model.masked_logits(input_ids=IDS, labels=labels, attention_mask=MASK)
    full = model(IDS, attention_mask=MASK).logits.data
    np.testing.assert_allclose(logits.data, full[labels != -100], atol=1e-6)
    assert targets.tolist() == [5, 7]


def test_masked_lm_loss_with_every_label_ignored_is_nan_and_leaves_zero_gradients_as_in_torch():
    """The loss reads the labelled rows alone: with none, it is 0/0 = nan (torch's value too) and backward
    still runs, giving the weights zero gradients; an out-of-range label still raises."""
    model = ConvBertForMaskedLM(_config(), rng=0)
    output = model(IDS, labels=np.full(IDS.shape, -100))
    assert np.isnan(output.loss.item()) and output.logits.shape == IDS.shape + (model.config.vocab_size,)
    output.loss.backward()
    assert not np.any(model.generator_lm_head.weight.grad)
    labels = np.full(IDS.shape, -100)
    labels[0, 0] = model.config.vocab_size
    with pytest.raises(ValueError, match=f"target {model.config.vocab_size} is outside"):
        model(IDS, labels=labels)


# ----- inputs -------------------------------------------------------------------------------------
def test_positional_arguments_follow_transformers_order():
    model = convbert.ConvBertForSequenceClassification(_config(), rng=0).eval()
    np.testing.assert_array_equal(model(IDS, MASK).logits.data, model(IDS, attention_mask=MASK).logits.data)


def test_inputs_of_any_array_kind():
    model = ConvBertModel(_config(), rng=0).eval()
    expected = model(IDS, attention_mask=MASK).last_hidden_state.data
    np.testing.assert_array_equal(model(IDS.tolist(), attention_mask=MASK.tolist()).last_hidden_state.data, expected)
    np.testing.assert_array_equal(model(minconvbert.Tensor(IDS)).last_hidden_state.data,
                                  model(IDS).last_hidden_state.data)
    with pytest.raises(TypeError, match="input_ids: expected an array"):
        model([[1, 2], [3]])


def test_torch_tensors_as_inputs():
    torch = pytest.importorskip("torch")
    model = convbert.ConvBertForSequenceClassification(_config(), rng=0).eval()
    expected = model(IDS, attention_mask=MASK, labels=np.array([1, 0]))
    out = model(torch.tensor(IDS), attention_mask=torch.tensor(MASK), labels=torch.tensor([1, 0]))
    np.testing.assert_array_equal(out.logits.data, expected.logits.data)
    assert out.loss.item() == expected.loss.item()


@pytest.mark.parametrize("mask,message", [
    (np.array([[1, 1, 2, 1, 1], [1, 1, 1, 0, 0]]), "values must be 1 .* or 0 .*, got 2"),
    (np.array([[1, 1, 1, 1, 1], [1, 1, 1, -1, 0]]), ".*got -1"),
    (np.array([[1.0, 1, 1, 1, 0.5], [1, 1, 1, 1, 1]]), ".*got 0.5"),
])
def test_attention_mask_values_are_checked(mask, message):
    """Before: a 2 added 2 * finfo.min (-6.8e38, ~-inf in float32) to the scores without a word."""
    with pytest.raises(ValueError, match=f"attention_mask: {message}"):
        ConvBertModel(_config(), rng=0)(IDS, attention_mask=mask)


def test_boolean_and_float_masks_are_accepted():
    model = ConvBertModel(_config(), rng=0).eval()
    expected = model(IDS, attention_mask=MASK).last_hidden_state.data
    for mask in (MASK.astype(bool), MASK.astype(np.float32)):
        np.testing.assert_array_equal(model(IDS, attention_mask=mask).last_hidden_state.data, expected)


def test_docstring_examples_run():
    from minconvbert.models.convbert import config, heads, modeling

    for module in (config, heads, modeling):
        failed, attempted = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
        assert attempted > 0 and failed == 0, module.__name__
