"""The public-API half of transformers' ModelTesterMixin (tests/test_modeling_common.py), ported to minconvbert.

Upstream's tests, assertions and tolerances, in our code: NumPy arrays where upstream builds torch
tensors, minconvbert.no_grad / manual_seed for torch's, warnings where upstream captures its logger.
The tests are in three parts (mixin_checkpoints, mixin_behaviour, mixin_embeddings); every upstream test
of the mixin is in one of them or in DROPPED below, with the reason. Where an
assertion had to change, the comment at the test says how and why.
"""

from __future__ import annotations

from tests.compat.common import ids_tensor, random_attention_mask
from tests.compat.mixin_behaviour import BehaviourTests
from tests.compat.mixin_checkpoints import CheckpointTests
from tests.compat.mixin_embeddings import EmbeddingTests

__all__ = ["ModelTesterMixin", "DROPPED", "UPSTREAM_TESTS", "ids_tensor", "random_attention_mask"]

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


class ModelTesterMixin(CheckpointTests, BehaviourTests, EmbeddingTests):
    """The public-API tests of transformers' ModelTesterMixin, for a test class that sets model_tester and
    all_model_classes."""
