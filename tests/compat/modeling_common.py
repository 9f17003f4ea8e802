"""The public-API half of transformers' ModelTesterMixin (tests/test_modeling_common.py), ported to minconvbert.

Upstream's tests, assertions and tolerances, in our code: NumPy arrays where upstream builds torch
tensors, minconvbert.no_grad / manual_seed for torch's, warnings where upstream captures its logger.
Every upstream test of the mixin is either here or in DROPPED below, with the reason. Where an
assertion had to change, the comment at the test says how and why.
"""

from __future__ import annotations

import collections
import copy
import inspect
import os
import tempfile
import warnings

import numpy as np

import minconvbert as mc
from minconvbert import AutoModel, AutoModelForSequenceClassification, nn, no_grad

DROPPED = {
    # torch internals: jit, fx, compile, devices, attention implementations
    "test_torchscript_simple": "torch.jit tracing",
    "test_torchscript_output_attentions": "torch.jit tracing",
    "test_torchscript_output_hidden_state": "torch.jit tracing",
    "test_torch_fx": "torch.fx tracing (upstream: fx_compatible is False for ConvBERT)",
    "test_torch_fx_output_loss": "torch.fx tracing (upstream: fx_compatible is False for ConvBERT)",
    "test_torch_compile_for_training": "torch.compile",
    "test_multi_gpu_data_parallel_forward": "several GPUs (nn.DataParallel)",
    "test_model_parallelization": "several GPUs",
    "test_model_parallel_equal_results": "several GPUs",
    "test_disk_offload_bin": "accelerate device maps (GPU)",
    "test_disk_offload_safetensors": "accelerate device maps (GPU)",
    "test_cpu_offload": "accelerate device maps (GPU)",
    "test_model_parallelism": "accelerate device maps (several accelerators)",
    "test_save_load_low_cpu_mem_usage": "accelerate's meta-device loading",
    "test_save_load_low_cpu_mem_usage_checkpoints": "accelerate's meta-device loading",
    "test_save_load_low_cpu_mem_usage_no_safetensors": "accelerate's meta-device loading",
    "test_flash_attn_2_inference_equivalence": "Flash Attention 2 (GPU)",
    "test_flash_attn_2_inference_equivalence_right_padding": "Flash Attention 2 (GPU)",
    "test_flash_attn_2_can_dispatch_composite_models": "Flash Attention 2 (GPU)",
    "test_flash_attn_2_fp32_ln": "Flash Attention 2 (GPU)",
    "test_flash_attention_2_padding_matches_padding_free_with_position_ids": "Flash Attention 2 (GPU)",
    "test_flash_attn_2_from_config": "Flash Attention 2 (GPU)",
    "test_sdpa_can_dispatch_non_composite_models": "torch's SDPA attention implementation",
    "test_sdpa_can_dispatch_composite_models": "torch's SDPA attention implementation",
    "test_eager_matches_sdpa_inference_0_float16": "torch's SDPA attention implementation",
    "test_eager_matches_sdpa_inference_1_bfloat16": "torch's SDPA attention implementation",
    "test_eager_matches_sdpa_inference_2_float32": "torch's SDPA attention implementation",
    "test_sdpa_can_dispatch_on_flash": "torch's SDPA attention implementation (GPU)",
    "test_sdpa_can_compile_dynamic": "torch's SDPA + torch.compile",
    "test_sdpa_matches_eager_sliding_window": "torch's SDPA (generative models only)",
    "test_attn_implementation_composite_models": "attention implementations of composite models",
    "test_gradient_checkpointing_backward_compatibility": "gradient checkpointing",
    "test_gradient_checkpointing_enable_disable": "gradient checkpointing",
    "test_peft_gradient_checkpointing_enable_disable": "gradient checkpointing (PEFT)",
    "test_training_gradient_checkpointing": "gradient checkpointing",
    "test_training_gradient_checkpointing_use_reentrant": "gradient checkpointing",
    "test_training_gradient_checkpointing_use_reentrant_false": "gradient checkpointing",
    "test_resize_tokens_embeddings_with_deepspeed": "DeepSpeed ZeRO-3 (GPU)",
    "test_resize_tokens_embeddings_with_deepspeed_multi_gpu": "DeepSpeed ZeRO-3 (several GPUs)",
    "test_resize_embeddings_untied_with_deepspeed": "DeepSpeed ZeRO-3 (GPU)",
    "test_resize_embeddings_untied_with_deepspeed_multi_gpu": "DeepSpeed ZeRO-3 (several GPUs)",
    # other frameworks
    "test_pt_tf_model_equivalence": "TensorFlow models",
    "test_tf_from_pt_safetensors": "TensorFlow models",
    "test_equivalence_pt_to_flax": "Flax models",
    "test_equivalence_flax_to_pt": "Flax models",
    "test_flax_from_pt_safetensors": "Flax models",
    # PreTrainedModel's private machinery
    "test_save_load_fast_init_from_base": "mocks PreTrainedModel's private _init_weights / _fast_init hooks",
    "test_save_load_fast_init_to_base": "mocks PreTrainedModel's private _init_weights / _fast_init hooks",
    "test_matched_shapes_have_loaded_weights_when_some_mismatched_shapes_exist":
        "subclasses PreTrainedModel with a bare PretrainedConfig and its private _init_weights hook",
    "test_keep_in_fp32_modules": "private _keep_in_fp32_modules (upstream skips it for ConvBERT)",
    "test_save_load_keys_to_ignore_on_save": "private _keys_to_ignore_on_save (ConvBERT sets none: upstream "
                                             "asserts nothing for it)",
    "test_tied_weights_keys": "private _tied_weights_keys table",
    # switched off by upstream for ConvBERT, or for generative models only
    "test_headmasking": "upstream sets test_head_masking = False for ConvBERT",
    "test_head_pruning": "upstream sets test_pruning = False for ConvBERT (no prune_heads)",
    "test_head_pruning_save_load_from_pretrained": "upstream sets test_pruning = False for ConvBERT",
    "test_head_pruning_save_load_from_config_init": "upstream sets test_pruning = False for ConvBERT",
    "test_head_pruning_integration": "upstream sets test_pruning = False for ConvBERT",
    "test_resize_position_vector_embeddings": "upstream sets test_resize_position_embeddings = False",
    "test_custom_4d_attention_mask": "generative model classes only (ConvBERT has none; upstream skips)",
    "test_forward_with_num_logits_to_keep": "generative model classes only (ConvBERT has none)",
}

