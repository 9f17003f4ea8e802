"""Using a trained model: fill in [MASK] tokens, and describe a checkpoint without loading it."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from minconvbert.tensor import no_grad

__all__ = ["fill_mask", "describe_checkpoint"]


def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list:
    """For each [MASK] in `text`, the top_k (token, probability) predictions of a ConvBertForMaskedLM."""
    encoded = tokenizer(text, return_tensors="np", truncation=True)
    ids = encoded["input_ids"]  # (1, T)
    positions = np.nonzero(ids[0] == tokenizer.mask_token_id)[0]
    if len(positions) == 0:
        raise ValueError(f"fill_mask: the text has no {tokenizer.mask_token} token: {text!r}")
    model.eval()
    with no_grad():
        logits = model(input_ids=ids, attention_mask=encoded["attention_mask"]).logits.data[0]  # (T, V)
    results = []
    for position in positions:
        row = logits[position].astype(np.float64)
        probs = np.exp(row - row.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:top_k]
        results.append([(tokenizer.convert_ids_to_tokens(int(i)), float(probs[i])) for i in best])
    return results


def describe_checkpoint(directory) -> dict:
    """Config, parameter counts by module and a tensor table of a checkpoint directory (header only)."""
    from minconvbert.io import checkpoint_files, safetensors
    from minconvbert.models.convbert.config import ConvBertConfig

    config = ConvBertConfig.from_pretrained(directory)
    path = checkpoint_files.find_weights(directory)
    if path.name == checkpoint_files.SAFE_WEIGHTS_NAME:
        with safetensors.safe_open(path) as f:
            tensors = [(name, f.info(name).dtype, tuple(f.info(name).shape)) for name in f.keys()]
    else:
        weights = checkpoint_files.load_weights(directory)
        tensors = [(name, str(a.dtype), a.shape) for name, a in weights.items()]
    by_module = OrderedDict()
    for name, _, shape in sorted(tensors):
        parts = name.split(".")
        if parts[0] == "convbert":
            parts = parts[1:]
        key = ".".join(parts[:3]) if parts[0] == "encoder" else parts[0]
        by_module[key] = by_module.get(key, 0) + int(np.prod(shape))
    return {"config": config, "weights_file": path.name, "tensors": tensors, "by_module": by_module,
            "total": sum(by_module.values())}
