"""Solutions between markers, and the student version without them.

In a solution file, each part the student must write sits between two marker lines:

    def backward(self, grad_y):
        \"\"\"Return dL/dx.\"\"\"
        # BEGIN SOLUTION
        return grad_y * (1 - self.y ** 2)
        # END SOLUTION

`strip_solutions` replaces every such block (markers included) by one line at the marker's
indentation, `raise NotImplementedError("Tanh.backward: write this part")`, naming
the function that encloses it. Everything outside the markers (signatures, docstrings, given code,
hints) is kept as it is. `make_student` writes a whole student folder for an assignment.
"""

from __future__ import annotations

import ast
import inspect
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from minconvbert.grade.framework import Assignment

__all__ = ["strip_solutions", "solution_blocks", "make_student", "MarkerError", "BEGIN", "END"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")


class MarkerError(ValueError):
    """The solution markers of a file are unbalanced, nested, or leave invalid Python behind."""


def _enclosing_names(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function in the module."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                spans.append((child.lineno, child.end_lineno, prefix + child.name))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def solution_blocks(text: str, source: str = "<solution>") -> list[tuple[int, int, str, str]]:
    """[(begin line, end line, indentation, enclosing function), ...] (1-based line numbers)."""
    lines = text.splitlines()
    try:
        tree = ast.parse(text, filename=source)
    except SyntaxError as error:
        raise MarkerError(f"{source}: the solution file is not valid Python: {error}") from None
    functions = _enclosing_names(tree)
    blocks, open_at = [], None
    for number, line in enumerate(lines, start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{source}:{number}: {BEGIN} inside the block opened at line {open_at[0]}")
            open_at = (number, begin.group(1))
        elif end:
            if open_at is None:
                raise MarkerError(f"{source}:{number}: {END} without a {BEGIN}")
            inside = [name for first, last, name in functions if first < open_at[0] <= last]
            owner = max(inside, key=len) if inside else "<module>"  # the innermost function
            blocks.append((open_at[0], number, open_at[1], owner))
            open_at = None
        elif BEGIN in line or END in line:
            raise MarkerError(f"{source}:{number}: a solution marker must stand alone on its line, got {line.strip()!r}")
    if open_at is not None:
        raise MarkerError(f"{source}:{open_at[0]}: {BEGIN} is never closed by {END}")
    return blocks


def strip_solutions(text: str, source: str = "<solution>", keep: Callable[[str], bool] | None = None) -> str:
    """The student version of a solution file: each marked block replaced by a NotImplementedError.

    keep(function name) -> True leaves that function's blocks in (their markers removed); used to
    build partially solved files for testing the grader.
    """
    lines = text.splitlines()
    blocks = solution_blocks(text, source)
    if not blocks:
        raise MarkerError(f"{source}: no {BEGIN} ... {END} block found")
    out, position = [], 0
    for first, last, indent, owner in blocks:
        out.extend(lines[position : first - 1])
        if keep is not None and keep(owner):
            out.extend(lines[first : last - 1])
        else:
            out.append(f'{indent}raise NotImplementedError("{owner}: write this part")')
        position = last
    out.extend(lines[position:])
    result = "\n".join(out) + "\n"
    try:
        compile(result, source, "exec")
    except SyntaxError as error:
        raise MarkerError(f"{source}: the student version is not valid Python ({error}); "
                          "put each marker pair around whole statements of one block") from None
    return result


def make_student(assignment: Assignment, out_dir, source_dir=None) -> list[Path]:
    """Write the student folder of `assignment` into out_dir: the stripped starter file, the README,
    and visible_checks.py (the source of the checks the student may read). Returns the files written.

    out_dir must not exist or be empty (never overwrite a student's work).
    """
    source_dir = assignment.source_dir() if source_dir is None else Path(source_dir)
    solution = source_dir / assignment.student_file
    if not solution.is_file():
        raise FileNotFoundError(f"make-student {assignment.key}: no solution file at {solution} (the solutions live "
                                "in the repository's docs/assignments; run this from a clone, or pass --source)")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"make-student: {out_dir} exists and is not an empty directory; "
                              "choose a new folder (student work is never overwritten)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    target = out_dir / assignment.student_file
    target.write_text(strip_solutions(solution.read_text(encoding="utf-8"), str(solution)), encoding="utf-8")
    written.append(target)
    readme = source_dir / "README.md"
    if readme.is_file():
        written.append(Path(shutil.copyfile(readme, out_dir / "README.md")))
    visible = [c for c in assignment.checks if c.visible]
    modules = []
    for check in visible:
        module = inspect.getmodule(check.function)
        if module not in modules:
            modules.append(module)
    if modules:
        header = (f"# The visible checks of {assignment.key} ({assignment.title}), exactly as the grader runs them.\n"
                  f"# Run them, and the hidden ones, with:  python -m minconvbert.grade {assignment.key} <this folder>\n\n")
        target = out_dir / "visible_checks.py"
        target.write_text(header + "\n\n".join(inspect.getsource(m) for m in modules), encoding="utf-8")
        written.append(target)
    return written
