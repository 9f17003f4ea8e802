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

from minconvbert import interop
from minconvbert.io import atomic, atomic_dir, checkpoint_files, hub, torch_save
from minconvbert.models.convbert.config import ConvBertConfig
from minconvbert.models.convbert.weights import to_checkpoint_names, to_model_names
from minconvbert.nn import init
from minconvbert.nn.module import StateDictShapeError

__all__ = ["load_pretrained", "load_weights_into", "save_pretrained", "resolve"]


def resolve(name_or_path, revision=None) -> Path:
    """A local checkpoint directory for a path, an embedded name ("minconvbert/nano") or a hub id."""
    return hub.resolve_checkpoint(name_or_path, revision=revision)


def load_pretrained(cls, name_or_path, *, config=None, state_dict=None, strict: bool = False, dtype=None,
                    torch_dtype=None, rng=None, output_loading_info: bool = False,
                    ignore_mismatched_sizes: bool = False, subfolder: str = "", cache_dir=None,
                    local_files_only: bool = False, revision=None, force_download: bool = False, **config_overrides):
    """Build `cls` from a checkpoint (see ConvBertPreTrainedModel.from_pretrained for the arguments).

    The model is built without drawing any weights; only the ones the checkpoint lacks (a new head,
    or, with ignore_mismatched_sizes, the ones whose shapes differ) are initialised afterwards, from
    `rng`, so loading a complete checkpoint draws nothing.
    """
    label = f"{cls.__name__}.from_pretrained({str(name_or_path)!r})"
    directory = None
    if name_or_path is not None:
        directory = hub.resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir, subfolder=subfolder,
                                           download=not local_files_only, force_download=force_download)
    elif config is None or state_dict is None:
        raise TypeError(f"{cls.__name__}.from_pretrained: pass a checkpoint name or path (or None together with "
                        "both config= and state_dict=)")
    if config is None:
        config = ConvBertConfig.from_pretrained(directory, **config_overrides)
    elif config_overrides:
        raise TypeError(f"{cls.__name__}.from_pretrained: unexpected keyword arguments {sorted(config_overrides)} "
                        "(with config= given, change the config itself)")
    with init.deferred():  # no random draws for the weights the checkpoint provides
        model = cls(config)
    info, absent = _load(model, directory if state_dict is None else state_dict, strict, ignore_mismatched_sizes,
                         label)
    if absent:  # a new head: initialised as the model's own __init__ would
        model.init_weights(rng, names=absent)
    dtype = dtype if dtype is not None else torch_dtype
    if isinstance(dtype, str) and dtype == "auto":  # the dtype the checkpoint was saved in
        dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if dtype is not None:
        model.to(interop.numpy_dtype(dtype))
    model.name_or_path = str(name_or_path) if name_or_path is not None else None  # where it came from (pipelines)
    model.eval()
    return (model, info) if output_loading_info else model


def load_weights_into(model, source, strict: bool = False, ignore_mismatched_sizes: bool = False,
                      label: str = "load_weights") -> dict:
    """Load a checkpoint directory's weights (or a state dict) into an existing model.

    Returns transformers' loading info: {"missing_keys", "unexpected_keys", "mismatched_keys" (name,
    checkpoint shape, model shape), "error_msgs"}, names as the checkpoint spells them (a bare-encoder
    checkpoint loaded into a task model has no "convbert." prefix). Shapes that differ raise StateDictShapeError, unless
    ignore_mismatched_sizes (then those tensors are skipped and reported).
    """
    return _load(model, source, strict, ignore_mismatched_sizes, label)[0]


def _load(model, source, strict, ignore_mismatched_sizes, label) -> tuple:
    """(loading info, the model's names of the parameters the checkpoint did not provide)."""
    raw = source if isinstance(source, dict) else checkpoint_files.load_weights(source)
    own = model.state_dict()
    state, _ = to_model_names(raw, own, model.base_model_prefix)
    mismatched = model.mismatched_shapes(state)
    if mismatched and not ignore_mismatched_sizes:
        listed = "; ".join(f"{k}: checkpoint {a} vs model {b}" for k, a, b in mismatched[:5])
        more = f"; ... ({len(mismatched) - 5} more)" if len(mismatched) > 5 else ""
        raise StateDictShapeError(f"{label}: shape mismatch for {len(mismatched)} tensors (is config.json the one "
                                  f"these weights were saved with? ignore_mismatched_sizes=True re-initialises "
                                  f"them): {listed}{more}")
    for name, _, _ in mismatched:
        del state[name]
    with warnings.catch_warnings():  # reported once, below, with the checkpoint's name
        warnings.simplefilter("ignore")
        missing, unexpected = model.load_state_dict(state, strict=False)
    skipped = {name for name, _, _ in mismatched}
    absent = list(missing)  # model names: includes the skipped ones
    prefix = model.base_model_prefix + "."
    bare = any(k.startswith(prefix) for k in own) and not any(k.startswith(prefix) for k in raw)
    spelled = (lambda k: k[len(prefix):] if bare and k.startswith(prefix) else k)  # noqa: E731
    missing = [spelled(k) for k in missing if k not in skipped]
    if missing or unexpected:
        message = f"{label}: missing keys {missing} (left as initialised); unexpected keys {unexpected} (ignored)"
        if strict:
            raise KeyError(message)
        warnings.warn(message, stacklevel=4)
    if mismatched:
        warnings.warn(f"{label}: {len(mismatched)} tensors were initialised anew because the shapes did not match "
                      "(checkpoint vs model): " + "; ".join(f"{k}: {a} vs {b}" for k, a, b in mismatched),
                      stacklevel=4)
    info = {"missing_keys": missing, "unexpected_keys": list(unexpected),
            "mismatched_keys": [(spelled(k), a, b) for k, a, b in mismatched], "error_msgs": []}
    return info, absent


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
