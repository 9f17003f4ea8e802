"""Reading and writing parity fixtures: one .npz per (case, task), no pickled objects.

Arrays are packed by group into one flat array per (group, dtype) to keep the files small; the
"meta" member (UTF-8 JSON bytes) holds the case, task, config and each array's name, shape and
offset. Groups: "weights" (float32), "inputs", and the reference record ("f32/out/...",
"f64/loss", "f64/grad/...").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "parity"


def fixture_path(case_name: str, task: str) -> Path:
    return FIXTURE_DIR / f"{case_name}__{task}.npz"


def save_fixture(path: Path, meta: dict, weights: dict, inputs: dict, record: dict) -> None:
    entries = [(f"weights/{k}", v) for k, v in weights.items()]
    entries += [(f"inputs/{k}", v) for k, v in inputs.items()]
    entries += list(record.items())
    packs, layout = {}, []
    for name, value in entries:
        value = np.asarray(value, order="C")  # (ascontiguousarray would turn a 0-d loss into 1-d)
        pack = packs.setdefault(value.dtype.str, [])
        start = sum(v.size for v in pack)
        pack.append(value.reshape(-1))
        layout.append([name, value.dtype.str, list(value.shape), start])
    meta = {**meta, "layout": layout}
    arrays = {"meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)}
    arrays.update({f"pack{dtype}": np.concatenate(parts) for dtype, parts in packs.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def load_fixture(path: Path):
    """(meta, weights, inputs, record) from a fixture file (allow_pickle=False: data only)."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        packs = {key[len("pack"):]: data[key] for key in data.files if key.startswith("pack")}
    groups = {"weights": {}, "inputs": {}, "record": {}}
    for name, dtype, shape, start in meta.pop("layout"):
        size = int(np.prod(shape))
        value = packs[dtype][start : start + size].reshape(tuple(shape))
        group, _, key = name.partition("/")
        if group in ("weights", "inputs"):
            groups[group][key] = value
        else:
            groups["record"][name] = value
    return meta, groups["weights"], groups["inputs"], groups["record"]
