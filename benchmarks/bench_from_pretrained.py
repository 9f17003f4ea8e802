"""Time of `ConvBertModel.from_pretrained` on a conv-bert-base-sized checkpoint, against transformers.

    python benchmarks/bench_from_pretrained.py                    # 3 runs each, interleaved
    python benchmarks/bench_from_pretrained.py --tree /path/to/an/older/checkout   # also time that code

The checkpoint (config.json + model.safetensors, random float32 weights with conv-bert-base's names)
is written once to a temporary folder. Each load runs in a fresh subprocess after its imports, so
that only `from_pretrained` is timed. `--tree` adds another minconvbert source tree (for example
the commit before a change) to the same run, so a before / after comparison is measured together.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_io import write_convbert_base_file  # noqa: E402

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
kind, directory = sys.argv[1], sys.argv[2]
if kind == "transformers":
    import transformers
    load = lambda: transformers.ConvBertModel.from_pretrained(directory)
else:
    import minconvbert
    load = lambda: minconvbert.ConvBertModel.from_pretrained(directory)
t0 = time.perf_counter()
model = load()
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def write_checkpoint(directory: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from minconvbert import ConvBertConfig

    ConvBertConfig.from_preset("conv-bert-base").save_pretrained(directory)
    write_convbert_base_file(directory / "model.safetensors")


def run(kind: str, tree: Path | None, directory: Path) -> float:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(directory)], check=True, capture_output=True,
                         text=True, env=env, cwd=tree or ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", action="append", default=[], help="another minconvbert source tree to time")
    args = parser.parse_args(argv)
    loaders = [("minconvbert (this tree)", "minconvbert", ROOT)]
    loaders += [(f"minconvbert ({tree})", "minconvbert", Path(tree).resolve()) for tree in args.tree]
    try:
        import transformers  # noqa: F401

        loaders.append(("transformers", "transformers", None))
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        write_checkpoint(directory)
        print(f"wrote a conv-bert-base-sized checkpoint in {time.perf_counter() - t0:.1f} s")
        times = {label: [] for label, _, _ in loaders}
        for _ in range(args.runs):
            for label, kind, tree in loaders:  # interleaved: machine noise falls on every loader alike
                times[label].append(run(kind, tree, directory))
    reference = statistics.median(times["transformers"]) if "transformers" in times else None
    print("\n| loader | median s | runs | vs transformers |\n|---|---|---|---|")
    for label, values in times.items():
        median = statistics.median(values)
        ratio = f"{median / reference:.2f}x" if reference else "-"
        print(f"| {label} | {median:.2f} | {', '.join(f'{v:.2f}' for v in values)} | {ratio} |")


if __name__ == "__main__":
    main()
