"""ModelTesterMixin's saving and loading tests, ported (see modeling_common)."""

from __future__ import annotations

import collections
import os
import tempfile
import warnings

import numpy as np
import pytest

from minconvbert import AutoModel, AutoModelForSequenceClassification, no_grad
from tests.compat.common import SEQUENCE_CLASSIFICATION, MixinBase, config_zero_init, without_nan, ids_tensor


class CheckpointTests(MixinBase):
    def test_save_load(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()

        def check_save_load(out1, out2):
            out_1, out_2 = without_nan(out1), without_nan(out2)
            out_1, out_2 = out_1[~np.isneginf(out_1)], out_2[~np.isneginf(out_2)]
            self.assertLessEqual(np.amax(np.abs(out_1 - out_2)), 1e-5)

        for model_class in self.all_model_classes:
            model = model_class(config)
            model.to("cpu")
            model.eval()
            with no_grad():
                first = model(**self._prepare_for_class(inputs_dict, model_class))[0]
            with tempfile.TemporaryDirectory() as tmpdirname:
                model.save_pretrained(tmpdirname)
                self.assertTrue(os.path.exists(os.path.join(tmpdirname, "config.json")))
                self.assertEqual(model.can_generate(),
                                 os.path.exists(os.path.join(tmpdirname, "generation_config.json")))
                model = model_class.from_pretrained(tmpdirname)
                with no_grad():
                    second = model(**self._prepare_for_class(inputs_dict, model_class))[0]
            check_save_load(first, second)

    def test_from_pretrained_no_checkpoint(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            state_dict = model.state_dict()
            new_model = model_class.from_pretrained(pretrained_model_name_or_path=None, config=config,
                                                    state_dict=state_dict)
            for p1, p2 in zip(model.parameters(), new_model.parameters()):
                self.assertTrue(np.array_equal(p1.data, p2.data))

    def test_torch_save_load(self):
        """A state dict written by torch.save reads back equal (upstream: with transformers' load_state_dict;
        here with minconvbert's torch-free reader). Upstream also writes the legacy pre-1.6 format
        (_use_new_zipfile_serialization=False): minconvbert refuses that format by design (it pickles
        storages inline), so only the zip format is checked."""
        torch = pytest.importorskip("torch", reason="torch.save writes the file: the reference stack "
                                    "(pip install torch==2.13.0) is not installed")

        from minconvbert.io import torch_pickle

        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            state_dict = model_class(config).state_dict()
            with tempfile.TemporaryDirectory() as tmpdirname:
                path = os.path.join(tmpdirname, "pytorch_model.bin")
                torch.save({k: torch.tensor(v) for k, v in state_dict.items()}, path,
                           _use_new_zipfile_serialization=True)
                loaded = torch_pickle.load_file(path)
            for key, value in state_dict.items():
                self.assertLessEqual(np.max(np.abs(value - loaded[key])), 1e-6, msg=f"{key} not identical")

    def test_correct_missing_keys(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            prefix = model.base_model_prefix
            if hasattr(model, prefix):
                extra_params = {k: v for k, v in model.named_parameters() if not k.startswith(prefix)}
                extra_params.update({k: v for k, v in model.named_buffers() if not k.startswith(prefix)})
                if not extra_params:
                    continue
                with tempfile.TemporaryDirectory() as temp_dir_name:
                    model.base_model.save_pretrained(temp_dir_name)
                    model, loading_info = model_class.from_pretrained(temp_dir_name, output_loading_info=True)
                    self.assertGreater(len(loading_info["missing_keys"]), 0, model.__class__.__name__)

    def test_can_use_safetensors(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model_tied = model_class(config)
            with tempfile.TemporaryDirectory() as d:
                model_tied.save_pretrained(d, safe_serialization=True)
                model_reloaded, infos = model_class.from_pretrained(d, output_loading_info=True)
                reloaded_state = model_reloaded.state_dict()
                for k, v in model_tied.state_dict().items():
                    self.assertIn(k, reloaded_state, f"Key {k} is missing from reloaded")
                    np.testing.assert_allclose(v, reloaded_state[k], err_msg=f"{model_class.__name__}: {k}")
                self.assertEqual(infos["missing_keys"], [])
                shared = collections.defaultdict(list)  # upstream groups by data_ptr(): arrays shared by names
                for k, v in model_tied.state_dict().items():
                    shared[id(v)].append(k)
                for names in (names for names in shared.values() if len(names) > 1):
                    self.assertEqual(len({id(reloaded_state[k]) for k in names}), 1,
                                     f"The shared pointers are incorrect, found different pointers for keys {names}")

    def test_load_save_without_tied_weights(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        config.tie_word_embeddings = False
        for model_class in self.all_model_classes:
            model = model_class(config)
            with tempfile.TemporaryDirectory() as d:
                model.save_pretrained(d)
                model_reloaded, infos = model_class.from_pretrained(d, output_loading_info=True)
                reloaded_state = model_reloaded.state_dict()
                for k, v in model.state_dict().items():
                    self.assertIn(k, reloaded_state, f"Key {k} is missing from reloaded")
                    np.testing.assert_allclose(v, reloaded_state[k], err_msg=f"{model_class.__name__}: {k}")
                self.assertEqual(infos["missing_keys"], [])

    def test_model_weights_reload_no_missing_tied_weights(self):
        from minconvbert.io import safetensors

        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            with tempfile.TemporaryDirectory() as tmp_dir:
                model.save_pretrained(tmp_dir)
                # every weight on file replaced by a placeholder: every parameter must be reported missing
                safetensors.save_file({"tensor": np.array([1, 2])}, os.path.join(tmp_dir, "model.safetensors"),
                                      {"format": "pt"})
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model_reloaded, infos = model_class.from_pretrained(tmp_dir, output_loading_info=True)
                prefix = f"{model_reloaded.base_model_prefix}."
                params = dict(model_reloaded.named_parameters())
                params.update(dict(model_reloaded.named_buffers()))
                param_names = {k[len(prefix):] if k.startswith(prefix) else k for k in params}
                missing_keys = set(infos["missing_keys"])
                extra_missing = missing_keys - param_names
                shared = collections.defaultdict(list)
                for name, tensor in model_reloaded.state_dict().items():
                    shared[id(tensor)].append(name)
                for group in (names for names in shared.values() if len(names) > 1):
                    group = {k[len(prefix):] if k.startswith(prefix) else k for k in group}
                    if len(group - extra_missing) > 0:
                        extra_missing = extra_missing - set(group)
                self.assertEqual(extra_missing, set(), f"{model_class.__name__} reports too many missing keys")
                missed_missing = param_names - missing_keys
                self.assertEqual(missed_missing, set(), f"{model_class.__name__} ignores keys {missed_missing}")

    def test_load_with_mismatched_shapes(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            if model_class.__name__ not in SEQUENCE_CLASSIFICATION:
                continue
            with tempfile.TemporaryDirectory() as tmp_dir:
                model = model_class(config)
                model.save_pretrained(tmp_dir)
                with self.assertRaises(RuntimeError):
                    AutoModelForSequenceClassification.from_pretrained(tmp_dir, num_labels=42)
                with self.assertRaises(RuntimeError):
                    AutoModel.from_pretrained(tmp_dir, vocab_size=10)
                # upstream captures transformers' logger; minconvbert warns
                with self.assertWarnsRegex(UserWarning, "the shapes did not match"):
                    new_model = AutoModelForSequenceClassification.from_pretrained(tmp_dir, num_labels=42,
                                                                                   ignore_mismatched_sizes=True)
                logits = new_model(**self._prepare_for_class(inputs_dict, model_class)).logits
                self.assertEqual(logits.shape[1], 42)
                with self.assertWarnsRegex(UserWarning, "the shapes did not match"):
                    new_model_without_prefix = AutoModel.from_pretrained(tmp_dir, vocab_size=10,
                                                                         ignore_mismatched_sizes=True)
                input_ids = ids_tensor((2, 8), 10)
                new_model_without_prefix(input_ids)

    def test_mismatched_shapes_have_properly_initialized_weights(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        configs_no_init = config_zero_init(config)
        for model_class in self.all_model_classes:
            if model_class.__name__ not in SEQUENCE_CLASSIFICATION:
                continue
            with tempfile.TemporaryDirectory() as tmp_dir:
                model = model_class(configs_no_init)
                model.save_pretrained(tmp_dir)
                with self.assertRaises(RuntimeError):
                    model_class.from_pretrained(tmp_dir, num_labels=42)
                with self.assertWarnsRegex(UserWarning, "the shapes did not match"):
                    new_model = model_class.from_pretrained(tmp_dir, num_labels=42, ignore_mismatched_sizes=True)
                for name, param in new_model.named_parameters():
                    if param.requires_grad:
                        param_mean = float(np.round(param.data.mean() * 1e9) / 1e9)
                        self.assertIn(param_mean, [0.0, 1.0],
                                      msg=f"Parameter {name} of model {model_class} seems not properly initialized")
