"""A checkpoint directory's weights, in any published layout, as {name: array}; and saving them.

A directory published on the hub holds its weights in one of four layouts, tried in this order
(safetensors first, as transformers does), then in TensorFlow's:

    model.safetensors                  one safetensors file
    model.safetensors.index.json       shards: {"metadata": {...}, "weight_map": {name: shard file}}
    pytorch_model.bin                  a torch.save zip checkpoint (read without torch)
    pytorch_model.bin.index.json       shards of the above, same index format
    tf_model.h5                        transformers' TF weights (needs h5py; names and layouts mapped
                                       to ours by minconvbert.models.convbert.tf_weights)

`save_weights` always writes one model.safetensors (atomically). `convert_bin_to_safetensors` turns a
pytorch_model.bin directory into the safetensors layout, copying config and tokenizer files.

Tied weights: a state dict may list one array under two names (the MLM head and the word
embeddings). The safetensors format has no aliasing, so each name is written with its own copy of
the bytes; both names load back, into minconvbert or transformers. Dropping the tied name, as
transformers' save_pretrained does, is the model's decision, made before calling `save_weights`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minconvbert.io import safetensors, torch_pickle
from minconvbert.io.atomic import atomic_copy
from minconvbert.io.progress import ByteProgress
from minconvbert.tensor import Tensor

__all__ = [
    "find_weights",
    "load_weights",
    "save_weights",
    "convert_bin_to_safetensors",
    "shared_groups",
    "NoWeightsFoundError",
    "CheckpointLayoutError",
    "ConversionReport",
    "SAFE_WEIGHTS_NAME",
    "SAFE_WEIGHTS_INDEX_NAME",
    "WEIGHTS_NAME",
    "WEIGHTS_INDEX_NAME",
]

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
TF_WEIGHTS_NAME = "tf_model.h5"
_LAYOUTS = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME, TF_WEIGHTS_NAME)
_UNSUPPORTED = {"flax_model.msgpack": "Flax"}
# Files other than weights that a converted checkpoint keeps.
COMPANION_FILES = ("config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
                   "tokenizer.json", "added_tokens.json", "generation_config.json")


class NoWeightsFoundError(FileNotFoundError):
    """The directory holds none of the supported weight layouts."""


class CheckpointLayoutError(ValueError):
    """The weight files are there but inconsistent (a broken shard index, a shard missing, ...)."""


def find_weights(directory: str | os.PathLike) -> Path:
    """The file the directory's weights are read from (the first layout present, see module doc)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"checkpoint directory {str(directory)!r} does not exist or is not a directory")
    for name in _LAYOUTS:
        if (directory / name).is_file():
            return directory / name
    present = sorted(p.name for p in directory.iterdir())
    hint = "".join(f" It holds {kind} weights ({name}), which minconvbert does not read: convert them with "
                   f"transformers (from_pretrained(..., from_{kind.lower()}=True), then save_pretrained)."
                   for name, kind in _UNSUPPORTED.items() if name in present)
    raise NoWeightsFoundError(f"{directory}: no weights found; expected one of {', '.join(_LAYOUTS)}; the "
                              f"directory holds {present}.{hint}")


def _read_index(index_path: Path) -> dict[str, list[str]]:
    """A shard index -> {shard file name: [tensor names]}, checking its structure and that shards exist."""
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointLayoutError(f"{index_path}: not valid JSON ({e})") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise CheckpointLayoutError(f"{index_path}: expected {{\"weight_map\": {{tensor name: shard file}}}}")
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        shards.setdefault(shard, []).append(name)
    for shard in shards:
        if Path(shard).name != shard or shard in (".", ".."):
            raise CheckpointLayoutError(f"{index_path}: shard {shard!r} is not a plain file name in the directory")
        if not (index_path.parent / shard).is_file():
            raise CheckpointLayoutError(
                f"{index_path}: shard {shard!r} (holding {len(shards[shard])} tensors, e.g. "
                f"{shards[shard][0]!r}) is missing from {index_path.parent}")
    return shards


def _check_shard_keys(shard: Path, listed: list[str], found) -> None:
    listed_set, found_set = set(listed), set(found)
    if listed_set != found_set:
        missing, extra = sorted(listed_set - found_set), sorted(found_set - listed_set)
        raise CheckpointLayoutError(
            f"{shard}: does not match the index: listed but absent {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}; present but not listed {extra[:10]}{' ...' if len(extra) > 10 else ''}")


