"""ModelTesterMixin's tests of initialisation, determinism, batching, outputs and training, ported
(see modeling_common)."""

from __future__ import annotations

import copy
import warnings

import numpy as np

import minconvbert as mc
from minconvbert import no_grad
from tests.compat.common import BASE_MODELS, SEQUENCE_CLASSIFICATION, MixinBase, as_array, config_zero_init, without_nan


class BehaviourTests(MixinBase):
    def test_initialization(self):
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        configs_no_init = config_zero_init(config)
        for model_class in self.all_model_classes:
            model = model_class(config=configs_no_init)
            for name, param in model.named_parameters():
                if param.requires_grad:
                    self.assertIn(float(np.round(param.data.mean() * 1e9) / 1e9), [0.0, 1.0],
                                  msg=f"Parameter {name} of model {model_class} seems not properly initialized")

    def test_determinism(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()

        def check_determinism(first, second):
            out_1, out_2 = as_array(first), as_array(second)
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
                single = as_array(single_row_object)
                batched_row = as_array(batched_object)[tuple(slice(0, n) for n in single.shape)]
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
                    self.assertTrue(np.allclose(without_nan(tuple_object), without_nan(dict_object), atol=1e-5),
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
            self.assertTrue(np.allclose(as_array(hidden_states_no_chunk), as_array(hidden_states_with_chunk),
                                        atol=1e-3))
