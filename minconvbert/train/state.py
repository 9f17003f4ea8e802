"""Resumable training checkpoints: model, optimizer, schedule and step, saved as one directory.

    <out>/checkpoint-0001200/   config.json, model.safetensors   (a normal model checkpoint)
                                optimizer.safetensors            (the optimizer's arrays)
                                trainer_state.json               (step, settings, schedule, history)
                                vocab.txt, tokenizer_config.json (when a tokenizer is given)
    <out>/latest                the name of the newest complete checkpoint

A checkpoint is written into a hidden temporary directory and renamed into place only when
complete, and `latest` is swapped atomically after that, so an interruption at any moment leaves
the previous checkpoint usable. Older checkpoints beyond `keep` are removed.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import numpy as np

from minconvbert.io import atomic, safetensors

__all__ = ["save_training_state", "load_training_state", "latest_checkpoint"]


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
    """Write <out_dir>/checkpoint-<step> atomically and point <out_dir>/latest at it; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"checkpoint-{step:07d}"
    tmp = out_dir / f".{final.name}.{secrets.token_hex(4)}.tmp"
    try:
        model.save_pretrained(tmp)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        arrays, rest = _split_state(optimizer.state_dict())
        safetensors.save_file(arrays, tmp / "optimizer.safetensors")
        trainer_state = {"step": step, "optimizer": rest, "schedule": schedule.state_dict() if schedule else None,
                         **(extra or {})}
        with atomic.atomic_write(tmp / "trainer_state.json") as f:
            f.write(json.dumps(trainer_state, indent=1).encode("utf-8"))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with atomic.atomic_write(out_dir / "latest") as f:
        f.write(final.name.encode())
    for old in sorted(out_dir.glob("checkpoint-*"))[:-keep] if keep else []:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(out_dir) -> Path | None:
    """The newest complete checkpoint in `out_dir`, or None."""
    pointer = Path(out_dir) / "latest"
    if not pointer.is_file():
        return None
    path = Path(out_dir) / pointer.read_text().strip()
    return path if (path / "trainer_state.json").is_file() else None


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
