"""Parity cases between minconvbert and transformers' ConvBERT, and one runner for each side.

A *case* is a config plus an input style; a *task* is a model class plus the labels its loss needs.
`run_ours` and `run_reference` take the same (task, config, inputs, weights) and return the same
record: outputs in float32 and float64, the float64 loss, and the float64 gradient of that loss
with respect to every parameter (and to inputs_embeds when given). The reference side imports
torch only when called; scripts/make_parity_fixtures.py stores its records for torch-free runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

import minconvbert
from minconvbert.models import convbert as ours_lib

TINY = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
            embedding_size=8, max_position_embeddings=32, pad_token_id=0)


@dataclass(frozen=True)
class Case:
    config: dict
    inputs: str = "mask"  # "mask": ids + padding mask + token types; "positions": + position_ids; "embeds"
    batch: int = 2
    seq: int = 7
    tasks: tuple = ("model", "masked_lm")
    fixture: bool = False  # committed as a torch-free fixture
    extra: dict = field(default_factory=dict)


ALL_TASKS = ("model", "masked_lm", "seq_single", "seq_multi", "seq_regression", "multiple_choice", "token", "qa")


def _published(name):
    """A published width (PRESETS) with one layer instead of twelve."""
    return dict(vocab_size=30522, pad_token_id=0, conv_kernel_size=9, head_ratio=2, num_hidden_layers=1,
                **ours_lib.config.PRESETS[name])


CASES = {
    # every class on the tiny config, committed as fixtures
    "tiny": Case(TINY, tasks=ALL_TASKS, fixture=True),
    "tiny_positions": Case(TINY, inputs="positions", tasks=("model", "seq_single"), fixture=True),
    "tiny_embeds": Case(TINY, inputs="embeds", tasks=("model", "token", "multiple_choice"), fixture=True),
    # the mixed-attention arithmetic
    "head_ratio_1": Case({**TINY, "head_ratio": 1}, fixture=True),
    "head_ratio_4": Case({**TINY, "head_ratio": 4}, fixture=True),
    "head_ratio_above_heads": Case({**TINY, "num_attention_heads": 2, "head_ratio": 4}, fixture=True),
    "groups_2": Case({**TINY, "num_groups": 2}, tasks=("model", "masked_lm", "qa"), fixture=True),
    "embedding_equals_hidden": Case({**TINY, "embedding_size": 16}, fixture=True),
    "kernel_1": Case({**TINY, "conv_kernel_size": 1}, fixture=True),
    "kernel_3": Case({**TINY, "conv_kernel_size": 3}, fixture=True),
    "seq_shorter_than_kernel": Case(TINY, seq=3, fixture=True),
    "single_token": Case(TINY, seq=1, tasks=("model",)),
    "act_relu": Case({**TINY, "hidden_act": "relu"}, tasks=("model", "seq_single"), fixture=True),
    "act_selu": Case({**TINY, "hidden_act": "selu"}, tasks=("model", "seq_single"), fixture=True),
    "act_gelu_new": Case({**TINY, "hidden_act": "gelu_new"}, tasks=("model", "seq_single"), fixture=True),
    "classifier_dropout": Case({**TINY, "classifier_dropout": 0.3}, tasks=("seq_single", "token")),
    # the published widths (one layer to keep CI fast), live against transformers only
    "conv_bert_base": Case(_published("conv-bert-base"), batch=2, seq=12, tasks=ALL_TASKS),
    "conv_bert_medium_small": Case(_published("conv-bert-medium-small"), batch=2, seq=12, tasks=ALL_TASKS),
    "conv_bert_small": Case(_published("conv-bert-small"), batch=2, seq=12, tasks=ALL_TASKS),
    "conv_bert_small_embeds": Case(_published("conv-bert-small"), inputs="embeds", batch=2, seq=10,
                                   tasks=("model", "masked_lm")),
}

TASK_CLASS = {
    "model": "ConvBertModel",
    "masked_lm": "ConvBertForMaskedLM",
    "seq_single": "ConvBertForSequenceClassification",
    "seq_multi": "ConvBertForSequenceClassification",
    "seq_regression": "ConvBertForSequenceClassification",
    "multiple_choice": "ConvBertForMultipleChoice",
    "token": "ConvBertForTokenClassification",
    "qa": "ConvBertForQuestionAnswering",
}
TASK_CONFIG = {
    "seq_single": dict(num_labels=3),
    "seq_multi": dict(num_labels=3, problem_type="multi_label_classification"),
    "seq_regression": dict(num_labels=1),
    "token": dict(num_labels=5),
}


def task_config(case: Case, task: str) -> dict:
    return {**case.config, **TASK_CONFIG.get(task, {})}


def make_inputs(case: Case, task: str, seed: int = 0) -> dict:
    """Seeded inputs and labels for `task`: arrays keyed by the forward() argument names."""
    rng = np.random.default_rng(seed)
    config = task_config(case, task)
    lead = (case.batch, 3) if task == "multiple_choice" else (case.batch,)
    shape = (*lead, case.seq)
    inputs = {}
    if case.inputs == "embeds":
        inputs["inputs_embeds"] = rng.standard_normal((*shape, config["embedding_size"])).astype(np.float32)
    else:
        inputs["input_ids"] = rng.integers(1, config["vocab_size"], shape)
    mask = np.ones(shape, dtype=np.int64)
    if case.seq > 2:
        mask.reshape(-1, case.seq)[0, -2:] = 0  # the first sequence is padded at the end
    inputs["attention_mask"] = mask
    inputs["token_type_ids"] = (np.arange(case.seq) >= case.seq // 2).astype(np.int64) * np.ones(shape, np.int64)
    if case.inputs == "positions":
        inputs["position_ids"] = np.stack([rng.permutation(config["max_position_embeddings"])[: case.seq]
                                           for _ in range(int(np.prod(lead)))]).reshape(shape)
    B, T = case.batch, case.seq
    if task == "masked_lm":
        labels = rng.integers(0, config["vocab_size"], (B, T))
        labels[rng.random((B, T)) < 0.4] = -100
        inputs["labels"] = labels
    elif task == "seq_single":
        inputs["labels"] = rng.integers(0, 3, (B,))
    elif task == "seq_multi":
        inputs["labels"] = (rng.random((B, 3)) < 0.5).astype(np.float32)
    elif task == "seq_regression":
        inputs["labels"] = rng.standard_normal((B,)).astype(np.float32)
    elif task == "multiple_choice":
        inputs["labels"] = rng.integers(0, 3, (B,))
    elif task == "token":
        labels = rng.integers(0, 5, (B, T))
        labels[:, 0] = -100
        inputs["labels"] = labels
    elif task == "qa":
        inputs["start_positions"] = np.array([1, T + 5][:B] + [0] * max(0, B - 2))  # the second is out of range
        inputs["end_positions"] = np.array([T - 1, 2][:B] + [0] * max(0, B - 2))
    return inputs


def projection(shape, seed: int = 1) -> np.ndarray:
    """A fixed random direction that turns ConvBertModel's hidden states into a scalar loss."""
    return np.random.default_rng(seed).standard_normal(shape)


