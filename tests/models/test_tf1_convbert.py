"""The original release's TF1 checkpoints in our models: against transformers' converter's outputs.

Fixtures: tests/fixtures/tf/tf1_<case>/ (written by tf.compat.v1.train.Saver with the original code's
variable names; scripts/make_tf_fixtures.py). The discriminator must equal what
transformers' `load_tf_weights_in_convbert` + ConvBertModel give; the generator what the same
converter on the generator's scope plus the original MLM head gives.
"""

import json
import warnings

import numpy as np
import pytest

from minconvbert.__main__ import main
from minconvbert.io.tf1 import TF1CheckpointError
from minconvbert.models import convbert as ours
from minconvbert.models.convbert.convert import convert_checkpoint
from minconvbert.models.convbert.pretraining import ConvBertForPreTraining
from minconvbert.models.convbert.tf1_weights import config_from_tf1, load_tf_weights_in_convbert, tf1_name
from tests.io import tf1_builder as B
from tests.tf_fixtures import TF1_CASES, reference, unpacked

_SIZES = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "heads_per_kind", "intermediate_size",
          "conv_kernel_size", "num_groups", "max_position_embeddings", "type_vocab_size")


def _config(directory, name="config.json"):
    return ours.ConvBertConfig(**json.loads((directory / name).read_text()))