# The mixin's tests upstream (tests/test_modeling_common.py at commit 3719481c), ported here or dropped above.
UPSTREAM_TESTS = (
    "test_save_load", "test_from_pretrained_no_checkpoint", "test_keep_in_fp32_modules",
    "test_save_load_keys_to_ignore_on_save", "test_gradient_checkpointing_backward_compatibility",
    "test_gradient_checkpointing_enable_disable", "test_peft_gradient_checkpointing_enable_disable",
    "test_save_load_fast_init_from_base", "test_save_load_low_cpu_mem_usage",
    "test_save_load_low_cpu_mem_usage_checkpoints", "test_save_load_low_cpu_mem_usage_no_safetensors",
    "test_save_load_fast_init_to_base", "test_torch_save_load", "test_initialization", "test_determinism",
    "test_batching_equivalence", "test_training", "test_training_gradient_checkpointing",
    "test_training_gradient_checkpointing_use_reentrant", "test_training_gradient_checkpointing_use_reentrant_false",
    "test_attention_outputs", "test_torchscript_simple", "test_torchscript_output_attentions",
    "test_torchscript_output_hidden_state", "test_torch_fx", "test_torch_fx_output_loss", "test_headmasking",
    "test_head_pruning", "test_head_pruning_save_load_from_pretrained", "test_head_pruning_save_load_from_config_init",
    "test_head_pruning_integration", "test_hidden_states_output", "test_retain_grad_hidden_states_attentions",
    "test_feed_forward_chunking", "test_resize_position_vector_embeddings", "test_resize_tokens_embeddings",
    "test_resize_tokens_embeddings_with_deepspeed", "test_resize_tokens_embeddings_with_deepspeed_multi_gpu",
    "test_resize_embeddings_untied", "test_resize_embeddings_untied_with_deepspeed",
    "test_resize_embeddings_untied_with_deepspeed_multi_gpu", "test_model_get_set_embeddings",
    "test_model_main_input_name", "test_correct_missing_keys", "test_tie_model_weights", "test_can_use_safetensors",
    "test_load_save_without_tied_weights", "test_tied_weights_keys", "test_model_weights_reload_no_missing_tied_weights",
    "test_model_outputs_equivalence", "test_pt_tf_model_equivalence", "test_equivalence_pt_to_flax",
    "test_equivalence_flax_to_pt", "test_inputs_embeds", "test_inputs_embeds_matches_input_ids",
    "test_multi_gpu_data_parallel_forward", "test_model_parallelization", "test_model_parallel_equal_results",
    "test_disk_offload_bin", "test_disk_offload_safetensors", "test_cpu_offload", "test_model_parallelism",
    "test_problem_types", "test_load_with_mismatched_shapes", "test_mismatched_shapes_have_properly_initialized_weights",
    "test_matched_shapes_have_loaded_weights_when_some_mismatched_shapes_exist", "test_model_is_small",
    "test_flash_attn_2_inference_equivalence", "test_flash_attn_2_inference_equivalence_right_padding",
    "test_attn_implementation_composite_models", "test_sdpa_can_dispatch_non_composite_models",
    "test_sdpa_can_dispatch_composite_models", "test_eager_matches_sdpa_inference_0_float16",
    "test_eager_matches_sdpa_inference_1_bfloat16", "test_eager_matches_sdpa_inference_2_float32",
    "test_sdpa_can_dispatch_on_flash", "test_sdpa_can_compile_dynamic", "test_sdpa_matches_eager_sliding_window",
    "test_flash_attn_2_can_dispatch_composite_models", "test_flash_attn_2_fp32_ln",
    "test_flash_attention_2_padding_matches_padding_free_with_position_ids", "test_tf_from_pt_safetensors",
    "test_flax_from_pt_safetensors", "test_flash_attn_2_from_config", "test_custom_4d_attention_mask",
    "test_torch_compile_for_training", "test_forward_with_num_logits_to_keep",
)