def _record(outputs: dict, loss, grads: dict, dtype_tag: str) -> dict:
    record = {f"{dtype_tag}/out/{k}": v for k, v in outputs.items()}
    if loss is not None:
        record[f"{dtype_tag}/loss"] = np.asarray(loss)
    record.update({f"{dtype_tag}/grad/{k}": v for k, v in grads.items()})
    return record


# ----- minconvbert ---------------------------------------------------------------------------
def build_ours(task: str, config: dict, weights: dict, dtype) -> minconvbert.nn.Module:
    cls = getattr(ours_lib, TASK_CLASS[task])
    model = cls(ours_lib.ConvBertConfig(**config))
    model.load_state_dict(weights, strict=False)
    return model.to(dtype).eval()


def _flatten_outputs(out) -> dict:
    flat = {}
    for name in out.keys():
        value = out[name]
        if name == "loss":
            continue
        if isinstance(value, tuple):
            flat.update({f"{name}.{i}": np.asarray(v) for i, v in enumerate(value)})
        else:
            flat[name] = np.asarray(value)
    return flat


def run_ours(task: str, config: dict, inputs: dict, weights: dict) -> dict:
    """Our record for (task, config, inputs, weights): outputs in float32 and float64, loss and grads in float64."""
    record = {}
    for dtype, tag in ((np.float32, "f32"), (np.float64, "f64")):
        model = build_ours(task, config, weights, dtype)
        args = dict(inputs)
        embeds = None
        if "inputs_embeds" in args:
            embeds = minconvbert.Tensor(args["inputs_embeds"].astype(dtype), requires_grad=True)
            args["inputs_embeds"] = embeds
        out = model(**args, output_hidden_states=True, output_attentions=True)
        if tag == "f32":
            record.update(_record(_flatten_outputs(out), None, {}, tag))
            continue
        loss = out.loss if task != "model" else (out.last_hidden_state * projection(out.last_hidden_state.shape)).sum()
        loss.backward()
        grads = {name: p.grad for name, p in model.named_parameters()}
        if embeds is not None:
            grads["inputs_embeds"] = embeds.grad
        record.update(_record(_flatten_outputs(out), loss.item(), grads, tag))
    return record


