"""Fine-tuning on a real offline task: which standard-library package does a docstring come from?

The task: the docstring paragraphs of the ten top-level packages with the most paragraphs, each
paragraph labelled with its package; a stratified train/test split fixed by the seed. The baseline
is bag-of-words logistic regression written in NumPy, trained on the same split.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from minconvbert.data.corpus import stdlib_corpus
from minconvbert.tensor import no_grad

__all__ = ["module_classification_task", "bow_logistic_regression", "classification_accuracy", "ClassificationBatches"]


def module_classification_task(num_classes: int = 10, per_class: int = 300, test_fraction: float = 0.2,
                               seed: int = 0) -> dict:
    """{"labels": [package names], "train": [(text, label)], "test": [(text, label)]}.

    Classes: the num_classes top-level packages with the most docstring paragraphs; at most
    per_class paragraphs of each (sampled with `seed`), so the classes are balanced.
    """
    by_package = {}
    for module, text in stdlib_corpus(with_modules=True):
        by_package.setdefault(module.split(".")[0], []).append(text)
    ranked = sorted(by_package, key=lambda p: (-len(by_package[p]), p))[:num_classes]
    labels = sorted(ranked)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label, package in enumerate(labels):
        texts = by_package[package]
        chosen = rng.permutation(len(texts))[:per_class]
        cut = int(round(len(chosen) * (1 - test_fraction)))
        train += [(texts[i], label) for i in chosen[:cut]]
        test += [(texts[i], label) for i in chosen[cut:]]
    order = rng.permutation(len(train))
    return {"labels": labels, "train": [train[i] for i in order], "test": test}


_WORD = re.compile(r"[a-z0-9_]+")


def bow_logistic_regression(train, test, num_classes: int, steps: int = 400, lr: float = 0.5, l2: float = 1e-4,
                            min_count: int = 2) -> dict:
    """Multinomial logistic regression on log(1 + word counts); returns {"accuracy", "vocabulary"}.

    Full-batch gradient descent on the mean cross-entropy plus l2 * |W|^2 / 2.
    """
    counts = Counter(w for text, _ in train for w in set(_WORD.findall(text.lower())))
    vocab = {w: i for i, w in enumerate(sorted(w for w, c in counts.items() if c >= min_count))}

    def features(rows):
        x = np.zeros((len(rows), len(vocab)))
        for r, (text, _) in enumerate(rows):
            for w in _WORD.findall(text.lower()):
                if w in vocab:
                    x[r, vocab[w]] += 1
        return np.log1p(x)

    x_train, y_train = features(train), np.array([y for _, y in train])
    x_test, y_test = features(test), np.array([y for _, y in test])
    w = np.zeros((len(vocab), num_classes))
    b = np.zeros(num_classes)
    onehot = np.eye(num_classes)[y_train]
    for _ in range(steps):
        logits = x_train @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        grad = (probs - onehot) / len(y_train)
        w -= lr * (x_train.T @ grad + l2 * w)
        b -= lr * grad.sum(axis=0)
    accuracy = float(((x_test @ w + b).argmax(axis=1) == y_test).mean())
    return {"accuracy": accuracy, "vocabulary": len(vocab)}


class ClassificationBatches:
    """make_batch(step): a seeded random batch of (text, label) rows, tokenized and padded."""

    def __init__(self, rows, tokenizer, batch_size: int = 32, max_length: int = 64, seed: int = 0):
        self.rows, self.tokenizer, self.batch_size, self.max_length, self.seed = rows, tokenizer, batch_size, max_length, seed

    def encode(self, rows) -> dict:
        encoded = self.tokenizer([t for t, _ in rows], padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="np")
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
                "labels": np.array([y for _, y in rows])}

    def __call__(self, step: int) -> dict:
        rng = np.random.default_rng([self.seed, step])
        picked = rng.choice(len(self.rows), size=min(self.batch_size, len(self.rows)), replace=False)
        return self.encode([self.rows[i] for i in picked])


def classification_accuracy(model, batches: ClassificationBatches, rows, chunk: int = 64) -> float:
    """Accuracy of `model` (a sequence classifier) on `rows`."""
    correct = 0
    model.eval()
    with no_grad():
        for start in range(0, len(rows), chunk):
            batch = batches.encode(rows[start:start + chunk])
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.data
            correct += int((logits.argmax(axis=1) == batch["labels"]).sum())
    return correct / max(len(rows), 1)