MULTIPLE_CHOICE = ("ConvBertForMultipleChoice",)
QUESTION_ANSWERING = ("ConvBertForQuestionAnswering",)
SEQUENCE_CLASSIFICATION = ("ConvBertForSequenceClassification",)
TOKEN_LEVEL = ("ConvBertForTokenClassification", "ConvBertForMaskedLM")
BASE_MODELS = ("ConvBertModel",)


def _config_zero_init(config):
    """A copy of `config` whose initializer ranges are 1e-10, so every weight is ~0 (or 1 for LayerNorm)."""
    configs_no_init = copy.deepcopy(config)
    for key in list(configs_no_init.__dict__):
        if "_range" in key or "_std" in key or "initializer_factor" in key or "layer_scale" in key:
            setattr(configs_no_init, key, 1e-10)
    return configs_no_init


def _array(x):
    return np.asarray(x.data if isinstance(x, mc.Tensor) else x)


def _without_nan(x):
    x = np.array(_array(x), dtype=np.float64)
    x[np.isnan(x)] = 0
    return x


class ModelTesterMixin:
    model_tester = None
    all_model_classes = ()
    has_attentions = True

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = copy.deepcopy(inputs_dict)
        tester = self.model_tester
        if model_class.__name__ in MULTIPLE_CHOICE:  # (B, T) -> (B, num_choices, T)
            inputs_dict = {k: np.repeat(v[:, None], tester.num_choices, axis=1)
                           if isinstance(v, np.ndarray) and v.ndim > 1 else v for k, v in inputs_dict.items()}
        if return_labels:
            if model_class.__name__ in MULTIPLE_CHOICE:
                inputs_dict["labels"] = np.ones(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in QUESTION_ANSWERING:
                inputs_dict["start_positions"] = np.zeros(tester.batch_size, dtype=np.int64)
                inputs_dict["end_positions"] = np.zeros(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in SEQUENCE_CLASSIFICATION:
                inputs_dict["labels"] = np.zeros(tester.batch_size, dtype=np.int64)
            elif model_class.__name__ in TOKEN_LEVEL:
                inputs_dict["labels"] = np.zeros((tester.batch_size, tester.seq_length), dtype=np.int64)
        return inputs_dict

    # ----- saving and loading -----------------------------------------------------------------
    def test_save_load(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()

        def check_save_load(out1, out2):
            out_1, out_2 = _without_nan(out1), _without_nan(out2)
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
        import torch

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
        configs_no_init = _config_zero_init(config)
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

    # ----- initialisation, determinism, batching -------------------------------------------------
    def test_initialization(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        configs_no_init = _config_zero_init(config)
        for model_class in self.all_model_classes:
            model = model_class(config=configs_no_init)
            for name, param in model.named_parameters():
                if param.requires_grad:
                    self.assertIn(float(np.round(param.data.mean() * 1e9) / 1e9), [0.0, 1.0],
                                  msg=f"Parameter {name} of model {model_class} seems not properly initialized")

    def test_determinism(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()

        def check_determinism(first, second):
            out_1, out_2 = _array(first), _array(second)
            out_1, out_2 = out_1[~np.isnan(out_1)], out_2[~np.isnan(out_2)]
            out_1, out_2 = out_1[~np.isneginf(out_1)], out_2[~np.isneginf(out_2)]
            self.assertLessEqual(np.amax(np.abs(out_1 - out_2)), 1e-5)

        for model_class in self.all_model_classes:
            model = model_class(config)
            model.eval()
            with no_grad():
                first = model(**self._prepare_for_class(inputs_dict, model_class))[0]
                second = model(**self._prepare_for_class(inputs_dict, model_class))[0]
            check_determinism(first, second)

    def test_batching_equivalence(self):
        """A batch's outputs equal, row for row (max abs difference <= 1e-3), the outputs of its first row alone."""

        def recursive_check(batched_object, single_row_object, model_name, key):
            if isinstance(batched_object, (list, tuple)):
                for batched_value, single_value in zip(batched_object, single_row_object):
                    recursive_check(batched_value, single_value, model_name, key)
            elif batched_object is None or not isinstance(batched_object, mc.Tensor) or batched_object.ndim == 0:
                return  # upstream does not compare the loss (0-d) or non-tensors
            else:
                single = _array(single_row_object)
                batched_row = _array(batched_object)[tuple(slice(0, n) for n in single.shape)]
                for array, what in ((batched_row, "Batched"), (single, "Single row")):
                    self.assertFalse(np.isnan(array).any(), f"{what} output has `nan` in {model_name} for key={key}")
                    self.assertFalse(np.isinf(array).any(), f"{what} output has `inf` in {model_name} for key={key}")
                difference = np.max(np.abs(batched_row - single))
                self.assertTrue(difference <= 1e-03, msg=f"Batched and Single row outputs are not equal in "
                                f"{model_name} for key={key}. Difference={difference}.")

        config, batched_input = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            config.output_hidden_states = True
            batched_input_prepared = self._prepare_for_class(batched_input, model_class)
            model = model_class(config).to("cpu").eval()
            batch_size = self.model_tester.batch_size
            single_row_input = {}
            for key, value in batched_input_prepared.items():
                if isinstance(value, np.ndarray) and value.shape[0] % batch_size == 0:
                    single_row_input[key] = value[: value.shape[0] // batch_size]
                else:
                    single_row_input[key] = value
            with no_grad():
                model_batched_output = model(**batched_input_prepared)
                model_row_output = model(**single_row_input)
            for key in model_batched_output:
                recursive_check(model_batched_output[key], model_row_output[key], model_class.__name__, key)

    def test_model_outputs_equivalence(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()

        def check_equivalence(model, tuple_inputs, dict_inputs, additional_kwargs={}):  # noqa: B006 (upstream's)
            with no_grad():
                tuple_output = model(**tuple_inputs, return_dict=False, **additional_kwargs)
                dict_output = model(**dict_inputs, return_dict=True, **additional_kwargs).to_tuple()

            def recursive_check(tuple_object, dict_object):
                if isinstance(tuple_object, (list, tuple)):
                    for tuple_value, dict_value in zip(tuple_object, dict_object):
                        recursive_check(tuple_value, dict_value)
                elif tuple_object is None:
                    return
                else:
                    self.assertTrue(np.allclose(_without_nan(tuple_object), _without_nan(dict_object), atol=1e-5),
                                    msg="Tuple and dict output are not equal")

            self.assertIsInstance(tuple_output, tuple)
            recursive_check(tuple_output, dict_output)

        for model_class in self.all_model_classes:
            model = model_class(config)
            model.eval()
            for labels in (False, True):
                for extra in ({}, {"output_hidden_states": True}, {"output_attentions": True},
                              {"output_hidden_states": True, "output_attentions": True}):
                    tuple_inputs = self._prepare_for_class(inputs_dict, model_class, return_labels=labels)
                    dict_inputs = self._prepare_for_class(inputs_dict, model_class, return_labels=labels)
                    check_equivalence(model, tuple_inputs, dict_inputs, extra)

    # ----- training -----------------------------------------------------------------------------
    def test_training(self):
        for model_class in self.all_model_classes:
            config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
            config.return_dict = True
            if model_class.__name__ in BASE_MODELS:
                continue
            model = model_class(config)
            model.train()
            loss = model(**self._prepare_for_class(inputs_dict, model_class, return_labels=True)).loss
            loss.backward()

    def test_problem_types(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        problem_types = [
            {"title": "multi_label_classification", "num_labels": 2, "dtype": np.float32},
            {"title": "single_label_classification", "num_labels": 1, "dtype": np.int64},
            {"title": "regression", "num_labels": 1, "dtype": np.float32},
        ]
        for model_class in self.all_model_classes:
            if model_class.__name__ not in SEQUENCE_CLASSIFICATION:
                continue
            for problem_type in problem_types:
                with self.subTest(msg=f"Testing {model_class} with {problem_type['title']}"):
                    config.problem_type = problem_type["title"]
                    config.num_labels = problem_type["num_labels"]
                    model = model_class(config)
                    model.train()
                    inputs = self._prepare_for_class(inputs_dict, model_class, return_labels=True)
                    if problem_type["num_labels"] > 1:
                        inputs["labels"] = np.repeat(inputs["labels"][:, None], problem_type["num_labels"], axis=1)
                    inputs["labels"] = inputs["labels"].astype(problem_type["dtype"])
                    with warnings.catch_warnings(record=True) as warning_list:
                        warnings.simplefilter("always")
                        loss = model(**inputs).loss
                    for w in warning_list:
                        if "Using a target size that is different to the input size" in str(w.message):
                            raise ValueError(f"Something is going wrong in the regression problem: {w.message}")
                    loss.backward()

    # ----- outputs --------------------------------------------------------------------------------
    def test_hidden_states_output(self):
        def check_hidden_states_output(inputs_dict, config, model_class):
            model = model_class(config)
            model.eval()
            with no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            hidden_states = outputs.hidden_states
            self.assertEqual(len(hidden_states), self.model_tester.num_hidden_layers + 1)
            self.assertListEqual(list(hidden_states[0].shape[-2:]),
                                 [self.model_tester.seq_length, self.model_tester.hidden_size])

        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            inputs_dict["output_hidden_states"] = True
            check_hidden_states_output(inputs_dict, config, model_class)
            del inputs_dict["output_hidden_states"]  # the config's setting is honoured too
            config.output_hidden_states = True
            check_hidden_states_output(inputs_dict, config, model_class)

    def test_retain_grad_hidden_states_attentions(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        config.output_hidden_states = True
        config.output_attentions = self.has_attentions
        model_class = self.all_model_classes[0]
        model = model_class(config)
        outputs = model(**self._prepare_for_class(inputs_dict, model_class))
        output = outputs[0]
        hidden_states = outputs.hidden_states[0]
        hidden_states.retain_grad()
        attentions = outputs.attentions[0]
        attentions.retain_grad()
        output.flatten()[0].backward(retain_graph=True)
        self.assertIsNotNone(hidden_states.grad)
        self.assertIsNotNone(attentions.grad)

    def test_feed_forward_chunking(self):
        """chunk_size_feed_forward=1 gives the same outputs (minconvbert accepts the setting and computes the
        feed-forward in one piece: the results are the same by construction, as upstream asserts)."""
        original_config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            mc.manual_seed(0)
            config = copy.deepcopy(original_config)
            model = model_class(config)
            model.eval()
            hidden_states_no_chunk = model(**self._prepare_for_class(inputs_dict, model_class))[0]
            mc.manual_seed(0)
            config.chunk_size_feed_forward = 1
            model = model_class(config)
            model.eval()
            hidden_states_with_chunk = model(**self._prepare_for_class(inputs_dict, model_class))[0]
            self.assertTrue(np.allclose(_array(hidden_states_no_chunk), _array(hidden_states_with_chunk), atol=1e-3))

    # ----- embeddings -----------------------------------------------------------------------------
    def test_resize_tokens_embeddings(self):
        original_config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        inputs_dict.pop("labels", None)
        for model_class in self.all_model_classes:
            config = copy.deepcopy(original_config)
            model = model_class(config)
            type_model_embed_pre_resize = type(model.get_input_embeddings())
            model_vocab_size = config.get_text_config().vocab_size
            cloned_embeddings, model_embed = self._check_growing_by_ten(model, type_model_embed_pre_resize)
            model(**self._prepare_for_class(inputs_dict, model_class))

            # a smaller vocabulary: the matrix shrinks; ids are clamped to it
            model_embed = model.resize_token_embeddings(model_vocab_size - 15)
            self.assertEqual(model.config.get_text_config().vocab_size, model_vocab_size - 15)
            self.assertEqual(model_embed.weight.shape[0], cloned_embeddings.shape[0] - 15)
            np.minimum(inputs_dict["input_ids"], model_vocab_size - 15 - 1, out=inputs_dict["input_ids"])
            model(**self._prepare_for_class(inputs_dict, model_class))
            # the kept rows are unchanged
            self.assertTrue(np.array_equal(cloned_embeddings[: model_vocab_size - 15], model_embed.weight.data))

            # pad_to_multiple_of (upstream writes these as assertTrue(a, b), which checks only that a is
            # truthy; the equalities they describe are asserted here)
            config = copy.deepcopy(original_config)
            model = model_class(config)
            model_vocab_size = config.get_text_config().vocab_size
            model.resize_token_embeddings(model_vocab_size + 10, pad_to_multiple_of=1)
            self.assertEqual(model.config.get_text_config().vocab_size, model_vocab_size + 10)
            model_embed = model.resize_token_embeddings(model_vocab_size, pad_to_multiple_of=64)
            self.assertEqual(model_embed.weight.shape[0] % 64, 0)
            self.assertEqual(model_embed.weight.shape[0], model.config.get_text_config().vocab_size)
            model_embed = model.resize_token_embeddings(model_vocab_size + 13, pad_to_multiple_of=64)
            self.assertEqual(model_embed.weight.shape[0] % 64, 0)
            model_embed = model.resize_token_embeddings(128, pad_to_multiple_of=64)
            self.assertEqual(model_embed.weight.shape[0], 128)
            # upstream matches its own message; ours names the argument and the value
            with self.assertRaisesRegex(ValueError, "pad_to_multiple_of must be a positive integer, got 1.3"):
                model.resize_token_embeddings(model_vocab_size, pad_to_multiple_of=1.3)

            # a vocabulary smaller than hidden_size
            config = copy.deepcopy(original_config)
            config.vocab_size = 4
            config.pad_token_id = 3
            self._check_growing_by_ten(model_class(config), type_model_embed_pre_resize)

    def _check_growing_by_ten(self, model, embedding_type) -> tuple:
        """Resize to the same size (a copy of the rows), then by 10 more: the matrix and config.vocab_size
        grow, the type stays, and the new rows average like the old ones. -> (the copy, the new Embedding)."""
        model_vocab_size = model.config.get_text_config().vocab_size
        cloned_embeddings = model.resize_token_embeddings(model_vocab_size).weight.data.copy()
        model_embed = model.resize_token_embeddings(model_vocab_size + 10)
        self.assertEqual(model.config.get_text_config().vocab_size, model_vocab_size + 10)
        self.assertEqual(model_embed.weight.shape[0], cloned_embeddings.shape[0] + 10)
        self.assertEqual(embedding_type, type(model_embed))
        old_embeddings_mean = np.mean(model_embed.weight.data[:-10, :], axis=0)
        new_embeddings_mean = np.mean(model_embed.weight.data[-10:, :], axis=0)
        np.testing.assert_allclose(old_embeddings_mean, new_embeddings_mean, atol=1e-3, rtol=1e-1)
        return cloned_embeddings, model_embed

    def test_resize_embeddings_untied(self):
        original_config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        original_config.tie_word_embeddings = False
        inputs_dict.pop("labels", None)
        for model_class in self.all_model_classes:
            config = copy.deepcopy(original_config)
            model = model_class(config)
            if model.get_output_embeddings() is None:
                continue
            model_vocab_size = config.get_text_config().vocab_size
            model.resize_token_embeddings(model_vocab_size + 10)
            self.assertEqual(model.config.get_text_config().vocab_size, model_vocab_size + 10)
            output_embeds = model.get_output_embeddings()
            self.assertEqual(output_embeds.weight.shape[0], model_vocab_size + 10)
            if output_embeds.bias is not None:
                self.assertEqual(output_embeds.bias.shape[0], model_vocab_size + 10)
            model(**self._prepare_for_class(inputs_dict, model_class))

            model.resize_token_embeddings(model_vocab_size + 10)
            output_embeds = model.get_output_embeddings()
            old_embeddings_mean = np.mean(output_embeds.weight.data[:-10, :], axis=0)
            new_embeddings_mean = np.mean(output_embeds.weight.data[-10:, :], axis=0)
            np.testing.assert_allclose(old_embeddings_mean, new_embeddings_mean, atol=1e-3, rtol=1e-1)
            if output_embeds.bias is not None:
                old_bias_mean = np.mean(output_embeds.bias.data[:-10], axis=0)
                new_bias_mean = np.mean(output_embeds.bias.data[-10:], axis=0)
                np.testing.assert_allclose(old_bias_mean, new_bias_mean, atol=1e-5, rtol=1e-2)

            model.resize_token_embeddings(model_vocab_size - 15)
            self.assertEqual(model.config.get_text_config().vocab_size, model_vocab_size - 15)
            output_embeds = model.get_output_embeddings()
            self.assertEqual(output_embeds.weight.shape[0], model_vocab_size - 15)
            if output_embeds.bias is not None:
                self.assertEqual(output_embeds.bias.shape[0], model_vocab_size - 15)
            np.minimum(inputs_dict["input_ids"], model_vocab_size - 15 - 1, out=inputs_dict["input_ids"])
            model(**self._prepare_for_class(inputs_dict, model_class))

    def test_model_get_set_embeddings(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            self.assertIsInstance(model.get_input_embeddings(), nn.Embedding)
            new_input_embedding_layer = nn.Embedding(10, 10)
            model.set_input_embeddings(new_input_embedding_layer)
            self.assertEqual(model.get_input_embeddings(), new_input_embedding_layer)
            x = model.get_output_embeddings()
            self.assertTrue(x is None or isinstance(x, nn.Linear))

    def test_tie_model_weights(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            config.torchscript = True
            model_not_tied = model_class(config)
            if model_not_tied.get_output_embeddings() is None:
                continue
            config_tied = copy.deepcopy(config)
            config_tied.torchscript = False
            model_tied = model_class(config_tied)
            params_tied = list(model_tied.parameters())
            vocab_size = config.get_text_config().vocab_size
            model_tied.resize_token_embeddings(vocab_size + 10)
            params_tied_2 = list(model_tied.parameters())
            self.assertEqual(len(params_tied_2), len(params_tied))  # still tied after the resize

    def test_model_main_input_name(self):
        for model_class in self.all_model_classes:
            observed_main_input_name = list(inspect.signature(model_class.forward).parameters)[1]
            self.assertEqual(model_class.main_input_name, observed_main_input_name)

    def test_inputs_embeds(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            model.eval()
            inputs = copy.deepcopy(self._prepare_for_class(inputs_dict, model_class))
            input_ids = inputs.pop("input_ids")
            inputs["inputs_embeds"] = model.get_input_embeddings()(input_ids)
            with no_grad():
                model(**inputs)[0]

    def test_inputs_embeds_matches_input_ids(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            if model_class.__name__ not in BASE_MODELS:
                continue
            model = model_class(config)
            model.eval()
            inputs = copy.deepcopy(self._prepare_for_class(inputs_dict, model_class))
            pad_token_id = config.pad_token_id if config.pad_token_id is not None else 1
            input_ids = inputs.pop("input_ids")
            not_pad_token_id = pad_token_id + 1 if max(0, pad_token_id - 1) == 0 else pad_token_id - 1
            input_ids[input_ids == pad_token_id] = not_pad_token_id
            inputs_embeds = model.get_input_embeddings()(input_ids)
            with no_grad():
                out_ids = model(input_ids=input_ids, **inputs)[0]
                out_embeds = model(inputs_embeds=inputs_embeds, **inputs)[0]
            self.assertTrue(np.allclose(_array(out_embeds), _array(out_ids)))

    def test_model_is_small(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            num_params = model_class(config).num_parameters()
            assert num_params < 1000000, f"{model_class} is too big for the common tests ({num_params})!"


def ids_tensor(shape, vocab_size, rng=None):
    """A random int64 array of `shape` with values in [0, vocab_size) (upstream draws from randint(0, V - 1))."""
    rng = np.random.default_rng(0) if rng is None else rng
    return rng.integers(0, vocab_size, size=tuple(shape), dtype=np.int64)


def random_attention_mask(shape, rng=None):
    """A random 0/1 mask whose first column is 1, so that every row attends to something."""
    attn_mask = ids_tensor(shape, vocab_size=2, rng=rng)
    attn_mask[:, 0] = 1
    return attn_mask


def floats_tensor(shape, scale=1.0, rng=None):
    """A random float32 array in [0, scale)."""
    rng = np.random.default_rng(0) if rng is None else rng
    return (rng.random(tuple(shape)) * scale).astype(np.float32)
