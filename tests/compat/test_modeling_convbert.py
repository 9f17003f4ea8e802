"""transformers' tests/models/convbert/test_modeling_convbert.py, ported to minconvbert (NumPy in place of torch).

The ModelTester's sizes, upstream's tests and assertions, the public-API half of ModelTesterMixin
(tests/compat/modeling_common.py) and ConfigTester (tests/compat/config_tester.py). Inputs are seeded
NumPy arrays (upstream draws them from an unseeded generator). Dropped, each with its reason:
the mixin's tests in modeling_common.DROPPED, this file's in DROPPED_HERE.
"""

import unittest

import numpy as np

from minconvbert import (
    ConvBertConfig,
    ConvBertForMaskedLM,
    ConvBertForMultipleChoice,
    ConvBertForQuestionAnswering,
    ConvBertForSequenceClassification,
    ConvBertForTokenClassification,
    ConvBertModel,
    no_grad,
)
from tests.compat.config_tester import ConfigTester
from tests.compat.modeling_common import ModelTesterMixin, ids_tensor, random_attention_mask

# This file's tests upstream (at commit 8b95e3fb), besides the mixin's.
UPSTREAM_HERE = (
    "test_config", "test_model", "test_for_masked_lm", "test_for_multiple_choice", "test_for_question_answering",
    "test_for_sequence_classification", "test_for_token_classification", "test_model_from_pretrained",
    "test_attention_outputs", "test_torchscript_device_change", "test_model_for_input_embeds",
    "test_reducing_attention_heads", "ConvBertModelIntegrationTest.test_inference_no_head",
    # PipelineTesterMixin, for the tasks of upstream's pipeline_model_mapping
    "test_pipeline_feature_extraction", "test_pipeline_fill_mask", "test_pipeline_question_answering",
    "test_pipeline_text_classification", "test_pipeline_token_classification", "test_pipeline_zero_shot",
)
_HUB_PIPELINES = ("PipelineTesterMixin: builds transformers' pipelines from tiny models on the hub (no network "
                  "here); minconvbert's five pipelines are checked against transformers' own in tests/pipelines/")
DROPPED_HERE = {
    "test_model_from_pretrained": "@slow: downloads YituTech/conv-bert-base (no network here; the published "
                                  "weights are not shipped)",
    "ConvBertModelIntegrationTest.test_inference_no_head": "@slow: needs the published YituTech/conv-bert-base "
                                                           "weights (its expected slice cannot be checked offline)",
    "test_torchscript_device_change": "torch.jit on an accelerator",
    "test_pipeline_feature_extraction": _HUB_PIPELINES,
    "test_pipeline_fill_mask": _HUB_PIPELINES,
    "test_pipeline_question_answering": _HUB_PIPELINES,
    "test_pipeline_text_classification": _HUB_PIPELINES,
    "test_pipeline_token_classification": _HUB_PIPELINES,
    "test_pipeline_zero_shot": "PipelineTesterMixin; zero-shot classification is not among minconvbert's pipelines",
}