@pytest.mark.parametrize("case", TF1_CASES)
def test_discriminator_equals_transformers_converter(case, tmp_path):
    directory = unpacked(case, tmp_path)
    inputs, expected = reference(case)
    model = load_tf_weights_in_convbert(ours.ConvBertModel(_config(directory)), None, directory).eval()
    outputs = model(**inputs, output_hidden_states=True)
    np.testing.assert_allclose(outputs.last_hidden_state.numpy(), expected["discriminator.last_hidden_state"],
                               atol=1e-5, rtol=1e-5)
    for i, hidden in enumerate(outputs.hidden_states):
        np.testing.assert_allclose(hidden.numpy(), expected[f"discriminator.hidden_states.{i}"], atol=1e-5, rtol=1e-5)
    head = load_tf_weights_in_convbert(ConvBertForPreTraining(_config(directory)), None, directory / "model.ckpt-0")
    np.testing.assert_allclose(head.eval()(**inputs).logits.numpy(), expected["discriminator.logits"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("case", TF1_CASES)
def test_generator_equals_the_original_mlm(case, tmp_path):
    directory = unpacked(case, tmp_path)
    inputs, expected = reference(case)
    model = ours.ConvBertForMaskedLM(_config(directory, "generator_config.json"))
    load_tf_weights_in_convbert(model, None, directory / "model.ckpt-0.index").eval()
    assert model.generator_lm_head.weight is model.convbert.embeddings.word_embeddings.weight  # still tied
    np.testing.assert_allclose(model(**inputs).logits.numpy(), expected["generator.logits"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("case", TF1_CASES)
@pytest.mark.parametrize("role, config_file", [("discriminator", "config.json"), ("generator", "generator_config.json")])
def test_config_read_from_the_shapes(case, role, config_file, tmp_path):
    directory = unpacked(case, tmp_path)
    inferred, written = config_from_tf1(directory, role), _config(directory, config_file)
    assert {k: getattr(inferred, k) for k in _SIZES} == {k: getattr(written, k) for k in _SIZES}


def test_names_of_the_original_code():
    assert tf1_name("encoder.layer.3.attention.self.key_conv_attn_layer.depthwise.weight", "generator", 1) == \
        "generator/encoder/layer_3/attention/self/conv_attn_key/depthwise_kernel"
    assert tf1_name("convbert.encoder.layer.0.intermediate.dense.weight", "discriminator", 2) == \
        "electra/encoder/layer_0/intermediate/g_dense/kernel"
    assert tf1_name("convbert.embeddings.LayerNorm.weight", "generator", 1) == "electra/embeddings/LayerNorm/gamma"
    assert tf1_name("generator_lm_head.bias", "generator", 1) == "generator_predictions/output_bias"
    assert tf1_name("discriminator_predictions.dense_prediction.weight", "discriminator", 1) == \
        "discriminator_predictions/dense_1/kernel"


def test_task_model_from_the_discriminator_initialises_its_head(tmp_path):
    directory = unpacked("tf1_dense", tmp_path)
    with pytest.warns(UserWarning, match=r"no variables for \['classifier.dense.weight'"):
        model = load_tf_weights_in_convbert(ours.ConvBertForSequenceClassification(_config(directory)), None,
                                            directory, rng=0)
    inputs, expected = reference("tf1_dense")
    np.testing.assert_allclose(model.eval().convbert(**inputs).last_hidden_state.numpy(),
                               expected["discriminator.last_hidden_state"], atol=1e-5, rtol=1e-5)


def test_wrong_config_and_missing_variables(tmp_path):
    directory = unpacked("tf1_grouped", tmp_path)
    wrong = _config(directory)
    wrong.intermediate_size = 64
    with pytest.raises(TF1CheckpointError, match=r"'electra/encoder/layer_0/intermediate/g_dense/kernel' has shape "
                                                 r"\(2, 8, 16\).*model's is \(2, 8, 32\)"):
        load_tf_weights_in_convbert(ours.ConvBertModel(wrong), None, directory)
    deeper = _config(directory)
    deeper.num_hidden_layers = 3
    with pytest.raises(TF1CheckpointError, match="no variable 'electra/encoder/layer_2/attention/self/query/kernel'"):
        load_tf_weights_in_convbert(ours.ConvBertModel(deeper), None, directory)
    with pytest.raises(ValueError, match="scope: expected one of"):
        load_tf_weights_in_convbert(ours.ConvBertModel(_config(directory)), None, directory, scope="electra")


def _single_head_generator(tmp_path):
    """The original 'small' model's generator has one head; its attention output is twice its hidden size."""
    H, K = 8, 3
    shapes = {"electra/embeddings/word_embeddings": (30, H), "electra/embeddings/position_embeddings": (16, H),
              "electra/embeddings/token_type_embeddings": (2, H),
              "generator/encoder/layer_0/attention/self/query/kernel": (H, H),
              "generator/encoder/layer_0/attention/self/conv_attn_key/depthwise_kernel": (K, H, 1),
              "generator/encoder/layer_0/attention/self/conv_attn_kernel/kernel": (H, K),
              "generator/encoder/layer_0/intermediate/dense/bias": (4 * H,)}
    return B.write(tmp_path, *B.bundle({k: np.zeros(s, np.float32) for k, s in shapes.items()}))


def test_a_generator_no_config_can_express_is_refused(tmp_path):
    with pytest.raises(TF1CheckpointError, match="needs the heads to fill half the hidden size"):
        config_from_tf1(_single_head_generator(tmp_path), "generator")
    with pytest.raises(TF1CheckpointError, match="no complete electra/encoder/layer_0..N"):
        config_from_tf1(_single_head_generator(tmp_path), "discriminator")


@pytest.mark.parametrize("generator", [False, True])
def test_convert_command_writes_what_transformers_loads(generator, tmp_path, capsys):
    directory = unpacked("tf1_grouped", tmp_path)
    out = tmp_path / "converted"
    args = [str(directory / "model.ckpt-0"), str(out), "--quiet"] + (["--generator"] if generator else [])
    assert main(["convert", *args]) == 0
    assert "wrote" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["ConvBertForMaskedLM" if generator else "ConvBertModel"]
    inputs, expected = reference("tf1_grouped")
    cls = ours.ConvBertForMaskedLM if generator else ours.ConvBertModel
    model = cls.from_pretrained(out, strict=True)
    got = model(**inputs).logits if generator else model(**inputs).last_hidden_state
    want = expected["generator.logits" if generator else "discriminator.last_hidden_state"]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5, rtol=1e-5)
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference_model = getattr(transformers, cls.__name__).from_pretrained(out, dtype=torch.float32).eval()
    with torch.no_grad():
        outputs = reference_model(**{k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()})
    got = outputs.logits if generator else outputs.last_hidden_state
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5, rtol=1e-5)


def test_convert_with_an_explicit_config_and_progress(tmp_path, capsys):
    directory = unpacked("tf1_dense", tmp_path)
    report = convert_checkpoint(directory, tmp_path / "out", config=directory / "config.json", progress=True)
    assert report.n_tensors == len(ours.ConvBertModel(_config(directory)).state_dict())
    assert "reading model.ckpt-0" in capsys.readouterr().err
    wrong = directory / "wrong.json"
    wrong.write_text(json.dumps({**json.loads((directory / "config.json").read_text()), "hidden_size": 32}))
    with pytest.raises(TF1CheckpointError, match="no variable 'electra/embeddings_project/kernel'.*config.json's sizes"):
        convert_checkpoint(directory, tmp_path / "out2", config=wrong, progress=False)
