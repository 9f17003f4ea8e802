"""The TFConvBert* classes against transformers 4.57.6's TF classes, on the tf_model.h5 files they wrote.

Fixtures: tests/fixtures/tf/h5_<task>/ (scripts/make_tf_fixtures.py, run with TensorFlow 2.21). Each
class must load the file, return the reference's outputs (float32, within 1e-5), losses included,
write a file of the same layout, and hand its weights on to transformers' PyTorch classes.
"""

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("h5py", reason="tf_model.h5 needs h5py: pip install minconvbert[tf]")

from minconvbert.io.h5 import KerasH5  # noqa: E402
from minconvbert.models import convbert as ours  # noqa: E402
from minconvbert.models.convbert.tf_weights import tf_class_of  # noqa: E402
from tests.tf_fixtures import H5_TASKS, TF_CLASS, assert_matches, field, reference, unpacked  # noqa: E402

_LOSS_SHAPES = {"model": None, "masked_lm": (1,), "seq": (2,), "seq_regression": (2,), "multiple_choice": (2,),
                "token": (1,), "qa": (2,)}


def _load(task, tmp_path, **kwargs):
    directory = unpacked(f"h5_{task}", tmp_path)
    return getattr(ours, TF_CLASS[task]).from_pretrained(directory, **kwargs), directory


@pytest.mark.parametrize("task", H5_TASKS)
def test_outputs_equal_the_reference_tf_class(task, tmp_path):
    model, _ = _load(task, tmp_path)
    inputs, expected = reference(f"h5_{task}")
    outputs = model(inputs, output_hidden_states=True, output_attentions=True)
    assert set(expected) >= {"loss"} or task == "model"
    assert_matches(outputs, expected)
    if _LOSS_SHAPES[task]:
        assert outputs.loss.shape == _LOSS_SHAPES[task]  # the TF classes' loss shapes


def test_calling_conventions(tmp_path):
    model, _ = _load("masked_lm", tmp_path)
    inputs, expected = reference("h5_masked_lm")
    ids, mask, types = inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]
    want = expected["logits"]
    calls = [
        model({"input_ids": ids, "attention_mask": mask, "token_type_ids": types}),
        model([ids, mask, types]),
        model((ids, mask, types)),
        model(ids, mask, types),
        model(ids, attention_mask=mask, token_type_ids=types),
        model(input_ids=ids, attention_mask=mask, token_type_ids=types),
        model.call({"input_ids": ids, "attention_mask": mask, "token_type_ids": types}),
    ]
    for outputs in calls:
        np.testing.assert_allclose(outputs.logits.numpy(), want, atol=1e-5, rtol=1e-5)
    as_tuple = model([ids, mask, types], return_dict=False)
    assert isinstance(as_tuple, tuple) and np.allclose(as_tuple[0].numpy(), want, atol=1e-5, rtol=1e-5)
    with_loss = model(dict(inputs), return_dict=False)
    assert with_loss[0].shape == (1,) and np.allclose(with_loss[0].numpy(), expected["loss"], atol=1e-5)


def test_training_flag_turns_dropout_on_for_that_call_only(tmp_path):
    model, _ = _load("model", tmp_path)
    ids = reference("h5_model")[0]["input_ids"]
    evaluated = model(ids).last_hidden_state.numpy()
    trained = model(ids, training=True).last_hidden_state.numpy()
    assert not np.allclose(evaluated, trained)  # hidden_dropout_prob 0.1 acts
    assert not model.training
    np.testing.assert_array_equal(model(ids, training=False).last_hidden_state.numpy(), evaluated)


def test_bad_calls_are_clear_errors(tmp_path):
    model, _ = _load("qa", tmp_path)
    ids = reference("h5_qa")[0]["input_ids"]
    with pytest.raises(TypeError, match=r"unexpected arguments \['labels'\]"):
        model(ids, labels=np.zeros(2, np.int64))
    with pytest.raises(TypeError, match="'attention_mask' given twice"):
        model({"input_ids": ids, "attention_mask": np.ones_like(ids)}, attention_mask=np.ones_like(ids))
    with pytest.warns(UserWarning, match=r"inputs \['offset_mapping'\] are not arguments of the call; ignored"):
        model({"input_ids": ids, "offset_mapping": np.zeros((*ids.shape, 2))})
    with pytest.raises(TypeError, match="positional arguments after a dict"):
        model({"input_ids": ids}, np.ones_like(ids))
    with pytest.raises(ValueError, match=r"start_positions: label 7 is outside \[0, 7\)"):
        model(ids, start_positions=np.array([7, 0]), end_positions=np.array([1, 1]))


def test_configs_the_tf_classes_cannot_run_are_refused():
    config = ours.ConvBertConfig(vocab_size=30, hidden_size=16, num_attention_heads=4, head_ratio=1,
                                 intermediate_size=32, num_hidden_layers=1)
    with pytest.raises(ValueError, match="num_attention_heads is twice that"):
        ours.TFConvBertModel(config)
    ours.ConvBertModel(config)  # the PyTorch-named class computes it


