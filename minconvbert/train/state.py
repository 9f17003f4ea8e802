"""Resumable training checkpoints: model, optimizer, schedule and step, saved as one directory.

    <out>/checkpoint-0001200/   config.json, model.safetensors   (a normal model checkpoint)
                                optimizer.safetensors            (the optimizer's arrays)
                                trainer_state.json               (step, settings, schedule, history)
                                vocab.txt, tokenizer_config.json (when a tokenizer is given)
    <out>/latest                the name of the newest checkpoint, for people and tools

A checkpoint is written into a staging directory and swapped into place in one step
(io.atomic_dir), so at every moment checkpoint-N is complete or absent, also when a re-run saves
the same step again. Resuming does not trust `latest` (a crash can come between a checkpoint and
its pointer): `latest_checkpoint` takes the complete checkpoint with the highest step on disk.
Older checkpoints beyond `keep` are removed, each in one step too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from minconvbert.io import atomic, atomic_dir, safetensors

__all__ = ["save_training_state", "load_training_state", "latest_checkpoint"]

_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


def _split_state(optimizer_state: dict):
    """Optimizer state -> ({"state.<i>.<name>": array}, JSON-able rest)."""
    arrays, scalars = {}, {}
    for index, values in optimizer_state["state"].items():
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"state.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in optimizer_state["param_groups"]]
    return arrays, {"scalars": scalars, "param_groups": groups}


def _join_state(arrays: dict, rest: dict) -> dict:
    state = {}
    for key, value in arrays.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = np.array(value)
    for index, values in rest["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in rest["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_training_state(out_dir, model, optimizer, schedule, step: int, extra: dict | None = None,
                        tokenizer=None, keep: int = 2) -> Path:
    """Write <out_dir>/checkpoint-<step> in one step and point <out_dir>/latest at it; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"checkpoint-{step:07d}"
    with atomic_dir.replace_directory(final, keep_others=False) as staging:
        model.save_pretrained(staging)
        if tokenizer is not None:
            tokenizer.save_pretrained(staging)
        arrays, rest = _split_state(optimizer.state_dict())
        safetensors.save_file(arrays, staging / "optimizer.safetensors")
        trainer_state = {"step": step, "optimizer": rest, "schedule": schedule.state_dict() if schedule else None,
                         **(extra or {})}
        with atomic.atomic_write(staging / "trainer_state.json") as f:  # last: marks the checkpoint complete
            f.write(json.dumps(trainer_state, indent=1).encode("utf-8"))
    with atomic.atomic_write(out_dir / "latest") as f:
        f.write(final.name.encode())
    for old in _complete_checkpoints(out_dir)[:-keep] if keep else []:
        if old != final:
            atomic_dir.remove_directory(old)
    return final


def _complete_checkpoints(out_dir: Path) -> list[Path]:
    """The checkpoint directories holding a trainer_state.json, by increasing step."""
    found = []
    for path in out_dir.iterdir():
        match = _CHECKPOINT.fullmatch(path.name)
        if match and (path / "trainer_state.json").is_file():
            found.append((int(match[1]), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(out_dir) -> Path | None:
    """The complete checkpoint with the highest step in `out_dir` (whatever `latest` says), or None.

    Saves interrupted in `out_dir` are cleaned up first (see io.atomic_dir.sweep).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return None
    atomic_dir.sweep(out_dir)
    found = _complete_checkpoints(out_dir)
    return found[-1] if found else None


def load_training_state(path, model, optimizer, schedule) -> dict:
    """Restore model weights, optimizer and schedule from a checkpoint directory; returns trainer_state."""
    path = Path(path)
    trainer_state = json.loads((path / "trainer_state.json").read_text())
    model.load_weights(path, strict=True)
    optimizer.load_state_dict(_join_state(safetensors.load_file(path / "optimizer.safetensors"),
                                          trainer_state["optimizer"]))
    if schedule is not None and trainer_state.get("schedule"):
        schedule.load_state_dict(trainer_state["schedule"])
    return trainer_state
