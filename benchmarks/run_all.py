"""Run every benchmark and write docs/performance.md: one command, ratios measured in the same run.

    python benchmarks/run_all.py [--quick]

Each benchmark runs in its own process after waiting for the machine to be idle (other processes'
load would otherwise fall on whichever measurement happens to run at that moment). The page gets
the machine description and each benchmark's table as it printed it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quiet_machine import wait_until_idle  # noqa: E402

BENCHMARKS = [
    ("Whole model: inference, training step, peak memory (issue 5)", "bench_model.py", []),
    ("Dynamic convolution alone against transformers' unfold formulation", "bench_dynamic_conv.py", []),
    ("ELECTRA pretraining step (issue 7)", "bench_pretrain.py", []),
    ("Engine overhead: a small MLP training step (issue 2)", "bench_engine.py", []),
    ("Tokenizers against the `tokenizers` library (issue 6)", "bench_tokenizer.py", []),
    ("Loading a conv-bert-base-sized safetensors file (issue 4)", "bench_io.py", []),
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        memory = f", {int(open('/proc/meminfo').readline().split()[1]) / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import numba
    import numpy

    versions = [f"Python {platform.python_version()}", f"NumPy {numpy.__version__}", f"numba {numba.__version__}"]
    try:
        import torch
        import transformers

        versions += [f"torch {torch.__version__}", f"transformers {transformers.__version__}"]
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; " + ", ".join(versions)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions where a benchmark supports it")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    sections = []
    for title, script, extra in BENCHMARKS:
        wait_until_idle()
        command = [sys.executable, str(ROOT / "benchmarks" / script), *extra]
        if args.quick and script in ("bench_model.py", "bench_pretrain.py"):
            command.append("--quick")
        print(f"running {script} ...", flush=True)
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore", "TOKENIZERS_PARALLELISM": "false"})
        output = result.stdout.strip() if result.returncode == 0 else f"FAILED:\n\n```\n{result.stderr[-2000:]}\n```"
        sections.append(f"## {title}\n\n`python benchmarks/{script}`\n\n{output}\n")
    page = (
        "# Performance\n\n"
        f"Written by `python benchmarks/run_all.py` on {datetime.date.today().isoformat()}. Every ratio compares "
        "minconvbert with the reference measured in the same run (times are medians over repeated runs; the "
        "machine's absolute speed varies, the ratios much less).\n\n"
        f"Machine: {machine()}.\n\n" + "\n".join(sections)
    )
    Path(args.out).write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
