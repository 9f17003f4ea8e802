"""The training loop: it learns, checkpoints atomically, resumes exactly, and survives Ctrl-C."""

import json
import os
import signal
import sys

import numpy as np

from minconvbert import ConvBertConfig, ConvBertForMaskedLM
from minconvbert.optim import AdamW, LinearWarmupDecay, weight_decay_groups
from minconvbert.train.loop import train_loop
from minconvbert.train.state import latest_checkpoint
from tests.models.parity import TINY


def _setup(dropout=0.1):
    config = ConvBertConfig(**{**TINY, "hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout})
    model = ConvBertForMaskedLM(config, rng=0)
    optimizer = AdamW(weight_decay_groups(model, 0.01), lr=5e-3)
    schedule = LinearWarmupDecay(optimizer, 2, 12)
    return model, optimizer, schedule


def make_batch(step):
    rng = np.random.default_rng([7, step])
    ids = rng.integers(5, 40, (4, 8))
    ids[:, ::2] = 9  # a learnable pattern
    labels = np.where(rng.random(ids.shape) < 0.3, ids, -100)
    labels[0, 0] = ids[0, 0]
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "labels": labels}


def test_loss_goes_down_and_history_is_recorded(tmp_path):
    model, optimizer, schedule = _setup(dropout=0.0)
    evaluations = []

    def evaluate(m):
        evaluations.append(1)
        return {"val_loss": float(m.eval()(**make_batch(10_000)).loss.item())}

    history = train_loop(model, make_batch, optimizer, schedule, 12, tmp_path, evaluate=evaluate, eval_every=4,
                         progress=False)
    assert len(history["loss"]) == 12 and history["step"][-1] == 12
    assert np.mean(history["loss"][-3:]) < np.mean(history["loss"][:3])
    assert [s for s, _ in history["eval"]] == [4, 8, 12] and len(evaluations) == 3
    assert all(t > 0 for t in history["tokens_per_s"])
    final = latest_checkpoint(tmp_path)
    assert final.name == "checkpoint-0000012"
    assert {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"} <= set(os.listdir(final))
    assert json.loads((final / "trainer_state.json").read_text())["step"] == 12
    loaded = ConvBertForMaskedLM.from_pretrained(final, strict=True)
    ids = make_batch(0)["input_ids"]
    np.testing.assert_array_equal(loaded(input_ids=ids).logits.data, model.eval()(input_ids=ids).logits.data)


def test_progress_without_tqdm_is_plain_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm (the `progress` extra) were not installed
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model, optimizer, schedule = _setup()
    history = train_loop(model, make_batch, optimizer, schedule, 4, evaluate=lambda m: {"score": 1.0},
                         eval_every=2)
    assert history["step"] == [1, 2, 3, 4]
    out, err = capsys.readouterr()
    assert "step 2: score 1.0000" in out  # the evaluation messages (tqdm.write with tqdm)
    lines = err.splitlines()
    assert [line.split(" (")[0] for line in lines] == ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]
    assert "loss " in lines[-1] and "tok_s " in lines[-1]


def _weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_interrupt_then_resume_equals_an_uninterrupted_run(tmp_path):
    model, optimizer, schedule = _setup()
    train_loop(model, make_batch, optimizer, schedule, 10, tmp_path / "straight", progress=False)
    straight = _weights(model)

    def interrupting_batch(step):
        if step == 4:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during step 5: it finishes, saves, returns
        return make_batch(step)

    model, optimizer, schedule = _setup()
    history = train_loop(model, interrupting_batch, optimizer, schedule, 10, tmp_path / "resumed", progress=False,
                         checkpoint_every=2)
    assert history["interrupted"] and history["step"][-1] == 5
    assert latest_checkpoint(tmp_path / "resumed").name == "checkpoint-0000005"
    model, optimizer, schedule = _setup()  # a new process would start from scratch like this
    history = train_loop(model, make_batch, optimizer, schedule, 10, tmp_path / "resumed", progress=False)
    assert history["step"] == list(range(1, 11)) and not history["interrupted"]
    resumed = _weights(model)
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    kept = sorted(p.name for p in (tmp_path / "resumed").glob("checkpoint-*"))
    assert kept == ["checkpoint-0000005", "checkpoint-0000010"]  # older ones pruned (keep=2)


def test_a_failed_checkpoint_leaves_the_previous_one(tmp_path, monkeypatch):
    from minconvbert.io import safetensors
    from minconvbert.train import state

    model, optimizer, schedule = _setup()
    train_loop(model, make_batch, optimizer, schedule, 3, tmp_path, progress=False)
    real_save = safetensors.save_file

    def failing(tensors, path, *args, **kwargs):
        if "optimizer" in str(path):
            raise OSError("disk full (simulated)")
        return real_save(tensors, path, *args, **kwargs)

    monkeypatch.setattr(state.safetensors, "save_file", failing)
    try:
        train_loop(model, make_batch, optimizer, schedule, 5, tmp_path, progress=False)
    except OSError:
        pass
    assert latest_checkpoint(tmp_path).name == "checkpoint-0000003"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-0000003", "latest"]
    ConvBertForMaskedLM.from_pretrained(latest_checkpoint(tmp_path), strict=True)


def test_masked_lm_loss_equals_the_models_loss_and_gradients():
    from minconvbert.train.mlm import masked_lm_loss

    model, _, _ = _setup(dropout=0.0)
    model.to(np.float64).eval()
    batch = make_batch(3)
    full = model(**batch).loss
    full.backward()
    expected = {n: p.grad.copy() for n, p in model.named_parameters()}
    model.zero_grad()
    loss, tokens = masked_lm_loss(model, batch)
    loss.backward()
    assert tokens == batch["attention_mask"].sum()
    np.testing.assert_allclose(loss.item(), full.item(), rtol=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)