def test_pytorch_named_classes_load_a_folder_with_only_tf_model_h5(tmp_path):
    directory = unpacked("h5_masked_lm", tmp_path)
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "reference.npz", "tf_model.h5"]
    inputs, expected = reference("h5_masked_lm")
    model = ours.ConvBertForMaskedLM.from_pretrained(directory, strict=True)
    logits = model(**{k: v for k, v in inputs.items() if k != "labels"}).logits.numpy()
    np.testing.assert_allclose(logits, expected["logits"], atol=1e-5, rtol=1e-5)
    with pytest.warns(UserWarning, match="unexpected keys"):  # the MLM head, ignored
        bare = ours.ConvBertModel.from_pretrained(directory)
    with pytest.warns(UserWarning, match=r"unexpected weights \['generator_predictions.LayerNorm.weight'"):
        encoder = ours.TFConvBertModel.from_pretrained(directory)
    for a, b in ((bare, encoder), (encoder, model.convbert)):
        np.testing.assert_array_equal(a(inputs["input_ids"]).last_hidden_state.numpy(),
                                      b(inputs["input_ids"]).last_hidden_state.numpy())


def test_task_class_from_a_bare_encoder_initialises_its_head(tmp_path):
    directory = unpacked("h5_model", tmp_path)
    with pytest.warns(UserWarning, match=r"missing keys \['classifier.dense.weight'"):
        model = ours.TFConvBertForSequenceClassification.from_pretrained(directory, rng=0)
    assert np.abs(model.classifier.dense.weight.numpy()).max() > 0
    with pytest.raises(KeyError, match="missing keys"):
        ours.TFConvBertForSequenceClassification.from_pretrained(directory, strict=True)


def _layout(path):
    """{layer (Keras's dropout_N as dropout): sorted [(weight name, shape)]}, in layer order."""
    with KerasH5(path) as f:
        return [("dropout" if name.startswith("dropout") else name, sorted((w, f.shape(name, w)) for w in f.weight_names(name)))
                for name in f.layer_names]


@pytest.mark.parametrize("task", H5_TASKS)
def test_save_pretrained_writes_transformers_layout(task, tmp_path):
    model, directory = _load(task, tmp_path)
    out = model.save_pretrained(tmp_path / "saved")
    assert _layout(out / "tf_model.h5") == _layout(directory / "tf_model.h5")
    assert tf_class_of(out / "tf_model.h5") == TF_CLASS[task]
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == [TF_CLASS[task][2:]]  # as transformers' TF classes write it
    again = type(model).from_pretrained(out, strict=True)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name], value, err_msg=name)


@pytest.mark.parametrize("task", H5_TASKS)
def test_round_trip_to_transformers_pytorch(task, tmp_path):
    """h5 -> ours -> safetensors -> transformers' PyTorch class: the reference TF class's numbers."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pt_name = TF_CLASS[task][2:]
    directory = unpacked(f"h5_{task}", tmp_path)
    getattr(ours, pt_name).from_pretrained(directory, strict=True).save_pretrained(tmp_path / "pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference_model = getattr(transformers, pt_name).from_pretrained(tmp_path / "pt", dtype=torch.float32).eval()
    inputs, expected = reference(f"h5_{task}")
    labels = ("labels", "start_positions", "end_positions")
    args = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items() if k not in labels}
    with torch.no_grad():
        outputs = reference_model(**args, output_hidden_states=True, output_attentions=True)
    for key, want in expected.items():
        if key != "loss":  # PyTorch classes reduce their losses differently
            np.testing.assert_allclose(field(outputs, key), want, atol=1e-5, rtol=1e-5, err_msg=key)


def test_h5py_missing_is_a_clear_error(tmp_path, monkeypatch):
    directory = unpacked("h5_model", tmp_path)
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(ImportError, match=r"needs h5py.*pip install minconvbert\[tf\]"):
        ours.TFConvBertModel.from_pretrained(directory)
    with pytest.raises(ImportError, match=r"pip install minconvbert\[tf\]"):
        ours.ConvBertModel.from_pretrained(directory)


def test_convert_command_turns_tf_model_h5_into_safetensors(tmp_path, capsys):
    from minconvbert.__main__ import main

    directory = unpacked("h5_token", tmp_path)
    assert main(["convert", str(directory), str(tmp_path / "out"), "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "config.json").read_text())["architectures"] == ["ConvBertForTokenClassification"]
    inputs, expected = reference("h5_token")
    model = ours.ConvBertForTokenClassification.from_pretrained(tmp_path / "out", strict=True)
    logits = model(**{k: v for k, v in inputs.items() if k != "labels"}).logits.numpy()
    np.testing.assert_allclose(logits, expected["logits"], atol=1e-5, rtol=1e-5)
