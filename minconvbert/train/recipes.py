"""The training recipes behind `python -m minconvbert train-mlm | pretrain | finetune`.

Each one is the whole pipeline, spelled out: corpus -> vocabulary -> blocks -> model -> loop ->
evaluation against a baseline -> an exported checkpoint and a JSON report of the figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from minconvbert.data.corpus import python_version, split_train_validation, stdlib_corpus
from minconvbert.models.convbert import ConvBertConfig, ConvBertForMaskedLM, ConvBertForSequenceClassification
from minconvbert.optim import AdamW, LinearWarmupDecay, weight_decay_groups
from minconvbert.tokenizer import ConvBertTokenizerFast
from minconvbert.tokenizer.basic import BasicTokenizer
from minconvbert.train.data import MLMBatches, encode_lines, pack_blocks
from minconvbert.train.electra import ElectraPretraining
from minconvbert.train.finetune import (
    ClassificationBatches,
    bow_logistic_regression,
    classification_accuracy,
    module_classification_task,
)
from minconvbert.train.loop import train_loop
from minconvbert.train.mlm import evaluate_mlm, masked_lm_loss, unigram_baseline
from minconvbert.train.wordpiece_trainer import train_wordpiece

__all__ = ["prepare_corpus", "nano_config", "mlm_batches", "training_seconds", "train_mlm", "pretrain", "finetune"]

VALIDATION_STEPS = range(1_000_000, 1_000_040)  # fixed step numbers: the same masked batches every time


def prepare_corpus(out_dir: Path, vocab_size: int, block_size: int, vocab_file=None, log=print):
    """(tokenizer, train blocks, validation blocks): stdlib docstrings, a learned vocabulary, packed blocks."""
    lines = stdlib_corpus(include_topics=True)
    train_lines, validation_lines = split_train_validation(lines)
    log(f"corpus: {len(lines)} paragraphs (Python {python_version()} standard library), "
        f"{len(train_lines)} train / {len(validation_lines)} validation")
    tokenizer_dir = out_dir / "tokenizer"
    tokenizer_dir.mkdir(parents=True, exist_ok=True)
    if vocab_file is None:
        started = time.perf_counter()
        vocab = train_wordpiece(train_lines, vocab_size, BasicTokenizer(do_lower_case=True))
        (tokenizer_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        log(f"vocabulary: {len(vocab)} WordPiece tokens learned in {time.perf_counter() - started:.1f} s")
        vocab_file = tokenizer_dir / "vocab.txt"
    tokenizer = ConvBertTokenizerFast(str(vocab_file), model_max_length=block_size)
    tokenizer.save_pretrained(tokenizer_dir)
    ids = tokenizer.convert_tokens_to_ids
    cls_id, sep_id, pad_id = ids("[CLS]"), ids("[SEP]"), ids("[PAD]")
    train_blocks = pack_blocks(encode_lines(tokenizer, train_lines), block_size, cls_id, sep_id, pad_id)
    validation_blocks = pack_blocks(encode_lines(tokenizer, validation_lines), block_size, cls_id, sep_id, pad_id)
    log(f"blocks of {block_size}: {len(train_blocks)} train ({train_blocks.size:,} positions), "
        f"{len(validation_blocks)} validation")
    return tokenizer, train_blocks, validation_blocks


def nano_config(vocab_size: int, hidden_size=256, layers=4, heads=4, block_size=128, **overrides) -> ConvBertConfig:
    """The nano model: hidden 256, 4 layers, 4 heads (2 attention + 2 convolution), kernel 9, embedding 128."""
    return ConvBertConfig(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=layers,
                          num_attention_heads=heads, intermediate_size=4 * hidden_size, embedding_size=128,
                          max_position_embeddings=block_size, head_ratio=2, conv_kernel_size=9, pad_token_id=0,
                          hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, **overrides)


def mlm_batches(tokenizer, blocks, batch_size, seed) -> MLMBatches:
    """The recipes' masked batches over `blocks` (N, block_size): batches(step) -> {"input_ids",
    "attention_mask", "labels"}, each (batch_size, block_size)."""
    ids = tokenizer.convert_tokens_to_ids
    return MLMBatches(blocks, batch_size, pad_id=ids("[PAD]"), mask_id=ids("[MASK]"),
                      special_ids=[ids(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]")],
                      vocab_size=tokenizer.vocab_size, seed=seed)


def _optimizer(model, lr, steps, warmup, weight_decay=0.01):
    optimizer = AdamW(weight_decay_groups(model, weight_decay), lr=lr, betas=(0.9, 0.98), eps=1e-6)
    return optimizer, LinearWarmupDecay(optimizer, warmup, steps)


def _describe(model) -> str:
    """The log line that says what is being trained."""
    if isinstance(model, ElectraPretraining):
        return (f"discriminator {model.discriminator.num_parameters():,} parameters, generator "
                f"{model.generator.num_parameters():,} (hidden {model.generator.config.hidden_size}), embeddings shared")
    config = model.config
    return (f"model: {model.num_parameters():,} parameters, {config.heads_per_kind} attention + "
            f"{config.heads_per_kind} convolution heads x {config.num_hidden_layers} layers")


def _setup(out_dir, model_class, vocab_size, block_size, hidden_size, layers, heads, batch_size, lr, steps, warmup,
           seed, log):
    """What train_mlm and pretrain share: (tokenizer, train blocks, config, model, train batches, validation
    batches, optimizer, schedule) for a nano `model_class(config, rng=seed)` on the stdlib corpus."""
    tokenizer, train_blocks, validation_blocks = prepare_corpus(out_dir, vocab_size, block_size, log=log)
    config = nano_config(tokenizer.vocab_size, hidden_size, layers, heads, block_size)
    model = model_class(config, rng=seed)
    log(_describe(model))
    train_batches = mlm_batches(tokenizer, train_blocks, batch_size, seed)
    validation_batches = mlm_batches(tokenizer, validation_blocks, batch_size, seed + 1)
    optimizer, schedule = _optimizer(model, lr, steps, warmup)
    return tokenizer, train_blocks, config, model, train_batches, validation_batches, optimizer, schedule


def training_seconds(history: dict, tokens_per_step: int) -> float:
    """The time the optimizer steps took, summed over every run of a resumed training (history's
    tokens/s of each step, blocks of `tokens_per_step` real tokens); evaluations and saves excluded."""
    return float(sum(tokens_per_step / rate for rate in history["tokens_per_s"] if rate > 0))


def _write_report(path: Path, report: dict) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def train_mlm(out_dir, steps=6000, batch_size=32, block_size=128, vocab_size=8000, lr=1e-3, warmup=300, seed=0,
              hidden_size=256, layers=4, heads=4, eval_every=500, checkpoint_every=500, export=None,
              progress=True, log=print) -> dict:
    """Masked-language-model training of a ConvBertForMaskedLM from scratch; returns the report."""
    out_dir = Path(out_dir)
    tokenizer, train_blocks, config, model, train_batches, validation_batches, optimizer, schedule = _setup(
        out_dir, ConvBertForMaskedLM, vocab_size, block_size, hidden_size, layers, heads, batch_size, lr, steps, warmup,
        seed, log)

    def evaluate(m):
        return {k: v for k, v in evaluate_mlm(m, validation_batches, VALIDATION_STEPS).items() if k != "tokens"}

    started = time.perf_counter()
    history = train_loop(model, train_batches, optimizer, schedule, steps, out_dir / "checkpoints", seed=seed,
                         compute_loss=lambda m, batch, step: masked_lm_loss(m, batch), evaluate=evaluate,
                         eval_every=eval_every, checkpoint_every=checkpoint_every, progress=progress,
                         tokenizer=tokenizer)
    elapsed = time.perf_counter() - started
    final = evaluate_mlm(model, validation_batches, VALIDATION_STEPS)
    baseline = unigram_baseline(train_blocks, validation_batches, VALIDATION_STEPS, tokenizer.vocab_size,
                                special_ids=tokenizer.all_special_ids)
    report = {
        "command": "train-mlm", "python": python_version(), "steps": len(history["step"]) and history["step"][-1],
        "batch_size": batch_size, "block_size": block_size, "seed": seed, "lr": lr, "warmup": warmup,
        "parameters": model.num_parameters(), "config": config.to_dict(), "train_positions": int(train_blocks.size),
        "validation": final, "unigram_baseline": baseline, "interrupted": history["interrupted"],
        "train_seconds": training_seconds(history, batch_size * block_size), "train_seconds_this_run": elapsed,
        "median_tokens_per_s": float(np.median(history["tokens_per_s"][-200:])),
        "eval_history": history["eval"],
    }
    _write_report(out_dir / "report.json", report)
    log(f"validation: masked-token loss {final['loss']:.3f}, accuracy {final['accuracy']:.3f} "
        f"(unigram baseline: loss {baseline['loss']:.3f}, accuracy {baseline['accuracy']:.3f})")
    if export is not None and not history["interrupted"]:
        model.save_pretrained(export, dtype=np.float16)
        tokenizer.save_pretrained(export)
        _write_report(Path(export) / "training_report.json", report)
        log(f"exported to {export}")
    return report


def pretrain(out_dir, steps=2000, batch_size=32, block_size=128, vocab_size=8000, lr=1e-3, warmup=200, seed=0,
             hidden_size=256, layers=4, heads=4, eval_every=500, checkpoint_every=500, progress=True,
             log=print) -> dict:
    """ELECTRA-style pretraining (generator + discriminator, shared embeddings); returns the report."""
    out_dir = Path(out_dir)
    tokenizer, _, _, model, train_batches, validation_batches, optimizer, schedule = _setup(
        out_dir, ElectraPretraining, vocab_size, block_size, hidden_size, layers, heads, batch_size, lr, steps, warmup,
        seed, log)

    def compute_loss(m, batch, step):
        out = m(batch["input_ids"], batch["attention_mask"], batch["labels"])
        return out.loss, int(batch["attention_mask"].sum())

    def evaluate(m):
        m.eval()
        from minconvbert.tensor import no_grad

        results = []
        with no_grad():
            for step in VALIDATION_STEPS[:10]:
                b = validation_batches(step)
                out = m(b["input_ids"], b["attention_mask"], b["labels"])
                results.append((out.generator_loss.item(), out.discriminator_loss.item(), out.discriminator_accuracy))
        g, d, a = np.mean(results, axis=0)
        return {"generator_loss": g, "discriminator_loss": d, "discriminator_accuracy": a}

    history = train_loop(model, train_batches, optimizer, schedule, steps, out_dir / "checkpoints", seed=seed,
                         compute_loss=compute_loss, evaluate=evaluate, eval_every=eval_every,
                         checkpoint_every=checkpoint_every, progress=progress, tokenizer=tokenizer)
    report = {"command": "pretrain", "python": python_version(), "steps": history["step"][-1] if history["step"] else 0,
              "batch_size": batch_size, "block_size": block_size, "final": history["eval"][-1][1] if history["eval"] else None,
              "median_tokens_per_s": float(np.median(history["tokens_per_s"][-100:])) if history["tokens_per_s"] else 0.0,
              "eval_history": history["eval"], "interrupted": history["interrupted"]}
    _write_report(out_dir / "report.json", report)
    return report


def finetune(checkpoint, out_dir, steps=600, batch_size=32, max_length=64, lr=3e-4, warmup=60, seed=0,
             num_classes=10, progress=True, log=print) -> dict:
    """Fine-tune a checkpoint on the docstring -> package task; report test accuracy and the BoW baseline."""
    out_dir = Path(out_dir)
    task = module_classification_task(num_classes=num_classes, seed=seed)
    labels = task["labels"]
    tokenizer = ConvBertTokenizerFast.from_pretrained(checkpoint)
    model = ConvBertForSequenceClassification.from_pretrained(
        checkpoint, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)}, rng=seed)
    log(f"task: {len(task['train'])} train / {len(task['test'])} test paragraphs, {len(labels)} packages: "
        f"{', '.join(labels)}")
    batches = ClassificationBatches(task["train"], tokenizer, batch_size, max_length, seed)
    test_batches = ClassificationBatches(task["test"], tokenizer, batch_size, max_length, seed)
    optimizer, schedule = _optimizer(model, lr, steps, warmup)
    history = train_loop(model, batches, optimizer, schedule, steps, out_dir / "checkpoints", seed=seed,
                         progress=progress, checkpoint_every=0,
                         evaluate=lambda m: {"test_accuracy": classification_accuracy(m, test_batches, task["test"])})
    accuracy = classification_accuracy(model, test_batches, task["test"])
    baseline = bow_logistic_regression(task["train"], task["test"], len(labels))
    report = {"command": "finetune", "checkpoint": str(checkpoint), "labels": labels, "steps": steps,
              "train_examples": len(task["train"]), "test_examples": len(task["test"]),
              "test_accuracy": accuracy, "bow_logistic_regression_accuracy": baseline["accuracy"],
              "chance": 1 / len(labels), "interrupted": history["interrupted"]}
    _write_report(out_dir / "report.json", report)
    log(f"test accuracy {accuracy:.3f} (bag-of-words logistic regression {baseline['accuracy']:.3f}, "
        f"chance {1 / len(labels):.3f})")
    return report