def load_weights(directory: str | os.PathLike, *, on_progress: Callable[[int, int], None] | None = None
                 ) -> dict[str, np.ndarray]:
    """Every weight of a checkpoint directory, {name: array}, whatever its layout.

    safetensors arrays are copy-on-write memory maps (no copy); .bin arrays are read into memory.
    bfloat16 is widened to float32; other dtypes are kept. on_progress(done, total) is passed to
    the .bin reader (safetensors loading reads nothing up front).
    """
    path = find_weights(directory)
    if path.name == TF_WEIGHTS_NAME:  # TF names -> ours: the ConvBERT mapping lives with the model
        from minconvbert.models.convbert.tf_weights import read_tf_weights

        return read_tf_weights(path, on_progress=on_progress)[0]
    if path.name == SAFE_WEIGHTS_NAME:
        return safetensors.load_file(path)
    if path.name == WEIGHTS_NAME:
        return torch_pickle.load_file(path, on_progress=on_progress)
    weights: dict[str, np.ndarray] = {}
    for shard, names in _read_index(path).items():
        shard_path = path.parent / shard
        if path.name == SAFE_WEIGHTS_INDEX_NAME:
            with safetensors.safe_open(shard_path) as f:
                _check_shard_keys(shard_path, names, f.keys())
                weights.update((name, f.get_tensor(name)) for name in names)
        else:
            part = torch_pickle.load_file(shard_path, on_progress=on_progress)
            _check_shard_keys(shard_path, names, part)
            weights.update(part)
    return weights


def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, Tensor):  # Parameters too
        return value.data
    if not isinstance(value, np.ndarray):
        raise TypeError(f"state_dict[{name!r}]: expected a numpy array or a Tensor, got {type(value).__name__}")
    return value


def save_weights(directory: str | os.PathLike, state_dict: Mapping[str, object],
                 metadata: Mapping[str, str] | None = None, *,
                 on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Write `state_dict` ({name: array or Tensor}) to directory/model.safetensors, atomically.

    metadata defaults to {"format": "pt"}, which transformers expects. The directory is created if
    needed; an earlier model.safetensors there stays intact if anything fails. Returns the file path.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {name: _as_array(name, value) for name, value in state_dict.items()}
    path = directory / SAFE_WEIGHTS_NAME
    safetensors.save_file(arrays, path, {"format": "pt"} if metadata is None else metadata,
                          on_progress=on_progress)
    return path


def shared_groups(state_dict: Mapping[str, np.ndarray]) -> list[list[str]]:
    """Groups of names whose arrays share memory (tied weights), each group in state-dict order."""
    names = list(state_dict)
    groups, seen = [], set()
    for i, a in enumerate(names):
        if a in seen:
            continue
        group = [a] + [b for b in names[i + 1:] if b not in seen and np.shares_memory(state_dict[a], state_dict[b])]
        if len(group) > 1:
            groups.append(group)
            seen.update(group)
    return groups


@dataclass
class ConversionReport:
    """What `convert_bin_to_safetensors` did."""

    weights_file: Path
    n_tensors: int
    n_bytes: int
    shared: list[list[str]] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)


def convert_bin_to_safetensors(src_dir: str | os.PathLike, out_dir: str | os.PathLike,
                               progress: bool = True) -> ConversionReport:
    """Convert a pytorch_model.bin checkpoint directory into the safetensors layout.

    Reads pytorch_model.bin (or its shards) without torch, writes out_dir/model.safetensors with
    metadata {"format": "pt"}, and copies config.json, vocab.txt and the tokenizer files. Tied
    weights (names sharing one storage) are each written in full: see the module docstring; the
    report lists them. progress=True shows reading and writing progress (tqdm if installed).
    out_dir may be src_dir (model.safetensors is then preferred over the .bin when loading).
    """
    src, out = Path(src_dir), Path(out_dir)
    source = find_weights(src)
    if source.name not in (WEIGHTS_NAME, WEIGHTS_INDEX_NAME):
        raise NoWeightsFoundError(f"{src}: no {WEIGHTS_NAME} to convert (its weights are in {source.name})")
    reading = ByteProgress(f"reading {source.name}", enabled=progress)
    try:
        weights = load_weights(src, on_progress=reading.update)
    finally:
        reading.close()
    shared = shared_groups(weights)
    writing = ByteProgress(f"writing {SAFE_WEIGHTS_NAME}", enabled=progress)
    try:
        path = save_weights(out, weights, on_progress=writing.update)
    finally:
        writing.close()
    copied = []
    for name in COMPANION_FILES:
        if (src / name).is_file() and (src / name).resolve() != (out / name).resolve():
            atomic_copy(src / name, out / name)
            copied.append(name)
    return ConversionReport(path, len(weights), sum(a.nbytes for a in weights.values()), shared, copied)
