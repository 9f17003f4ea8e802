"""ModelTesterMixin's tests of the input and output embeddings, ported (see modeling_common)."""

from __future__ import annotations

import copy
import inspect

import numpy as np

from minconvbert import nn, no_grad
from tests.compat.common import BASE_MODELS, MixinBase, as_array


class EmbeddingTests(MixinBase):
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
            self.assertTrue(np.allclose(as_array(out_embeds), as_array(out_ids)))

    def test_model_is_small(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            num_params = model_class(config).num_parameters()
            assert num_params < 1000000, f"{model_class} is too big for the common tests ({num_params})!"
