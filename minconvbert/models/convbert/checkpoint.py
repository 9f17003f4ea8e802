"""from_pretrained / save_pretrained for every ConvBERT class, in the published layout.

A checkpoint is a directory (or a hub id resolved to one) holding config.json and the weights in
any published layout (model.safetensors, sharded safetensors, pytorch_model.bin). Saving writes
config.json + model.safetensors, which transformers' from_pretrained loads unchanged.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from minconvbert.io import atomic, checkpoint_files, hub
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.weights import to_checkpoint_names, to_model_names
from minconvbert.nn import init

__all__ = ["load_pretrained", "load_weights_into", "save_pretrained", "resolve"]

def resolve(name_or_path, revision=None) -> Path:
    """A local checkpoint directory for a path, an embedded name ("minconvbert/nano") or a hub id."""
    return hub.resolve_checkpoint(name_or_path, revision=revision)


def load_pretrained(cls, name_or_path, config=None, strict: bool = False, dtype=None, rng=None, revision=None,
                    **config_overrides):
    """Build `cls` from a checkpoint. Missing and unexpected names raise (strict) or warn, listing them.

    The model is built without drawing any weights; only the ones the checkpoint lacks (a new
    head) are initialised afterwards, from `rng`, so loading a complete checkpoint draws nothing.
    """
    directory = resolve(name_or_path, revision)
    if config is None:
        config = ConvBertConfig.from_pretrained(directory, **config_overrides)
    elif config_overrides:
        raise TypeError(f"from_pretrained: pass either config or config overrides {sorted(config_overrides)}, not both")
    with init.deferred():  # no random draws for the weights the checkpoint provides
        model = cls(config)
    missing, _ = load_weights_into(model, directory, strict=strict,
                                   label=f"{cls.__name__}.from_pretrained({str(name_or_path)!r})")
    if missing:  # a new head: initialised as the model's own __init__ would
        model.init_weights(rng, names=missing)
    if dtype is not None:
        model.to(dtype)
    return model.eval()


def load_weights_into(model, directory, strict: bool = False, label: str = "load_weights") -> tuple:
    """Load a checkpoint directory's weights into an existing model; returns (missing, unexpected)."""
    state, _ = to_model_names(checkpoint_files.load_weights(directory), model.state_dict(), model.base_model_prefix)
    own = model.state_dict()
    mismatched = [f"{k}: checkpoint {tuple(np.shape(v))} vs model {own[k].shape}"
                  for k, v in state.items() if k in own and tuple(np.shape(v)) != own[k].shape]
    if mismatched:
        more = f"; ... ({len(mismatched) - 5} more)" if len(mismatched) > 5 else ""
        raise ValueError(f"{label}: shape mismatch for "
                         f"{len(mismatched)} tensors (is config.json the one these weights were saved with?): "
                         + "; ".join(mismatched[:5]) + more)
    with warnings.catch_warnings():  # reported once, below, with the checkpoint's name
        warnings.simplefilter("ignore")
        missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        message = f"{label}: missing keys {missing} (left as initialised); unexpected keys {unexpected} (ignored)"
        if strict:
            raise KeyError(message)
        warnings.warn(message, stacklevel=4)
    return missing, unexpected


def save_pretrained(model, directory, dtype=None) -> Path:
    """Write directory/config.json and directory/model.safetensors; returns the directory.

    dtype (e.g. np.float16) stores the weights in another float type. Both files are swapped in at
    the end: an exception while writing leaves any earlier checkpoint in `directory` intact.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict()
    config["architectures"] = [type(model).__name__]
    config["dtype"] = str(np.dtype(dtype or model.dtype))
    text = ConvBertConfig.from_dict(config).to_json_string()
    state = to_checkpoint_names(model.state_dict())
    if dtype is not None:
        state = {k: v.astype(dtype) for k, v in state.items()}
    with atomic.atomic_write(directory / "config.json") as f:  # swapped in only after the weights
        f.write(text.encode("utf-8"))
        checkpoint_files.save_weights(directory, state)
    return directory
