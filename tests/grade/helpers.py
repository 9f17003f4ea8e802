"""What the grader's tests share: solved and partly solved student files, folders holding them, the CLI."""

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

from instructor.solve import solved_text
from minconvbert.grade import get_assignment, grade

ROOT = Path(__file__).resolve().parents[2]


def starter_text(key: str) -> str:
    a = get_assignment(key)
    return (a.student_folder() / a.student_file).read_text(encoding="utf-8")


def solution_text(key: str, only=None) -> str:
    """The solved file of `key` (only: the functions to solve; the others stay stubs)."""
    return solved_text(key, only)


@functools.lru_cache(maxsize=None)
def solved_report(key: str):
    """The report of `key`'s solved file, graded once per session (A5's speed checks take a while)."""
    with tempfile.TemporaryDirectory() as folder:
        return grade(key, write_student(Path(folder), key, solution_text(key)))


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the text no longer contains {old!r} exactly once"
    return text.replace(old, new)


def write_student(folder: Path, key: str, text: str, **extra_files) -> Path:
    """`folder` (created) holding the student file of `key` with `text`, and extra files by name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / get_assignment(key).student_file).write_text(text, encoding="utf-8")
    for name, content in extra_files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def run_cli(*args, cwd=ROOT, **kwargs) -> subprocess.CompletedProcess:
    """python -m minconvbert.grade <args>, from `cwd`, with this tree on the import path."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    output = {"stderr": subprocess.PIPE} if "stdout" in kwargs else {"capture_output": True}
    return subprocess.run([sys.executable, "-m", "minconvbert.grade", *map(str, args)], text=True, cwd=cwd, env=env,
                          timeout=600, **output, **kwargs)


def by_name(report) -> dict:
    return {r.name: r for r in report.results}