# ----- transformers --------------------------------------------------------------------------
def register_reference_selu():
    """transformers 5 documents hidden_act "selu" but has no such activation: register torch's SELU."""
    import torch
    from transformers import activations

    if "selu" not in activations.ACT2FN:
        activations.ACT2FN["selu"] = torch.nn.SELU


def reference_config(config: dict):
    import transformers

    known = {k: v for k, v in config.items() if k not in ("mask_conv_padding", "model_type")}
    return transformers.ConvBertConfig(**known)


def build_reference(task: str, config: dict, seed: int = 0):
    import torch
    import transformers

    register_reference_selu()
    torch.manual_seed(seed)
    return getattr(transformers, TASK_CLASS[task])(reference_config(config)).eval()


def reference_weights(model) -> dict:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def run_reference(task: str, config: dict, inputs: dict, seed: int = 0):
    """(weights, record) from transformers: a freshly initialised model's weights and its record."""
    import torch

    model = build_reference(task, config, seed)
    weights = reference_weights(model)
    record = {}
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        model = model.to(dtype)
        args = {}
        for k, v in inputs.items():
            t = torch.tensor(v)
            args[k] = t.to(dtype) if t.is_floating_point() else t
        embeds = args.get("inputs_embeds")
        if embeds is not None and tag == "f64":
            embeds.requires_grad_(True)
        model.zero_grad()
        with torch.set_grad_enabled(tag == "f64"):
            out = model(**args, output_hidden_states=True, output_attentions=True)
        flat = {}
        for name, value in out.items():
            if name == "loss":
                continue
            if isinstance(value, tuple):
                flat.update({f"{name}.{i}": v.detach().numpy() for i, v in enumerate(value)})
            else:
                flat[name] = value.detach().numpy()
        if tag == "f32":
            record.update(_record(flat, None, {}, tag))
            continue
        if task == "model":
            direction = torch.tensor(projection(tuple(out.last_hidden_state.shape)))
            loss = (out.last_hidden_state * direction).sum()
        else:
            loss = out.loss
        loss.backward()
        grads = {name: p.grad.numpy().copy() for name, p in model.named_parameters() if p.grad is not None}
        if embeds is not None:
            grads["inputs_embeds"] = embeds.grad.numpy().copy()
        record.update(_record(flat, loss.item(), grads, tag))
    return weights, record


# ----- comparison ------------------------------------------------------------------------------
def compare(ours: dict, reference: dict, atol32: float = 1e-5, atol64: float = 1e-10, rtol_grad: float = 1e-8) -> dict:
    """Assert every reference entry is matched; return the worst error per kind.

    float32 outputs: max abs diff <= atol32; float64 outputs and loss: <= atol64 (relative to the
    value's scale when it exceeds 1); float64 gradients: max abs diff <= rtol_grad * max |reference|
    (with max |reference| floored at 1e-6).
    """
    worst = {"f32": 0.0, "f64": 0.0, "grad_rel": 0.0}
    missing = sorted(set(reference) - set(ours))
    assert not missing, f"our record lacks {missing}"
    for key, expected in reference.items():
        actual = np.asarray(ours[key], dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        assert actual.shape == expected.shape, f"{key}: shape {actual.shape} != reference {expected.shape}"
        if expected.size == 0:
            continue
        diff = float(np.max(np.abs(actual - expected)))
        scale = float(np.max(np.abs(expected)))
        if "/grad/" in key:
            # Some gradients are zero analytically (the key bias: softmax ignores a per-row constant)
            # and hold only rounding noise (~1e-17) on both sides; a floor of 1e-6 on the scale covers them.
            rel = diff / max(scale, 1e-6)
            worst["grad_rel"] = max(worst["grad_rel"], rel)
            assert rel <= rtol_grad, f"{key}: relative gradient error {rel:.3e} > {rtol_grad}"
        elif key.startswith("f32/"):
            worst["f32"] = max(worst["f32"], diff)
            assert diff <= atol32 * max(1.0, scale), f"{key}: max abs diff {diff:.3e} > {atol32}"
        else:
            worst["f64"] = max(worst["f64"], diff)
            assert diff <= atol64 * max(1.0, scale), f"{key}: max abs diff {diff:.3e} > {atol64}"
    return worst


def config_json(config: dict) -> str:
    return json.dumps(config, sort_keys=True)