class ConvBertModelTester:
    def __init__(self, parent, batch_size=13, seq_length=7, is_training=True, use_input_mask=True,
                 use_token_type_ids=True, use_labels=True, vocab_size=99, hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=37, hidden_act="gelu", hidden_dropout_prob=0.1,
                 attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=16,
                 type_sequence_label_size=2, initializer_range=0.02, num_labels=3, num_choices=4, scope=None):
        self.parent = parent
        self.batch_size, self.seq_length, self.is_training = batch_size, seq_length, is_training
        self.use_input_mask, self.use_token_type_ids, self.use_labels = use_input_mask, use_token_type_ids, use_labels
        self.vocab_size, self.hidden_size, self.num_hidden_layers = vocab_size, hidden_size, num_hidden_layers
        self.num_attention_heads, self.intermediate_size = num_attention_heads, intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob, self.attention_probs_dropout_prob = hidden_dropout_prob, attention_probs_dropout_prob
        self.max_position_embeddings, self.type_vocab_size = max_position_embeddings, type_vocab_size
        self.type_sequence_label_size, self.initializer_range = type_sequence_label_size, initializer_range
        self.num_labels, self.num_choices, self.scope = num_labels, num_choices, scope

    def prepare_config_and_inputs(self):
        rng = np.random.default_rng(0)
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size, rng)
        input_mask = random_attention_mask([self.batch_size, self.seq_length], rng) if self.use_input_mask else None
        token_type_ids = (ids_tensor([self.batch_size, self.seq_length], self.type_vocab_size, rng)
                          if self.use_token_type_ids else None)
        sequence_labels = token_labels = choice_labels = None
        if self.use_labels:
            sequence_labels = ids_tensor([self.batch_size], self.type_sequence_label_size, rng)
            token_labels = ids_tensor([self.batch_size, self.seq_length], self.num_labels, rng)
            choice_labels = ids_tensor([self.batch_size], self.num_choices, rng)
        config = self.get_config()
        return config, input_ids, token_type_ids, input_mask, sequence_labels, token_labels, choice_labels

    def get_config(self):
        return ConvBertConfig(
            vocab_size=self.vocab_size, hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads, intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act, hidden_dropout_prob=self.hidden_dropout_prob,
            attention_probs_dropout_prob=self.attention_probs_dropout_prob,
            max_position_embeddings=self.max_position_embeddings, type_vocab_size=self.type_vocab_size,
            is_decoder=False, initializer_range=self.initializer_range,
        )

    def create_and_check_model(self, config, input_ids, token_type_ids, input_mask, sequence_labels, token_labels,
                               choice_labels):
        model = ConvBertModel(config=config)
        model.to("cpu")
        model.eval()
        result = model(input_ids, attention_mask=input_mask, token_type_ids=token_type_ids)
        result = model(input_ids, token_type_ids=token_type_ids)
        result = model(input_ids)
        self.parent.assertEqual(result.last_hidden_state.shape, (self.batch_size, self.seq_length, self.hidden_size))

    def create_and_check_for_masked_lm(self, config, input_ids, token_type_ids, input_mask, sequence_labels,
                                       token_labels, choice_labels):
        model = ConvBertForMaskedLM(config=config)
        model.eval()
        result = model(input_ids, attention_mask=input_mask, token_type_ids=token_type_ids, labels=token_labels)
        self.parent.assertEqual(result.logits.shape, (self.batch_size, self.seq_length, self.vocab_size))

    def create_and_check_for_question_answering(self, config, input_ids, token_type_ids, input_mask, sequence_labels,
                                                token_labels, choice_labels):
        model = ConvBertForQuestionAnswering(config=config)
        model.eval()
        result = model(input_ids, attention_mask=input_mask, token_type_ids=token_type_ids,
                       start_positions=sequence_labels, end_positions=sequence_labels)
        self.parent.assertEqual(result.start_logits.shape, (self.batch_size, self.seq_length))
        self.parent.assertEqual(result.end_logits.shape, (self.batch_size, self.seq_length))

    def create_and_check_for_sequence_classification(self, config, input_ids, token_type_ids, input_mask,
                                                     sequence_labels, token_labels, choice_labels):
        config.num_labels = self.num_labels
        model = ConvBertForSequenceClassification(config)
        model.eval()
        result = model(input_ids, attention_mask=input_mask, token_type_ids=token_type_ids, labels=sequence_labels)
        self.parent.assertEqual(result.logits.shape, (self.batch_size, self.num_labels))

    def create_and_check_for_token_classification(self, config, input_ids, token_type_ids, input_mask,
                                                  sequence_labels, token_labels, choice_labels):
        config.num_labels = self.num_labels
        model = ConvBertForTokenClassification(config=config)
        model.eval()
        result = model(input_ids, attention_mask=input_mask, token_type_ids=token_type_ids, labels=token_labels)
        self.parent.assertEqual(result.logits.shape, (self.batch_size, self.seq_length, self.num_labels))

    def create_and_check_for_multiple_choice(self, config, input_ids, token_type_ids, input_mask, sequence_labels,
                                             token_labels, choice_labels):
        config.num_choices = self.num_choices
        model = ConvBertForMultipleChoice(config=config)
        model.eval()

        def expand(x):  # upstream: x.unsqueeze(1).expand(-1, num_choices, -1).contiguous()
            return np.ascontiguousarray(np.broadcast_to(x[:, None], (x.shape[0], self.num_choices, x.shape[1])))

        result = model(expand(input_ids), attention_mask=expand(input_mask), token_type_ids=expand(token_type_ids),
                       labels=choice_labels)
        self.parent.assertEqual(result.logits.shape, (self.batch_size, self.num_choices))

    def prepare_config_and_inputs_for_common(self):
        config, input_ids, token_type_ids, input_mask, *_ = self.prepare_config_and_inputs()
        return config, {"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": input_mask}


