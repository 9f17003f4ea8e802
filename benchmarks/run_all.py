"""Run every benchmark and write docs/performance.md: one command, ratios measured in the same run.

    python benchmarks/run_all.py [--quick]
    python benchmarks/run_all.py --only bench_model.py bench_contention.py   # re-run these, keep the rest

Each benchmark runs in its own process after waiting for the machine to be idle (other processes'
load would otherwise fall on whichever measurement happens to run at that moment; the wait ends
after BENCH_IDLE_TIMEOUT seconds, see quiet_machine.py). The page gets the machine description,
the thread policy (minconvbert/threads.py's own account) and each benchmark's table as it printed
it, with the date and the load averages before and after it ran. With --only, the other benchmarks'
sections are kept from the existing page as they were, under the date they were measured.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from quiet_machine import load, wait_until_idle  # noqa: E402

BENCHMARKS = [
    ("A training step beside a busy neighbour (issue 13)", "bench_contention.py", []),
    ("Whole model: inference, training step, peak memory (issues 5, 13)", "bench_model.py", []),
    ("Cold start: the demo's first forward with and without compiled kernels (issue 13)", "bench_cold_start.py", []),
    ("Dynamic convolution alone against transformers' unfold formulation", "bench_dynamic_conv.py", []),
    ("ELECTRA pretraining step (issue 7)", "bench_pretrain.py", []),
    ("Engine overhead: a small MLP training step (issue 2)", "bench_engine.py", []),
    ("Tokenizers against the `tokenizers` library (issue 6)", "bench_tokenizer.py", []),
    ("Loading a conv-bert-base-sized safetensors file (issue 4)", "bench_io.py", []),
]
QUICK = {"bench_model.py": ["--quick"], "bench_pretrain.py": ["--quick"], "bench_contention.py": ["--quick"],
         "bench_cold_start.py": ["--rounds", "2"]}


def thread_policy() -> str:
    """The page's section on threads: minconvbert/threads.py's docstring, and the one setting."""
    from minconvbert import threads

    account = threads.__doc__.split("\n", 1)[1].replace('docs/performance.md, "Threads", has', "the tables below give")
    return (
        "## Threads: what runs threaded, when, and how to change it\n\n"
        f"{threads.__doc__.splitlines()[0]}\n{account}\n"
        "The one setting is minconvbert's thread count: `minconvbert.set_num_threads(n)` in the program, or "
        "`MINCONVBERT_NUM_THREADS=n` in the environment (read at the first split loop). `n = 1` runs everything "
        "on the calling thread. It changes nothing outside minconvbert's own calls: torch's "
        "`torch.set_num_threads`, `OPENBLAS_NUM_THREADS` for NumPy's own products and numba's settings stay "
        "the user's.\n"
    )


def kept_sections(path: Path) -> dict:
    """{title: section} of an existing page, each marked with the date it was measured."""
    if not path.exists():
        return {}
    page = path.read_text(encoding="utf-8")
    written = re.search(r"run_all\.py` on (\d{4}-\d{2}-\d{2})", page)
    sections = {}
    for chunk in page.split("\n## ")[1:]:
        title = chunk.split("\n", 1)[0].strip()
        if written and "Measured on " not in chunk:
            first, rest = chunk.split("\n", 1)
            chunk = f"{first}\n\nMeasured on {written.group(1)} (not re-run since).\n{rest}"
        sections[title] = "## " + chunk.rstrip() + "\n"
    return sections


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


def run_benchmark(title: str, script: str, extra: list, quick: bool) -> str:
    """One benchmark in its own process, once the machine is idle: its page section."""
    idle = wait_until_idle()
    before = load()
    command = [sys.executable, str(ROOT / "benchmarks" / script), *extra, *(QUICK.get(script, []) if quick else [])]
    print(f"running {script} (load {before}) ...", flush=True)
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONWARNINGS": "ignore", "TOKENIZERS_PARALLELISM": "false"})
    output = result.stdout.strip() if result.returncode == 0 else f"FAILED:\n\n```\n{result.stderr[-2000:]}\n```"
    when = (f"Measured on {datetime.date.today().isoformat()}; load averages (1, 5, 15 min) {before} before, "
            f"{load()} after" + ("" if idle else "; the machine was not idle when it started (the wait timed out)"))
    return f"## {title}\n\n`python benchmarks/{' '.join([script, *command[2:]])}`\n\n{when}.\n\n{output}\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions where a benchmark supports it")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", choices=[script for _, script, _ in BENCHMARKS],
                        help="run only these benchmarks; keep the other sections of the existing page")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    kept = kept_sections(Path(args.out)) if args.only else {}
    sections = []
    for title, script, extra in BENCHMARKS:
        if args.only and script not in args.only:
            old = next((text for name, text in kept.items() if f"benchmarks/{script}" in text), None)
            sections.append(old or f"## {title}\n\nNot measured yet: `python benchmarks/{script}`.\n")
        else:
            sections.append(run_benchmark(title, script, extra, args.quick))
    page = (
        "# Performance\n\n"
        f"Written by `python benchmarks/run_all.py` on {datetime.date.today().isoformat()}"
        + (f" (re-run: {', '.join(args.only)}; each section gives its date)" if args.only else "")
        + ". Every ratio compares minconvbert with the reference measured in the same run (times are medians "
        "over repeated runs; the machine's absolute speed varies, the ratios much less).\n\n"
        f"Machine: {machine()}.\n\n" + thread_policy() + "\n" + "\n".join(sections)
    )
    Path(args.out).write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
