"""Solutions between markers in the notebook sources, and the student edition without them.

In instructor/notebooks/src/, each part the student must write sits between two marker lines:

    def backward(self, grad_y):
        \"\"\"Return dL/dx.\"\"\"
        # BEGIN SOLUTION
        return grad_y * (1 - self.y ** 2)
        # END SOLUTION

`strip_solutions` replaces every such block (markers included) by one line at the marker's
indentation, `raise NotImplementedError("Tanh.backward: write this part")`, naming
the function that encloses it. Everything outside the markers (signatures, docstrings, given code,
hints) is kept as it is. scripts/build_notebooks.py builds the student edition with it; the
assignments keep their solutions apart instead (instructor/assignments/*/SOLUTIONS.md, solve.py).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

__all__ = ["strip_solutions", "solution_blocks", "MarkerError", "BEGIN", "END"]

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
