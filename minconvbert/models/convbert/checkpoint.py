"""from_pretrained / save_pretrained for every ConvBERT class, in the published layout.

A checkpoint is a directory (or a hub id resolved to one) holding config.json and the weights in
any published layout (model.safetensors, sharded safetensors, pytorch_model.bin). Saving writes
config.json + model.safetensors, which transformers' from_pretrained loads unchanged.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from minconvbert.io import atomic, atomic_dir, checkpoint_files, hub, torch_save
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


# Weight files of every published layout (and transformers' shards): a save drops the old ones, so
# that no stale file of another layout shadows the new weights.
_WEIGHT_FILE = re.compile(r"(model|pytorch_model)(-\d{5}-of-\d{5})?\.(safetensors|bin)(\.index\.json)?")
_SAVE_DTYPES = tuple(np.dtype(t) for t in ("float16", "float32", "float64"))


def _save_dtype(dtype) -> np.dtype | None:
    if dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"save_pretrained: dtype {dtype!r} is not a NumPy dtype") from None
    if dtype not in _SAVE_DTYPES:
        raise ValueError(f"save_pretrained: dtype must be float16, float32 or float64, got {dtype}: casting the "
                         "weights to it would destroy them")
    return dtype


def _cast(state: dict, dtype: np.dtype | None) -> dict:
    """Floating-point arrays cast to `dtype`, each array once (tied names stay one array)."""
    if dtype is None:
        return state
    cast = {id(v): v.astype(dtype) if v.dtype.kind == "f" else v for v in state.values()}
    return {k: cast[id(v)] for k, v in state.items()}


def save_pretrained(model, directory, dtype=None, safe_serialization: bool = True) -> Path:
    """Write directory/config.json and the weights; returns the directory.

    The weights go to model.safetensors, or with safe_serialization=False to pytorch_model.bin in
    torch.save's format (tied weights stored once), which `torch.load(weights_only=True)` reads.
    dtype (np.float16, np.float32 or np.float64) stores the floating-point weights in that type.

    The directory is replaced in one step (io.atomic_dir): whenever the process stops, even killed,
    it holds the old checkpoint or the new one, complete. Its other files (a tokenizer's) are kept;
    weight files of other layouts, which would shadow the new ones, are not.
    """
    dtype = _save_dtype(dtype)
    config = model.config.to_dict()
    config["architectures"] = [type(model).__name__]
    config["dtype"] = str(dtype or np.dtype(model.dtype))
    text = ConvBertConfig.from_dict(config).to_json_string()
    state = model.state_dict() if not safe_serialization else to_checkpoint_names(model.state_dict())
    state = _cast(state, dtype)
    with atomic_dir.replace_directory(directory, drop=_WEIGHT_FILE.fullmatch, last="config.json") as staging:
        with atomic.atomic_write(staging / "config.json") as f:
            f.write(text.encode("utf-8"))
        if safe_serialization:
            checkpoint_files.save_weights(staging, state)
        else:
            torch_save.save_file(state, staging / checkpoint_files.WEIGHTS_NAME)
    return Path(directory)