class ConvBertModelTest(ModelTesterMixin, unittest.TestCase):
    all_model_classes = (ConvBertModel, ConvBertForMaskedLM, ConvBertForMultipleChoice, ConvBertForQuestionAnswering,
                         ConvBertForSequenceClassification, ConvBertForTokenClassification)

    def setUp(self):
        self.model_tester = ConvBertModelTester(self)
        self.config_tester = ConfigTester(self, config_class=ConvBertConfig, hidden_size=37)

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_model(self):
        self.model_tester.create_and_check_model(*self.model_tester.prepare_config_and_inputs())

    def test_for_masked_lm(self):
        self.model_tester.create_and_check_for_masked_lm(*self.model_tester.prepare_config_and_inputs())

    def test_for_multiple_choice(self):
        self.model_tester.create_and_check_for_multiple_choice(*self.model_tester.prepare_config_and_inputs())

    def test_for_question_answering(self):
        self.model_tester.create_and_check_for_question_answering(*self.model_tester.prepare_config_and_inputs())

    def test_for_sequence_classification(self):
        self.model_tester.create_and_check_for_sequence_classification(*self.model_tester.prepare_config_and_inputs())

    def test_for_token_classification(self):
        self.model_tester.create_and_check_for_token_classification(*self.model_tester.prepare_config_and_inputs())

    def test_attention_outputs(self):
        """ConvBERT's own version: the attention maps have num_attention_heads / 2 (the self-attention) heads."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        config.return_dict = True
        seq_len = self.model_tester.seq_length
        for model_class in self.all_model_classes:
            inputs_dict["output_attentions"] = True
            inputs_dict["output_hidden_states"] = False
            config.return_dict = True
            model = model_class(config)
            model.eval()
            with no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            self.assertEqual(len(outputs.attentions), self.model_tester.num_hidden_layers)

            # output_attentions set in the config works too
            del inputs_dict["output_attentions"]
            config.output_attentions = True
            model = model_class(config)
            model.eval()
            with no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            attentions = outputs.attentions
            self.assertEqual(len(attentions), self.model_tester.num_hidden_layers)
            self.assertListEqual(list(attentions[0].shape[-3:]),
                                 [self.model_tester.num_attention_heads / 2, seq_len, seq_len])
            out_len = len(outputs)

            # the attentions come last, after the hidden states
            inputs_dict["output_attentions"] = True
            inputs_dict["output_hidden_states"] = True
            model = model_class(config)
            model.eval()
            with no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            self.assertEqual(out_len + 1, len(outputs))
            self_attentions = outputs.attentions
            self.assertEqual(len(self_attentions), self.model_tester.num_hidden_layers)
            self.assertListEqual(list(self_attentions[0].shape[-3:]),
                                 [self.model_tester.num_attention_heads / 2, seq_len, seq_len])

    def test_model_for_input_embeds(self):
        batch_size = 2
        seq_length = 10
        inputs_embeds = np.random.default_rng(0).random([batch_size, seq_length, 768]).astype(np.float32)
        config = self.model_tester.get_config()
        model = ConvBertModel(config=config)
        model.eval()
        result = model(inputs_embeds=inputs_embeds)
        self.assertEqual(result.last_hidden_state.shape, (batch_size, seq_length, config.hidden_size))

    def test_reducing_attention_heads(self):
        config, *inputs_dict = self.model_tester.prepare_config_and_inputs()
        config.head_ratio = 4
        self.model_tester.create_and_check_for_masked_lm(config, *inputs_dict)


def test_every_upstream_test_is_ported_or_dropped_with_a_reason():
    """Upstream's tests (the mixin's and this file's) are exactly the ported ones plus the dropped ones."""
    from tests.compat.modeling_common import DROPPED, UPSTREAM_TESTS

    ported = {name for name in dir(ConvBertModelTest) if name.startswith("test_")}
    dropped = set(DROPPED) | set(DROPPED_HERE)
    assert not ported & dropped, "a test is both ported and dropped"
    assert ported | dropped == set(UPSTREAM_TESTS) | set(UPSTREAM_HERE)
    assert all(reason.strip() for reason in {**DROPPED, **DROPPED_HERE}.values())
    assert (len(set(UPSTREAM_TESTS) | set(UPSTREAM_HERE)), len(ported), len(dropped)) == (105, 36, 69)
